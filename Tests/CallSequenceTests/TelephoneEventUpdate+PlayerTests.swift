import CallSequenceEngine
import CallSequenceModel
import RTP
import Recordings
import TelephonyDSP
import Testing

/// One telephone-event packet as `RTPSender` wrote it, decoded from its bytes.
struct EventPacket: Hashable {
    var sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    var event: UInt8, end: Bool, volume: UInt8, duration: UInt16

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard let header = try? RTPHeader(parsing: bytes), header.payloadType == 101,
            let payload = TelephoneEvent(payload: header.payload(in: bytes))
        else { return nil }
        (sequenceNumber, timestamp, marker) = (header.sequenceNumber, header.timestamp, header.marker)
        (event, end, volume, duration) = (payload.event, payload.end, payload.volume, payload.duration)
    }
}

/// Plays `player` in 20 ms frames through `RTPSender` (as `callseq serve` and `render` do) and collects the
/// telephone-event packets; two more intervals after the end carry the last final packet's retransmissions.
/// `restartAfter` restarts the player once that many samples have been rendered; the packets sent from then
/// on go to the second list.
func play(
    _ player: Player, rate: Int, sender: inout RTPSender,
    restartAfter: Int? = nil
) -> (before: [EventPacket], after: [EventPacket]) {
    var before: [EventPacket] = []
    var after: [EventPacket] = []
    var restarted = restartAfter == nil
    var frame = [Int16](repeating: 0, count: rate / 50)
    var packet = [UInt8](repeating: 0, count: 64)
    var rendered = 0
    var tail = 2
    func collect(_ bytes: UnsafeRawBufferPointer) {
        guard let p = EventPacket(bytes) else { return }
        if restartAfter != nil && restarted { after.append(p) } else { before.append(p) }
    }
    while !player.isFinished || tail > 0 {
        if let restartAfter, !restarted, rendered >= restartAfter {
            player.restart()
            restarted = true
        }
        var n = 0
        if player.isFinished {
            tail -= 1
        } else {
            n = frame.withUnsafeMutableBufferPointer { buffer in
                player.render(into: buffer) { event in
                    guard case .telephoneEvent(let state) = event.kind else { return }
                    let update = TelephoneEventUpdate(state, reportedAt: event.sample)
                    packet.withUnsafeMutableBytes { sender.sendTelephoneEvent(update, into: $0, collect) }
                }
            }
        }
        rendered += n
        packet.withUnsafeMutableBytes { sender.finishInterval(audio: nil, samples: n, into: $0, collect) }
    }
    return (before, after)
}

func eventSender() -> RTPSender {
    RTPSender(audioPayloadType: 0, eventPayloadType: 101, ssrc: 7, firstSequenceNumber: 65530, timestampBase: 1000)
}

/// Plays a sequence of one DTMF step in rfc4733 mode in 20 ms frames and collects the packets.
func packets(digits: String, toneMs: Int, rate: Int = 8000, gapMs: Int = 100) throws -> [EventPacket] {
    let sequence = SequenceDefinition(
        name: "x",
        steps: [
            .dtmf(
                DTMFStep(
                    digits: try DialString(digits), toneMilliseconds: toneMs, gapMilliseconds: gapMs, levelDbm0: -12))
        ])
    let program = try CompiledSequence(
        sequence, format: CallFormat(sampleRate: rate, dtmfOutput: .rfc4733), recordings: RecordingCacheStub.empty)
    var sender = eventSender()
    return play(program.makePlayer(), rate: rate, sender: &sender).before
}

enum RecordingCacheStub { static let empty = RecordingCache(library: .empty) }

@Suite("RFC 4733 telephone-events")
struct TelephoneEventTests {
    @Test func aHundredMillisecondDigitFollowsTheRFC() throws {
        let p = try packets(digits: "5", toneMs: 100)
        // 5 updates every 160 samples, the last one ending the event and sent 3 times.
        #expect(p.map(\.duration) == [160, 320, 480, 640, 800, 800, 800])
        #expect(p.map(\.end) == [false, false, false, false, true, true, true])
        #expect(p.map(\.marker) == [true, false, false, false, false, false, false])
        #expect(p.allSatisfy { $0.timestamp == 1000 && $0.event == 5 && $0.volume == 12 })
        // Sequence numbers advance on every packet, retransmissions included, and wrap.
        #expect(p.map(\.sequenceNumber) == [65530, 65531, 65532, 65533, 65534, 65535, 0])
        // The final packet goes out three times, one packet interval (20 ms) apart (RFC 4733 §2.5.1.4).
    }

    @Test func eachDigitIsItsOwnEventWithItsOwnTimestamp() throws {
        let p = try packets(digits: "1#D", toneMs: 60)
        let starts = p.filter(\.marker)
        #expect(starts.map(\.event) == [1, 11, 15])
        // 60 ms tone + 100 ms gap = 1280 samples between starts.
        #expect(starts.map(\.timestamp) == [1000, 2280, 3560])
        #expect(p.filter(\.end).count == 9)
        #expect(p.filter(\.end).map(\.duration) == [480, 480, 480, 480, 480, 480, 480, 480, 480])
    }

    @Test func aTenSecondDigitIsSplitIntoSegmentsAt0xFFFF() throws {
        let p = try packets(digits: "0", toneMs: 10_000)
        // 80000 samples: one segment of 65535, then one of 14465.
        let firstSegment = p.filter { $0.timestamp == 1000 }
        let secondSegment = p.filter { $0.timestamp == 1000 + 65535 }
        #expect(firstSegment.count + secondSegment.count == p.count)
        #expect(firstSegment.first?.marker == true)
        #expect(firstSegment.last?.duration == 0xFFFF && firstSegment.last?.end == false)
        #expect(firstSegment.allSatisfy { !$0.end })
        #expect(secondSegment.allSatisfy { !$0.marker })
        #expect(secondSegment.suffix(3).allSatisfy { $0.end && $0.duration == 14465 })
        #expect(secondSegment.dropLast(3).allSatisfy { !$0.end })
        // The segment's final packet (0xFFFF, no E) is sent three times like an event's end (RFC 4733 §2.5.1.3).
        #expect(firstSegment.filter { $0.duration == 0xFFFF }.count == 3)
        for segment in [firstSegment, secondSegment] {
            let durations = segment.map { Int($0.duration) }
            #expect(zip(durations, durations.dropFirst()).allSatisfy { $1 >= $0 })
        }
        for (a, b) in zip(p, p.dropFirst()) { #expect(b.sequenceNumber == a.sequenceNumber &+ 1) }
    }

    @Test(arguments: [20_000, 70_000])
    func aPlayerRestartedWithTheSameSenderStartsANewEvent(restartAfterSamples: Int) throws {
        // A 10 s digit "0" (two segments); the player restarts after 2.5 s (inside the first segment) or 8.75 s
        // (inside the second): the sender must neither trap nor continue the old event. It ends the old event
        // (its final packet three times), then sends the packets of a fresh play, sequence numbers following on.
        let sequence = SequenceDefinition(
            name: "x",
            steps: [
                .dtmf(
                    DTMFStep(
                        digits: try DialString("0"), toneMilliseconds: 10_000, gapMilliseconds: 100, levelDbm0: -12))
            ])
        let program = try CompiledSequence(
            sequence, format: CallFormat(dtmfOutput: .rfc4733), recordings: RecordingCacheStub.empty)
        var sender = eventSender()
        let (first, second) = play(program.makePlayer(), rate: 8000, sender: &sender, restartAfter: restartAfterSamples)
        let fresh = try packets(digits: "0", toneMs: 10_000)
        #expect(first.count >= restartAfterSamples / 160 && first.allSatisfy { !$0.end })
        let old = try #require(first.last)
        let oldEnds = second.filter { $0.end && $0.timestamp == old.timestamp && $0.duration == old.duration }
        #expect(oldEnds.count == 3)
        let replay = second.filter { !oldEnds.contains($0) }
        #expect(replay.first?.marker == true && replay.first?.duration == 160 && replay.first?.timestamp == 1000)
        #expect(replay.map(\.duration) == fresh.map(\.duration))
        #expect(replay.map(\.timestamp) == fresh.map(\.timestamp))
        #expect(replay.map(\.marker) == fresh.map(\.marker))
        #expect(replay.map(\.end) == fresh.map(\.end))
        let all = first + second
        for (a, b) in zip(all, all.dropFirst()) { #expect(b.sequenceNumber == a.sequenceNumber &+ 1) }
    }

    @Test func aDigitStartingInsideAFrameReportsItsPartialDuration() throws {
        // 50 ms tones and 55 ms gaps (spandsp's timing): the second digit starts at sample 840, inside the
        // 20 ms frame 800..<960, so its first packet reports 120 samples.
        let p = try packets(digits: "17", toneMs: 50, gapMs: 55)
        let second = p.filter { $0.event == 7 }
        let first = try #require(second.first)
        #expect(first.marker && first.timestamp == UInt32(1000 + 840) && first.duration == 120)
        #expect(second.map(\.duration) == [120, 280, 400, 400, 400])
    }
}
