import Logging
import NIOCore
import NIOPosix

/// What a ``SIPServer`` asks and tells the application. Every method is called on the server's event loop:
/// return quickly, and hand long work to another thread.
public protocol SIPServerDelegate: Sendable {
    /// A new call: decide now whether to answer it (and with which SDP), or reject it.
    /// - Parameter call: the INVITE's caller, number dialled and SDP offer.
    /// - Returns: the decision.
    func incomingCall(_ call: IncomingCall) -> CallDecision

    /// The caller acknowledged our 200 OK: the call is established (media may flow already).
    /// - Parameters:
    ///   - call: the call.
    ///   - answer: the ACK's SDP answer when the INVITE had no offer and our 200 OK carried ours (late offer,
    ///     RFC 3261 §13.2.1); nil otherwise. An ACK without a usable answer never gets here: the call is
    ///     ended with BYE (``CallEndReason/missingAnswer``). An answer the application cannot use (no common
    ///     codec) is its to end (``SIPServer/hangUp(_:)``).
    func callConfirmed(_ call: DialogID, answer: SDPOffer?)

    /// An offer inside the established dialog: a re-INVITE or an UPDATE (RFC 3264 §8, RFC 3311). Decide now.
    /// - Parameters:
    ///   - call: the call.
    ///   - offer: the offer; nil for a re-INVITE without SDP, which asks for our offer (its answer comes
    ///     through ``sessionAnswered(_:answer:)``).
    /// - Returns: the SDP of the 200 OK, or a rejection (488: the session goes on unchanged).
    func sessionOffered(_ call: DialogID, offer: SDPOffer?) -> SDPDecision

    /// The ACK of a re-INVITE without SDP brought the answer to our offer. (No usable answer: the call is
    /// ended with BYE, ``CallEndReason/missingAnswer``.)
    func sessionAnswered(_ call: DialogID, answer: SDPOffer)

    /// An accepted call has ended (told once per accepted call).
    func callEnded(_ call: DialogID, reason: CallEndReason)
}

/// A SIP user-agent server on UDP: a ``UserAgentServer`` driven by swift-nio.
///
/// Datagrams go to the state machine on the channel's event loop; its actions are performed there (sends,
/// timers with `scheduleTask`, delegate calls). The public methods are thread-safe: they hop to the loop.
///
/// ```swift
/// let server = try await SIPServer.start(host: "127.0.0.1", port: 0, delegate: app, logger: logger)
/// print("listening on udp \(server.localAddress)")
/// ...
/// server.hangUp(call)
/// try await server.shutdown()
/// ```
public final class SIPServer: Sendable {
    /// The address the server is bound to (with the real port when port 0 was asked).
    public let localAddress: SocketAddress
    private let channel: any Channel

    private init(channel: any Channel, localAddress: SocketAddress) {
        self.channel = channel
        self.localAddress = localAddress
    }

    /// Binds a UDP socket and starts answering.
    /// - Parameters:
    ///   - host: the address to bind (`127.0.0.1`, `0.0.0.0`, `::`).
    ///   - port: the port; 0 picks a free one (read it from ``localAddress``).
    ///   - configuration: timers and bounds. When its `contactAddress` is nil and `host` is not a wildcard,
    ///     Contact announces the bound address; with a wildcard, each INVITE's Request-URI host.
    ///   - delegate: the application.
    ///   - logger: where requests and responses (debug) and call starts and ends (info) are logged, with
    ///     `call-id` metadata.
    ///   - group: the event loop group; the server runs on one of its loops.
    ///   - seed: the seed of tags and branches (random by default).
    /// - Returns: the running server.
    /// - Throws: when the socket cannot be bound.
    public static func start(
        host: String, port: Int, configuration: UserAgentServer.Configuration = .init(),
        delegate: any SIPServerDelegate, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        seed: UInt64 = UInt64.random(in: .min ... .max)
    ) async throws -> SIPServer {
        let bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            // A SIP datagram may be up to 65,535 bytes (§18.1.1 asks UDP up to the path MTU; we accept more).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let agent = UserAgentServer(configuration: configuration, seed: seed)
                    let handler = SIPChannelHandler(agent: agent, delegate: delegate, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        guard let localAddress = channel.localAddress else {
            try? await channel.close()
            throw ChannelError.unknownLocalAddress
        }
        return SIPServer(channel: channel, localAddress: localAddress)
    }

    /// Ends a call (BYE, or 480 when not answered yet); the delegate is told `.localBye`.
    /// - Returns: a future that succeeds once the command ran on the event loop (ignore it if not needed).
    @discardableResult
    public func hangUp(_ call: DialogID) -> EventLoopFuture<Void> {
        send(.hangUp(call))
    }

    /// Draining: new INVITEs are answered 503 Service Unavailable; calls in progress go on.
    /// - Returns: a future that succeeds once datagrams read after it see the new mode.
    @discardableResult
    public func setDraining(_ draining: Bool) -> EventLoopFuture<Void> {
        send(.setDraining(draining))
    }

    /// Completes once no dialog is left: every call has ended and every BYE we sent has its final response
    /// (or was given up on after 64·T1, RFC 3261 §17.1.2.2), so closing the socket loses no retransmission.
    /// Also completes when the server shuts down.
    /// - Returns: a future on the server's event loop.
    public func dialogsEnded() -> EventLoopFuture<Void> {
        let channel = self.channel
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            // A closed channel's handler is gone (it succeeded its waiters when removed).
            if channel.isActive {
                channel.pipeline.fireUserInboundEventTriggered(SIPChannelHandler.Command.whenDialogsEnded(promise))
            } else {
                promise.succeed()
            }
        }
        return promise.futureResult
    }

    /// The decision about a call the delegate answered ``CallDecision/later`` for.
    /// - Returns: a future that succeeds with true when the call was still waiting and took the decision, false
    ///   when it no longer was (cancelled, or its INVITE expired, meanwhile): then nothing was sent.
    public func decide(_ call: DialogID, _ decision: CallDecision) -> EventLoopFuture<Bool> {
        let channel = self.channel
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        channel.eventLoop.execute {
            if channel.isActive {
                channel.pipeline.fireUserInboundEventTriggered(
                    SIPChannelHandler.Command.decide(call, decision, promise))
            } else {
                promise.succeed(false)
            }
        }
        return promise.futureResult
    }

    private func send(_ command: SIPChannelHandler.Command) -> EventLoopFuture<Void> {
        let channel = self.channel
        // On the loop, the pipeline runs the event at once: the future completes after the handler saw it.
        return channel.eventLoop.submit { channel.pipeline.fireUserInboundEventTriggered(command) }
    }

    /// Closes the socket and cancels every timer. Calls still up are not told (hang them up first).
    public func shutdown() async throws {
        do {
            try await channel.close()
        } catch ChannelError.alreadyClosed {
            return
        }
    }
}

/// Feeds the channel's datagrams and commands to the state machine and performs its actions.
final class SIPChannelHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Commands from other threads, sent down the pipeline as user events.
    enum Command: Sendable {
        case hangUp(DialogID)
        case setDraining(Bool)
        /// Succeed the promise once the agent holds no dialog.
        case whenDialogsEnded(EventLoopPromise<Void>)
        /// A late ``CallDecision``; the promise tells whether the call still waited for it.
        case decide(DialogID, CallDecision, EventLoopPromise<Bool>)
    }

    private var agent: UserAgentServer
    private let delegate: any SIPServerDelegate
    private let logger: Logger
    private var timers: [TimerID: Scheduled<Void>] = [:]
    private var context: ChannelHandlerContext?
    /// Waiting for the last dialog to go (``SIPServer/dialogsEnded()``).
    private var dialogWaiters: [EventLoopPromise<Void>] = []

    init(agent: UserAgentServer, delegate: any SIPServerDelegate, logger: Logger) {
        self.agent = agent
        self.delegate = delegate
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for timer in timers.values { timer.cancel() }
        timers.removeAll()
        self.context = nil
        let waiters = dialogWaiters
        dialogWaiters.removeAll()
        for waiter in waiters { waiter.succeed() }
    }

    func channelActive(context: ChannelHandlerContext) {
        // Announce the bound address in Contact when it is a specific one.
        if agent.configuration.contactAddress == nil, let local = context.localAddress, let ip = local.ipAddress,
            let port = local.port, ip != "0.0.0.0", ip != "::"
        {
            agent.configuration.contactAddress = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        perform(agent.received(envelope.data, from: envelope.remoteAddress, at: .now()))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let command as Command:
            switch command {
            case .hangUp(let call): perform(agent.hangUp(call))
            case .setDraining(let draining):
                agent.setDraining(draining)
                logger.info("draining: \(draining ? "new calls and OPTIONS get 503" : "off")")
            case .whenDialogsEnded(let promise):
                dialogWaiters.append(promise)
                tellDialogWaiters()
            case .decide(let call, let decision, let promise):
                let waiting = decision != .later && agent.isDeciding(call)
                if waiting { perform(agent.decide(call, decision)) }
                promise.succeed(waiting)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like, for one peer: not a reason to stop serving the others.
        logger.debug("socket error: \(error)")
    }

    /// Performs the state machine's actions in order.
    private func perform(_ actions: [UserAgentServer.Action]) {
        guard let context else { return }
        var wrote = false
        for action in actions {
            switch action {
            case .send(let bytes, let destination):
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: destination, data: bytes)), promise: nil)
                wrote = true
            case .startTimer(let id, let delay):
                timers.removeValue(forKey: id)?.cancel()
                timers[id] = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                    timers[id] = nil
                    perform(agent.timerFired(id))
                }
            case .cancelTimer(let id):
                timers.removeValue(forKey: id)?.cancel()
            case .incomingCall(let call):
                if wrote {
                    context.flush()  // the 100 Trying leaves before the application thinks
                    wrote = false
                }
                let decision = delegate.incomingCall(call)
                if decision != .later { perform(agent.decide(call.id, decision)) }
            case .confirmed(let call, let answer):
                delegate.callConfirmed(call, answer: answer)
            case .sessionOffered(let call, let offer):
                if wrote {
                    context.flush()
                    wrote = false
                }
                let decision = delegate.sessionOffered(call, offer: offer)
                perform(agent.decideSession(call, decision))
            case .sessionAnswered(let call, let answer):
                delegate.sessionAnswered(call, answer: answer)
            case .ended(let call, let reason):
                delegate.callEnded(call, reason: reason)
            case .log(let level, let message, let callID):
                if logger.logLevel <= level {
                    logger.log(level: level, "\(message)", metadata: callID.map { ["call-id": "\($0)"] })
                }
            }
        }
        if wrote { context.flush() }
        tellDialogWaiters()
    }

    /// Succeeds the ``SIPServer/dialogsEnded()`` promises once no dialog is left.
    private func tellDialogWaiters() {
        guard !dialogWaiters.isEmpty, agent.dialogCount == 0 else { return }
        let waiters = dialogWaiters
        dialogWaiters.removeAll()
        for waiter in waiters { waiter.succeed() }
    }
}
