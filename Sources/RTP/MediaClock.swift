// The media clock: tick n is due at start + n·interval on CLOCK_MONOTONIC, an absolute deadline slept
// to with clock_nanosleep(TIMER_ABSTIME). A late wake-up delays one tick but never the schedule: there is
// no accumulated drift, unlike a repeated relative 20 ms sleep (which drifts by its wake-up latency every
// time). Each tick's lateness (wake-up time − deadline) goes into a fixed-bucket histogram.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A schedule of ticks at absolute monotonic deadlines, start + n·interval.
public struct MediaClock: Sendable {
    /// The tick interval in nanoseconds.
    public let interval: Int64
    /// The monotonic time of tick 0, in nanoseconds.
    public private(set) var start: Int64
    /// The tick most recently waited for (0 before the first wait).
    public private(set) var tick: Int64 = 0
    /// The lateness of every tick waited for.
    public var lateness = LatencyHistogram()

    /// Creates a clock whose tick 0 is `start`.
    ///
    /// - Parameters:
    ///   - interval: the tick interval (20 ms for a 20 ms packet time); at least 1 µs.
    ///   - start: the monotonic time of tick 0 in nanoseconds; now by default.
    public init(interval: Duration, start: Int64 = MediaClock.now()) {
        let (seconds, attoseconds) = interval.components
        let ns = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self.interval = ns.overflow ? Int64.max : max(ns.partialValue &+ attoseconds / 1_000_000_000, 1000)
        self.start = start
    }

    /// The current monotonic time in nanoseconds (CLOCK_MONOTONIC).
    @inline(__always)
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// The deadline of tick `n`: start + n·interval.
    @inline(__always)
    public func deadline(ofTick n: Int64) -> Int64 { start &+ n &* interval }

    /// The deadline of the next tick.
    public var nextDeadline: Int64 { deadline(ofTick: tick + 1) }

    /// Sleeps until the next tick's deadline (at once when it has passed) and records the lateness.
    ///
    /// - Returns: the lateness in nanoseconds (wake-up time − deadline, ≥ 0).
    @discardableResult
    public mutating func waitForNextTick() -> Int64 {
        tick += 1
        let due = deadline(ofTick: tick)
        var ts = timespec(tv_sec: Int(due / 1_000_000_000), tv_nsec: Int(due % 1_000_000_000))
        while true {
            let result = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil)
            if result != EINTR { break }
        }
        let late = max(MediaClock.now() - due, 0)
        lateness.record(late)
        return late
    }

    /// Moves the schedule forward by whole ticks so that the next deadline is in the future (after a
    /// stall of the process, so as not to send a burst of every missed tick).
    ///
    /// - Returns: the number of ticks skipped.
    @discardableResult
    public mutating func skipMissedTicks() -> Int64 {
        let now = MediaClock.now()
        let next = deadline(ofTick: tick + 1)
        guard now >= next else { return 0 }
        let missed = (now - next) / interval + 1
        start &+= missed &* interval
        return missed
    }
}
