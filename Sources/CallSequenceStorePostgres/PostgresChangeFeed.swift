// The change feed of the PostgreSQL store, for several `callseq serve` nodes on one database: every committed
// change raises `change_version` (Store.currentVersion()), and a trigger on that row sends the new version
// with NOTIFY on the channel `callseq_changes` (delivered at commit, in commit order). A node's feed holds one
// connection of its own that LISTENs, then reads the version (so that nothing committed between the two is
// missed), then takes each notification; notifications are lost while a connection is down, so every
// reconnect LISTENs and re-reads, and a slow poll re-reads as a safety net (a NOTIFY queue that overflowed, a
// trigger someone dropped). Readers wait with `waitForChange(after:)` or iterate `versions()`.

import CallSequenceStore
import Logging
import Metrics
import NIOCore
import PostgresNIO
import Synchronization

/// Versions of the PostgreSQL store as other nodes commit them: LISTEN/NOTIFY, re-read on every reconnect, and a
/// slow poll.
///
/// ```swift
/// let feed = PostgresChangeFeed(location: try PostgresDatabase.Location(url: url))
/// Task { await feed.run() }                   // until the task is cancelled
/// let version = try await feed.waitForChange(after: seen)
/// ```
public final class PostgresChangeFeed: Sendable {
    /// The NOTIFY channel; the payload is the new version in decimal.
    public static let channel = "callseq_changes"

    private struct State {
        var latest: Int64?
        var waiters: [(after: Int64, continuation: CheckedContinuation<Int64, any Error>, id: UInt64)] = []
        var streams: [UInt64: AsyncStream<Int64>.Continuation] = [:]
        var nextID: UInt64 = 0
        var reconnects = 0
        var connected = false
    }

    private let location: PostgresDatabase.Location
    private let pollInterval: Duration
    private let retryDelay: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let reconnectCounter = Counter(label: "callseq_store_reconnects_total")
    private let versionGauge = Gauge(label: "callseq_store_version")

    /// A feed of the database at `location` (call ``run()`` to start it).
    ///
    /// - Parameters:
    ///   - location: the database (the store's own `postgres://` URL, read by `PostgresDatabase.Location`).
    ///   - pollInterval: how often the version is read besides the notifications (the safety net).
    ///   - retryDelay: the wait before a reconnect (doubled after each failure, up to 5 s).
    ///   - logger: where connection losses and reconnects are logged.
    public init(
        location: PostgresDatabase.Location, pollInterval: Duration = .seconds(10),
        retryDelay: Duration = .milliseconds(100),
        logger: Logger = Logger(label: "callseq.store.feed", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.location = location
        self.pollInterval = pollInterval
        self.retryDelay = retryDelay
        self.logger = logger
    }

    /// The newest version seen (nil before the first read).
    public var latestVersion: Int64? { state.withLock { $0.latest } }

    /// How many times the feed's connection was lost and made again.
    public var reconnects: Int { state.withLock { $0.reconnects } }

    /// Whether the feed's connection is up and LISTENing.
    public var isConnected: Bool { state.withLock { $0.connected } }

    /// The first version above `version` (at once when it is already known); throws `CancellationError` when the
    /// task is cancelled.
    public func waitForChange(after version: Int64) async throws -> Int64 {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int64, any Error>) in
                let ready = state.withLock { state -> Int64? in
                    if let latest = state.latest, latest > version { return latest }
                    if Task.isCancelled { return -1 }
                    state.waiters.append((version, continuation, id))
                    return nil
                }
                if let ready {
                    if ready < 0 {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume(returning: ready)
                    }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int64, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Every new version, newest first when several arrive between reads (the current one first, once known).
    /// The stream ends when the consumer stops iterating.
    public func versions() -> AsyncStream<Int64> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int64.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        // Set before the continuation is shared: it may run at once (finish) and takes the lock.
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        let latest = state.withLock { state -> Int64? in
            state.streams[id] = continuation
            return state.latest
        }
        if let latest { continuation.yield(latest) }
        return stream
    }

    /// A version read or notified: kept when newer, and handed to the waiters it satisfies.
    private func publish(_ version: Int64) {
        // Continuations are resumed and streams fed outside the lock (a stream's onTermination takes it).
        let (ready, streams) = state.withLock {
            state -> ([CheckedContinuation<Int64, any Error>], [AsyncStream<Int64>.Continuation]) in
            guard version > (state.latest ?? -1) else { return ([], []) }
            state.latest = version
            let due = state.waiters.filter { $0.after < version }
            state.waiters.removeAll { $0.after < version }
            return (due.map(\.continuation), Array(state.streams.values))
        }
        for stream in streams { stream.yield(version) }
        for waiter in ready { waiter.resume(returning: version) }
        versionGauge.record(version)
    }

    /// Why a LISTEN session ended (the connection's notifications stopped).
    private struct SessionEnded: Error {}

    /// Keeps a connection LISTENing until the task is cancelled: LISTEN, read the version, then take the
    /// notifications and poll every `pollInterval`; on any failure, reconnect after `retryDelay` (doubling to 5 s).
    public func run() async {
        var delay = retryDelay
        var first = true
        while !Task.isCancelled {
            if !first {
                state.withLock { $0.reconnects += 1 }
                reconnectCounter.increment()
            }
            first = false
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration(), id: 1,
                    logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: Self.channel) { notifications in
                    // LISTEN is active from here: a change committed from now on is notified, and one committed
                    // before is in the version read next.
                    publish(try await Self.readVersion(connection, logger: logger))
                    state.withLock { $0.connected = true }
                    delay = retryDelay
                    logger.info("store feed: listening on \(Self.channel), version \(latestVersion ?? 0)")
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await notification in notifications {
                                if let version = Int64(notification.payload) { self.publish(version) }
                            }
                            throw SessionEnded()
                        }
                        group.addTask {
                            while true {
                                try await Task.sleep(for: self.pollInterval)
                                self.publish(try await Self.readVersion(connection, logger: self.logger))
                            }
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning("store feed: \(location): \(String(describing: error).prefix(300))")
                }
            }
            state.withLock { $0.connected = false }
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        let (left, streams) = state.withLock {
            state -> ([CheckedContinuation<Int64, any Error>], [AsyncStream<Int64>.Continuation]) in
            defer {
                state.waiters.removeAll()
                state.streams.removeAll()
            }
            return (state.waiters.map(\.continuation), Array(state.streams.values))
        }
        for stream in streams { stream.finish() }
        for waiter in left { waiter.resume(throwing: CancellationError()) }
    }

    private func configuration() -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration = location.configuration()
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = location.startupParameters(
            statementTimeout: "10s", application: "callseq-feed")
        return configuration
    }

    private static func readVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT version FROM change_version WHERE id = 1"),
            logger: logger)
        for try await row in rows { return try row.decode(Int64.self) }
        return 0
    }

    /// Installs the trigger that NOTIFYs every new version (idempotent; nodes that connect at once take turns
    /// on an advisory lock). ``SQLStore/connect(url:timeout:logger:)`` runs it after the migrations.
    static func installTrigger(_ database: PostgresDatabase) async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            _ = try await tx.query("SELECT pg_advisory_xact_lock(4242023)", [])
            _ = try await tx.query(
                """
                CREATE OR REPLACE FUNCTION callseq_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('\(channel)', NEW.version::text);
                    RETURN NULL;
                END
                $$
                """, [])
            _ = try await tx.query(
                """
                CREATE OR REPLACE TRIGGER callseq_change_notify AFTER INSERT OR UPDATE ON change_version
                FOR EACH ROW EXECUTE FUNCTION callseq_notify_change()
                """, [])
        }
    }
}

/// The feed `callseq serve --store postgres://...` follows: a NOTIFY wakes the waiter (every node sees every
/// node's writes), a reconnect re-reads, the slow poll catches what both missed.
extension PostgresChangeFeed: StoreChangeFeed {
    public func nextVersion(after version: Int64) async throws -> Int64 {
        try await waitForChange(after: version)
    }
}
