// DTMF receiver meeting the ITU-T Q.24 / ETSI ES 201 235-3 figures: accept frequency errors up to 1.5 % and
// reject 3.5 %; accept 40 ms tones and reject 20 ms ones; tolerate 10 ms interruptions. Measured by the
// conformance tests (8 kHz, all 16 digits): tones rejected up to 25 ms and accepted from 33 ms; a pause of
// 26.5 ms always separates two digits; twist accepted up to 9.5 dB normal and 7.5 dB reverse (limits 10 and
// 8 dB); levels down to -34 dBm0 per tone.
//
// How it works, at any rate from 8 to 48 kHz (the numbers below are for 8 kHz):
// 1. Eight Goertzel filters run over half-windows of 51 samples (6.375 ms), as one SIMD8 recursion split in
//    two: s[n] = x[n] + 2cos(w) s[n-1] - s[n-2] is v[n] = x[n] + 2cos(2w) v[n-2] - v[n-4] (poles e^{+-jw} and
//    e^{+-j(pi-w)}) followed by s[n] = v[n] + 2cos(w) v[n-1] + v[n-2] (zeros at e^{+-j(pi-w)}), applied only to
//    the half-window's last two values. The even and odd samples' v are independent recursions that advance
//    once per two samples, so neither waits on the other, at the plain recursion's cost per sample (three
//    operations and a copy per vector register, SSE2 having no three-operand forms). A half-window is filtered
//    in one pass once its last sample has arrived, four samples a step. On an x86-64 processor with AVX the same
//    operations run in C (CTelephonyKernels: one 8-lane register per recursion, three-operand forms, two
//    complete half-windows at once so that neither's recursion waits on the other), with the same values to the
//    bit (`FilterKernel`). Each
//    half-window's complex result is combined coherently with the previous one, giving the DFT of a
//    102-sample (12.75 ms) window - spandsp's and Asterisk's block - every 51 samples: their frequency
//    selectivity with twice their time resolution, at the cost of one Goertzel pass.
// 2. A window holds a candidate digit when the strongest row and column tones are above the level floor,
//    within the twist limits, each at least `relativePeakDb` above the other tones of its group, and
//    together carry `minimumToneShare` of the window's energy (speech and noise spread theirs).
// 3. The candidate must hold for `confirmWindows` (4) consecutive windows: 4 windows cover 31.9 ms,
//    and a window only passes the share test when 3/4 of it is tone, so a 20 ms burst can never pass.
// 4. Before a digit is reported its two frequencies are measured by reassignment (the ratio of the
//    DFTs with a Hann window and with its time derivative gives the tone's frequency offset from the
//    filter's, to a fraction of a hertz), on the strongest window of the run: a tone more than
//    `maximumFrequencyDeviation` (2.5 %) off nominal is refused. Energy alone cannot tell 1.5 % from
//    3.5 %: a 102-sample Goertzel filter loses only 1.4 dB at 3.5 % off 697 Hz. The twist limits are
//    checked on the same window, with levels from the Hann-windowed DFT (leakage below -40 dB).
// 5. A digit ends after `releaseWindows` (5) consecutive windows without it. Its start and end come
//    from the windows around its first and last matching ones, valid or not: the digit's two tones
//    carry a share p of a window's energy equal to the fraction of the window they fill, so the first
//    window with p >= 0.2 puts the start at its end minus pN, the last one the end at its start plus pN.
//
// The processing allocates nothing: all storage is made by the initializer.

internal import CTelephonyKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming DTMF receiver: feed audio in chunks of any size, get each digit with its start, end,
/// levels and measured frequencies.
public struct DTMFDetector: Sendable {
    /// Acceptance limits. The defaults meet the receiver figures of Q.24 with margin on both sides.
    public struct Configuration: Sendable, Hashable {
        /// Weakest accepted tone, per tone, in dBm0 (default -35; Q.24: detect -25, ignore below about -42).
        public var minimumLevelDbm0: Double = -35
        /// Largest accepted twist with the low group louder, in dB (default 10; accept 8, reject 12).
        public var maximumNormalTwistDb: Double = 10
        /// Largest accepted twist with the high group louder, in dB (default 8; accept 4, reject 12).
        public var maximumReverseTwistDb: Double = 8
        /// How far each tone must stand above the other tones of its group, in dB (default 8).
        public var relativePeakDb: Double = 8
        /// The share of a window's energy the two tones must carry (default 0.75).
        public var minimumToneShare: Double = 0.75
        /// Largest accepted frequency error, as a fraction of nominal (default 0.025: accept 1.5 %, reject 3.5 %).
        public var maximumFrequencyDeviation: Double = 0.025
        /// Consecutive windows a digit must hold before it is reported (default 4, 31.9 ms).
        public var confirmWindows: Int = 4
        /// Consecutive windows without the digit that end it (default 5).
        public var releaseWindows: Int = 5

        /// The defaults.
        public init() {}
    }

    /// A digit found in the audio.
    public struct Digit: Sendable, Hashable {
        /// The digit.
        public var digit: DTMFDigit
        /// The first sample of the tone (within about half a window, 3.2 ms).
        public var startSample: Int
        /// The sample after the tone's last one (within about half a window).
        public var endSample: Int
        /// The measured level of the low-group tone in dBm0.
        public var lowLevelDbm0: Double
        /// The measured level of the high-group tone in dBm0.
        public var highLevelDbm0: Double
        /// The measured low-group frequency in hertz.
        public var lowFrequency: Double
        /// The measured high-group frequency in hertz.
        public var highFrequency: Double

        /// The measured twist (high group relative to low group) in dB.
        public var twistDb: Double { highLevelDbm0 - lowLevelDbm0 }
    }

    /// What the detector reports while it runs.
    public enum Event: Sendable, Hashable {
        /// A digit was confirmed; it started at `startSample`. Its end follows later.
        case began(DTMFDigit, startSample: Int)
        /// A digit ended.
        case ended(Digit)
    }

    /// The sample rates the detector supports.
    public static let supportedSampleRates: ClosedRange<Int> = 8000...48000

    /// The samples per second of the input.
    public let sampleRate: Int
    /// The acceptance limits in use.
    public let configuration: Configuration
    /// The analysis window in samples (12.75 ms: 102 at 8 kHz).
    public let windowLength: Int
    /// Samples between windows (half a window).
    public let hop: Int
    /// Samples consumed so far.
    public var samplesProcessed: Int { _samplesProcessed }

    // MARK: - Filter state
    @usableFromInline let coefficients: SIMD8<Float>  // 2 cos(w)
    @usableFromInline let doubleAngleCoefficients: SIMD8<Float>  // 2 cos(2w)
    @usableFromInline let leadMask: SIMD4<UInt32>  // clears the zeros that lead a half-window in the filter
    @usableFromInline var filterKernel: FilterKernel  // the filter's code for this processor (tests set it)
    @usableFromInline let cosW: SIMD8<Float>
    @usableFromInline let sinW: SIMD8<Float>
    @usableFromInline let cosHop: SIMD8<Float>  // e^{-j w hop}
    @usableFromInline let sinHop: SIMD8<Float>
    @usableFromInline var previousRe = SIMD8<Float>()
    @usableFromInline var previousIm = SIMD8<Float>()
    @usableFromInline var previousPower: Float = 0
    @usableFromInline var hasPrevious = false
    @usableFromInline var fill = 0
    // 4 zeros, then `historyHalves` half-windows of samples: the current half-window starts at `current` (at
    // least one half-window in, the previous one before it), and frames are copied in behind it.
    @usableFromInline var history: DetectorHistory
    @usableFromInline var current = 0
    @usableFromInline var _samplesProcessed = 0
    @usableFromInline var earlierEnergies = (SIMD8<Float>(), SIMD8<Float>())  // windows k-2, k-1
    @usableFromInline var earlierPowers: (Float, Float) = (0, 0)

    // Reassignment tables: for each of the 8 tones and each sample i of a window, w cos, -w sin, w' cos, -w' sin
    // (one SIMD4: the four sums of a measurement advance together, each in the order of a scalar loop).
    @usableFromInline let reassignment: [Float]
    @usableFromInline let frequencies: [Double]

    // Thresholds as energy ratios.
    @usableFromInline let minimumEnergy: Float
    @usableFromInline let normalTwistLimit: Float
    @usableFromInline let reverseTwistLimit: Float
    @usableFromInline let relativeFactor: Float
    @usableFromInline let shareScale: Float
    @usableFromInline let minimumShare: Float

    // MARK: - Decision state
    @usableFromInline struct Candidate: Sendable {
        var digit: DTMFDigit
        var windowEnd: Int  // end of the first matching window
        var earlyShares: (Float, Float, Float)  // the pair's share in windows k-2, k-1, k
        var fullShare: Float
        var windows = 1
        var strongest: Float = -1
        var lowLevel = 0.0, highLevel = 0.0, lowFrequency = 0.0, highFrequency = 0.0
        var rejected = false
    }
    @usableFromInline struct Active: Sendable {
        var digit: Digit
        var row: Int, column: Int
        var fullShare: Float
        var misses = 0
    }
    @usableFromInline var pending: Candidate?
    @usableFromInline var active: Active?

    /// Creates a detector.
    ///
    /// - Parameters:
    ///   - sampleRate: 8000...48000 samples per second.
    ///   - configuration: acceptance limits.
    /// - Throws: ``TelephonyDSPError`` for an unsupported rate.
    public init(sampleRate: Int, configuration: Configuration = Configuration()) throws(TelephonyDSPError) {
        guard DTMFDetector.supportedSampleRates.contains(sampleRate) else {
            throw .unsupportedSampleRate(sampleRate, supported: DTMFDetector.supportedSampleRates)
        }
        self.sampleRate = sampleRate
        self.configuration = configuration
        let rate = Double(sampleRate)
        hop = Int((rate * 0.006375).rounded())
        windowLength = 2 * hop
        let n = windowLength
        frequencies = DTMFDigit.lowGroupFrequencies + DTMFDigit.highGroupFrequencies
        let omegas = frequencies.map { 2 * Double.pi * $0 / rate }
        func vector(_ f: (Double) -> Double) -> SIMD8<Float> {
            var v = SIMD8<Float>()
            for i in 0..<8 { v[i] = Float(f(omegas[i])) }
            return v
        }
        coefficients = vector { 2 * cos($0) }
        doubleAngleCoefficients = vector { 2 * cos(2 * $0) }
        let lead = UInt32((4 - hop % 4) % 4)
        leadMask = SIMD4(repeating: ~0).replacing(with: 0, where: SIMD4<UInt32>(0, 1, 2, 3) .< SIMD4(repeating: lead))
        cosW = vector { cos($0) }
        sinW = vector { sin($0) }
        cosHop = vector { cos($0 * Double(n / 2)) }
        sinHop = vector { sin($0 * Double(n / 2)) }
        filterKernel = FilterKernel.fastest
        history = DetectorHistory(count: 4 + DTMFDetector.historyHalves * hop)
        current = hop

        var tables = [Float](repeating: 0, count: 8 * 4 * n)
        for k in 0..<8 {
            for i in 0..<n {
                let phase = 2 * Double.pi * (Double(i) + 0.5) / Double(n)
                let w = 0.5 - 0.5 * cos(phase)
                let dw = Double.pi / Double(n) * sin(phase)
                let c = cos(omegas[k] * Double(i))
                let s = sin(omegas[k] * Double(i))
                let base = (k * n + i) * 4
                tables[base] = Float(w * c)
                tables[base + 1] = Float(-w * s)
                tables[base + 2] = Float(dw * c)
                tables[base + 3] = Float(-dw * s)
            }
        }
        reassignment = tables

        // A full-window tone of peak A gives |X|^2 = (A N / 2)^2.
        let minimumAmplitude = Level.sinePeak(dbm0: configuration.minimumLevelDbm0) * Double(n) / 2
        minimumEnergy = Float(minimumAmplitude * minimumAmplitude)
        // Per window the twist gate is 4 dB wider than the limits: the rectangular window lets a strong
        // tone leak into the other group's filters (-20.6 dB for 941 Hz into 1209 Hz), which moves the
        // weak tone's energy by up to 2 dB. The limits themselves are applied at confirmation, to the
        // levels measured with a Hann window, where that leakage is below -40 dB.
        normalTwistLimit = Float(pow(10, -(configuration.maximumNormalTwistDb + 4) / 10))
        reverseTwistLimit = Float(pow(10, (configuration.maximumReverseTwistDb + 4) / 10))
        relativeFactor = Float(pow(10, configuration.relativePeakDb / 10))
        // The tones' share of a window's energy: 2 (|Xr|^2 + |Xc|^2) / (N * power).
        shareScale = Float(2 / Double(n))
        minimumShare = Float(configuration.minimumToneShare)
    }

    // MARK: - Input

    /// Feeds 16-bit linear samples.
    ///
    /// - Parameters:
    ///   - samples: the next samples of the stream.
    ///   - emit: called for every event, in order, before this method returns.
    @inlinable
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, _ emit: (Event) -> Void) {
        process(count: samples.count, emit) { index, slots, n in
            // Eight at a time (vector conversion), then one at a time.
            guard let base = samples.baseAddress else { return }  // n >= 1 samples from index: never nil
            let source = UnsafeRawPointer(base + index)
            var i = 0
            while i &+ 8 <= n {
                let sixteen = source.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<Int16>.self)
                let eight = SIMD8<Int32>(truncatingIfNeeded: sixteen)
                UnsafeMutableRawPointer(slots + i).storeBytes(of: SIMD8<Float>(eight), as: SIMD8<Float>.self)
                i &+= 8
            }
            while i < n {
                slots[i] = Float(samples[index &+ i])
                i &+= 1
            }
        }
    }

    /// Feeds samples as floating point on the 16-bit scale (±32768 is full scale).
    ///
    /// - Parameters:
    ///   - samples: the next samples of the stream.
    ///   - emit: called for every event, in order, before this method returns.
    @inlinable
    public mutating func process(_ samples: UnsafeBufferPointer<Float>, _ emit: (Event) -> Void) {
        process(count: samples.count, emit) { index, slots, n in
            guard let base = samples.baseAddress else { return }  // n >= 1 samples from index: never nil
            slots.update(from: base + index, count: n)
        }
    }

    /// Forgets the stream so far and gives this detector its own buffer: call it when a call starts (it
    /// allocates once), so that processing that call's audio never does.
    public mutating func reset() {
        history = DetectorHistory(count: 4 + DTMFDetector.historyHalves * hop)
        current = hop
        previousRe = SIMD8()
        previousIm = SIMD8()
        previousPower = 0
        fill = 0
        hasPrevious = false
        _samplesProcessed = 0
        earlierEnergies = (SIMD8(), SIMD8())
        earlierPowers = (0, 0)
        pending = nil
        active = nil
    }

    /// Ends the stream: a digit still sounding is reported as ended at its last matching window.
    ///
    /// - Parameter emit: called for the last event, if any.
    public mutating func finish(_ emit: (Event) -> Void) {
        if let ending = active {
            emit(.ended(ending.digit))
            active = nil
        }
        pending = nil
    }

    /// Runs the detector over a whole signal and returns the digits (convenience for offline use).
    ///
    /// - Parameter samples: the signal, 16-bit linear.
    /// - Returns: every digit found, in order.
    public mutating func detect(_ samples: [Int16]) -> [Digit] {
        var found: [Digit] = []
        let collect: (Event) -> Void = { if case .ended(let d) = $0 { found.append(d) } }
        samples.withUnsafeBufferPointer { process($0, collect) }
        finish(collect)
        return found
    }

    /// Runs the detector over a whole signal given as floating point on the 16-bit scale.
    public mutating func detect(_ samples: [Float]) -> [Digit] {
        var found: [Digit] = []
        let collect: (Event) -> Void = { if case .ended(let d) = $0 { found.append(d) } }
        samples.withUnsafeBufferPointer { process($0, collect) }
        finish(collect)
        return found
    }

    // MARK: - Core

    /// Feeds `count` samples that `copy(index, slots, n)` writes, `n` at a time from sample `index` on, to `slots`.
    @inlinable
    mutating func process(
        count: Int, _ emit: (Event) -> Void, _ copy: (Int, UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        if !isKnownUniquelyReferenced(&history) {  // a copy of another detector: take its own history first
            history = history.copy()
        }
        do {
            let history = history.base + 4  // the filter reads up to 3 samples before a half-window
            let h = hop
            let capacity = DTMFDetector.historyHalves &* h
            var index = 0
            while index < count {
                if current &+ fill == capacity {  // full: the previous and the current half-window to the front
                    history.update(from: history + (current &- h), count: h &+ fill)
                    current = h
                }
                let n = min(count &- index, capacity &- current &- fill)
                copy(index, history + (current &+ fill), n)
                fill &+= n
                index &+= n
                _samplesProcessed += n
                if fill >= h { endOfHalfWindows(history, emit) }
            }
        }
    }

    /// The history's length in half-windows: the previous one, the current one, and room for two more, so that
    /// most of a frame is converted in one go; when it is full the last two move to the front. Four: 0.8 KB at
    /// 8 kHz. (Twelve, room for whole 20 ms frames, took 3.5 % fewer instructions for 1.6 KB more per detector,
    /// which each live IVR call holds.)
    @usableFromInline static let historyHalves = 4

    /// The eight filters over a half-window (`n` samples from `x`): the Goertzel recursion's last two values
    /// s[N-1] and s[N-2], and the samples' energy. The half-window is taken as 4m samples, led by the zeros that
    /// make it so (zeros before the first sample leave the recursions at zero, so the result is the same), in
    /// steps of four: two updates each of the even samples' recursion v[n] = x[n] + 2cos(2w) v[n-2] - v[n-4] and
    /// of the odd samples', neither waiting on the other; then s[n] = v[n] + 2cos(w) v[n-1] + v[n-2] (see step 1
    /// at the top of this file). Static, so that calling it from a `mutating` method makes no copy of the
    /// detector (as a method it cost a 672-byte copy a half-window). `x` must have 3 readable samples before it.
    @inlinable @inline(__always)
    static func filter(
        _ x: UnsafeRawPointer, count n: Int, leadMask: SIMD4<UInt32>,
        coefficients: SIMD8<Float>, doubleAngleCoefficients c: SIMD8<Float>
    ) -> (s1: SIMD8<Float>, s2: SIMD8<Float>, power: Float) {
        // Each recursion's older value (p) and newer one (q), updated in place: every update is
        // c v[n-2] - (v[n-4] - x[n]), computed as is or negated (negation is exact), so the signs the values are
        // held with go +,+ -> -,- -> +,+ over two steps, and every value is the same to the bit, up to its sign,
        // as the plain recursion's. The padded index j = k + lead decides the parity.
        var ep = SIMD8<Float>()
        var eq = SIMD8<Float>()
        var op = SIMD8<Float>()
        var oq = SIMD8<Float>()
        var p = SIMD4<Float>()
        @inline(__always) func negating(_ x4: SIMD4<Float>) {  // from +,+ to -,-
            p += x4 * x4
            ep = (ep - SIMD8(repeating: x4[0])) - c * eq  // -v[j]
            op = (op - SIMD8(repeating: x4[1])) - c * oq  // -v[j+1]
            eq = (eq - SIMD8(repeating: x4[2])) + c * ep  // -v[j+2]
            oq = (oq - SIMD8(repeating: x4[3])) + c * op  // -v[j+3]
        }
        @inline(__always) func restoring(_ x4: SIMD4<Float>) {  // from -,- to +,+
            p += x4 * x4
            ep = (ep + SIMD8(repeating: x4[0])) - c * eq  // v[j]
            op = (op + SIMD8(repeating: x4[1])) - c * oq  // v[j+1]
            eq = (eq + SIMD8(repeating: x4[2])) + c * ep  // v[j+2]
            oq = (oq + SIMD8(repeating: x4[3])) + c * op  // v[j+3]
        }
        // The first step: its first `lead` lanes are the zeros (read from before x, then cleared).
        let lead = (4 - n & 3) & 3
        let first = unsafeBitCast(
            x.loadUnaligned(fromByteOffset: -lead &* 4, as: SIMD4<UInt32>.self) & leadMask, to: SIMD4<Float>.self)
        p = first * first
        let negated = -first  // from zero: (0 - x) - c 0 = -x, then (0 - x) + c v = c v + (-x)
        ep = SIMD8(repeating: negated[0])  // -v[j]
        op = SIMD8(repeating: negated[1])  // -v[j+1]
        eq = c * ep + SIMD8(repeating: negated[2])  // -v[j+2]
        oq = c * op + SIMD8(repeating: negated[3])  // -v[j+3]
        var k = 4 &- lead
        while k &+ 8 <= n {
            restoring(x.loadUnaligned(fromByteOffset: k &* 4, as: SIMD4<Float>.self))
            negating(x.loadUnaligned(fromByteOffset: (k &+ 4) &* 4, as: SIMD4<Float>.self))
            k &+= 8
        }
        var sign: Float = -1
        if k < n {  // one more step
            restoring(x.loadUnaligned(fromByteOffset: k &* 4, as: SIMD4<Float>.self))
            sign = 1
        }
        // The last sample (padded index 4m - 1) is odd: v[N-1], v[N-3] are the odd recursion's last two values,
        // v[N-2], v[N-4] the even one's.
        let s1 = ((oq + coefficients * eq) + op) * sign
        let s2 = ((eq + coefficients * op) + ep) * sign
        return (s1, s2, (p[0] + p[1]) + (p[2] + p[3]))
    }

    /// Which code runs the eight filters: the portable Swift of ``filter(_:count:leadMask:coefficients:doubleAngleCoefficients:)``
    /// or, on an x86-64 processor with AVX, the same operations in one 8-lane register per recursion
    /// (CTelephonyKernels: three-operand forms and half the registers, 35 % fewer instructions for the receiver).
    /// Both give the same values to the bit, so the receiver's outcomes do not depend on the processor.
    @usableFromInline
    enum FilterKernel: Sendable {
        case portable, avx

        /// The fastest kernel this processor runs (checked once).
        static let fastest: FilterKernel = callseq_kernels_have_avx() != 0 ? .avx : .portable
    }

    /// ``filter(_:count:leadMask:coefficients:doubleAngleCoefficients:)`` by the AVX kernel; only where
    /// ``FilterKernel/fastest`` is `.avx`. `x` must have 3 readable samples before it.
    static func filterAVX(
        _ x: UnsafePointer<Float>, count n: Int, coefficients: SIMD8<Float>, doubleAngleCoefficients c: SIMD8<Float>
    ) -> (s1: SIMD8<Float>, s2: SIMD8<Float>, power: Float) {
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        var power: Float = 0
        withUnsafePointer(to: coefficients) { w in
            withUnsafePointer(to: c) { c in
                withUnsafeMutablePointer(to: &s1) { s1 in
                    withUnsafeMutablePointer(to: &s2) { s2 in
                        callseq_goertzel8_avx(
                            x, n, UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                            UnsafeRawPointer(c).assumingMemoryBound(to: Float.self),
                            UnsafeMutableRawPointer(s1).assumingMemoryBound(to: Float.self),
                            UnsafeMutableRawPointer(s2).assumingMemoryBound(to: Float.self), &power)
                    }
                }
            }
        }
        return (s1, s2, power)
    }

    /// ``filterAVX(_:count:coefficients:doubleAngleCoefficients:)`` of two half-windows, from `x` and from `y`.
    static func filterAVX(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int, coefficients: SIMD8<Float>,
        doubleAngleCoefficients c: SIMD8<Float>
    ) -> (
        (s1: SIMD8<Float>, s2: SIMD8<Float>, power: Float), (s1: SIMD8<Float>, s2: SIMD8<Float>, power: Float)
    ) {
        var s1 = (SIMD8<Float>(), SIMD8<Float>())
        var s2 = (SIMD8<Float>(), SIMD8<Float>())
        var power = SIMD2<Float>()
        withUnsafePointer(to: coefficients) { w in
            withUnsafePointer(to: c) { c in
                withUnsafeMutablePointer(to: &s1) { s1 in
                    withUnsafeMutablePointer(to: &s2) { s2 in
                        withUnsafeMutablePointer(to: &power) { power in
                            callseq_goertzel8x2_avx(
                                x, y, n, UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                                UnsafeRawPointer(c).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(s1).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(s2).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(power).assumingMemoryBound(to: Float.self))
                        }
                    }
                }
            }
        }
        return ((s1.0, s2.0, power[0]), (s1.1, s2.1, power[1]))
    }

    /// The filters and the analysis of every complete half-window from `current` on (`fill` >= `hop`).
    @usableFromInline
    mutating func endOfHalfWindows(_ history: UnsafeMutablePointer<Float>, _ emit: (Event) -> Void) {
        let h = hop
        while fill >= h {
            if filterKernel == .avx && fill >= 2 &* h {  // two at once, their recursions interleaved
                let (first, second) = DTMFDetector.filterAVX(
                    history + current, history + (current &+ h), count: h, coefficients: coefficients,
                    doubleAngleCoefficients: doubleAngleCoefficients)
                endOfHalfWindow(history, first, windowEnd: _samplesProcessed &- (fill &- h), emit)
                current &+= h
                fill &-= h
                endOfHalfWindow(history, second, windowEnd: _samplesProcessed &- (fill &- h), emit)
                current &+= h
                fill &-= h
                continue
            }
            let x = UnsafePointer(history + current)
            let filtered =
                filterKernel == .avx
                ? DTMFDetector.filterAVX(
                    x, count: h, coefficients: coefficients, doubleAngleCoefficients: doubleAngleCoefficients)
                : DTMFDetector.filter(
                    UnsafeRawPointer(x), count: h, leadMask: leadMask,
                    coefficients: coefficients, doubleAngleCoefficients: doubleAngleCoefficients)
            endOfHalfWindow(history, filtered, windowEnd: _samplesProcessed &- (fill &- h), emit)
            current &+= h
            fill &-= h
        }
    }

    /// The analysis of the half-window at `current`, from its filters' values.
    @inline(__always)
    mutating func endOfHalfWindow(
        _ history: UnsafeMutablePointer<Float>, _ filtered: (s1: SIMD8<Float>, s2: SIMD8<Float>, power: Float),
        windowEnd: Int, _ emit: (Event) -> Void
    ) {
        let h = hop
        let current = UnsafePointer(history + self.current)
        let (s1, s2, halfPower) = filtered
        // y = s1 - e^{-jw} s2 is the half-window's DFT up to a phase common to both halves.
        let re = s1 - cosW * s2
        let im = sinW * s2
        if hasPrevious {
            let shiftedRe = cosHop * re + sinHop * im
            let shiftedIm = cosHop * im - sinHop * re
            let wr = previousRe + shiftedRe
            let wi = previousIm + shiftedIm
            let window = WindowSamples(earlier: current - h, later: current)
            analyze(
                energies: wr * wr + wi * wi, windowPower: previousPower + halfPower, windowEnd: windowEnd, window, emit)
        }
        previousRe = re
        previousIm = im
        previousPower = halfPower
        hasPrevious = true
    }

    @usableFromInline
    mutating func analyze(
        energies e: SIMD8<Float>, windowPower: Float, windowEnd: Int,
        _ window: WindowSamples, _ emit: (Event) -> Void
    ) {
        if active == nil {
            // With no digit sounding, `decide` only needs to know whether this window holds one: when the
            // strongest energy of each group (whichever filter has it) fails the level, twist or share gate, no
            // digit, and the full gates (which filters, and the separation test) are not needed.
            let pairs = SIMD4(e[0], e[1], e[4], e[5])
            let others = SIMD4(e[2], e[3], e[6], e[7])
            let m = pairs.replacing(with: others, where: others .> pairs)
            let maxima = m.replacing(with: SIMD4(m[1], m[0], m[3], m[2]), where: SIMD4(m[1], m[0], m[3], m[2]) .> m)
            let er = maxima[0]
            let ec = maxima[2]  // the largest energy of each group
            let share = windowPower > 0 ? shareScale * (er + ec) / windowPower : 0
            if !(er >= minimumEnergy && ec >= minimumEnergy && ec >= er * normalTwistLimit
                && ec <= er * reverseTwistLimit && share >= minimumShare)
            {
                pending = nil
                earlierEnergies = (earlierEnergies.1, e)
                earlierPowers = (earlierPowers.1, windowPower)
                return
            }
        }
        let (row, column, share, found) = windowGates(e, power: windowPower)
        decide(
            found, row: row, column: column, energies: e, power: windowPower, share: share, windowEnd: windowEnd,
            window, emit)
        earlierEnergies = (earlierEnergies.1, e)
        earlierPowers = (earlierPowers.1, windowPower)
    }

    /// One window's per-window gates (ITU-T Q.24 receiver figures), shared by the streaming path and the
    /// near-miss pass: the strongest low-group filter (`row`, 0...3) and high-group filter (`column`, 4...7),
    /// the pair's share of the window's energy, and their digit if the window passes - both above the level
    /// floor, twist within its limits, the share at least `minimumShare`, and each `relativePeakDb` above the
    /// others of its group. Inlined, with no allocation: the real-time path runs it once a window. `mutating`
    /// although it changes nothing: so the streaming path runs it on its own storage; as a non-mutating method
    /// it cost 4.5 instructions more a window (callgrind, 30 s of speech and 16 digits), as `mutating` none.
    @inlinable @inline(__always)
    mutating func windowGates(
        _ e: SIMD8<Float>, power: Float
    ) -> (row: Int, column: Int, share: Float, found: DTMFDigit?) {
        var row = 0
        var column = 4
        for i in 1..<4 where e[i] > e[row] { row = i }
        for i in 5..<8 where e[i] > e[column] { column = i }
        let er = e[row]
        let ec = e[column]
        let share = power > 0 ? shareScale * (er + ec) / power : 0
        var found: DTMFDigit?
        if er >= minimumEnergy, ec >= minimumEnergy,
            ec >= er * normalTwistLimit, ec <= er * reverseTwistLimit,
            share >= minimumShare
        {
            var separated = true
            for i in 0..<4 where i != row && e[i] * relativeFactor > er { separated = false }
            for i in 4..<8 where i != column && e[i] * relativeFactor > ec { separated = false }
            if separated { found = DTMFDigit(row: row, column: column - 4) }
        }
        return (row, column, share, found)
    }

    /// The share of a window's energy carried by filters `row` and `column`.
    @usableFromInline
    func pairShare(_ e: SIMD8<Float>, _ power: Float, row: Int, column: Int) -> Float {
        power > 0 ? shareScale * (e[row] + e[column]) / power : 0
    }

    @usableFromInline
    mutating func decide(
        _ found: DTMFDigit?, row: Int, column: Int, energies e: SIMD8<Float>, power: Float, share: Float,
        windowEnd: Int,
        _ window: WindowSamples, _ emit: (Event) -> Void
    ) {
        // The digit that is sounding continues.
        if var sounding = active {
            // Follow the tail of the sounding digit while its own two tones are still the strongest.
            if row == sounding.row && column == sounding.column {
                let covered = pairShare(e, power, row: row, column: column) / sounding.fullShare
                if covered >= 0.2 {
                    sounding.digit.endSample =
                        windowEnd - windowLength + Int((min(covered, 1) * Float(windowLength)).rounded())
                }
            }
            if let digit = found, sounding.digit.digit == digit {
                sounding.misses = 0
                sounding.fullShare = max(sounding.fullShare, share)
                active = sounding
                pending = nil
                return
            }
            sounding.misses += 1
            active = sounding
            if sounding.misses >= configuration.releaseWindows {
                emit(.ended(sounding.digit))
                active = nil
            }
        }
        guard let digit = found else {
            pending = nil
            return
        }
        var candidate: Candidate
        if let continuing = pending, continuing.digit == digit {
            candidate = continuing
            candidate.windows += 1
            candidate.fullShare = max(candidate.fullShare, share)
        } else {
            let early = (
                pairShare(earlierEnergies.0, earlierPowers.0, row: row, column: column),
                pairShare(earlierEnergies.1, earlierPowers.1, row: row, column: column),
                share
            )
            candidate = Candidate(digit: digit, windowEnd: windowEnd, earlyShares: early, fullShare: share)
        }
        let strength = e[row] + e[column]
        if strength > candidate.strongest {
            candidate.strongest = strength
            let (low, high) = measure(tones: row, column, window)
            (candidate.lowFrequency, candidate.lowLevel) = low
            (candidate.highFrequency, candidate.highLevel) = high
        }
        if candidate.windows >= configuration.confirmWindows && !candidate.rejected {
            if measuredRefusal(
                row: row, column: column,
                low: (candidate.lowFrequency, candidate.lowLevel),
                high: (candidate.highFrequency, candidate.highLevel)) == nil
            {
                if let ending = active { emit(.ended(ending.digit)) }
                let start = onset(candidate)
                let confirmed = Digit(
                    digit: digit, startSample: start, endSample: windowEnd,
                    lowLevelDbm0: candidate.lowLevel, highLevelDbm0: candidate.highLevel,
                    lowFrequency: candidate.lowFrequency, highFrequency: candidate.highFrequency)
                active = Active(digit: confirmed, row: row, column: column, fullShare: candidate.fullShare)
                emit(.began(digit, startSample: start))
                pending = nil
                return
            }
            candidate.rejected = true
        }
        pending = candidate
    }

    /// The gates a candidate's measured tones must pass (ITU-T Q.24): the twist within the normal and reverse
    /// limits, then each tone within the allowed deviation of its nominal frequency. Nil when both pass, else
    /// the first that refused with its measured value. The one check of the streaming receiver (accept or
    /// reject) and of the near-miss analysis (which gate refused); allocation-free. A NaN measurement is refused.
    @usableFromInline
    func measuredRefusal(
        row: Int, column: Int, low: (frequency: Double, dbm0: Double), high: (frequency: Double, dbm0: Double)
    ) -> DTMFNearMiss.Reason? {
        let twist = high.dbm0 - low.dbm0
        if !(twist >= -configuration.maximumNormalTwistDb && twist <= configuration.maximumReverseTwistDb) {
            return .twist(twist)
        }
        let deviation = max(abs(low.frequency / frequencies[row] - 1), abs(high.frequency / frequencies[column] - 1))
        if !(deviation <= configuration.maximumFrequencyDeviation) { return .frequency(deviation) }
        return nil
    }

    /// The first sample of a confirmed candidate: from the earliest of the windows k-2, k-1, k (k its
    /// first matching window) that its tones fill by at least a fifth.
    @usableFromInline
    func onset(_ candidate: Candidate) -> Int {
        let shares = [candidate.earlyShares.0, candidate.earlyShares.1, candidate.earlyShares.2]
        for (j, share) in shares.enumerated() {
            let covered = share / candidate.fullShare
            if covered >= 0.2 {
                let end = candidate.windowEnd - (2 - j) * hop
                return end - Int((min(covered, 1) * Float(windowLength)).rounded())
            }
        }
        return candidate.windowEnd - windowLength
    }

    /// The frequency and level of the tone near filter `tone`, measured over the current window: the
    /// frequency by reassignment, the level from the Hann-windowed DFT corrected for the measured offset.
    @usableFromInline
    func measure(tone: Int, _ window: WindowSamples) -> (frequency: Double, dbm0: Double) {
        measure(tones: tone, tone, window).0
    }

    /// ``measure(tone:_:)`` of two tones in one pass over the window.
    @usableFromInline
    func measure(
        tones first: Int, _ second: Int, _ window: WindowSamples
    ) -> ((frequency: Double, dbm0: Double), (frequency: Double, dbm0: Double)) {
        let n = windowLength
        let h = hop
        return reassignment.withUnsafeBufferPointer { table in
            let rows = UnsafeRawPointer(table.baseAddress!)
            let a = first &* n &* 16
            let b = second &* n &* 16  // byte offsets of the two tones' rows
            var sumsA = SIMD4<Float>()
            var sumsB = SIMD4<Float>()  // wr, wi, dr, di of each tone
            for half in 0..<2 {  // in time order
                let samples = half == 0 ? window.earlier : window.later
                var at = half &* h &* 16
                for j in 0..<h {
                    let x = SIMD4(repeating: samples[j])
                    sumsA += x * rows.loadUnaligned(fromByteOffset: a &+ at, as: SIMD4<Float>.self)
                    sumsB += x * rows.loadUnaligned(fromByteOffset: b &+ at, as: SIMD4<Float>.self)
                    at &+= 16
                }
            }
            return (result(sumsA, tone: first), result(sumsB, tone: second))
        }
    }

    /// The frequency and level of `tone` from its four reassignment sums.
    @usableFromInline
    func result(_ sums: SIMD4<Float>, tone: Int) -> (frequency: Double, dbm0: Double) {
        let n = windowLength
        let wr = sums[0]
        let wi = sums[1]
        let dr = sums[2]
        let di = sums[3]
        let magnitude = Double(wr) * Double(wr) + Double(wi) * Double(wi)
        guard magnitude > 0 else { return (0, -.infinity) }
        // X_d / X_w = -j (w0 - w): the imaginary part of the ratio is the offset, negated.
        let imaginary = (Double(di) * Double(wr) - Double(dr) * Double(wi)) / magnitude
        let offsetHz = -imaginary * Double(sampleRate) / (2 * Double.pi)
        // A Hann window sums to N/2, so a tone of peak A on the filter's frequency gives |X| = A N / 4;
        // off it, the window's transform falls as sinc(d) / (1 - d^2), d in bins.
        let d = offsetHz * Double(n) / Double(sampleRate)
        let kernel = abs(d) < 1e-9 ? 1 : sin(Double.pi * d) / (Double.pi * d) / (1 - d * d)
        let peak = 4 * magnitude.squareRoot() / Double(n) / max(kernel, 1e-3)
        return (frequencies[tone] + offsetHz, Level.dbm0(sinePeak: peak))
    }
}

/// The samples of one analysis window, its two half-windows wherever they are held.
@usableFromInline
struct WindowSamples {
    /// The earlier half-window's samples.
    @usableFromInline let earlier: UnsafePointer<Float>
    /// The later half-window's samples.
    @usableFromInline let later: UnsafePointer<Float>

    /// A window of two half-windows.
    @usableFromInline
    init(earlier: UnsafePointer<Float>, later: UnsafePointer<Float>) {
        self.earlier = earlier
        self.later = later
    }
}
