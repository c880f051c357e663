import NIOCore

/// A new INVITE, as the application sees it to decide whether and how to answer.
public struct IncomingCall: Sendable, Equatable {
    /// The call's identity (its dialog).
    public let id: DialogID
    /// The Request-URI's user part, unescaped (§19.1.4): the number dialled (`5145550100` in
    /// `sip:5145550100@host`, `+15145550100` in `sip:%2B15145550100@host`); empty when the URI has none.
    /// Untrusted: it may hold control characters (escape it before logging it).
    public let user: String
    /// The Request-URI as written.
    public let requestURI: String
    /// The From header value as written (display name, URI, tag).
    public let from: String
    /// The To header value as written.
    public let to: String
    /// The caller's display name from From, when given.
    public let callerDisplayName: String?
    /// The caller's URI from From.
    public let callerURI: String
    /// The SDP offer, nil when the INVITE had none (see ``isLateOffer``) or it did not parse (see ``offerError``).
    public let offer: SDPOffer?
    /// Why the INVITE's body was not a usable offer, nil when it was or when there was no body.
    public let offerError: SDPError?
    /// The address the INVITE came from (the caller, or the proxy in front of us).
    public let source: SocketAddress

    /// Whether the INVITE carried no body: the offer is ours, in the 200 OK, and the caller's answer comes in
    /// the ACK (RFC 3261 §13.2.1, RFC 3264 §5), told with ``UserAgentServer/Action/confirmed(_:answer:)``.
    public var isLateOffer: Bool { offer == nil && offerError == nil }
}
