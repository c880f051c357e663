// The media side of `callseq serve`: RTP ports, media threads and the events they report.
//
//     SIP (event loop) ── reservePort ──▶ RTPPortPool (lock, set-up only)
//                      ── startCall / endCall ──▶ command queue (lock + atomic flag) ──▶ media thread(s)
//     media thread: every tick, for each call due: recvfrom… → decode / RFC 4733 → IVRSession.render → sendto
//     media thread ── MediaEventRing (SPSC, plain values) ──▶ event thread ──▶ onEvent (Sendable closure)
//
// The event thread also frees what a finished call held (its port, session and buffer), so the media
// threads never deallocate or release a reference. Foundation-free: threads are pthreads.

import CallSequenceEngine
import CallSequenceModel
import Logging
import RTP
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the media engine refused something.
package struct MediaEngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    package var message: String

    init(_ message: String) { self.message = message }

    /// The problem as a person reads it: what the command line prints after "error:".
    package var description: String { message }
}

/// Plays IVR sessions over RTP: one UDP port per call, media threads paced by absolute deadlines, RFC 4733
/// in and out, events to a `Sendable` handler.
package final class MediaEngine: Sendable {
    /// How the engine runs.
    package struct Configuration: Sendable {
        /// The numeric address RTP sockets bind to (`0.0.0.0`, `::`, `127.0.0.1`).
        package var bindHost: String
        /// The RTP port range (even ports are used).
        package var ports: ClosedRange<Int>
        /// Media threads (calls are spread over them).
        package var mediaThreads: Int
        /// No RTP from the caller for this long ends the call (``MediaEndReason/rtpTimeout``).
        package var rtpTimeout: Duration
        /// How long a call the caller holds (it sends no RTP: `recvonly` or `inactive`) may last without RTP
        /// before it is ended (``MediaEndReason/rtpTimeout``).
        package var holdTimeout: Duration
        /// Strict-RTP probation (learning mode, off at 0): RTP from an address that is neither the offer's c=
        /// address nor the SIP signalling source is accepted once that many packets in sequence came from it
        /// (and no accepted source was heard first). Off by default: anyone who guesses the port and sends
        /// that many packets before the caller would take the call.
        package var rtpProbation: Int
        /// The media clock's tick; packet times must be multiples of it. Calls due on different ticks of
        /// a packet interval spread the work (and the send lateness) over the interval.
        package var tick: Duration
        /// The largest number of calls a media thread takes.
        package var maxCallsPerThread: Int
        /// Events each media thread can hold for the event thread.
        package var eventCapacity: Int
        /// How often the event thread looks for events.
        package var eventPollInterval: Duration
        /// SCHED_FIFO priority (1...99) for the media threads, so that other work on the machine cannot
        /// delay a tick; nil keeps the normal scheduler. Refused by the system without the privilege: then
        /// the threads run normally and the engine logs a warning.
        package var realtimePriority: Int32?
        /// Each media thread sends its tick's packets in one io_uring submission (RTP's `UDPSendRing`) when the
        /// kernel allows io_uring; otherwise, or when false, one sendto a packet (sendmmsg for a call's several).
        package var sendRing: Bool

        /// Creates a configuration.
        package init(
            bindHost: String = "0.0.0.0", ports: ClosedRange<Int> = 20000...29999, mediaThreads: Int = 1,
            rtpTimeout: Duration = .seconds(30), holdTimeout: Duration = .seconds(7200),
            rtpProbation: Int = 0, tick: Duration = .milliseconds(MediaEngine.defaultTickMilliseconds),
            maxCallsPerThread: Int = 5000, eventCapacity: Int = 8192,
            eventPollInterval: Duration = .milliseconds(2), realtimePriority: Int32? = nil,
            sendRing: Bool = true
        ) {
            self.bindHost = bindHost
            self.ports = ports
            self.mediaThreads = mediaThreads
            self.rtpTimeout = rtpTimeout
            self.holdTimeout = holdTimeout
            self.rtpProbation = rtpProbation
            self.tick = tick
            self.maxCallsPerThread = maxCallsPerThread
            self.eventCapacity = eventCapacity
            self.eventPollInterval = eventPollInterval
            self.realtimePriority = realtimePriority
            self.sendRing = sendRing
        }
    }

    struct CallRecord {
        var reservation: RTPPortReservation
        var callID: String
        var thread: Int
        var cancelled = false
    }

    struct Registry {
        var calls: [UInt64: CallRecord] = [:]
        var nextID: UInt64 = 1
        var perThread: [Int]
        var shutDown = false
    }

    /// The configuration.
    package let configuration: Configuration
    /// The RTP ports.
    package let ports: RTPPortPool
    private let logger: Logger
    private let onEvent: @Sendable (MediaEvent) -> Void
    private let threads: [MediaThread]
    private let registry: Mutex<Registry>
    private let tickMs: Int
    private let eventThreadStop = Atomic(false)
    /// The event thread sleeps on this while no call exists (no CPU spent with no call).
    private let eventThreadIdle = Atomic(false)
    private nonisolated(unsafe) let eventWakeup: UnsafeMutablePointer<sem_t> = {
        let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        return semaphore
    }()
    private let isShutDown = Atomic(false)
    private nonisolated(unsafe) var eventThread: pthread_t?

    /// Starts the media threads and the event thread.
    ///
    /// - Parameters:
    ///   - configuration: ports, threads, timeouts.
    ///   - logger: for the engine's own start, stop and trouble (never per packet).
    ///   - onEvent: called on the engine's event thread for each ``MediaEvent``, in order per call.
    /// - Throws: ``MediaEngineError`` for a bad configuration or a thread that cannot start.
    package init(
        configuration: Configuration, logger: Logger,
        onEvent: @escaping @Sendable (MediaEvent) -> Void
    ) throws(MediaEngineError) {
        self.configuration = configuration
        self.logger = logger
        self.onEvent = onEvent
        do {
            ports = try RTPPortPool(host: configuration.bindHost, ports: configuration.ports)
        } catch {
            throw MediaEngineError("RTP ports: \(error)")
        }
        let tickNs =
            configuration.tick.components.seconds * 1_000_000_000
            + configuration.tick.components.attoseconds / 1_000_000_000
        guard tickNs >= 1_000_000, tickNs % 1_000_000 == 0, tickNs <= 1_000_000_000 else {
            throw MediaEngineError("the media tick must be a whole number of milliseconds (1 ms to 1 s)")
        }
        tickMs = Int(tickNs / 1_000_000)
        guard (1...64).contains(configuration.mediaThreads) else { throw MediaEngineError("media threads: 1 to 64") }
        guard configuration.maxCallsPerThread > 0 else { throw MediaEngineError("maxCallsPerThread must be positive") }
        threads = (0..<configuration.mediaThreads).map {
            MediaThread(
                index: $0, capacity: configuration.maxCallsPerThread,
                eventCapacity: max(configuration.eventCapacity, 64))
        }
        registry = Mutex(Registry(perThread: [Int](repeating: 0, count: configuration.mediaThreads)))
        guard (0...1000).contains(configuration.rtpProbation) else {
            throw MediaEngineError("RTP probation: 0 (off) to 1000 packets")
        }
        let tick = configuration.tick
        let timeout = configuration.rtpTimeout
        let hold = configuration.holdTimeout
        var useRing = configuration.sendRing
        if useRing {
            // The threads create their own rings; this one only asks the kernel, to say why once.
            let probe = UDPSendRing(entries: 1)
            if !probe.isAvailable {
                useRing = false
                logger.warning(
                    "media threads send with sendto: the kernel refused io_uring (\(String(cString: strerror(probe.error))))"
                )
            }
        }
        for thread in threads {
            let started = startThread { [useRing] in
                var worker = MediaWorker(
                    shared: thread, tick: tick, rtpTimeout: timeout, holdTimeout: hold, useRing: useRing)
                worker.run()
            }
            guard let started else {
                shutdown()
                throw MediaEngineError("cannot start a media thread")
            }
            thread.thread = started
            if let priority = configuration.realtimePriority {
                guard (1...99).contains(priority) else {
                    shutdown()
                    throw MediaEngineError("real-time priority: 1 to 99")
                }
                var parameters = sched_param(sched_priority: priority)
                let result = pthread_setschedparam(started, SCHED_FIFO, &parameters)
                if result != 0 {
                    logger.warning(
                        "media thread \(thread.index): SCHED_FIFO priority \(priority) refused (\(String(cString: strerror(result)))); it runs with the normal scheduler"
                    )
                }
            }
        }
        let poll = configuration.eventPollInterval
        eventThread = startThread { [self] in self.deliverEvents(poll: poll) }
        guard eventThread != nil else {
            shutdown()
            throw MediaEngineError("cannot start the event thread")
        }
        logger.info(
            "media engine started",
            metadata: [
                "rtp-ports": "\(ports.firstPort)-\(ports.firstPort + 2 * (ports.capacity - 1))",
                "threads": "\(configuration.mediaThreads)", "tick-ms": "\(tickMs)",
                "sends": "\(useRing ? "io_uring" : "sendto")",
            ])
    }

    deinit {
        // The event thread holds the engine until it returns, so nothing waits on the semaphore any more.
        sem_destroy(eventWakeup)
        eventWakeup.deallocate()
    }

    /// Binds a socket on a free even RTP port, for the SDP answer.
    ///
    /// Release it (RTP's `RTPPortReservation.release()`) if the call is not started; once started, the engine
    /// releases it when the call ends.
    /// - Throws: ``MediaEngineError`` when no port is free.
    package func reservePort() throws(MediaEngineError) -> RTPPortReservation {
        do {
            return try ports.reserve()
        } catch {
            throw MediaEngineError(error.description)
        }
    }

    /// Starts a call's media: from the next tick its thread receives, renders and sends.
    ///
    /// Which RTP counts as the caller's: until a source is accepted, packets whose source IP is the offer's c=
    /// address or the SIP signalling source (any port on it: symmetric RTP behind NAT; the first such packet
    /// latches the call to its address and port), or with ``Configuration/rtpProbation`` packets in sequence from
    /// one other source; once accepted, only that address and port. Everything else is dropped and counted
    /// (``MediaStatistics/foreignPackets``). Datagrams that reached the port before the call's media started
    /// (between the SDP answer and the ACK) are discarded.
    ///
    /// - Throws: ``MediaEngineError`` when the parameters do not fit the session (payload type, the account's
    ///   encoding, DTMF mode), the remote address is not numeric, or the engine is full or shut down.
    @discardableResult
    package func startCall(_ parameters: MediaCallParameters) throws(MediaEngineError) -> MediaCallHandle {
        let format = parameters.session.account.format
        let alaw: Bool
        switch format.encoding {
        case .ulaw: alaw = false
        case .alaw: alaw = true
        case .pcm16: throw MediaEngineError("a live call's session renders G.711 (ulaw or alaw), not pcm16")
        }
        try MediaEngine.checkAudioPayloadType(parameters.audioPayloadType)
        guard format.sampleRate == 8000 else { throw MediaEngineError("G.711 calls run at 8000 Hz") }
        switch format.dtmfOutput {
        case .both: throw MediaEngineError("a live call sends DTMF either in-band or as RFC 4733 events, never both")
        case .rfc4733:
            guard parameters.sendDTMFAsEvents, parameters.telephoneEventPayloadType != nil else {
                throw MediaEngineError("the session sends RFC 4733 events: a telephone-event payload type is needed")
            }
        case .inband:
            guard !parameters.sendDTMFAsEvents else {
                throw MediaEngineError("the session was compiled for in-band DTMF but events were asked for")
            }
        }
        guard (1...120).contains(parameters.ptimeMs), parameters.ptimeMs % tickMs == 0 else {
            throw MediaEngineError("ptime \(parameters.ptimeMs) ms: a multiple of \(tickMs) ms, at most 120 ms")
        }
        let ipv6 = parameters.port.localAddress?.family == AF_INET6
        let remote = try MediaEngine.address(parameters.remote, ipv6: ipv6)
        var signalling = UDPAddress()
        if let host = parameters.signallingAddress, let address = UDPAddress(host: host, port: 0) {
            signalling = ipv6 ? address.mappedToIPv6 : address
        }
        if let eventPT = parameters.telephoneEventPayloadType, eventPT > 127 {
            throw MediaEngineError("telephone-event payload type \(eventPT) is out of range")
        }
        let reservation = parameters.port
        let samples = parameters.ptimeMs * 8
        let picked: Result<(UInt64, Int), MediaEngineError> = registry.withLock { registry in
            guard !registry.shutDown else { return .failure(MediaEngineError("the media engine is shut down")) }
            var best = 0
            for t in 1..<max(registry.perThread.count, 1) where registry.perThread[t] < registry.perThread[best] {
                best = t
            }
            guard registry.perThread[best] < configuration.maxCallsPerThread else {
                return .failure(MediaEngineError("the media threads are full"))
            }
            let id = registry.nextID
            registry.nextID += 1
            registry.perThread[best] += 1
            registry.calls[id] = CallRecord(reservation: reservation, callID: parameters.callID, thread: best)
            return .success((id, best))
        }
        let (id, thread) = try picked.get()
        if eventThreadIdle.load(ordering: .sequentiallyConsistent) { sem_post(eventWakeup) }
        // One block per call: the caller's audio (4 frames; none when digits come as RFC 4733 events: it is
        // decoded only for the in-band receiver), then the outbox (released with it).
        let outboxBytes = MediaOutbox.byteCount(samplesPerFrame: samples)
        let audioSamples = parameters.receiveDTMFFrom == .inband ? 4 * samples : 0
        let callerAudio = UnsafeMutablePointer<Int16>.allocate(capacity: audioSamples + (outboxBytes + 1) / 2)
        let call = MediaCall(
            id: id, socket: reservation.socket,
            sources: RTPSourceFilter(offer: remote, signalling: signalling, probation: configuration.rtpProbation),
            sender: RTPSender(
                audioPayloadType: parameters.audioPayloadType,
                eventPayloadType: parameters.telephoneEventPayloadType ?? 101),
            session: Unmanaged.passRetained(parameters.session),
            audioPayloadType: parameters.audioPayloadType,
            eventPayloadType: parameters.telephoneEventPayloadType.map { Int16($0) } ?? -1,
            alaw: alaw, transcodes: false, sendsEvents: parameters.sendDTMFAsEvents,
            digitsInBand: parameters.receiveDTMFFrom == .inband, sends: parameters.sends,
            receives: parameters.receives, samplesPerFrame: samples,
            periodTicks: Int64(parameters.ptimeMs / tickMs),
            callerAudio: callerAudio, callerAudioCapacity: audioSamples,
            outbox: MediaOutbox(base: UnsafeMutableRawPointer(callerAudio + audioSamples), capacity: outboxBytes))
        threads[thread].enqueue(.add(call))
        return MediaCallHandle(id: id)
    }

    /// Applies a new offer/answer of the call's dialog (re-INVITE, UPDATE) from its next packet interval:
    /// the remote address (the source check is armed again for it: the call's RTP must again come from the
    /// new c= address or the signalling source), payload types, the wire's G.711 law (converted from the
    /// session's when they differ), and the directions (hold). Updating a call that ended does nothing.
    ///
    /// - Throws: ``MediaEngineError`` when the address is not numeric, a payload type is out of range, or the
    ///   encoding is not G.711.
    package func updateCall(_ handle: MediaCallHandle, _ update: MediaUpdate) throws(MediaEngineError) {
        try MediaEngine.checkAudioPayloadType(update.audioPayloadType)
        if let eventPT = update.telephoneEventPayloadType, eventPT > 127 {
            throw MediaEngineError("telephone-event payload type \(eventPT) is out of range")
        }
        let alaw: Bool
        switch update.encoding {
        case .ulaw: alaw = false
        case .alaw: alaw = true
        case .pcm16: throw MediaEngineError("a live call sends G.711 (ulaw or alaw), not pcm16")
        }
        let found: (Int, Bool)? = registry.withLock { registry in
            guard let record = registry.calls[handle.id], !record.cancelled else { return nil }
            return (record.thread, record.reservation.localAddress?.family == AF_INET6)
        }
        guard let (thread, ipv6) = found else { return }
        let remote = try MediaEngine.address(update.remote, ipv6: ipv6)
        threads[thread].enqueue(
            .update(
                handle.id,
                MediaCallChange(
                    remote: remote, audioPayloadType: update.audioPayloadType,
                    eventPayloadType: update.telephoneEventPayloadType.map { Int16($0) } ?? -1, alaw: alaw,
                    sends: update.sends, receives: update.receives)))
    }

    static func checkAudioPayloadType(_ payloadType: UInt8) throws(MediaEngineError) {
        // RFC 3551 §3: 0-127; RFC 5761 §4: 64-95 would be taken for RTCP on a multiplexed port.
        guard payloadType <= 127, !(64...95).contains(payloadType) else {
            throw MediaEngineError("audio payload type \(payloadType) is out of range (0-63, 96-127)")
        }
    }

    /// A numeric RTP address; IPv4 mapped into IPv6 for an IPv6 socket.
    static func address(_ remote: (host: String, port: Int), ipv6: Bool) throws(MediaEngineError) -> UDPAddress {
        guard let address = UDPAddress(host: remote.host, port: remote.port) else {
            throw MediaEngineError("remote RTP address \(remote.host):\(remote.port) is not a numeric address and port")
        }
        return ipv6 ? address.mappedToIPv6 : address
    }

    /// Ends a call's media (SIP BYE or CANCEL): it stops sending at the next tick, its port is released
    /// soon after, and no further event is delivered for it. Ending a call that already ended does nothing.
    package func endCall(_ handle: MediaCallHandle) {
        let thread: Int? = registry.withLock { registry in
            guard let record = registry.calls[handle.id], !record.cancelled else { return nil }
            registry.calls[handle.id]?.cancelled = true
            return record.thread
        }
        if let thread { threads[thread].enqueue(.remove(handle.id)) }
    }

    /// Counters and lateness over all media threads (published every 20 ticks).
    package func statistics() -> MediaStatistics {
        var total = MediaStatistics()
        for thread in threads { total.add(thread.published.withLock { $0 }) }
        return total
    }

    /// Calls started and not yet released.
    package var activeCalls: Int { registry.withLock { $0.calls.count } }

    /// Stops the media threads (their calls end without events), releases every port, and stops the event
    /// thread once it has delivered what was pending. Idempotent.
    package func shutdown() {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        registry.withLock {
            $0.shutDown = true
            for id in $0.calls.keys { $0.calls[id]?.cancelled = true }
        }
        for thread in threads {
            thread.stopRequested.store(true, ordering: .releasing)
            thread.wake()
        }
        for thread in threads { if let t = thread.thread { pthread_join(t, nil) } }
        eventThreadStop.store(true, ordering: .releasing)
        sem_post(eventWakeup)  // after the store: the event thread wakes and sees it is to stop
        if let t = eventThread { pthread_join(t, nil) }
        let left = registry.withLock { $0.calls.count }
        logger.info("media engine stopped", metadata: ["calls-left": "\(left)"])
    }

    // MARK: - The event thread

    private func deliverEvents(poll: Duration) {
        let pollNs = max(poll.components.seconds * 1_000_000_000 + poll.components.attoseconds / 1_000_000_000, 100_000)
        var sleep = timespec(tv_sec: Int(pollNs / 1_000_000_000), tv_nsec: Int(pollNs % 1_000_000_000))
        while true {
            let stopping = eventThreadStop.load(ordering: .acquiring)
            var any = false
            for thread in threads {
                while let record = thread.events.pop() {
                    any = true
                    handle(record)
                }
            }
            if stopping && !any { return }
            if !any {
                // No call at all: sleep until one starts (startCall posts) or shutdown, not every poll interval.
                eventThreadIdle.store(true, ordering: .sequentiallyConsistent)
                if registry.withLock({ $0.calls.isEmpty }), !eventThreadStop.load(ordering: .acquiring) {
                    var until = timespec()
                    clock_gettime(CLOCK_REALTIME, &until)
                    until.tv_sec += 1
                    _ = sem_timedwait(eventWakeup, &until)
                } else {
                    nanosleep(&sleep, nil)
                }
                eventThreadIdle.store(false, ordering: .relaxed)
            }
        }
    }

    private func handle(_ record: MediaRecord) {
        switch record.kind {
        case .event(let kind):
            let callID: String? = registry.withLock { registry in
                guard let call = registry.calls[record.call], !call.cancelled else { return nil }
                return call.callID
            }
            if let callID { onEvent(MediaEvent(call: MediaCallHandle(id: record.call), callID: callID, kind: kind)) }
        case .released(let session, let callerAudio):
            let call: CallRecord? = registry.withLock { registry in
                guard let call = registry.calls.removeValue(forKey: record.call) else { return nil }
                registry.perThread[call.thread] -= 1
                return call
            }
            call?.reservation.release()
            session.release()
            callerAudio.deallocate()
        }
    }
}

/// Starts a joinable pthread running `body`.
private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread, nil,
        { context in
            guard let context else { return nil }
            let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
            box.body()
            return nil
        }, context)
    guard result == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return nil
    }
    return thread
}

extension MediaEngine {
    /// The media clock's tick when none is configured, in ms: `callseq serve --media-tick-ms`, `CallServer` and
    /// `MediaEngine` all start from it (calls are spread over the ticks of a packet interval).
    package static let defaultTickMilliseconds = 1
}
