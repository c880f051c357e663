import NIOCore

// A SIP request or response (RFC 3261 §7): start line, header fields, body.

/// A SIP request or response.
///
/// Parse one with `init(parsing:limits:)` (bytes, a `ByteBuffer` or text); read its headers through the typed accessors
/// (``topVia``, ``cseq``, ``from`` ...), which throw a ``SIPParseError`` naming the header when it is missing
/// or malformed; write one with ``serialized(allocator:)``, which always sets Content-Length from the body.
public struct SIPMessage: Sendable, Equatable {
    /// The first line: a request line (§7.1) or a status line (§7.2).
    public enum StartLine: Sendable, Equatable {
        /// `METHOD Request-URI SIP/2.0`.
        case request(method: String, uri: String)
        /// `SIP/2.0 Status-Code Reason-Phrase`.
        case response(status: Int, reason: String)
    }

    /// The bounds the parser applies before it allocates (a datagram is at most 65,535 bytes).
    public struct Limits: Sendable, Equatable {
        /// The largest message accepted, in bytes.
        public var maximumMessageSize: Int
        /// The most header lines accepted (after folding).
        public var maximumHeaderCount: Int
        /// The longest line accepted (the start line, or one header after folding), in bytes.
        public var maximumLineLength: Int

        /// Limits for SIP over UDP.
        public init(maximumMessageSize: Int = 65_535, maximumHeaderCount: Int = 128, maximumLineLength: Int = 8192) {
            self.maximumMessageSize = maximumMessageSize
            self.maximumHeaderCount = maximumHeaderCount
            self.maximumLineLength = maximumLineLength
        }
    }

    /// The request line or status line.
    public var startLine: StartLine
    /// The header fields, in order.
    public var headers: SIPHeaders
    /// The body (for SIP over UDP without Content-Length: the rest of the datagram, §18.3).
    public var body: [UInt8]

    /// A message from its parts.
    public init(startLine: StartLine, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    /// The method of a request, nil for a response.
    public var method: String? {
        if case .request(let method, _) = startLine { return method }
        return nil
    }

    /// The status code of a response, nil for a request.
    public var status: Int? {
        if case .response(let status, _) = startLine { return status }
        return nil
    }

    /// The start line as written (without CRLF).
    public var startLineText: String {
        switch startLine {
        case .request(let method, let uri): return "\(method) \(uri) SIP/2.0"
        case .response(let status, let reason): return "SIP/2.0 \(status) \(reason)"
        }
    }

    // MARK: - Typed headers

    /// The Request-URI of a request, parsed.
    public var requestURI: SIPURI {
        get throws(SIPParseError) {
            guard case .request(_, let uri) = startLine else { throw .invalidHeader("Request-URI", "not a request") }
            return try SIPURI(uri, header: "Request-URI")
        }
    }

    /// Every Via value in order: repeated headers and comma-separated lists (§7.3.1, §20.42).
    public var vias: [SIPVia] {
        get throws(SIPParseError) {
            let values = headers.values("Via")
            guard !values.isEmpty else { throw .missingHeader("Via") }
            var result: [SIPVia] = []
            result.reserveCapacity(values.count)
            for value in values { result.append(try SIPVia(value)) }
            return result
        }
    }

    /// The first Via value: where a response goes (§18.2.2).
    public var topVia: SIPVia {
        get throws(SIPParseError) {
            guard let first = headers.values("Via").first else { throw .missingHeader("Via") }
            return try SIPVia(first)
        }
    }

    /// The From header (§20.20).
    public var from: SIPNameAddress {
        get throws(SIPParseError) { try nameAddress("From") }
    }

    /// The To header (§20.39).
    public var to: SIPNameAddress {
        get throws(SIPParseError) { try nameAddress("To") }
    }

    /// The Call-ID (§20.8): a word, possibly `word@word`, compared byte for byte.
    public var callID: String {
        get throws(SIPParseError) {
            let lines = headers.lines("Call-ID")
            guard let value = lines.first else { throw .missingHeader("Call-ID") }
            guard lines.count == 1 else { throw .invalidHeader("Call-ID", "repeated") }
            guard !value.isEmpty, value.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw .invalidHeader("Call-ID")
            }
            return value
        }
    }

    /// The CSeq (§20.16).
    public var cseq: SIPCSeq {
        get throws(SIPParseError) {
            let lines = headers.lines("CSeq")
            guard let value = lines.first else { throw .missingHeader("CSeq") }
            guard lines.count == 1 else { throw .invalidHeader("CSeq", "repeated") }
            return try SIPCSeq(value)
        }
    }

    /// The first Contact (§20.10), nil when absent.
    public var contact: SIPNameAddress? {
        get throws(SIPParseError) {
            guard let first = headers.values("Contact").first else { return nil }
            guard first != "*" else { return nil }
            return try SIPNameAddress(first, header: "Contact")
        }
    }

    /// The Record-Route values in order (§20.30), as written.
    public var recordRoute: [String] { headers.values("Record-Route") }

    /// Max-Forwards (§20.22), nil when absent.
    public var maxForwards: Int? {
        get throws(SIPParseError) {
            guard let value = headers["Max-Forwards"] else { return nil }
            guard let number = decimal(value), number <= 255 else { throw .invalidHeader("Max-Forwards") }
            return number
        }
    }

    /// The option tags of Require (§20.32), in order.
    public var require: [String] { headers.values("Require") }

    private func nameAddress(_ name: String) throws(SIPParseError) -> SIPNameAddress {
        let lines = headers.lines(name)
        guard let value = lines.first else { throw .missingHeader(name) }
        guard lines.count == 1 else { throw .invalidHeader(name, "repeated") }
        return try SIPNameAddress(value, header: name)
    }

    // MARK: - Writing

    /// The message as bytes: start line, headers (Content-Length replaced by the body's length), CRLF, body.
    public func serialized(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 512 + body.count)
        write(into: &buffer)
        return buffer
    }

    /// Writes the message into `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeString(startLineText)
        buffer.writeString("\r\n")
        for field in headers where field.key != "content-length" {
            buffer.writeString(field.name)
            buffer.writeString(": ")
            buffer.writeString(field.value)
            buffer.writeString("\r\n")
        }
        buffer.writeString("Content-Length: \(body.count)\r\n\r\n")
        buffer.writeBytes(body)
    }

    /// The message as text (bodies of SIP are text; invalid UTF-8 is replaced).
    public var text: String {
        var buffer = serialized()
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }
}
