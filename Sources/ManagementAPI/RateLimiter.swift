import Foundation
import Synchronization

/// Requests per API key: a token bucket per key (`burst` tokens, refilled at `rate` a second). A request
/// without a token is refused with 429 and the whole seconds until the next token (RFC 6585 §4, Retry-After).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Keys remembered at most (idle buckets are full ones: forgetting them changes nothing).
    private let maximumKeys = 100_000

    init(rate: Double, burst: Int) {
        self.rate = max(rate, 0.001)
        self.burst = Double(max(burst, 1))
    }

    /// Takes a token for `key`: nil when allowed, else the seconds to wait.
    func take(_ key: String, now: Double = Date().timeIntervalSinceReferenceDate) -> Int? {
        buckets.withLock { buckets -> Int? in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * rate)
            bucket.updated = now
            defer {
                if buckets.count >= maximumKeys && buckets[key] == nil {
                    buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rate < burst }
                }
                buckets[key] = bucket
            }
            guard bucket.tokens >= 1 else {
                return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}
