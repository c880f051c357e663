/// The identity of a call: its SIP dialog (RFC 3261 §12: Call-ID, local tag, remote tag).
///
/// The user-agent server makes one for every new INVITE (the local tag is ours, the To-tag of every
/// response but 100); the application names the call with it in ``UserAgentServer/hangUp(_:)``.
public struct DialogID: Hashable, Sendable, CustomStringConvertible {
    /// The Call-ID header value.
    public let callID: String
    /// Our tag (the To-tag of our responses).
    public let localTag: String
    /// The caller's tag (the From-tag of its requests; empty when it sent none).
    public let remoteTag: String

    /// A dialog identity.
    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// `Call-ID;local-tag;remote-tag`, for logs.
    public var description: String { "\(callID);\(localTag);\(remoteTag)" }
}
