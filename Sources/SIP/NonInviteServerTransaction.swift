import NIOCore

/// The non-INVITE server transaction over UDP: RFC 3261 §17.2.2 (figure 8).
///
/// ```
///                                   |Request received
///                                   |pass to TU
///                                   V
///                             +-----------+
///                             |           |
///                             | Trying    |-------------+
///                             |           |             |
///                             +-----------+             |200-699 from TU
///                                   |                   |send response
///                                   |1xx from TU        |
///                                   |send response      |
///                                   |                   |
///                Request            V      1xx from TU  |
///                send response+-----------+send response|
///                    +--------|           |--------+    |
///                    |        | Proceeding|        |    |
///                    +------->|           |<-------+    |
///                             +-----------+             |
///                                   |                   |
///                                   |200-699 from TU    |
///                                   |send response      |
///                Request            V                   |
///                send response+-----------+             |
///                    +--------|           |             |
///                    |        | Completed |<------------+
///                    +------->|           |
///                             +-----------+
///                                   |
///                                   |Timer J fires
///                                   |-
///                                   V
///                             +-----------+
///                             | Terminated|
///                             +-----------+
/// ```
///
/// Timer J = 64·T1 over UDP. This user agent answers every non-INVITE request at once with a final response,
/// so Proceeding is passed through only when a provisional response is sent first.
struct NonInviteServerTransaction: Sendable {
    enum State: Sendable, Equatable {
        case trying, proceeding, completed, terminated
    }

    let serial: UInt64
    let destination: SocketAddress
    private(set) var state: State = .trying
    private var lastResponse: ByteBuffer?

    init(serial: UInt64, destination: SocketAddress) {
        self.serial = serial
        self.destination = destination
    }

    /// Sends a response from the TU: 1xx → Proceeding; 200-699 → Completed, timer J.
    mutating func send(
        _ response: ByteBuffer, status: Int, timers: TransactionTimers,
        into actions: inout [UserAgentServer.Action]
    ) {
        guard state == .trying || state == .proceeding else { return }
        lastResponse = response
        actions.append(.send(response, to: destination))
        if status < 200 {
            state = .proceeding
        } else {
            state = .completed
            actions.append(.startTimer(TimerID(kind: .timerJ, transaction: serial), after: timers.t1 * 64))
        }
    }

    /// A retransmission of the request: the last response again (none in Trying).
    func receivedRetransmission(into actions: inout [UserAgentServer.Action]) {
        guard state == .proceeding || state == .completed, let lastResponse else { return }
        actions.append(.send(lastResponse, to: destination))
    }

    /// Timer J fired: Completed → Terminated.
    /// - Returns: whether the transaction is over.
    mutating func timerFired(_ kind: TimerID.Kind) -> Bool {
        guard kind == .timerJ, state == .completed else { return false }
        state = .terminated
        return true
    }
}
