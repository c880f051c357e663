/// The bounds the API holds every request to.
public struct APILimits: Sendable, Hashable {
    /// The largest JSON body (1 MiB): 413 past it.
    public static let maximumJSONBytes = 1 << 20
    /// The deepest JSON body (objects and arrays nested); deeper is a 400 before any parsing.
    public static let maximumJSONDepth = 32

    /// The largest recording upload (default 20 MiB): 413 past it, read no further.
    public var maximumRecordingBytes: Int
    /// Requests a second each key may make on average, and the burst it may make at once (token bucket).
    public var requestsPerSecond: Double
    public var burst: Int

    /// The defaults: 20 MiB uploads, 50 requests a second per key with bursts of 100.
    public init(maximumRecordingBytes: Int = 20 << 20, requestsPerSecond: Double = 50, burst: Int = 100) {
        self.maximumRecordingBytes = maximumRecordingBytes
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }
}
