import CallSequenceStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import ManagementAPI

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let nanoseconds = Atomic<UInt64>(1_000_000_000)
    func advance(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        nanoseconds.add(UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000), ordering: .relaxed)
    }
    var now: @Sendable () -> UInt64 { { self.nanoseconds.load(ordering: .relaxed) } }
}

@Suite("Verified key cache")
struct VerifiedKeyCacheTests {
    /// A harness whose API caches keys for `lifetime` on `clock`.
    func harness(clock: ManualClock, lifetime: Duration, capacity: Int = 10_000) async throws -> APIHarness {
        var h = try await APIHarness()
        h.api = ManagementAPI(
            store: h.store, verifiedKeys: VerifiedKeyCache(capacity: capacity, lifetime: lifetime, now: clock.now))
        return h
    }

    @Test func aKeyRevokedThroughTheAPIIs401OnItsNextRequestEvenWhileCached() async throws {
        // A cache whose entries would live an hour: only the revocation itself can drop the key.
        let clock = ManualClock()
        let h = try await harness(clock: clock, lifetime: .seconds(3600))
        defer { h.remove() }
        try await h.test { client in
            let (account, key) = try await makeAccount(client, operatorKey: h.operatorKey, name: "Gate")
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .ok)
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .ok)  // now from the cache
            let keys = try await h.store.keys(account: account, page: PageRequest(limit: 10, cursor: nil))
            let id = try #require(keys.items.first?.id)
            let revoked = try await client.call(.delete, "/api/v1/accounts/\(account)/keys/\(id)", key: h.operatorKey)
            #expect(revoked.status == .noContent, "\(revoked.text)")
            let after = try await client.call(.get, "/api/v1/me", key: key)
            #expect(after.status == .unauthorized)
            #expect(after.headers[.contentType] == "application/problem+json")
            // The operator's own key is still cached and still works.
            #expect(try await client.call(.get, "/api/v1/accounts/\(account)", key: h.operatorKey).status == .ok)
        }
    }

    @Test func aKeyRevokedByAnotherProcessStopsWorkingWhenItsEntryExpires() async throws {
        let clock = ManualClock()
        let h = try await harness(clock: clock, lifetime: .seconds(1))
        defer { h.remove() }
        try await h.test { client in
            let (account, key) = try await makeAccount(client, operatorKey: h.operatorKey, name: "Gate")
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .ok)
            // Revoked in the store behind this API's back, as another node's API does.
            let keys = try await h.store.keys(account: account, page: PageRequest(limit: 10, cursor: nil))
            try await h.store.revokeKey(try #require(keys.items.first?.id), account: account, origin: .commandLine)
            clock.advance(.milliseconds(900))
            // Still within the entry's lifetime: the cache answers (the store is not read for every request).
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .ok)
            clock.advance(.milliseconds(101))
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .unauthorized)
            clock.advance(.seconds(5))
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .unauthorized)
        }
    }

    @Test func aKeyRevokedByAnotherProcessStopsWorkingWhenTheChangeFeedReportsIt() async throws {
        // Entries that would live an hour: only the change feed's report can drop the key.
        let clock = ManualClock()
        let h = try await harness(clock: clock, lifetime: .seconds(3600))
        defer { h.remove() }
        try await h.test { client in
            let (account, key) = try await makeAccount(client, operatorKey: h.operatorKey, name: "Gate")
            let (_, other) = try await makeAccount(client, operatorKey: h.operatorKey, name: "Door")
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .ok)
            #expect(try await client.call(.get, "/api/v1/me", key: other).status == .ok)
            let mark = try await h.store.audit(account: nil, page: PageRequest(limit: 1)).items.first?.id ?? 0
            let keys = try await h.store.keys(account: account, page: PageRequest(limit: 10, cursor: nil))
            try await h.store.revokeKey(try #require(keys.items.first?.id), account: account, origin: .commandLine)
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .ok)  // cached: not told yet
            // What `callseq serve`'s change feed reads from the audit log since its last look.
            let changes = try await h.store.audit(account: nil, page: PageRequest(limit: 100)).items.filter {
                $0.id > mark
            }
            h.api.storeChanged(changes)
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/me", key: other).status == .ok)
            #expect(h.api.verifiedKeys.count == 2)  // the operator's and the other account's
            // The feed lost track: every key is verified again.
            h.api.storeChanged(nil)
            #expect(h.api.verifiedKeys.count == 0)
            #expect(try await client.call(.get, "/api/v1/me", key: other).status == .ok)
            #expect(try await client.call(.get, "/api/v1/me", key: key).status == .unauthorized)
        }
    }

    @Test func theCacheHoldsAtMostItsCapacityAndForgetsTheLeastRecentlyUsedKey() async throws {
        let clock = ManualClock()
        let cache = VerifiedKeyCache(capacity: 2, lifetime: .seconds(60), now: clock.now)
        let lookups = Mutex(0)
        let verify: (String) async throws -> KeyIdentity? = { secret in
            lookups.withLock { $0 += 1 }
            return secret.hasPrefix("csk_")
                ? KeyIdentity(keyID: "key_" + secret.dropFirst(4), account: nil, isOperator: false) : nil
        }
        #expect(try await cache.identity(for: "csk_a", verify: verify)?.keyID == "key_a")
        #expect(try await cache.identity(for: "csk_b", verify: verify)?.keyID == "key_b")
        #expect(try await cache.identity(for: "csk_a", verify: verify)?.keyID == "key_a")  // a is now the newest
        #expect(lookups.withLock { $0 } == 2)
        #expect(try await cache.identity(for: "csk_c", verify: verify)?.keyID == "key_c")  // b goes
        #expect(cache.count == 2)
        #expect(try await cache.identity(for: "csk_a", verify: verify)?.keyID == "key_a")
        #expect(lookups.withLock { $0 } == 3)
        #expect(try await cache.identity(for: "csk_b", verify: verify)?.keyID == "key_b")
        #expect(lookups.withLock { $0 } == 4)
        // Invalid keys are never remembered.
        #expect(try await cache.identity(for: "nope", verify: verify) == nil)
        #expect(try await cache.identity(for: "nope", verify: verify) == nil)
        #expect(lookups.withLock { $0 } == 6)
        #expect(cache.count == 2)
        cache.revoke(keyID: "key_b")
        #expect(cache.count == 1)
    }

    @Test func aLookupUnderWayWhenTheKeyIsRevokedDoesNotPutItBack() async throws {
        let cache = VerifiedKeyCache(capacity: 10, lifetime: .seconds(60), now: ManualClock().now)
        // The store said "valid" just before the revocation committed; the answer arrives after it.
        let answer = try await cache.identity(for: "csk_x") { _ in
            cache.revoke(keyID: "key_x")
            return KeyIdentity(keyID: "key_x", account: nil, isOperator: false)
        }
        #expect(answer?.keyID == "key_x")
        #expect(cache.count == 0)
    }
}
