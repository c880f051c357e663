// The PostgreSQL change feed (several nodes on one database): a change committed through one node's store
// reaches another node's feed by NOTIFY; a lost connection is made again, LISTENs again and re-reads, so a
// change committed while it was down is not missed; the slow poll finds a change nothing notified.

import CallSequenceStore
import CallSequenceStorePostgres
import Foundation
import StoreConformance
import Testing

@Suite("PostgreSQL change feed", .serialized)
struct ChangeFeedTests {
    /// Waits (up to `seconds`) for the feed to pass `version`; answers the version and how long it took.
    func change(
        _ feed: PostgresChangeFeed, after version: Int64, seconds: Double = 10
    ) async throws -> (Int64, Duration) {
        let start = ContinuousClock.now
        let result = try await withThrowingTaskGroup(of: Int64?.self) { group in
            group.addTask { try await feed.waitForChange(after: version) }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let found = try #require(result, "no version above \(version) within \(seconds) s")
        return (found, ContinuousClock.now - start)
    }

    /// Kills the feed's backend (as a network failure or a server restart would).
    func dropFeedConnections(_ store: PostgresStore) async throws -> Int {
        let rows = try await store.database.transaction { tx throws(StoreError) in
            try await tx.query(
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'callseq-feed'
                """, [])
        }
        return rows.count
    }

    @Test("a change on node A reaches node B's feed by NOTIFY, after reconnects too, and by the poll")
    func notifyReconnectAndPoll() async throws {
        let server = try TestPostgres.start()
        defer { server.stop() }
        let url = try server.createDatabase()
        let nodeA = try await PostgresStore.connect(url: url)
        let nodeB = try await PostgresStore.connect(url: url)  // installs the trigger again: idempotent
        let feed = PostgresChangeFeed(
            location: try .init(url: url), pollInterval: .seconds(2),
            retryDelay: .milliseconds(50))
        let runner = Task { await feed.run() }
        defer { runner.cancel() }
        let (start, _) = try await change(feed, after: -1)
        #expect(start == 0)
        var versions = feed.versions().makeAsyncIterator()
        #expect(await versions.next() == 0)

        // NOTIFY: each change, well within the poll interval (2 s); latencies measured.
        var latencies: [Duration] = []
        var seen = start
        for i in 0..<20 {
            let before = seen
            let (version, waited) = try await withThrowingTaskGroup(of: (Int64, Duration)?.self) { group in
                group.addTask { try await change(feed, after: before) }
                group.addTask {
                    _ = try await nodeA.createAccount(NewAccount(name: "Tenant \(i)"), origin: .commandLine)
                    return nil
                }
                var got: (Int64, Duration)?
                for try await value in group { if let value { got = value } }
                return try #require(got)
            }
            #expect(version == seen + 1)
            #expect(try await nodeB.currentVersion() == version)
            seen = version
            latencies.append(waited)
        }
        latencies.sort()
        print("change feed: NOTIFY latency (commit started → seen) p50 \(latencies[10]), max \(latencies[19])")
        #expect(latencies[19] < .seconds(1))
        #expect(await versions.next() == seen)

        // The connection is lost, and a change is committed before it is back: the reconnect re-reads it.
        #expect(try await dropFeedConnections(nodeA) == 1)
        _ = try await nodeA.createAccount(NewAccount(name: "While down"), origin: .commandLine)
        let (afterDrop, waitedDrop) = try await change(feed, after: seen)
        #expect(afterDrop == seen + 1)
        #expect(waitedDrop < .seconds(2))
        seen = afterDrop
        #expect(feed.reconnects >= 1)
        // And it LISTENs again: the next change comes by NOTIFY.
        let deadline = ContinuousClock.now + .seconds(10)
        while !feed.isConnected && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        _ = try await nodeB.createAccount(NewAccount(name: "After"), origin: .commandLine)
        let (next, waitedNext) = try await change(feed, after: seen)
        #expect(next == seen + 1 && waitedNext < .seconds(1))
        seen = next

        // A change nothing notifies (the trigger disabled): the poll finds it within its interval.
        _ = try await nodeA.database.transaction { tx throws(StoreError) in
            try await tx.query("ALTER TABLE change_version DISABLE TRIGGER callseq_change_notify", [])
        }
        _ = try await nodeA.createAccount(NewAccount(name: "Silent"), origin: .commandLine)
        let (polled, waitedPoll) = try await change(feed, after: seen)
        #expect(polled == seen + 1)
        #expect(waitedPoll < .seconds(4))

        runner.cancel()
        await runner.value
        await nodeA.database.shutdown()
        await nodeB.database.shutdown()
    }

    @Test("a waiter is released by cancellation")
    func cancellation() async throws {
        let feed = PostgresChangeFeed(location: try .init(url: "postgres://nobody@127.0.0.1:1/none"))
        let waiter = Task { try await feed.waitForChange(after: 0) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }
}
