import RTP
import Testing

/// Feeds packets (timestamp, sequence, event, end, duration) and returns the presses reported.
func presses(
    _ packets: [(ts: UInt32, seq: UInt16, event: UInt8, end: Bool, duration: UInt16)],
    ssrc: UInt32 = 0xCAFE
) -> [UInt8] {
    var receiver = TelephoneEventReceiver()
    var out: [UInt8] = []
    for p in packets {
        let header = RTPHeader(marker: false, payloadType: 101, sequenceNumber: p.seq, timestamp: p.ts, ssrc: ssrc)
        if let code = receiver.receive(
            header, TelephoneEvent(event: p.event, end: p.end, volume: 10, duration: p.duration))
        {
            out.append(code)
        }
    }
    return out
}

/// One event as a sender following RFC 4733 sends it: updates every 160 samples, then three end packets.
func event(
    _ code: UInt8, ts: UInt32, seq: UInt16, updates: Int = 9
) -> [(ts: UInt32, seq: UInt16, event: UInt8, end: Bool, duration: UInt16)] {
    var packets: [(ts: UInt32, seq: UInt16, event: UInt8, end: Bool, duration: UInt16)] = []
    for i in 1...updates { packets.append((ts, seq &+ UInt16(i - 1), code, false, UInt16(160 * i))) }
    for j in 0..<3 { packets.append((ts, seq &+ UInt16(updates + j), code, true, UInt16(160 * updates))) }
    return packets
}

@Suite("RFC 4733 receiver: one press per event")
struct TelephoneEventReceiverTests {
    @Test func oneEventWithGrowingDurationIsOnePress() {
        // The "222222" problem: nine updates and three end packets of one key are one press.
        #expect(presses(event(2, ts: 8000, seq: 100)) == [2])
    }

    @Test func aLostFirstPacketReportsOnTheNext() {
        #expect(presses(Array(event(5, ts: 8000, seq: 100).dropFirst(3))) == [5])
    }

    @Test func repeatedEndPacketsAreNotPresses() {
        let packets = event(7, ts: 8000, seq: 1)
        #expect(presses(packets + Array(packets.suffix(3)) + Array(packets.suffix(3))) == [7])
    }

    @Test func lostEndPacketsStillLetTheNextEventReport() {
        let first = Array(event(1, ts: 8000, seq: 1).prefix(9))  // no end packet arrives
        let second = event(1, ts: 8000 + 4000, seq: 13)
        #expect(presses(first + second) == [1, 1])
    }

    @Test func twoEqualDigitsWithDifferentTimestampsAreTwoPresses() {
        #expect(presses(event(3, ts: 1000, seq: 1) + event(3, ts: 5000, seq: 20)) == [3, 3])
    }

    @Test func aLatePacketOfTheEarlierEventIsIgnored() {
        let a = event(4, ts: 1000, seq: 1)
        let b = event(6, ts: 5000, seq: 20)
        #expect(presses(Array(b.prefix(2)) + [a[5]] + Array(b.dropFirst(2))) == [6])
        #expect(presses(a + Array(b.prefix(2)) + [a[11]] + Array(b.dropFirst(2))) == [4, 6])
    }

    @Test func sequenceAndTimestampWrapAreTolerated() {
        let wrapping = event(8, ts: 0xFFFF_FF00, seq: 65530) + event(9, ts: 0x0000_0A00, seq: 65530 &+ 12)
        #expect(presses(wrapping) == [8, 9])
    }

    @Test func theNextSegmentOfALongEventIsTheSameKey() {
        var packets = event(0, ts: 50_000, seq: 1, updates: 3)
        packets.removeLast(3)
        packets.append((50_000, 4, 0, false, 0xFFFF))
        packets.append((50_000 + 0xFFFF, 5, 0, false, 160))
        packets.append((50_000 + 0xFFFF, 6, 0, true, 320))
        #expect(presses(packets) == [0])
    }

    @Test func eventsAbove15AreNotDigits() {
        #expect(
            presses(event(16, ts: 1000, seq: 1) + event(32, ts: 3000, seq: 20) + event(11, ts: 6000, seq: 40)) == [11])
    }

    @Test func aNewSourceStartsAfresh() {
        var receiver = TelephoneEventReceiver()
        let payload = TelephoneEvent(event: 5, end: false, volume: 10, duration: 160)
        let a = RTPHeader(marker: true, payloadType: 101, sequenceNumber: 1, timestamp: 9000, ssrc: 1)
        let b = RTPHeader(marker: true, payloadType: 101, sequenceNumber: 1, timestamp: 100, ssrc: 2)
        #expect(receiver.receive(a, payload) == 5)
        #expect(receiver.receive(b, payload) == 5)
    }
}
