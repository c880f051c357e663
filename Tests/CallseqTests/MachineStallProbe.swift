// An independent witness of the machine's own stalls, for judging RTP pacing on a shared or virtual host.
//
// A thread at the same SCHED_FIFO priority as the server's media thread sleeps to absolute 1 ms deadlines
// (CLOCK_MONOTONIC) and records every wake-up later than 2 ms, with its CLOCK_REALTIME time — the clock
// the kernel stamps captured packets with. When the whole machine stops (a virtual machine's vCPUs
// descheduled by the host: on this project's Firecracker VMs a C program doing nothing else measured
// 5-11 ms stalls about twice a second, and one of 45 ms, on both vCPUs at once), no thread can send, ours
// included: such a gap in our RTP stream is the host's. Any gap the probe did not also see is ours.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class MachineStallProbe: @unchecked Sendable {
    /// A wake-up later than the threshold: when it woke (seconds since the epoch) and how late (ms).
    struct Stall {
        var wokeAt: Double
        var lateMs: Double
    }

    private let capacity = 200_000
    private let wokeAt: UnsafeMutablePointer<Double>
    private let late: UnsafeMutablePointer<Double>
    private let count = Atomic<Int>(0)
    private let stop = Atomic(false)
    private let done = DispatchSemaphore(value: 0)
    /// Whether the probe got SCHED_FIFO (false: it ran with the normal scheduler, like a server refused it).
    private(set) var realtime = false

    init(priority: Int32, thresholdMs: Double = 2) {
        wokeAt = .allocate(capacity: capacity)
        late = .allocate(capacity: capacity)
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            var parameters = sched_param(sched_priority: priority)
            realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0
            started.signal()
            var next = timespec()
            clock_gettime(CLOCK_MONOTONIC, &next)
            while !stop.load(ordering: .relaxed) {
                next.tv_nsec += 1_000_000
                if next.tv_nsec >= 1_000_000_000 {
                    next.tv_nsec -= 1_000_000_000
                    next.tv_sec += 1
                }
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nil)
                var now = timespec()
                var real = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                clock_gettime(CLOCK_REALTIME, &real)
                let lateMs = Double(now.tv_sec - next.tv_sec) * 1000 + Double(now.tv_nsec - next.tv_nsec) / 1e6
                let n = count.load(ordering: .relaxed)
                if lateMs > thresholdMs, n < capacity {
                    wokeAt[n] = Double(real.tv_sec) + Double(real.tv_nsec) / 1e9
                    late[n] = lateMs
                    count.store(n + 1, ordering: .releasing)
                }
            }
            done.signal()
        }
        thread.start()
        started.wait()
    }

    deinit {
        finish()
        wokeAt.deallocate()
        late.deallocate()
    }

    /// Stops the probe (once) and returns what it saw.
    @discardableResult
    func finish() -> [Stall] {
        if !stop.exchange(true, ordering: .relaxed) { done.wait() }
        let n = count.load(ordering: .acquiring)
        return (0..<n).map { Stall(wokeAt: wokeAt[$0], lateMs: late[$0]) }
    }

    /// The gaps between consecutive packet times (epoch seconds) longer than `limitMs` that no stall
    /// explains: a stall explains a gap when the probe woke within it (2 ms either side for clock reads)
    /// at least `gap - limitMs` late, i.e. the machine was stopped for the whole excess.
    static func unexplainedGaps(
        packetTimes: [Double], limitMs: Double, stalls: [Stall]
    )
        -> [(at: Double, gapMs: Double)]
    {
        var result: [(Double, Double)] = []
        for (a, b) in zip(packetTimes, packetTimes.dropFirst()) {
            let gap = (b - a) * 1000
            guard gap > limitMs else { continue }
            let explained = stalls.contains {
                $0.wokeAt >= a - 0.002 && $0.wokeAt <= b + 0.002
                    && $0.lateMs >= gap - limitMs
            }
            if !explained { result.append((a, gap)) }
        }
        return result
    }
}
