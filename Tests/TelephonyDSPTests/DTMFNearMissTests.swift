import TelephonyDSP
import TestSupport
import Testing

/// The offline near-miss pass: each refusal gate of the receiver named for a candidate built to fail it,
/// and nothing reported for digits the receiver accepted or for silence.
@Suite("DTMF near misses")
struct DTMFNearMissTests {
    static let rates = [8000, 16000, 48000]

    @Test(arguments: rates)
    func eachRefusalIsNamedWithItsMeasurement(rate: Int) throws {
        var signal = SignalBuilder(sampleRate: rate)
        signal.silence(ms: 200)
        signal.digit(.nine, ms: 100, lowDbm0: -7, highDbm0: -5)  // accepted
        signal.silence(ms: 200)
        signal.digit(.five, ms: 20, lowDbm0: -7, highDbm0: -5)  // too short (Q.24: reject 20 ms)
        signal.silence(ms: 200)
        signal.digit(.two, ms: 100, lowDbm0: -6, highDbm0: -20)  // twist -14 dB
        signal.silence(ms: 200)
        signal.digit(.three, ms: 100, lowDbm0: -7, highDbm0: -5, lowOffset: 0.035, highOffset: 0.035)  // 3.5 % off
        signal.silence(ms: 200)
        signal.digit(.one, ms: 100, lowDbm0: -40, highDbm0: -40)  // below -35 dBm0
        signal.silence(ms: 200)
        signal.addNoise(rms: 3, seed: 7)
        let (accepted, misses) = try DTMFNearMiss.analyze(signal.samples, sampleRate: rate)
        #expect(text(accepted) == "9")
        #expect(String(misses.map(\.digit.character)) == "5231", "\(misses)")
        try #require(misses.count == 4)

        guard case .tooShort(let seconds) = misses[0].reason else {
            Issue.record("\(misses[0].reason)")
            return
        }
        #expect(abs(seconds - 0.020) < 0.008, "\(seconds)")
        let ms = Double(misses[0].startSample) * 1000 / Double(rate)
        #expect(abs(ms - 500) < 5, "start \(ms) ms")  // after 200 + 100 + 200 ms

        guard case .twist(let twist) = misses[1].reason else {
            Issue.record("\(misses[1].reason)")
            return
        }
        #expect(abs(twist + 14) < 0.5)
        #expect(abs(misses[1].lowLevelDbm0 + 6) < 0.5 && abs(misses[1].highLevelDbm0 + 20) < 0.5)

        guard case .frequency(let deviation) = misses[2].reason else {
            Issue.record("\(misses[2].reason)")
            return
        }
        #expect(abs(deviation - 0.035) < 0.003)
        #expect(abs(misses[2].highFrequency - 1477 * 1.035) < 5)

        guard case .tooWeak(let level) = misses[3].reason else {
            Issue.record("\(misses[3].reason)")
            return
        }
        #expect(abs(level + 40) < 1)
        #expect(misses[3].reason.description == "too weak (\((level * 10).rounded() / 10) dBm0)")
    }

    @Test func acceptedDigitsAndSilenceAreNotNearMisses() throws {
        var signal = SignalBuilder(sampleRate: 8000)
        for digit in [DTMFDigit.nine, .eight, .seven, .six, .pound] {
            signal.silence(ms: 100)
            signal.digit(digit, ms: 50, lowDbm0: -10, highDbm0: -8)
        }
        signal.silence(ms: 500)
        let (accepted, misses) = try DTMFNearMiss.analyze(signal.samples, sampleRate: 8000)
        #expect(text(accepted) == "9876#")
        #expect(misses.isEmpty, "\(misses)")
    }
}
