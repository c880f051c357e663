import TelephonyDSP

/// Decodes and prepares each recording once per (recording, rate, encoding) and shares the result.
///
/// Thread-safe: when several calls ask for the same recording at once, one decodes it and the others
/// wait for that result. A failure is not cached, so a later request tries again. Requests are
/// synchronous, for use at compile time, never on the audio thread.
public final class RecordingCache: @unchecked Sendable {
    /// What a prepared recording is cached under.
    public struct Key: Hashable, Sendable {
        /// The recording's file (empty for the system default prompt, built into the library).
        public var path: String
        /// The call's rate.
        public var sampleRate: Int
        /// The call's encoding.
        public var encoding: SampleEncoding
    }

    private enum Entry {
        case loading
        case ready(PreparedRecording)
    }

    /// The library names resolve in.
    public let library: RecordingLibrary
    /// Bounds applied to every file.
    public let limits: AudioLimits
    /// The active level recordings are normalised to, or `nil` to keep their own.
    public let normalizeToDbm0: Double?

    private let condition = ConditionLock()
    private var entries: [Key: Entry] = [:]
    private var decodes = 0

    /// Creates an empty cache over `library`.
    public init(library: RecordingLibrary, limits: AudioLimits = AudioLimits(), normalizeToDbm0: Double? = nil) {
        self.library = library
        self.limits = limits
        self.normalizeToDbm0 = normalizeToDbm0
    }

    /// How many files have been decoded (for metrics and tests).
    public var decodeCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return decodes
    }

    /// The prepared recording for `choice` at the call's format.
    ///
    /// - Returns: `nil` for ``RecordingChoice/none``.
    /// - Throws: ``RecordingError`` for an unknown name or an unreadable file.
    public func recording(
        _ choice: RecordingChoice, sampleRate: Int, encoding: SampleEncoding
    ) throws(RecordingError) -> PreparedRecording? {
        if case .none = choice { return nil }
        let path = try library.path(for: choice) ?? ""
        let key = Key(path: path, sampleRate: sampleRate, encoding: encoding)
        condition.lock()
        while true {
            switch entries[key] {
            case .ready(let prepared):
                condition.unlock()
                return prepared
            case .loading:
                condition.wait()
            case nil:
                entries[key] = .loading
                decodes += 1
                condition.unlock()
                let result = Result { () throws(RecordingError) -> PreparedRecording in
                    let audio = path.isEmpty
                        ? try AudioFile.decode(RecordingLibrary.defaultPromptBytes,
                                               name: RecordingLibrary.defaultPromptName, limits: limits)
                        : try AudioFile.read(path, limits: limits)
                    return try PreparedRecording(
                        audio, name: choice.description, sampleRate: sampleRate, encoding: encoding,
                        normalizeToDbm0: normalizeToDbm0)
                }
                condition.lock()
                switch result {
                case .success(let prepared): entries[key] = .ready(prepared)
                case .failure: entries[key] = nil
                }
                condition.broadcast()
                condition.unlock()
                return try result.get()
            }
        }
    }
}
