import NIOCore

/// The UAS side of one dialog (RFC 3261 §12.1.1), from the INVITE to its end.
struct Dialog: Sendable {
    enum Phase: Sendable, Equatable {
        /// `.incomingCall` told; the application's decision pending.
        case deciding
        /// 180 Ringing sent; the answer timer runs.
        case ringing
        /// 200 OK sent, its ACK pending (§13.3.1.4).
        case waitingForACK
        /// ACK received: the call is up.
        case confirmed
        /// Our BYE is on its way (§15.1.1); the dialog only answers a crossing BYE.
        case terminating
    }

    let id: DialogID
    var phase: Phase = .deciding
    /// The INVITE's From value: the To of our requests (remote URI and tag).
    let remoteHeader: String
    /// The INVITE's To value plus our tag: the From of our requests.
    let localHeader: String
    /// Where our requests go in the Request-URI: the caller's Contact (§12.1.1), refreshed by re-INVITEs.
    var remoteTarget: String
    /// Record-Route values of the INVITE, in order: our route set as UAS (§12.1.1).
    let routeSet: [String]
    /// The highest CSeq number received from the caller (§12.2.2).
    var remoteCSeq: UInt32
    /// Our CSeq counter for requests in this dialog.
    var localCSeq: UInt32 = 0
    /// The address the INVITE came from (the caller's, or its proxy's): where responses go (§18.2.2), and our
    /// requests when neither the route set nor the remote target has a numeric host (§12.2.1.1).
    let peer: SocketAddress
    /// `host:port` we announce in Contact and in the Via of our requests.
    let localAddress: String
    /// The Request-URI's user part (for Contact).
    let user: String?
    /// The last session description we sent (answer or offer): the base of the next one's `o=` version
    /// (RFC 3264 §8).
    var localSDP: [UInt8] = []
    /// Our last 2xx carried an offer whose answer must come in the ACK (RFC 3261 §13.2.1, §14.2).
    var awaitingAnswer: AwaitedAnswer?
    /// The caller's offer (re-INVITE or UPDATE) waiting for the application's ``SDPDecision``.
    var pendingOffer: PendingOffer?
    /// The INVITE server transaction whose final response is pending or whose 2xx awaits an ACK.
    var invite: TransactionKey?
    /// Whether `.ended` was told to the application.
    var endTold = false
    /// Hang up as soon as the 2xx is acknowledged (§15: no BYE before the ACK or its timeout).
    var hangUpPending = false
}

/// What a merged request shares with the first copy (§8.2.2.2): Call-ID, From tag and CSeq (number and
/// method), while its branch differs (it reached us along another path of a forking proxy).
struct RequestIdentity: Hashable, Sendable {
    var callID: String
    var fromTag: String
    var cseq: UInt32
    var method: String
}

/// Which of our 2xx carried an offer that the ACK must answer.
enum AwaitedAnswer: Sendable, Equatable {
    /// The 200 OK to an INVITE without SDP (late offer): the call starts with the ACK's answer.
    case initial
    /// The 200 OK to a re-INVITE without SDP.
    case reInvite
}

/// An offer received inside a dialog, until the application decides.
struct PendingOffer: Sendable {
    enum Kind: Sendable {
        /// A re-INVITE (its INVITE server transaction is `Dialog.invite`); `hasOffer` false: it had no SDP.
        case reInvite(hasOffer: Bool)
        /// An UPDATE (RFC 3311), a non-INVITE transaction answered when the decision comes.
        case update(TransactionKey, ResponseContext)
    }

    var kind: Kind
}

/// What identifies a server transaction (§17.2.3): the top Via's branch and sent-by and the method (ACK
/// counts as INVITE), or for RFC 2543 requests without the magic cookie, the Call-ID, From-tag, CSeq number,
/// and top Via.
struct TransactionKey: Hashable, Sendable {
    var branch: String
    var sentBy: String
    var method: String
}
