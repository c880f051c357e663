// Near misses: an offline second look at what the DTMF receiver refused. The streaming detector keeps no
// record of its refusals (its per-frame path must not allocate or branch more than it does); this pass runs
// apart from it, over a whole signal, with the same windows (12.75 ms, half-window hop), the same
// Goertzel energies and gates, and the same Hann-window measurement of frequency and level, and reports
// every run of windows where a digit's two tones dominated but no digit was accepted - with the gate that
// refused it (ITU-T Q.24 receiver figures: twist, frequency deviation, duration, level).

/// A candidate digit the DTMF receiver refused although its two tones dominated the audio for a while.
///
/// Its measurements are a ``DTMFDetector/Digit`` (``tones``), read through it as the near miss's own:
/// `miss.digit`, `miss.startSample`, `miss.lowLevelDbm0`, `miss.twistDb`...
@dynamicMemberLookup
public struct DTMFNearMiss: Sendable, Hashable {
    /// Why the receiver did not accept the candidate.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The twist (high group relative to low group, dB) was outside the limits.
        case twist(Double)
        /// A tone was off nominal by more than the allowed fraction (the larger deviation, as a fraction).
        case frequency(Double)
        /// The tones held for fewer windows than a digit needs (the approximate tone duration, in seconds).
        case tooShort(Double)
        /// A tone was below the weakest accepted level (the weaker tone's level in dBm0).
        case tooWeak(Double)
        /// Other sound carried too much of the energy (the tones' largest share of a window's energy).
        case notClean(Double)

        /// A short English phrase, such as `twist -12.3 dB` or `too short (21 ms)`.
        public var description: String {
            func one(_ x: Double) -> String { String((x * 10).rounded() / 10) }
            switch self {
            case .twist(let db): return "twist \(db >= 0 ? "+" : "")\(one(db)) dB"
            case .frequency(let fraction): return "frequency off by \(one(fraction * 100)) %"
            case .tooShort(let seconds): return "too short (\(Int((seconds * 1000).rounded())) ms)"
            case .tooWeak(let dbm0): return "too weak (\(one(dbm0)) dBm0)"
            case .notClean(let share): return "not clean (tones \(Int((share * 100).rounded())) % of energy)"
            }
        }
    }

    /// The candidate as the receiver would have reported it: the digit its two tones would have made, about
    /// its first sample and the sample after its last (within half a window), and the low- and high-group
    /// tones' frequencies and levels measured on its strongest window.
    public var tones: DTMFDetector.Digit
    /// Why it was refused.
    public var reason: Reason

    /// A measurement of ``tones``, such as `digit`, `startSample`, `endSample`, `lowLevelDbm0`, `highFrequency`
    /// or `twistDb`.
    public subscript<Value>(dynamicMember measurement: KeyPath<DTMFDetector.Digit, Value>) -> Value {
        tones[keyPath: measurement]
    }

    /// At most this many near misses are reported for one signal.
    public static let maximumCount = 500

    /// Finds the candidates a detector with this rate and configuration refused in `samples`.
    ///
    /// Not for real time: it allocates and takes about as long as the detector itself. The digits the
    /// detector accepted are found first; runs of windows that touch one of them are not near misses.
    ///
    /// - Parameters:
    ///   - samples: the whole signal, floating point on the 16-bit scale.
    ///   - sampleRate: 8000...48000 Hz.
    ///   - configuration: the receiver's limits.
    /// - Returns: the accepted digits and the near misses, each in time order (at most ``maximumCount``).
    /// - Throws: ``TelephonyDSPError`` for an unsupported rate.
    public static func analyze(
        _ samples: [Float], sampleRate: Int, configuration: DTMFDetector.Configuration = .init()
    ) throws(TelephonyDSPError) -> (accepted: [DTMFDetector.Digit], nearMisses: [DTMFNearMiss]) {
        var detector = try DTMFDetector(sampleRate: sampleRate, configuration: configuration)
        let accepted = detector.detect(samples)
        // nearMisses reads only the detector's fixed settings (rate, limits, filter tables), not its stream state.
        return (accepted, detector.nearMisses(in: samples, accepted: accepted))
    }
}

extension DTMFDetector {
    /// One analysis window's verdict.
    private struct WindowVerdict {
        var start: Int
        var row: Int, column: Int
        var strength: Float
        var share: Float
        var passes: Bool  // every per-window gate of `analyze`
    }

    /// The near misses of `samples`, given the digits this detector's configuration accepted there.
    func nearMisses(in samples: [Float], accepted: [Digit]) -> [DTMFNearMiss] {
        let n = windowLength
        guard samples.count >= n else { return [] }
        var runs: [[WindowVerdict]] = []
        var current: [WindowVerdict] = []
        var silentWindows = 0
        // A candidate window: the strongest tone of each group stands 3 dB above the others of its group (the
        // receiver asks `relativePeakDb`; a tone 3.5 % off nominal falls between two filters), both are within
        // 10 dB of the level floor and together carry 30 % of the window's energy (speech and noise spread
        // theirs; a tone 3.5 % off nominal loses up to 8 dB in the rectangular window's filter). Only a run where
        // the pair reached half the energy counts when nothing but that share refused it. A run of them ends,
        // as a digit does, after `releaseWindows` windows without.
        let nearFloor = minimumEnergy / 10
        let nearFactor: Float = 2
        var probe = self  // windowGates is `mutating` for the streaming path's sake; it changes nothing
        var start = 0
        while start + n <= samples.count {
            let e = energies(samples, from: start)
            var power: Float = 0
            for i in start..<(start + n) { power += samples[i] * samples[i] }
            // The receiver's own per-window decision, then the looser candidate test around it.
            let (row, column, share, found) = probe.windowGates(e, power: power)
            let passes = found != nil
            let er = e[row]
            let ec = e[column]
            var near = true
            for i in 0..<4 where i != row && e[i] * nearFactor > er { near = false }
            for i in 4..<8 where i != column && e[i] * nearFactor > ec { near = false }
            if near && er >= nearFloor && ec >= nearFloor && share >= 0.3 {
                let verdict = WindowVerdict(
                    start: start, row: row, column: column, strength: er + ec,
                    share: share, passes: passes)
                if let last = current.last, last.row != row || last.column != column {
                    runs.append(current)
                    current = []
                }
                current.append(verdict)
                silentWindows = 0
            } else if !current.isEmpty {
                silentWindows += 1
                if silentWindows >= configuration.releaseWindows {
                    runs.append(current)
                    current = []
                }
            }
            start += hop
        }
        if !current.isEmpty { runs.append(current) }

        var misses: [DTMFNearMiss] = []
        var window = [Float](repeating: 0, count: n)
        for run in runs where run.count >= 2 {
            guard misses.count < DTMFNearMiss.maximumCount, let first = run.first, let last = run.last else { break }
            let runStart = first.start
            let runEnd = last.start + n
            if accepted.contains(where: { $0.startSample - n < runEnd && $0.endSample + n > runStart }) { continue }
            var strongest = first
            for v in run where v.strength > strongest.strength { strongest = v }
            for i in 0..<n { window[i] = samples[strongest.start + i] }
            let (low, high) = window.withUnsafeBufferPointer { buffer in
                let samples = WindowSamples(earlier: buffer.baseAddress!, later: buffer.baseAddress! + hop)
                return (measure(tone: strongest.row, samples), measure(tone: strongest.column, samples))
            }
            // The tones' amplitude in a window grows with the part of it they fill: the first window puts their
            // start at its end minus that part, the last one their end at its start plus it.
            func filled(_ v: WindowVerdict) -> Int {
                Int((min((v.strength / strongest.strength).squareRoot(), 1) * Float(n)).rounded())
            }
            let toneStart = first.start + n - filled(first)
            let toneEnd = max(last.start + filled(last), toneStart)
            let twist = high.dbm0 - low.dbm0
            let deviation = max(
                abs(low.frequency / frequencies[strongest.row] - 1),
                abs(high.frequency / frequencies[strongest.column] - 1))
            var longestPass = 0
            var passing = 0
            for v in run {
                passing = v.passes ? passing + 1 : 0
                longestPass = max(longestPass, passing)
            }
            // Close means close: a pair 5 % or more off nominal, or twisted 10 dB beyond the limits, is not a
            // digit that nearly passed (speech makes many such pairs).
            if deviation > 2 * configuration.maximumFrequencyDeviation
                || twist < -configuration.maximumNormalTwistDb - 10
                || twist > configuration.maximumReverseTwistDb + 10
            {
                continue
            }
            let reason: DTMFNearMiss.Reason
            if let refused = measuredRefusal(row: strongest.row, column: strongest.column, low: low, high: high) {
                reason = refused
            } else if min(low.dbm0, high.dbm0) < configuration.minimumLevelDbm0 {
                reason = .tooWeak(min(low.dbm0, high.dbm0))
            } else if longestPass > 0 && longestPass < configuration.confirmWindows {
                reason = .tooShort(Double(toneEnd - toneStart) / Double(sampleRate))
            } else {
                let share = run.map(\.share).max() ?? 0
                guard share >= 0.5 else { continue }
                reason = .notClean(Double(share))
            }
            let digit = DTMFDigit(row: strongest.row, column: strongest.column - 4)  // row 0...3, column 4...7
            misses.append(
                DTMFNearMiss(
                    tones: Digit(
                        digit: digit, startSample: toneStart, endSample: toneEnd,
                        lowLevelDbm0: low.dbm0, highLevelDbm0: high.dbm0,
                        lowFrequency: low.frequency, highFrequency: high.frequency),
                    reason: reason))
        }
        return misses
    }

    /// The eight filters' energies over the rectangular window at `start`, as the streaming path computes
    /// them (plain Goertzel recursion: s[n] = x[n] + 2 cos(w) s[n-1] - s[n-2]).
    private func energies(_ samples: [Float], from start: Int) -> SIMD8<Float> {
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        for i in start..<(start + windowLength) {
            let s = SIMD8(repeating: samples[i]) + coefficients * s1 - s2
            s2 = s1
            s1 = s
        }
        let re = s1 - cosW * s2
        let im = sinW * s2
        return re * re + im * im
    }
}
