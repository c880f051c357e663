// The receiver conformance suite, section by section as on the Mitel test tape (bandwidth, twist,
// dynamic range, guard time, S/N, talk-off), against the ITU-T Q.24 figures. Each test
// asserts the pass/fail points and prints the measured figures, as spandsp's dtmf_rx test does.

import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

let allDigits = DTMFDigit.allCases
let rates = [8000, 16000, 48000]

/// All 16 digits, each as a tone burst followed by a pause.
func digitTrain(
    sampleRate: Int, toneMs: Double = 50, pauseMs: Double = 50,
    lowDbm0: Double = -10, highDbm0: Double = -10, lowOffset: Double = 0, highOffset: Double = 0,
    digits: [DTMFDigit] = allDigits
) -> SignalBuilder {
    var s = SignalBuilder(sampleRate: sampleRate)
    s.silence(ms: pauseMs)
    for d in digits {
        s.digit(d, ms: toneMs, lowDbm0: lowDbm0, highDbm0: highDbm0, lowOffset: lowOffset, highOffset: highOffset)
        s.silence(ms: pauseMs)
    }
    return s
}

let all16 = String(allDigits.map(\.character))

@Suite("DTMF receiver conformance")
struct DTMFDetectorConformanceTests {
    // MARK: - Round trip

    @Test(arguments: rates)
    func everyDigitRoundTripsThroughPCM16MuLawAndALaw(sampleRate: Int) throws {
        let dial = try DialString(all16)
        let audio = try DTMFGenerator.render(dial, sampleRate: sampleRate)
        for encoding in SampleEncoding.allCases {
            let received = audio.map(encoding.roundTrip)
            let found = try detectDigits(received, sampleRate: sampleRate)
            #expect(text(found) == all16, "\(encoding) at \(sampleRate) Hz")
        }
    }

    // MARK: - Bandwidth

    @Test(arguments: rates)
    func frequencyErrorsOfOneAndAHalfPercentAreAcceptedForEveryDigit(sampleRate: Int) throws {
        for (low, high) in [
            (0.015, 0.0), (-0.015, 0.0), (0.0, 0.015), (0.0, -0.015),
            (0.015, 0.015), (-0.015, -0.015), (0.015, -0.015), (-0.015, 0.015),
        ] {
            let s = digitTrain(sampleRate: sampleRate, lowOffset: low, highOffset: high)
            #expect(
                text(try detectDigits(s.samples, sampleRate: sampleRate)) == all16, "offsets low \(low) high \(high)")
        }
    }

    @Test(arguments: rates)
    func frequencyErrorsOfThreeAndAHalfPercentAreRejectedForEveryDigit(sampleRate: Int) throws {
        for (low, high) in [(0.035, 0.0), (-0.035, 0.0), (0.0, 0.035), (0.0, -0.035)] {
            let s = digitTrain(sampleRate: sampleRate, lowOffset: low, highOffset: high)
            #expect(text(try detectDigits(s.samples, sampleRate: sampleRate)) == "", "offsets low \(low) high \(high)")
        }
    }

    @Test func measuredBandwidthOfEachFrequency() throws {
        // Sweep each frequency in 0.1 % steps, the other tone at nominal, and print the accepted band.
        print("Bandwidth (8 kHz, 50 ms tones, -10 dBm0): accepted frequency error per tone")
        for (index, frequency) in (DTMFDigit.lowGroupFrequencies + DTMFDigit.highGroupFrequencies).enumerated() {
            let isLow = index < 4
            let digit = isLow ? DTMFDigit(row: index, column: 1) : DTMFDigit(row: 1, column: index - 4)
            func accepted(_ offset: Double) throws -> Bool {
                let s = digitTrain(
                    sampleRate: 8000, lowOffset: isLow ? offset : 0, highOffset: isLow ? 0 : offset, digits: [digit])
                return text(try detectDigits(s.samples, sampleRate: 8000)) == String(digit.character)
            }
            var upper = 0.0
            var lower = 0.0
            while try upper < 0.06 && accepted(upper + 0.001) { upper += 0.001 }
            while try lower > -0.06 && accepted(lower - 0.001) { lower -= 0.001 }
            print("  \(Int(frequency)) Hz: \(formatted(lower * 100, 1)) % ... +\(formatted(upper * 100, 1)) %")
            #expect(upper >= 0.015 && upper < 0.035 && lower <= -0.015 && lower > -0.035)
        }
    }

    // MARK: - Twist

    @Test(arguments: rates)
    func twistOfEightDecibelsNormalAndFourReverseIsAccepted(sampleRate: Int) throws {
        let normal = digitTrain(sampleRate: sampleRate, lowDbm0: -8, highDbm0: -16)
        let reverse = digitTrain(sampleRate: sampleRate, lowDbm0: -14, highDbm0: -10)
        #expect(text(try detectDigits(normal.samples, sampleRate: sampleRate)) == all16)
        #expect(text(try detectDigits(reverse.samples, sampleRate: sampleRate)) == all16)
    }

    @Test(arguments: rates)
    func twistOfTwelveDecibelsEitherWayIsRejected(sampleRate: Int) throws {
        let normal = digitTrain(sampleRate: sampleRate, lowDbm0: -6, highDbm0: -18)
        let reverse = digitTrain(sampleRate: sampleRate, lowDbm0: -18, highDbm0: -6)
        #expect(text(try detectDigits(normal.samples, sampleRate: sampleRate)) == "")
        #expect(text(try detectDigits(reverse.samples, sampleRate: sampleRate)) == "")
    }

    @Test func measuredTwistLimits() throws {
        func accepted(_ twist: Double) throws -> Bool {
            let s = digitTrain(sampleRate: 8000, lowDbm0: -10, highDbm0: -10 + twist)
            return text(try detectDigits(s.samples, sampleRate: 8000)) == all16
        }
        var reverse = 0.0
        var normal = 0.0
        while try reverse < 20 && accepted(reverse + 0.5) { reverse += 0.5 }
        while try normal > -20 && accepted(normal - 0.5) { normal -= 0.5 }
        print(
            "Twist (all 16 digits): accepted from \(formatted(-normal, 1)) dB normal to \(formatted(reverse, 1)) dB reverse"
        )
        #expect(-normal >= 9 && -normal <= 10 && reverse >= 7 && reverse <= 8)  // README: 9.5 dB normal, 7.5 dB reverse
    }

    // MARK: - Dynamic range

    @Test(arguments: rates)
    func levelsFromZeroDownToMinus25Dbm0AreAccepted(sampleRate: Int) throws {
        for level in [0.0, -5, -10, -15, -20, -25] {
            let s = digitTrain(sampleRate: sampleRate, lowDbm0: level, highDbm0: level)
            // 0 dBm0 per tone peaks above 16-bit full scale, so feed the unclipped signal.
            #expect(text(try detectDigits(s.samples, sampleRate: sampleRate)) == all16, "\(level) dBm0")
        }
    }

    @Test(arguments: rates)
    func levelsOfMinus45Dbm0AreIgnored(sampleRate: Int) throws {
        let s = digitTrain(sampleRate: sampleRate, lowDbm0: -45, highDbm0: -45)
        #expect(text(try detectDigits(s.samples, sampleRate: sampleRate)) == "")
    }

    @Test func clippedZeroDbm0TonesInSixteenBitsAreStillAccepted() throws {
        let s = digitTrain(sampleRate: 8000, lowDbm0: 0, highDbm0: 0)
        #expect(text(try detectDigits(s.pcm16, sampleRate: 8000)) == all16)
    }

    @Test func measuredSensitivityAndReportedLevels() throws {
        var level = -20.0
        while try level > -50
            && text(
                detectDigits(
                    digitTrain(sampleRate: 8000, lowDbm0: level - 0.5, highDbm0: level - 0.5).samples, sampleRate: 8000)
            ) == all16
        {
            level -= 0.5
        }
        print("Dynamic range: all 16 digits detected down to \(formatted(level, 1)) dBm0 per tone")
        #expect(level <= -34 && level > -45)  // README: "detected down to -34 dBm0 per tone"
        let found = try detectDigits(
            digitTrain(sampleRate: 8000, lowDbm0: -13, highDbm0: -11).samples, sampleRate: 8000)
        let worst = found.map { max(abs($0.lowLevelDbm0 + 13), abs($0.highLevelDbm0 + 11)) }.max() ?? 99
        print("Reported levels: within \(formatted(worst, 2)) dB of the true -13/-11 dBm0")
        #expect(worst < 0.08)  // README: "reported levels within 0.07 dB"
    }

    // MARK: - Guard time

    @Test(arguments: rates)
    func fortyMillisecondTonesWithFortyMillisecondPausesAreAllDetected(sampleRate: Int) throws {
        let s = digitTrain(sampleRate: sampleRate, toneMs: 40, pauseMs: 40)
        #expect(text(try detectDigits(s.samples, sampleRate: sampleRate)) == all16)
        let repeated = digitTrain(
            sampleRate: sampleRate, toneMs: 40, pauseMs: 40, digits: Array(repeating: .five, count: 10))
        #expect(text(try detectDigits(repeated.samples, sampleRate: sampleRate)) == "5555555555")
    }

    @Test(arguments: rates)
    func twentyMillisecondTonesAreRejected(sampleRate: Int) throws {
        let s = digitTrain(sampleRate: sampleRate, toneMs: 20, pauseMs: 40)
        #expect(text(try detectDigits(s.samples, sampleRate: sampleRate)) == "")
    }

    @Test func measuredMinimumDuration() throws {
        // Both the shortest tone detected every time and the longest never detected, over 16 digits and 8 phases.
        var always = 0.0
        var never = 0.0
        for ms in stride(from: 15.0, through: 45.0, by: 0.5) {
            var hits = 0
            for shift in 0..<8 {
                var s = SignalBuilder(sampleRate: 8000)
                s.silence(ms: 40 + Double(shift) * 0.8)
                for d in allDigits {
                    s.digit(d, ms: ms)
                    s.silence(ms: 60)
                }
                hits += try detectDigits(s.samples, sampleRate: 8000).count
            }
            if hits == 0 { never = ms }
            if hits == 128 && always == 0 { always = ms }
        }
        print("Duration: rejected up to \(formatted(never, 1)) ms, accepted from \(formatted(always, 1)) ms")
        #expect(never >= 25 && always <= 33)  // README: "rejected up to 25 ms, accepted from 33 ms"
    }

    @Test func aTenMillisecondInterruptionDoesNotSplitADigit() throws {
        var s = SignalBuilder(sampleRate: 8000)
        s.silence(ms: 50)
        s.digit(.seven, ms: 100)
        s.silence(ms: 10)
        s.digit(.seven, ms: 100)
        s.silence(ms: 50)
        #expect(text(try detectDigits(s.samples, sampleRate: 8000)) == "7")
    }

    /// Whether `pauseMs` separates two 100 ms tones of every digit at 8 phases of the receiver's window.
    func pauseAlwaysSeparates(_ pauseMs: Double, sampleRate: Int) throws -> Bool {
        for shift in 0..<8 {
            for digit in allDigits {
                var s = SignalBuilder(sampleRate: sampleRate)
                s.silence(ms: 40 + Double(shift) * 0.8)
                s.digit(digit, ms: 100)
                s.silence(ms: pauseMs)
                s.digit(digit, ms: 100)
                s.silence(ms: 60)
                if text(try detectDigits(s.samples, sampleRate: sampleRate))
                    != String(repeating: digit.character, count: 2)
                {
                    return false
                }
            }
        }
        return true
    }

    @Test func measuredShortestPauseThatAlwaysSeparatesTwoDigits() throws {
        var shortest = 40.0
        while try shortest > 10 && pauseAlwaysSeparates(shortest - 0.5, sampleRate: 8000) { shortest -= 0.5 }
        print("Interruptions: a pause of \(formatted(shortest, 1)) ms or more always separates two digits (8 kHz)")
        #expect(shortest <= 26.5)
    }

    @Test(arguments: rates)
    func aPauseOfTwentySixAndAHalfMillisecondsAlwaysSeparatesTwoDigits(sampleRate: Int) throws {
        // The README's figure, for every digit at 8 phases of the window and every rate.
        #expect(try pauseAlwaysSeparates(26.5, sampleRate: sampleRate))
    }

    @Test func aCopiedDetectorKeepsItsOwnHistory() throws {
        // A copy shares the history until one of them processes audio, then each has its own (as an array would):
        // after the split the copy hears silence and the original the rest of the digit. Reset, the copy hears
        // the whole signal afresh.
        var s = SignalBuilder(sampleRate: 8000)
        s.silence(ms: 20)
        s.digit(.six, ms: 80)
        s.silence(ms: 60)
        let split = 8 * 60  // 40 ms into the digit
        var original = try DTMFDetector(sampleRate: 8000)
        let first = Array(s.samples[..<split])
        var found: [DTMFDetector.Digit] = []
        first.withUnsafeBufferPointer { original.process($0) { if case .ended(let d) = $0 { found.append(d) } } }
        var copy = original
        var copyFound: [DTMFDetector.Digit] = []
        let silence = [Float](repeating: 0, count: s.samples.count - split)
        silence.withUnsafeBufferPointer { copy.process($0) { if case .ended(let d) = $0 { copyFound.append(d) } } }
        Array(s.samples[split...]).withUnsafeBufferPointer {
            original.process($0) { if case .ended(let d) = $0 { found.append(d) } }
        }
        // The copy's digit ends where its tone stopped (40 ms, long enough to count), the original's at 100 ms.
        #expect(text(found) == "6" && abs((found.first?.endSample ?? 0) - 800) <= 26)
        #expect(text(copyFound) == "6" && abs((copyFound.first?.endSample ?? 0) - split) <= 26)
        copy.reset()
        #expect(text(copy.detect(s.samples)) == "6")
    }

    @Test func startAndEndAreWithinTwoAndAHalfMillisecondsOfShapedTones() throws {
        // The synthesizer's 4 ms raised-cosine edges put the audible start and end 2 ms inside the burst.
        let generator = try DTMFGenerator(dialString: DialString(all16), timing: .default, sampleRate: 8000)
        let found = try detectDigits(try DTMFGenerator.render(DialString(all16), sampleRate: 8000), sampleRate: 8000)
        #expect(found.count == 16)
        for (tone, digit) in zip(generator.schedule, found) {
            #expect(
                abs(digit.startSample - tone.startSample) <= 20,
                "start of \(tone.digit): \(digit.startSample - tone.startSample)")
            #expect(
                abs(digit.endSample - tone.endSample) <= 20, "end of \(tone.digit): \(digit.endSample - tone.endSample)"
            )
        }
    }

    @Test(arguments: rates)
    func startAndEndAreWithinOneMillisecondOfHardEdgedTones(sampleRate: Int) throws {
        var s = SignalBuilder(sampleRate: sampleRate)
        var truth: [(Int, Int)] = []
        for (i, d) in allDigits.enumerated() {
            s.silence(ms: 60 + Double(i) * 0.7)  // move each tone against the window grid
            let start = s.samples.count
            s.digit(d, ms: 80)
            truth.append((start, s.samples.count))
        }
        s.silence(ms: 60)
        let found = try detectDigits(s.samples, sampleRate: sampleRate)
        #expect(found.count == 16)
        let tolerance = sampleRate / 1000
        for (digit, (start, end)) in zip(found, truth) {
            #expect(
                abs(digit.startSample - start) <= tolerance, "start of \(digit.digit): \(digit.startSample - start)")
            #expect(abs(digit.endSample - end) <= tolerance, "end of \(digit.digit): \(digit.endSample - end)")
        }
    }

    // The filters take a half-window as 4m samples led by zeros (DTMFDetector.filter): 0 to 3 of them as the
    // half-window (rate x 6.375 ms) is 0 to 3 short of a multiple of 4. Each case must give every digit, the same
    // in 16-bit and floating-point input and in any chunking (whole frames are copied into the history at once).
    @Test(arguments: [32000, 22050, 16000, 8000])  // half-windows of 204, 141, 102 and 51 samples: 0...3 zeros
    func everyDigitAtEachPaddingOfTheHalfWindow(sampleRate: Int) throws {
        let audio = try DTMFGenerator.render(
            DialString(all16), timing: DTMFTiming(toneMilliseconds: 45, gapMilliseconds: 45), sampleRate: sampleRate)
        var whole = try DTMFDetector(sampleRate: sampleRate)
        let expected = whole.detect(audio)
        #expect(String(expected.map(\.digit.character)) == all16)
        var floating = try DTMFDetector(sampleRate: sampleRate)
        #expect(floating.detect(audio.map(Float.init)) == expected)
        for chunk in [1, 3, 37, sampleRate / 50] {
            var detector = try DTMFDetector(sampleRate: sampleRate)
            var found: [DTMFDetector.Digit] = []
            audio.withUnsafeBufferPointer { all in
                var at = 0
                while at < all.count {
                    let n = min(chunk, all.count - at)
                    detector.process(UnsafeBufferPointer(rebasing: all[at..<(at + n)])) {
                        if case .ended(let d) = $0 { found.append(d) }
                    }
                    at += n
                }
            }
            detector.finish { if case .ended(let d) = $0 { found.append(d) } }
            #expect(found == expected, "chunk \(chunk)")
        }
    }

    @Test func chunkSizeDoesNotChangeTheResult() throws {
        let audio = try DTMFGenerator.render(
            DialString(all16), timing: DTMFTiming(toneMilliseconds: 45, gapMilliseconds: 45), sampleRate: 8000)
        var reference = try DTMFDetector(sampleRate: 8000)
        let expected = reference.detect(audio)
        for chunk in [1, 7, 160, 4096] {
            var detector = try DTMFDetector(sampleRate: 8000)
            var found: [DTMFDetector.Digit] = []
            audio.withUnsafeBufferPointer { all in
                var at = 0
                while at < all.count {
                    let n = min(chunk, all.count - at)
                    detector.process(UnsafeBufferPointer(rebasing: all[at..<(at + n)])) {
                        if case .ended(let d) = $0 { found.append(d) }
                    }
                    at += n
                }
            }
            detector.finish { if case .ended(let d) = $0 { found.append(d) } }
            #expect(found == expected, "chunk \(chunk)")
        }
    }

    // MARK: - Noise

    @Test(arguments: rates)
    func digitsAreDetectedAtFifteenDecibelsSignalToNoise(sampleRate: Int) throws {
        // White Gaussian noise over the whole band, 15 dB below the power of the two tones together.
        let tonePower = 2 * pow(Level.sinePeak(dbm0: -10), 2) / 2
        let noiseRms = (tonePower / pow(10, 1.5)).squareRoot()
        var errors = 0
        for seed in 1...5 as ClosedRange<UInt64> {
            var s = digitTrain(sampleRate: sampleRate, toneMs: 50, pauseMs: 50)
            s.addNoise(rms: noiseRms, seed: seed)
            let found = text(try detectDigits(s.pcm16, sampleRate: sampleRate))
            if found != all16 { errors += 1 }
            #expect(found == all16, "seed \(seed)")
        }
        print("S/N 15 dB at \(sampleRate) Hz: \(80 - errors * 16)+ of 80 digits, \(errors) of 5 runs with an error")
    }

    @Test func noiseAloneProducesNoDigit() throws {
        var s = SignalBuilder(sampleRate: 8000)
        s.silence(ms: 60_000)
        s.addNoise(rms: Level.sinePeak(dbm0: -10), seed: 42)
        #expect(try detectDigits(s.pcm16, sampleRate: 8000).isEmpty)
    }

    // MARK: - Talk-off

    @Test func speechProducesNoDigit() throws {
        let path = testAudioPath("speech/talkoff-8k-ulaw.wav")
        let speech = try AudioFile.read(path)
        let found = try detectDigits(speech.samples, sampleRate: speech.sampleRate)
        // The same speech with a receiver made lax (2 windows, 50 % share, 5 % frequency error) shows the margin.
        var lax = DTMFDetector.Configuration()
        lax.confirmWindows = 2
        lax.minimumToneShare = 0.5
        lax.maximumFrequencyDeviation = 0.05
        var laxDetector = try DTMFDetector(sampleRate: speech.sampleRate, configuration: lax)
        let laxFound = laxDetector.detect(speech.samples)
        print(
            "Talk-off: \(formatted(speech.duration, 1)) s of speech, \(found.count) digits (a lax receiver finds \(laxFound.count): \(text(laxFound)))"
        )
        #expect(found.isEmpty, "talk-off: \(text(found))")
    }
}
