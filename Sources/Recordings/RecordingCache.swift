import CallSequenceModel
import Synchronization
import TelephonyDSP

/// Decodes and prepares each recording once per (recording, rate, encoding) and shares the result.
///
/// Thread-safe: when several calls ask for the same recording at once, one decodes it and the others
/// wait for that result, at most until ``decodeTimeout`` after the decode began: then they get
/// ``RecordingError/decodeTimedOut(_:seconds:)`` instead of waiting longer, and the entry is released, so
/// the next request decodes again (a decode still running then has its result dropped). A request that comes
/// after a decode's deadline without having waited for it does not get that error: it decodes again. A failure
/// is not cached, so a later request tries again. Requests are synchronous, for use at compile time, never on
/// the audio thread.
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
        /// Decoding since `deadline - decodeTimeout`; `generation` tells a late decode its entry was released.
        case loading(generation: Int, deadline: Double)
        case ready(PreparedRecording)
    }

    /// What the system default prompt is prepared for.
    private struct SharedDefault: Hashable {
        var sampleRate: Int
        var encoding: SampleEncoding
        var normalizeToDbm0: Double?
    }

    /// The system default prompt, prepared, per format (a handful of entries per process).
    private static let defaultPrompts = Mutex<[SharedDefault: PreparedRecording]>([:])

    /// How a file is decoded.
    public typealias Decoder = @Sendable (_ path: String, _ limits: AudioLimits) throws(RecordingError) -> DecodedAudio

    /// The library names resolve in.
    public let library: RecordingLibrary
    /// Bounds applied to every file.
    public let limits: AudioLimits
    /// The active level recordings are normalised to, or `nil` to keep their own.
    public let normalizeToDbm0: Double?

    /// How long other requests wait for one decode, in seconds (default 30).
    public let decodeTimeout: Double

    private let decoder: Decoder
    private let condition = ConditionLock()
    private var entries: [Key: Entry] = [:]
    private var decodes = 0
    private var generations = 0

    /// Creates an empty cache over `library`.
    ///
    /// - Parameters:
    ///   - library: where names resolve.
    ///   - limits: bounds applied to every file.
    ///   - normalizeToDbm0: the active level recordings are normalised to, or `nil`.
    ///   - decodeTimeout: how long a request waits for another request's decode of the same recording.
    ///   - decode: how a file is decoded (default ``AudioFile/read(_:limits:headerlessRate:)``); a host may
    ///     wrap it, e.g. to log or to read from its own store.
    public init(
        library: RecordingLibrary, limits: AudioLimits = AudioLimits(), normalizeToDbm0: Double? = nil,
        decodeTimeout: Double = 30,
        decode: @escaping Decoder = { path, limits throws(RecordingError) in
            try AudioFile.read(path, limits: limits)
        }
    ) {
        self.library = library
        self.limits = limits
        self.normalizeToDbm0 = normalizeToDbm0
        self.decodeTimeout = decodeTimeout.isFinite ? min(max(decodeTimeout, 0), 86_400) : 30  // at most a day
        self.decoder = decode
    }

    /// How many files have been decoded (for metrics and tests).
    public var decodeCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return decodes
    }

    /// The prepared recording for `choice` at the call's format.
    ///
    /// - Returns: `nil` for `RecordingChoice/none`.
    /// - Throws: ``RecordingError`` for an unknown name or an unreadable file.
    public func recording(
        _ choice: RecordingChoice, sampleRate: Int, encoding: SampleEncoding
    ) throws(RecordingError) -> PreparedRecording? {
        if case .none = choice { return nil }
        let path = try library.path(for: choice) ?? ""
        let key = Key(path: path, sampleRate: sampleRate, encoding: encoding)
        // The system default prompt is the same bytes for every cache: prepared once per process and format, so
        // that many accounts (a server's store) share it.
        let shared = SharedDefault(sampleRate: sampleRate, encoding: encoding, normalizeToDbm0: normalizeToDbm0)
        if path.isEmpty, let prepared = Self.defaultPrompts.withLock({ $0[shared] }) { return prepared }
        condition.lock()
        // The decode this request waits for, once it waits: past its deadline the request gets the error even
        // if another waiter has released the entry meanwhile.
        var awaited: (generation: Int, deadline: Double)?
        while true {
            if let awaited, ConditionLock.now() >= awaited.deadline {
                if case .loading(awaited.generation, _)? = entries[key] { entries[key] = nil }
                condition.unlock()
                throw .decodeTimedOut(path.isEmpty ? RecordingLibrary.defaultPromptName : path, seconds: decodeTimeout)
            }
            switch entries[key] {
            case .ready(let prepared):
                condition.unlock()
                return prepared
            case .loading(let generation, let deadline):
                // A decode already past its deadline that this request did not wait for (it came later, and no
                // waiter was left to release the entry): release it and decode again. Only a request that waited
                // the whole timeout reports it (above), rather than waiting longer.
                if awaited?.generation != generation {
                    if ConditionLock.now() >= deadline {
                        entries[key] = nil
                        continue
                    }
                    awaited = (generation, deadline)
                }
                _ = condition.wait(until: deadline)
            case nil:
                generations += 1
                let generation = generations
                entries[key] = .loading(generation: generation, deadline: ConditionLock.now() + decodeTimeout)
                decodes += 1
                condition.unlock()
                let result = Result { () throws(RecordingError) -> PreparedRecording in
                    let audio =
                        path.isEmpty
                        ? try AudioFile.decode(
                            RecordingLibrary.defaultPromptBytes,
                            name: RecordingLibrary.defaultPromptName, limits: limits)
                        : try decoder(path, limits)
                    return try PreparedRecording(
                        audio, name: choice.description, sampleRate: sampleRate, encoding: encoding,
                        normalizeToDbm0: normalizeToDbm0)
                }
                condition.lock()
                // Only this decode's own entry: a released one may already hold a newer decode.
                if case .loading(generation, _)? = entries[key] {
                    switch result {
                    case .success(let prepared):
                        entries[key] = .ready(prepared)
                        if path.isEmpty { Self.defaultPrompts.withLock { $0[shared] = prepared } }
                    case .failure: entries[key] = nil
                    }
                }
                condition.broadcast()
                condition.unlock()
                return try result.get()
            }
        }
    }
}
