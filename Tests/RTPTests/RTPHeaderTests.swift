import RTP
import Testing

/// Parses `bytes` as an RTP datagram.
func parse(_ bytes: [UInt8]) -> Result<RTPHeader, RTPHeaderError> {
    bytes.withUnsafeBytes { raw in
        do throws(RTPHeaderError) { return .success(try RTPHeader(parsing: raw)) } catch { return .failure(error) }
    }
}

let fixed: [UInt8] = [0x80, 0x80 | 101, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04]

@Suite("RTP header (RFC 3550 §5.1)")
struct RTPHeaderTests {
    @Test func aVersion2PacketGivesItsFieldsAndPayload() throws {
        let header = try parse(fixed + [9, 0x8A, 0x03, 0x20]).get()
        #expect(header.marker && header.payloadType == 101)
        #expect(header.sequenceNumber == 0x1234 && header.timestamp == 0xDEAD_BEEF && header.ssrc == 0x0102_0304)
        #expect(header.payloadOffset == 12 && header.payloadLength == 4)
    }

    @Test func csrcsExtensionAndPaddingAreSkipped() throws {
        // CC = 2 (8 bytes), X (4 + 1 word), P (4 bytes of padding, the last one counting them).
        let b0: UInt8 = 0x80 | 0x20 | 0x10 | 2
        let bytes =
            [b0] + fixed.dropFirst() + [UInt8](repeating: 7, count: 8) + [0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4]
            + [0xAA, 0xBB, 0xCC] + [0, 0, 0, 4]
        let header = try parse(bytes).get()
        #expect(header.csrcCount == 2 && header.hasExtension && header.paddingLength == 4)
        #expect(header.payloadOffset == 12 + 8 + 8 && header.payloadLength == 3)
        let payload = bytes.withUnsafeBytes { Array(header.payload(in: $0)) }
        #expect(payload == [0xAA, 0xBB, 0xCC])
    }

    @Test func malformedDatagramsAreTypedErrors() {
        #expect(parse(Array(fixed.prefix(11))) == .failure(.tooShort))
        #expect(parse([]) == .failure(.tooShort))
        #expect(parse([0x40] + fixed.dropFirst()) == .failure(.unsupportedVersion))  // version 1
        #expect(parse([0x00] + fixed.dropFirst()) == .failure(.unsupportedVersion))  // version 0
        #expect(parse([0x8F] + fixed.dropFirst() + [UInt8](repeating: 0, count: 56)) == .failure(.csrcOverflow))
        #expect(parse([0x90] + fixed.dropFirst() + [0, 0]) == .failure(.extensionOverflow))
        #expect(
            parse([0x90] + fixed.dropFirst() + [0xBE, 0xDE, 0x00, 0x02, 1, 2, 3, 4]) == .failure(.extensionOverflow))
        #expect(parse([0xA0] + fixed.dropFirst() + [1, 2, 0]) == .failure(.invalidPadding))  // count 0
        #expect(parse([0xA0] + fixed.dropFirst() + [1, 2, 200]) == .failure(.invalidPadding))  // larger than packet
        #expect(parse([0xA0] + fixed.dropFirst() + [1, 2, 4]) == .failure(.invalidPadding))  // reaches the header
        #expect((try? parse([0xA0] + fixed.dropFirst() + [1, 2, 3]).get())?.payloadLength == 0)
    }

    @Test func randomDatagramsNeverTrapAndStayInBounds() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...40, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if count > 0, Bool.random(using: &generator) { bytes[0] = 0x80 | (bytes[0] & 0x3F) }
            if case .success(let header) = parse(bytes) {
                #expect(header.payloadOffset + header.payloadLength + header.paddingLength == count)
            }
        }
    }

    @Test func writtenHeaderIsTheTwelveBytesOfRFC3550() throws {
        var out = [UInt8](repeating: 0xEE, count: 12)
        let header = RTPHeader(
            marker: true, payloadType: 101, sequenceNumber: 0x1234, timestamp: 0xDEAD_BEEF,
            ssrc: 0x0102_0304)
        let written = out.withUnsafeMutableBytes { header.write(into: $0) }
        #expect(written == 12 && out == fixed)
        var short = [UInt8](repeating: 0, count: 11)
        #expect(short.withUnsafeMutableBytes { header.write(into: $0) } == nil)
    }
}

@Suite("RFC 4733 payload")
struct TelephoneEventPayloadTests {
    @Test func payloadBytesAreEventFlagsAndDuration() throws {
        var out = [UInt8](repeating: 0, count: 4)
        _ = out.withUnsafeMutableBytes {
            TelephoneEvent(event: 11, end: true, volume: 10, duration: 800).write(into: $0)
        }
        #expect(out == [11, 0x8A, 0x03, 0x20])
        let read = out.withUnsafeBytes { TelephoneEvent(payload: $0) }
        #expect(read == TelephoneEvent(event: 11, end: true, volume: 10, duration: 800))
        #expect([UInt8](arrayLiteral: 1, 2, 3).withUnsafeBytes { TelephoneEvent(payload: $0) } == nil)
    }
}
