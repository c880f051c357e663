import NIOCore

/// The INVITE server transaction over UDP: RFC 3261 §17.2.1 (figure 7), with the Accepted state of
/// RFC 6026 §7.1 in place of "2xx from TU → Terminated".
///
/// ```
///                                |INVITE
///                                |pass INV to TU
///             INVITE             V send 100 if TU won't in 200ms
///             send response+-----------+
///                 +--------|           |--------+ 101-199 from TU
///                 |        | Proceeding|        | send response
///                 +------->|           |<-------+
///                          +-----------+
///             300-699 from TU |     | 2xx from TU
///             send response   |     | send response
///                             |     +-----------------------+
///                             |                             |
///             INVITE          V          Timer G fires      |     INVITE / 2xx timer fires
///             send response+-----------+ send response      V     send 2xx
///                 +--------|           |--------+     +-----------+<-------+
///                 |        | Completed |        |     | Accepted  |        |
///                 +------->|           |<-------+     |           |--------+
///                          +-----------+              +-----------+
///                             |     |                    |     ^ ACK of the 2xx (§13.3.1.4):
///                         ACK |     | Timer H fires      |     | stop the 2xx timer
///                         -   |     | inform TU          |     +--
///                             V     |                    |
///                          +-----------+                 | Timer L fires
///                          | Confirmed |                 | (no ACK: the TU sends BYE)
///                          +-----------+                 |
///                             | Timer I fires            |
///                             V     V                    |
///                          +-----------+                 |
///                          | Terminated|<----------------+
///                          +-----------+
/// ```
///
/// Timers over UDP: G starts at T1 and doubles up to T2; H = L = 64·T1; I = T4. The 2xx retransmission of
/// §13.3.1.4 (a TU duty in RFC 3261) is kept here, in Accepted, with the same T1-doubling-to-T2 schedule.
struct InviteServerTransaction: Sendable {
    enum State: Sendable, Equatable {
        case proceeding
        case completed
        case confirmed
        case accepted(acknowledged: Bool)
        case terminated
    }

    /// What a timer did, for the user-agent server to act on.
    enum TimerOutcome: Sendable, Equatable {
        case none
        /// Answer a ringing call now.
        case answerDue
        /// The INVITE's `Expires` passed with no final response sent (§13.3.1): 487.
        case expired
        /// Timer L fired without an ACK for the 2xx: the call ends (BYE).
        case ackTimedOut
        /// The transaction is over; forget it.
        case terminated
    }

    let serial: UInt64
    /// Where responses go (§18.2.2, RFC 3581).
    let destination: SocketAddress
    /// What every response to this INVITE copies from it.
    let context: ResponseContext
    /// The dialog this INVITE creates or belongs to.
    let dialog: DialogID?
    /// The CSeq number of the INVITE (to match the ACK of a 2xx).
    let cseq: UInt32
    /// Call-ID, From tag and CSeq of a dialog-creating INVITE, registered to tell merged requests (§8.2.2.2).
    var identity: RequestIdentity?
    private(set) var state: State = .proceeding
    /// The last response sent, resent on a retransmitted INVITE.
    private(set) var lastResponse: ByteBuffer?
    private(set) var lastStatus = 0
    private var retransmitInterval: TimeAmount = .zero
    /// Whether the `Expires` timer runs (cancelled with the final response, so that no long timer lingers).
    private var expiresArmed = false

    init(serial: UInt64, context: ResponseContext, dialog: DialogID?, cseq: UInt32) {
        self.serial = serial
        self.context = context
        self.destination = context.destination
        self.dialog = dialog
        self.cseq = cseq
    }

    private func timer(_ kind: TimerID.Kind) -> TimerID { TimerID(kind: kind, transaction: serial) }

    /// Whether no final response has been sent yet.
    var isProceeding: Bool { state == .proceeding }

    /// Arms the INVITE's `Expires` timer (§13.3.1): if it fires before a final response, the TU sends 487.
    mutating func armExpires(after delay: TimeAmount, into actions: inout [UserAgentServer.Action]) {
        guard state == .proceeding else { return }
        expiresArmed = true
        actions.append(.startTimer(timer(.expires), after: delay))
    }

    /// Sends a response from the TU: a provisional one keeps Proceeding; 300-699 → Completed (timers G, H);
    /// 2xx → Accepted (2xx retransmission, timer L). Ignored once a final response was sent.
    mutating func send(
        _ response: ByteBuffer, status: Int, timers: TransactionTimers,
        into actions: inout [UserAgentServer.Action]
    ) {
        guard state == .proceeding else { return }
        lastResponse = response
        lastStatus = status
        actions.append(.send(response, to: destination))
        if status >= 200, expiresArmed {
            expiresArmed = false
            actions.append(.cancelTimer(timer(.expires)))
        }
        switch status {
        case 100..<200:
            break
        case 200..<300:
            state = .accepted(acknowledged: false)
            retransmitInterval = timers.t1
            actions.append(.startTimer(timer(.okRetransmission), after: timers.t1))
            actions.append(.startTimer(timer(.timerL), after: timers.t1 * 64))
        default:
            state = .completed
            retransmitInterval = timers.t1
            actions.append(.startTimer(timer(.timerG), after: timers.t1))
            actions.append(.startTimer(timer(.timerH), after: timers.t1 * 64))
        }
    }

    /// A retransmission of the INVITE: the last response again (§17.2.1; in Accepted, the 2xx).
    func receivedRetransmission(into actions: inout [UserAgentServer.Action]) {
        guard state != .confirmed, state != .terminated, let lastResponse else { return }
        actions.append(.send(lastResponse, to: destination))
    }

    /// The ACK of a non-2xx final (same branch): Completed → Confirmed, timer I. Absorbed otherwise.
    mutating func receivedACK(timers: TransactionTimers, into actions: inout [UserAgentServer.Action]) {
        guard state == .completed else { return }
        state = .confirmed
        actions.append(.cancelTimer(timer(.timerG)))
        actions.append(.cancelTimer(timer(.timerH)))
        actions.append(.startTimer(timer(.timerI), after: timers.t4))
    }

    /// The ACK of our 2xx (a new transaction at the dialog layer, §13.3.1.4): stop retransmitting.
    /// - Returns: whether this is the first ACK for it.
    mutating func acknowledged(into actions: inout [UserAgentServer.Action]) -> Bool {
        guard case .accepted(acknowledged: false) = state else { return false }
        state = .accepted(acknowledged: true)
        actions.append(.cancelTimer(timer(.okRetransmission)))
        // The caller has the 2xx: a copy of its INVITE arriving later (duplicated by the network) is absorbed
        // (RFC 6026 §8.5: the Accepted state passes no INVITE retransmission on; 2xx retransmissions are the
        // TU's, until the ACK). The 2xx's bytes (about 1 KB) are not kept for the rest of timer L's 32 s.
        lastResponse = nil
        return true
    }

    /// Whether a 2xx was sent and not acknowledged yet.
    var awaitsACK: Bool { state == .accepted(acknowledged: false) }

    /// A timer of this transaction fired.
    mutating func timerFired(
        _ kind: TimerID.Kind, timers: TransactionTimers,
        into actions: inout [UserAgentServer.Action]
    ) -> TimerOutcome {
        switch (kind, state) {
        case (.answer, .proceeding):
            return .answerDue
        case (.expires, .proceeding):
            expiresArmed = false
            return .expired
        case (.timerG, .completed), (.okRetransmission, .accepted(acknowledged: false)):
            if let lastResponse { actions.append(.send(lastResponse, to: destination)) }
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            actions.append(.startTimer(timer(kind), after: retransmitInterval))
            return .none
        case (.timerH, .completed):
            state = .terminated
            actions.append(.cancelTimer(timer(.timerG)))
            return .terminated
        case (.timerI, .confirmed):
            state = .terminated
            return .terminated
        case (.timerL, .accepted(let acknowledged)):
            state = .terminated
            if acknowledged { return .terminated }
            actions.append(.cancelTimer(timer(.okRetransmission)))
            return .ackTimedOut
        default:
            return .none
        }
    }

    /// Every timer this transaction may have running, to cancel when it is dropped early.
    func cancelAllTimers(into actions: inout [UserAgentServer.Action]) {
        for kind: TimerID.Kind in [.answer, .expires, .okRetransmission, .timerL, .timerG, .timerH, .timerI] {
            actions.append(.cancelTimer(timer(kind)))
        }
    }
}

/// RFC 3261's timer values (§17, table 4).
struct TransactionTimers: Sendable, Equatable {
    /// RTT estimate, 500 ms.
    var t1: TimeAmount
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    var t2: TimeAmount
    /// Maximum duration a message remains in the network, 5 s.
    var t4: TimeAmount
}
