import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

/// Runs a session in 20 ms frames until it ends; `press` is applied when the menu waits, `caller` is its input.
func runSession(
    _ session: IVRSession, presses: [DTMFDigit] = [], caller: [Int16]? = nil, rate: Int = 8000
)
    -> (audio: [Int16], events: [IVRSession.Event])
{
    var audio: [Int16] = []
    var events: [IVRSession.Event] = []
    var presses = presses
    var frame = [Int16](repeating: 0, count: rate / 50)
    let silence = [Int16](repeating: 0, count: rate / 50)
    var at = 0
    while !session.isEnded && audio.count < rate * 120 {
        if session.isWaitingForDigit, !presses.isEmpty { session.press(presses.removeFirst()) }
        let input: [Int16]? = caller.map { c in
            at + frame.count <= c.count ? Array(c[at..<(at + frame.count)]) : silence
        }
        at += frame.count
        frame.withUnsafeMutableBufferPointer { out in
            if let input {
                input.withUnsafeBufferPointer { session.render(callerAudio: $0, into: out) { events.append($0) } }
            } else {
                session.render(callerAudio: nil, into: out) { events.append($0) }
            }
        }
        audio += frame
    }
    return (audio, events)
}

@Suite("IVR sessions")
struct IVRSessionTests {
    @Test func pressingOneRunsTheDoorSequenceAndTheCallEnds() throws {
        let session = try exampleAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (audio, events) = runSession(session, presses: [.one])
        let kinds = events.map(\.kind)
        #expect(kinds.first == .menuStarted(ivr: 0, play: 1))
        #expect(kinds.contains(.digit(.one)) && kinds.contains(.sequenceStarted(0)))
        #expect(kinds.contains(.sequence(0, .smsRequested(step: 2))))
        #expect(kinds.last == .ended(.sequenceFinished))
        // What the caller hears carries the door code after the menu.
        #expect(text(try detectDigits(audio, sampleRate: 8000)) == "9876#")
    }

    @Test func aDigitInTheCallersAudioWithSpeechAroundItIsHeardDuringThePrompt() throws {
        let speech = try AudioFile.read(testAudioPath("speech/talkoff-8k-ulaw.wav")).samples.prefix(16000).map {
            Int16($0)
        }
        let two = try DTMFGenerator.render(
            DialString("2"), timing: DTMFTiming(toneMilliseconds: 80, gapMilliseconds: 40), sampleRate: 8000)
        let caller = Array(speech) + two + Array(speech)  // speech, the digit at 2 s (during the 9.4 s menu), speech
        let session = try exampleAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (_, events) = runSession(session, caller: caller)
        let digit = try #require(events.first { if case .digit = $0.kind { true } else { false } })
        #expect(digit.kind == .digit(.two))
        let heardAfter = digit.sample - 16000
        #expect(heardAfter >= 0 && heardAfter <= 640)  // within 80 ms of the tone's start
        #expect(events.contains { $0.kind == .sequenceStarted(1) })
        #expect(events.last?.kind == .ended(.sequenceFinished))
    }

    @Test func anInvalidOptionReplaysTheMenuThenEndsTheCall() throws {
        let session = try exampleAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (_, events) = runSession(session, presses: [.seven, .five, .eight])
        let kinds = events.map(\.kind)
        #expect(kinds.filter { if case .invalidOption = $0 { true } else { false } }.count == 3)
        let menus: [IVRSession.Event.Kind] = kinds.filter { if case .menuStarted = $0 { true } else { false } }
        let expected: [IVRSession.Event.Kind] = [
            .menuStarted(ivr: 0, play: 1), .menuStarted(ivr: 0, play: 2), .menuStarted(ivr: 0, play: 3),
        ]
        #expect(menus == expected)
        #expect(kinds.last == .ended(.noChoice))
    }

    @Test func silenceTimesOutReplaysThenEnds() throws {
        let session = try exampleAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (audio, events) = runSession(session, caller: [])
        let timeouts = events.filter { if case .timedOut = $0.kind { true } else { false } }
        #expect(timeouts.count == 3)
        #expect(events.last?.kind == .ended(.noChoice))
        // Three plays of the 9.384 s menu, each followed by 5 s of waiting.
        let seconds = Double(audio.count) / 8000
        let expectedSeconds = 3 * (9.384 + 5.0)
        #expect(abs(seconds - expectedSeconds) < 0.05)
    }

    @Test func repeatAndHangupOptionsDoWhatTheySay() throws {
        let session = try exampleAccount().makeSession(calling: PhoneNumber("5145550100"))
        let (_, events) = runSession(session, presses: [.nine, .zero])
        let kinds = events.map(\.kind)
        #expect(kinds.filter { if case .menuStarted = $0 { true } else { false } }.count == 2)
        #expect(kinds.last == .ended(.hangupOption))
    }

    @Test func aNumberRoutedToHangupEndsAtOnceAndAnUnknownNumberIsAnError() throws {
        let account = try exampleAccount()
        let (audio, events) = runSession(try account.makeSession(calling: PhoneNumber("5145550111")))
        #expect(events.map(\.kind) == [.ended(.routeHangup)] && audio.count == 160)
        #expect(throws: CompileError.self) { try account.makeSession(calling: PhoneNumber("2125550123")) }
    }

    @Test func theCallerHangingUpEndsTheSession() throws {
        let session = try exampleAccount().makeSession(calling: PhoneNumber("5145550100"))
        var frame = [Int16](repeating: 0, count: 160)
        var events: [IVRSession.Event] = []
        for _ in 0..<10 {
            frame.withUnsafeMutableBufferPointer { session.render(callerAudio: nil, into: $0) { events.append($0) } }
        }
        session.hangUp()
        frame.withUnsafeMutableBufferPointer { session.render(callerAudio: nil, into: $0) { events.append($0) } }
        #expect(events.last?.kind == .ended(.callerHungUp) && session.isEnded)
    }
}
