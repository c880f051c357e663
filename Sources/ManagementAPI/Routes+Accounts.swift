import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Hummingbird
import TelephonyDSP

// Accounts, packages and API keys.

extension ManagementAPI {
    static func accountJSON(_ a: AccountRecord) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(a.id)), ("name", .string(a.name)), ("kind", .string(a.kind.name)),
        ]
        if case .client(let parent, let package) = a.kind {
            members += [("parent", .string(parent)), ("package", .string(package))]
        }
        members += [
            (
                "capabilities",
                .object([
                    ("sequences", .bool(a.capabilities.sequences)), ("sms", .bool(a.capabilities.sms)),
                    ("smsDailyLimit", .int(a.capabilities.smsDailyLimit)),
                ])
            ),
            ("revision", .int(a.revision)),
        ]
        return .object(members)
    }

    func accountPath(_ id: AccountID) -> String { "/api/v1/accounts/\(id)" }

    func me(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        var account = JSONValue.null
        if let id = key.account { account = Self.accountJSON(try await store.account(id)) }
        return json(.object([("key", .string(key.keyID)), ("operator", .bool(key.isOperator)), ("account", account)]))
    }

    func listAccounts(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        let page = try page(request)
        var items: [AccountRecord] = []
        var next: String?
        if key.isOperator {
            let found = try await store.accounts(parent: nil, page: page)
            items = found.items
            next = found.next
        } else if let own = key.account {
            let record = try await store.account(own)
            if page.cursor == nil { items.append(record) }
            if case .reseller = record.kind {
                let found = try await store.accounts(parent: own, page: page)
                items += found.items
                next = found.next
            }
        }
        return json(.object([("accounts", .array(items.map(Self.accountJSON))), ("next", .optional(next))]))
    }

    func getAccount(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        return json(Self.accountJSON(account), revision: account.revision)
    }

    /// Reads `{sequences, sms, smsDailyLimit}`, every problem with its pointer.
    private func capabilities(
        _ value: JSONValue, at pointer: String, into problems: inout [(pointer: String, detail: String)]
    )
        -> StoreCapabilities?
    {
        guard case .object(let members) = value else {
            problems.append((pointer, "expected the capabilities (an object), found \(value.typeName)"))
            return nil
        }
        var caps = StoreCapabilities()
        for (key, v) in members {
            switch (key, v) {
            case ("sequences", .bool(let b)): caps.sequences = b
            case ("sms", .bool(let b)): caps.sms = b
            case ("smsDailyLimit", .number(let x)) where x == x.rounded() && (0...100_000).contains(x):
                caps.smsDailyLimit = Int(x)
            case ("sequences", _), ("sms", _):
                problems.append(("\(pointer)/\(key)", "expected true or false, found \(v.typeName)"))
            case ("smsDailyLimit", _):
                problems.append(("\(pointer)/\(key)", "expected a whole number of texts in 0...100000"))
            default:
                problems.append(
                    ("\(pointer)/\(JSONPointer.escape(key))", "unknown key (allowed: sequences, sms, smsDailyLimit)"))
            }
        }
        return caps
    }

    /// A display name: 1...200 characters, no control characters.
    private func displayName(
        _ value: JSONValue?, at pointer: String, into problems: inout [(pointer: String, detail: String)]
    ) -> String? {
        guard let value else { return nil }
        guard case .string(let s) = value else {
            problems.append((pointer, "expected a string, found \(value.typeName)"))
            return nil
        }
        if let problem = InputText.problem(in: s) {
            problems.append((pointer, "\"\(InputText.escaped(s, limit: 40))\" \(problem)"))
            return nil
        }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            problems.append(
                (
                    pointer,
                    trimmed.isEmpty
                        ? "the name cannot be empty" : "the name has \(trimmed.count) characters; at most 200"
                ))
            return nil
        }
        return trimmed
    }

    func createAccount(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        let (_, body) = try await readJSON(request)
        guard case .object(let members) = body else {
            throw Problem.invalid([("", "expected an account (an object), found \(body.typeName)")])
        }
        var problems: [(pointer: String, detail: String)] = []
        var fields: [String: JSONValue] = [:]
        for (k, v) in members {
            if ["name", "kind", "parent", "package", "capabilities"].contains(k) {
                fields[k] = v
            } else {
                problems.append(
                    ("/\(JSONPointer.escape(k))", "unknown key (allowed: name, kind, parent, package, capabilities)"))
            }
        }
        let accountName = displayName(fields["name"], at: "/name", into: &problems)
        if fields["name"] == nil { problems.append(("/name", "missing (a string is required)")) }
        var caps = StoreCapabilities()
        if let given = fields["capabilities"], let read = capabilities(given, at: "/capabilities", into: &problems) {
            caps = read
        }
        var kindName = "direct"
        if let k = fields["kind"] {
            if case .string(let s) = k, ["direct", "reseller", "client"].contains(s) {
                kindName = s
            } else {
                problems.append(("/kind", "expected direct, reseller or client"))
            }
        }
        // A reseller's key makes its own clients, and nothing else.
        var ownReseller: AccountID?
        if !key.isOperator {
            guard let own = key.account else {
                throw Problem.forbidden("only the operator and resellers create accounts")
            }
            let ownRecord = try await store.account(own)
            guard case .reseller = ownRecord.kind else {
                throw Problem.forbidden("only the operator and resellers create accounts")
            }
            ownReseller = own
            if fields["kind"] == nil { kindName = "client" }
            if kindName != "client" { problems.append(("/kind", "a reseller creates client accounts only")) }
        }
        var parent = ownReseller
        if case .string(let p)? = fields["parent"] {
            if let ownReseller, p != ownReseller { problems.append(("/parent", "a reseller's clients are its own")) }
            parent = p
        } else if fields["parent"] != nil {
            problems.append(("/parent", "expected a reseller's account id"))
        }
        var package: String?
        if case .string(let p)? = fields["package"] {
            package = p
        } else if fields["package"] != nil {
            problems.append(("/package", "expected a package name"))
        }
        if kindName == "client" {
            if parent == nil { problems.append(("/parent", "missing: a client account needs its reseller")) }
            if package == nil {
                problems.append(("/package", "missing: a client account is on one of its reseller's packages"))
            }
        } else if fields["parent"] != nil || fields["package"] != nil {
            problems.append(
                (fields["parent"] != nil ? "/parent" : "/package", "only client accounts have a reseller and a package")
            )
        }
        guard problems.isEmpty, let accountName else { throw Problem.invalid(problems) }
        let kind: AccountKind
        switch kindName {
        case "reseller": kind = .reseller
        case "client": kind = .client(parent: parent ?? "", package: package ?? "")
        default: kind = .direct
        }
        let created: AccountRecord
        do {
            created = try await store.createAccount(
                NewAccount(name: accountName, kind: kind, capabilities: caps), origin: context.origin)
        } catch {
            guard case .notFound(let what) = error.kind else { throw error }
            throw Problem.invalid([(fields["package"] != nil ? "/package" : "/parent", "not found: \(what)")])
        }
        return json(
            Self.accountJSON(created), status: .created, revision: created.revision, location: accountPath(created.id))
    }

    func updateAccount(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        let account = try await account(context)
        let (_, body) = try await readJSON(request)  // RFC 9110 §13.2.1: the precondition comes last
        let expected = try ETag.require(request, current: account.revision)
        guard case .object(let members) = body else {
            throw Problem.invalid([("", "expected the changes (an object), found \(body.typeName)")])
        }
        var problems: [(pointer: String, detail: String)] = []
        var change = AccountChange()
        for (k, v) in members {
            switch k {
            case "name": change.name = displayName(v, at: "/name", into: &problems)
            case "capabilities":
                if !key.isOperator {
                    problems.append(
                        ("/capabilities", "only the operator changes capabilities (a client's come from its package)"))
                }
                change.capabilities = capabilities(v, at: "/capabilities", into: &problems)
            case "package":
                guard case .client = account.kind, manages(account, key) else {
                    problems.append(("/package", "only a client's reseller moves it to another package"))
                    continue
                }
                if case .string(let p) = v {
                    change.package = p
                } else {
                    problems.append(("/package", "expected a package name"))
                }
            default:
                problems.append(("/\(JSONPointer.escape(k))", "unknown key (allowed: name, capabilities, package)"))
            }
        }
        guard problems.isEmpty else { throw Problem.invalid(problems) }
        let saved = try await store.updateAccount(
            account.id, change, expectedRevision: expected, origin: context.origin)
        return json(Self.accountJSON(saved), revision: saved.revision)
    }

    // MARK: - Packages (a reseller's)

    func listPackages(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        guard case .reseller = account.kind else { throw Problem.notFound("packages: the account is not a reseller") }
        let found = try await store.packages(reseller: account.id, page: try page(request))
        return json(
            .object([
                (
                    "packages",
                    .array(
                        found.items.map { .object([("name", .string($0.name)), ("sequences", .bool($0.sequences))]) })
                ),
                ("next", .optional(found.next)),
            ]))
    }

    func putPackage(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        guard case .reseller = account.kind else { throw Problem.notFound("packages: the account is not a reseller") }
        let name = try parameter(context, "package")
        let (_, body) = try await readJSON(request)
        guard case .object(let members) = body, members.count == 1, case .bool(let sequences)? = body["sequences"]
        else {
            throw Problem.invalid([("", "expected { \"sequences\": true or false }")])
        }
        _ = members
        try await store.putPackage(
            PackageRecord(reseller: account.id, name: name, sequences: sequences), origin: context.origin)
        return json(.object([("name", .string(name)), ("sequences", .bool(sequences))]))
    }

    // MARK: - Keys

    func createKey(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        var label = ""
        if request.headers[.contentType] != nil {
            let (_, body) = try await readJSON(request)
            guard case .object(let members) = body else {
                throw Problem.invalid([("", "expected { \"label\": TEXT } or no body")])
            }
            var problems: [(pointer: String, detail: String)] = []
            for (k, v) in members {
                if k == "label" {
                    label = displayName(v, at: "/label", into: &problems) ?? ""
                } else {
                    problems.append(("/\(JSONPointer.escape(k))", "unknown key (allowed: label)"))
                }
            }
            guard problems.isEmpty else { throw Problem.invalid(problems) }
        }
        let created = try await store.createKey(
            account: account.id, isOperator: false, label: label, origin: context.origin)
        return json(
            .object([
                ("id", .string(created.record.id)), ("key", .string(created.secret)),
                ("prefix", .string(created.record.prefix)), ("label", .string(label)),
            ]),
            status: .created, location: "\(accountPath(account.id))/keys/\(created.record.id)")
    }

    func revokeKey(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let id = try parameter(context, "key")
        try await store.revokeKey(id, account: account.id, origin: context.origin)
        verifiedKeys.revoke(keyID: id)  // the key's next request is 401 (a lookup under way cannot keep it)
        return Response(status: .noContent)
    }
}
