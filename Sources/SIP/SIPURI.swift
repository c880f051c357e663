// SIP and tel URIs (RFC 3261 §19.1, RFC 3966): the parts a user-agent server needs.

/// A parsed `sip:`, `sips:` or `tel:` URI: user part, host, port and parameters.
public struct SIPURI: Sendable, Equatable, CustomStringConvertible {
    /// `sip`, `sips` or `tel`, lowercased.
    public var scheme: String
    /// The user part (`5145550100` in `sip:5145550100@host`), without the password; for `tel:`, the number.
    /// User parameters (`;phone-context=...`) are not part of it. Nil when the URI has no user part.
    public var user: String?
    /// The host: a name, an IPv4 address or an IPv6 reference in brackets; empty for `tel:`.
    public var host: String
    /// The port, when the URI gives one.
    public var port: Int?
    /// The URI parameters (`;transport=udp;lr`), names lowercased, in order.
    public var parameters: [(name: String, value: String?)]
    /// The URI as it was written.
    public let text: String

    /// Parses a URI.
    /// - Parameters:
    ///   - text: the URI, without angle brackets.
    ///   - header: the header it came from, named in the error.
    /// - Throws: `SIPParseError.invalidHeader(header)` when it is not a sip, sips or tel URI.
    public init(_ text: String, header: String = "Request-URI") throws(SIPParseError) {
        self.text = text
        guard let colon = text.firstIndex(of: ":") else { throw .invalidHeader(header, "no URI scheme") }
        scheme = text[..<colon].lowercased()
        var rest = text[text.index(after: colon)...]
        if let question = rest.firstIndex(of: "?") { rest = rest[..<question] }  // URI headers: not needed
        parameters = []
        switch scheme {
        case "sip", "sips":
            var hostPart = rest
            if let at = rest.lastIndex(of: "@") {
                var userPart = rest[..<at]
                if let password = userPart.firstIndex(of: ":") { userPart = userPart[..<password] }
                if let userParameters = userPart.firstIndex(of: ";") { userPart = userPart[..<userParameters] }
                guard !userPart.isEmpty else { throw .invalidHeader(header, "empty user part") }
                user = String(userPart)
                hostPart = rest[rest.index(after: at)...]
            } else {
                user = nil
            }
            var parameterText: Substring = ""
            if let semicolon = hostPart.firstIndex(of: ";") {
                parameterText = hostPart[hostPart.index(after: semicolon)...]
                hostPart = hostPart[..<semicolon]
            }
            let (parsedHost, parsedPort) = try SIPURI.hostPort(hostPart, header: header)
            host = parsedHost
            port = parsedPort
            parameters = SIPURI.parameters(parameterText)
        case "tel":
            var number = rest
            if let semicolon = rest.firstIndex(of: ";") {
                parameters = SIPURI.parameters(rest[rest.index(after: semicolon)...])
                number = rest[..<semicolon]
            }
            guard !number.isEmpty else { throw .invalidHeader(header, "empty telephone number") }
            user = String(number)
            host = ""
            port = nil
        default:
            throw .invalidHeader(header, "unsupported URI scheme")
        }
    }

    /// The user part with its `%HH` escapes decoded (RFC 3261 §19.1.4: a user part is compared unescaped;
    /// `%2B15145550100` is `+15145550100`). The user part as written when an escape is malformed or the
    /// decoded bytes are not UTF-8; nil when the URI has no user part. The result may hold any character,
    /// control characters included: escape it before it reaches a log line.
    public var unescapedUser: String? {
        guard let user else { return nil }
        guard user.utf8.contains(UInt8(ascii: "%")) else { return user }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(user.utf8.count)
        var iterator = user.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(SIPURI.hexValue),
                let low = iterator.next().flatMap(SIPURI.hexValue)
            else { return user }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self) ?? user
    }

    /// The value of one hexadecimal digit, or nil.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Whether this URI has the parameter `name` (case-insensitive), with or without a value (`;lr`).
    public func hasParameter(_ name: String) -> Bool {
        let name = name.lowercased()
        return parameters.contains { $0.name == name }
    }

    /// The value of the parameter `name` (case-insensitive), nil when absent or without a value.
    public func parameter(_ name: String) -> String? {
        let name = name.lowercased()
        return parameters.first { $0.name == name }?.value ?? nil
    }

    /// The URI's text.
    public var description: String { text }

    /// Whether the two are the same text (as written, so that a message is compared byte for byte).
    public static func == (lhs: SIPURI, rhs: SIPURI) -> Bool { lhs.text == rhs.text }

    /// Splits `host[:port]`, where host may be an IPv6 reference `[...]`.
    static func hostPort(_ text: Substring, header: String) throws(SIPParseError) -> (String, Int?) {
        let text = Substring(trimmed(text))
        guard !text.isEmpty else { throw .invalidHeader(header, "empty host") }
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .invalidHeader(header, "unterminated IPv6 reference")
            }
            host = text[...close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHeader(header, "junk after host") }
                portText = after.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "@" && $0 != "<" && $0 != ">" })
        else { throw .invalidHeader(header, "invalid host") }
        var port: Int?
        if let portText {
            guard let value = decimal(portText), value > 0, value <= 65535 else {
                throw .invalidHeader(header, "invalid port")
            }
            port = value
        }
        return (String(host), port)
    }

    /// `name=value;name;...` into pairs, names lowercased.
    static func parameters(_ text: Substring) -> [(name: String, value: String?)] {
        text.split(separator: ";").compactMap { item in
            let item = trimmed(item)
            guard !item.isEmpty else { return nil }
            if let equals = item.firstIndex(of: "=") {
                return (trimmed(item[..<equals]).lowercased(), trimmed(item[item.index(after: equals)...]))
            }
            return (item.lowercased(), nil)
        }
    }
}

/// A non-negative decimal number of at most 9 digits (no sign, no spaces), or nil.
func decimal<S: StringProtocol>(_ text: S) -> Int? {
    let utf8 = text.utf8
    guard !utf8.isEmpty, utf8.count <= 9 else { return nil }
    var value = 0
    for byte in utf8 {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
}
