import Foundation

/// What a Recording step plays: a named recording, nothing, or the system default prompt.
public enum RecordingChoice: Hashable, Sendable, CustomStringConvertible {
    /// Play nothing ("no recording").
    case none
    /// Play the system default prompt that ships with the library ("Thank you. Please hold.", 2.1 s).
    case systemDefault
    /// Play the recording of this name from the account's library.
    case named(String)

    /// Reads the JSON form: `"none"`, `"default"`, or a recording name.
    public init(_ text: String) {
        switch text {
        case "none": self = .none
        case "default": self = .systemDefault
        default: self = .named(text)
        }
    }

    /// The JSON form.
    public var description: String {
        switch self {
        case .none: return "none"
        case .systemDefault: return "default"
        case .named(let name): return name
        }
    }
}

/// An account's recordings: names mapped to audio files.
public struct RecordingLibrary: Sendable, Hashable {
    /// Name → file path.
    public let files: [String: String]
    /// Where the library came from, for error messages (a directory, or "recordings").
    public let origin: String

    /// The file extensions a directory scan takes as recordings.
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "aif", "aiff", "aifc", "caf", "flac", "ogg", "oga", "opus", "mp3", "au", "snd",
        "w64", "rf64",
    ]

    /// A library of the audio files in `directory`: each file's name without its extension is the
    /// recording's name. Hidden files and other extensions are ignored.
    ///
    /// - Parameter directory: the folder to scan (not recursively).
    /// - Throws: ``RecordingError`` if the folder cannot be read, or two files share a name
    ///   (`welcome.wav` and `welcome.mp3`).
    public init(directory: String) throws(RecordingError) {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw FileManager.default.fileExists(atPath: directory)
                ? .unreadable(directory, reason: "not a readable directory") : .notFound(directory)
        }
        var files: [String: String] = [:]
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            let ext = (entry as NSString).pathExtension.lowercased()
            guard RecordingLibrary.audioExtensions.contains(ext) else { continue }
            let name = (entry as NSString).deletingPathExtension
            let path = (directory as NSString).appendingPathComponent(entry)
            if let existing = files[name] {
                throw .duplicateName(directory, (existing as NSString).lastPathComponent, entry)
            }
            files[name] = path
        }
        self.files = files
        self.origin = directory
    }

    /// A library from an explicit name → path map.
    public init(files: [String: String], origin: String = "recordings") {
        self.files = files
        self.origin = origin
    }

    /// An empty library (only "none" and "default" resolve).
    public static let empty = RecordingLibrary(files: [:])

    /// The recording names, sorted.
    public var names: [String] { files.keys.sorted() }

    /// The file that `choice` plays.
    ///
    /// - Returns: the path, or `nil` for ``RecordingChoice/none``.
    /// - Throws: ``RecordingError/unknownRecording(_:library:known:)`` for a name the library lacks.
    public func path(for choice: RecordingChoice) throws(RecordingError) -> String? {
        switch choice {
        case .none:
            return nil
        case .systemDefault:
            return RecordingLibrary.defaultPromptPath
        case .named(let name):
            guard let path = files[name] else { throw .unknownRecording(name, library: origin, known: names) }
            return path
        }
    }

    /// The system default prompt shipped in this module's resources (8 kHz mu-law WAV).
    public static var defaultPromptPath: String {
        Bundle.module.path(forResource: "default-prompt", ofType: "wav") ?? "default-prompt.wav"
    }
}
