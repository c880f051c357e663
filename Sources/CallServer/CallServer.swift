// `callseq serve`: SIP (the user-agent server, on swift-nio's event loop) joined to the media engine
// (RTP on its own thread with absolute deadlines) and the accounts. For each INVITE, synchronously on the
// event loop: the Request-URI's number selects a DID across the accounts (404 when none has it), its
// route must reach an IVR (603 when it hangs up), the offer must share a codec (488), an RTP port is
// reserved (503 when none is left), and the answer names the codec, telephone-event and the port (an INVITE
// without SDP gets our offer instead, and the ACK's answer is negotiated the same way: BYE when it has none
// or no common codec). The call's media starts when the caller's ACK confirms the answer; a re-INVITE or
// UPDATE offer is negotiated again and applied to the running media (hold, codec, address: RFC 3264 §8);
// the IVR session's end, a hangup option or 30 s without RTP (while the caller sends, else the hold limit)
// end it with BYE; the caller's BYE or CANCEL ends its media. SMS requests leave the
// media thread as plain values and go to the host's handler.

import CallSequenceEngine
import CallSequenceModel
import Logging
import NIOCore
import RTP
import SIP
import ServiceLifecycle
import Synchronization
import TelephonyDSP

#if canImport(Glibc)
import Glibc
#endif

/// An SMS step reached on a live call.
package struct LiveSMSRequest: Sendable {
    /// The SIP Call-ID.
    package let callID: String
    /// The account's file.
    package let account: String
    /// The text.
    package let sms: SMSStep
    /// The account's daily limit.
    package let dailyLimit: Int
    /// The management store's account id, for an account served from the store (nil: an account file).
    package let storeAccount: String?
    /// The step's index in its sequence (with the Call-ID, what makes a text unique in a ledger).
    package let step: Int
}

/// Where the numbers that no account file has are looked up: the management store (`serve --store`).
///
/// The call server asks off the SIP event loop, once per call to such a number, after its 100 Trying; the
/// INVITE is answered once the answer is back (so a source may read a store and compile).
package protocol CalledNumberSource: Sendable {
    /// The DID `number` with its account, ready for calls; nil when no account has it.
    /// - Throws: when the source cannot answer now (the call gets 503).
    func calledNumber(_ number: PhoneNumber) async throws -> AccountDirectory.CalledNumber?
}

/// What happened on one live call, told once when it ends (from the engine's event thread or the SIP event
/// loop, never a media thread): what a call record holds.
package struct CallSummary: Sendable {
    /// The SIP Call-ID (escaped).
    package var callID: String
    /// The management store's account id (nil: an account file's call).
    package var storeAccount: String?
    /// The account file (or the store's account id).
    package var account: String
    /// When the INVITE arrived, in milliseconds since 1970 (UTC).
    package var startedMs: Int64
    /// The caller: the From URI's user part, escaped.
    package var caller: String
    /// The number called.
    package var did: String
    /// The IVRs whose menus played, in order (a menu played again is not repeated).
    package var ivrPath: [String]
    /// The keys pressed, in order.
    package var keys: String
    /// The sequence run, if any.
    package var sequence: String?
    /// How many of its steps were done, out of how many.
    package var stepsDone: Int
    package var stepsTotal: Int
    /// How many SMS steps it reached.
    package var smsSteps: Int
    /// How it ended: `the sequence finished`, `the caller hung up`, `cancelled`...
    package var outcome: String
    /// From the INVITE to the end.
    package var durationMs: Int
}

/// Answers SIP calls for a set of accounts and plays their IVRs and sequences over RTP.
///
/// A swift-service-lifecycle `Service`: ``run()`` serves until the group's graceful shutdown (SIGTERM), then
/// drains (``drain(finishWithin:timeout:)``: OPTIONS and new INVITEs get 503, calls in progress finish within
/// ``Configuration/drainTimeout``) and stops.
package final class CallServer: Service, Sendable {
    /// What the server listens on and how it runs calls.
    package struct Configuration: Sendable {
        /// SIP's UDP address.
        package var host: String
        /// SIP's UDP port (0: any free port).
        package var port: Int
        /// The address announced in SDP answers (default: `host`).
        package var mediaAddress: String
        /// The RTP ports, one per call.
        package var rtpPorts: ClosedRange<Int>
        /// Media threads.
        package var mediaThreads: Int
        /// A call with no RTP from the caller this long is ended.
        package var rtpTimeoutSeconds: Int
        /// A call the caller holds (it sends no RTP) is ended after this long.
        package var holdTimeoutSeconds: Int
        /// Strict-RTP probation (learning mode; 0, the default, is off): RTP from an address other than the
        /// offer's c= address and the SIP signalling source is accepted after this many packets in sequence.
        package var rtpProbationPackets: Int
        /// The media clock's tick in milliseconds (calls are spread over the ticks of a packet interval).
        package var mediaTickMs: Int
        /// SCHED_FIFO priority of the media threads (nil: the normal scheduler).
        package var realtimePriority: Int32?
        /// Media threads send a tick's packets in one io_uring submission where the kernel allows it (false:
        /// one sendto a packet).
        package var sendRing: Bool
        /// Source IP addresses exempt from the per-source SIP rate limit (the proxies in front of the server).
        package var trustedProxies: [String]
        /// At graceful shutdown, how long calls in progress may run to their own end (the sequence ends, or the
        /// caller hangs up) before the rest are ended with BYE (``run()``); zero: BYE at once.
        package var drainTimeout: Duration

        /// Creates a configuration.
        package init(
            host: String, port: Int, mediaAddress: String? = nil, rtpPorts: ClosedRange<Int> = 20000...29999,
            mediaThreads: Int = 1, rtpTimeoutSeconds: Int = 30, holdTimeoutSeconds: Int = 7200,
            rtpProbationPackets: Int = 0, mediaTickMs: Int = MediaEngine.defaultTickMilliseconds,
            realtimePriority: Int32? = nil, sendRing: Bool = true,
            trustedProxies: [String] = [], drainTimeout: Duration = .seconds(60)
        ) {
            self.host = host
            self.port = port
            self.mediaAddress = mediaAddress ?? host
            self.rtpPorts = rtpPorts
            self.mediaThreads = mediaThreads
            self.rtpTimeoutSeconds = rtpTimeoutSeconds
            self.holdTimeoutSeconds = holdTimeoutSeconds
            self.rtpProbationPackets = rtpProbationPackets
            self.mediaTickMs = mediaTickMs
            self.realtimePriority = realtimePriority
            self.sendRing = sendRing
            self.trustedProxies = trustedProxies
            self.drainTimeout = drainTimeout
        }
    }

    /// A call between the INVITE and its end. Its IVR session is touched by one thread at a time: made
    /// on the event loop, then handed once to a media thread by ``MediaEngine/startCall(_:)``.
    private struct Call: @unchecked Sendable {
        /// The RTP port announced in our SDP.
        var port: RTPPortReservation
        /// What the media starts with: nil until an offer/answer is complete (late offer: until the ACK).
        var parameters: MediaCallParameters?
        var called: AccountDirectory.CalledNumber
        var media: MediaCallHandle?
        /// The account compiled for the call's first encoding and DTMF mode (nil until negotiated).
        var compiled: CompiledAccount?
        /// The `o=` session id of our descriptions (the SIP layer keeps it and raises the version).
        var sessionID: UInt64
        /// The IP address the INVITE came from (an accepted RTP source).
        var signallingAddress: String?
        /// The packet time the media runs at (a re-offer's ptime is not applied: the answer says this one).
        var ptimeMs: Int = 20
        /// What the call record says, gathered from the media events.
        var trace: CallTrace
    }

    /// What a call did so far (its ``CallSummary`` at the end).
    private struct CallTrace {
        var startedMs: Int64
        var started: ContinuousClock.Instant
        var caller: String
        var ivrPath: [String] = []
        var keys = ""
        var sequence: Int?
        var sequenceStarted: ContinuousClock.Instant?
        var smsSteps = 0
        var outcome: String?
    }

    /// What one offer/answer exchange gives the media (`negotiate(_:route:callID:current:)`).
    private struct Negotiated {
        var answer: SDPAnswer
        var sendEvents: Bool
        var encoding: SampleEncoding
    }

    private struct State: ~Copyable {
        var directory: AccountDirectory
        var calls: [DialogID: Call] = [:]
        var dialogs: [UInt64: DialogID] = [:]  // media handle → dialog
        var draining = false
        /// Told (while draining) when the last call is removed.
        var callsEnded: AsyncStream<Void>.Continuation?
        /// Calls ended, by how (``CallCounts``).
        var counts = CallCounts()
    }

    private let configuration: Configuration
    private let logger: Logger
    private let state: Mutex<State>
    private let engine: MediaEngine
    private let sip: Mutex<SIPServer?> = Mutex(nil)
    private let onSMS: @Sendable (LiveSMSRequest) -> Void
    private let source: (any CalledNumberSource)?
    private let onCallEnded: (@Sendable (CallSummary) -> Void)?

    /// Loads the accounts and starts the media engine; ``start()`` opens the SIP port.
    ///
    /// - Parameters:
    ///   - configuration: the SIP address, the RTP ports, the media threads and their clock.
    ///   - accounts: the numbers answered for and what they play.
    ///   - logger: where call events are logged (never from a media thread).
    ///   - source: where numbers that `accounts` lacks are looked up (the management store), if anywhere.
    ///   - onSMS: called (off the media thread) for each SMS step a call reaches.
    ///   - onCallEnded: called once per answered call when it ends (off the media thread), with what it did.
    package init(
        configuration: Configuration, accounts: AccountDirectory, source: (any CalledNumberSource)? = nil,
        logger: Logger, onSMS: @escaping @Sendable (LiveSMSRequest) -> Void,
        onCallEnded: (@Sendable (CallSummary) -> Void)? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.onSMS = onSMS
        self.source = source
        self.onCallEnded = onCallEnded
        state = Mutex(State(directory: accounts))
        let box = EngineEventSink()
        engine = try MediaEngine(
            configuration: MediaEngine.Configuration(
                bindHost: configuration.host, ports: configuration.rtpPorts,
                mediaThreads: configuration.mediaThreads,
                rtpTimeout: .seconds(configuration.rtpTimeoutSeconds),
                holdTimeout: .seconds(configuration.holdTimeoutSeconds),
                rtpProbation: configuration.rtpProbationPackets,
                tick: .milliseconds(configuration.mediaTickMs),
                realtimePriority: configuration.realtimePriority, sendRing: configuration.sendRing),
            logger: logger, onEvent: { event in box.server?.mediaEvent(event) })
        box.server = self
    }

    /// Opens the SIP port (once: a later call returns the same port; do not call it concurrently).
    ///
    /// - Returns: the port it listens on.
    package func start() async throws -> Int {
        if let server = sip.withLock({ $0 }) { return server.localAddress.port ?? configuration.port }
        let agent = UserAgentServer.Configuration(trustedSources: configuration.trustedProxies)
        let server = try await SIPServer.start(
            host: configuration.host, port: configuration.port,
            configuration: agent, delegate: Delegate(self), logger: logger)
        sip.withLock { $0 = server }
        return server.localAddress.port ?? configuration.port
    }

    /// Serves calls until graceful shutdown, then drains and stops: opens the SIP port if ``start()`` has
    /// not, waits for the service group's graceful shutdown (or the task's cancellation), runs
    /// ``drain(finishWithin:timeout:)`` (calls in progress may run ``Configuration/drainTimeout`` to their
    /// end, then BYE to the rest and 5 s at most for their answers), then ``shutdown()``.
    ///
    /// - Throws: when the SIP port cannot be bound.
    package func run() async throws {
        _ = try await start()
        // Cancelled rather than shut down gracefully: the drain below still sends the BYEs, but does not wait.
        try? await gracefulShutdown()
        let finish = configuration.drainTimeout
        logger.info(
            "shutting down: new calls and OPTIONS get 503, calls in progress may run \(finish) to their end, then BYE")
        let started = ContinuousClock.now
        await drain(finishWithin: Task.isCancelled ? .zero : finish)
        logger.info("drained in \(ContinuousClock.now - started)")
        await shutdown()
    }

    /// Whether the server is draining: new INVITEs and OPTIONS get 503 (``drain(finishWithin:timeout:)``).
    package var isDraining: Bool { state.withLock { $0.draining } }

    /// Calls between the INVITE's acceptance and their end.
    package var activeCalls: Int { state.withLock { $0.calls.count } }

    /// How many calls ended and how, and how many INVITEs were refused, since the start.
    package var callCounts: CallCounts { state.withLock { $0.counts } }

    /// Reloads the account files: calls in progress keep what they started with; a file that no longer
    /// validates is refused and its previous version kept.
    ///
    /// - Returns: one error per refused file.
    package func reload() -> [AccountLoadError] {
        let current = state.withLock { $0.directory }
        let (next, errors) = current.reloaded()
        state.withLock { $0.directory = next }
        for error in errors { for line in error.lines { logger.error("reload refused: \(line)") } }
        logger.info("accounts reloaded: \(next.entries.count) files, \(next.numberCount) numbers")
        return errors
    }

    /// Stops taking calls, lets the calls in progress run to their own end for at most `finishWithin`, then
    /// ends the rest with BYE and waits (at most `timeout`) for them to end and for the caller to answer each
    /// BYE (RFC 3261 §15.1.1; the BYE is retransmitted meanwhile, §17.1.2.2). New INVITEs and OPTIONS get 503
    /// Service Unavailable with Retry-After (§21.5.4) from the moment this is called, so a dispatcher that
    /// probes with OPTIONS stops sending calls here. The waits are on events (the last call removed, the SIP
    /// layer's last dialog gone), never a poll.
    ///
    /// - Parameters:
    ///   - finishWithin: how long calls may go on before the BYEs (zero: at once).
    ///   - timeout: the longest wait after the BYEs; the task's cancellation also ends both waits.
    /// - Returns: whether every call ended and every BYE was answered before the limits.
    @discardableResult
    package func drain(finishWithin: Duration = .zero, timeout: Duration = .seconds(5)) async -> Bool {
        let server = sip.withLock { $0 }
        // Once this has run on the event loop, no new INVITE reaches `incoming(_:)`: the calls listed below
        // are all there will be.
        try? await server?.setDraining(true).get()
        var ended = state.withLock { state in
            state.draining = true
            return state.calls.isEmpty
        }
        if finishWithin > .zero && !ended {
            ended = await waitForCallsToEnd(before: ContinuousClock.now + finishWithin)
            if !ended {
                let left = state.withLock { $0.calls.count }
                logger.info("drain: \(left) calls still up after \(finishWithin): sending BYE")
            }
        }
        let deadline = ContinuousClock.now + timeout
        if !ended {
            let dialogs = state.withLock { Array($0.calls.keys) }
            for dialog in dialogs { hangUp(dialog, reason: "the server is shutting down") }
            ended = await waitForCallsToEnd(before: deadline)
        }
        var answered = true
        if let server {
            let (dialogsEnded, done) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            server.dialogsEnded().whenComplete { _ in
                done.yield()
                done.finish()
            }
            answered = await Self.firstEvent(of: dialogsEnded, before: deadline)
        }
        if !ended || !answered {
            let left = state.withLock { $0.calls.count }
            logger.warning("drain: stopped waiting after \(timeout) (\(left) calls left, BYEs answered: \(answered))")
        }
        return ended && answered
    }

    /// Whether every call has ended before `deadline` (draining: no call is added meanwhile).
    private func waitForCallsToEnd(before deadline: ContinuousClock.Instant) async -> Bool {
        // A stream per wait: a cancelled iteration finishes its stream.
        let (callsEnded, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        state.withLock { state in
            state.callsEnded = continuation
            if state.calls.isEmpty { continuation.yield() }
        }
        let ended = await Self.firstEvent(of: callsEnded, before: deadline)
        state.withLock { $0.callsEnded = nil }
        continuation.finish()
        return ended
    }

    /// Whether `events` yields before `deadline` (false at the deadline, when it finishes, or on cancellation).
    private static func firstEvent(
        of events: AsyncStream<Void>,
        before deadline: ContinuousClock.Instant
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in events { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Closes the SIP port and stops the media engine.
    package func shutdown() async {
        let server = sip.withLock { s -> SIPServer? in
            defer { s = nil }
            return s
        }
        try? await server?.shutdown()
        engine.shutdown()
    }

    /// The media engine's counters (calls, packets, send lateness).
    package func statistics() -> MediaStatistics { engine.statistics() }

    // MARK: - SIP

    fileprivate func incoming(_ invite: IncomingCall) -> CallDecision {
        // Everything from the INVITE is escaped before it reaches a log line (InputText.escaped).
        let id = shown(invite.id.callID)
        let (draining, found) = state.withLock { ($0.draining, $0.directory.calledNumber(user: invite.user)) }
        if draining { return refuse(503) }
        if let called = found { return take(invite, called) }
        guard let source, let number = try? PhoneNumber(invite.user) else {
            logger.info("call \(id): \(shown(invite.user)) is not a number of any account: 404")
            return refuse(404)
        }
        // Not in the account files: the source (the store) is asked off the event loop, the caller has our
        // 100 Trying meanwhile, and the decision goes back through the SIP server when the account is ready.
        Task { [self] in
            let decision: CallDecision
            do {
                if let called = try await source.calledNumber(number) {
                    let draining = state.withLock { $0.draining }
                    decision = draining ? refuse(503) : take(invite, called)
                } else {
                    logger.info("call \(id): \(shown(invite.user)) is not a number of any account: 404")
                    decision = refuse(404)
                }
            } catch {
                logger.error("call \(id): the account of \(number) cannot be loaded: \(shown("\(error)")): 503")
                decision = refuse(503)
            }
            let taken = await (try? sip.withLock({ $0 })?.decide(invite.id, decision).get()) ?? false
            if !taken, case .accept = decision, let call = state.withLock({ $0.calls.removeValue(forKey: invite.id) }) {
                // Cancelled (or expired) while the account was loading: nothing was answered.
                call.port.release()
                logger.info("call \(id): ended before the answer")
            }
        }
        return .later
    }

    /// The decision for a call to a number of `called`'s account (the call is kept when accepted).
    private func take(_ invite: IncomingCall, _ called: AccountDirectory.CalledNumber) -> CallDecision {
        let id = shown(invite.id.callID)
        guard case .ivr = called.did.route else {
            logger.info("call \(id): \(called.did.number) hangs up: 603")
            return refuse(603)
        }
        var negotiated: Negotiated?
        if !invite.isLateOffer {
            guard let offer = invite.offer, let answer = offer.negotiate() else {
                let why = invite.offerError.map { shown("\($0)") } ?? "PCMU/PCMA needed"
                logger.info("call \(id): no common codec in the offer (\(why)): 488")
                return refuse(488)
            }
            switch negotiate(answer, called: called, callID: id, current: nil) {
            case .success(let result): negotiated = result
            case .failure(let rejection): return refuse(rejection.status)
            }
        }
        let port: RTPPortReservation
        do {
            port = try engine.reservePort()
        } catch {
            logger.warning("call \(id): no RTP port left (\(error)): 503")
            return refuse(503)
        }
        var call = Call(
            port: port, parameters: nil, called: called, media: nil, compiled: nil,
            sessionID: UInt64.random(in: 1...UInt64(UInt32.max)),
            signallingAddress: invite.source.ipAddress,
            trace: CallTrace(
                startedMs: Self.wallClockMs(), started: .now,
                caller: shown(Self.userPart(invite.callerURI))))
        let sdp: String
        if let negotiated, let offer = invite.offer {
            guard prepareMedia(&call, negotiated, remote: offer, callID: id) else {
                port.release()
                return refuse(500)
            }
            sdp = negotiated.answer.render(
                address: configuration.mediaAddress, port: port.port,
                sessionID: call.sessionID)
            let dtmf = negotiated.sendEvents ? "as RFC 4733 events" : "in-band"
            logger.info(
                """
                call \(id): \(shown(invite.callerURI)) calls \(called.did.number) (\(called.entry.path)): \
                \(negotiated.answer.codec.rawValue) (payload type \(negotiated.answer.payloadType)), DTMF \(dtmf), \
                \(negotiated.answer.direction.rawValue), \
                RTP port \(port.port)
                """)
        } else {
            // RFC 3261 §13.2.1, RFC 3264 §5: no offer in the INVITE: ours goes in the 200, the answer in the ACK.
            sdp = SDPAnswer.renderOffer(
                address: configuration.mediaAddress, port: port.port,
                sessionID: call.sessionID)
            logger.info(
                """
                call \(id): \(shown(invite.callerURI)) calls \(called.did.number) (\(called.entry.path)) without an offer: \
                we offer PCMU/PCMA on RTP port \(port.port), the answer comes in the ACK
                """)
        }
        state.withLock { $0.calls[invite.id] = call }
        return .accept(answerSDP: sdp, ringFor: .milliseconds(Int64(called.did.answerAfterMs)))
    }

    /// A new INVITE refused with `status` (counted for ``callCounts``).
    private func refuse(_ status: Int) -> CallDecision {
        state.withLock { $0.counts.refused(status) }
        return .reject(status: status)
    }

    /// Why an offer or answer cannot be taken, with the status a re-offer is refused with.
    private struct RejectionError: Error {
        var status: Int
    }

    /// The DTMF mode and encoding of an answer for this DID (RFC 4733 events need a telephone-event payload
    /// type: 488 without one). With `current` (the call runs already), the DTMF mode it started with is kept:
    /// a call that sends events needs telephone-event in every later offer.
    private func negotiate(
        _ answer: SDPAnswer, called: AccountDirectory.CalledNumber, callID id: String,
        current: MediaCallParameters?
    ) -> Result<Negotiated, RejectionError> {
        var answer = answer
        if called.did.dtmf == .inband {
            // Digits in the audio both ways: the answer leaves telephone-event out (as Asterisk's
            // dtmfmode=inband does), so the caller's phone sends its presses as tones too.
            answer.telephoneEventPayloadType = nil
        }
        let sendEvents: Bool
        if let current {
            sendEvents = current.sendDTMFAsEvents
        } else {
            switch called.did.dtmf {
            case .auto: sendEvents = answer.telephoneEventPayloadType != nil
            case .inband: sendEvents = false
            case .rfc4733: sendEvents = true
            }
        }
        if sendEvents && answer.telephoneEventPayloadType == nil {
            logger.info("call \(id): \(called.did.number) sends RFC 4733 but the offer has no telephone-event: 488")
            return .failure(RejectionError(status: 488))
        }
        let encoding: SampleEncoding = answer.codec == .pcma ? .alaw : .ulaw
        return .success(Negotiated(answer: answer, sendEvents: sendEvents, encoding: encoding))
    }

    /// Compiles the account for the negotiated encoding and DTMF mode, makes the IVR session and the media
    /// parameters (the directions of the offer or answer included, RFC 3264 §6.1). False on failure (logged).
    private func prepareMedia(
        _ call: inout Call, _ negotiated: Negotiated, remote: SDPOffer,
        callID id: String
    ) -> Bool {
        let called = call.called
        let answer = negotiated.answer
        guard let compiled = called.entry.compiled(negotiated.encoding, negotiated.sendEvents ? .rfc4733 : .inband)
        else { return false }
        let session: IVRSession
        do {
            // Key presses come as RFC 4733 events when telephone-event was negotiated (receiveDTMFFrom below):
            // then the session needs no in-band receiver's buffer.
            session = try compiled.makeSession(
                calling: called.did.number,
                listensInBand: answer.telephoneEventPayloadType == nil)
        } catch {
            logger.error("call \(id): \(called.entry.path): \(error)")
            return false
        }
        call.compiled = compiled
        call.ptimeMs = answer.ptime
        call.parameters = MediaCallParameters(
            port: call.port, remote: (remote.connectionAddress, remote.audioPort),
            signallingAddress: call.signallingAddress, audioPayloadType: UInt8(truncatingIfNeeded: answer.payloadType),
            telephoneEventPayloadType: answer.telephoneEventPayloadType.map { UInt8(truncatingIfNeeded: $0) },
            ptimeMs: answer.ptime, sendDTMFAsEvents: negotiated.sendEvents,
            // One source of key presses: RFC 4733 when telephone-event was negotiated, in-band otherwise, so
            // that a press a phone sends both ways counts once.
            receiveDTMFFrom: answer.telephoneEventPayloadType != nil ? .rfc4733 : .inband,
            sends: answer.sends, receives: Self.receives(answer, remote), session: session, callID: id)
        return true
    }

    /// Whether the caller sends us RTP (the RTP timeout applies) or holds the call (the hold limit applies):
    /// RFC 3264 §8.4 hold is `sendonly`/`inactive` from the caller (we answer `recvonly`/`inactive`: then
    /// it still sends for `sendonly`), or the RFC 2543 `c=0.0.0.0`, after which phones send nothing.
    private static func receives(_ answer: SDPAnswer, _ remote: SDPOffer) -> Bool {
        answer.receives && !remote.isHoldAddress
    }

    fileprivate func confirmed(_ dialog: DialogID, answer: SDPOffer?) {
        let id = dialog.callID
        guard
            var call = state.withLock({ state -> Call? in
                guard let call = state.calls[dialog], call.media == nil else { return nil }
                return call
            })
        else { return }
        if call.parameters == nil {
            // Late offer: the ACK's answer to our offer (RFC 3264 §6.1), negotiated like an offer.
            guard let answer, let negotiatedAnswer = answer.negotiate() else {
                hangUp(dialog, reason: "the answer in the ACK has no PCMU or PCMA")
                return
            }
            guard
                case .success(let negotiated) = negotiate(
                    negotiatedAnswer, called: call.called, callID: id,
                    current: nil)
            else {
                hangUp(dialog, reason: "the answer in the ACK has no telephone-event")
                return
            }
            guard prepareMedia(&call, negotiated, remote: answer, callID: id) else {
                hangUp(dialog, reason: "the account could not be compiled")
                return
            }
            let dtmf = negotiated.sendEvents ? "as RFC 4733 events" : "in-band"
            logger.info(
                """
                call \(id): the ACK's answer: \(negotiatedAnswer.codec.rawValue), DTMF \(dtmf), \
                \(negotiatedAnswer.direction.rawValue)
                """)
            let stored = call
            state.withLock { $0.calls[dialog] = stored }
        }
        guard let parameters = call.parameters else { return }
        let handle: MediaCallHandle
        do {
            handle = try engine.startCall(parameters)
        } catch {
            logger.error("call \(shown(dialog.callID)): media did not start: \(shown("\(error)"))")
            hangUp(dialog, reason: "no media")
            return
        }
        state.withLock { state in
            state.calls[dialog]?.media = handle
            state.dialogs[handle.id] = dialog
        }
        logger.info("call \(shown(dialog.callID)): answered, media started")
    }

    /// A re-INVITE or UPDATE offer (RFC 3264 §8): negotiated like the first one and applied to the media from
    /// its next packet (hold, resume, codec, address); 488 when it cannot be taken (the session goes on
    /// unchanged). Without an offer (a re-INVITE without SDP): our offer, answered in the ACK.
    fileprivate func sessionOffered(_ dialog: DialogID, offer: SDPOffer?) -> SDPDecision {
        let id = shown(dialog.callID)
        guard let call = state.withLock({ $0.calls[dialog] }) else { return .reject(status: 481) }
        guard let offer else {
            logger.info("call \(id): re-INVITE without SDP: we offer PCMU/PCMA, the answer comes in the ACK")
            return .accept(
                sdp: SDPAnswer.renderOffer(
                    address: configuration.mediaAddress, port: call.port.port,
                    sessionID: call.sessionID))
        }
        guard var answer = offer.negotiate() else {
            logger.info("call \(id): re-offer without PCMU or PCMA: 488, the session is unchanged")
            return .reject(status: 488)
        }
        answer.ptime = call.ptimeMs
        switch apply(answer, remote: offer, to: dialog) {
        case .success(let answer):
            return .accept(
                sdp: answer.render(
                    address: configuration.mediaAddress, port: call.port.port,
                    sessionID: call.sessionID))
        case .failure(let rejection):
            return .reject(status: rejection.status)
        }
    }

    /// The ACK of a re-INVITE without SDP brought the answer to our offer: applied, or BYE when unusable.
    fileprivate func sessionAnswered(_ dialog: DialogID, answer: SDPOffer) {
        guard let negotiated = answer.negotiate() else {
            hangUp(dialog, reason: "the answer in the ACK has no PCMU or PCMA")
            return
        }
        if case .failure = apply(negotiated, remote: answer, to: dialog) {
            hangUp(dialog, reason: "the answer in the ACK cannot be used")
        }
    }

    /// Applies a negotiated re-offer (or the answer to ours) to the call: to the running media through
    /// ``MediaEngine/updateCall(_:_:)``, or, before the media starts (an UPDATE before the ACK), to what it
    /// will start with.
    private func apply(_ answer: SDPAnswer, remote: SDPOffer, to dialog: DialogID) -> Result<SDPAnswer, RejectionError>
    {
        let id = shown(dialog.callID)
        guard var call = state.withLock({ $0.calls[dialog] }) else { return .failure(RejectionError(status: 481)) }
        let current = call.parameters
        let negotiated: Negotiated
        switch negotiate(answer, called: call.called, callID: id, current: current) {
        case .success(let result): negotiated = result
        case .failure(let rejection): return .failure(rejection)
        }
        let answer = negotiated.answer  // as negotiated for the DID (no telephone-event on an in-band DID)
        let receives = Self.receives(answer, remote)
        if let media = call.media {
            let update = MediaUpdate(
                remote: (remote.connectionAddress, remote.audioPort),
                audioPayloadType: UInt8(truncatingIfNeeded: answer.payloadType), encoding: negotiated.encoding,
                telephoneEventPayloadType: answer.telephoneEventPayloadType.map { UInt8(truncatingIfNeeded: $0) },
                sends: answer.sends, receives: receives)
            do {
                try engine.updateCall(media, update)
            } catch {
                logger.warning("call \(id): the new offer cannot be applied (\(shown("\(error)"))): 488")
                return .failure(RejectionError(status: 488))
            }
        } else {
            // Not started yet: start with the new session instead (the account compiled for its encoding).
            guard prepareMedia(&call, negotiated, remote: remote, callID: id) else {
                return .failure(RejectionError(status: 500))
            }
            let stored = call
            state.withLock { state in if state.calls[dialog] != nil { state.calls[dialog] = stored } }
        }
        logger.info(
            """
            call \(id): new offer/answer applied: \(answer.codec.rawValue) to \
            \(remote.connectionAddress):\(remote.audioPort), we \(answer.sends ? "send" : "send nothing"), the caller \
            \(receives ? "sends" : "holds (hold limit instead of the RTP timeout)")
            """)
        return .success(answer)
    }

    fileprivate func ended(_ dialog: DialogID, reason: CallEndReason) {
        guard
            let call = state.withLock({ state -> Call? in
                guard let call = state.calls.removeValue(forKey: dialog) else { return nil }
                state.counts.ended(reason)
                return call
            })
        else { return }
        if let media = call.media {
            state.withLock { _ = $0.dialogs.removeValue(forKey: media.id) }
            engine.endCall(media)
        } else {
            call.port.release()
        }
        let why: String
        switch reason {
        case .remoteBye: why = "the caller hung up (BYE)"
        case .localBye: why = "sent BYE"
        case .cancelled: why = "the caller cancelled (487)"
        case .expired: why = "the INVITE expired before the answer (487)"
        case .ackTimeout: why = "no ACK within 64*T1: sent BYE"
        case .missingAnswer: why = "the ACK carried no usable SDP answer: sent BYE"
        }
        logger.info("call \(shown(dialog.callID)): call ended: \(why)")
        if let onCallEnded { onCallEnded(summary(of: call, callID: dialog.callID, reason: why)) }
        // Draining: the last call gone ends a wait of `drain(finishWithin:timeout:)`.
        state.withLock { $0.calls.isEmpty ? $0.callsEnded : nil }?.yield()
    }

    /// What `call` did, for its call record.
    private func summary(of call: Call, callID: String, reason: String) -> CallSummary {
        let trace = call.trace
        let account = call.called.entry.account
        var sequenceName: String?
        var done = 0
        var total = 0
        if let index = trace.sequence {
            if account.sequences.indices.contains(index) { sequenceName = account.sequences[index].name }
            if let program = call.compiled?.compiledSequence(at: index) {
                total = program.steps.count
                if trace.outcome == IVRSession.EndReason.sequenceFinished.description {
                    done = total
                } else if let began = trace.sequenceStarted {
                    // Steps whose end the call's media reached (the player runs in real time from the start).
                    let elapsed = ContinuousClock.now - began
                    let samples =
                        Int(elapsed.components.seconds) * program.format.sampleRate
                        + Int(elapsed.components.attoseconds / 1_000_000_000_000_000) * program.format.sampleRate / 1000
                    done = program.steps.count { $0.endSample <= samples }
                }
            }
        }
        let duration = ContinuousClock.now - trace.started
        let ms = Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
        return CallSummary(
            callID: shown(callID), storeAccount: call.called.entry.storeAccount,
            account: call.called.entry.path, startedMs: trace.startedMs, caller: trace.caller,
            did: call.called.did.number.digits, ivrPath: trace.ivrPath, keys: trace.keys,
            sequence: sequenceName, stepsDone: done, stepsTotal: total, smsSteps: trace.smsSteps,
            outcome: trace.outcome ?? reason, durationMs: ms)
    }

    /// Milliseconds since 1970 (UTC), from the realtime clock.
    private static func wallClockMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// `alice` of `sip:alice@host;params` (the whole URI when it has no user part).
    static func userPart(_ uri: String) -> String {
        var rest = Substring(uri)
        if let colon = rest.firstIndex(of: ":") { rest = rest[rest.index(after: colon)...] }
        guard let at = rest.firstIndex(of: "@") else { return String(uri.prefix(64)) }
        return String(rest[..<at].prefix(64))
    }

    private func hangUp(_ dialog: DialogID, reason: String) {
        logger.info("call \(shown(dialog.callID)): \(reason): sending BYE")
        sip.withLock { $0 }?.hangUp(dialog)
    }

    // MARK: - Media

    fileprivate func mediaEvent(_ event: MediaEvent) {
        let id = shown(event.callID)
        let found = state.withLock { state -> (DialogID, Call)? in
            guard let dialog = state.dialogs[event.call.id], let call = state.calls[dialog] else { return nil }
            return (dialog, call)
        }
        let account = found?.1.called.entry.account
        /// Adds to the call's trace (its call record).
        func trace(_ change: (inout CallTrace) -> Void) {
            guard let dialog = found?.0 else { return }
            state.withLock { state in
                guard var call = state.calls[dialog] else { return }
                change(&call.trace)
                state.calls[dialog] = call
            }
        }
        switch event.kind {
        case .session(.menuStarted(let ivr, let play)):
            let name = account.flatMap { $0.ivrs.indices.contains(ivr) ? $0.ivrs[ivr].name : nil } ?? "\(ivr)"
            logger.info("call \(id): IVR \"\(name)\" plays its menu (play \(play))")
            trace { if $0.ivrPath.last != name && $0.ivrPath.count < 32 { $0.ivrPath.append(name) } }
        case .session(.digit(let digit)):
            logger.info("call \(id): caller pressed \(digit)")
            trace { if $0.keys.count < 64 { $0.keys += "\(digit)" } }
        case .session(.invalidOption(_, let digit)):
            logger.info("call \(id): no option \(digit)")
        case .session(.timedOut):
            logger.info("call \(id): no digit within the timeout")
        case .session(.sequenceStarted(let index)):
            let name =
                account.flatMap { $0.sequences.indices.contains(index) ? $0.sequences[index].name : nil } ?? "\(index)"
            logger.info("call \(id): running sequence \"\(name)\"")
            trace {
                $0.sequence = index
                $0.sequenceStarted = .now
            }
        case .session:
            break  // the media thread posts no other session event (sequence events, the end: below)
        case .smsRequested(let sequence, let step):
            guard let (_, call) = found,
                let sms = call.compiled?.compiledSequence(at: sequence)?.smsRequest(step: step)
            else { return }
            trace { $0.smsSteps += 1 }
            onSMS(
                LiveSMSRequest(
                    callID: id, account: call.called.entry.path, sms: sms,
                    dailyLimit: call.called.entry.account.capabilities.smsDailyLimit,
                    storeAccount: call.called.entry.storeAccount, step: step))
        case .ended(let reason):
            let why = reason.description
            trace { if $0.outcome == nil { $0.outcome = why } }
            if let (dialog, _) = found { hangUp(dialog, reason: why) }
        }
    }
}

/// Calls since the server started, by how they ended, and the new INVITEs it refused, by status (what
/// `/metrics` reports as `callseq_calls_total{outcome=...}`).
package struct CallCounts: Sendable, Equatable {
    /// The caller hung up (BYE).
    package var remoteBye = 0
    /// We ended the call with BYE (the IVR or sequence ended, no RTP, shutdown).
    package var localBye = 0
    /// Cancelled or expired before the answer (487).
    package var cancelled = 0
    /// No ACK, or no usable answer in it (BYE sent).
    package var failed = 0
    /// New INVITEs refused, by status code (404, 488, 503, ...).
    package var refused: [Int: Int] = [:]

    /// Creates zero counts.
    package init() {}

    mutating func ended(_ reason: CallEndReason) {
        switch reason {
        case .remoteBye: remoteBye += 1
        case .localBye: localBye += 1
        case .cancelled, .expired: cancelled += 1
        case .ackTimeout, .missingAnswer: failed += 1
        }
    }

    mutating func refused(_ status: Int) { refused[status, default: 0] += 1 }
}

/// Network text (Call-ID, URIs, SDP errors) as it may appear in a log line: control characters escaped.
private func shown(_ text: String) -> String { InputText.escaped(text, limit: 200) }

/// Lets the engine's event closure reach the server, which is created after the engine.
private final class EngineEventSink: @unchecked Sendable {
    weak var server: CallServer?
}

/// The SIP server's delegate: forwards to the call server.
private struct Delegate: SIPServerDelegate {
    weak var server: CallServer?
    init(_ server: CallServer) { self.server = server }

    func incomingCall(_ call: IncomingCall) -> CallDecision { server?.incoming(call) ?? .reject(status: 503) }
    func callConfirmed(_ dialog: DialogID, answer: SDPOffer?) { server?.confirmed(dialog, answer: answer) }
    func sessionOffered(_ dialog: DialogID, offer: SDPOffer?) -> SDPDecision {
        server?.sessionOffered(dialog, offer: offer) ?? .reject(status: 503)
    }
    func sessionAnswered(_ dialog: DialogID, answer: SDPOffer) { server?.sessionAnswered(dialog, answer: answer) }
    func callEnded(_ dialog: DialogID, reason: CallEndReason) { server?.ended(dialog, reason: reason) }
}

extension MediaStatistics {
    /// One line for logs: calls, packets, and the media clock's lateness (µs).
    package var summary: String {
        "\(calls) calls, \(packetsSent) RTP packets sent, \(packetsReceived) received, \(invalidPackets) invalid, "
            + "\(foreignPackets) from other sources (dropped), \(sendErrors) send errors, \(ticks) ticks (\(skippedTicks) skipped); wake-up lateness p50 "
            + "\(latenessP50 / 1000) us, p99 \(latenessP99 / 1000) us, max \(latenessMax / 1000) us; "
            + "send lateness p99 \(sendLateness.percentile(0.99) / 1000) us, max \(sendLateness.max / 1000) us; "
            + "system calls \(sendCalls) send, \(receiveCalls) recvmmsg, \(pollCalls) epoll_wait, "
            + "\(MediaStatistics.thousandths(systemCallsPerPacket)) per packet; "
            + "\(sendRingThreads) media thread(s) sending through io_uring"
    }

    /// `x` with three decimals (no Foundation).
    static func thousandths(_ x: Double) -> String {
        let m = Int((max(x, 0) * 1000).rounded())
        let fraction = String(m % 1000)
        return "\(m / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
