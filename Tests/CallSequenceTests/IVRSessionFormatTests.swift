import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

/// The example account with a second IVR, "Doors": the lobby's option 3 goes to it; its own timeout (2 s) and
/// number of plays (1) differ from the lobby's (5 s, 3 plays), and its option 1 runs "Front door".
func twoLevelAccount(_ format: CallFormat = CallFormat()) throws -> CompiledAccount {
    let text = """
        {
          "capabilities": { "sequences": true, "sms": true, "smsDailyLimit": 100 },
          "recordings": "recordings",
          "dids": [ { "number": "5145550100", "sms": true, "route": { "ivr": "Lobby" } } ],
          "ivrs": [
            { "name": "Lobby", "prompt": "lobby-greeting", "timeoutSeconds": 5, "attempts": 3,
              "options": { "3": { "ivr": "Doors" }, "0": { "hangup": true } } },
            { "name": "Doors", "prompt": "welcome", "timeoutSeconds": 2, "attempts": 1,
              "options": { "1": { "sequence": "Front door" }, "*": { "ivr": "Lobby" } } }
          ],
          "sequences": [
            { "name": "Front door", "steps": [
                { "type": "dtmf", "digits": "9876#", "toneMs": 150, "gapMs": 100 },
                { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "Front door opened" } ] }
          ]
        }
        """
    let (account, library) = try Account.parse(text, source: "two-level.json", baseDirectory: examples)
    return try CompiledAccount(account, recordings: RecordingCache(library: library), format: format)
}

/// Runs a session rendering G.711 bytes in 20 ms frames; `presses` are given while the menu waits.
func runSessionBytes(_ session: IVRSession, presses: [DTMFDigit]) -> (audio: [UInt8], events: [IVRSession.Event]) {
    var audio: [UInt8] = []
    var events: [IVRSession.Event] = []
    var presses = presses
    var frame = [UInt8](repeating: 0xAA, count: 160)
    while !session.isEnded && audio.count < 8000 * 120 {
        if session.isWaitingForDigit, !presses.isEmpty { session.press(presses.removeFirst()) }
        frame.withUnsafeMutableBufferPointer { out in session.render(callerAudio: nil, into: out) { events.append($0) }
        }
        audio += frame
    }
    return (audio, events)
}

/// The digits of the RFC 4733 events that ended, in order.
func endedTelephoneEvents(_ events: [IVRSession.Event]) -> String {
    var digits = ""
    for event in events {
        if case .sequence(_, .telephoneEvent(let state)) = event.kind, state.ended {
            digits.append(state.digit.character)
        }
    }
    return digits
}

@Suite("IVR sessions: other IVRs, G.711 and RFC 4733")
struct IVRSessionFormatTests {
    @Test func anOptionThatGoesToAnotherIVRPlaysItsMenuAndUsesItsOptions() throws {
        let session = try twoLevelAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (audio, events) = runSession(session, presses: [.three, .one])
        let kinds = events.map(\.kind)
        let expected: [IVRSession.Event.Kind] = [
            .menuStarted(ivr: 0, play: 1), .digit(.three), .menuStarted(ivr: 1, play: 1), .digit(.one),
            .sequenceStarted(0),
        ]
        #expect(Array(kinds.filter { if case .sequence = $0 { false } else { true } }.prefix(5)) == expected)
        #expect(kinds.last == .ended(.sequenceFinished))
        #expect(text(try detectDigits(audio, sampleRate: 8000)) == "9876#")
        // The digit 3 was pressed when the lobby's menu had played: the second menu starts at that frame.
        let three = try #require(events.first { $0.kind == .digit(.three) })
        #expect(events.first { $0.kind == .menuStarted(ivr: 1, play: 1) }?.sample == three.sample)
    }

    @Test func theOtherIVRKeepsItsOwnTimeoutAndNumberOfPlays() throws {
        let session = try twoLevelAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (_, events) = runSession(session, presses: [.three])
        let doors = try #require(events.first { $0.kind == .menuStarted(ivr: 1, play: 1) })
        let timeout = try #require(events.first { $0.kind == .timedOut(ivr: 1) })
        // "welcome" plays, then 2 s of waiting (not the lobby's 5 s); one play only, then the call ends.
        let welcome = try RecordingCache(library: RecordingLibrary(directory: examples + "/recordings"))
            .recording(.named("welcome"), sampleRate: 8000, encoding: .pcm16)
        let promptSamples = try #require(welcome).count
        #expect(timeout.sample - doors.sample == promptSamples + 2 * 8000)
        #expect(events.last?.kind == .ended(.noChoice))
        #expect(events.filter { if case .menuStarted(ivr: 1, _) = $0.kind { true } else { false } }.count == 1)
    }

    @Test(arguments: [SampleEncoding.ulaw, .alaw])
    func aSessionRendersG711BytesThatAreThePCMSessionEncoded(encoding: SampleEncoding) throws {
        let pcm = runSession(try exampleAccount().makeSession(calling: PhoneNumber("5145550100")), presses: [.one])
        let bytes = runSessionBytes(
            try exampleAccount(CallFormat(encoding: encoding)).makeSession(calling: PhoneNumber("5145550100")),
            presses: [.one])
        #expect(bytes.events == pcm.events)
        #expect(bytes.audio.count == pcm.audio.count)
        // Byte for byte what spandsp's encoder makes of the PCM session, the waiting silence included.
        #expect(bytes.audio == (encoding == .ulaw ? ReferenceG711.muLaw(pcm.audio) : ReferenceG711.aLaw(pcm.audio)))
        let decoded =
            encoding == .ulaw ? ReferenceG711.muLawDecoded(bytes.audio) : ReferenceG711.aLawDecoded(bytes.audio)
        #expect(text(try detectDigits(decoded, sampleRate: 8000)) == "9876#")
    }

    @Test func inRFC4733ModeTheDigitsAreEventsAndTheAudioHasNoTone() throws {
        let session = try exampleAccount(CallFormat(dtmfOutput: .rfc4733)).makeSession(
            calling: PhoneNumber("5145550100"))
        let (audio, events) = runSession(session, presses: [.one])
        #expect(endedTelephoneEvents(events) == "9876#")
        #expect(text(try detectDigits(audio, sampleRate: 8000)) == "")
        #expect(events.last?.kind == .ended(.sequenceFinished))
    }

    @Test func inBothModeTheDigitsAreEventsAndTones() throws {
        let session = try exampleAccount(CallFormat(dtmfOutput: .both)).makeSession(calling: PhoneNumber("5145550100"))
        let (audio, events) = runSession(session, presses: [.one])
        #expect(endedTelephoneEvents(events) == "9876#")
        #expect(text(try detectDigits(audio, sampleRate: 8000)) == "9876#")
        // Each event starts where its tone starts (within the detector's 3.2 ms).
        let starts = events.compactMap { event -> Int? in
            if case .sequence(_, .telephoneEvent(let state)) = event.kind, state.ended { return state.startSample }
            return nil
        }
        let sequenceStart = try #require(events.first { $0.kind == .sequenceStarted(0) }).sample
        let tones = try detectDigits(audio, sampleRate: 8000).map(\.startSample)
        #expect(starts.count == tones.count)
        for (event, tone) in zip(starts, tones) { #expect(abs(sequenceStart + event - tone) <= 40, "\(event) \(tone)") }
    }
}
