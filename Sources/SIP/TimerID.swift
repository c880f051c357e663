/// A timer the user-agent server asks its driver to run (``UserAgentServer/Action/startTimer(_:after:)``).
///
/// Starting a timer with an identifier that is already running replaces it. When it fires, the driver calls
/// ``UserAgentServer/timerFired(_:)`` with the identifier.
public struct TimerID: Hashable, Sendable, CustomStringConvertible {
    /// What the timer is for, named after RFC 3261's timers (§17, table 4).
    public enum Kind: String, Hashable, Sendable {
        /// Answer a ringing call (the application's `ringFor`).
        case answer
        /// The INVITE's `Expires` (§13.3.1): unanswered by then, it gets 487 Request Terminated.
        case expires
        /// 2xx retransmission until the ACK (§13.3.1.4): T1 doubling up to T2.
        case okRetransmission
        /// Timer L (RFC 6026): 64·T1 in Accepted; fired without an ACK, the call ends with BYE.
        case timerL
        /// Timer G: non-2xx final retransmission (§17.2.1), T1 doubling up to T2.
        case timerG
        /// Timer H: wait for the ACK of a non-2xx final, 64·T1.
        case timerH
        /// Timer I: absorb ACK retransmissions, T4 over UDP.
        case timerI
        /// Timer J: absorb non-INVITE request retransmissions, 64·T1 over UDP (§17.2.2).
        case timerJ
        /// Timer E: request retransmission of our BYE (§17.1.2.2), T1 doubling up to T2.
        case timerE
        /// Timer F: our BYE's transaction timeout, 64·T1.
        case timerF
        /// Timer K: absorb response retransmissions, T4 over UDP.
        case timerK
    }

    /// What the timer is for.
    public let kind: Kind
    /// The transaction it belongs to.
    public let transaction: UInt64

    /// A timer identifier.
    public init(kind: Kind, transaction: UInt64) {
        self.kind = kind
        self.transaction = transaction
    }

    /// `timerG#12`.
    public var description: String { "\(kind.rawValue)#\(transaction)" }
}
