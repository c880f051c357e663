import CallSequenceStore
import Crypto
import Synchronization

/// API keys the store has verified lately, so that a request does not read the store to authenticate.
///
/// Entries are keyed by the key's SHA-256 (FIPS 180-4), never by the secret itself, and hold who the key is.
/// The cache is bounded (least recently used entries go first) and every entry lives `lifetime` at most (1 s by
/// default). A revocation through this process's API (`DELETE .../keys/{key}`) drops the key at once, and a
/// lookup that started before it cannot put the key back (a revocation bumps a generation the lookup checks).
/// One by another process (another node's API on the same store) drops it when `callseq serve`'s change feed
/// reads it from the audit log (within 300 ms on SQLite, at its NOTIFY on PostgreSQL), and in any case when its
/// entry expires.
/// Unknown keys are not remembered: only what the store said was valid is.
package final class VerifiedKeyCache: Sendable {
    /// The default bound on entries.
    package static let defaultCapacity = 10_000
    /// The default lifetime of an entry: what a revocation in another process waits at most.
    package static let defaultLifetime: Duration = .seconds(1)

    private struct Entry: Sendable {
        var identity: KeyIdentity
        var expires: UInt64
    }

    private struct State: Sendable {
        var entries: LRUTable<KeyHash, Entry>
        /// Bumped by every revocation; a lookup remembers its answer only if no revocation came in between.
        var generation: UInt64 = 0
    }

    private let state: Mutex<State>
    private let lifetimeNanoseconds: UInt64
    private let now: @Sendable () -> UInt64

    /// A cache of at most `capacity` keys (0 turns it off), each kept `lifetime` at most; `now` answers a
    /// monotonic time in nanoseconds (tests pass their own clock).
    package init(
        capacity: Int = VerifiedKeyCache.defaultCapacity, lifetime: Duration = VerifiedKeyCache.defaultLifetime,
        now: @escaping @Sendable () -> UInt64 = VerifiedKeyCache.monotonicNanoseconds
    ) {
        state = Mutex(State(entries: LRUTable(capacity: max(0, capacity))))
        let (seconds, attoseconds) = lifetime.components
        lifetimeNanoseconds =
            UInt64(clamping: max(0, seconds)) &* 1_000_000_000
            &+ UInt64(clamping: max(0, attoseconds / 1_000_000_000))
        self.now = now
    }

    private static let origin = ContinuousClock.now

    /// Nanoseconds of the monotonic clock (`ContinuousClock`) since the first use.
    @Sendable package static func monotonicNanoseconds() -> UInt64 {
        let (seconds, attoseconds) = origin.duration(to: .now).components
        return UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
    }

    /// Who `secret` is: from the cache when verified less than `lifetime` ago, else from `verify` (the store),
    /// whose valid answer is then remembered. Nil when the key is not valid.
    package func identity(
        for secret: Substring,
        verify: (String) async throws -> KeyIdentity?
    ) async throws -> KeyIdentity? {
        let digest = KeyHash(secret)
        let time = now()
        let (cached, generation) = state.withLock { state -> (KeyIdentity?, UInt64) in
            guard let entry = state.entries[digest] else { return (nil, state.generation) }
            guard entry.expires > time else {
                state.entries.remove(digest)
                return (nil, state.generation)
            }
            return (entry.identity, state.generation)
        }
        if let cached { return cached }
        guard let identity = try await verify(String(secret)) else { return nil }
        let expires = time &+ lifetimeNanoseconds
        state.withLock { state in
            guard state.generation == generation else { return }
            state.entries[digest] = Entry(identity: identity, expires: expires)
        }
        return identity
    }

    /// Forgets the key with the store's id `keyID` (it was just revoked), and keeps lookups already under way
    /// from remembering any key.
    package func revoke(keyID: KeyID) {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll { $0.identity.keyID == keyID }
        }
    }

    /// Forgets every key (and keeps lookups under way from remembering any).
    package func revokeAll() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll { _ in true }
        }
    }

    /// How many keys are remembered.
    package var count: Int { state.withLock { $0.entries.count } }
}

/// The SHA-256 of a key's secret (its UTF-8 bytes), as four words.
struct KeyHash: Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ secret: Substring) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let digest = SHA256.hash(data: Array(secret.utf8))
        digest.withUnsafeBytes { raw in
            withUnsafeMutableBytes(of: &words) {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix($0.count)))
            }
        }
        self.words = words
    }

    static func == (a: KeyHash, b: KeyHash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// A dictionary of at most `capacity` entries that drops the least recently used one to make room: the entries
/// are a doubly linked list threaded through an array (most recent at `head`), so that every operation but
/// `removeAll(where:)` takes constant time and nothing is allocated once the table is full.
struct LRUTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Node {
        var key: Key
        var value: Value
        var previous: Int
        var next: Int
    }

    let capacity: Int
    private var slots: [Key: Int] = [:]
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var head = -1
    private var tail = -1

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { slots.count }

    /// The value for `key` (which becomes the most recently used), or nil; setting nil removes it.
    subscript(key: Key) -> Value? {
        mutating get {
            guard let slot = slots[key] else { return nil }
            moveToFront(slot)
            return nodes[slot].value
        }
        set {
            guard let newValue else {
                remove(key)
                return
            }
            if let slot = slots[key] {
                nodes[slot].value = newValue
                moveToFront(slot)
                return
            }
            guard capacity > 0 else { return }
            let slot: Int
            if slots.count >= capacity, tail >= 0 {
                slot = tail
                unlink(slot)
                slots[nodes[slot].key] = nil
                nodes[slot].key = key
                nodes[slot].value = newValue
            } else if let reused = free.popLast() {
                slot = reused
                nodes[slot].key = key
                nodes[slot].value = newValue
            } else {
                slot = nodes.count
                nodes.append(Node(key: key, value: newValue, previous: -1, next: -1))
            }
            slots[key] = slot
            pushFront(slot)
        }
    }

    mutating func remove(_ key: Key) {
        guard let slot = slots.removeValue(forKey: key) else { return }
        unlink(slot)
        free.append(slot)
    }

    mutating func removeAll(where shouldRemove: (Value) -> Bool) {
        var slot = head
        while slot >= 0 {
            let next = nodes[slot].next
            if shouldRemove(nodes[slot].value) { remove(nodes[slot].key) }
            slot = next
        }
    }

    private mutating func unlink(_ slot: Int) {
        let (previous, next) = (nodes[slot].previous, nodes[slot].next)
        if previous >= 0 { nodes[previous].next = next } else { head = next }
        if next >= 0 { nodes[next].previous = previous } else { tail = previous }
        nodes[slot].previous = -1
        nodes[slot].next = -1
    }

    private mutating func pushFront(_ slot: Int) {
        nodes[slot].previous = -1
        nodes[slot].next = head
        if head >= 0 { nodes[head].previous = slot }
        head = slot
        if tail < 0 { tail = slot }
    }

    private mutating func moveToFront(_ slot: Int) {
        guard head != slot else { return }
        unlink(slot)
        pushFront(slot)
    }
}
