// A call's RTP packets for its next deadline, prepared one packet interval ahead.
//
// A media thread's tick first sends what every due call prepared at its previous deadline, then receives,
// renders and prepares the next packets. The packets leave at their deadline after only the send calls of
// the calls due before them, not after their receive, G.711 decode, DTMF receiver and IVR frame too, so the
// lateness of the last packet of a busy tick shrinks to the cost of its sends. The price is one packet
// interval more between a key press and the audio it changes (the IVR still hears every sample).

import RTP

/// Length-prefixed packets in a fixed region of the call's buffer (no allocation per packet).
struct MediaOutbox {
    /// Room for the frame's audio packet (12 + 160 bytes for 20 ms of G.711, up to 960 for 120 ms) and the
    /// telephone-event packets of a busy interval (the updates of the events of the frame, and the three
    /// retransmitted finals of RFC 4733 §2.5.1.4, with room to spare), each with its 2-byte length. A packet
    /// that finds no room is sent at once instead.
    static func byteCount(samplesPerFrame: Int) -> Int {
        (2 + RTPHeader.fixedSize + samplesPerFrame) + 12 * (2 + RTPHeader.fixedSize + TelephoneEvent.size)
    }

    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes in use (lengths and packets).
    var used = 0

    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    var isEmpty: Bool { used == 0 }

    /// Keeps a copy of `packet` for the next deadline; false when there is no room (send it now instead).
    mutating func append(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard packet.count <= Int(UInt16.max), used + 2 + packet.count <= capacity,
            let source = packet.baseAddress
        else { return false }
        base.storeBytes(of: UInt16(truncatingIfNeeded: packet.count), toByteOffset: used, as: UInt16.self)
        (base + used + 2).copyMemory(from: source, byteCount: packet.count)
        used += 2 + packet.count
        return true
    }

    /// Lists the kept packets, in order, as offsets from `base` and lengths (at most `limit`; the rest are
    /// dropped, which a full outbox of the largest packets never reaches), and empties the outbox.
    mutating func take(
        offsets: UnsafeMutablePointer<UInt32>, lengths: UnsafeMutablePointer<UInt32>,
        limit: Int
    ) -> Int {
        var offset = 0
        var n = 0
        while offset + 2 <= used, n < limit {
            let count = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            guard offset + 2 + count <= used else { break }
            offsets[n] = UInt32(truncatingIfNeeded: offset + 2)
            lengths[n] = UInt32(truncatingIfNeeded: count)
            n += 1
            offset += 2 + count
        }
        used = 0
        return n
    }

    /// Hands every kept packet to `send`, in order, and empties the outbox.
    mutating func drain(_ send: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset + 2 <= used {
            let count = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            guard offset + 2 + count <= used else { break }
            send(UnsafeRawBufferPointer(start: base + offset + 2, count: count))
            offset += 2 + count
        }
        used = 0
    }
}
