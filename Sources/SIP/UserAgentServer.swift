import Logging
import NIOCore
import TelephonyDSP

// The user-agent server of RFC 3261 over UDP as a pure value: datagrams, timer expiries and application
// commands go in; actions come out (send these bytes there, start or cancel this timer, tell the application).
// No socket, no clock: the NIO driver (SIPServer) performs the actions, and tests run every RFC timer in
// microseconds.

/// A SIP user-agent server (RFC 3261 subset, RFC 3581 rport, RFC 6026 Accepted state) as a state machine.
///
/// Feed it with ``received(_:from:)``, ``timerFired(_:)``, ``decide(_:_:)``, ``hangUp(_:)`` and
/// ``setDraining(_:)``; perform the ``Action``s each returns, in order. For every ``Action/incomingCall(_:)``
/// the application's ``CallDecision`` goes back in through ``decide(_:_:)`` (a driver may do so at once,
/// while it performs the actions).
///
/// What it does: INVITE → 100 Trying, then the application's decision (a final rejection, or 180 Ringing and
/// a delayed answer, or an immediate 200 OK with the SDP answer, Contact and Record-Route); 2xx retransmitted
/// at T1 doubling to T2 until the ACK, BYE after 64·T1 without it; non-2xx finals retransmitted on timer G
/// and their ACK absorbed; BYE → 200 (481 for an unknown dialog); CANCEL → 200 and 487; OPTIONS → 200 with
/// Allow; other methods → 405; Require → 420; malformed requests → 400 naming the header; ``hangUp(_:)`` →
/// BYE retransmitted on timer E. Transactions and dialogs are bounded.
/// Merged INVITEs → 482 (§8.2.2.2); an in-dialog request with a lower CSeq → 500 (§12.2.2); a Request-URI
/// scheme other than sip/sips → 416; an INVITE whose `Expires` passes unanswered → 487 (§13.3.1); our BYE
/// follows the route set to the remote target (§12.2.1.1). Every log line is escaped.
///
/// Offer/answer (RFC 3264): an INVITE without SDP (late offer) gets the application's offer in the 200 OK and
/// the ACK must carry the answer (``Action/confirmed(_:answer:)``), else BYE (``CallEndReason/missingAnswer``).
/// A re-INVITE or an UPDATE (RFC 3311) with an offer is handed to the application
/// (``Action/sessionOffered(_:offer:)``, decided through ``decideSession(_:_:)``): 200 with its answer, or its
/// rejection (488) with the session unchanged; a re-INVITE without SDP gets the application's offer and its
/// ACK the answer (``Action/sessionAnswered(_:answer:)``); an UPDATE without SDP → 200. Every description
/// after the first keeps the first one's `o=` session id, its version raised only when the text changed.
///
/// Flood resistance: only requests of calls keep a server transaction (an INVITE offered to the application,
/// a BYE in a dialog), within ``Configuration/maximumTransactions``. Everything else is answered statelessly,
/// as a stateless proxy front would (§16.11): OPTIONS, unknown methods, 481, 420, 415, 400, 503, INVITEs
/// refused before the application sees them. Their final responses go to a bounded cache that evicts the
/// oldest, so a retransmitted request gets the same bytes. An INVITE the application rejects after our
/// 100 Trying keeps its transaction (timer G, §17.2.1) in a pool of its own, oldest evicted first, so
/// rejected calls never take the room of calls that can be answered. Each source IP address has a token
/// bucket (``RateLimit``); requests of calls in progress (ACK, in-dialog requests, a CANCEL or retransmission
/// of a pending INVITE) and ``Configuration/trustedSources`` are never limited. Every 503 has Retry-After.
public struct UserAgentServer: Sendable {
    /// Timer values, bounds and identity.
    public struct Configuration: Sendable, Equatable {
        /// RFC 3261 T1, the round-trip estimate (500 ms).
        public var t1: TimeAmount
        /// RFC 3261 T2, the largest retransmission interval (4 s).
        public var t2: TimeAmount
        /// RFC 3261 T4, how long a message may live in the network (5 s).
        public var t4: TimeAmount
        /// The most transactions of calls kept at once (INVITEs offered to the application, BYEs in dialogs,
        /// our BYEs); beyond it, new INVITEs get a stateless 503. Requests outside calls never take one.
        public var maximumTransactions: Int
        /// The most INVITE transactions kept to retransmit a rejection the application decided after our
        /// 100 Trying (timer G, §17.2.1); the oldest is forgotten beyond it (its response stays cached).
        public var maximumRejectedInvites: Int
        /// The most final responses kept for retransmitted requests that have no transaction; oldest evicted.
        public var responseCacheSize: Int
        /// Requests per source IP address; nil: no limit.
        public var rateLimit: RateLimit?
        /// Source IP addresses never rate limited (the proxies in front of this server).
        public var trustedSources: [String]
        /// The most dialogs (calls) at once; beyond it, new INVITEs get 503.
        public var maximumDialogs: Int
        /// `host:port` announced in Contact and in the Via of our BYE; nil: the Request-URI's host and port
        /// of each INVITE (the address the caller used to reach us).
        public var contactAddress: String?
        /// The product name in Server, User-Agent and Warning headers.
        public var product: String
        /// Parser bounds.
        public var limits: SIPMessage.Limits

        /// A configuration; the defaults are RFC 3261's timers, 10,000 transactions of calls and dialogs,
        /// 1,024 rejected INVITEs retransmitted, 4,096 cached responses, 50 requests a second (bursts of 100)
        /// per source address.
        public init(
            t1: TimeAmount = .milliseconds(500), t2: TimeAmount = .seconds(4), t4: TimeAmount = .seconds(5),
            maximumTransactions: Int = 10_000, maximumDialogs: Int = 10_000,
            maximumRejectedInvites: Int = 1_024, responseCacheSize: Int = 4_096,
            rateLimit: RateLimit? = RateLimit(), trustedSources: [String] = [],
            contactAddress: String? = nil, product: String = "callseq",
            limits: SIPMessage.Limits = SIPMessage.Limits()
        ) {
            self.t1 = t1
            self.t2 = t2
            self.t4 = t4
            self.maximumTransactions = maximumTransactions
            self.maximumDialogs = maximumDialogs
            self.maximumRejectedInvites = maximumRejectedInvites
            self.responseCacheSize = responseCacheSize
            self.rateLimit = rateLimit
            self.trustedSources = trustedSources
            self.contactAddress = contactAddress
            self.product = product
            self.limits = limits
        }
    }

    /// What the driver must do, in order.
    public enum Action: Sendable, Equatable {
        /// Send this datagram to this address.
        case send(ByteBuffer, to: SocketAddress)
        /// Call ``timerFired(_:)`` with this identifier after this long (replacing a running timer of the
        /// same identifier).
        case startTimer(TimerID, after: TimeAmount)
        /// Forget this timer (nothing happens if it is not running).
        case cancelTimer(TimerID)
        /// A new call: ask the application, then pass its decision to ``decide(_:_:)``.
        case incomingCall(IncomingCall)
        /// The caller acknowledged our 200 OK: the call is established. `answer` is the ACK's SDP when our
        /// 200 OK carried the offer (late offer, RFC 3261 §13.2.1), nil otherwise.
        case confirmed(DialogID, answer: SDPOffer?)
        /// An offer inside the dialog (re-INVITE or UPDATE; nil: a re-INVITE without SDP, which asks for our
        /// offer): ask the application, then pass its ``SDPDecision`` to ``decideSession(_:_:)``.
        case sessionOffered(DialogID, offer: SDPOffer?)
        /// The ACK of a re-INVITE without SDP brought the answer to the offer in our 200 OK.
        case sessionAnswered(DialogID, answer: SDPOffer)
        /// An accepted call has ended (told once per accepted call).
        case ended(DialogID, CallEndReason)
        /// A log line, with the Call-ID it concerns; both escaped (no control characters), ready to print.
        case log(Logger.Level, String, callID: String?)
    }

    /// Who a transaction serial belongs to.
    enum Owner: Sendable {
        case invite(TransactionKey)
        case nonInvite(TransactionKey)
        case client(String)
    }

    /// The methods this server implements (Allow, §20.5).
    static let allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE"

    var configuration: Configuration
    let timers: TransactionTimers
    var inviteTransactions: [TransactionKey: InviteServerTransaction] = [:]
    var nonInviteTransactions: [TransactionKey: NonInviteServerTransaction] = [:]
    var clientTransactions: [String: NonInviteClientTransaction] = [:]
    var owners: [UInt64: Owner] = [:]
    var dialogs: [DialogID: Dialog] = [:]
    /// The dialog-creating INVITE transactions by Call-ID, From tag and CSeq, to tell merged requests
    /// (§8.2.2.2); an entry lives as long as its transaction (so it is bounded by the transactions).
    var invitesByRequest: [RequestIdentity: TransactionKey] = [:]
    var nextSerial: UInt64 = 1
    var randomState: UInt64
    /// Final responses of requests without a transaction.
    var responseCache: ResponseCache
    /// INVITE transactions kept only to retransmit a rejection: key → serial, and their order (oldest first
    /// from `rejectedInviteHead`; entries of transactions already over are skipped).
    var rejectedInvites: [TransactionKey: UInt64] = [:]
    var rejectedInviteOrder: [(key: TransactionKey, serial: UInt64)] = []
    var rejectedInviteHead = 0
    var rateLimiter: SourceRateLimiter?
    /// `trustedSources` in the form `SocketAddress.ipAddress` writes them.
    let trustedSources: Set<String>
    /// The time of the last input (uptime nanoseconds).
    var now: UInt64 = 0
    /// Whether new INVITEs are refused with 503 (shutting down).
    public private(set) var isDraining = false

    /// A user-agent server.
    /// - Parameters:
    ///   - configuration: timers, bounds, Contact address.
    ///   - seed: the seed of the tags and branches it makes (pass a fixed one in tests).
    public init(configuration: Configuration = Configuration(), seed: UInt64 = UInt64.random(in: .min ... .max)) {
        self.configuration = configuration
        timers = TransactionTimers(t1: configuration.t1, t2: configuration.t2, t4: configuration.t4)
        randomState = seed
        responseCache = ResponseCache(capacity: configuration.responseCacheSize, lifetime: configuration.t1 * 64)
        rateLimiter = configuration.rateLimit.map(SourceRateLimiter.init)
        trustedSources = Set(
            configuration.trustedSources.map { text in
                (try? SocketAddress(ipAddress: text, port: 0))?.ipAddress ?? text
            })
    }

    /// The number of transactions kept (server and client), rejected INVITEs included.
    public var transactionCount: Int {
        inviteTransactions.count + nonInviteTransactions.count + clientTransactions.count
    }

    /// The number of transactions of calls, bounded by ``Configuration/maximumTransactions``.
    public var callTransactionCount: Int { transactionCount - rejectedInvites.count }

    /// The number of INVITE transactions kept only to retransmit a rejection.
    public var rejectedInviteCount: Int { rejectedInvites.count }

    /// The number of final responses cached for requests without a transaction.
    public var cachedResponseCount: Int { responseCache.count }

    /// The number of source addresses the rate limit tracks.
    public var rateLimitedSourceCount: Int { rateLimiter?.sourceCount ?? 0 }

    /// Whether another transaction of a call fits.
    var hasRoomForCallTransaction: Bool { callTransactionCount < configuration.maximumTransactions }

    /// The number of dialogs (calls being set up, up, or being hung up).
    public var dialogCount: Int { dialogs.count }

    // MARK: - Inputs

    /// A datagram arrived, as if no time passed since the previous input (see ``received(_:from:at:)``).
    /// - Parameters:
    ///   - datagram: its bytes.
    ///   - source: the address it came from.
    /// - Returns: the actions to perform, in order.
    public mutating func received(_ datagram: ByteBuffer, from source: SocketAddress) -> [Action] {
        received(datagram, from: source, at: .uptimeNanoseconds(now))
    }

    /// A datagram arrived at a given time (which refills the sources' token buckets and ages cached
    /// responses; a time earlier than the previous one counts as no time passed).
    /// - Parameters:
    ///   - datagram: its bytes.
    ///   - source: the address it came from.
    ///   - time: when it arrived (the driver passes `NIODeadline.now()`).
    /// - Returns: the actions to perform, in order.
    public mutating func received(
        _ datagram: ByteBuffer, from source: SocketAddress, at time: NIODeadline
    )
        -> [Action]
    {
        now = max(now, time.uptimeNanoseconds)
        var actions: [Action] = []
        let message: SIPMessage
        do {
            message = try SIPMessage(parsing: datagram, limits: configuration.limits)
        } catch {
            rejectMalformed(datagram, error: error, source: source, into: &actions)
            return actions
        }
        if message.status != nil {
            receivedResponse(message, from: source, into: &actions)
        } else {
            receivedRequest(message, from: source, into: &actions)
        }
        return actions
    }

    /// The application's decision about an ``IncomingCall``. Ignored when the call is no longer waiting for
    /// one (cancelled meanwhile, or decided already).
    /// - Returns: the actions to perform.
    public mutating func decide(_ call: DialogID, _ decision: CallDecision) -> [Action] {
        var actions: [Action] = []
        guard var dialog = dialogs[call], dialog.phase == .deciding, let key = dialog.invite,
            var transaction = inviteTransactions[key], transaction.isProceeding
        else { return actions }
        switch decision {
        case .later:
            break
        case .reject(let status):
            let final = (300...699).contains(status) ? status : 500
            dialogs[call] = nil
            sendRejection(final, toTag: call.localTag, on: key, &transaction, into: &actions)
            log(.info, "rejected with \(final)", call.callID, into: &actions)
        case .accept(let sdp, let ringFor):
            dialog.localSDP = Array(sdp.utf8)
            if ringFor > .zero {
                dialog.phase = .ringing
                dialogs[call] = dialog
                let ringing = transaction.context.render(
                    status: 180, toTag: call.localTag,
                    headers: dialogHeaders(dialog),
                    product: configuration.product)
                transaction.send(ringing, status: 180, timers: timers, into: &actions)
                inviteTransactions[key] = transaction
                actions.append(.startTimer(TimerID(kind: .answer, transaction: transaction.serial), after: ringFor))
                log(
                    .debug, "→ 180 Ringing, answer in \(ringFor.nanoseconds / 1_000_000) ms", call.callID,
                    into: &actions)
            } else {
                dialogs[call] = dialog
                answer(call, into: &actions)
            }
        }
        return actions
    }

    /// Whether `call` still waits for the application's ``CallDecision`` (not cancelled, not decided yet).
    public func isDeciding(_ call: DialogID) -> Bool {
        guard let dialog = dialogs[call], dialog.phase == .deciding, let key = dialog.invite,
            let transaction = inviteTransactions[key]
        else { return false }
        return transaction.isProceeding
    }

    /// The application's decision about an offer inside a dialog (``Action/sessionOffered(_:offer:)``).
    /// Ignored when none is waiting.
    /// - Returns: the actions to perform.
    public mutating func decideSession(_ call: DialogID, _ decision: SDPDecision) -> [Action] {
        var actions: [Action] = []
        guard var dialog = dialogs[call], let pending = dialog.pendingOffer else { return actions }
        dialog.pendingOffer = nil
        var body: [UInt8] = []
        if case .accept(let sdp) = decision {
            // RFC 3264 §8: the first description's o= session id; the version + 1 only when the text changed.
            body = SDPVersioning.revise(Array(sdp.utf8), previous: dialog.localSDP)
            dialog.localSDP = body
        }
        var headers = dialogHeaders(dialog).filter { $0.0 != "Record-Route" }
        headers.append(("Content-Type", "application/sdp"))
        switch pending.kind {
        case .reInvite(let hasOffer):
            guard let key = dialog.invite, var transaction = inviteTransactions[key], transaction.isProceeding else {
                dialogs[call] = dialog
                return actions
            }
            switch decision {
            case .reject(let status):
                let final = (300...699).contains(status) ? status : 500
                let response = transaction.context.render(status: final, toTag: nil, product: configuration.product)
                transaction.send(response, status: final, timers: timers, into: &actions)
                dialog.invite = nil  // its ACK is absorbed by the transaction (§17.2.1)
                log(.info, "re-INVITE rejected with \(final); the session is unchanged", call.callID, into: &actions)
            case .accept:
                let ok = transaction.context.render(
                    status: 200, toTag: nil, headers: headers, body: body,
                    product: configuration.product)
                transaction.send(ok, status: 200, timers: timers, into: &actions)
                if !hasOffer { dialog.awaitingAnswer = .reInvite }
                log(
                    .debug, "→ 200 OK (re-INVITE, \(hasOffer ? "answer" : "our offer"))", call.callID,
                    into: &actions)
            }
            inviteTransactions[key] = transaction
        case .update(let key, let context):
            switch decision {
            case .reject(let status):
                let final = (300...699).contains(status) ? status : 500
                respond(context: context, key: key, status: final, stateful: true, into: &actions)
            case .accept:
                respond(
                    context: context, key: key, status: 200, headers: headers, body: body, stateful: true,
                    into: &actions)
            }
        }
        dialogs[call] = dialog
        return actions
    }

    /// A timer started by a ``Action/startTimer(_:after:)`` fired.
    /// - Returns: the actions to perform.
    public mutating func timerFired(_ timer: TimerID) -> [Action] {
        var actions: [Action] = []
        guard let owner = owners[timer.transaction] else { return actions }
        switch owner {
        case .invite(let key):
            guard var transaction = inviteTransactions[key] else { return actions }
            let outcome = transaction.timerFired(timer.kind, timers: timers, into: &actions)
            inviteTransactions[key] = transaction
            switch outcome {
            case .none:
                break
            case .answerDue:
                if let id = transaction.dialog { answer(id, into: &actions) }
            case .expired:
                expired(key, into: &actions)
            case .terminated:
                forgetInvite(key, serial: transaction.serial)
            case .ackTimedOut:
                forgetInvite(key, serial: transaction.serial)
                if let id = transaction.dialog, var dialog = dialogs[id], dialog.invite == key {
                    dialog.invite = nil
                    log(.info, "no ACK for the 200 OK within 64·T1: BYE", id.callID, into: &actions)
                    if !dialog.endTold {
                        dialog.endTold = true
                        actions.append(.ended(id, .ackTimeout))
                    }
                    sendBYE(&dialog, into: &actions)
                }
            }
        case .nonInvite(let key):
            guard var transaction = nonInviteTransactions[key] else { return actions }
            if transaction.timerFired(timer.kind) {
                nonInviteTransactions[key] = nil
                owners[timer.transaction] = nil
            } else {
                nonInviteTransactions[key] = transaction
            }
        case .client(let branch):
            guard var transaction = clientTransactions[branch] else { return actions }
            if transaction.timerFired(timer.kind, timers: timers, into: &actions) {
                clientTransactions[branch] = nil
                owners[timer.transaction] = nil
                if timer.kind == .timerF {
                    log(.info, "BYE unanswered within 64·T1", transaction.dialog.callID, into: &actions)
                    if dialogs[transaction.dialog]?.phase == .terminating { dialogs[transaction.dialog] = nil }
                }
            } else {
                clientTransactions[branch] = transaction
            }
        }
        return actions
    }

    /// The application ends a call: BYE when it is established (once the 200 OK is acknowledged, §15), a 480
    /// final response when it is not answered yet. ``Action/ended(_:_:)`` with `.localBye` is told at once.
    /// - Returns: the actions to perform.
    public mutating func hangUp(_ call: DialogID) -> [Action] {
        var actions: [Action] = []
        guard var dialog = dialogs[call], !dialog.endTold else { return actions }
        dialog.endTold = true
        actions.append(.ended(call, .localBye))
        log(.info, "hang up", call.callID, into: &actions)
        switch dialog.phase {
        case .deciding, .ringing:
            if let key = dialog.invite, var transaction = inviteTransactions[key], transaction.isProceeding {
                actions.append(.cancelTimer(TimerID(kind: .answer, transaction: transaction.serial)))
                sendRejection(480, toTag: call.localTag, on: key, &transaction, into: &actions)
            }
            dialogs[call] = nil
        case .waitingForACK:
            dialog.hangUpPending = true
            dialogs[call] = dialog
        case .confirmed:
            sendBYE(&dialog, into: &actions)
        case .terminating:
            dialogs[call] = dialog
        }
        return actions
    }

    /// Draining (shutting down): new INVITEs and OPTIONS are answered 503 with Retry-After; calls in progress
    /// are not touched.
    public mutating func setDraining(_ draining: Bool) {
        isDraining = draining
    }

    // MARK: - Helpers

    /// A new transaction serial, registered to its owner.
    mutating func newSerial(_ owner: Owner) -> UInt64 {
        let serial = nextSerial
        nextSerial &+= 1
        owners[serial] = owner
        return serial
    }

    /// A fresh 64-bit token in hex (SplitMix64), for tags and branches (§19.3: at least 32 bits of randomness).
    mutating func token() -> String {
        randomState &+= 0x9E37_79B9_7F4A_7C15
        var z = randomState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let hex = String(z, radix: 16)
        return String(repeating: "0", count: 16 - hex.utf8.count) + hex
    }

    mutating func forgetInvite(_ key: TransactionKey, serial: UInt64) {
        if let identity = inviteTransactions[key]?.identity, invitesByRequest[identity] == key {
            invitesByRequest[identity] = nil
        }
        inviteTransactions[key] = nil
        owners[serial] = nil
        if rejectedInvites[key] == serial { rejectedInvites[key] = nil }
    }

    /// Sends a non-2xx final response on an INVITE transaction that sent 100 Trying (the application's
    /// rejection, 480 on hang-up, 487): the transaction retransmits it on timer G until the ACK (§17.2.1), but
    /// in the pool of rejected INVITEs, where the oldest is forgotten beyond
    /// ``Configuration/maximumRejectedInvites`` (so that rejected calls never crowd out answerable ones).
    /// The response is also cached, so a retransmitted INVITE gets it after its transaction is forgotten.
    mutating func sendRejection(
        _ status: Int, toTag: String, on key: TransactionKey,
        _ transaction: inout InviteServerTransaction, into actions: inout [Action]
    ) {
        let response = transaction.context.render(status: status, toTag: toTag, product: configuration.product)
        transaction.send(response, status: status, timers: timers, into: &actions)
        inviteTransactions[key] = transaction
        responseCache.store(response, to: transaction.destination, for: key, at: now)
        rejectedInvites[key] = transaction.serial
        rejectedInviteOrder.append((key, transaction.serial))
        while rejectedInvites.count > configuration.maximumRejectedInvites,
            rejectedInviteHead < rejectedInviteOrder.count
        {
            let (oldest, serial) = rejectedInviteOrder[rejectedInviteHead]
            rejectedInviteHead += 1
            guard rejectedInvites[oldest] == serial, let evicted = inviteTransactions[oldest] else { continue }
            evicted.cancelAllTimers(into: &actions)
            forgetInvite(oldest, serial: serial)
        }
        // Compaction, amortized O(1): once half the order is consumed or belongs to transactions already over.
        let pending = rejectedInviteOrder.count - rejectedInviteHead
        if rejectedInviteHead > 64 && rejectedInviteHead * 2 > rejectedInviteOrder.count
            || pending > 2 * rejectedInvites.count + 64
        {
            rejectedInviteOrder = rejectedInviteOrder[rejectedInviteHead...].filter {
                rejectedInvites[$0.key] == $0.serial
            }
            rejectedInviteHead = 0
        }
    }

    /// A log line. Every line may quote the network (Call-ID, URIs, addresses, reason phrases): the text and
    /// the Call-ID (which swift-log prints as metadata) are escaped here, once for all, so that no CR, LF,
    /// ESC, NUL or other control character reaches a log (``InputText/escaped(_:limit:)``).
    func log(_ level: Logger.Level, _ message: String, _ callID: String?, into actions: inout [Action]) {
        actions.append(
            .log(
                level, InputText.escaped(message, limit: 600),
                callID: callID.map { InputText.escaped($0, limit: 200) }))
    }
}
