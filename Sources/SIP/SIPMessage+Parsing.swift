import NIOCore

// Parsing one SIP message from one UDP datagram (RFC 3261 §7, §18.3). Every length is bounded before a
// string is made of it; malformed input becomes a SIPParseError naming the header, never a trap.

extension SIPMessage {
    /// Parses one message from a datagram.
    /// - Parameters:
    ///   - bytes: the datagram.
    ///   - limits: size, header count and line length bounds.
    /// - Throws: `SIPParseError`: `.notSIP` when the first line is neither a SIP/2.0 request line nor a status
    ///   line; otherwise an error naming the header at fault.
    public init(parsing bytes: ByteBuffer, limits: Limits = Limits()) throws(SIPParseError) {
        let result = bytes.withUnsafeReadableBytes { pointer in
            Result { () throws(SIPParseError) in try SIPMessage(parsing: pointer, limits: limits, lenient: false) }
        }
        self = try result.get()
    }

    /// Parses one message from bytes.
    /// - Throws: `SIPParseError`, as `init(parsing:limits:)` over a `ByteBuffer`.
    public init(parsing bytes: [UInt8], limits: Limits = Limits()) throws(SIPParseError) {
        let result = bytes.withUnsafeBytes { pointer in
            Result { () throws(SIPParseError) in try SIPMessage(parsing: pointer, limits: limits, lenient: false) }
        }
        self = try result.get()
    }

    /// Parses one message from text (tests, scenarios).
    /// - Throws: `SIPParseError`, as `init(parsing:limits:)` over a `ByteBuffer`.
    public init(parsing text: String, limits: Limits = Limits()) throws(SIPParseError) {
        try self.init(parsing: Array(text.utf8), limits: limits)
    }

    /// The start line and every well-formed header line of a datagram, ignoring the body and any header
    /// problem: enough to address a 400 response to a request that failed to parse (§8.2 / §21.4.1).
    /// Nil when the first line is not a SIP request line.
    static func salvageRequest(_ bytes: ByteBuffer, limits: Limits) -> SIPMessage? {
        let result = bytes.withUnsafeReadableBytes { pointer in
            Result { () throws(SIPParseError) in try SIPMessage(parsing: pointer, limits: limits, lenient: true) }
        }
        guard let message = try? result.get(), message.method != nil else { return nil }
        return message
    }

    // MARK: - The parser

    private init(parsing bytes: UnsafeRawBufferPointer, limits: Limits, lenient: Bool) throws(SIPParseError) {
        guard bytes.count <= limits.maximumMessageSize else { throw .messageTooLarge(bytes.count) }
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        var position = 0
        // RFC 3261 §7.5: CRLFs before the start line are ignored (they are also RFC 5626 keep-alives).
        while position < bytes.count, bytes[position] == cr || bytes[position] == lf { position += 1 }

        /// The next line, without its CRLF (a bare LF is accepted), or nil at the end of the datagram.
        func nextLine() -> Range<Int>? {
            guard position < bytes.count else { return nil }
            let start = position
            var end = start
            while end < bytes.count, bytes[end] != lf { end += 1 }
            position = end < bytes.count ? end + 1 : end
            var contentEnd = end
            if contentEnd > start, bytes[contentEnd - 1] == cr { contentEnd -= 1 }
            return start..<contentEnd
        }
        func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        // Start line.
        guard let first = nextLine() else { throw .notSIP }
        guard first.count <= limits.maximumLineLength else { throw .notSIP }
        startLine = try SIPMessage.parseStartLine(string(first))

        // Header lines; a line starting with SP or HT continues the previous one (§7.3.1).
        var fields: [SIPHeaders.Field] = []
        var pendingName: String?
        var pendingValue = ""
        var headerLines = 0
        var ended = false
        func flush() throws(SIPParseError) {
            guard let name = pendingName else { return }
            pendingName = nil
            guard fields.count < limits.maximumHeaderCount else { throw .tooManyHeaders }
            fields.append(SIPHeaders.Field(name: name, value: trimmed(pendingValue)))
        }
        while let line = nextLine() {
            if line.isEmpty {
                ended = true
                break
            }
            headerLines += 1
            guard headerLines <= limits.maximumHeaderCount * 4 else {
                if lenient { break }
                throw .tooManyHeaders
            }
            let firstByte = bytes[line.lowerBound]
            if firstByte == UInt8(ascii: " ") || firstByte == UInt8(ascii: "\t") {
                guard pendingName != nil else {
                    if lenient { continue }
                    throw .malformedHeaderLine
                }
                guard pendingValue.utf8.count + line.count <= limits.maximumLineLength else {
                    if lenient {
                        pendingName = nil
                        continue
                    }
                    throw .lineTooLong(header: pendingName)
                }
                pendingValue += " " + trimmed(string(line))
                continue
            }
            do {
                try flush()
            } catch {
                if lenient { break }
                throw error
            }
            var colon = line.lowerBound
            while colon < line.upperBound, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            let name =
                colon < line.upperBound && colon - line.lowerBound <= 64
                ? trimmed(string(line.lowerBound..<colon)) : ""
            guard isToken(name) else {
                if lenient { continue }
                throw .malformedHeaderLine
            }
            guard line.count <= limits.maximumLineLength else {
                if lenient { continue }
                throw .lineTooLong(header: name)
            }
            pendingName = name
            pendingValue = string((colon + 1)..<line.upperBound)
        }
        do {
            try flush()
        } catch {
            if !lenient { throw error }
        }
        headers = SIPHeaders()
        headers.fields = fields
        body = []
        if lenient { return }

        // Body: Content-Length bytes, or the rest of the datagram when it is absent (§18.3, UDP).
        let remaining = ended ? bytes.count - position : 0
        let lengths = headers.lines("Content-Length")
        if let firstLength = lengths.first {
            guard let length = decimal(firstLength), lengths.allSatisfy({ decimal($0) == length }) else {
                throw .invalidContentLength
            }
            guard length <= remaining else { throw .truncatedBody }
            body = Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
        } else if remaining > 0 {
            body = Array(UnsafeRawBufferPointer(rebasing: bytes[position..<bytes.count]))
        }
    }

    /// Parses `METHOD URI SIP/2.0` or `SIP/2.0 CODE REASON`.
    static func parseStartLine(_ line: String) throws(SIPParseError) -> StartLine {
        if line.utf8.count >= 8, line.prefix(8).uppercased() == "SIP/2.0 " {
            let rest = line.dropFirst(8)
            let code = rest.prefix(3)
            guard let status = decimal(code), code.utf8.count == 3, (100...699).contains(status) else {
                throw .notSIP
            }
            let afterCode = rest.dropFirst(3)
            guard afterCode.isEmpty || afterCode.first == " " else { throw .notSIP }
            return .response(status: status, reason: trimmed(afterCode))
        }
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, isToken(parts[0]), !parts[1].isEmpty, parts[2].uppercased() == "SIP/2.0",
            parts[1].contains(":")
        else { throw .notSIP }
        return .request(method: String(parts[0]), uri: String(parts[1]))
    }
}
