import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

@Suite("Resampling (libsoxr HQ)")
struct ResamplerTests {
    func sine(_ frequency: Double, dbm0: Double, rate: Int, seconds: Double) -> [Float] {
        var s = SignalBuilder(sampleRate: rate)
        s.tones([(frequency, dbm0)], ms: seconds * 1000)
        return s.samples
    }

    @Test(arguments: [48000, 44100, 16000, 22050])
    func aOneKilohertzSineKeepsItsFrequencyAndLevel(inputRate: Int) throws {
        let input = sine(1000, dbm0: -10, rate: inputRate, seconds: 1.2)
        let output = try Resampler.resample(input, from: inputRate, to: 8000)
        #expect(abs(output.count - 9600) <= 1)
        let middle = Array(output[800..<8800])  // one whole second, away from the filter's edges
        let frequency = Spectrum.frequency(middle, near: 1000, sampleRate: 8000)
        let level = Level.dbm0(sinePeak: Spectrum.amplitude(middle, frequency: 1000, sampleRate: 8000))
        print("resample \(inputRate) -> 8000 Hz: 1 kHz at \(formatted(frequency, 4)) Hz, \(formatted(level, 3)) dBm0")
        // README: "keeps its frequency (±0.0001 Hz) and level (±0.001 dB)"; held at 0.0002 Hz and 0.002 dB.
        #expect(abs(frequency - 1000) < 0.0002)
        #expect(abs(level - -10) < 0.002)
    }

    @Test func toneAboveTheTargetNyquistIsRemoved() throws {
        // 6 kHz at 48 kHz has no place at 8 kHz (Nyquist 4 kHz): it must not fold back to 2 kHz.
        let input = sine(6000, dbm0: -3, rate: 48000, seconds: 1.2)
        let output = try Resampler.resample(input, from: 48000, to: 8000)
        let middle = Array(output[800..<8800])
        let rms = (middle.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(middle.count)).squareRoot()
        let alias = Level.dbm0(sinePeak: Spectrum.amplitude(middle, frequency: 2000, sampleRate: 8000))
        let attenuation = -3 - Level.dbm0(rms: rms)
        print(
            "6 kHz at 48 kHz -> 8 kHz: \(formatted(attenuation, 1)) dB down, 2 kHz alias at \(formatted(alias, 1)) dBm0"
        )
        #expect(attenuation >= 140)  // README: 144 dB down
    }

    @Test func equalRatesReturnTheInput() throws {
        let input = sine(440, dbm0: -20, rate: 8000, seconds: 0.1)
        #expect(try Resampler.resample(input, from: 8000, to: 8000) == input)
    }
}
