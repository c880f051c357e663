// A token bucket per source IP address, the flood guard a stateless proxy front keeps (RFC 3261 has none;
// RFC 5390 §4 lists per-source rate limiting among the defences against SIP overload).

extension UserAgentServer {
    /// How many requests a source IP address may send (a token bucket per address).
    ///
    /// A request takes a token; tokens come back at `requestsPerSecond` up to `burst`. A request that finds no
    /// token is refused with a stateless 503 and `Retry-After`, while the source's refusals (a second bucket
    /// with the same rate and burst) last; past those, its requests are dropped without an answer, because
    /// answering a flood is what amplifies it. So one address gets at most `requestsPerSecond` requests
    /// handled and as many refused a second, after bursts of `burst` of each.
    public struct RateLimit: Sendable, Equatable {
        /// Tokens returned a second.
        public var requestsPerSecond: Int
        /// The bucket's size: the requests a quiet source may send at once.
        public var burst: Int
        /// The most source addresses tracked; the least recently seen half is forgotten when full.
        public var maximumSources: Int

        /// A rate limit; the defaults are 50 requests a second, bursts of 100, 4,096 addresses.
        public init(requestsPerSecond: Int = 50, burst: Int = 100, maximumSources: Int = 4_096) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
            self.maximumSources = maximumSources
        }
    }
}

/// The buckets of ``UserAgentServer/RateLimit``, per source IP address, as a pure value (the time comes in).
///
/// Sources are kept in two generations: a lookup moves a source into the current one; when the current one
/// holds half the bound, it becomes the previous one and the old previous one is forgotten (a forgotten
/// source starts again with a full bucket). O(1) per request, at most `maximumSources` addresses.
struct SourceRateLimiter: Sendable {
    enum Verdict: Sendable, Equatable {
        /// Handle the request.
        case admit
        /// Answer 503 with `Retry-After` this many seconds.
        case refuse(retryAfter: Int)
        /// Drop it without an answer.
        case drop
    }

    struct Bucket: Sendable {
        var tokens: Double
        var refusals: Double
        /// Uptime nanoseconds of the last refill.
        var updated: UInt64
    }

    let rate: Double
    let burst: Double
    let generationSize: Int
    private var current: [String: Bucket] = [:]
    private var previous: [String: Bucket] = [:]

    init(_ limit: UserAgentServer.RateLimit) {
        rate = Double(max(1, limit.requestsPerSecond))
        burst = Double(max(1, limit.burst))
        generationSize = max(1, limit.maximumSources / 2)
    }

    /// The number of source addresses tracked.
    var sourceCount: Int { current.count + previous.count }

    /// Takes a token for a request from `source` at `now` (uptime nanoseconds).
    mutating func check(_ source: String, at now: UInt64) -> Verdict {
        var bucket =
            current[source] ?? previous.removeValue(forKey: source)
            ?? Bucket(tokens: burst, refusals: burst, updated: now)
        if now > bucket.updated {
            let refill = Double(now - bucket.updated) / 1e9 * rate
            bucket.tokens = min(burst, bucket.tokens + refill)
            bucket.refusals = min(burst, bucket.refusals + refill)
            bucket.updated = now
        }
        let verdict: Verdict
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            verdict = .admit
        } else if bucket.refusals >= 1 {
            bucket.refusals -= 1
            // Whole seconds until a token is back (RFC 3261 §20.33: delta-seconds), at least 1.
            let seconds = ((1 - bucket.tokens) / rate).rounded(.up)
            verdict = .refuse(retryAfter: seconds < 1 ? 1 : (seconds > 3_600 ? 3_600 : Int(seconds)))
        } else {
            verdict = .drop
        }
        if current[source] == nil, current.count >= generationSize {
            previous = current
            current = [:]
        }
        current[source] = bucket
        return verdict
    }
}
