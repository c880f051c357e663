import NIOCore

/// What the application answers to an ``IncomingCall``, synchronously.
public enum CallDecision: Sendable, Equatable {
    /// Refuse the call with a final status: 404 (no such number), 486, 488 (no common codec), 503, 603 ...
    /// A status outside 300...699 is sent as 500.
    case reject(status: Int)
    /// Take the call: answer with this SDP (an ``SDPAnswer/render(address:port:sessionID:)`` text; for an
    /// INVITE without an offer, ``IncomingCall/isLateOffer``, our offer,
    /// ``SDPAnswer/renderOffer(address:port:sessionID:direction:)``, answered in the ACK). With `ringFor` > 0,
    /// send 180 Ringing first and the 200 OK that long after, unless CANCELled meanwhile.
    case accept(answerSDP: String, ringFor: TimeAmount = .zero)
    /// Decide later, through ``SIPServer/decide(_:_:)`` (the application must look something up first, e.g. an
    /// account in a store): the caller has our 100 Trying meanwhile (RFC 3261 §8.2.6.1), its retransmissions
    /// are absorbed, and a CANCEL ends the wait (487, ``CallEndReason/cancelled``).
    case later
}

/// What the application answers to an offer inside an established dialog (a re-INVITE or an UPDATE,
/// RFC 3264 §8, RFC 3311), synchronously.
public enum SDPDecision: Sendable, Equatable {
    /// Take it: the 200 OK carries this SDP: the answer to the offer (the same m= lines in the same order,
    /// RFC 3264 §8), or our offer when the re-INVITE had none. The `o=` line's username and session id are
    /// kept from our first description and its version raised when the text changed (RFC 3264 §8), so the
    /// application may render it as it did the first answer.
    case accept(sdp: String)
    /// Refuse it (488 for an offer we cannot take); the session goes on unchanged (RFC 3261 §14.2). A
    /// status outside 300...699 is sent as 500.
    case reject(status: Int)
}

/// Why a call that the application accepted has ended (told once per accepted call).
public enum CallEndReason: Sendable, Equatable {
    /// The caller sent BYE (RFC 3261 §15.1.2).
    case remoteBye
    /// The application hung up (``UserAgentServer/hangUp(_:)``); BYE sent, or a final response when the
    /// call was not answered yet.
    case localBye
    /// The caller sent CANCEL before the answer (§9.2); 487 sent to the INVITE.
    case cancelled
    /// The INVITE's `Expires` passed before the answer (§13.3.1, e.g. while ringing); 487 sent to it.
    case expired
    /// The 200 OK was never acknowledged within 64·T1 (§13.3.1.4); BYE sent.
    case ackTimeout
    /// Our 200 OK carried an offer (the INVITE had none, RFC 3261 §13.2.1) and its ACK brought no usable SDP
    /// answer (no body, not SDP, or SDP that does not parse); BYE sent.
    case missingAnswer
}
