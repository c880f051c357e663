import CallSequenceModel
import CallSequenceStore
import CallServer
import Foundation
import Logging
import StoreCalls
import Synchronization
import Testing

/// The store's accounts as the call server sees them: a number's account read on its first call, kept, dropped
/// when the store's audit log names it, bounded.
@Suite("Store accounts for calls")
struct StoreAccountsTests {
    /// A fresh SQLite store with `count` accounts, each a DID 514555010N routed to an IVR whose option 1 runs
    /// a sequence that sends `DIGITS`.
    func store(accounts count: Int, digits: String = "1234#") async throws -> (SQLiteStore, String, [AccountID]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-calls-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = try await SQLiteStore.open(path: folder + "/store.sqlite3")
        var ids: [AccountID] = []
        for i in 0..<count {
            let file = folder + "/account-\(i).json"
            try """
            { "capabilities": { "sequences": true, "sms": false, "smsDailyLimit": 0 },
              "dids": [ { "number": "514555010\(i)", "sms": false, "route": { "ivr": "Lobby" } } ],
              "ivrs": [ { "name": "Lobby", "prompt": "none", "options": { "1": { "sequence": "Gate" } } } ],
              "sequences": [ { "name": "Gate", "steps": [ { "type": "dtmf", "digits": "\(digits)" } ] } ] }
            """.write(toFile: file, atomically: true, encoding: .utf8)
            let snapshot = try AccountExchange.snapshot(fromFile: file)
            ids.append(
                try await store.importAccount(snapshot, as: NewAccount(name: "Gate \(i)"), origin: .commandLine).id)
        }
        return (store, folder, ids)
    }

    func gateDigits(_ called: AccountDirectory.CalledNumber?) -> String? {
        guard case .dtmf(let step)? = called?.entry.account.sequences.first?.steps.first else { return nil }
        return step.digits.description
    }

    @Test func aNumberIsReadOnItsFirstCallKeptAndReadAgainOnceTheAuditLogNamesItsAccount() async throws {
        let (store, folder, ids) = try await store(accounts: 1)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let accounts = StoreAccounts(store: store, logger: Logger(label: "test"))
        #expect(accounts.cachedAccounts == 0)
        let first = try await accounts.calledNumber(try PhoneNumber("5145550100"))
        #expect(first?.entry.storeAccount == ids[0])
        #expect(first?.did.number.digits == "5145550100")
        #expect(gateDigits(first) == "1234#")
        #expect(accounts.cachedAccounts == 1)
        #expect(try await accounts.calledNumber(try PhoneNumber("5145550199")) == nil)

        // A saved change: until the audit log is read, calls keep the cached account; then they get the change.
        let mark = try await store.audit(account: nil, page: PageRequest(limit: 1)).items.first?.id ?? 0
        let sequence = try #require(try await store.sequences(account: ids[0], page: .first).items.first)
        _ = try await store.updateSequence(
            sequence.id, account: ids[0],
            body: #"{"name":"Gate","steps":[{"type":"dtmf","digits":"999#"}]}"#,
            expectedRevision: sequence.revision, origin: .commandLine)
        #expect(gateDigits(try await accounts.calledNumber(try PhoneNumber("5145550100"))) == "1234#")
        let changes = try await store.audit(account: nil, page: PageRequest(limit: 100)).items.filter { $0.id > mark }
        #expect(!changes.isEmpty)
        accounts.invalidate(changes)
        #expect(accounts.cachedAccounts == 0)
        #expect(gateDigits(try await accounts.calledNumber(try PhoneNumber("5145550100"))) == "999#")
    }

    @Test func theCacheHoldsAtMostItsLimitOfAccounts() async throws {
        let (store, folder, _) = try await store(accounts: 3)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var limits = StoreAccounts.Limits()
        limits.accounts = 2
        let accounts = StoreAccounts(store: store, logger: Logger(label: "test"), limits: limits)
        for i in 0..<3 {
            #expect(
                try await accounts.calledNumber(try PhoneNumber("514555010\(i)"))?.did.number.digits == "514555010\(i)")
            #expect(accounts.cachedAccounts == min(i + 1, 2))
        }
        // The least recently called went out; it is read again when called.
        #expect(gateDigits(try await accounts.calledNumber(try PhoneNumber("5145550100"))) == "1234#")
        #expect(accounts.cachedAccounts == 2)
    }

    /// `follow` tells its observer what the audit log says changed: how `callseq serve` drops keys revoked by
    /// another process from the API's cache.
    @Test func followingTheFeedReportsTheChangesToTheObserver() async throws {
        let (store, folder, ids) = try await store(accounts: 1)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let accounts = StoreAccounts(store: store, logger: Logger(label: "test"))
        let feed = PollingChangeFeed(store: store, interval: .milliseconds(50))
        let reports = Reports()
        let following = Task {
            await accounts.follow(feed, observe: { report in reports.list.withLock { $0.append(report) } })
        }
        defer { following.cancel() }
        /// Waits (`seconds` at most) until a report satisfies `condition`.
        func reported(within seconds: Int = 10, _ condition: ([AuditEntry]?) -> Bool) async -> Bool {
            for _ in 0..<(seconds * 50) {
                if reports.list.withLock({ $0.contains(where: condition) }) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
        // Changes until one is reported: then the follower has its starting point, before the revocation.
        let key = try await store.createKey(account: ids[0], isOperator: false, label: "gate", origin: .commandLine)
        var started = false
        for _ in 0..<20 where !started {
            let probe = try await store.createKey(
                account: ids[0], isOperator: false, label: "probe", origin: .commandLine)
            started = await reported(within: 1) { $0?.contains { $0.target == probe.record.id } ?? false }
        }
        #expect(started, "the follower reported nothing")
        try await store.revokeKey(key.record.id, account: ids[0], origin: .commandLine)
        #expect(await reported { $0?.contains { $0.action == "key.revoke" && $0.target == key.record.id } ?? false })
    }
}

/// What a follower reported, in order.
final class Reports: Sendable {
    let list = Mutex<[[AuditEntry]?]>([])
}
