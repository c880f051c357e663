// A latency histogram with fixed buckets, in the manner of HdrHistogram: exact below 32 ns, then 16
// sub-buckets per power of two (6 % resolution) up to 2^40 ns (18 minutes). Recording is an index
// computation and an increment: no allocation, so a real-time thread can record every tick.

/// Counts of nanosecond durations in fixed logarithmic buckets, with exact maximum.
public struct LatencyHistogram: Sendable {
    static let bucketCount = 32 + 36 * 16

    private var counts = InlineArray<608, UInt64>(repeating: 0)
    /// Durations recorded.
    public private(set) var count: UInt64 = 0
    /// The largest duration recorded (ns).
    public private(set) var max: Int64 = 0
    /// The sum of the durations recorded (ns).
    public private(set) var sum: Int64 = 0

    /// An empty histogram.
    public init() {}

    @inline(__always)
    static func bucket(_ value: Int64) -> Int {
        guard value >= 32 else { return Int(Swift.max(value, 0)) }
        let exponent = 63 - value.leadingZeroBitCount  // 5...62
        guard exponent <= 40 else { return bucketCount - 1 }
        let mantissa = Int((value >> (exponent - 4)) & 15)
        return 32 + (exponent - 5) * 16 + mantissa
    }

    /// The largest duration that falls into bucket `index`.
    static func upperBound(ofBucket index: Int) -> Int64 {
        guard index >= 32 else { return Int64(index) }
        let exponent = (index - 32) / 16 + 5
        let mantissa = Int64((index - 32) % 16)
        return ((16 + mantissa + 1) << (exponent - 4)) - 1
    }

    /// Records one duration in nanoseconds (negative values count as 0).
    @inline(__always)
    public mutating func record(_ nanoseconds: Int64) {
        let value = Swift.max(nanoseconds, 0)
        counts[LatencyHistogram.bucket(value)] &+= 1
        count &+= 1
        sum &+= value
        if value > max { max = value }
    }

    /// Adds another histogram's counts.
    public mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<LatencyHistogram.bucketCount { counts[i] &+= other.counts[i] }
        count &+= other.count
        sum &+= other.sum
        max = Swift.max(max, other.max)
    }

    /// The duration below which a fraction `q` (0...1) of the recorded durations lie, to the bucket's
    /// upper bound (at most ``max``); 0 when empty.
    public func percentile(_ q: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(UInt64((Double(count) * Swift.min(Swift.max(q, 0), 1)).rounded(.up)), 1)
        var seen: UInt64 = 0
        for i in 0..<LatencyHistogram.bucketCount {
            seen &+= counts[i]
            if seen >= rank { return Swift.min(LatencyHistogram.upperBound(ofBucket: i), max) }
        }
        return max
    }
}

extension LatencyHistogram {
    /// How many recorded durations are at most `nanoseconds`, to the bucket's resolution (a bucket counts when
    /// its upper bound is at most `nanoseconds`): the cumulative count of a Prometheus histogram bucket. Read
    /// from a copy of the histogram (CallServer's `MediaStatistics`), never on the recording thread.
    public func count(atMost nanoseconds: Int64) -> UInt64 {
        var total: UInt64 = 0
        for i in 0..<LatencyHistogram.bucketCount where LatencyHistogram.upperBound(ofBucket: i) <= nanoseconds {
            total &+= counts[i]
        }
        return total
    }
}
