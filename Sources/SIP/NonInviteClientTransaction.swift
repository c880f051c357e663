import NIOCore

/// The non-INVITE client transaction over UDP (our BYE): RFC 3261 §17.1.2.2 (figure 6).
///
/// ```
///                                    |Request from TU
///                                    |send request
///                Timer E             V
///                send request  +-----------+
///                    +---------|           |-------------------+
///                    |         |  Trying   |  Timer F          |
///                    +-------->|           |  or Transport Err.|
///                              +-----------+  inform TU        |
///                 200-699         |  |                         |
///                 resp. to TU     |  |1xx                      |
///                 +---------------+  |resp. to TU              |
///                 |                  |                         |
///                 |   Timer E        V       Timer F           |
///                 |   send req +-----------+ or Transport Err. |
///                 |  +---------|           | inform TU         |
///                 |  |         |Proceeding |------------------>|
///                 |  +-------->|           |-----+             |
///                 |            +-----------+     |1xx          |
///                 |              |      ^        |resp to TU   |
///                 | 200-699      |      +--------+             |
///                 | resp. to TU  |                             |
///                 |              |                             |
///                 |              V                             |
///                 |            +-----------+                   |
///                 |            |           |                   |
///                 |            | Completed |                   |
///                 |            |           |                   |
///                 |            +-----------+                   |
///                 |              ^   |                         |
///                 |              |   | Timer K                 |
///                 +--------------+   | -                       |
///                                    |                         |
///                                    V                         |
///                              +-----------+                   |
///                              |           |                   |
///                              | Terminated|<------------------+
///                              |           |
///                              +-----------+
/// ```
///
/// Timer E starts at T1 and doubles up to T2 (in Proceeding it is T2); F = 64·T1; K = T4 over UDP.
struct NonInviteClientTransaction: Sendable {
    enum State: Sendable, Equatable {
        case trying, proceeding, completed, terminated
    }

    let serial: UInt64
    let destination: SocketAddress
    /// The dialog the request belongs to.
    let dialog: DialogID
    private(set) var state: State = .trying
    private let request: ByteBuffer
    private var retransmitInterval: TimeAmount

    private func timer(_ kind: TimerID.Kind) -> TimerID { TimerID(kind: kind, transaction: serial) }

    /// Sends the request and arms timers E and F.
    init(
        serial: UInt64, request: ByteBuffer, destination: SocketAddress, dialog: DialogID,
        timers: TransactionTimers, into actions: inout [UserAgentServer.Action]
    ) {
        self.serial = serial
        self.request = request
        self.destination = destination
        self.dialog = dialog
        retransmitInterval = timers.t1
        actions.append(.send(request, to: destination))
        actions.append(.startTimer(TimerID(kind: .timerE, transaction: serial), after: timers.t1))
        actions.append(.startTimer(TimerID(kind: .timerF, transaction: serial), after: timers.t1 * 64))
    }

    /// A response to the request.
    /// - Returns: whether it was the final response that completes the transaction.
    mutating func received(
        status: Int, timers: TransactionTimers,
        into actions: inout [UserAgentServer.Action]
    ) -> Bool {
        guard state == .trying || state == .proceeding else { return false }
        if status < 200 {
            state = .proceeding
            return false
        }
        state = .completed
        actions.append(.cancelTimer(timer(.timerE)))
        actions.append(.cancelTimer(timer(.timerF)))
        actions.append(.startTimer(timer(.timerK), after: timers.t4))
        return true
    }

    /// A timer fired.
    /// - Returns: whether the transaction is over (F: timed out; K: done).
    mutating func timerFired(
        _ kind: TimerID.Kind, timers: TransactionTimers,
        into actions: inout [UserAgentServer.Action]
    ) -> Bool {
        switch (kind, state) {
        case (.timerE, .trying), (.timerE, .proceeding):
            actions.append(.send(request, to: destination))
            retransmitInterval = state == .proceeding ? timers.t2 : min(retransmitInterval * 2, timers.t2)
            actions.append(.startTimer(timer(.timerE), after: retransmitInterval))
            return false
        case (.timerF, .trying), (.timerF, .proceeding):
            state = .terminated
            actions.append(.cancelTimer(timer(.timerE)))
            return true
        case (.timerK, .completed):
            state = .terminated
            return true
        default:
            return false
        }
    }
}
