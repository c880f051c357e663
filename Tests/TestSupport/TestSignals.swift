import Foundation
import TelephonyDSP

#if canImport(Glibc)
import Glibc
#endif

/// Deterministic noise source for reproducible tests (SplitMix64).
package struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A standard normal deviate (Box-Muller).
    package mutating func gaussian() -> Double {
        let u1 = max(Double.random(in: 0..<1, using: &self), 1e-300)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Builds test signals on the 16-bit scale as Float, independently of the synthesizer under test:
/// plain sines with rectangular edges, as a test tape has.
package struct SignalBuilder {
    package let sampleRate: Int
    package var samples: [Float] = []

    package init(sampleRate: Int) { self.sampleRate = sampleRate }

    package func count(ms: Double) -> Int { Int((ms * Double(sampleRate) / 1000).rounded()) }

    package mutating func silence(ms: Double) {
        samples.append(contentsOf: repeatElement(0, count: count(ms: ms)))
    }

    package mutating func tones(_ parts: [(frequency: Double, dbm0: Double)], ms: Double) {
        let n = count(ms: ms)
        let start = samples.count
        for i in 0..<n {
            var v = 0.0
            for p in parts {
                v +=
                    Level.sinePeak(dbm0: p.dbm0)
                    * sin(2 * Double.pi * p.frequency * Double(start + i) / Double(sampleRate))
            }
            samples.append(Float(v))
        }
    }

    package mutating func digit(
        _ digit: DTMFDigit, ms: Double, lowDbm0: Double = -10, highDbm0: Double = -10,
        lowOffset: Double = 0, highOffset: Double = 0
    ) {
        tones(
            [(digit.lowFrequency * (1 + lowOffset), lowDbm0), (digit.highFrequency * (1 + highOffset), highDbm0)],
            ms: ms)
    }

    /// Adds white Gaussian noise of the given RMS over the whole signal.
    package mutating func addNoise(rms: Double, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for i in samples.indices { samples[i] += Float(rms * rng.gaussian()) }
    }

    /// The signal as 16-bit PCM (rounded, saturated).
    package var pcm16: [Int16] {
        samples.map { Int16(max(-32768, min(32767, $0.rounded()))) }
    }
}

/// Runs a fresh default detector over `samples`. Throws when the detector cannot be made at `sampleRate`, so
/// that an expectation of "no digit" never passes because nothing was listening.
package func detectDigits(_ samples: [Float], sampleRate: Int) throws -> [DTMFDetector.Digit] {
    var detector = try DTMFDetector(sampleRate: sampleRate)
    return detector.detect(samples)
}

/// Runs a fresh default detector over 16-bit `samples`; throws when the detector cannot be made.
package func detectDigits(_ samples: [Int16], sampleRate: Int) throws -> [DTMFDetector.Digit] {
    var detector = try DTMFDetector(sampleRate: sampleRate)
    return detector.detect(samples)
}

package func text(_ digits: [DTMFDetector.Digit]) -> String {
    String(digits.map(\.digit.character))
}

/// The path of a file under TestAudio/.
package func testAudioPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TestAudio").appendingPathComponent(relative).path
}
