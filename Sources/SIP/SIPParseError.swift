/// Why a datagram is not an acceptable SIP message, naming the header at fault when there is one.
///
/// A struct over a private enum, so kinds can be added without breaking callers (the swift-nio style).
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case notSIP
        case messageTooLarge(Int)
        case lineTooLong
        case tooManyHeaders
        case malformedHeaderLine
        case missingHeader
        case invalidHeader
        case invalidContentLength
        case truncatedBody
    }

    let kind: Kind
    /// The header at fault (full name, e.g. `CSeq`), or nil when the problem is not in one header.
    public let header: String?
    /// What is wrong, in a few words.
    public let detail: String

    init(_ kind: Kind, header: String? = nil, detail: String) {
        self.kind = kind
        self.header = header.map(SIPHeaders.canonicalName)
        self.detail = detail
    }

    /// The datagram does not start with a SIP/2.0 request line or status line (RFC 3261 §7.1, §7.2).
    public static let notSIP = SIPParseError(.notSIP, detail: "not a SIP/2.0 request or status line")
    /// The message is longer than a datagram may be.
    public static func messageTooLarge(_ size: Int) -> SIPParseError {
        SIPParseError(.messageTooLarge(size), detail: "message of \(size) bytes is too large")
    }
    /// A line is longer than the parser's bound.
    public static func lineTooLong(header: String?) -> SIPParseError {
        SIPParseError(.lineTooLong, header: header, detail: "line too long")
    }
    /// More header lines than the parser's bound.
    public static let tooManyHeaders = SIPParseError(.tooManyHeaders, detail: "too many header lines")
    /// A header line without `name:`.
    public static let malformedHeaderLine = SIPParseError(.malformedHeaderLine, detail: "malformed header line")
    /// A mandatory header (RFC 3261 §8.1.1) is missing.
    public static func missingHeader(_ name: String) -> SIPParseError {
        SIPParseError(.missingHeader, header: name, detail: "missing \(SIPHeaders.canonicalName(name)) header")
    }
    /// A header's value does not follow its grammar.
    public static func invalidHeader(_ name: String, _ why: String = "") -> SIPParseError {
        let canonical = SIPHeaders.canonicalName(name)
        return SIPParseError(
            .invalidHeader, header: name,
            detail: why.isEmpty
                ? "invalid \(canonical) header"
                : "invalid \(canonical) header: \(why)")
    }
    /// Content-Length is not a number, is repeated with different values, or names more bytes than arrived.
    public static let invalidContentLength = SIPParseError(
        .invalidContentLength, header: "Content-Length",
        detail: "invalid Content-Length header")
    /// The body is shorter than Content-Length says (RFC 3261 §18.3).
    public static let truncatedBody = SIPParseError(
        .truncatedBody, header: "Content-Length",
        detail: "body shorter than Content-Length")
    /// Whether two errors are of the same kind and name the same header (details and sizes ignored).
    public static func == (lhs: SIPParseError, rhs: SIPParseError) -> Bool {
        lhs.code == rhs.code && lhs.header == rhs.header
    }

    /// The kind without its payload.
    private var code: Int {
        switch kind {
        case .notSIP: return 0
        case .messageTooLarge: return 1
        case .lineTooLong: return 2
        case .tooManyHeaders: return 3
        case .malformedHeaderLine: return 4
        case .missingHeader: return 5
        case .invalidHeader: return 6
        case .invalidContentLength: return 7
        case .truncatedBody: return 8
        }
    }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String { detail }
}
