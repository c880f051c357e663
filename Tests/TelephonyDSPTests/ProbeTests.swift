import Testing
import TelephonyDSP

@Test func probe() {
    for rate in [8000, 16000, 48000] {
        for off in [-0.035, -0.015, 0, 0.015, 0.035] {
            var s = SignalBuilder(sampleRate: rate)
            for d in DTMFDigit.allCases { s.digit(d, ms: 100, lowOffset: off, highOffset: off); s.silence(ms: 100) }
            let found = detectDigits(s.samples, sampleRate: rate)
            print(rate, off, text(found), found.prefix(3).map { "\($0.lowFrequency) \($0.highFrequency) \($0.lowLevelDbm0) \($0.startSample) \($0.endSample)" })
        }
    }
}
