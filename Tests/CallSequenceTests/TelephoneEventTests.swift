import CallSequenceEngine
import CallSequenceModel
import Testing
import TelephonyDSP

/// Plays a sequence of one DTMF step in rfc4733 mode in 20 ms frames and collects the packets.
func packets(digits: String, toneMs: Int, rate: Int = 8000, gapMs: Int = 100) throws -> [TelephoneEventPacket] {
    let sequence = SequenceDefinition(name: "x", steps: [
        .dtmf(DTMFStep(digits: try DialString(digits), toneMilliseconds: toneMs, gapMilliseconds: gapMs, levelDbm0: -12)),
    ])
    let program = try CompiledSequence(sequence, format: CallFormat(sampleRate: rate, dtmfOutput: .rfc4733), recordings: RecordingCacheStub.empty)
    let player = program.makePlayer()
    var sender = TelephoneEventSender(timestampBase: 1000, firstSequenceNumber: 65530)
    var out: [TelephoneEventPacket] = []
    var frame = [Int16](repeating: 0, count: rate / 50)
    while !player.isFinished {
        frame.withUnsafeMutableBufferPointer { buffer in
            _ = player.render(into: buffer) { event in
                if case .telephoneEvent(let state) = event.kind { sender.update(state) { out.append($0) } }
            }
        }
    }
    return out
}

import Recordings
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
        let last = p[6].payload
        #expect(last.0 == 5 && last.1 == 0x80 | 12 && last.2 == 0x03 && last.3 == 0x20)   // 800 = 0x0320
        let first = p[0].payload
        #expect(first.1 == 12 && first.2 == 0 && first.3 == 160)
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
        let durations = p.map { Int($0.duration) }
        #expect(zip(durations, durations.dropFirst()).filter { $1 < $0 }.count == 1)   // only the segment restart goes down
        for (a, b) in zip(p, p.dropFirst()) { #expect(b.sequenceNumber == a.sequenceNumber &+ 1) }
    }

    @Test(arguments: [20_000, 70_000])
    func aPlayerRestartedWithTheSameSenderStartsANewEvent(restartAfterSamples: Int) throws {
        // A 10 s digit "0" (two segments); the player restarts after 2.5 s (inside the first segment) or 8.75 s
        // (inside the second): the sender must neither trap nor continue the old event. The second play gives
        // the packets of a fresh play, its sequence numbers following on.
        let sequence = SequenceDefinition(name: "x", steps: [
            .dtmf(DTMFStep(digits: try DialString("0"), toneMilliseconds: 10_000, gapMilliseconds: 100, levelDbm0: -12)),
        ])
        let program = try CompiledSequence(sequence, format: CallFormat(dtmfOutput: .rfc4733), recordings: RecordingCacheStub.empty)
        let player = program.makePlayer()
        var sender = TelephoneEventSender(timestampBase: 1000, firstSequenceNumber: 65530)
        var first: [TelephoneEventPacket] = []
        var second: [TelephoneEventPacket] = []
        var frame = [Int16](repeating: 0, count: 160)
        var rendered = 0
        var restarted = false
        while !player.isFinished {
            if !restarted && rendered >= restartAfterSamples {
                player.restart()
                restarted = true
            }
            frame.withUnsafeMutableBufferPointer { buffer in
                rendered += player.render(into: buffer) { event in
                    if case .telephoneEvent(let state) = event.kind {
                        sender.update(state) { restarted ? second.append($0) : first.append($0) }
                    }
                }
            }
        }
        let fresh = try packets(digits: "0", toneMs: 10_000)
        #expect(first.count >= restartAfterSamples / 160 && first.allSatisfy { !$0.end })
        #expect(second.first?.marker == true && second.first?.duration == 160 && second.first?.timestamp == 1000)
        #expect(second.map(\.duration) == fresh.map(\.duration))
        #expect(second.map(\.timestamp) == fresh.map(\.timestamp))
        #expect(second.map(\.marker) == fresh.map(\.marker))
        #expect(second.map(\.end) == fresh.map(\.end))
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
