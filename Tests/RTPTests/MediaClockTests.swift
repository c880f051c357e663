import Glibc
import RTP
import Testing

@Suite("Media clock: absolute deadlines, lateness histogram")
struct MediaClockTests {
    @Test func deadlinesAreStartPlusNTimesTheInterval() {
        let clock = MediaClock(interval: .milliseconds(20), start: 1_000)
        #expect(clock.interval == 20_000_000)
        #expect(clock.deadline(ofTick: 180_000) == 1_000 + 180_000 * 20_000_000)  // one hour of 20 ms ticks
    }

    @Test func waitingKeepsTheScheduleAfterALateTick() {
        var clock = MediaClock(interval: .milliseconds(20))
        let start = clock.start
        for n in 1...10 {
            if n == 4 { usleep(45_000) }  // a stall of more than two ticks
            let late = clock.waitForNextTick()
            let now = MediaClock.now()
            #expect(clock.tick == Int64(n))
            #expect(clock.deadline(ofTick: Int64(n)) == start + Int64(n) * 20_000_000)
            #expect(now >= clock.deadline(ofTick: Int64(n)))  // never early
            if n == 4 { #expect(late >= 5_000_000) }
        }
        // The stall delayed ticks 4 and 5, not the schedule: tick 10 was still due at start + 200 ms.
        #expect(clock.start == start && clock.lateness.count == 10)
        #expect(clock.lateness.max >= 5_000_000)
    }

    @Test func missedTicksAreSkippedByWholeIntervals() {
        var clock = MediaClock(interval: .milliseconds(2))
        let start = clock.start
        clock.waitForNextTick()
        usleep(21_000)
        let skipped = clock.skipMissedTicks()
        #expect(skipped >= 10)
        #expect(clock.start == start + skipped * 2_000_000)
        #expect(clock.nextDeadline > MediaClock.now() - 1)
    }

    @Test func histogramPercentilesAreWithinABucket() {
        var h = LatencyHistogram()
        for us in 1...1000 { h.record(Int64(us) * 1000) }
        #expect(h.count == 1000 && h.max == 1_000_000)
        let p50 = h.percentile(0.5)
        let p99 = h.percentile(0.99)
        #expect(p50 >= 500_000 && p50 <= 500_000 * 17 / 16)
        #expect(p99 >= 990_000 && p99 <= 1_000_000)
        #expect(h.percentile(1) == 1_000_000)
        var small = LatencyHistogram()
        for v: Int64 in [0, 3, 31, -5] { small.record(v) }
        #expect(small.percentile(0.5) == 0 && small.percentile(0.75) == 3 && small.max == 31)
        h.merge(small)
        #expect(h.count == 1004)
    }

    /// The cumulative counts a Prometheus histogram bucket shows (`/metrics`): below a bound by at most one
    /// bucket's width (6 %), never above it, all of them at the largest bound.
    @Test func cumulativeCountsAreWithinABucketBelowTheBound() {
        var h = LatencyHistogram()
        for us in 1...1000 { h.record(Int64(us) * 1000) }  // 1 µs ... 1 ms
        for bound: Int64 in [100_000, 250_000, 500_000] {
            let count = h.count(atMost: bound)
            let exact = UInt64(bound / 1000)
            #expect(count <= exact && count >= exact * 15 / 16, "\(bound) ns: \(count)")
        }
        #expect(h.count(atMost: 10_000_000) == 1000)
        #expect(h.count(atMost: 0) == 0)
        #expect(LatencyHistogram().count(atMost: 1_000_000) == 0)
    }
}
