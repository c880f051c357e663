// The receiver's AVX filter kernel (CTelephonyKernels) against its portable Swift filter: the same values to the
// bit, so the digits a receiver reports do not depend on the processor it runs on.

import Recordings
import TestSupport
import Testing

@testable import TelephonyDSP

@Suite("DTMF receiver filter kernels")
struct DTMFFilterKernelTests {
    /// A reproducible pseudo-random generator (xorshift64*), so that a failure names its input.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        /// A sample on the 16-bit scale, of a random magnitude from 2^-8 to 2^15.
        mutating func sample() -> Float {
            let unit = Float(next() >> 40) / Float(1 << 24) * 2 - 1
            return unit * Float(1 << (next() % 24)) / 256
        }
    }

    @Test(
        .enabled(if: DTMFDetector.FilterKernel.fastest == .avx, "this processor has no AVX"),
        arguments: [8000, 11025, 16000, 22050, 32000, 44100, 48000])
    func avxFilterEqualsThePortableFilterToTheBit(sampleRate: Int) throws {
        let detector = try DTMFDetector(sampleRate: sampleRate)
        let n = detector.hop
        var generator = Generator(state: UInt64(sampleRate) &* 0x9E37_79B9_7F4A_7C15 | 1)
        for round in 0..<200 {
            // 3 samples of garbage (NaN included) before the half-window: both kernels must clear them.
            var buffer = [Float](repeating: .nan, count: 3) + (0..<n).map { _ in generator.sample() }
            if round % 50 == 0 { buffer[3] = 0 }
            buffer.withUnsafeBufferPointer { all in
                let x = all.baseAddress! + 3
                let portable = DTMFDetector.filter(
                    UnsafeRawPointer(x), count: n, leadMask: detector.leadMask,
                    coefficients: detector.coefficients, doubleAngleCoefficients: detector.doubleAngleCoefficients)
                let avx = DTMFDetector.filterAVX(
                    x, count: n, coefficients: detector.coefficients,
                    doubleAngleCoefficients: detector.doubleAngleCoefficients)
                for lane in 0..<8 {
                    #expect(
                        portable.s1[lane].bitPattern == avx.s1[lane].bitPattern,
                        "rate \(sampleRate) round \(round) s1[\(lane)]")
                    #expect(
                        portable.s2[lane].bitPattern == avx.s2[lane].bitPattern,
                        "rate \(sampleRate) round \(round) s2[\(lane)]")
                }
                #expect(portable.power.bitPattern == avx.power.bitPattern, "rate \(sampleRate) round \(round) power")
                // The paired kernel (two half-windows at once), with this half-window in both places.
                let (pairedFirst, pairedAVX) = DTMFDetector.filterAVX(
                    x, x, count: n, coefficients: detector.coefficients,
                    doubleAngleCoefficients: detector.doubleAngleCoefficients)
                #expect(pairedFirst.s1 == pairedAVX.s1 && pairedFirst.s2 == pairedAVX.s2)
                for lane in 0..<8 {
                    #expect(
                        portable.s1[lane].bitPattern == pairedAVX.s1[lane].bitPattern,
                        "paired, rate \(sampleRate) round \(round)")
                    #expect(
                        portable.s2[lane].bitPattern == pairedAVX.s2[lane].bitPattern,
                        "paired, rate \(sampleRate) round \(round)")
                }
                #expect(
                    portable.power.bitPattern == pairedAVX.power.bitPattern, "paired, rate \(sampleRate) round \(round)"
                )
            }
        }
    }

    @Test(.enabled(if: DTMFDetector.FilterKernel.fastest == .avx, "this processor has no AVX"))
    func bothKernelsReportTheSameDigitsOnSpeechAndDigits() throws {
        let speech = try AudioFile.read(testAudioPath("speech/talkoff-8k-ulaw.wav"))
        var signal = speech.samples.map { Int16(clamping: Int($0.rounded())) }
        let train = digitTrain(sampleRate: speech.sampleRate, toneMs: 45, pauseMs: 40, lowDbm0: -20, highDbm0: -16)
        for (i, sample) in train.pcm16.enumerated() where i < signal.count {  // digits under the speech, too
            signal[i] = Int16(clamping: Int(signal[i]) / 4 + Int(sample))
        }
        signal += train.pcm16
        func events(_ kernel: DTMFDetector.FilterKernel) throws -> [DTMFDetector.Event] {
            var detector = try DTMFDetector(sampleRate: speech.sampleRate)
            detector.filterKernel = kernel
            var found: [DTMFDetector.Event] = []
            signal.withUnsafeBufferPointer { all in
                var at = 0
                while at < all.count {  // 20 ms frames, as a call delivers them
                    let end = min(at + 160, all.count)
                    detector.process(UnsafeBufferPointer(rebasing: all[at..<end])) { found.append($0) }
                    at = end
                }
            }
            detector.finish { found.append($0) }
            return found
        }
        let portable = try events(.portable)
        let avx = try events(.avx)
        #expect(portable.count >= 32, "the train's 16 digits, began and ended")
        #expect(portable == avx)
    }
}
