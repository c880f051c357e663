/// The CSeq header (RFC 3261 §20.16): a sequence number below 2³¹ and a method.
public struct SIPCSeq: Sendable, Equatable, CustomStringConvertible {
    /// The sequence number.
    public var number: UInt32
    /// The method, as written (methods are case-sensitive, §7.1).
    public var method: String

    /// A CSeq value.
    public init(number: UInt32, method: String) {
        self.number = number
        self.method = method
    }

    /// Parses `314159 INVITE`.
    /// - Throws: `SIPParseError.invalidHeader("CSeq")`.
    public init(_ text: String) throws(SIPParseError) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2 else { throw .invalidHeader("CSeq", "expected number and method") }
        // At most 10 digits, below 2^31 (§8.1.1.5).
        guard parts[0].utf8.count <= 10, parts[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let value = UInt64(parts[0]), value < 1 << 31
        else { throw .invalidHeader("CSeq", "invalid sequence number") }
        guard isToken(parts[1]) else { throw .invalidHeader("CSeq", "invalid method") }
        number = UInt32(truncatingIfNeeded: value)
        method = String(parts[1])
    }

    /// `number METHOD`.
    public var description: String { "\(number) \(method)" }
}

/// Whether `text` is a non-empty RFC 3261 token (§25.1): alphanumerics and `-.!%*_+`'~`.
func isToken<S: StringProtocol>(_ text: S) -> Bool {
    !text.isEmpty
        && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "-.!%*_+`'~".utf8.contains(byte)
            }
        }
}
