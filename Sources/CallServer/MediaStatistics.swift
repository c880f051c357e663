import RTP

/// Counters and latencies of the media engine, summed over its media threads.
///
/// The media threads publish their figures every 20 ticks (100 ms at the default 5 ms tick), so they can
/// lag by that much.
package struct MediaStatistics: Sendable {
    /// Calls on the media threads.
    package var calls = 0
    /// RTP packets sent (audio and telephone-event).
    package var packetsSent: UInt64 = 0
    /// RTP packets received and accepted.
    package var packetsReceived: UInt64 = 0
    /// Datagrams that were not valid RTP, or too large.
    package var invalidPackets: UInt64 = 0
    /// Valid RTP from an address other than the latched one (ignored).
    package var foreignPackets: UInt64 = 0
    /// Sends the kernel refused.
    package var sendErrors: UInt64 = 0
    /// Media threads whose sends go through io_uring (one submission a tick); the others use sendto.
    package var sendRingThreads = 0
    /// System calls of the media loop: io_uring_enter (or sendto and sendmmsg), recvmmsg, epoll_wait
    /// (readiness polls).
    package var sendCalls: UInt64 = 0
    package var receiveCalls: UInt64 = 0
    package var pollCalls: UInt64 = 0
    /// Media clock ticks.
    package var ticks: UInt64 = 0
    /// Ticks skipped after a stall (the schedule moved forward rather than sending a burst).
    package var skippedTicks: UInt64 = 0
    /// CPU time the media threads have used (ns, CLOCK_THREAD_CPUTIME_ID).
    package var cpuTime: Int64 = 0
    /// Events lost because a ring was full.
    package var droppedEvents: UInt64 = 0
    /// Wake-up lateness of each tick: time woken − deadline (ns).
    package var lateness = LatencyHistogram()
    /// When each tick's last packet was sent, relative to its deadline (ns): the worst send lateness of
    /// the tick, including the work of every call due in it.
    package var sendLateness = LatencyHistogram()

    /// The media loop's system calls (send, receive and poll) per RTP packet sent or received.
    package var systemCallsPerPacket: Double {
        let packets = packetsSent &+ packetsReceived
        return packets == 0 ? 0 : Double(sendCalls &+ receiveCalls &+ pollCalls) / Double(packets)
    }

    /// The median wake-up lateness (ns).
    package var latenessP50: Int64 { lateness.percentile(0.5) }
    /// The 99th percentile wake-up lateness (ns).
    package var latenessP99: Int64 { lateness.percentile(0.99) }
    /// The largest wake-up lateness (ns).
    package var latenessMax: Int64 { lateness.max }

    mutating func add(_ other: MediaStatistics) {
        calls += other.calls
        sendRingThreads += other.sendRingThreads
        packetsSent &+= other.packetsSent
        packetsReceived &+= other.packetsReceived
        invalidPackets &+= other.invalidPackets
        foreignPackets &+= other.foreignPackets
        sendErrors &+= other.sendErrors
        sendCalls &+= other.sendCalls
        receiveCalls &+= other.receiveCalls
        pollCalls &+= other.pollCalls
        ticks &+= other.ticks
        skippedTicks &+= other.skippedTicks
        droppedEvents &+= other.droppedEvents
        cpuTime &+= other.cpuTime
        lateness.merge(other.lateness)
        sendLateness.merge(other.sendLateness)
    }
}
