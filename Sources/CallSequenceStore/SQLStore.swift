// The store's rules over any SQLDatabase: written once, run on SQLite (SQLiteStore) and PostgreSQL
// (PostgresStore). Each public method is one transaction; each change bumps the change version and writes its
// audit entry in that transaction.

import CallSequenceModel
import Foundation
import TelephonyDSP

/// The ``Store`` over a SQL database. Use `SQLiteStore.open(path:)` or `PostgresStore.connect(url:)`.
public final class SQLStore<Database: SQLDatabase>: Store {
    /// The database.
    public let database: Database
    /// Where the store lives, for messages (a path or a URL without its password).
    public let location: String

    /// A store over `database`; applies the missing migrations first.
    public init(database: Database, location: String) async throws(StoreError) {
        self.database = database
        self.location = location
        try await migrate()
    }

    var dialect: SQLDialect { database.dialect }

    // MARK: - Migrations

    /// The schema version the code knows.
    public static var schemaVersion: Int { Schema.migrations(.sqlite).count }

    /// The schema version the database holds.
    public func appliedSchemaVersion() async throws(StoreError) -> Int {
        try await database.read { tx throws(StoreError) in
            try await tx.first("SELECT MAX(version) FROM schema_version")?.optionalInt(0).map(Int.init) ?? 0
        }
    }

    func migrate() async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            // PostgreSQL's IF NOT EXISTS is not safe against a concurrent creator: nodes take turns.
            if self.dialect == .postgres { try await tx.run("SELECT pg_advisory_xact_lock(7265437281)") }
            try await tx.run(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied BIGINT NOT NULL)")
        }
        let migrations = Schema.migrations(dialect)
        for (index, migration) in migrations.enumerated() {
            let version = index + 1
            try await database.transaction { tx throws(StoreError) in
                if self.dialect == .postgres {
                    // One node migrates; the others wait here, then see the version applied.
                    try await tx.run("SELECT pg_advisory_xact_lock(7265437281)")
                }
                let applied = try await tx.first("SELECT MAX(version) FROM schema_version")?.optionalInt(0) ?? 0
                guard applied < version else { return }
                for statement in Self.statements(migration) { try await tx.run(statement) }
                try await tx.run(
                    "INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
                    [.int(version), .integer(StoreRules.milliseconds(Date()))])
            }
        }
        let applied = try await appliedSchemaVersion()
        if applied > migrations.count {
            throw .unavailable(
                "\(location): schema version \(applied) is newer than this program's \(migrations.count)")
        }
    }

    /// The statements of a migration (each ends with `;` at the end of a line).
    static func statements(_ script: String) -> [String] {
        script.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty }
    }

    // MARK: - Shared pieces

    static func now() -> Int64 { StoreRules.milliseconds(Date()) }

    /// Bumps the change version and writes the audit entry.
    func changed(
        _ tx: any SQLTransaction, _ origin: ChangeOrigin, account: AccountID?, action: String,
        target: String, revision: Int? = nil, time: Int64
    ) async throws(StoreError) {
        try await tx.run("UPDATE change_version SET version = version + 1 WHERE id = 1")
        try StoreRules.text(origin.address, "the address", limit: 200)
        try await tx.run(
            """
            INSERT INTO audit (time, account, key_id, address, action, target, revision)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            [
                .integer(time), .optionalText(account), .optionalText(origin.keyID), .text(origin.address),
                .text(action), .text(target), revision.map(SQLValue.int) ?? .null,
            ])
    }

    /// A page from rows read with `LIMIT limit + 1`.
    static func page<T>(
        _ rows: [SQLRow], _ request: PageRequest, cursor: (SQLRow) throws(StoreError) -> String,
        item: (SQLRow) throws(StoreError) -> T
    ) throws(StoreError) -> Page<T> {
        var items: [T] = []
        for row in rows.prefix(request.limit) { items.append(try item(row)) }
        let next = rows.count > request.limit ? try cursor(rows[request.limit - 1]) : nil
        return Page(items: items, next: next)
    }

    /// A text cursor (the last key of the previous page), bounded.
    static func textCursor(_ request: PageRequest) throws(StoreError) -> String? {
        guard let cursor = request.cursor else { return nil }
        guard cursor.utf8.count <= 300 else { throw .invalid("the cursor is not one this store made") }
        return cursor
    }

    /// An integer cursor (the last id of the previous page of a newest-first log).
    static func integerCursor(_ request: PageRequest) throws(StoreError) -> Int64 {
        guard let cursor = request.cursor else { return Int64.max }
        guard let n = Int64(cursor), n > 0 else { throw .invalid("the cursor is not one this store made") }
        return n
    }

    static func limit(_ request: PageRequest) -> SQLValue { .int(request.limit + 1) }

    // MARK: - Change version

    public func currentVersion() async throws(StoreError) -> Int64 {
        try await database.read { tx throws(StoreError) in
            try await tx.first("SELECT version FROM change_version WHERE id = 1")?.int(0) ?? 0
        }
    }

    // MARK: - Accounts

    static var accountColumns: String {
        """
        a.id, a.name, a.kind, a.parent, a.package, a.sequences, a.sms, a.sms_daily_limit, a.revision, a.created,
        a.updated, p.sequences FROM accounts a LEFT JOIN packages p ON p.reseller = a.parent AND p.name = a.package
        """
    }

    static func accountRecord(_ row: SQLRow) throws(StoreError) -> AccountRecord {
        let kindName = try row.text(2)
        let kind: AccountKind
        var capabilities = StoreCapabilities(
            sequences: try row.bool(5), sms: try row.bool(6),
            smsDailyLimit: try row.intValue(7))
        switch kindName {
        case "reseller": kind = .reseller
        case "client":
            kind = .client(parent: try row.optionalText(3) ?? "", package: try row.optionalText(4) ?? "")
            capabilities = StoreCapabilities(
                sequences: try row.optionalInt(11).map { $0 != 0 } ?? false, sms: false,
                smsDailyLimit: 0)
        default: kind = .direct
        }
        return AccountRecord(
            id: try row.text(0), name: try row.text(1), kind: kind, capabilities: capabilities,
            revision: try row.intValue(8), created: StoreRules.date(try row.int(9)),
            updated: StoreRules.date(try row.int(10)))
    }

    func readAccount(_ tx: any SQLTransaction, _ id: AccountID) async throws(StoreError) -> AccountRecord {
        guard let row = try await tx.first("SELECT \(Self.accountColumns) WHERE a.id = $1", [.text(id)]) else {
            throw .notFound("account \(id)")
        }
        return try Self.accountRecord(row)
    }

    static func checkCapabilities(_ c: StoreCapabilities) throws(StoreError) {
        guard (0...100_000).contains(c.smsDailyLimit) else {
            throw .invalid("smsDailyLimit \(c.smsDailyLimit) is out of range (0...100000)")
        }
    }

    func insertAccount(
        _ tx: any SQLTransaction, _ account: NewAccount, time: Int64
    ) async throws(StoreError) -> AccountID {
        _ = try StoreRules.name(account.name, "account")
        try Self.checkCapabilities(account.capabilities)
        let id = StoreRules.newID("acc_")
        var parent: AccountID?
        var package: String?
        if case .client(let p, let pkg) = account.kind {
            guard try await tx.first("SELECT 1 FROM accounts WHERE id = $1 AND kind = 'reseller'", [.text(p)]) != nil
            else {
                throw .notFound("reseller \(p)")
            }
            guard
                try await tx.first("SELECT 1 FROM packages WHERE reseller = $1 AND name = $2", [.text(p), .text(pkg)])
                    != nil
            else { throw .notFound("package \"\(pkg)\" of reseller \(p)") }
            parent = p
            package = pkg
        }
        let c = account.capabilities
        try await tx.run(
            """
            INSERT INTO accounts (id, name, kind, parent, package, sequences, sms, sms_daily_limit, revision, created,
                updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)
            """,
            [
                .text(id), .text(account.name), .text(account.kind.name), .optionalText(parent),
                .optionalText(package), .bool(c.sequences), .bool(parent == nil && c.sms), .int(c.smsDailyLimit),
                .integer(time),
            ])
        return id
    }

    public func createAccount(_ account: NewAccount, origin: ChangeOrigin) async throws(StoreError) -> AccountRecord {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let id = try await self.insertAccount(tx, account, time: time)
            try await self.changed(
                tx, origin, account: id, action: "account.create", target: id, revision: 1, time: time)
            return try await self.readAccount(tx, id)
        }
    }

    public func account(_ id: AccountID) async throws(StoreError) -> AccountRecord {
        try await database.read { tx throws(StoreError) in try await self.readAccount(tx, id) }
    }

    public func accounts(parent: AccountID?, page: PageRequest) async throws(StoreError) -> Page<AccountRecord> {
        let after = try Self.textCursor(page) ?? ""
        return try await database.read { tx throws(StoreError) in
            let rows: [SQLRow]
            if let parent {
                rows = try await tx.query(
                    "SELECT \(Self.accountColumns) WHERE a.parent = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
                    [.text(parent), .text(after), Self.limit(page)])
            } else {
                rows = try await tx.query(
                    "SELECT \(Self.accountColumns) WHERE a.id > $1 ORDER BY a.id LIMIT $2",
                    [.text(after), Self.limit(page)])
            }
            return try Self.page(
                rows, page, cursor: { row throws(StoreError) in try row.text(0) }, item: Self.accountRecord)
        }
    }

    /// Checks `expected` against the row's revision; answers the current revision.
    func checkRevision(
        _ tx: any SQLTransaction, _ sql: String, _ binds: [SQLValue], expected: Int,
        what: String
    ) async throws(StoreError) -> Int {
        guard let row = try await tx.first(sql, binds) else { throw .notFound(what) }
        let current = try row.intValue(0)
        guard current == expected else { throw .conflict(current: current) }
        return current
    }

    public func updateAccount(
        _ id: AccountID, _ change: AccountChange, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> AccountRecord {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let current = try await self.readAccount(tx, id)
            guard current.revision == expectedRevision else { throw .conflict(current: current.revision) }
            let name =
                try change.name.map { (n: String) throws(StoreError) in try StoreRules.name(n, "account") }
                ?? current.name
            var capabilities = current.capabilities
            var package: String?
            if case .client(let parent, let oldPackage) = current.kind {
                package = change.package ?? oldPackage
                if let package, package != oldPackage,
                    try await tx.first(
                        "SELECT 1 FROM packages WHERE reseller = $1 AND name = $2",
                        [.text(parent), .text(package)]) == nil
                {
                    throw .notFound("package \"\(package)\" of reseller \(parent)")
                }
            } else if let c = change.capabilities {
                try Self.checkCapabilities(c)
                capabilities = c
            } else if change.package != nil {
                throw .invalid("only a reseller's client has a package")
            }
            try await tx.run(
                """
                UPDATE accounts SET name = $2, package = $3, sequences = $4, sms = $5, sms_daily_limit = $6,
                    revision = revision + 1, updated = $7 WHERE id = $1
                """,
                [
                    .text(id), .text(name), .optionalText(package), .bool(capabilities.sequences),
                    .bool(capabilities.sms), .int(capabilities.smsDailyLimit), .integer(time),
                ])
            try await self.changed(
                tx, origin, account: id, action: "account.update", target: id,
                revision: expectedRevision + 1, time: time)
            return try await self.readAccount(tx, id)
        }
    }

    public func deleteAccount(_ id: AccountID, expectedRevision: Int, origin: ChangeOrigin) async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let current = try await self.readAccount(tx, id)
            guard current.revision == expectedRevision else { throw .conflict(current: current.revision) }
            let clients = try await tx.query(
                "SELECT id FROM accounts WHERE parent = $1 ORDER BY id LIMIT 20", [.text(id)])
            if !clients.isEmpty {
                var users: [String] = []
                for row in clients { users.append("account \(try row.text(0))") }
                throw .inUse(users: users)
            }
            try await self.deleteContents(tx, id)
            for table in ["api_keys", "packages"] {
                let column = table == "packages" ? "reseller" : "account"
                try await tx.run("DELETE FROM \(table) WHERE \(column) = $1", [.text(id)])
            }
            try await tx.run("DELETE FROM accounts WHERE id = $1", [.text(id)])
            try await self.changed(tx, origin, account: id, action: "account.delete", target: id, time: time)
        }
    }

    /// Deletes the account's numbers, IVRs, sequences (and revisions) and recordings.
    func deleteContents(_ tx: any SQLTransaction, _ id: AccountID) async throws(StoreError) {
        try await tx.run(
            "DELETE FROM sequence_revisions WHERE sequence IN (SELECT id FROM sequences WHERE account = $1)",
            [.text(id)])
        for table in ["numbers", "ivrs", "sequences", "recordings"] {
            try await tx.run("DELETE FROM \(table) WHERE account = $1", [.text(id)])
        }
    }

    public func putPackage(_ package: PackageRecord, origin: ChangeOrigin) async throws(StoreError) {
        _ = try StoreRules.name(package.name, "package")
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            guard
                try await tx.first(
                    "SELECT 1 FROM accounts WHERE id = $1 AND kind = 'reseller'",
                    [.text(package.reseller)]) != nil
            else {
                throw .notFound("reseller \(package.reseller)")
            }
            try await tx.run(
                """
                INSERT INTO packages (reseller, name, sequences) VALUES ($1, $2, $3)
                ON CONFLICT (reseller, name) DO UPDATE SET sequences = excluded.sequences
                """, [.text(package.reseller), .text(package.name), .bool(package.sequences)])
            try await self.changed(
                tx, origin, account: package.reseller, action: "package.put", target: package.name,
                time: time)
        }
    }

    public func packages(reseller: AccountID, page: PageRequest) async throws(StoreError) -> Page<PackageRecord> {
        let after = try Self.textCursor(page) ?? ""
        return try await database.read { tx throws(StoreError) in
            let rows = try await tx.query(
                """
                SELECT reseller, name, sequences FROM packages WHERE reseller = $1 AND name > $2 ORDER BY name LIMIT $3
                """, [.text(reseller), .text(after), Self.limit(page)])
            return try Self.page(rows, page, cursor: { row throws(StoreError) in try row.text(1) }) {
                row throws(StoreError) in
                PackageRecord(reseller: try row.text(0), name: try row.text(1), sequences: try row.bool(2))
            }
        }
    }

    // MARK: - API keys

    static var keyColumns: String { "id, account, is_operator, label, prefix, created, revoked FROM api_keys" }

    static func keyRecord(_ row: SQLRow) throws(StoreError) -> APIKeyRecord {
        APIKeyRecord(
            id: try row.text(0), account: try row.optionalText(1), isOperator: try row.bool(2),
            label: try row.text(3), prefix: try row.text(4), created: StoreRules.date(try row.int(5)),
            revoked: try row.optionalInt(6).map(StoreRules.date))
    }

    public func createKey(
        account: AccountID?, isOperator: Bool, label: String,
        origin: ChangeOrigin
    ) async throws(StoreError) -> CreatedAPIKey {
        guard account != nil || isOperator else {
            throw .invalid("a key needs an account unless it is an operator key")
        }
        try StoreRules.text(label, "the label", limit: StoreLimits.maximumNameLength)
        if let problem = InputText.problem(in: label) { throw .invalid("the label \(problem)") }
        return try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            if let account { _ = try await self.readAccount(tx, account) }
            let id = StoreRules.newID("key_")
            let secret = APIKeySecret.make()
            try await tx.run(
                """
                INSERT INTO api_keys (id, account, is_operator, label, prefix, hash, created, revoked)
                VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
                """,
                [
                    .text(id), .optionalText(account), .bool(isOperator), .text(label),
                    .text(APIKeySecret.prefix(secret)), .text(APIKeySecret.hash(secret)), .integer(time),
                ])
            try await self.changed(tx, origin, account: account, action: "key.create", target: id, time: time)
            let row = try await tx.first("SELECT \(Self.keyColumns) WHERE id = $1", [.text(id)])
            guard let row else { throw .unavailable("the key just made is missing") }
            return CreatedAPIKey(record: try Self.keyRecord(row), secret: secret)
        }
    }

    public func keys(account: AccountID?, page: PageRequest) async throws(StoreError) -> Page<APIKeyRecord> {
        let after = try Self.textCursor(page) ?? ""
        return try await database.read { tx throws(StoreError) in
            let rows: [SQLRow]
            if let account {
                rows = try await tx.query(
                    "SELECT \(Self.keyColumns) WHERE account = $1 AND id > $2 ORDER BY id LIMIT $3",
                    [.text(account), .text(after), Self.limit(page)])
            } else {
                rows = try await tx.query(
                    "SELECT \(Self.keyColumns) WHERE account IS NULL AND id > $1 ORDER BY id LIMIT $2",
                    [.text(after), Self.limit(page)])
            }
            return try Self.page(
                rows, page, cursor: { row throws(StoreError) in try row.text(0) }, item: Self.keyRecord)
        }
    }

    public func revokeKey(_ id: KeyID, account: AccountID?, origin: ChangeOrigin) async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let row: SQLRow?
            if let account {
                row = try await tx.first(
                    "SELECT revoked FROM api_keys WHERE id = $1 AND account = $2", [.text(id), .text(account)])
            } else {
                row = try await tx.first("SELECT revoked FROM api_keys WHERE id = $1 AND account IS NULL", [.text(id)])
            }
            guard let row else { throw .notFound("key \(id)") }
            guard try row.optionalInt(0) == nil else { return }
            try await tx.run("UPDATE api_keys SET revoked = $2 WHERE id = $1", [.text(id), .integer(time)])
            try await self.changed(tx, origin, account: account, action: "key.revoke", target: id, time: time)
        }
    }

    public func authenticate(key secret: String) async throws(StoreError) -> KeyIdentity? {
        guard APIKeySecret.plausible(secret) else { return nil }
        let hash = APIKeySecret.hash(secret)
        return try await database.read { tx throws(StoreError) in
            guard
                let row = try await tx.first(
                    "SELECT id, account, is_operator FROM api_keys WHERE hash = $1 AND revoked IS NULL", [.text(hash)])
            else { return nil }
            return KeyIdentity(keyID: try row.text(0), account: try row.optionalText(1), isOperator: try row.bool(2))
        }
    }
}
