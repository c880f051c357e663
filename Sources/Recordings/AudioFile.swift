// Audio files through libsndfile 1.2. Reading: any format libsndfile decodes, read as float in fixed
// chunks until a read returns 0 (the header's frame count is not trusted), mixed to mono, clamped, with
// the file's size, duration, rate and channel count bounded before and while decoding. Writing: WAV or
// headerless files, linear 16-bit or G.711; G.711 is encoded by TelephonyDSP's encoder (G.711, bit-exact
// with spandsp and Sun's g711.c, as G711.swift describes and the tests check against spandsp) and handed to
// libsndfile as bytes, so libsndfile's own encoder never decides a code.

import CSndFile
import FileSupport
import TelephonyDSP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds applied to every file read, since recordings come from users.
public struct AudioLimits: Sendable, Hashable {
    /// Largest file in bytes (default 64 MiB).
    public var maximumFileBytes: Int = 64 << 20
    /// Longest decoded audio in seconds (default 600).
    public var maximumDurationSeconds: Double = 600
    /// Accepted sample rates (default 4000...192000 Hz).
    public var sampleRates: ClosedRange<Int> = 4000...192_000
    /// Most channels (default 8).
    public var maximumChannels: Int = 8

    /// The defaults.
    public init() {}
}

/// Mono audio decoded from a file, on the 16-bit scale (full scale ±32768).
public struct DecodedAudio: Sendable {
    /// Samples per second.
    public var sampleRate: Int
    /// The samples, channels averaged, clamped to ±32768.
    public var samples: [Float]
    /// Channels in the file before mixing.
    public var channels: Int
    /// libsndfile's name of the container, e.g. "WAV (Microsoft)".
    public var container: String
    /// libsndfile's name of the encoding, e.g. "Signed 16 bit PCM".
    public var encoding: String

    /// The duration in seconds.
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

/// Where and how to write audio.
public struct AudioOutputFormat: Sendable, Hashable {
    /// File layout.
    public enum Container: String, Sendable {
        /// RIFF WAVE with a header.
        case wav
        /// Headerless samples (little-endian for 16-bit).
        case raw
    }
    /// The layout.
    public var container: Container
    /// The sample encoding.
    public var encoding: SampleEncoding

    /// Creates a format.
    public init(container: Container, encoding: SampleEncoding) {
        self.container = container
        self.encoding = encoding
    }

    /// The format an output path asks for: `.wav` (any encoding), `.raw` (headerless, any encoding),
    /// `.ul` (headerless mu-law), `.al` (headerless A-law).
    ///
    /// - Parameters:
    ///   - path: the output path; its extension selects the container.
    ///   - encoding: the requested encoding, or `nil` for the extension's default (PCM16 for .wav/.raw).
    /// - Throws: ``RecordingError`` for an unknown extension or an encoding the extension excludes.
    public init(path: String, encoding: SampleEncoding?) throws(RecordingError) {
        let ext = FileSystem.pathExtension(path).lowercased()
        switch ext {
        case "wav": self.init(container: .wav, encoding: encoding ?? .pcm16)
        case "raw", "pcm", "sln": self.init(container: .raw, encoding: encoding ?? .pcm16)
        case "ul", "ulaw", "mulaw", "al", "alaw":
            let fixed: SampleEncoding = ext.hasPrefix("a") ? .alaw : .ulaw
            if let encoding, encoding != fixed {
                throw .encodingConflict(path, ext: ext, encoding: encoding.rawValue)
            }
            self.init(container: .raw, encoding: fixed)
        default:
            throw .unsupportedExtension(path, ext)
        }
    }

    /// The format of a headerless input file, from its extension (`nil` if it has a header).
    public static func headerless(path: String) -> SampleEncoding? {
        switch FileSystem.pathExtension(path).lowercased() {
        case "raw", "pcm", "sln": return .pcm16
        case "ul", "ulaw", "mulaw": return .ulaw
        case "al", "alaw": return .alaw
        default: return nil
        }
    }
}

/// Reads and writes audio files with libsndfile.
public enum AudioFile {
    /// Decodes a whole file to mono.
    ///
    /// - Parameters:
    ///   - path: the file. Headerless files (.raw PCM16 little-endian, .ul, .al) are read at `headerlessRate`.
    ///   - limits: bounds on size, duration, rate and channels.
    ///   - headerlessRate: the rate of a headerless file (default 8000).
    /// - Returns: the decoded audio.
    /// - Throws: ``RecordingError`` naming the file and the problem.
    public static func read(
        _ path: String, limits: AudioLimits = AudioLimits(), headerlessRate: Int = 8000
    ) throws(RecordingError) -> DecodedAudio {
        // Opened once, checked on the descriptor (a regular file: no FIFO, device or directory), and the
        // same descriptor handed to libsndfile, so the file checked is the file decoded.
        let fd: Int32
        let size: Int
        do {
            (fd, size) = try FileSystem.openRegularFile(path)
        } catch {
            switch error {
            case .notFound: throw .notFound(path)
            default: throw .cannotOpen(path, error.description)
            }
        }
        guard size <= limits.maximumFileBytes else {
            close(fd)
            throw .tooLarge(path, bytes: size, limit: limits.maximumFileBytes)
        }
        guard size > 0 else {
            close(fd)
            throw .empty(path)
        }
        var opened = false
        defer { if !opened { close(fd) } }
        // The container checks read the same descriptor with pread(2), which leaves libsndfile's offset alone.
        let bytes = ByteReader(size: size) { offset, buffer in
            max(pread(fd, buffer.baseAddress, buffer.count, off_t(offset)), 0)
        }
        return try decode(
            name: path, limits: limits, headerless: AudioOutputFormat.headerless(path: path),
            headerlessRate: headerlessRate, bytes: bytes
        ) { info in
            let file = sf_open_fd(fd, Int32(SFM_READ), &info, 1)  // libsndfile closes it with the file
            opened = file != nil
            return file
        }
    }

    /// Decodes audio held in memory (an upload that never touched the disk), exactly as ``read(_:limits:headerlessRate:)``
    /// decodes the same bytes from a file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - name: the name to use in errors; its extension marks headerless data (.raw, .ul, .al).
    ///   - limits: bounds on size, duration, rate and channels.
    ///   - headerlessRate: the rate of headerless data (default 8000).
    /// - Returns: the decoded audio.
    /// - Throws: ``RecordingError`` naming `name` and the problem.
    public static func decode(
        _ bytes: [UInt8], name: String, limits: AudioLimits = AudioLimits(), headerlessRate: Int = 8000
    ) throws(RecordingError) -> DecodedAudio {
        guard bytes.count <= limits.maximumFileBytes else {
            throw .tooLarge(name, bytes: bytes.count, limit: limits.maximumFileBytes)
        }
        guard !bytes.isEmpty else { throw .empty(name) }
        let source = MemorySource(bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in MemorySource.from(user).length },
            seek: { offset, whence, user in MemorySource.from(user).seek(offset, whence) },
            read: { buffer, count, user in MemorySource.from(user).read(into: buffer, count) },
            write: { _, _, _ in 0 },
            tell: { user in MemorySource.from(user).tell() })
        let reader = ByteReader(size: bytes.count) { offset, buffer in
            guard offset >= 0, offset < bytes.count else { return 0 }
            let count = min(buffer.count, bytes.count - offset)
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
            }
            return count
        }
        return try withExtendedLifetime(source) { () throws(RecordingError) -> DecodedAudio in
            try decode(
                name: name, limits: limits, headerless: AudioOutputFormat.headerless(path: name),
                headerlessRate: headerlessRate, bytes: reader
            ) { info in sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(source).toOpaque()) }
        }
    }

    /// The decoder shared by files and memory; `bytes` reads the same data for the container checks.
    static func decode(
        name: String, limits: AudioLimits, headerless: SampleEncoding?, headerlessRate: Int, bytes: ByteReader,
        open: (inout SF_INFO) -> OpaquePointer?
    ) throws(RecordingError) -> DecodedAudio {
        var info = SF_INFO()
        if let encoding = headerless {
            guard limits.sampleRates.contains(headerlessRate) else {
                throw .unsupportedSampleRate(name, rate: headerlessRate, supported: limits.sampleRates)
            }
            info.samplerate = Int32(headerlessRate)
            info.channels = 1
            info.format = Int32(SF_FORMAT_RAW) | sndfileSubtype(encoding) | Int32(SF_ENDIAN_LITTLE)
        }
        guard let file = open(&info) else {
            throw .unreadable(name, reason: openFailureReason())
        }
        defer { sf_close(file) }

        let rate = Int(info.samplerate)
        let channels = Int(info.channels)
        guard limits.sampleRates.contains(rate) else {
            throw .unsupportedSampleRate(name, rate: rate, supported: limits.sampleRates)
        }
        guard channels >= 1 else { throw .unreadable(name, reason: "no channels") }
        guard channels <= limits.maximumChannels else {
            throw .tooManyChannels(name, channels: channels, limit: limits.maximumChannels)
        }
        if let (declared, present) = truncation(file) {
            throw .truncated(name, declaredBytes: declared, presentBytes: present)
        }
        let maximumFrames = Int(limits.maximumDurationSeconds * Double(rate))

        // Do not trust info.frames: read fixed chunks until a read returns 0. It only sizes the first
        // allocation when it is plausible (formats without a count report INT64_MAX).
        let chunkFrames = 4096
        var chunk = [Float](repeating: 0, count: chunkFrames * channels)
        var samples: [Float] = []
        if info.frames > 0 && info.frames <= sf_count_t(maximumFrames) { samples.reserveCapacity(Int(info.frames)) }
        let scale = Float(32768) / Float(channels)
        while true {
            let got = chunk.withUnsafeMutableBufferPointer {
                sf_readf_float(file, $0.baseAddress, sf_count_t(chunkFrames))
            }
            if got <= 0 { break }
            let frames = min(Int(got), chunkFrames)
            guard samples.count + frames <= maximumFrames else {
                throw .tooLong(
                    name, seconds: Double(samples.count + frames) / Double(rate),
                    limit: limits.maximumDurationSeconds)
            }
            let start = samples.count
            samples.append(contentsOf: repeatElement(0, count: frames))
            samples.withUnsafeMutableBufferPointer { out in
                chunk.withUnsafeBufferPointer { input in
                    for frame in 0..<frames {
                        var sum: Float = 0
                        for channel in 0..<channels { sum += input[frame * channels + channel] }
                        let value = sum * scale
                        // Float files may exceed full scale (and hold NaN); clamp like a converter would.
                        out[start + frame] = value.isNaN ? 0 : min(max(value, -32768), 32767)
                    }
                }
            }
        }
        let failure = sf_error(file) != 0 ? String(cString: sf_strerror(file)) : nil
        if let found = truncation(info: info, decodedFrames: samples.count, bytes: bytes),
            failure == nil || found.declaredFrames != nil
        {
            // A decode that failed before the file's own count of frames: truncated, with libsndfile's reason.
            let reason = failure.map(libsndfileReason)
            throw .truncated(
                name, decodedSeconds: Double(samples.count) / Double(rate),
                declaredSeconds: found.declaredFrames.map { Double($0) / Double(rate) },
                detail: [found.detail, reason ?? ""].filter { !$0.isEmpty }.joined(separator: "; "))
        }
        if let failure { throw .unreadable(name, reason: failure) }
        guard !samples.isEmpty else { throw .empty(name) }
        return DecodedAudio(
            sampleRate: rate, samples: samples, channels: channels,
            container: formatName(info.format & Int32(SF_FORMAT_TYPEMASK)),
            encoding: formatName(info.format & Int32(SF_FORMAT_SUBMASK)))
    }

    /// libsndfile's reason for refusing to open a file that exists and is a regular file. For data it cannot
    /// parse it reports "unrecognised format" through virtual I/O but sometimes "File does not exist..." for the
    /// same bytes in a file, which would mislead: both give one reason, so memory and file errors agree.
    static func openFailureReason() -> String {
        let message = String(cString: sf_strerror(nil))
        // sf_open and sf_open_fd word it differently ("unrecognised format", or "does not exist" when the
        // name's extension pointed at a format whose data is not there): the same cause, said once.
        if Int(sf_error(nil)) == Int(SF_ERR_UNRECOGNISED_FORMAT) || message.contains("does not exist") {
            return "the data is not audio in any format libsndfile reads"
        }
        return message
    }

    /// The audio data chunk's declared and actual sizes when the file ends before it does. libsndfile
    /// shortens such a chunk to what is there and notes it in its log ("data : 396304 (should be 29956)"
    /// for WAV, the same with SSND for AIFF); decoding it silently would play half a prompt.
    static func truncation(_ file: OpaquePointer) -> (Int, Int)? {
        var log = [CChar](repeating: 0, count: 16384)
        let length = log.withUnsafeMutableBufferPointer {
            sf_command(file, Int32(SFC_GET_LOG_INFO), $0.baseAddress, Int32($0.count))
        }
        guard length > 0 else { return nil }
        let text = String(decoding: log.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            guard trimmed.hasPrefix("data") || trimmed.hasPrefix("SSND") else { continue }
            let numbers = trimmed.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if trimmed.contains("should be"), numbers.count >= 2, numbers[1] < numbers[0] {
                return (numbers[0], numbers[1])
            }
        }
        return nil
    }

    /// libsndfile's message without its decoration: "Error : flac decoder lost sync." → "flac decoder lost sync".
    static func libsndfileReason(_ message: String) -> String {
        var text = Substring(message)
        if text.hasPrefix("Error : ") { text = text.dropFirst(8) }
        while text.last == "." { text = text.dropLast() }
        return String(text)
    }

    /// A decode that ended before the file's own count of frames, or a container whose last page or frame is
    /// cut (see ContainerEnding.swift). libsndfile's frame count is exact for every format except MPEG, where
    /// it is exact only with a Xing/Info or VBRI frame count (mpg123 estimates it from the size otherwise);
    /// formats without a count report `SF_COUNT_MAX` (an Ogg file whose last page is cut) or 0.
    static func truncation(
        info: SF_INFO, decodedFrames: Int, bytes: ByteReader
    ) -> (declaredFrames: Int?, detail: String)? {
        let type = info.format & Int32(SF_FORMAT_TYPEMASK)
        var exact = info.frames > 0 && info.frames < sf_count_t.max
        var detail: String?
        // MPEG decoders may drop up to one frame of encoder delay and padding at the ends.
        var tolerance = 0
        if type == Int32(SF_FORMAT_MPEG) {
            let mpeg = ContainerEnding.mpeg(bytes)
            exact = exact && mpeg.hasFrameCount
            tolerance = mpeg.samplesPerFrame
            detail = mpeg.cut
        } else if type == Int32(SF_FORMAT_OGG) {
            detail = ContainerEnding.ogg(bytes)
        }
        if exact, decodedFrames + tolerance < Int(info.frames) {
            return (Int(info.frames), detail ?? "")
        }
        return detail.map { (nil, $0) }
    }

    /// Writes 16-bit linear samples, encoding them as `format` asks.
    ///
    /// The file is written beside its destination and renamed into place, so a failure leaves no
    /// half-written file.
    ///
    /// - Parameters:
    ///   - samples: mono 16-bit linear samples.
    ///   - sampleRate: samples per second.
    ///   - path: the destination.
    ///   - format: container and encoding.
    /// - Throws: ``RecordingError`` if the file cannot be written.
    public static func write(
        _ samples: [Int16], sampleRate: Int, to path: String, format: AudioOutputFormat
    ) throws(RecordingError) {
        switch format.encoding {
        case .pcm16:
            try write(count: samples.count, sampleRate: sampleRate, to: path, format: format) { file in
                samples.withUnsafeBufferPointer { Int(sf_writef_short(file, $0.baseAddress, sf_count_t($0.count))) }
            }
        case .ulaw:
            try write(g711: samples.map(MuLaw.encode), sampleRate: sampleRate, to: path, format: format)
        case .alaw:
            try write(g711: samples.map(ALaw.encode), sampleRate: sampleRate, to: path, format: format)
        }
    }

    /// Writes G.711 bytes as they are (one byte a sample), in a WAV or headerless file.
    ///
    /// - Parameters:
    ///   - bytes: mu-law or A-law codes, as `format.encoding` says.
    ///   - sampleRate: samples per second.
    ///   - path: the destination.
    ///   - format: container and encoding (mu-law or A-law).
    /// - Throws: ``RecordingError`` if the file cannot be written.
    public static func write(
        g711 bytes: [UInt8], sampleRate: Int, to path: String, format: AudioOutputFormat
    ) throws(RecordingError) {
        guard format.encoding != .pcm16 else {
            throw .writeFailed(path, reason: "G.711 bytes need a mu-law or A-law format")
        }
        try write(count: bytes.count, sampleRate: sampleRate, to: path, format: format) { file in
            bytes.withUnsafeBufferPointer { Int(sf_write_raw(file, $0.baseAddress, sf_count_t($0.count))) }
        }
    }

    /// Opens a temporary file beside `path`, lets `body` write `count` samples, renames it into place.
    private static func write(
        count: Int, sampleRate: Int, to path: String, format: AudioOutputFormat, _ body: (OpaquePointer) -> Int
    ) throws(RecordingError) {
        guard let rate = Int32(exactly: sampleRate), rate > 0 else {
            throw .writeFailed(path, reason: "sample rate \(sampleRate) Hz is not supported")
        }
        // A WAV file's sizes are 32-bit (RIFF): refuse before writing rather than write sizes that wrap.
        let bytes = count * (format.encoding == .pcm16 ? 2 : 1)
        if format.container == .wav && bytes > Int(UInt32.max) - 64 {
            throw .writeFailed(
                path,
                reason: "\(bytes) bytes of audio do not fit in a WAV file (at most 4 GiB); "
                    + "write .raw instead")
        }
        var info = SF_INFO()
        info.samplerate = rate
        info.channels = 1
        info.format =
            (format.container == .wav ? Int32(SF_FORMAT_WAV) : Int32(SF_FORMAT_RAW) | Int32(SF_ENDIAN_LITTLE))
            | sndfileSubtype(format.encoding)
        guard sf_format_check(&info) != 0 else {
            throw .writeFailed(path, reason: "libsndfile refuses this format")
        }
        let temporary = path + ".partial-\(getpid())"
        PartialFile.begin(temporary)
        defer { PartialFile.end() }
        guard let file = PathBytes.withCString(temporary, { sf_open($0, Int32(SFM_WRITE), &info) }) else {
            throw .writeFailed(path, reason: String(cString: sf_strerror(nil)))
        }
        let written = body(file)
        let error = sf_error(file)
        let message = String(cString: sf_strerror(file))
        sf_close(file)
        guard written == count, error == 0 else {
            PathBytes.withCString(temporary) { _ = unlink($0) }
            throw .writeFailed(path, reason: message)
        }
        let renamed = PathBytes.withCString(temporary) { from in PathBytes.withCString(path) { rename(from, $0) } }
        guard renamed == 0 else {
            let reason = String(cString: strerror(errno))
            PathBytes.withCString(temporary) { _ = unlink($0) }
            throw .writeFailed(path, reason: reason)
        }
    }

    static func sndfileSubtype(_ encoding: SampleEncoding) -> Int32 {
        switch encoding {
        case .pcm16: return Int32(SF_FORMAT_PCM_16)
        case .ulaw: return Int32(SF_FORMAT_ULAW)
        case .alaw: return Int32(SF_FORMAT_ALAW)
        }
    }

    static func formatName(_ format: Int32) -> String {
        var info = SF_FORMAT_INFO()
        info.format = format
        guard sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
            let name = info.name
        else { return "unknown" }
        return String(cString: name)
    }
}

/// The bytes behind `sf_open_virtual`: libsndfile calls back with this object as its user data.
final class MemorySource {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemorySource {
        // libsndfile passes back the pointer given to sf_open_virtual, which is never nil.
        Unmanaged<MemorySource>.fromOpaque(UnsafeRawPointer(user!)).takeUnretainedValue()
    }

    var length: sf_count_t { sf_count_t(bytes.count) }

    func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        let base: Int
        switch whence {
        case SEEK_CUR: base = position
        case SEEK_END: base = bytes.count
        default: base = 0
        }
        let (target, overflow) = base.addingReportingOverflow(Int(offset))
        position = overflow ? bytes.count : min(max(target, 0), bytes.count)
        return sf_count_t(position)
    }

    func read(into buffer: UnsafeMutableRawPointer?, _ count: sf_count_t) -> sf_count_t {
        guard let buffer, count > 0 else { return 0 }
        let n = min(Int(count), bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: source.baseAddress! + position, byteCount: n)
        }
        position += n
        return sf_count_t(n)
    }

    func tell() -> sf_count_t { sf_count_t(position) }
}
