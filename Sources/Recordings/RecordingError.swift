import FileSupport

/// A recording that could not be read or written. Every message names the file.
public struct RecordingError: Error, Hashable, Sendable, CustomStringConvertible {
    @usableFromInline
    enum Kind: Hashable, Sendable {
        case notFound
        case unreadable(String)
        case cannotOpen(String)
        case empty
        case tooLarge(bytes: Int, limit: Int)
        case tooLong(seconds: Double, limit: Double)
        case unsupportedSampleRate(Int, ClosedRange<Int>)
        case tooManyChannels(Int, limit: Int)
        case unsupportedExtension(String)
        case encodingConflict(String, String)
        case writeFailed(String)
        case truncated(declared: Int, present: Int)
        case truncatedAudio(decoded: Double, declared: Double?, detail: String)
        case resamplingFailed(String)
        case decodeTimedOut(Double)
        case unknownRecording(String, known: [String])
        case duplicateName(String, String)
    }

    @usableFromInline let kind: Kind
    /// The file concerned.
    public let path: String

    @usableFromInline
    init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    /// The file does not exist.
    public static func notFound(_ path: String) -> Self { Self(.notFound, path: path) }
    /// The file cannot be opened as a recording: "is a directory", "is not a regular file", "permission denied".
    public static func cannotOpen(_ path: String, _ cause: String) -> Self { Self(.cannotOpen(cause), path: path) }
    /// The file is not audio libsndfile can decode, or is damaged; `reason` says what libsndfile reported.
    public static func unreadable(_ path: String, reason: String) -> Self { Self(.unreadable(reason), path: path) }
    /// The file holds no audio.
    public static func empty(_ path: String) -> Self { Self(.empty, path: path) }
    /// The file is larger than the limit.
    public static func tooLarge(_ path: String, bytes: Int, limit: Int) -> Self {
        Self(.tooLarge(bytes: bytes, limit: limit), path: path)
    }
    /// The decoded audio is longer than the limit.
    public static func tooLong(_ path: String, seconds: Double, limit: Double) -> Self {
        Self(.tooLong(seconds: seconds, limit: limit), path: path)
    }
    /// The sample rate is outside the accepted range.
    public static func unsupportedSampleRate(_ path: String, rate: Int, supported: ClosedRange<Int>) -> Self {
        Self(.unsupportedSampleRate(rate, supported), path: path)
    }
    /// The file has more channels than accepted.
    public static func tooManyChannels(_ path: String, channels: Int, limit: Int) -> Self {
        Self(.tooManyChannels(channels, limit: limit), path: path)
    }
    /// The output file's extension names no format this project writes.
    public static func unsupportedExtension(_ path: String, _ ext: String) -> Self {
        Self(.unsupportedExtension(ext), path: path)
    }
    /// The output extension and the requested encoding disagree.
    public static func encodingConflict(_ path: String, ext: String, encoding: String) -> Self {
        Self(.encodingConflict(ext, encoding), path: path)
    }
    /// The file ends before its audio data does.
    public static func truncated(_ path: String, declaredBytes: Int, presentBytes: Int) -> Self {
        Self(.truncated(declared: declaredBytes, present: presentBytes), path: path)
    }
    /// The audio ends before the file's own count of frames says it should (`declaredSeconds`), or its last
    /// Ogg page or MPEG frame is cut (`detail` says which; `declaredSeconds` is `nil` when the file has no count).
    public static func truncated(
        _ path: String, decodedSeconds: Double, declaredSeconds: Double?, detail: String
    ) -> Self {
        Self(.truncatedAudio(decoded: decodedSeconds, declared: declaredSeconds, detail: detail), path: path)
    }
    /// Another request's decode of the file took longer than the cache's time limit.
    public static func decodeTimedOut(_ path: String, seconds: Double) -> Self {
        Self(.decodeTimedOut(seconds), path: path)
    }
    /// libsoxr refused the conversion.
    public static func resamplingFailed(_ path: String, reason: String) -> Self {
        Self(.resamplingFailed(reason), path: path)
    }
    /// A sequence names a recording the library does not have.
    public static func unknownRecording(_ name: String, library: String, known: [String]) -> Self {
        Self(.unknownRecording(name, known: known), path: library)
    }
    /// Two files in a recordings directory have the same name.
    public static func duplicateName(_ directory: String, _ first: String, _ second: String) -> Self {
        Self(.duplicateName(first, second), path: directory)
    }
    /// Writing failed.
    public static func writeFailed(_ path: String, reason: String) -> Self { Self(.writeFailed(reason), path: path) }

    /// The message, naming the file as given (bytes that are not UTF-8 as `\xFF`, see `PathBytes`).
    public var description: String {
        let path = PathBytes.display(self.path)
        switch kind {
        case .notFound:
            return "\(path): no such file"
        case .unreadable(let reason):
            return "\(path): not a readable audio file (\(reason))"
        case .cannotOpen(let cause):
            return "\(path): \(cause)"
        case .empty:
            return "\(path): the file holds no audio"
        case .tooLarge(let bytes, let limit):
            return "\(path): file is \(bytes) bytes, more than the limit of \(limit) bytes"
        case .tooLong(let seconds, let limit):
            return "\(path): audio is longer than the limit of \(format(limit)) s (at least \(format(seconds)) s)"
        case .unsupportedSampleRate(let rate, let range):
            return "\(path): sample rate \(rate) Hz is outside \(range.lowerBound)...\(range.upperBound) Hz"
        case .tooManyChannels(let channels, let limit):
            return "\(path): \(channels) channels, more than the limit of \(limit)"
        case .unsupportedExtension(let ext):
            let shown = ext.isEmpty ? "no extension" : "extension '.\(ext)'"
            return "\(path): \(shown) is not an output format (use .wav, .raw, .ul or .al)"
        case .encodingConflict(let ext, let encoding):
            return "\(path): extension '.\(ext)' fixes the encoding; it cannot be \(encoding)"
        case .writeFailed(let reason):
            return "\(path): cannot write (\(reason))"
        case .truncated(let declared, let present):
            return "\(path): truncated: the header announces \(declared) bytes of audio, the file holds \(present)"
        case .truncatedAudio(let decoded, let declared, let detail):
            let seconds = { (value: Double) in String((value * 100).rounded() / 100) + " s" }
            guard let declared else { return "\(path): truncated: \(seconds(decoded)) decoded, \(detail)" }
            return "\(path): truncated: \(seconds(decoded)) of \(seconds(declared))"
                + (detail.isEmpty ? "" : " (\(detail))")
        case .decodeTimedOut(let seconds):
            return "\(path): decoding took longer than \(format(seconds)) s (another request is still decoding it)"
        case .resamplingFailed(let reason):
            return "\(path): cannot resample (\(reason))"
        case .unknownRecording(let name, let known):
            let list =
                known.isEmpty
                ? "the library is empty"
                : "known: " + known.prefix(10).joined(separator: ", ")
                    + (known.count > 10 ? ", ..." : "")
            return "\(path): no recording named '\(name)' (\(list); or \"none\", \"default\")"
        case .duplicateName(let first, let second):
            return "\(path): '\(first)' and '\(second)' have the same recording name"
        }
    }

    private func format(_ seconds: Double) -> String {
        String((seconds * 10).rounded() / 10)
    }
}
