/// The bounds the API holds every request to.
package struct APILimits: Sendable, Hashable {
    /// The largest JSON body (1 MiB): 413 past it.
    package static let maximumJSONBytes = 1 << 20
    /// The deepest JSON body (objects and arrays nested); deeper is a 400 before any parsing.
    package static let maximumJSONDepth = 32

    /// The largest recording upload (default 20 MiB): 413 past it, read no further.
    package var maximumRecordingBytes: Int
    /// Requests a second each key may make on average, and the burst it may make at once (token bucket).
    package var requestsPerSecond: Double
    package var burst: Int

    /// The defaults: 20 MiB uploads, 50 requests a second per key with bursts of 100.
    package init(maximumRecordingBytes: Int = 20 << 20, requestsPerSecond: Double = 50, burst: Int = 100) {
        self.maximumRecordingBytes = maximumRecordingBytes
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }
}
