// DTMF bursts shared by every compiled sequence of the process. A digit's tone at a given duration,
// level, twist, rate and encoding is always the same samples (ToneSynthesizer makes every burst from
// the same seeds), so it is rendered once and referenced by every sequence, account and call that sends
// it: memory grows with the number of distinct bursts, not with the number or length of sequences.
// Entries are held weakly: a burst lives while some compiled sequence uses it.

import CallSequenceModel
import Recordings
import Synchronization
import TelephonyDSP

/// One rendered DTMF burst: PCM16 samples and, for G.711 calls, the encoded bytes: the tone, then (G.711) the
/// digit's gap of silence, so that a player crosses no segment boundary between a tone and its gap. Immutable.
public final class ToneBurst: @unchecked Sendable {
    // @unchecked: the buffers are written by init only and freed by deinit.

    /// The burst as 16-bit linear samples.
    let pcm: UnsafeMutableBufferPointer<Int16>
    /// The burst as G.711 bytes (empty for PCM16 calls).
    let encoded: UnsafeMutableBufferPointer<UInt8>

    init(_ key: ToneBurstCache.Key) throws(TelephonyDSPError) {
        var synthesizer = try ToneSynthesizer(
            tone: DualTone(digit: key.digit, levelDbm0: key.levelDbm0, twistDb: key.twistDb),
            sampleRate: key.sampleRate, durationSamples: key.samples)
        let total = key.samples + max(key.gapSamples, 0)
        let pcm = UnsafeMutableBufferPointer<Int16>.allocate(capacity: total)
        let written = synthesizer.render(into: UnsafeMutableBufferPointer(rebasing: pcm[0..<key.samples]))
        if written < pcm.count { UnsafeMutableBufferPointer(rebasing: pcm[written...]).update(repeating: 0) }
        self.pcm = pcm
        // The gap is the silence byte a player writes for silence (the G.711 code of 0).
        switch key.encoding {
        case .pcm16:
            encoded = .allocate(capacity: 0)
        case .ulaw:
            encoded = .allocate(capacity: total)
            for i in 0..<key.samples { encoded[i] = MuLaw.encode(pcm[i]) }
            for i in key.samples..<total { encoded[i] = MuLaw.silence }
        case .alaw:
            encoded = .allocate(capacity: total)
            for i in 0..<key.samples { encoded[i] = ALaw.encode(pcm[i]) }
            for i in key.samples..<total { encoded[i] = ALaw.silence }
        }
    }

    deinit {
        pcm.deallocate()
        encoded.deallocate()
    }

    /// The bytes this burst holds.
    public var bytes: Int { pcm.count * 2 + encoded.count }
}

/// The process-wide table of rendered DTMF bursts, one per (digit, duration, gap, level, twist, rate, encoding).
///
/// Thread-safe; used at compile time only, never on the audio thread.
public final class ToneBurstCache: Sendable {
    /// What a burst is rendered for.
    public struct Key: Hashable, Sendable {
        /// The digit.
        public var digit: DTMFDigit
        /// The tone's length in samples.
        public var samples: Int
        /// The silence after the tone, in samples (the digit's gap).
        public var gapSamples: Int = 0
        /// The low-group level in dBm0.
        public var levelDbm0: Double
        /// The twist in dB.
        public var twistDb: Double
        /// The call's rate.
        public var sampleRate: Int
        /// The call's encoding.
        public var encoding: SampleEncoding
    }

    private final class WeakBurst: Sendable {
        nonisolated(unsafe) weak var burst: ToneBurst?
        init(_ burst: ToneBurst) { self.burst = burst }
    }

    private struct State {
        var entries: [Key: WeakBurst] = [:]
        var renders = 0
        var purgeAt = 64
    }

    private let state = Mutex(State())

    /// The cache every compiled sequence uses.
    public static let shared = ToneBurstCache()

    /// Creates an empty cache (tests; the engine uses ``shared``).
    public init() {}

    /// The burst for `key`, rendered now if no live sequence holds it.
    public func burst(_ key: Key) throws(TelephonyDSPError) -> ToneBurst {
        if let live = state.withLock({ $0.entries[key]?.burst }) { return live }
        let made = try ToneBurst(key)
        return state.withLock { state in
            if let live = state.entries[key]?.burst { return live }  // another thread made it meanwhile
            state.entries[key] = WeakBurst(made)
            state.renders += 1
            if state.entries.count >= state.purgeAt {
                state.entries = state.entries.filter { $0.value.burst != nil }
                state.purgeAt = max(64, state.entries.count * 2)
            }
            return made
        }
    }

    /// How many bursts have been rendered (for metrics and tests).
    public var renderCount: Int { state.withLock { $0.renders } }

    /// How many distinct bursts are alive and the bytes they hold.
    public var live: (bursts: Int, bytes: Int) {
        state.withLock { state in
            let bursts = state.entries.values.compactMap(\.burst)
            return (bursts.count, bursts.reduce(0) { $0 + $1.bytes })
        }
    }
}
