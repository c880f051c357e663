// Dual-tone synthesis for DTMF (ITU-T Q.23) and other call-progress tones.
//
// Each tone is a second-order recursive oscillator (y[n] = 2cos(w) y[n-1] - y[n-2]): the frequency is
// exact (no phase-accumulator or table quantisation) and there is no transcendental call per sample.
// - The raised-cosine edges (4 ms by default, so a tone has no click: its spectrum stays within a few
//   tens of hertz of the two frequencies) run one sample at a time in double precision; the envelope is
//   itself a recursion.
// - Between them, four samples are computed at once: y[n] = 2cos(4w) y[n-4] - y[n-8] makes four
//   independent recursions that fill one SIMD4<Float>, with rounding to 16 bits done four at a time.
//   Float keeps the distortion about 85 dB below the tones even over 10 s at 48 kHz.
// Every region is seeded from the closed form A sin(w n) at its first sample and computed in blocks
// anchored to that sample, so rendering N samples at once or in any chunks gives the same bytes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pair of simultaneous sine waves with their levels: a DTMF digit or any dual tone.
public struct DualTone: Sendable, Hashable {
    /// Low-group frequency in hertz.
    public var lowFrequency: Double
    /// High-group frequency in hertz.
    public var highFrequency: Double
    /// Level of the low-group tone in dBm0.
    public var lowLevelDbm0: Double
    /// Level of the high-group tone in dBm0.
    public var highLevelDbm0: Double

    /// Creates a dual tone from its frequencies and per-tone levels.
    public init(lowFrequency: Double, highFrequency: Double, lowLevelDbm0: Double, highLevelDbm0: Double) {
        self.lowFrequency = lowFrequency
        self.highFrequency = highFrequency
        self.lowLevelDbm0 = lowLevelDbm0
        self.highLevelDbm0 = highLevelDbm0
    }

    /// The Q.23 tone pair of `digit`.
    ///
    /// - Parameters:
    ///   - digit: the DTMF digit.
    ///   - levelDbm0: level of the low-group tone in dBm0.
    ///   - twistDb: level of the high-group tone relative to the low-group tone, in dB.
    public init(digit: DTMFDigit, levelDbm0: Double, twistDb: Double) {
        self.init(
            lowFrequency: digit.lowFrequency, highFrequency: digit.highFrequency,
            lowLevelDbm0: levelDbm0, highLevelDbm0: levelDbm0 + twistDb)
    }

    /// The highest absolute value the sum of the two tones reaches, on the 16-bit scale.
    public var peak: Double { Level.sinePeak(dbm0: lowLevelDbm0) + Level.sinePeak(dbm0: highLevelDbm0) }
}

/// Renders one dual-tone burst of a fixed length, phase-continuously, in chunks of any size.
///
/// The burst's first and last `rampSamples` samples are shaped by a raised cosine; between them
/// the two tones play at full level. Create one per burst: it holds a few doubles and no heap storage.
public struct ToneSynthesizer: Sendable {
    /// The burst's length in samples.
    public let durationSamples: Int
    /// The length of each raised-cosine edge in samples.
    public let rampSamples: Int
    /// Samples rendered so far.
    public var position: Int { _position }
    @usableFromInline var _position: Int = 0

    // Closed form of each tone: amplitude and radians per sample.
    @usableFromInline let lowAmplitude: Double
    @usableFromInline let lowOmega: Double
    @usableFromInline let highAmplitude: Double
    @usableFromInline let highOmega: Double
    // Edges: one-sample recursions in double precision.
    @usableFromInline let lowCoefficient: Double
    @usableFromInline let highCoefficient: Double
    @usableFromInline var lowY1: Double = 0
    @usableFromInline var lowY2: Double = 0
    @usableFromInline var highY1: Double = 0
    @usableFromInline var highY2: Double = 0
    @usableFromInline let envelopeCoefficient: Double
    @usableFromInline var envelopeY1: Double = 0
    @usableFromInline var envelopeY2: Double = 0
    // Flat part: four-sample blocks, y[n] = 2cos(4w) y[n-4] - y[n-8].
    @usableFromInline let lowBlockCoefficient: Float
    @usableFromInline let highBlockCoefficient: Float
    @usableFromInline var lowBlock1 = SIMD4<Float>()
    @usableFromInline var lowBlock2 = SIMD4<Float>()
    @usableFromInline var highBlock1 = SIMD4<Float>()
    @usableFromInline var highBlock2 = SIMD4<Float>()
    @usableFromInline var pending = SIMD4<Float>()   // the current block, when a chunk ended inside it
    @usableFromInline var pendingUsed = 4
    // Seeds, computed once by init so that rendering calls no trigonometric function.
    @usableFromInline let fallSeed: SIMD4<Double>          // low y1, low y2, high y1, high y2 at the falling edge
    @usableFromInline let blockSeeds: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)
    @usableFromInline let envelopeSeed: (Double, Double)

    /// The default edge length: 4 ms.
    public static let defaultRampMilliseconds: Double = 4

    /// The sample rates the synthesizer supports.
    public static let supportedSampleRates: ClosedRange<Int> = 8000...48000

    /// Creates a synthesizer for one burst of `tone`.
    ///
    /// - Parameters:
    ///   - tone: the two frequencies and their levels; both frequencies must be below the Nyquist frequency.
    ///   - sampleRate: samples per second, 8000...48000.
    ///   - durationSamples: the burst's length in samples.
    ///   - rampSamples: the edge length; `nil` for the default (4 ms, at most a quarter of the burst).
    /// - Throws: ``TelephonyDSPError`` for an unsupported rate, a frequency at or above Nyquist, or a
    ///   negative duration.
    public init(tone: DualTone, sampleRate: Int, durationSamples: Int, rampSamples: Int? = nil) throws(TelephonyDSPError) {
        guard ToneSynthesizer.supportedSampleRates.contains(sampleRate) else {
            throw .unsupportedSampleRate(sampleRate, supported: ToneSynthesizer.supportedSampleRates)
        }
        let nyquist = Double(sampleRate) / 2
        for (name, f) in [("low frequency", tone.lowFrequency), ("high frequency", tone.highFrequency)] {
            guard f > 0, f < nyquist else { throw .outOfRange(name, f, 1...(nyquist - 1), unit: "Hz") }
        }
        guard durationSamples >= 0 else {
            throw .outOfRange("duration", Double(durationSamples), 0...Double(Int32.max), unit: "samples")
        }
        self.durationSamples = durationSamples
        let defaultRamp = Int((ToneSynthesizer.defaultRampMilliseconds * Double(sampleRate) / 1000).rounded())
        self.rampSamples = max(0, min(rampSamples ?? min(defaultRamp, durationSamples / 4), durationSamples / 2))

        let rate = Double(sampleRate)
        let lowOmega = 2 * Double.pi * tone.lowFrequency / rate
        let highOmega = 2 * Double.pi * tone.highFrequency / rate
        let lowAmplitude = Level.sinePeak(dbm0: tone.lowLevelDbm0)
        let highAmplitude = Level.sinePeak(dbm0: tone.highLevelDbm0)
        self.lowOmega = lowOmega
        self.highOmega = highOmega
        self.lowAmplitude = lowAmplitude
        self.highAmplitude = highAmplitude
        lowCoefficient = 2 * cos(lowOmega)
        highCoefficient = 2 * cos(highOmega)
        lowBlockCoefficient = Float(2 * cos(4 * lowOmega))
        highBlockCoefficient = Float(2 * cos(4 * highOmega))
        let ramp = Double(max(self.rampSamples, 1))
        envelopeCoefficient = 2 * cos(Double.pi / ramp)
        // e[k] = cos(pi (k + 0.5) / ramp): seed e[-1] and e[-2].
        envelopeSeed = (cos(-0.5 * Double.pi / ramp), cos(-1.5 * Double.pi / ramp))

        // y[n] = A sin(w n) for each tone: the edges start from y[n-1], y[n-2]; the blocks from y[n-4+j], y[n-8+j].
        func edgeSeed(_ n: Int) -> SIMD4<Double> {
            let m = Double(n)
            return SIMD4(lowAmplitude * sin(lowOmega * (m - 1)), lowAmplitude * sin(lowOmega * (m - 2)),
                         highAmplitude * sin(highOmega * (m - 1)), highAmplitude * sin(highOmega * (m - 2)))
        }
        func blockSeed(_ n: Int, _ back: Double, _ amplitude: Double, _ omega: Double) -> SIMD4<Float> {
            var v = SIMD4<Float>()
            for j in 0..<4 { v[j] = Float(amplitude * sin(omega * (Double(n + j) - back))) }
            return v
        }
        let start = edgeSeed(0)
        fallSeed = edgeSeed(durationSamples - self.rampSamples)
        let flat = self.rampSamples
        blockSeeds = (blockSeed(flat, 4, lowAmplitude, lowOmega), blockSeed(flat, 8, lowAmplitude, lowOmega),
                      blockSeed(flat, 4, highAmplitude, highOmega), blockSeed(flat, 8, highAmplitude, highOmega))
        restartEdge(start)
    }

    /// Loads the one-sample recursions from a seed and restarts the envelope.
    @usableFromInline
    mutating func restartEdge(_ seed: SIMD4<Double>) {
        lowY1 = seed[0]; lowY2 = seed[1]; highY1 = seed[2]; highY2 = seed[3]
        (envelopeY1, envelopeY2) = envelopeSeed
    }

    /// Loads the block recursions so that their next block starts at the flat part's first sample.
    @usableFromInline
    mutating func restartBlocks() {
        (lowBlock1, lowBlock2, highBlock1, highBlock2) = blockSeeds
        pendingUsed = 4
    }

    /// Samples still to render.
    @inlinable
    public var remaining: Int { durationSamples - position }

    /// Renders up to `buffer.count` samples as 16-bit linear PCM (rounded, saturated).
    ///
    /// - Parameter buffer: where the samples go, from its start.
    /// - Returns: the number of samples written (less than `buffer.count` once the burst ends).
    @inlinable
    public mutating func render(into buffer: UnsafeMutableBufferPointer<Int16>) -> Int {
        render(count: buffer.count, store: { i, value in
            // Branchless round to nearest (even): adding 1.5 * 2^52 leaves the rounded integer in the low bits.
            let clamped = min(max(value, -32768), 32767)
            buffer[i] = Int16(truncatingIfNeeded: (clamped + 6_755_399_441_055_744.0).bitPattern)
        }, storeBlock: { i, block in
            // The same rounding four at a time in single precision (1.5 * 2^23), exact below 2^22.
            let clamped = pointwiseMin(pointwiseMax(block, SIMD4(repeating: -32768)), SIMD4(repeating: 32767))
            let bits = unsafeBitCast(clamped + SIMD4(repeating: 12_582_912), to: SIMD4<UInt32>.self)
            let out = buffer.baseAddress! + i
            out[0] = Int16(truncatingIfNeeded: bits[0])
            out[1] = Int16(truncatingIfNeeded: bits[1])
            out[2] = Int16(truncatingIfNeeded: bits[2])
            out[3] = Int16(truncatingIfNeeded: bits[3])
        })
    }

    /// Renders up to `buffer.count` samples as floating point on the 16-bit scale (no rounding or clipping).
    ///
    /// - Parameter buffer: where the samples go, from its start.
    /// - Returns: the number of samples written.
    @inlinable
    public mutating func render(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        render(count: buffer.count, store: { i, value in buffer[i] = Float(value) }, storeBlock: { i, block in
            UnsafeMutableRawPointer(buffer.baseAddress! + i).storeBytes(of: block, as: SIMD4<Float>.self)
        })
    }

    @inlinable
    mutating func render(count: Int, store: (Int, Double) -> Void, storeBlock: (Int, SIMD4<Float>) -> Void) -> Int {
        var written = 0
        let fallStart = durationSamples - rampSamples
        while written < count && position < durationSamples {
            if position < rampSamples {
                written += renderEdge(count: min(count - written, rampSamples - position), at: written, rising: true, store)
            } else if position < fallStart {
                if position == rampSamples && pendingUsed == 4 { restartBlocks() }
                written += renderFlat(count: min(count - written, fallStart - position), at: written, store, storeBlock)
            } else {
                if position == fallStart { restartEdge(fallSeed) }
                written += renderEdge(count: min(count - written, durationSamples - position), at: written, rising: false, store)
            }
        }
        return written
    }

    @inlinable
    mutating func renderEdge(count n: Int, at offset: Int, rising: Bool, _ store: (Int, Double) -> Void) -> Int {
        var l1 = lowY1, l2 = lowY2, h1 = highY1, h2 = highY2, e1 = envelopeY1, e2 = envelopeY2
        let lc = lowCoefficient, hc = highCoefficient, ec = envelopeCoefficient
        let shape: Double = rising ? -1 : 1
        for i in offset..<(offset + n) {
            let l = lc * l1 - l2
            let h = hc * h1 - h2
            let e = ec * e1 - e2   // cos(pi (k + 0.5) / ramp)
            l2 = l1; l1 = l; h2 = h1; h1 = h; e2 = e1; e1 = e
            store(i, (l + h) * 0.5 * (1 + shape * e))
        }
        lowY1 = l1; lowY2 = l2; highY1 = h1; highY2 = h2; envelopeY1 = e1; envelopeY2 = e2
        _position += n
        return n
    }

    @inlinable
    mutating func renderFlat(
        count n: Int, at offset: Int, _ store: (Int, Double) -> Void, _ storeBlock: (Int, SIMD4<Float>) -> Void
    ) -> Int {
        var i = offset
        let end = offset + n
        // Finish a block that the previous chunk started.
        while pendingUsed < 4 && i < end {
            store(i, Double(pending[pendingUsed]))
            pendingUsed += 1
            i += 1
        }
        var l1 = lowBlock1, l2 = lowBlock2, h1 = highBlock1, h2 = highBlock2
        let lc = SIMD4(repeating: lowBlockCoefficient), hc = SIMD4(repeating: highBlockCoefficient)
        while end - i >= 4 {
            let l = lc * l1 - l2
            let h = hc * h1 - h2
            l2 = l1; l1 = l; h2 = h1; h1 = h
            storeBlock(i, l + h)
            i += 4
        }
        if i < end {
            let l = lc * l1 - l2
            let h = hc * h1 - h2
            l2 = l1; l1 = l; h2 = h1; h1 = h
            pending = l + h
            pendingUsed = 0
            while i < end {
                store(i, Double(pending[pendingUsed]))
                pendingUsed += 1
                i += 1
            }
        }
        lowBlock1 = l1; lowBlock2 = l2; highBlock1 = h1; highBlock2 = h2
        _position += n
        return n
    }
}
