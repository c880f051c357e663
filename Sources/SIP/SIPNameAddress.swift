// From, To, Contact, Route and Record-Route values (RFC 3261 §20.10, §25.1 name-addr / addr-spec).

/// A `name-addr` or `addr-spec` with header parameters: `"Alice" <sip:alice@example.com>;tag=1928301774`.
public struct SIPNameAddress: Sendable, Equatable, CustomStringConvertible {
    /// The display name without quotes, when there is one.
    public var displayName: String?
    /// The URI, without angle brackets.
    public var uri: String
    /// The header parameters (after the URI), names lowercased, in order.
    public var parameters: [(name: String, value: String?)]

    /// The `tag` parameter (RFC 3261 §19.3), if any.
    public var tag: String? { parameters.first { $0.name == "tag" }?.value ?? nil }

    /// Parses a name-addr or addr-spec. Without angle brackets, parameters after `;` belong to the header.
    /// - Parameters:
    ///   - text: the header value (one element of a list).
    ///   - header: the header name, for the error.
    /// - Throws: `SIPParseError.invalidHeader(header)`.
    public init(_ text: String, header: String) throws(SIPParseError) {
        var rest = Substring(trimmed(text))
        displayName = nil
        if rest.hasPrefix("\"") {
            var name = ""
            var index = rest.index(after: rest.startIndex)
            var closed = false
            while index < rest.endIndex {
                let character = rest[index]
                if character == "\\" {
                    index = rest.index(after: index)
                    if index < rest.endIndex { name.append(rest[index]) }
                } else if character == "\"" {
                    closed = true
                    break
                } else {
                    name.append(character)
                }
                if index < rest.endIndex { index = rest.index(after: index) }
            }
            guard closed else { throw .invalidHeader(header, "unterminated display name") }
            displayName = name
            rest = Substring(trimmed(rest[rest.index(after: index)...]))
            guard rest.hasPrefix("<") else { throw .invalidHeader(header, "display name without <URI>") }
        }
        var parameterText: Substring = ""
        if let open = rest.firstIndex(of: "<") {
            if displayName == nil {
                let name = trimmed(rest[..<open])
                if !name.isEmpty { displayName = name }
            }
            guard let close = rest[open...].firstIndex(of: ">") else {
                throw .invalidHeader(header, "unterminated <URI>")
            }
            uri = trimmed(rest[rest.index(after: open)..<close])
            let after = Substring(trimmed(rest[rest.index(after: close)...]))
            if !after.isEmpty {
                guard after.hasPrefix(";") else { throw .invalidHeader(header, "junk after URI") }
                parameterText = after.dropFirst()
            }
        } else {
            if let semicolon = rest.firstIndex(of: ";") {
                parameterText = rest[rest.index(after: semicolon)...]
                rest = rest[..<semicolon]
            }
            uri = trimmed(rest)
            guard !uri.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw .invalidHeader(header, "URI with spaces")
            }
        }
        guard !uri.isEmpty, uri.contains(":") else { throw .invalidHeader(header, "no URI") }
        parameters = SIPURI.parameters(parameterText)
    }

    /// The URI parsed.
    /// - Throws: `SIPParseError.invalidHeader(header)` when it is not a sip, sips or tel URI.
    public func parsedURI(header: String) throws(SIPParseError) -> SIPURI { try SIPURI(uri, header: header) }

    /// The value as written in a message, always in the `<URI>` form.
    public var description: String {
        var text = ""
        if let displayName {
            var escaped = ""
            for character in displayName {
                if character == "\"" || character == "\\" { escaped.append("\\") }
                escaped.append(character)
            }
            text = "\"\(escaped)\" "
        }
        text += "<\(uri)>"
        for (name, value) in parameters {
            text += value.map { ";\(name)=\($0)" } ?? ";\(name)"
        }
        return text
    }

    /// Whether the two are the same text (as written, so that a message is compared byte for byte).
    public static func == (lhs: SIPNameAddress, rhs: SIPNameAddress) -> Bool { lhs.description == rhs.description }
}
