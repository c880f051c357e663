import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TestSupport
import Testing

func problems(in file: String, recordings: RecordingLibrary? = nil) throws -> [String] {
    let text = try String(contentsOfFile: testAudioPath("sequences/" + file), encoding: .utf8)
    do {
        _ = try SequenceDefinition.parse(text, source: file, recordings: recordings)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

@Suite("Sequence validation: every problem, with its JSON path")
struct ValidationTests {
    @Test(arguments: [
        ("unknown-step-type.json", "steps[1].type: unknown step type \"beep\" (dtmf, recording or sms)"),
        ("missing-digits.json", "steps[0].digits: missing (a string is required)"),
        ("mistyped-tone.json", "steps[0].toneMs: expected a whole number of ms, found a string"),
        ("bad-digit.json", "steps[0].digits: 'x' at position 3 is not a DTMF digit (allowed: 0-9 * # A-D, w, W)"),
        ("empty-steps.json", "steps: the sequence has no steps; add at least one"),
        ("too-many-steps.json", "steps: 51 steps; at most 50"),
        (
            "tone-too-short.json",
            "steps[0].toneMs: 20 ms is out of range (40...10000 ms): a Q.24 receiver needs tones of at least 40 ms"
        ),
        (
            "gap-too-long.json",
            "steps[0].gapMs: 20000 ms is out of range (40...10000 ms): "
                + "a Q.24 receiver needs a pause of at least 40 ms, or two equal digits merge"
        ),
        (
            "gap-too-short.json",
            "steps[0].gapMs: 0 ms is out of range (40...10000 ms): "
                + "a Q.24 receiver needs a pause of at least 40 ms, or two equal digits merge"
        ),
        (
            "level-too-weak.json",
            "steps[0].levelDbm0: -36 dBm0 is out of range (-25...0 dBm0): "
                + "Q.24 receivers are only required to hear tones down to -25 dBm0"
        ),
        (
            "too-long-27h.json",
            "steps: the DTMF steps last 27.8 h; at most 10 min 0 s "
                + "(sequences are capped so that one account cannot hold a call or memory)"
        ),
        (
            "control-in-name.json",
            "name: \"Front\\u{1B}[2Jdoor\" contains the control character U+001B at position 6 "
                + "(control and bidirectional-override characters are not allowed)"
        ),
        ("unknown-key.json", "steps[0].toneMS: unknown key (did you mean \"toneMs\"?)"),
        ("unknown-top-key.json", "description: unknown key (allowed: name, steps)"),
        ("missing-name.json", "name: missing (a string is required)"),
        (
            "level-clips.json",
            "steps[0]: levelDbm0 and twistDb together would clip: the two tones peak at 45652 (max 32767)"
        ),
        (
            "sms-bad-number.json",
            "steps[0].to: '123' has 3 digits; a US/Canada number has 10 (optionally preceded by 1 or +1)"
        ),
        (
            "sms-bad-area-code.json",
            "steps[0].from: '+1 (114) 555-0100' area code 114 is not valid (it starts with 2-9 and is not N11)"
        ),
        ("sms-too-long.json", "steps[0].message: 161 GSM-7 septets; at most 160"),
        ("syntax-error.json", "invalid JSON at line 2, column 31: expected ',' or '}', found '\"'"),
        ("duplicate-key.json", "invalid JSON at line 1, column 16: duplicate key \"name\""),
        ("not-an-object.json", "expected a sequence (an object), found an array"),
    ])
    func eachBadFileNamesItsProblem(file: String, expected: String) throws {
        #expect(try problems(in: file) == [expected])
    }

    @Test func anUnknownRecordingIsNamedWithTheKnownOnes() throws {
        let library = RecordingLibrary(files: ["welcome": "/r/welcome.wav"], origin: "recordings")
        #expect(
            try problems(in: "unknown-recording.json", recordings: library)
                == ["steps[0].recording: no recording named 'welcom' in recordings (known: welcome)"])
        // Without a library, names are not checked here (the compiler checks them).
        #expect(try problems(in: "unknown-recording.json") == [])
    }

    @Test func everyProblemOfAFileIsReportedInDocumentOrder() throws {
        #expect(
            try problems(in: "several-problems.json") == [
                "name: the name cannot be empty",
                "steps[0].digits: 'z' at position 2 is not a DTMF digit (allowed: 0-9 * # A-D, w, W)",
                "steps[1].recording: missing (a string is required)",
                "steps[2].message: the message is empty",
            ])
    }

    @Test func theExamplesAreValid() throws {
        let library = try RecordingLibrary(directory: testAudioPath("../Examples/recordings"))
        for file in ["front-door.json", "gate.json"] {
            let text = try String(contentsOfFile: testAudioPath("../Examples/" + file), encoding: .utf8)
            let sequence = try SequenceDefinition.parse(text, source: file, recordings: library)
            #expect(!sequence.steps.isEmpty)
        }
    }

    @Test func everyFieldOfAStepIsRead() throws {
        let text = """
            { "name": " Gate ", "steps": [
              { "type": "dtmf", "digits": "1w#", "toneMs": 250, "gapMs": 40, "levelDbm0": -8.5, "twistDb": -2 },
              { "type": "recording", "recording": "default" },
              { "type": "sms", "from": "+1 514-555-0100", "to": "(514) 555 0199", "message": "Gate opened" } ] }
            """
        let s = try SequenceDefinition.parse(text, source: "x")
        #expect(s.name == "Gate")
        guard case .dtmf(let d) = s.steps[0], case .recording(let r) = s.steps[1], case .sms(let m) = s.steps[2] else {
            Issue.record("wrong step types: \(s.steps)")
            return
        }
        #expect(d.digits.description == "1w#" && d.toneMilliseconds == 250 && d.gapMilliseconds == 40)
        #expect(d.levelDbm0 == -8.5 && d.twistDb == -2)
        #expect(r.recording == .systemDefault)
        #expect(m.from.digits == "5145550100" && m.to.digits == "5145550199" && m.message == "Gate opened")
    }
}

/// SMS steps are one SMS as the network counts it (3GPP TS 23.038): 160 GSM-7 septets or 70 UCS-2 units.
@Suite("SMS step length")
struct SMSStepLengthTests {
    func problems(_ message: String) -> [String] {
        let json =
            #"{ "name": "x", "steps": [ { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "\#(message)" } ] }"#
        do {
            _ = try SequenceDefinition.parse(json, source: "t.json")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func gsm7WithAccentsOfTheDefaultAlphabet() {
        let fits =
            String(repeating: "é", count: 60) + String(repeating: "ñ", count: 50) + String(repeating: "Ø", count: 50)
        #expect(problems(fits) == [])
        #expect(problems(fits + "a") == ["steps[0].message: 161 GSM-7 septets; at most 160"])
    }

    @Test func theEuroSignCountsTwo() {
        #expect(problems(String(repeating: "€", count: 80)) == [])
        #expect(
            problems(String(repeating: "€", count: 81)) == [
                "steps[0].message: 162 GSM-7 septets (the extension characters € [ ] { } \\ ^ ~ | and form feed take 2); at most 160"
            ])
    }

    @Test func ucs2HoldsSeventyUnitsAndAnEmojiTakesTwo() {
        #expect(problems("Porte ouvert" + "ê" + String(repeating: "a", count: 57)) == [])
        #expect(
            problems("Porte ouver" + "ê" + String(repeating: "a", count: 59))
                == ["steps[0].message: 71 UCS-2 characters ('ê' at position 12 is not in GSM-7); at most 70"])
        #expect(
            problems(String(repeating: "ê", count: 69) + "😀") == [
                "steps[0].message: 71 UCS-2 units ('ê' at position 1 is not in GSM-7; emoji and other characters beyond U+FFFF take 2); at most 70"
            ])
        #expect(problems(String(repeating: "😀", count: 35)) == [])
        #expect(problems(String(repeating: "Ж", count: 80)).count == 1)
    }

    @Test func combiningAccentsCannotHideLength() {
        #expect(
            problems("e" + String(repeating: "\u{301}", count: 20_000)) == [
                "steps[0].message: 20001 UCS-2 units ('\\u{301}' at position 1 is not in GSM-7); at most 70"
            ])
    }
}
