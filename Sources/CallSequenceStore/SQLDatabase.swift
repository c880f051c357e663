// The little the store needs of a SQL database, so that one implementation of the store's rules (SQLStore)
// serves SQLite and PostgreSQL: transactions, statements with numbered parameters, rows of four kinds of value.
//
// Statements are written once with PostgreSQL's `$1, $2...` placeholders; the SQLite driver rewrites them to
// SQLite's `?1, ?2...` (same numbering). Both dialects support what the store writes: `ON CONFLICT`,
// `RETURNING`, `LIMIT`. Integers are 64-bit, booleans are stored as 0/1 integers, times as milliseconds since
// 1970 (UTC), bytes as BLOB/bytea.

/// A SQL value.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// A row, by column position.
public struct SQLRow: Sendable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    func value(_ i: Int) -> SQLValue { i < values.count ? values[i] : .null }

    func int(_ i: Int) throws(StoreError) -> Int64 {
        guard case .integer(let n) = value(i) else { throw StoreError.unavailable("column \(i): expected an integer") }
        return n
    }

    func intValue(_ i: Int) throws(StoreError) -> Int { Int(truncatingIfNeeded: try int(i)) }

    func optionalInt(_ i: Int) throws(StoreError) -> Int64? {
        if case .null = value(i) { return nil }
        return try int(i)
    }

    func bool(_ i: Int) throws(StoreError) -> Bool { try int(i) != 0 }

    func text(_ i: Int) throws(StoreError) -> String {
        switch value(i) {
        case .text(let s): return s
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        default: throw StoreError.unavailable("column \(i): expected text")
        }
    }

    func optionalText(_ i: Int) throws(StoreError) -> String? {
        if case .null = value(i) { return nil }
        return try text(i)
    }

    func blob(_ i: Int) throws(StoreError) -> [UInt8] {
        switch value(i) {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        case .null: return []
        default: throw StoreError.unavailable("column \(i): expected bytes")
        }
    }
}

/// Which SQL the store writes where the two databases differ.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// Statements inside one transaction.
public protocol SQLTransaction {
    /// Runs one statement and answers its rows (none for statements without `RETURNING`).
    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow]
}

extension SQLTransaction {
    /// Runs one statement, ignoring rows.
    func run(_ sql: String, _ binds: [SQLValue] = []) async throws(StoreError) {
        _ = try await query(sql, binds)
    }

    /// The first row, or nil.
    func first(_ sql: String, _ binds: [SQLValue] = []) async throws(StoreError) -> SQLRow? {
        try await query(sql, binds).first
    }
}

/// A database the store can run transactions on.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in one transaction, committing when it returns and rolling back when it throws. Read-only: one
    /// consistent view (PostgreSQL: REPEATABLE READ READ ONLY). Else a write: the write lock taken first where
    /// the database has one (SQLite: BEGIN IMMEDIATE); READ COMMITTED on PostgreSQL.
    func transaction<T: Sendable>(
        readOnly: Bool, _ body: (any SQLTransaction) async throws(StoreError) -> T
    ) async throws(StoreError) -> T
}

extension SQLDatabase {
    /// Runs `body` in one write transaction (``transaction(readOnly:_:)``).
    public func transaction<T: Sendable>(
        _ body: (any SQLTransaction) async throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try await transaction(readOnly: false, body)
    }

    /// Runs `body` in a read-only transaction (one consistent view).
    public func read<T: Sendable>(
        _ body: (any SQLTransaction) async throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try await transaction(readOnly: true, body)
    }
}

extension SQLValue {
    static func bool(_ b: Bool) -> SQLValue { .integer(b ? 1 : 0) }
    static func int(_ n: Int) -> SQLValue { .integer(Int64(n)) }
    static func optionalText(_ s: String?) -> SQLValue { s.map(SQLValue.text) ?? .null }
}
