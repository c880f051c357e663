import RTP
import Testing

/// A packet as the sender wrote it, decoded field by field from its bytes.
struct SentPacket: Equatable, CustomStringConvertible {
    var marker: Bool, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32
    var event: UInt8? = nil, end = false, duration: UInt16 = 0, payloadCount = 0

    init(
        marker: Bool, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32,
        event: UInt8? = nil, end: Bool = false, duration: UInt16 = 0, payloadCount: Int = 4
    ) {
        (self.marker, self.payloadType, self.sequenceNumber, self.timestamp) = (
            marker, payloadType, sequenceNumber, timestamp
        )
        (self.event, self.end, self.duration, self.payloadCount) = (event, end, duration, payloadCount)
    }

    init(_ bytes: UnsafeRawBufferPointer) {
        let b = Array(bytes)
        #expect(b[0] == 0x80 && b[8...11] == [0x11, 0x22, 0x33, 0x44])  // version 2, no CC; the SSRC
        marker = b[1] & 0x80 != 0
        payloadType = b[1] & 0x7F
        sequenceNumber = UInt16(b[2]) << 8 | UInt16(b[3])
        timestamp = UInt32(b[4]) << 24 | UInt32(b[5]) << 16 | UInt32(b[6]) << 8 | UInt32(b[7])
        payloadCount = b.count - 12
        if payloadType == 101 {
            #expect(b.count == 16 && b[13] & 0x40 == 0 && b[13] & 0x3F == 10)  // R zero, volume 10
            event = b[12]
            end = b[13] & 0x80 != 0
            duration = UInt16(b[14]) << 8 | UInt16(b[15])
        }
    }

    var description: String {
        "seq \(sequenceNumber) ts \(timestamp)\(marker ? " M" : "") pt \(payloadType)"
            + (event.map { " ev \($0)\(end ? " E" : "") dur \(duration)" } ?? " \(payloadCount) bytes")
    }
}

/// Drives a sender interval by interval (160 samples each) and returns each interval's packets.
struct SenderHarness {
    var sender = RTPSender(
        audioPayloadType: 0, eventPayloadType: 101, ssrc: 0x1122_3344,
        firstSequenceNumber: 1000, timestampBase: 5000)
    let audio = [UInt8](repeating: 0xFF, count: 160)
    var buffer = [UInt8](repeating: 0, count: 200)

    mutating func interval(_ updates: TelephoneEventUpdate...) -> [SentPacket] {
        var out: [SentPacket] = []
        buffer.withUnsafeMutableBytes { scratch in
            for update in updates { sender.sendTelephoneEvent(update, into: scratch) { out.append(SentPacket($0)) } }
            audio.withUnsafeBytes { a in
                sender.finishInterval(audio: a, samples: 160, into: scratch) { out.append(SentPacket($0)) }
            }
        }
        return out
    }
}

func update(_ event: UInt8, start: Int, duration: Int, ended: Bool = false) -> TelephoneEventUpdate {
    TelephoneEventUpdate(event: event, startSample: start, duration: duration, ended: ended, volume: 10)
}

func audioPacket(seq: UInt16, ts: UInt32) -> SentPacket {
    SentPacket(marker: false, payloadType: 0, sequenceNumber: seq, timestamp: ts, payloadCount: 160)
}

func eventPacket(
    seq: UInt16, ts: UInt32, _ event: UInt8, marker: Bool = false, end: Bool = false, _ duration: UInt16
) -> SentPacket {
    SentPacket(
        marker: marker, payloadType: 101, sequenceNumber: seq, timestamp: ts, event: event, end: end, duration: duration
    )
}

@Suite("RTP sender: audio and RFC 4733 §2.5 events")
struct RTPSenderTests {
    @Test func anEventIsOneTimestampGrowingDurationsAndThreeEndsOnThreeIntervals() {
        var h = SenderHarness()
        #expect(h.interval() == [audioPacket(seq: 1000, ts: 5000)])
        // Digit 5 from sample 160 for 640 samples (4 intervals).
        #expect(
            h.interval(update(5, start: 160, duration: 160)) == [eventPacket(seq: 1001, ts: 5160, 5, marker: true, 160)]
        )
        #expect(h.interval(update(5, start: 160, duration: 320)) == [eventPacket(seq: 1002, ts: 5160, 5, 320)])
        #expect(h.interval(update(5, start: 160, duration: 480)) == [eventPacket(seq: 1003, ts: 5160, 5, 480)])
        #expect(
            h.interval(update(5, start: 160, duration: 640, ended: true))
                == [eventPacket(seq: 1004, ts: 5160, 5, end: true, 640)])
        // The end packet again at each of the next two intervals, audio still muted.
        #expect(h.interval() == [eventPacket(seq: 1005, ts: 5160, 5, end: true, 640)])
        #expect(h.interval() == [eventPacket(seq: 1006, ts: 5160, 5, end: true, 640)])
        #expect(h.interval() == [audioPacket(seq: 1007, ts: 5000 + 7 * 160)])
        #expect(h.sender.samples == 8 * 160 && !h.sender.isSendingEvent)
    }

    @Test func aNewEventDuringTheEndRetransmissionsSendsBoth() {
        var h = SenderHarness()
        _ = h.interval(update(1, start: 0, duration: 160))
        #expect(
            h.interval(update(1, start: 0, duration: 300, ended: true)) == [
                eventPacket(seq: 1001, ts: 5000, 1, end: true, 300)
            ])
        #expect(
            h.interval(update(2, start: 400, duration: 80)) == [
                eventPacket(seq: 1002, ts: 5000, 1, end: true, 300),
                eventPacket(seq: 1003, ts: 5400, 2, marker: true, 80),
            ])
        #expect(
            h.interval(update(2, start: 400, duration: 240)) == [
                eventPacket(seq: 1004, ts: 5000, 1, end: true, 300),
                eventPacket(seq: 1005, ts: 5400, 2, 240),
            ])
        #expect(h.interval(update(2, start: 400, duration: 400)) == [eventPacket(seq: 1006, ts: 5400, 2, 400)])
    }

    @Test func aLongEventIsSplitAt0xFFFFWithTheSegmentEndSentThreeTimes() {
        var h = SenderHarness()
        var all: [[SentPacket]] = []
        var duration = 160
        while duration <= 66_400 {
            all.append(h.interval(update(9, start: 0, duration: duration)))
            duration += 160
        }
        all.append(h.interval(update(9, start: 0, duration: 66_560, ended: true)))
        all.append(h.interval())
        all.append(h.interval())
        all.append(h.interval())
        // 65535 = 409·160 + 95: the interval reaching 65600 (the 410th) closes the first segment.
        let crossing = 409
        #expect(all[crossing - 1].count == 1 && all[crossing - 1][0].duration == 65440)
        let seq0 = all[crossing][0].sequenceNumber
        #expect(
            all[crossing] == [
                eventPacket(seq: seq0, ts: 5000, 9, 0xFFFF),
                eventPacket(seq: seq0 + 1, ts: 5000 + 0xFFFF, 9, 65 /* 65600 - 65535 */),
            ])
        #expect(
            all[crossing + 1] == [
                eventPacket(seq: seq0 + 2, ts: 5000, 9, 0xFFFF),
                eventPacket(seq: seq0 + 3, ts: 5000 + 0xFFFF, 9, 225),
            ])
        #expect(
            all[crossing + 2] == [
                eventPacket(seq: seq0 + 4, ts: 5000, 9, 0xFFFF),
                eventPacket(seq: seq0 + 5, ts: 5000 + 0xFFFF, 9, 385),
            ])
        #expect(all[crossing + 3].count == 1)
        let endIndex = all.count - 4
        let end = eventPacket(seq: 0, ts: 5000 + 0xFFFF, 9, end: true, UInt16(66_560 - 0xFFFF))
        for k in 0..<3 {
            #expect(all[endIndex + k].count == 1)
            var p = all[endIndex + k][0]
            #expect(p.sequenceNumber == all[endIndex][0].sequenceNumber &+ UInt16(k))
            p.sequenceNumber = 0
            #expect(p == end)
        }
        #expect(all.last?.first?.payloadType == 0)
        // Only the very first packet has the marker; sequence numbers advance on every packet.
        let flat = all.flatMap { $0 }
        #expect(flat.filter(\.marker).count == 1 && flat[0].marker)
        #expect(zip(flat, flat.dropFirst()).allSatisfy { $1.sequenceNumber == $0.sequenceNumber &+ 1 })
    }

    @Test func anEventThatStopsWithoutItsEndIsEndedWithItsLastDuration() {
        var h = SenderHarness()
        _ = h.interval(update(4, start: 0, duration: 160))
        #expect(h.interval() == [eventPacket(seq: 1001, ts: 5000, 4, end: true, 160)])
        #expect(h.interval() == [eventPacket(seq: 1002, ts: 5000, 4, end: true, 160)])
        #expect(h.interval() == [eventPacket(seq: 1003, ts: 5000, 4, end: true, 160)])
        #expect(h.interval() == [audioPacket(seq: 1004, ts: 5000 + 4 * 160)])
    }

    @Test func sequenceNumbersAndTimestampsWrap() {
        var h = SenderHarness()
        h.sender = RTPSender(
            audioPayloadType: 8, eventPayloadType: 101, ssrc: 0x1122_3344,
            firstSequenceNumber: 0xFFFF, timestampBase: 0xFFFF_FF60)
        #expect(h.interval().map(\.sequenceNumber) == [0xFFFF])
        let second = h.interval()
        #expect(second.map(\.sequenceNumber) == [0] && second.map(\.timestamp) == [0] && second[0].payloadType == 8)
    }

    @Test func streamsStartAtRandomPoints() {
        let a = RTPSender(audioPayloadType: 0, eventPayloadType: 101)
        let b = RTPSender(audioPayloadType: 0, eventPayloadType: 101)
        #expect(a.ssrc != b.ssrc || a.timestampBase != b.timestampBase || a.nextSequenceNumber != b.nextSequenceNumber)
    }
}
