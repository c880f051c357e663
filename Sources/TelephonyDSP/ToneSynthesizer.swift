// Dual-tone synthesis for DTMF (ITU-T Q.23) and other call-progress tones.
//
// Each tone is a second-order recursive oscillator in double precision (y[n] = 2cos(w) y[n-1] - y[n-2]):
// the frequency is exact (no phase-accumulator or table quantisation), the harmonic distortion is that
// of the 16-bit output alone (about -98 dB), and there is no transcendental call per sample. Bursts
// start and stop with a raised-cosine envelope (4 ms by default), itself a recursion, so a tone has
// no click: its spectrum stays within a few tens of hertz of the two frequencies. Rendering is a pure
// function of the sample index, so rendering N samples at once or in any chunks gives the same bytes.

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

    @usableFromInline var lowCoefficient: Double
    @usableFromInline var lowY1: Double
    @usableFromInline var lowY2: Double
    @usableFromInline var highCoefficient: Double
    @usableFromInline var highY1: Double
    @usableFromInline var highY2: Double
    @usableFromInline let envelopeCoefficient: Double
    @usableFromInline var envelopeY1: Double = 0
    @usableFromInline var envelopeY2: Double = 0

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
        func oscillator(_ frequency: Double, _ dbm0: Double) -> (Double, Double, Double) {
            let w = 2 * Double.pi * frequency / rate
            let a = Level.sinePeak(dbm0: dbm0)
            // y[n] = a sin(w n): seed y[-1] and y[-2].
            return (2 * cos(w), -a * sin(w), -a * sin(2 * w))
        }
        (lowCoefficient, lowY1, lowY2) = oscillator(tone.lowFrequency, tone.lowLevelDbm0)
        (highCoefficient, highY1, highY2) = oscillator(tone.highFrequency, tone.highLevelDbm0)
        let ramp = Double(max(self.rampSamples, 1))
        envelopeCoefficient = 2 * cos(Double.pi / ramp)
        resetEnvelope()
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
        render(count: buffer.count) { i, value in
            let clamped = min(max(value, -32768), 32767)
            buffer[i] = Int16(clamped < 0 ? clamped - 0.5 : clamped + 0.5)
        }
    }

    /// Renders up to `buffer.count` samples as floating point on the 16-bit scale (no rounding or clipping).
    ///
    /// - Parameter buffer: where the samples go, from its start.
    /// - Returns: the number of samples written.
    @inlinable
    public mutating func render(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        render(count: buffer.count) { i, value in buffer[i] = Float(value) }
    }

    @inlinable
    mutating func render(count: Int, _ store: (Int, Double) -> Void) -> Int {
        var written = 0
        let fallStart = durationSamples - rampSamples
        while written < count && position < durationSamples {
            let regionEnd: Int
            let shape: Double   // -1: rising edge, 0: flat, +1: falling edge
            if position < rampSamples {
                regionEnd = rampSamples
                shape = -1
            } else if position < fallStart {
                regionEnd = fallStart
                shape = 0
            } else {
                if position == fallStart { resetEnvelope() }
                regionEnd = durationSamples
                shape = 1
            }
            let n = min(count - written, regionEnd - position)
            var l1 = lowY1, l2 = lowY2, h1 = highY1, h2 = highY2
            let lc = lowCoefficient, hc = highCoefficient
            if shape == 0 {
                for i in written..<(written + n) {
                    let l = lc * l1 - l2
                    let h = hc * h1 - h2
                    l2 = l1; l1 = l; h2 = h1; h1 = h
                    store(i, l + h)
                }
            } else {
                var e1 = envelopeY1, e2 = envelopeY2
                let ec = envelopeCoefficient
                for i in written..<(written + n) {
                    let l = lc * l1 - l2
                    let h = hc * h1 - h2
                    let e = ec * e1 - e2   // cos(pi (k + 0.5) / ramp)
                    l2 = l1; l1 = l; h2 = h1; h1 = h; e2 = e1; e1 = e
                    store(i, (l + h) * 0.5 * (1 + shape * e))
                }
                envelopeY1 = e1
                envelopeY2 = e2
            }
            lowY1 = l1; lowY2 = l2; highY1 = h1; highY2 = h2
            _position += n
            written += n
        }
        return written
    }

    @usableFromInline
    mutating func resetEnvelope() {
        let ramp = Double(max(rampSamples, 1))
        // e[k] = cos(pi (k + 0.5) / ramp): seed e[-1] and e[-2].
        envelopeY1 = cos(-0.5 * Double.pi / ramp)
        envelopeY2 = cos(-1.5 * Double.pi / ramp)
    }
}
