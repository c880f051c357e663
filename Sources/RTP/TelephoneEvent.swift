// The RFC 4733 §2.3 telephone-event payload, network byte order:
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |     event     |E|R| volume    |          duration             |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Events 0-9 are the digits, 10 is *, 11 is #, 12-15 are A-D (RFC 4733 §3.2); volume 0...63 means 0 to
// -63 dBm0; the duration is in timestamp units since the event's (segment's) start.

/// One RFC 4733 telephone-event payload.
public struct TelephoneEvent: Sendable, Hashable {
    /// The payload's size in bytes.
    public static let size = 4

    /// The event code (0-15 are the DTMF digits).
    public var event: UInt8
    /// The E bit: this is a final packet of the event.
    public var end: Bool
    /// The volume, 0...63 (0 to -63 dBm0).
    public var volume: UInt8
    /// The duration so far, in timestamp units.
    public var duration: UInt16

    /// Creates a payload.
    public init(event: UInt8, end: Bool, volume: UInt8, duration: UInt16) {
        self.event = event
        self.end = end
        self.volume = volume & 0x3F
        self.duration = duration
    }

    /// Reads the first event of a telephone-event payload.
    ///
    /// - Parameter payload: the RTP payload.
    /// - Returns: the event, or `nil` when the payload is shorter than 4 bytes.
    public init?(payload: UnsafeRawBufferPointer) {
        guard payload.count >= TelephoneEvent.size, let base = payload.baseAddress else { return nil }
        event = base.load(as: UInt8.self)
        let flags = base.load(fromByteOffset: 1, as: UInt8.self)
        end = flags & 0x80 != 0
        volume = flags & 0x3F
        duration =
            UInt16(base.load(fromByteOffset: 2, as: UInt8.self)) << 8
            | UInt16(base.load(fromByteOffset: 3, as: UInt8.self))
    }

    /// Writes the 4-byte payload (the R bit zero).
    ///
    /// - Returns: the bytes written (4), or `nil` when the buffer is too small.
    @discardableResult
    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard buffer.count >= TelephoneEvent.size, let base = buffer.baseAddress else { return nil }
        base.storeBytes(of: event, as: UInt8.self)
        base.storeBytes(of: (end ? 0x80 : 0) | (volume & 0x3F), toByteOffset: 1, as: UInt8.self)
        base.storeBytes(of: duration.bigEndian, toByteOffset: 2, as: UInt16.self)
        return TelephoneEvent.size
    }
}
