import NIOCore

/// The final responses the server sent without keeping a server transaction, so that a retransmitted request
/// gets the same bytes again (the effect of RFC 3261 §17.2.1 and §17.2.2's Completed state, kept the way a
/// stateless proxy front keeps it, §16.11): bounded, the oldest entry evicted first.
///
/// An entry answers for 64·T1 (timer J's length, §17.2.2); an older one is treated as absent. A request whose
/// entry was evicted is simply handled again: every response cached here is one the server would send again
/// to the same request (OPTIONS 200, 405, 420, 481, 415, 503, an INVITE's rejection), only with a new To-tag.
struct ResponseCache: Sendable {
    struct Entry: Sendable {
        var response: ByteBuffer
        var destination: SocketAddress
        /// When it was stored (uptime nanoseconds).
        var stored: UInt64
    }

    /// The most entries kept.
    let capacity: Int
    /// How long an entry answers, in nanoseconds.
    let lifetime: UInt64
    private var entries: [TransactionKey: Entry] = [:]
    /// Keys in insertion order, as a ring of `capacity` slots; `next` is the oldest once the ring is full.
    private var order: [TransactionKey] = []
    private var next = 0

    init(capacity: Int, lifetime: TimeAmount) {
        self.capacity = max(0, capacity)
        self.lifetime = UInt64(max(0, lifetime.nanoseconds))
        entries.reserveCapacity(min(self.capacity, 4_096))
    }

    /// The number of responses kept.
    var count: Int { entries.count }

    /// Keeps the response to the request of `key`, evicting the oldest entry when full. A key stored again
    /// keeps its place in the order and gets the new response.
    mutating func store(
        _ response: ByteBuffer, to destination: SocketAddress, for key: TransactionKey,
        at now: UInt64
    ) {
        guard capacity > 0 else { return }
        let entry = Entry(response: response, destination: destination, stored: now)
        if entries.updateValue(entry, forKey: key) != nil { return }
        if order.count < capacity {
            order.append(key)
        } else {
            entries[order[next]] = nil
            order[next] = key
            next = (next + 1) % capacity
        }
    }

    /// The response kept for `key`, if it is younger than 64·T1.
    func entry(for key: TransactionKey, at now: UInt64) -> Entry? {
        guard let entry = entries[key], now < entry.stored || now - entry.stored < lifetime else { return nil }
        return entry
    }
}
