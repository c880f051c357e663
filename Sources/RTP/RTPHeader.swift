// The RTP fixed header of RFC 3550 §5.1, read from and written into raw datagram bytes without allocation:
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                           timestamp                           |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |           synchronization source (SSRC) identifier            |
//    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//    |            contributing source (CSRC) identifiers             |
//    |                             ....                              |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A datagram is untrusted: the version must be 2, and the CSRC list (4·CC bytes), the header extension
// (RFC 3550 §5.3.1: 4 bytes, then a 16-bit length in 32-bit words) and the padding (§5.1: the last byte
// counts the padding bytes, itself included) must all fit in the datagram. Anything else is a typed
// error, never a trap.

/// The fixed header of an RTP packet (RFC 3550 §5.1), and where its payload lies in the datagram.
public struct RTPHeader: Sendable, Hashable {
    /// The size of the fixed header, without CSRCs or extension.
    public static let fixedSize = 12

    /// The marker bit (for telephone-event: the first packet of an event, RFC 4733 §2.5.1.1).
    public var marker: Bool
    /// The payload type, 0...127.
    public var payloadType: UInt8
    /// The sequence number: +1 per packet, from a random start.
    public var sequenceNumber: UInt16
    /// The sampling instant of the payload's first sample, in the payload format's clock.
    public var timestamp: UInt32
    /// The synchronization source.
    public var ssrc: UInt32
    /// Contributing sources listed after the fixed header (0 when written).
    public private(set) var csrcCount: Int = 0
    /// Whether a header extension follows the CSRC list (false when written).
    public private(set) var hasExtension = false
    /// Padding bytes at the end of the datagram, the count byte included (0 when written).
    public private(set) var paddingLength = 0
    /// The payload's offset in the parsed datagram (``fixedSize`` when written).
    public private(set) var payloadOffset = RTPHeader.fixedSize
    /// The payload's length in the parsed datagram.
    public private(set) var payloadLength = 0

    /// A header to send: no CSRC, no extension, no padding.
    public init(marker: Bool, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32) {
        self.marker = marker
        self.payloadType = payloadType & 0x7F
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
    }

    /// Reads the header of a received datagram and locates its payload.
    ///
    /// - Parameter datagram: the whole UDP payload.
    /// - Throws: ``RTPHeaderError`` when the datagram is not an RTP version 2 packet whose CSRC list,
    ///   extension and padding fit in it.
    public init(parsing datagram: UnsafeRawBufferPointer) throws(RTPHeaderError) {
        let size = datagram.count
        guard size >= RTPHeader.fixedSize, let base = datagram.baseAddress else { throw .tooShort }
        let b0 = base.load(as: UInt8.self)
        guard b0 >> 6 == 2 else { throw .unsupportedVersion }
        let b1 = base.load(fromByteOffset: 1, as: UInt8.self)
        marker = b1 & 0x80 != 0
        payloadType = b1 & 0x7F
        sequenceNumber =
            UInt16(base.load(fromByteOffset: 2, as: UInt8.self)) << 8
            | UInt16(base.load(fromByteOffset: 3, as: UInt8.self))
        timestamp = RTPHeader.readUInt32(base, at: 4)
        ssrc = RTPHeader.readUInt32(base, at: 8)
        csrcCount = Int(b0 & 0x0F)
        var offset = RTPHeader.fixedSize + 4 * csrcCount
        guard offset <= size else { throw .csrcOverflow }
        hasExtension = b0 & 0x10 != 0
        if hasExtension {
            // RFC 3550 §5.3.1: 16-bit profile-defined field, 16-bit length in 32-bit words, then the words.
            guard offset + 4 <= size else { throw .extensionOverflow }
            let words =
                Int(base.load(fromByteOffset: offset + 2, as: UInt8.self)) << 8
                | Int(base.load(fromByteOffset: offset + 3, as: UInt8.self))
            offset += 4 + 4 * words
            guard offset <= size else { throw .extensionOverflow }
        }
        if b0 & 0x20 != 0 {
            let padding = Int(base.load(fromByteOffset: size - 1, as: UInt8.self))
            guard padding >= 1, padding <= size - offset else { throw .invalidPadding }
            paddingLength = padding
        }
        payloadOffset = offset
        payloadLength = size - offset - paddingLength
    }

    /// The payload of the datagram this header was parsed from.
    ///
    /// - Parameter datagram: the same bytes given to ``init(parsing:)``.
    public func payload(in datagram: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard payloadOffset + payloadLength <= datagram.count else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(rebasing: datagram[payloadOffset..<(payloadOffset + payloadLength)])
    }

    /// Writes the 12-byte fixed header (version 2, no padding, extension or CSRC).
    ///
    /// - Parameter buffer: where to write; at least ``fixedSize`` bytes.
    /// - Returns: the bytes written (``fixedSize``), or `nil` when the buffer is too small.
    @discardableResult
    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard buffer.count >= RTPHeader.fixedSize, let base = buffer.baseAddress else { return nil }
        base.storeBytes(of: 0x80, as: UInt8.self)
        base.storeBytes(of: (marker ? 0x80 : 0) | (payloadType & 0x7F), toByteOffset: 1, as: UInt8.self)
        base.storeBytes(of: sequenceNumber.bigEndian, toByteOffset: 2, as: UInt16.self)
        base.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
        base.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
        return RTPHeader.fixedSize
    }

    @inline(__always)
    static func readUInt32(_ base: UnsafeRawPointer, at offset: Int) -> UInt32 {
        UInt32(base.load(fromByteOffset: offset, as: UInt8.self)) << 24
            | UInt32(base.load(fromByteOffset: offset + 1, as: UInt8.self)) << 16
            | UInt32(base.load(fromByteOffset: offset + 2, as: UInt8.self)) << 8
            | UInt32(base.load(fromByteOffset: offset + 3, as: UInt8.self))
    }
}
