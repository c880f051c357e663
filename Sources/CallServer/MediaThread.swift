// A media thread: every tick of its clock (absolute deadlines, RTP's MediaClock), for each call due:
// 1. drain the call's socket when the tick's readiness poll (one edge-triggered epoll_wait for all the
//    thread's sockets) said it received something: one recvmmsg, at most 64 datagrams; keep only the caller's RTP
//    (source check, see MediaEngine.startCall) and latch the remote address to its source (symmetric RTP);
//    take key presses from one source: decode G.711 into the caller's audio for the in-band receiver, or
//    turn RFC 4733 events into key presses (TelephoneEventReceiver → IVRSession.press);
// 2. end the call when nothing came from the caller for the RTP timeout (the hold limit while it holds);
// 3. render the session's next frame (G.711) with the caller's audio for its DTMF receiver, and prepare it
//    as one RTP packet, or the telephone-event packets of a digit being sent (RTPSender, RFC 4733 §2.5),
//    in the call's outbox: a tick starts by sending what the due calls prepared one interval earlier, so
//    packets leave at their deadline behind sends only (MediaOutbox): all the tick's packets in one
//    io_uring_enter (UDPSendRing: each packet a sendmsg from its call's socket to its destination), or, where
//    the kernel refuses io_uring, one sendto a call (sendmmsg when it has several packets).
// System calls per tick: one epoll_wait (more past 64 ready sockets), one io_uring_enter (or one send call
// per due call), and, only for a socket that received something, one recvmmsg; the statistics count them.
// Per tick and per packet: no allocation, lock, logging or reference counting. New and ended calls come
// through a briefly locked queue, looked at only when an atomic flag says it holds something; events leave
// through a single-producer ring (MediaEventRing).

import CallSequenceEngine
import CallSequenceModel
import RTP
import Synchronization
import TelephonyDSP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a media thread shares with the engine.
final class MediaThread: @unchecked Sendable {
    let index: Int
    let capacity: Int
    let commands = Mutex<[MediaCommand]>([])
    let commandsPending = Atomic(false)
    let stopRequested = Atomic(false)
    let droppedEvents = Atomic<UInt64>(0)
    let events: MediaEventRing
    let published = Mutex(MediaStatistics())
    /// Set once when the thread starts, read when it is joined.
    nonisolated(unsafe) var thread: pthread_t?
    /// The thread has no call and sleeps on `wakeup` instead of ticking (no CPU spent with no call).
    let idle = Atomic(false)
    let wakeup: UnsafeMutablePointer<sem_t>

    init(index: Int, capacity: Int, eventCapacity: Int) {
        self.index = index
        self.capacity = capacity
        events = MediaEventRing(minimumCapacity: eventCapacity)
        wakeup = .allocate(capacity: 1)
        sem_init(wakeup, 0, 0)
    }

    deinit {
        sem_destroy(wakeup)
        wakeup.deallocate()
    }

    /// Queues a command for the next tick (and wakes the thread if it sleeps with no call).
    func enqueue(_ command: MediaCommand) {
        commands.withLock { $0.append(command) }
        // Sequentially consistent, with the thread's `idle` store then `commandsPending` load: one of the two
        // sides sees the other, so a command is never left waiting for the thread's 1 s safety wake-up.
        commandsPending.store(true, ordering: .sequentiallyConsistent)
        if idle.load(ordering: .sequentiallyConsistent) { sem_post(wakeup) }
    }

    /// Wakes the thread if it sleeps (to stop it).
    func wake() { sem_post(wakeup) }

    /// Posts an event; counts it as dropped when the ring is full.
    @inline(__always)
    func post(_ call: UInt64, _ kind: MediaEvent.Kind) {
        if !events.push(MediaRecord(call: call, kind: .event(kind))) {
            droppedEvents.add(1, ordering: .relaxed)
        }
    }
}

/// The state of a media thread's loop, owned by the thread.
struct MediaWorker: ~Copyable {
    static let maxFrameSamples = 8000 * 120 / 1000  // 120 ms at 8 kHz
    static let receiveSize = 2048
    static let maxUpdates = 8
    static let maxDatagramsPerTick = 64
    /// Datagrams one recvmmsg takes.
    static let receiveBatch = 16
    /// Packets one sendmmsg takes (an outbox holds at most 17).
    static let sendBatch = 32
    /// Sends one io_uring submission takes (more in a tick: several submissions).
    static let ringEntries = 1024

    unowned(unsafe) let shared: MediaThread
    var clock: MediaClock
    let timeoutTicks: Int64
    let holdTimeoutTicks: Int64
    let tickMs: Int
    /// The largest call period in ticks (120 ms of audio).
    let maxPeriod: Int
    /// Calls by period and due tick modulo the period: [period · (maxPeriod + 1) + residue].
    let dueCounts: UnsafeMutablePointer<Int>
    let calls: UnsafeMutablePointer<MediaCall>
    /// Each call's next due tick, beside the table (`Int64.min` once finished: looked at every tick): the tick's
    /// two passes over the calls read 8 bytes a call, not a whole `MediaCall`, to find the few that are due.
    let dueTicks: UnsafeMutablePointer<Int64>
    var count = 0
    /// Which sockets received something (edge-triggered epoll: reported once per arrival).
    let readiness = ReadinessPoll()
    let ready: UnsafeMutablePointer<UInt64>
    let batch: UDPReceiveBatch
    let sendOffsets: UnsafeMutablePointer<UInt32>
    let sendLengths: UnsafeMutablePointer<UInt32>
    var pending: [MediaCommand] = []
    let receiveBuffer: UnsafeMutableRawBufferPointer
    let packetBuffer: UnsafeMutableRawBufferPointer
    let frame: UnsafeMutableBufferPointer<UInt8>
    let updates: UnsafeMutablePointer<TelephoneEventUpdate>
    var statistics = MediaStatistics()
    /// The tick's sends in one system call (unavailable: sendto and sendmmsg instead).
    let ring: UDPSendRing
    /// Whether sends go through `ring` (false without io_uring, or after a submission failed).
    var ringSends: Bool

    /// `useRing`: send through io_uring when the kernel allows it (created here, on the media thread, which
    /// is then the ring's only submitter).
    init(shared: MediaThread, tick: Duration, rtpTimeout: Duration, holdTimeout: Duration, useRing: Bool = true) {
        self.shared = shared
        // Created in a local and read before it moves into `self`: the release build freed a wild pointer when
        // the stored property was read before every property was initialized (Swift 6.3.1).
        let ring = UDPSendRing(entries: useRing ? MediaWorker.ringEntries : 0)
        ringSends = useRing && ring.isAvailable
        self.ring = ring
        clock = MediaClock(interval: tick)
        let tickNs = max(clock.interval, 1)
        tickMs = Int(max(tickNs / 1_000_000, 1))
        maxPeriod = max(120 / tickMs, 1)
        dueCounts = .allocate(capacity: (maxPeriod + 1) * (maxPeriod + 1))
        dueCounts.initialize(repeating: 0, count: (maxPeriod + 1) * (maxPeriod + 1))
        let (s, a) = rtpTimeout.components
        timeoutTicks = max((s * 1_000_000_000 + a / 1_000_000_000) / tickNs, 1)
        let (hs, ha) = holdTimeout.components
        holdTimeoutTicks = max((hs * 1_000_000_000 + ha / 1_000_000_000) / tickNs, 1)
        calls = .allocate(capacity: shared.capacity)
        dueTicks = .allocate(capacity: max(shared.capacity, 1))
        ready = .allocate(capacity: ReadinessPoll.batch)
        batch = UDPReceiveBatch(capacity: MediaWorker.receiveBatch, bufferSize: MediaWorker.receiveSize)
        sendOffsets = .allocate(capacity: MediaWorker.sendBatch)
        sendLengths = .allocate(capacity: MediaWorker.sendBatch)
        pending.reserveCapacity(64)
        receiveBuffer = .allocate(byteCount: MediaWorker.receiveSize, alignment: 16)
        packetBuffer = .allocate(byteCount: RTPHeader.fixedSize + MediaWorker.maxFrameSamples, alignment: 16)
        frame = .allocate(capacity: MediaWorker.maxFrameSamples)
        updates = .allocate(capacity: MediaWorker.maxUpdates)
    }

    deinit {
        calls.deinitialize(count: count)
        calls.deallocate()
        dueTicks.deallocate()
        ready.deallocate()
        sendOffsets.deallocate()
        sendLengths.deallocate()
        receiveBuffer.deallocate()
        packetBuffer.deallocate()
        frame.deallocate()
        updates.deallocate()
        dueCounts.deallocate()
    }

    /// Runs until the engine asks the thread to stop; then hands every call back for release.
    mutating func run() {
        while !shared.stopRequested.load(ordering: .relaxed) {
            if count == 0 { sleepWhileIdle() }
            let late = clock.waitForNextTick()
            statistics.ticks &+= 1
            if late > 20 * clock.interval {
                statistics.skippedTicks &+= UInt64(clock.skipMissedTicks())
            }
            sendPrepared()
            statistics.sendLateness.record(MediaClock.now() - clock.deadline(ofTick: clock.tick))
            if shared.commandsPending.load(ordering: .acquiring) { applyCommands() }
            pollReadiness()
            tick()
            if clock.tick % 20 == 0 { publish(force: false) }
        }
        applyCommands()
        while count > 0 {
            if !release(at: count - 1) { usleep(1000) } else { count -= 1 }
        }
        publish(force: true)
    }

    /// With no call, the thread sleeps until a command comes (or 1 s passes, or it is asked to stop) instead of
    /// waking every tick; then the clock's schedule moves past the ticks it slept through.
    mutating func sleepWhileIdle() {
        publish(force: true)
        shared.idle.store(true, ordering: .sequentiallyConsistent)
        while !shared.commandsPending.load(ordering: .sequentiallyConsistent),
            !shared.stopRequested.load(ordering: .relaxed)
        {
            var until = timespec()
            clock_gettime(CLOCK_REALTIME, &until)
            until.tv_sec += 1
            _ = sem_timedwait(shared.wakeup, &until)
        }
        shared.idle.store(false, ordering: .relaxed)
        clock.skipMissedTicks()
    }

    mutating func publish(force: Bool) {
        statistics.calls = count
        statistics.sendRingThreads = ringSends ? 1 : 0
        statistics.lateness = clock.lateness
        statistics.droppedEvents = shared.droppedEvents.load(ordering: .relaxed)
        var cpu = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu)
        statistics.cpuTime = Int64(cpu.tv_sec) * 1_000_000_000 + Int64(cpu.tv_nsec)
        if force {
            shared.published.withLock { [statistics] in $0 = statistics }
        } else {
            // Every 20 ticks from the media loop: through Unmanaged, so that it costs no retain (callgrind).
            let statistics = statistics
            Unmanaged.passUnretained(shared)._withUnsafeGuaranteedRef { shared in
                _ = shared.published.withLockIfAvailable { $0 = statistics }
            }
        }
    }

    // MARK: - Calls joining and leaving

    mutating func applyCommands() {
        shared.commandsPending.store(false, ordering: .relaxed)
        shared.commands.withLock { swap(&$0, &pending) }
        for command in pending {
            switch command {
            case .add(var call):
                guard count < shared.capacity else {
                    // The engine counts calls per thread, so this does not happen; never leak the call.
                    _ = shared.events.push(
                        MediaRecord(
                            call: call.id,
                            kind: .released(
                                session: call.session, callerAudio: call.callerAudio)))
                    continue
                }
                call.nextDueTick = quietestTick(period: call.periodTicks)
                call.lastReceiveTick = clock.tick
                discardQueued(call.socket)
                call.watched = readiness.add(call.socket, data: MediaWorker.pollData(call.socket, count)) == 0
                call.readable = true
                countDue(call, 1)
                (calls + count).initialize(to: call)
                dueTicks[count] = call.nextDueTick
                count += 1
            case .remove(let id):
                // SIP ended the call (BYE, CANCEL): stop at once, report nothing but the release.
                var i = 0
                while i < count, calls[i].id != id { i += 1 }
                guard i < count else { continue }
                calls[i].endPosted = true
                calls[i].outbox.used = 0
                if release(at: i) {
                    removeSlot(i)
                } else {
                    calls[i].phase = .finished
                    dueTicks[i] = .min
                }
            case .update(let id, let change):
                var i = 0
                while i < count, calls[i].id != id { i += 1 }
                guard i < count else { continue }
                apply(change, to: calls + i)
            }
        }
        pending.removeAll(keepingCapacity: true)
        publish(force: false)
    }

    /// Discards what reached a new call's port before its media started (between the SDP answer and the ACK):
    /// nobody's RTP counts before the call is up, so a source that sprays the port early gains nothing.
    func discardQueued(_ socket: UDPSocket) {
        var source = UDPAddress()
        for _ in 0..<4096 {
            switch socket.receive(into: receiveBuffer, from: &source) {
            case .datagram, .truncated: continue
            case .wouldBlock, .failed: return
            }
        }
    }

    /// A new offer/answer of the call's dialog: media moves to the new address, whose RTP must pass the
    /// source check again; payload types, the wire's law and the directions change from the next packet.
    func apply(_ change: MediaCallChange, to call: UnsafeMutablePointer<MediaCall>) {
        call.pointee.sources.rearm(offer: change.remote)
        if change.audioPayloadType != call.pointee.audioPayloadType || change.alaw != call.pointee.alaw {
            // The packets prepared for the next deadline carry the old codec: not sent (one interval of loss
            // where the codec changes, rather than a packet the caller can no longer decode).
            call.pointee.outbox.used = 0
        }
        let sessionALaw = call.pointee.session._withUnsafeGuaranteedRef { $0.account.format.encoding == .alaw }
        call.pointee.alaw = change.alaw
        call.pointee.transcodes = change.alaw != sessionALaw
        call.pointee.audioPayloadType = change.audioPayloadType
        if change.eventPayloadType != call.pointee.eventPayloadType {
            call.pointee.receiver = TelephoneEventReceiver()
        }
        call.pointee.eventPayloadType = change.eventPayloadType
        call.pointee.sender.setPayloadTypes(
            audio: change.audioPayloadType,
            event: change.eventPayloadType >= 0
                ? UInt8(change.eventPayloadType)
                : call.pointee.sender.eventPayloadType)
        call.pointee.sends = change.sends
        if change.receives != call.pointee.receives { call.pointee.lastReceiveTick = clock.tick }
        call.pointee.receives = change.receives
    }

    /// The first due tick for a new call: of the next `period` ticks, the one with the fewest calls due,
    /// so that calls spread over the ticks of a packet interval. A call of period p is due at tick t when
    /// t ≡ its due tick (mod p), so the load of a tick is Σ over periods p of dueCounts[p][t mod p]:
    /// O(maximum period) per candidate, whatever the number of calls.
    func quietestTick(period: Int64) -> Int64 {
        var best = clock.tick + 1
        var bestLoad = Int.max
        for candidate in (clock.tick + 1)...(clock.tick + max(period, 1)) {
            var load = 0
            for p in 1...maxPeriod { load += dueCounts[p * (maxPeriod + 1) + Int(candidate % Int64(p))] }
            if load < bestLoad { (best, bestLoad) = (candidate, load) }
        }
        return best
    }

    @inline(__always)
    func countDue(_ call: MediaCall, _ delta: Int) {
        let p = Int(call.periodTicks)
        guard p >= 1, p <= maxPeriod else { return }
        dueCounts[p * (maxPeriod + 1) + Int(call.nextDueTick % Int64(p))] += delta
    }

    /// Posts the `released` record of call `i`; false when the ring is full (retry at the next tick).
    func release(at i: Int) -> Bool {
        unwatch(calls + i)
        return shared.events.push(
            MediaRecord(
                call: calls[i].id,
                kind: .released(
                    session: calls[i].session, callerAudio: calls[i].callerAudio)))
    }

    mutating func removeSlot(_ i: Int) {
        countDue(calls[i], -1)
        count -= 1
        if i != count {
            (calls + i).moveUpdate(from: calls + count, count: 1)
            dueTicks[i] = dueTicks[count]
            if calls[i].watched {
                // The poll reports the slot: the moved call's is now i.
                calls[i].watched =
                    readiness.modify(calls[i].socket, data: MediaWorker.pollData(calls[i].socket, i)) == 0
                calls[i].readable = true
            }
        } else {
            (calls + i).deinitialize(count: 1)
        }
    }

    // MARK: - Readiness

    /// What the poll reports for a socket in slot `slot`: the descriptor (checked when reported) and the slot.
    @inline(__always)
    static func pollData(_ socket: UDPSocket, _ slot: Int) -> UInt64 {
        UInt64(UInt32(bitPattern: socket.fileDescriptor)) << 32 | UInt64(UInt32(truncatingIfNeeded: slot))
    }

    /// Stops polling a call's socket: before its `released` record, after which the event thread closes the
    /// descriptor (and the number may be reused by a new call's socket).
    func unwatch(_ call: UnsafeMutablePointer<MediaCall>) {
        guard call.pointee.watched else { return }
        readiness.remove(call.pointee.socket)
        call.pointee.watched = false
        call.pointee.readable = true
    }

    /// Marks the calls whose sockets received something since the last poll.
    mutating func pollReadiness() {
        guard readiness.isAvailable, count > 0 else { return }
        for _ in 0..<(count / ReadinessPoll.batch + 2) {
            let n = readiness.poll(into: ready)
            statistics.pollCalls &+= 1
            guard n > 0 else { return }
            for j in 0..<n {
                let data = ready[j]
                let slot = Int(data & 0xFFFF_FFFF)
                if slot < count, UInt64(UInt32(bitPattern: calls[slot].socket.fileDescriptor)) == data >> 32 {
                    calls[slot].readable = true
                }
            }
            if n < ReadinessPoll.batch { return }
        }
    }

    // MARK: - The tick

    /// Sends the packets every due call prepared at its previous deadline (MediaOutbox), first thing in
    /// the tick: all of them in one io_uring submission, or one sendto (sendmmsg for several packets) a call.
    mutating func sendPrepared() {
        if ringSends {
            sendPreparedThroughRing()
            return
        }
        let now = clock.tick
        var sent: UInt64 = 0
        var errors: UInt64 = 0
        var sendCalls: UInt64 = 0
        let offsets = sendOffsets
        let lengths = sendLengths
        for i in 0..<count where dueTicks[i] <= now {
            let call = calls + i
            guard call.pointee.nextDueTick <= now, !call.pointee.outbox.isEmpty else { continue }
            let socket = call.pointee.socket
            let base = UnsafeRawPointer(call.pointee.outbox.base)
            let n = call.pointee.outbox.take(offsets: offsets, lengths: lengths, limit: MediaWorker.sendBatch)
            sendCalls &+= 1
            if n == 1 {
                let bytes = UnsafeRawBufferPointer(start: base + Int(offsets[0]), count: Int(lengths[0]))
                if socket.send(bytes, to: call.pointee.sources.remote) == 0 { sent &+= 1 } else { errors &+= 1 }
            } else if n > 1 {
                let (done, _) = socket.send(
                    batch: base, offsets: offsets, lengths: lengths, count: n,
                    to: call.pointee.sources.remote)
                sent &+= UInt64(done)
                errors &+= UInt64(n - done)
            }
        }
        statistics.packetsSent &+= sent
        statistics.sendErrors &+= errors
        statistics.sendCalls &+= sendCalls
    }

    /// The tick's sends through io_uring: every due call's packets queued (each from the call's socket to its
    /// destination), submitted in one system call (another each time 1,024 are queued). The outboxes' bytes
    /// stay untouched until then: the tick renders the next packets only after this returns.
    mutating func sendPreparedThroughRing() {
        let now = clock.tick
        let offsets = sendOffsets
        let lengths = sendLengths
        var failed = false
        for i in 0..<count where dueTicks[i] <= now {
            let call = calls + i
            guard call.pointee.nextDueTick <= now, !call.pointee.outbox.isEmpty else { continue }
            let base = UnsafeRawPointer(call.pointee.outbox.base)
            let n = call.pointee.outbox.take(offsets: offsets, lengths: lengths, limit: MediaWorker.sendBatch)
            for k in 0..<n {
                let bytes = UnsafeRawBufferPointer(start: base + Int(offsets[k]), count: Int(lengths[k]))
                var queued = ring.queue(bytes, from: call.pointee.socket, to: call.pointee.sources.remote)
                if !queued {
                    failed = !flushRing() || failed
                    queued = ring.queue(bytes, from: call.pointee.socket, to: call.pointee.sources.remote)
                }
                if !queued { statistics.sendErrors &+= 1 }
            }
        }
        failed = !flushRing() || failed
        if failed {
            // The kernel refused a submission (it should not: sends never wait): send with sendto from now on
            // rather than submit the kept queue, whose packets are stale by the next tick (counted as lost).
            statistics.sendErrors &+= UInt64(ring.pending)
            ringSends = false
        }
    }

    /// Submits the queued sends; false when the kernel refused the submission.
    @inline(__always)
    mutating func flushRing() -> Bool {
        let (sent, failedSends, systemCalls, error) = ring.flush()
        statistics.packetsSent &+= sent
        statistics.sendErrors &+= failedSends
        statistics.sendCalls &+= UInt64(systemCalls)
        return error == 0
    }

    /// Receives, renders and prepares the next packets of every due call; hands back finished calls once
    /// their last packets have left.
    mutating func tick() {
        let now = clock.tick
        var i = 0
        while i < count {
            guard dueTicks[i] <= now else {
                i += 1
                continue
            }
            let call = calls + i
            if call.pointee.phase == .finished {
                dueTicks[i] = .min
                if call.pointee.outbox.isEmpty, finish(call) {
                    removeSlot(i)
                    continue
                }
            } else if call.pointee.nextDueTick <= now {
                call.pointee.nextDueTick += call.pointee.periodTicks
                process(call, now)
                dueTicks[i] = call.pointee.phase == .finished ? .min : call.pointee.nextDueTick
            }
            i += 1
        }
    }

    /// Reports the end of a finished call and hands it back; false when the ring is full.
    func finish(_ call: UnsafeMutablePointer<MediaCall>) -> Bool {
        unwatch(call)
        if !call.pointee.endPosted {
            guard shared.events.push(MediaRecord(call: call.pointee.id, kind: .event(.ended(call.pointee.endReason))))
            else { return false }
            call.pointee.endPosted = true
        }
        return shared.events.push(
            MediaRecord(
                call: call.pointee.id,
                kind: .released(
                    session: call.pointee.session, callerAudio: call.pointee.callerAudio)))
    }

    /// Receives the call's RTP, renders its next frame and prepares the frame's packets in its outbox (sent
    /// at its next deadline; directly, should the outbox ever be full).
    mutating func process(_ call: UnsafeMutablePointer<MediaCall>, _ now: Int64) {
        let samples = call.pointee.samplesPerFrame
        let socket = call.pointee.socket
        let packet = packetBuffer
        var sent: UInt64 = 0
        var errors: UInt64 = 0
        var outbox = call.pointee.outbox
        defer { call.pointee.outbox = outbox }
        if call.pointee.phase == .running {
            receive(call, now)
            let limit = call.pointee.receives ? timeoutTicks : holdTimeoutTicks
            if now - call.pointee.lastReceiveTick > limit {
                call.pointee.endReason = .rtpTimeout
                call.pointee.phase = .closing
            }
        }
        let remote = call.pointee.sources.remote
        let sends = call.pointee.sends
        // Closure literals, not a local function: a local function capturing these variables makes the
        // compiler box them on the heap (three allocations a packet, seen with callgrind).
        switch call.pointee.phase {
        case .running:
            render(call)
            if call.pointee.transcodes { MediaWorker.transcode(frame, samples, toALaw: call.pointee.alaw) }
            for u in 0..<updateCount {
                call.pointee.sender.sendTelephoneEvent(updates[u], into: packet) {
                    if sends { MediaWorker.keep($0, in: &outbox, socket, remote, &sent, &errors) }
                }
            }
            call.pointee.sender.finishInterval(
                audio: UnsafeRawBufferPointer(frame.extracting(0..<samples)),
                samples: samples, into: packet
            ) {
                if sends { MediaWorker.keep($0, in: &outbox, socket, remote, &sent, &errors) }
            }
            if endedThisFrame {
                call.pointee.phase = call.pointee.sender.isSendingEvent ? .closing : .finished
            }
        case .closing:
            // Only the retransmissions of final telephone-event packets are left to send (RFC 4733 §2.5.1.4).
            call.pointee.sender.finishInterval(audio: nil, samples: samples, into: packet) {
                if sends { MediaWorker.keep($0, in: &outbox, socket, remote, &sent, &errors) }
            }
            if !call.pointee.sender.isSendingEvent { call.pointee.phase = .finished }
        case .finished:
            break
        }
        statistics.packetsSent &+= sent
        statistics.sendErrors &+= errors
        statistics.sendCalls &+= sent &+ errors  // sent at once, the outbox being full
    }

    /// Keeps a prepared packet for the call's next deadline, or sends it now if the outbox is full.
    @inline(__always)
    static func keep(
        _ bytes: UnsafeRawBufferPointer, in outbox: inout MediaOutbox, _ socket: UDPSocket,
        _ remote: UDPAddress, _ sent: inout UInt64, _ errors: inout UInt64
    ) {
        guard !outbox.append(bytes) else { return }
        if socket.send(bytes, to: remote) == 0 { sent &+= 1 } else { errors &+= 1 }
    }

    // Set by render(_:) for process(_:_:).
    var updateCount = 0
    var endedThisFrame = false

    /// Drains the call's socket if the poll said it received something (or it is not polled): recvmmsg, at
    /// most `maxDatagramsPerTick` datagrams a frame.
    mutating func receive(_ call: UnsafeMutablePointer<MediaCall>, _ now: Int64) {
        guard call.pointee.readable else { return }
        var left = MediaWorker.maxDatagramsPerTick
        while left > 0 {
            let n = batch.receive(from: call.pointee.socket, limit: left)
            statistics.receiveCalls &+= 1
            guard n > 0 else { break }
            for j in 0..<n { accept(j, call, now) }
            left -= n
            // Fewer than asked: the socket is empty (a later datagram is reported by the next poll).
            if n < min(left + n, batch.capacity) { break }
        }
        // At the limit, what is left waits for the next frame.
        call.pointee.readable = left == 0 || !call.pointee.watched
    }

    /// Handles datagram `j` of the batch just received for the call.
    @inline(__always)
    mutating func accept(_ j: Int, _ call: UnsafeMutablePointer<MediaCall>, _ now: Int64) {
        guard !batch.isTruncated(j) else {
            statistics.invalidPackets &+= 1
            return
        }
        var source = UDPAddress()
        batch.source(j, into: &source)
        let datagram = batch.datagram(j)
        guard let header = try? RTPHeader(parsing: datagram) else {
            statistics.invalidPackets &+= 1
            return
        }
        // RFC 5761 §4: 64-95 would be RTCP on a multiplexed port; not media.
        guard header.payloadType < 64 || header.payloadType > 95 else { return }
        // Only the caller's RTP counts (MediaEngine.startCall); replies go where it comes from.
        guard call.pointee.sources.accepts(source, sequenceNumber: header.sequenceNumber) else {
            statistics.foreignPackets &+= 1
            return
        }
        call.pointee.lastReceiveTick = now
        statistics.packetsReceived &+= 1
        let payload = header.payload(in: datagram)
        if header.payloadType == call.pointee.audioPayloadType {
            if call.pointee.digitsInBand { decode(payload, into: call) }
        } else if !call.pointee.digitsInBand, Int16(header.payloadType) == call.pointee.eventPayloadType,
            let event = TelephoneEvent(payload: payload),
            let code = call.pointee.receiver.receive(header, event),
            let digit = DTMFDigit(rawValue: code)
        {
            call.pointee.session._withUnsafeGuaranteedRef { $0.press(digit) }
        }
    }

    /// Converts a rendered G.711 frame to the other law in place (G.711 §4: through the linear value; the
    /// session renders the law it was compiled for, a re-INVITE may have changed the wire's).
    @inline(__always)
    static func transcode(_ frame: UnsafeMutableBufferPointer<UInt8>, _ samples: Int, toALaw: Bool) {
        let n = min(samples, frame.count)
        guard let bytes = frame.baseAddress else { return }
        if toALaw {
            for j in 0..<n { bytes[j] = ALaw.encode(MuLaw.decode(bytes[j])) }
        } else {
            for j in 0..<n { bytes[j] = MuLaw.encode(ALaw.decode(bytes[j])) }
        }
    }

    /// G.711 → 16-bit linear, appended to the caller's audio of this frame (excess dropped).
    @inline(__always)
    func decode(_ payload: UnsafeRawBufferPointer, into call: UnsafeMutablePointer<MediaCall>) {
        let room = call.pointee.callerAudioCapacity - call.pointee.callerAudioCount
        let n = min(payload.count, room)
        guard n > 0, let source = payload.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let destination = call.pointee.callerAudio + call.pointee.callerAudioCount
        if call.pointee.alaw {
            for j in 0..<n { destination[j] = ALaw.decode(source[j]) }
        } else {
            for j in 0..<n { destination[j] = MuLaw.decode(source[j]) }
        }
        call.pointee.callerAudioCount += n
    }

    /// Renders the session's next frame into `frame`, collecting telephone-event updates and posting events.
    mutating func render(_ call: UnsafeMutablePointer<MediaCall>) {
        let samples = call.pointee.samplesPerFrame
        let output = UnsafeMutableBufferPointer(rebasing: frame[0..<samples])
        let heard = call.pointee.callerAudioCount
        let audio = heard > 0 ? UnsafeBufferPointer(start: call.pointee.callerAudio, count: heard) : nil
        let id = call.pointee.id
        let sendsEvents = call.pointee.sendsEvents
        let updates = self.updates
        // Unmanaged, used through _withUnsafeGuaranteedRef: a strong or unowned(unsafe) local costs a retain and
        // release per frame or per event (callgrind).
        let shared = Unmanaged.passUnretained(self.shared)
        var n = 0
        var ended: IVRSession.EndReason?
        call.pointee.session._withUnsafeGuaranteedRef { session in
            session.render(callerAudio: audio, into: output) { event in
                var posted: MediaEvent.Kind?
                switch event.kind {
                case .sequence(_, .telephoneEvent(let state)):
                    guard sendsEvents, n < MediaWorker.maxUpdates else { break }
                    // The state's start is relative to the sequence; event.sample is the call's sample.
                    updates[n] = TelephoneEventUpdate(state, reportedAt: event.sample)
                    n += 1
                case .sequence(let sequence, .smsRequested(let step)):
                    posted = .smsRequested(sequence: sequence, step: step)
                case .digit, .menuStarted, .invalidOption, .timedOut, .sequenceStarted: posted = .session(event.kind)
                case .ended(let reason): ended = reason
                case .sequence: break
                }
                if let posted { shared._withUnsafeGuaranteedRef { $0.post(id, posted) } }
            }
        }
        call.pointee.callerAudioCount = 0
        updateCount = n
        endedThisFrame = ended != nil
        if let ended { call.pointee.endReason = .ivr(ended) }
    }
}
