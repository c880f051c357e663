import CallSequenceModel
import TelephonyDSP

/// The outcome of checking audio against a compiled sequence.
public struct VerificationReport: Sendable {
    /// Whether the audio carries exactly the sequence's digits, in order, with its timing.
    public var passed: Bool
    /// The digits the sequence sends.
    public var expected: String
    /// The digits found in the audio.
    public var found: String
    /// The audio's delay against the sequence, from the first digit (seconds).
    public var offset: Double
    /// The largest timing error over all starts and ends, after removing the offset (seconds).
    public var worstTimingError: Double
    /// One line per digit, then the verdict's reason.
    public var lines: [String]
}

/// Checks audio against a compiled sequence with the DTMF receiver.
public enum Verifier {
    /// The default timing tolerance: 20 ms on every start and end.
    public static let defaultToleranceSeconds = 0.020

    /// Decodes `samples` and compares the digits with `program`'s.
    ///
    /// The audio may be delayed (a recording of a call starts when it starts): the first digit sets the
    /// offset, and every digit's start and end must then fall within `tolerance` of the sequence's.
    ///
    /// - Parameters:
    ///   - program: the compiled sequence.
    ///   - samples: the audio, on the 16-bit scale.
    ///   - sampleRate: its rate (8000...48000).
    ///   - tolerance: seconds allowed on each start and end.
    /// - Throws: `TelephonyDSPError` for an unsupported rate.
    public static func verify(
        _ program: CompiledSequence, samples: [Float], sampleRate: Int, tolerance: Double = defaultToleranceSeconds
    ) throws(TelephonyDSPError) -> VerificationReport {
        var detector = try DTMFDetector(sampleRate: sampleRate)
        let found = detector.detect(samples)
        let expected = program.digits
        let rate = Double(program.format.sampleRate)
        let audioRate = Double(sampleRate)
        let expectedText = String(expected.map(\.digit.character))
        let foundText = String(found.map(\.digit.character))
        var lines: [String] = []
        func ms(_ seconds: Double) -> String { String(Int((seconds * 1000).rounded())) }

        let offset =
            (found.first.map { Double($0.startSample) / audioRate } ?? 0)
            - (expected.first.map { Double($0.startSample) / rate } ?? 0)
        var worst = 0.0
        for i in 0..<max(expected.count, found.count) {
            let e = i < expected.count ? expected[i] : nil
            let f = i < found.count ? found[i] : nil
            switch (e, f) {
            case let (e?, f?):
                let es = Double(e.startSample) / rate
                let ee = Double(e.endSample) / rate
                let fs = Double(f.startSample) / audioRate - offset
                let fe = Double(f.endSample) / audioRate - offset
                let error = max(abs(fs - es), abs(fe - ee))
                worst = max(worst, error)
                let verdict = e.digit != f.digit ? "WRONG DIGIT" : error > tolerance ? "TIMING" : "ok"
                lines.append(
                    "\(e.digit) expected \(ms(es))-\(ms(ee)) ms, found \(f.digit) at \(ms(fs))-\(ms(fe)) ms: \(verdict)"
                )
            case let (e?, nil):
                lines.append(
                    "\(e.digit) expected \(ms(Double(e.startSample) / rate))-\(ms(Double(e.endSample) / rate)) ms: MISSING"
                )
            case let (nil, f?):
                lines.append("unexpected \(f.digit) at \(ms(Double(f.startSample) / audioRate - offset)) ms: EXTRA")
            default:
                break
            }
        }
        let passed = expectedText == foundText && worst <= tolerance
        if expectedText != foundText {
            lines.append("FAIL: expected digits \"\(expectedText)\", found \"\(foundText)\"")
        } else if worst > tolerance {
            lines.append("FAIL: timing off by up to \(ms(worst)) ms (tolerance \(ms(tolerance)) ms)")
        } else {
            lines.append(
                "PASS: \(expected.count) digits in order, timing within \(ms(worst)) ms "
                    + "(tolerance \(ms(tolerance)) ms), audio offset \(ms(offset)) ms")
        }
        return VerificationReport(
            passed: passed, expected: expectedText, found: foundText, offset: offset,
            worstTimingError: worst, lines: lines)
    }
}
