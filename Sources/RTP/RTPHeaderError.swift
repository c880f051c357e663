/// Why a datagram is not a valid RTP packet (RFC 3550 §5.1).
public struct RTPHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case tooShort, unsupportedVersion, csrcOverflow, extensionOverflow, invalidPadding
    }
    private let kind: Kind

    /// Shorter than the 12-byte fixed header.
    public static let tooShort = RTPHeaderError(kind: .tooShort)
    /// The version field is not 2.
    public static let unsupportedVersion = RTPHeaderError(kind: .unsupportedVersion)
    /// The CSRC list (4 bytes per contributing source) runs past the end of the datagram.
    public static let csrcOverflow = RTPHeaderError(kind: .csrcOverflow)
    /// The header extension (RFC 3550 §5.3.1) runs past the end of the datagram.
    public static let extensionOverflow = RTPHeaderError(kind: .extensionOverflow)
    /// The padding count is 0 or larger than what follows the header.
    public static let invalidPadding = RTPHeaderError(kind: .invalidPadding)

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        switch kind {
        case .tooShort: "shorter than the 12-byte RTP header"
        case .unsupportedVersion: "RTP version is not 2"
        case .csrcOverflow: "the CSRC list runs past the end of the datagram"
        case .extensionOverflow: "the header extension runs past the end of the datagram"
        case .invalidPadding: "the padding count is 0 or larger than the payload"
        }
    }
}
