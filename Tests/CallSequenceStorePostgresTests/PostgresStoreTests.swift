import CallSequenceStore
import CallSequenceStorePostgres
import Foundation
import StoreConformance
import Testing

/// Stores made for one run, shut down at its end.
final class OpenStores: @unchecked Sendable {
    private let lock = NSLock()
    private var stores: [PostgresStore] = []
    func add(_ store: PostgresStore) { lock.withLock { stores.append(store) } }
    func shutdownAll() async {
        for store in lock.withLock({ stores }) { await store.database.shutdown() }
    }
}

@Suite("PostgreSQL store", .serialized)
struct PostgresStoreTests {
    /// Every check of the conformance suite, each on a new database of one throw-away server. Fails (does not
    /// skip) when the PostgreSQL binaries are missing.
    @Test("the store conformance suite on PostgreSQL")
    func conformance() async throws {
        let server = try TestPostgres.start()
        defer { server.stop() }
        let open = OpenStores()
        let suite = StoreConformance {
            let store = try await PostgresStore.connect(url: try server.createDatabase())
            open.add(store)
            return store
        }
        for check in StoreConformance.checks {
            do {
                try await suite.run(check)
            } catch {
                Issue.record("\(check): \(error)")
            }
        }
        await open.shutdownAll()
    }

    @Test("migrations run once when several nodes connect at once, and a reconnect keeps the data")
    func migrationsAndReconnect() async throws {
        let server = try TestPostgres.start()
        defer { server.stop() }
        let url = try server.createDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresStore.connect(url: url) } }
            var all: [PostgresStore] = []
            for try await store in group { all.append(store) }
            return all
        }
        for store in stores { #expect(try await store.appliedSchemaVersion() == PostgresStore.schemaVersion) }
        let account = try await stores[0].createAccount(NewAccount(name: "Shared"), origin: .commandLine)
        #expect(try await stores[3].account(account.id).name == "Shared")
        #expect(try await stores[1].currentVersion() == 1)
        for store in stores { await store.database.shutdown() }
        let again = try await PostgresStore.connect(url: url)
        #expect(try await again.account(account.id).name == "Shared")
        await again.database.shutdown()
    }

    @Test("the SMS limit holds across nodes (separate pools) under concurrency")
    func smsAcrossNodes() async throws {
        let server = try TestPostgres.start()
        defer { server.stop() }
        let url = try server.createDatabase()
        let one = try await PostgresStore.connect(url: url)
        let two = try await PostgresStore.connect(url: url)
        let account = try await one.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let now = Date()
        let results = try await withThrowingTaskGroup(of: SMSReservation.self) { group in
            for i in 0..<60 {
                let store = i % 2 == 0 ? one : two
                group.addTask {
                    try await store.reserveSMS(
                        SMSRequest(
                            account: account.id, callID: "call-\(i % 30)", step: 1,
                            from: "1", to: "2", message: "m", dailyLimit: 12, time: now))
                }
            }
            var all: [SMSReservation] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.filter { if case .reserved = $0 { true } else { false } }.count == 12)
        #expect(results.filter { if case .alreadyReserved = $0 { true } else { false } }.count == 30)
        await one.database.shutdown()
        await two.database.shutdown()
    }

    @Test("a text's reservation: one statement, the limit exact, a held lock bounded by lock_timeout")
    func smsReservationStatement() async throws {
        let server = try TestPostgres.start()
        defer { server.stop() }
        let url = try server.createDatabase()
        let one = try await PostgresStore.connect(url: url)
        let two = try await PostgresStore.connect(url: url)
        // Every pooled connection bounds lock waits and idle transactions (a node that dies mid-transaction).
        let settings = try await one.database.read { tx throws(StoreError) in
            [
                try await tx.query("SHOW lock_timeout", []),
                try await tx.query("SHOW idle_in_transaction_session_timeout", []),
            ]
        }
        #expect(settings.map { $0.first?.values.first } == [.text("5s"), .text("30s")])
        let account = try await one.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let now = Date()
        func request(_ call: String, limit: Int = 2, time: Date = now) -> SMSRequest {
            SMSRequest(
                account: account.id, callID: call, step: 3, from: "1", to: "2", message: "m", dailyLimit: limit,
                time: time)
        }
        // The day's row is created by the first reservation; a duplicate takes no place; the limit is exact.
        guard case .reserved(let first) = try await one.reserveSMS(request("a")) else {
            Issue.record("a not reserved")
            return
        }
        #expect(try await two.reserveSMS(request("a")) == .alreadyReserved(id: first, state: .reserved))
        guard case .reserved = try await two.reserveSMS(request("b")) else {
            Issue.record("b not reserved")
            return
        }
        #expect(try await one.reserveSMS(request("c")) == .limitReached(used: 2))
        #expect(
            try await one.reserveSMS(request("d", limit: 0, time: now.addingTimeInterval(86_400)))
                == .limitReached(used: 0))
        let ledger = try await one.smsEntries(account: account.id, page: PageRequest(limit: 10)).items
        #expect(ledger.map(\.state).sorted { $0.rawValue < $1.rawValue } == [.failed, .failed, .reserved, .reserved])

        // Another session holds the day's row: the reservation gives up after lock_timeout (5 s) instead of
        // queueing without bound, leaves no row behind, and succeeds once the lock is gone.
        let (locked, signal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await two.database.transaction { tx throws(StoreError) in
                _ = try await tx.query("UPDATE sms_quota SET used = used WHERE account = $1", [.text(account.id)])
                signal.finish()
                try? await Task.sleep(for: .seconds(8))
            }
        }
        for await _ in locked {}
        let start = ContinuousClock.now
        await #expect(throws: StoreError.self) { _ = try await one.reserveSMS(request("e", limit: 10)) }
        let waited = ContinuousClock.now - start
        #expect(waited >= .seconds(4) && waited < .seconds(8), "waited \(waited)")
        try await holder.value
        guard case .reserved = try await one.reserveSMS(request("e", limit: 10)) else {
            Issue.record("e not reserved")
            return
        }
        await one.database.shutdown()
        await two.database.shutdown()
    }

    @Test("URLs: TCP and unix sockets, the password never shown")
    func urls() throws {
        let tcp = try PostgresDatabase.Location(url: "postgres://callseq:s3cret@db.example:6543/store")
        #expect(tcp.host == "db.example" && tcp.port == 6543 && tcp.user == "callseq" && tcp.database == "store")
        #expect(tcp.password == "s3cret" && tcp.socketPath == nil)
        #expect(tcp.description == "postgres://callseq@db.example:6543/store")
        let socket = try PostgresDatabase.Location(url: "postgresql://postgres@/test1?host=/tmp/pg&port=5544")
        #expect(socket.socketPath == "/tmp/pg/.s.PGSQL.5544" && socket.database == "test1")
        #expect(throws: StoreError.self) { try PostgresDatabase.Location(url: "mysql://x@y/z") }
        #expect(throws: StoreError.self) { try PostgresDatabase.Location(url: "postgres://x@y:99999/z") }
    }

    @Test("an unreachable server is a clear error, not a hang")
    func unreachable() async throws {
        let start = ContinuousClock.now
        await #expect(throws: StoreError.self) {
            _ = try await PostgresStore.connect(
                url: "postgres://postgres@/none?host=/nonexistent-folder&port=1",
                timeout: .seconds(3))
        }
        #expect(ContinuousClock.now - start < .seconds(30))
    }
}
