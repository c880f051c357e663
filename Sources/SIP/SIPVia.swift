// The Via header (RFC 3261 §20.42, §18.2.1) with RFC 3581's rport.

/// One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;rport;received=...`.
public struct SIPVia: Sendable, Equatable, CustomStringConvertible {
    /// RFC 3581 `rport`: absent, asked for (no value), or filled in by a server.
    public enum ResponsePort: Sendable, Equatable {
        /// No `rport` parameter.
        case absent
        /// `rport` without a value: the client asks for the response at the source port.
        case requested
        /// `rport=PORT`.
        case value(Int)
    }

    /// The transport, uppercased (`UDP`, `TCP`, `TLS`).
    public var transport: String
    /// The sent-by host.
    public var host: String
    /// The sent-by port, when given.
    public var port: Int?
    /// The parameters in order, names lowercased.
    public var parameters: [(name: String, value: String?)]

    /// The `branch` parameter (the transaction identifier of RFC 3261 §17.2.3), if any.
    public var branch: String? { parameter("branch") ?? nil }
    /// The `received` parameter, if any.
    public var received: String? { parameter("received") ?? nil }
    /// The `rport` parameter (RFC 3581).
    public var responsePort: ResponsePort {
        switch parameter("rport") {
        case .none: return .absent
        case .some(.none): return .requested
        case .some(.some(let text)): return decimal(text).map(ResponsePort.value) ?? .requested
        }
    }
    /// `host:port` as written in sent-by (the port only when given).
    public var sentBy: String { port.map { "\(host):\($0)" } ?? host }

    /// Parses one Via value (not a comma-separated list).
    /// - Throws: `SIPParseError.invalidHeader("Via")`.
    public init(_ text: String) throws(SIPParseError) {
        // sent-protocol = "SIP" / "2.0" / transport, with optional whitespace around the slashes (§25.1).
        let parts = text.split(separator: "/", maxSplits: 2)
        guard parts.count == 3, trimmed(parts[0]).uppercased() == "SIP", trimmed(parts[1]) == "2.0" else {
            throw .invalidHeader("Via", "sent-protocol is not SIP/2.0")
        }
        let rest = Substring(trimmed(parts[2]))
        guard let space = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
            throw .invalidHeader("Via", "no sent-by")
        }
        transport = rest[..<space].uppercased()
        guard !transport.isEmpty else { throw .invalidHeader("Via", "no transport") }
        var sentBy = rest[rest.index(after: space)...]
        var parameterText: Substring = ""
        if let semicolon = sentBy.firstIndex(of: ";") {
            parameterText = sentBy[sentBy.index(after: semicolon)...]
            sentBy = sentBy[..<semicolon]
        }
        (host, port) = try SIPURI.hostPort(sentBy, header: "Via")
        parameters = SIPURI.parameters(parameterText)
    }

    /// The value of parameter `name`: nil when absent, `.some(nil)` when present without a value.
    public func parameter(_ name: String) -> String?? {
        let name = name.lowercased()
        return parameters.first { $0.name == name }.map { $0.value }
    }

    /// Sets (or adds, at the end) the parameter `name`.
    public mutating func setParameter(_ name: String, _ value: String?) {
        let name = name.lowercased()
        if let index = parameters.firstIndex(where: { $0.name == name }) {
            parameters[index].value = value
        } else {
            parameters.append((name, value))
        }
    }

    /// The Via value as it is written in a message.
    public var description: String {
        var text = "SIP/2.0/\(transport) \(sentBy)"
        for (name, value) in parameters {
            text += value.map { ";\(name)=\($0)" } ?? ";\(name)"
        }
        return text
    }

    /// Whether the two are the same text (as written, so that a message is compared byte for byte).
    public static func == (lhs: SIPVia, rhs: SIPVia) -> Bool { lhs.description == rhs.description }
}
