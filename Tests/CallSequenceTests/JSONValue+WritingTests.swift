import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP
import Testing

@Suite("The canonical JSON writer")
struct JSONWriterTests {
    func text(_ name: String) throws -> String {
        try String(contentsOfFile: "\(examples)/\(name)", encoding: .utf8)
    }

    @Test func sequenceExamplesReadWriteReadToTheSameValue() throws {
        for name in ["front-door.json", "gate.json"] {
            let library = try RecordingLibrary(directory: "\(examples)/recordings")
            let first = try SequenceDefinition.parse(try text(name), source: name, recordings: library)
            let written = first.canonicalJSON
            let second = try SequenceDefinition.parse(written, source: "written", recordings: library)
            #expect(second == first, "\(name)")
            #expect(second.canonicalJSON == written, "the output is byte-stable")
        }
    }

    @Test func accountExampleReadsWritesAndReadsToTheSameValue() throws {
        let (first, _) = try Account.load("\(examples)/account.json")
        let written = first.canonicalJSON
        let (second, _) = try Account.parse(written, source: "written", baseDirectory: examples)
        #expect(second == first)
        #expect(second.canonicalJSON == written)
        #expect(first.recordings == "recordings")
    }

    @Test func everyOptionalFieldAndEscapeSurvivesTheRoundTrip() throws {
        let sequence = SequenceDefinition(
            name: "Gate \"B\" \\ west",
            steps: [
                .dtmf(
                    DTMFStep(
                        digits: try DialString("12w3W#*A"), toneMilliseconds: 120, gapMilliseconds: 80,
                        levelDbm0: -7.5, twistDb: 2)),
                .recording(RecordingStep(recording: .none)),
                .recording(RecordingStep(recording: .systemDefault)),
                .sms(
                    SMSStep(
                        from: try PhoneNumber("5145550100"), to: try PhoneNumber("+1 514 555 0199"),
                        message: "Opened é")),
            ])
        let written = sequence.canonicalJSON
        #expect(try SequenceDefinition.parse(written, source: "x") == sequence)
        #expect(written.contains(#""name": "Gate \"B\" \\ west""#))
        #expect(written.contains(#""message": "Opened é""#))
        #expect(written.contains(#""levelDbm0": -7.5"#))
        #expect(written.contains(#""toneMs": 120"#))
        #expect(written.hasSuffix("}\n"))
        for line in written.split(separator: "\n") { #expect(line.last != " ", "no trailing spaces: \(line)") }
    }

    @Test func controlCharactersAreEscapedAndReadBack() throws {
        let value = JSONValue.string("a\tb\nc\u{1}\u{1F}\r\u{8}\u{C}")
        #expect(value.canonicalText == #""a\tb\nc\u0001\u001f\r\b\f""# + "\n")
        #expect(try JSONValue.parse(value.canonicalText) == value)
    }

    @Test func theLayoutIsFixed() throws {
        let sequence = SequenceDefinition(name: "D", steps: [.dtmf(DTMFStep(digits: try DialString("1")))])
        #expect(
            sequence.canonicalJSON == """
                {
                  "name": "D",
                  "steps": [
                    {
                      "type": "dtmf",
                      "digits": "1"
                    }
                  ]
                }

                """)
        #expect(JSONValue.object([]).canonicalText == "{}\n")
        #expect(
            JSONValue.array([.number(0), .number(-3), .number(1e-5), .bool(false), .null]).canonicalText
                == "[\n  0,\n  -3,\n  1e-05,\n  false,\n  null\n]\n")
    }
}
