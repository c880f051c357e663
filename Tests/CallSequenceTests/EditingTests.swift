import CallSequenceEngine
import CallSequenceModel
import Recordings
import TelephonyDSP
import Testing

@Suite("Editing a sequence as a portal does")
struct EditingTests {
    func sequence() throws -> SequenceDefinition {
        SequenceDefinition(
            name: "Door",
            steps: [
                .recording(RecordingStep(recording: .named("welcome"))),
                .dtmf(DTMFStep(digits: try DialString("1234"))),
                .sms(
                    SMSStep(from: try PhoneNumber("5145550100"), to: try PhoneNumber("5145550199"), message: "Opened")),
            ])
    }

    @Test func addInsertMoveDeleteAndRename() throws {
        var s = try sequence()
        s.append(.recording(RecordingStep(recording: .none)))
        try s.insert(.dtmf(try DTMFDigitStep("9")), at: 0)
        #expect(s.steps.map(\.typeName) == ["dtmf", "recording", "dtmf", "sms", "recording"])
        try s.moveDown(0)
        #expect(s.steps.map(\.typeName) == ["recording", "dtmf", "dtmf", "sms", "recording"])
        try s.moveUp(3)
        #expect(s.steps.map(\.typeName) == ["recording", "dtmf", "sms", "dtmf", "recording"])
        let removed = try s.remove(4)
        #expect(removed == .recording(RecordingStep(recording: .none)))
        try s.rename("  Back door ")
        #expect(s.name == "Back door" && s.steps.count == 4)
    }

    @Test func outOfRangeEditsAreErrorsNotCrashes() throws {
        var s = try sequence()
        let before = s
        #expect(throws: SequenceEditError.self) { try s.moveUp(0) }
        #expect(throws: SequenceEditError.self) { try s.moveDown(2) }
        #expect(throws: SequenceEditError.self) { try s.moveUp(7) }
        #expect(throws: SequenceEditError.self) { try s.moveDown(-1) }
        #expect(throws: SequenceEditError.self) { try s.remove(3) }
        #expect(throws: SequenceEditError.self) { try s.insert(.recording(RecordingStep(recording: .none)), at: 4) }
        #expect(throws: SequenceEditError.self) { try s.rename("   ") }
        #expect(throws: SequenceEditError.self) { try s.rename(String(repeating: "x", count: 101)) }
        #expect(s == before)
        var empty = SequenceDefinition(name: "Empty")
        #expect {
            try empty.remove(0)
        } throws: { ($0 as? SequenceEditError)?.description == "there is no step 0: the sequence is empty" }
    }
}

func DTMFDigitStep(_ digits: String) throws -> DTMFStep {
    // Test helper: a DTMF step from a literal.
    DTMFStep(digits: try DialString(digits))
}
