// The embedded store: one SQLite file in WAL mode (readers do not wait for the writer; several processes may
// open it), write transactions taken with BEGIN IMMEDIATE (the write lock first, so two writers never both read
// and then both write), a 10 s busy timeout for other processes' transactions.

import CSQLite
import Foundation

/// The ``Store`` in one SQLite file.
public typealias SQLiteStore = SQLStore<SQLiteDatabase>

extension SQLStore where Database == SQLiteDatabase {
    /// Opens (creating if needed) the store at `path` and applies the missing migrations. The file is made
    /// readable by its owner only (it holds key hashes and recordings).
    public static func open(path: String) async throws(StoreError) -> SQLiteStore {
        let database = try SQLiteDatabase(path: path)
        return try await SQLStore(database: database, location: path)
    }
}

/// One SQLite connection, one transaction at a time (an async lock orders them; waiting tasks do not block
/// threads). Statements are prepared once and kept (`StatementCache`): the store's SQL is a fixed set of texts.
public final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    public var dialect: SQLDialect { .sqlite }
    /// The file.
    public let path: String
    private let db: OpaquePointer
    private let lock = AsyncLock()
    /// Used only while `lock` is held.
    private let statements = StatementCache()

    init(path: String) throws(StoreError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let existed = FileManager.default.fileExists(atPath: path)
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw .unavailable("\(path): cannot open (\(reason))")
        }
        db = handle
        if !existed { chmod(path, 0o600) }
        sqlite3_busy_timeout(db, 10_000)
        do {
            for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"] {
                _ = try SQLiteTransaction(db: db, path: path).execute(pragma, [])
            }
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
    }

    deinit {
        statements.finalizeAll()
        sqlite3_close_v2(db)
    }

    public func transaction<T: Sendable>(
        readOnly: Bool, _ body: (any SQLTransaction) async throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let begin = readOnly ? "BEGIN" : "BEGIN IMMEDIATE"
        await lock.lock()
        defer { lock.unlock() }
        let tx = SQLiteTransaction(db: db, path: path, statements: statements)
        _ = try tx.execute(begin, [])
        do {
            let result = try await body(tx)
            _ = try tx.execute("COMMIT", [])
            return result
        } catch {
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }
}

/// Prepared statements by their text (as the store writes it, with `$N`), kept for the connection's life: the
/// store's SQL is a fixed set of texts, so preparing (parsing, planning, rewriting placeholders) happens once per
/// text instead of once per statement run. Bounded all the same: past `capacity` texts, statements are
/// prepared and finalized each time as before. Not thread-safe: its connection's lock orders the callers.
final class StatementCache {
    private var prepared: [String: OpaquePointer] = [:]
    let capacity = 512

    func statement(_ sql: String) -> OpaquePointer? { prepared[sql] }

    /// Keeps `statement` for `sql` if there is room; answers whether it did (else the caller finalizes it).
    func keep(_ statement: OpaquePointer, for sql: String) -> Bool {
        guard prepared.count < capacity else { return false }
        prepared[sql] = statement
        return true
    }

    func finalizeAll() {
        for statement in prepared.values { sqlite3_finalize(statement) }
        prepared.removeAll()
    }
}

/// Statements on the connection inside a transaction.
struct SQLiteTransaction: SQLTransaction {
    let db: OpaquePointer
    let path: String
    /// Where prepared statements are kept (nil: each is finalized after its run).
    var statements: StatementCache? = nil

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        try execute(sql, binds)
    }

    /// `$N` placeholders become SQLite's `?N` (the store writes no `$` elsewhere in its SQL).
    static func sqliteSQL(_ sql: String) -> String {
        guard sql.contains("$") else { return sql }
        var out = ""
        var chars = sql.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            guard c == "$" else {
                out.append(c)
                continue
            }
            var digits = ""
            while let d = chars.next() {
                if d.isASCII, d.isNumber {
                    digits.append(d)
                } else {
                    pending = d
                    break
                }
            }
            out += digits.isEmpty ? "$" : "?" + digits
        }
        return out
    }

    func execute(_ sql: String, _ binds: [SQLValue]) throws(StoreError) -> [SQLRow] {
        let statement: OpaquePointer
        let kept: Bool
        if let cached = statements?.statement(sql) {
            statement = cached
            kept = true
        } else {
            var prepared: OpaquePointer?
            guard sqlite3_prepare_v2(db, Self.sqliteSQL(sql), -1, &prepared, nil) == SQLITE_OK, let prepared else {
                throw failure()
            }
            statement = prepared
            kept = statements?.keep(prepared, for: sql) ?? false
        }
        defer {
            if kept {
                // Ready for the next run, holding no values and (reset) no lock on the database.
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            } else {
                sqlite3_finalize(statement)
            }
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, value) in binds.enumerated() {
            let index = Int32(i + 1)
            guard index <= sqlite3_bind_parameter_count(statement) else { break }
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let n): rc = sqlite3_bind_int64(statement, index, n)
            case .text(let s): rc = sqlite3_bind_text(statement, index, s, -1, transient)
            case .blob(let b):
                rc = b.withUnsafeBytes { raw in
                    // A zero-length blob is still a blob (not NULL): zeroblob(0).
                    raw.baseAddress.map { sqlite3_bind_blob64(statement, index, $0, UInt64(raw.count), transient) }
                        ?? sqlite3_bind_zeroblob(statement, index, 0)
                }
            }
            guard rc == SQLITE_OK else { throw failure() }
        }
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure() }
            var row: [SQLValue] = []
            let count = sqlite3_column_count(statement)
            row.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_NULL: row.append(.null)
                case SQLITE_BLOB:
                    let size = Int(sqlite3_column_bytes(statement, column))
                    if size > 0, let base = sqlite3_column_blob(statement, column) {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: base, count: size))))
                    } else {
                        row.append(.blob([]))
                    }
                default:
                    if let text = sqlite3_column_text(statement, column) {
                        let size = Int(sqlite3_column_bytes(statement, column))
                        row.append(
                            .text(String(decoding: UnsafeBufferPointer(start: text, count: size), as: UTF8.self)))
                    } else {
                        row.append(.null)
                    }
                }
            }
            rows.append(SQLRow(row))
        }
        return rows
    }

    func failure() -> StoreError {
        let code = sqlite3_errcode(db)
        let message = String(cString: sqlite3_errmsg(db))
        if code == SQLITE_CONSTRAINT { return .duplicate(message) }
        return .unavailable("\(path): \(message)")
    }
}

/// A lock for tasks: `lock()` suspends (without holding a thread) until the lock is free; first come, first
/// served.
final class AsyncLock: @unchecked Sendable {
    private let mutex = NSLock()
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    func lock() async {
        // A free lock is taken without a continuation (no allocation, no suspension).
        let taken = mutex.withLock { () -> Bool in
            guard !locked else { return false }
            locked = true
            return true
        }
        if taken { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = mutex.withLock { () -> Bool in
                if !locked {
                    locked = true
                    return true
                }
                waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    func unlock() {
        mutex.lock()
        if head < waiters.count {
            let next = waiters[head]
            head += 1
            if head > 64, head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            mutex.unlock()
            next.resume()  // the lock passes to it, still locked
        } else {
            waiters.removeAll(keepingCapacity: true)
            head = 0
            locked = false
            mutex.unlock()
        }
    }
}
