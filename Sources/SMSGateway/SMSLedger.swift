// The texts ledger: one SQLite database (`sms-ledger.sqlite3` in the state directory) that makes the daily
// limit hold across concurrent sends, runs and restarts, and keeps every text at most once.
//
// Each text is a row. Before the request leaves, one transaction counts the account's texts of the UTC day
// (pending, sent and unknown count; failed do not) and, under the limit, inserts the text as `pending`:
// `BEGIN IMMEDIATE` takes SQLite's write lock first, so two processes cannot both see room for one more. The
// answer moves the row to `sent`, `failed` (which frees its place) or `unknown`, in one transaction: the
// count is the rows, so the count and the state change together. A `pending` row whose process is gone
// (a crash or kill -9 mid-request) becomes `unknown` when the ledger is next opened, and is never sent again.

import CSQLite
import Foundation
import SMSText

/// The ledger of texts: pending, sent, failed or unknown, per account and UTC day; safe to use from any
/// thread and from several processes at once.
public final class SMSLedger: @unchecked Sendable {
    /// A text's state.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Recorded before the request left; no answer yet.
        case pending
        /// The provider accepted it.
        case sent
        /// It was certainly not sent.
        case failed
        /// It may have been sent: never sent again.
        case unknown

        /// Whether the text counts against the daily limit.
        public var counts: Bool { self != .failed }
    }

    /// One text in the ledger.
    public struct Entry: Sendable, Hashable {
        /// Its number in the ledger.
        public var id: Int64
        /// The account's key.
        public var account: String
        /// The UTC day it counts on, `YYYY-MM-DD`.
        public var day: String
        /// When it was recorded and last changed (ISO 8601, UTC).
        public var created: String
        /// When its state last changed.
        public var updated: String
        /// Sending and receiving numbers.
        public var from: String
        /// The receiving number.
        public var to: String
        /// The text.
        public var message: String
        /// `GSM-7` or `UCS-2`, and the units it took.
        public var encoding: String
        /// Septets or UCS-2 units.
        public var units: Int
        /// Its state.
        public var state: State
        /// Requests made.
        public var attempts: Int
        /// The provider's id, once sent.
        public var providerID: String?
        /// Why it failed or is unknown (never a credential: provider text is scrubbed and escaped first).
        public var detail: String?
    }

    /// The result of ``reserve(_:account:at:)``.
    public enum Reservation: Sendable, Hashable {
        /// Recorded as pending with this id: send it, then call ``finish(_:state:attempts:providerID:detail:at:)``.
        case reserved(Int64)
        /// The account's limit for the day is reached (`count` texts counted); recorded as failed.
        case limitReached(count: Int)
    }

    /// The database's file name in the state directory.
    public static let fileName = "sms-ledger.sqlite3"

    /// The database file, or `:memory:`.
    public let path: String
    /// Texts found pending when the ledger was opened whose process had ended: now unknown.
    public private(set) var recoveredAtOpen: [Entry] = []

    private let lock = NSLock()
    private let db: OpaquePointer

    /// Opens (or creates) the ledger in `directory`, creating the directory (mode 0700) if needed, and turns
    /// the pending texts of processes that have ended into unknown ones.
    ///
    /// - Throws: ``SMSLedgerError`` naming the file and SQLite's reason.
    public convenience init(directory: String) throws(SMSLedgerError) {
        try Self.makeDirectory(directory)
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        try self.init(path: path)
        chmod(path, 0o600)
    }

    /// A ledger in memory, for one process (tests, or a host that keeps none).
    public static func inMemory() throws(SMSLedgerError) -> SMSLedger { try SMSLedger(path: ":memory:") }

    private init(path: String) throws(SMSLedgerError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SMSLedgerError("\(path): cannot open the SMS ledger (\(reason))")
        }
        db = handle
        sqlite3_busy_timeout(db, 10_000)  // wait up to 10 s for another process's transaction
        try withLock {
            try transaction {
                try execute(
                    """
                    CREATE TABLE IF NOT EXISTS texts (
                        id INTEGER PRIMARY KEY,
                        account TEXT NOT NULL,
                        day TEXT NOT NULL,
                        created TEXT NOT NULL,
                        updated TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        message TEXT NOT NULL,
                        encoding TEXT NOT NULL,
                        units INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'unknown')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        provider_id TEXT,
                        detail TEXT,
                        pid INTEGER NOT NULL
                    );
                    CREATE INDEX IF NOT EXISTS texts_by_account_day ON texts (account, day, state);
                    """)
                recoveredAtOpen = try recoverInterrupted(at: SMSLedger.timestamp(Date()))
            }
        }
    }

    deinit { sqlite3_close_v2(db) }

    // MARK: - Recording texts

    /// Checks the account's count for the day of `date` and, under its limit, records `message` as pending;
    /// at the limit, records it as failed. One transaction, under SQLite's write lock.
    public func reserve(
        _ message: SMSMessage, account: SMSAccount,
        at date: Date
    ) throws(SMSLedgerError) -> Reservation {
        let day = Self.day(date)
        let now = Self.timestamp(date)
        let length = message.length
        return try withLock {
            try transaction {
                let count = try countLocked(account: account.key, day: day)
                let full = count >= account.dailyLimit
                let id = try insert(
                    account: account.key, day: day, now: now, message: message, length: length,
                    state: full ? .failed : .pending,
                    detail: full ? "daily limit of \(account.dailyLimit) reached: not sent" : nil)
                return full ? .limitReached(count: count) : .reserved(id)
            }
        }
    }

    /// Records the outcome of text `id`.
    public func finish(
        _ id: Int64, state: State, attempts: Int, providerID: String? = nil, detail: String? = nil,
        at date: Date
    ) throws(SMSLedgerError) {
        let now = Self.timestamp(date)
        try withLock {
            try transaction {
                try run(
                    "UPDATE texts SET state = ?1, attempts = ?2, provider_id = ?3, detail = ?4, updated = ?5 "
                        + "WHERE id = ?6",
                    [
                        .text(state.rawValue), .integer(Int64(attempts)), providerID.map(Value.text) ?? .null,
                        detail.map(Value.text) ?? .null, .text(now), .integer(id),
                    ])
            }
        }
    }

    /// Texts counted against `account` on the UTC day of `date`: pending, sent and unknown.
    public func count(account: String, at date: Date) throws(SMSLedgerError) -> Int {
        try withLock { try countLocked(account: account, day: Self.day(date)) }
    }

    /// The newest `limit` texts, oldest first.
    public func entries(limit: Int = 1000) throws(SMSLedgerError) -> [Entry] {
        try withLock {
            try query(
                """
                SELECT * FROM (SELECT id, account, day, created, updated, sender, recipient, message, encoding, units,
                    state, attempts, provider_id, detail FROM texts ORDER BY id DESC LIMIT ?1) ORDER BY id
                """, [.integer(Int64(max(0, limit)))]
            ).compactMap(Self.entry)
        }
    }

    // MARK: - Internals (called with the lock held)

    private func countLocked(account: String, day: String) throws(SMSLedgerError) -> Int {
        let rows = try query(
            "SELECT COUNT(*) FROM texts WHERE account = ?1 AND day = ?2 AND state != 'failed'",
            [.text(account), .text(day)])
        guard case .integer(let n)? = rows.first?.first else { return 0 }
        return Int(n)
    }

    private func insert(
        account: String, day: String, now: String, message: SMSMessage, length: SMSLength,
        state: State, detail: String?
    ) throws(SMSLedgerError) -> Int64 {
        try run(
            """
            INSERT INTO texts (account, day, created, updated, sender, recipient, message, encoding, units, state,
                attempts, detail, pid) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11)
            """,
            [
                .text(account), .text(day), .text(now), .text(message.from), .text(message.to),
                .text(message.message),
                .text(length.encoding.rawValue), .integer(Int64(length.units)), .text(state.rawValue),
                detail.map(Value.text) ?? .null, .integer(Int64(getpid())),
            ])
        return sqlite3_last_insert_rowid(db)
    }

    /// Pending texts whose process has ended (kill(pid, 0) says ESRCH) become unknown.
    private func recoverInterrupted(at now: String) throws(SMSLedgerError) -> [Entry] {
        let pending = try query("SELECT id, pid FROM texts WHERE state = 'pending'", [])
        var recovered: [Int64] = []
        for row in pending {
            guard row.count == 2, case .integer(let id) = row[0], case .integer(let pid) = row[1] else { continue }
            guard let pid = Int32(exactly: pid), pid > 0 else {
                recovered.append(id)
                continue
            }
            if kill(pid, 0) != 0 && errno == ESRCH { recovered.append(id) }
        }
        for id in recovered {
            try run(
                "UPDATE texts SET state = 'unknown', updated = ?1, detail = ?2 WHERE id = ?3 AND state = 'pending'",
                [
                    .text(now),
                    .text("found pending at start-up: the run sending it ended mid-request; not sent again"),
                    .integer(id),
                ])
        }
        guard !recovered.isEmpty else { return [] }
        let list = recovered.map(String.init).joined(separator: ",")
        return try query(
            """
            SELECT id, account, day, created, updated, sender, recipient, message, encoding, units, state, attempts,
                provider_id, detail FROM texts WHERE id IN (\(list)) ORDER BY id
            """, []
        ).compactMap(Self.entry)
    }

    private static func entry(_ row: [Value]) -> Entry? {
        guard row.count == 14, case .text(let account) = row[1], case .text(let day) = row[2],
            case .text(let created) = row[3], case .text(let updated) = row[4], case .text(let from) = row[5],
            case .text(let to) = row[6], case .text(let message) = row[7], case .text(let encoding) = row[8],
            case .integer(let id) = row[0], case .integer(let units) = row[9], case .text(let stateName) = row[10],
            let state = State(rawValue: stateName), case .integer(let attempts) = row[11]
        else { return nil }
        var providerID: String?
        var detail: String?
        if case .text(let p) = row[12] { providerID = p }
        if case .text(let d) = row[13] { detail = d }
        return Entry(
            id: id, account: account, day: day, created: created, updated: updated, from: from, to: to,
            message: message, encoding: encoding, units: Int(clamping: units), state: state,
            attempts: Int(clamping: attempts), providerID: providerID, detail: detail)
    }

    // MARK: - SQLite

    enum Value: Sendable, Hashable {
        case null
        case integer(Int64)
        case text(String)
    }

    private func withLock<T>(_ body: () throws -> T) throws(SMSLedgerError) -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body()
        } catch let error as SMSLedgerError {
            throw error
        } catch {
            throw SMSLedgerError("\(path): \(error)")
        }
    }

    /// Runs `body` in `BEGIN IMMEDIATE ... COMMIT` (write lock taken first), rolling back on error.
    private func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    private func execute(_ sql: String) throws(SMSLedgerError) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure() }
    }

    private func run(_ sql: String, _ values: [Value]) throws(SMSLedgerError) {
        _ = try query(sql, values)
    }

    private func query(_ sql: String, _ values: [Value]) throws(SMSLedgerError) -> [[Value]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw failure() }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let n): rc = sqlite3_bind_int64(statement, index, n)
            case .text(let s): rc = sqlite3_bind_text(statement, index, s, -1, transient)
            }
            guard rc == SQLITE_OK else { throw failure() }
        }
        var rows: [[Value]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure() }
            var row: [Value] = []
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_NULL: row.append(.null)
                default:
                    if let text = sqlite3_column_text(statement, column) {
                        row.append(.text(String(cString: text)))
                    } else {
                        row.append(.null)
                    }
                }
            }
            rows.append(row)
        }
        return rows
    }

    private func failure() -> SMSLedgerError {
        SMSLedgerError("\(path): \(String(cString: sqlite3_errmsg(db)))")
    }

    // MARK: - Time and files

    /// The UTC day of `date`: `YYYY-MM-DD`.
    public static func day(_ date: Date) -> String { String(timestamp(date).prefix(10)) }

    /// `date` in ISO 8601, UTC, to the second: `2025-06-01T13:40:02Z`.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func makeDirectory(_ directory: String) throws(SMSLedgerError) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw SMSLedgerError("\(directory): cannot create the state directory")
        }
    }
}

/// The ledger cannot be opened or written.
public struct SMSLedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file and SQLite's reason, in one line.
    public let description: String
    init(_ description: String) { self.description = description }
}
