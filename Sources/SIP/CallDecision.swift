import NIOCore

/// What the application answers to an ``IncomingCall``, synchronously.
public enum CallDecision: Sendable, Equatable {
    /// Refuse the call with a final status: 404 (no such number), 486, 488 (no common codec), 503, 603 ...
    /// A status outside 300...699 is sent as 500.
    case reject(status: Int)
    /// Take the call: answer with this SDP (an ``SDPAnswer/render(address:port:sessionID:)`` text). With
    /// `ringFor` > 0, send 180 Ringing first and the 200 OK that long after, unless CANCELled meanwhile.
    case accept(answerSDP: String, ringFor: TimeAmount = .zero)
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
}
