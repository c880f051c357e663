import CSQLite
import CallSequenceModel
import CallSequenceStore
import Foundation
import StoreConformance
import Testing

/// A fresh folder for one test, removed by the caller.
func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Folders made by the SQLite factory, removed when the process ends.
final class Folders: @unchecked Sendable {
    static let shared = Folders()
    private let lock = NSLock()
    private var paths: [String] = []
    func make() throws -> String {
        let path = try temporaryFolder()
        lock.withLock { paths.append(path) }
        return path
    }
    deinit { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
}

let sqliteSuite = StoreConformance {
    let folder = try Folders.shared.make()
    return try await SQLiteStore.open(path: folder + "/store.sqlite3")
}

@Suite("SQLite store conformance")
struct SQLiteConformanceTests {
    @Test(arguments: StoreConformance.checks)
    func conformance(_ check: String) async throws {
        try await sqliteSuite.run(check)
    }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("the file is in WAL mode, owner-only, and migrations are recorded and not rerun")
    func fileAndMigrations() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/store.sqlite3"
        let store = try await SQLiteStore.open(path: path)
        let account = try await store.createAccount(NewAccount(name: "Kept"), origin: .commandLine)
        #expect(try await store.appliedSchemaVersion() == SQLiteStore.schemaVersion)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // Reopened (another process would do the same): data kept, no migration applied twice.
        let again = try await SQLiteStore.open(path: path)
        #expect(try await again.account(account.id).name == "Kept")
        #expect(try await again.appliedSchemaVersion() == SQLiteStore.schemaVersion)
        #expect(try await again.currentVersion() == 1)

        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        #expect(scalar(db, "PRAGMA journal_mode") == "wal")
        #expect(scalar(db, "SELECT COUNT(*) FROM schema_version") == String(SQLiteStore.schemaVersion))
        // Keys are stored hashed: no secret in the file.
        let key = try await again.createKey(account: account.id, isOperator: false, label: "", origin: .commandLine)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data()
        #expect(bytes.range(of: Data(key.secret.utf8)) == nil && wal.range(of: Data(key.secret.utf8)) == nil)
        #expect(scalar(db, "SELECT length(hash) FROM api_keys") == "64")
    }

    @Test("a database from a newer program is refused with a clear message")
    func newerSchema() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/store.sqlite3"
        _ = try await SQLiteStore.open(path: path)
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        #expect(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", nil, nil, nil) == SQLITE_OK)
        sqlite3_close(db)
        await #expect(
            throws: StoreError.unavailable(
                "\(path): schema version 99 is newer than this program's \(SQLiteStore.schemaVersion)")
        ) {
            _ = try await SQLiteStore.open(path: path)
        }
    }

    @Test("an unopenable path says which and why")
    func unopenable() async throws {
        await #expect(throws: StoreError.self) {
            _ = try await SQLiteStore.open(path: "/nonexistent-dir/x/store.sqlite3")
        }
    }

    @Test("two stores on one file (two processes) keep the SMS limit together")
    func twoConnections() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/store.sqlite3"
        let one = try await SQLiteStore.open(path: path)
        let two = try await SQLiteStore.open(path: path)
        let account = try await one.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let now = Date()
        let results = try await withThrowingTaskGroup(of: SMSReservation.self) { group in
            for i in 0..<30 {
                let store = i % 2 == 0 ? one : two
                group.addTask {
                    try await store.reserveSMS(
                        SMSRequest(
                            account: account.id, callID: "call-\(i)", step: 0, from: "1",
                            to: "2", message: "m", dailyLimit: 10, time: now))
                }
            }
            var all: [SMSReservation] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.filter { if case .reserved = $0 { true } else { false } }.count == 10)
        #expect(try await two.currentVersion() == one.currentVersion())
    }
}

func scalar(_ db: OpaquePointer?, _ sql: String) -> String? {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { return nil }
    defer { sqlite3_finalize(statement) }
    guard sqlite3_step(statement) == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { return nil }
    return String(cString: text)
}
