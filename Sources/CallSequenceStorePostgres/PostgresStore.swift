// The store on PostgreSQL (for several `callseq serve` nodes on one database): the same SQL and rules as the
// SQLite store (CallSequenceStore's SQLStore), over a postgres-nio connection pool. Every new version is sent
// with NOTIFY for the nodes' change feeds (PostgresChangeFeed).
//
// Every connection starts with `lock_timeout` (5 s: a change never waits forever behind another node's lock),
// `idle_in_transaction_session_timeout` (30 s: a node that died mid-transaction releases its locks) and
// `statement_timeout` (60 s). Changes run in READ COMMITTED transactions; reads in REPEATABLE READ READ ONLY
// ones (one consistent view for a multi-statement read such as an export). Text columns use COLLATE "C", so
// lists and exports are in the same order as on SQLite.

import CallSequenceStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The `Store` on PostgreSQL.
public typealias PostgresStore = SQLStore<PostgresDatabase>

extension SQLStore where Database == PostgresDatabase {
    /// Connects to `url` (see ``PostgresDatabase/Location/init(url:)``), applies the missing migrations and
    /// answers the store. A server that does not answer within `timeout` is an error. Call
    /// `database.shutdown()` when done.
    public static func connect(
        url: String, timeout: Duration = .seconds(20),
        logger: Logger = Logger(label: "callseq.store", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws(StoreError) -> PostgresStore {
        let location = try PostgresDatabase.Location(url: url)
        let database = PostgresDatabase(location: location, logger: logger)
        do {
            try await database.check(timeout: timeout)
            let store = try await SQLStore(database: database, location: location.description)
            // Every new version is also sent with NOTIFY (PostgresChangeFeed).
            try await PostgresChangeFeed.installTrigger(database)
            return store
        } catch {
            await database.shutdown()
            throw error
        }
    }
}

/// A PostgreSQL connection pool the store runs its transactions on.
public final class PostgresDatabase: SQLDatabase, Sendable {
    /// Where the database is.
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        /// A unix socket path (`DIR/.s.PGSQL.PORT`), or nil for TCP.
        public var socketPath: String?
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String

        /// Reads `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (`postgresql://` too). A unix socket is named
        /// as libpq does: `postgres://USER@/DATABASE?host=/run/postgresql&port=5432` (the socket
        /// `/run/postgresql/.s.PGSQL.5432`). No TLS: use a socket or a private network.
        public init(url: String) throws(StoreError) {
            guard url.utf8.count <= 2048, let c = URLComponents(string: url),
                c.scheme == "postgres" || c.scheme == "postgresql"
            else {
                throw .invalid("'\(url.prefix(80))' is not a postgres:// URL")
            }
            let query = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            port = c.port ?? query["port"].flatMap { Int($0) } ?? 5432
            guard (1...65535).contains(port) else { throw .invalid("postgres URL: port \(port) is out of range") }
            user = c.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
            password = c.password.flatMap { $0.removingPercentEncoding }
            let name = String(c.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
            database = name.isEmpty ? user : name
            if let dir = query["host"], dir.hasPrefix("/") {
                socketPath = dir + "/.s.PGSQL.\(port)"
                host = dir
            } else {
                socketPath = nil
                host = c.host ?? "localhost"
                guard !host.isEmpty else { throw .invalid("postgres URL: no host (for a unix socket add ?host=/DIR)") }
            }
        }

        /// The URL without the password.
        public var description: String {
            if socketPath != nil { return "postgres://\(user)@/\(database)?host=\(host)&port=\(port)" }
            return "postgres://\(user)@\(host):\(port)/\(database)"
        }
    }

    public var dialect: SQLDialect { .postgres }
    public let location: Location
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    init(location: Location, logger: Logger) {
        self.location = location
        self.logger = logger
        var configuration: PostgresClient.Configuration = location.configuration()
        configuration.options.additionalStartupParameters = location.startupParameters(
            statementTimeout: "60s", application: "callseq")
        configuration.options.maximumConnections = 16
        configuration.options.connectionIdleTimeout = .seconds(60)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Closes the pool's connections.
    public func shutdown() async {
        runner.cancel()
        _ = await runner.value
    }

    /// Runs `SELECT 1`, or throws when the server has not answered within `timeout` (the pool itself keeps
    /// retrying a server that is down).
    func check(timeout: Duration) async throws(StoreError) {
        let description = location.description
        let outcome = await withTaskGroup(of: StoreError?.self) { group in
            group.addTask {
                do throws(StoreError) {
                    _ = try await self.read { tx throws(StoreError) in try await tx.query("SELECT 1", []) }
                    return nil
                } catch {
                    return error
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .unavailable("\(description): no answer within \(timeout)")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let outcome { throw outcome }
    }

    public func transaction<T: Sendable>(
        readOnly: Bool, _ body: (any SQLTransaction) async throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let begin = readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN"
        let logger = self.logger
        let where_ = location.description
        let outcome: Result<T, StoreError>
        do {
            outcome = try await client.withConnection { connection async throws -> Result<T, StoreError> in
                let tx = PostgresTransaction(connection: connection, logger: logger, location: where_)
                _ = try await tx.execute(begin, [])
                let result: Result<T, StoreError>
                do throws(StoreError) {
                    result = .success(try await body(tx))
                } catch {
                    result = .failure(error)
                }
                switch result {
                case .success: _ = try await tx.execute("COMMIT", [])
                case .failure: _ = try await tx.execute("ROLLBACK", [])
                }
                return result
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw PostgresTransaction.storeError(error, location: where_)
        }
        return try outcome.get()
    }
}

/// postgres-nio's two configurations, a pool's and a single connection's, made alike so that one function
/// fills either from a ``PostgresDatabase/Location``.
protocol PostgresServerConfiguration {
    associatedtype TLS
    /// No TLS (a unix socket or a private network: see ``PostgresDatabase/Location/init(url:)``).
    static var withoutTLS: TLS { get }
    init(host: String, port: Int, username: String, password: String?, database: String?, tls: TLS)
    init(unixSocketPath: String, username: String, password: String?, database: String?)
}

extension PostgresClient.Configuration: PostgresServerConfiguration {
    static var withoutTLS: TLS { .disable }
}

extension PostgresConnection.Configuration: PostgresServerConfiguration {
    static var withoutTLS: TLS { .disable }
}

extension PostgresDatabase.Location {
    /// The server, user and database of a pool's or a connection's configuration.
    func configuration<Configuration: PostgresServerConfiguration>() -> Configuration {
        if let socketPath {
            return Configuration(unixSocketPath: socketPath, username: user, password: password, database: database)
        }
        return Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: Configuration.withoutTLS)
    }

    /// The session settings of every connection the store and its change feed open: a lock is waited on 5 s at
    /// the most, a transaction left idle is ended after 30 s, a statement after `statementTimeout`; the
    /// application name shows in `pg_stat_activity`.
    func startupParameters(statementTimeout: String, application: String) -> [(String, String)] {
        [
            ("lock_timeout", "5s"),
            ("idle_in_transaction_session_timeout", "30s"),
            ("statement_timeout", statementTimeout),
            ("application_name", application),
        ]
    }
}

/// Statements on one leased connection inside a transaction.
struct PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let logger: Logger
    let location: String

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        do {
            return try await execute(sql, binds)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, location: location)
        }
    }

    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let n): bindings.append(n)
            case .text(let s): bindings.append(s)
            case .blob(let b): bindings.append(ByteBuffer(bytes: b))
            }
        }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var out: [SQLRow] = []
        for try await row in rows {
            var values: [SQLValue] = []
            for cell in row {
                values.append(try Self.value(cell))
            }
            out.append(SQLRow(values))
        }
        return out
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
        case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
        default: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        }
    }

    /// A postgres-nio error as a store error: a unique violation is a duplicate; a lock timeout, a lost
    /// connection and the rest are the store being unavailable, with the server's message.
    static func storeError(_ error: any Error, location: String) -> StoreError {
        guard let error = error as? PSQLError else { return .unavailable("\(location): \(error)") }
        let state = error.serverInfo?[.sqlState]
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        switch state {
        case "23505": return .duplicate(message)
        case "55P03": return .unavailable("\(location): lock timeout (another change holds the row): \(message)")
        default: return .unavailable("\(location): \(message)")
        }
    }
}
