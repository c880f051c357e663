import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Hummingbird

// Sequences and their revisions, IVRs, numbers.

extension ManagementAPI {
    // MARK: - Sequences and IVRs: one handler path

    func summary(_ id: String, _ name: String, _ revision: Int) -> JSONValue {
        .object([("id", .string(id)), ("name", .string(name)), ("revision", .int(revision))])
    }

    func listDocuments<Record>(
        _ kind: DocumentKind<Record>, _ request: Request,
        _ context: APIRequestContext
    ) async throws -> Response {
        let account = try await account(context)
        let found = try await kind.list(store, account.id, try page(request))
        return json(
            .object([
                (kind.collection, .array(found.items.map { summary($0.id, $0.name, $0.revision) })),
                ("next", .optional(found.next)),
            ]))
    }

    func createDocument<Record>(
        _ kind: DocumentKind<Record>, _ request: Request,
        _ context: APIRequestContext
    ) async throws -> Response {
        let account = try await account(context)
        let (_, body) = try await readJSON(request)
        try await validate(kind.candidate(body, nil), in: account)
        let saved = try await kind.create(store, account.id, CanonicalJSON.text(body), context.origin)
        return json(
            saved.body, status: .created, revision: saved.revision,
            location: "\(accountPath(account.id))/\(kind.collection)/\(saved.id)")
    }

    /// The account and its `kind` named by the path's `{id}` (404 when it has none).
    func document<Record>(
        _ kind: DocumentKind<Record>,
        _ context: APIRequestContext
    ) async throws -> (AccountRecord, Record) {
        let account = try await account(context)
        let id = try parameter(context, "id")
        guard let record = try await found({ try await kind.get(store, id, account.id) }) else {
            throw Problem.notFound("\(kind.noun) \(id)")
        }
        return (account, record)
    }

    func getDocument<Record>(
        _ kind: DocumentKind<Record>, _ request: Request,
        _ context: APIRequestContext
    ) async throws -> Response {
        let (_, record) = try await document(kind, context)
        return json(record.body, revision: record.revision)
    }

    func putDocument<Record>(
        _ kind: DocumentKind<Record>, _ request: Request,
        _ context: APIRequestContext
    ) async throws -> Response {
        let (account, current) = try await document(kind, context)
        let (_, body) = try await readJSON(request)  // RFC 9110 §13.2.1: the precondition comes last
        let expected = try ETag.require(request, current: current.revision)
        try await validate(kind.candidate(body, current.name), in: account)
        let saved = try await kind.update(
            store, current.id, account.id, CanonicalJSON.text(body), expected,
            context.origin)
        return json(saved.body, revision: saved.revision)
    }

    func deleteDocument<Record>(
        _ kind: DocumentKind<Record>, _ request: Request,
        _ context: APIRequestContext
    ) async throws -> Response {
        let (account, current) = try await document(kind, context)
        let expected = try ETag.require(request, current: current.revision)
        try await kind.delete(store, current.id, account.id, expected, context.origin)
        return Response(status: .noContent)
    }

    // MARK: - Sequences only

    func validateSequence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let (_, body) = try await readJSON(request)
        // Checked as a change of the sequence of that name when there is one, else as a new one.
        var replacing: String?
        if case .string(let name)? = body["name"] { replacing = name }
        try await validate(.sequence(body, replacing: replacing), in: account)
        return json(.object([("valid", .bool(true))]))
    }

    func sequence(_ context: APIRequestContext) async throws -> (AccountRecord, SequenceRecord) {
        try await document(.sequences, context)
    }

    func listRevisions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await sequence(context)
        let found = try await store.revisions(of: current.id, account: account.id, page: try page(request))
        return json(
            .object([
                (
                    "revisions",
                    .array(
                        found.items.map {
                            .object([
                                ("revision", .int($0.number)), ("time", timestamp($0.created)),
                                ("key", .optional($0.keyID)),
                            ])
                        })
                ),
                ("next", .optional(found.next)),
            ]))
    }

    func revisionNumber(_ context: APIRequestContext) throws(Problem) -> Int {
        let text = try parameter(context, "n")
        guard let n = Int(text), n >= 1 else { throw Problem.notFound("revision \(text)") }
        return n
    }

    func getRevision(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await sequence(context)
        let n = try revisionNumber(context)
        guard let revision = try await found({ try await store.revision(n, of: current.id, account: account.id) })
        else {
            throw Problem.notFound("revision \(n) of sequence \(current.id)")
        }
        return json(revision.body, revision: revision.number)
    }

    func restoreRevision(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await sequence(context)
        let n = try revisionNumber(context)
        let expected = try ETag.require(request, current: current.revision)
        guard let old = try await found({ try await store.revision(n, of: current.id, account: account.id) }) else {
            throw Problem.notFound("revision \(n) of sequence \(current.id)")
        }
        // The account may have changed since (a number no longer sends texts, a recording deleted).
        let body = try JSONValue.parse(old.body)
        try await validate(.sequence(body, replacing: current.name), in: account)
        let saved = try await store.restoreRevision(
            n, of: current.id, account: account.id, expectedRevision: expected,
            origin: context.origin)
        return json(saved.body, revision: saved.revision)
    }

    // MARK: - Numbers

    func listNumbers(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.numbers(account: account.id, page: try page(request))
        return json(
            .object([
                ("numbers", .array(found.items.map(AccountValidation.numberJSON))), ("next", .optional(found.next)),
            ]))
    }

    func putNumber(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        let account = try await account(context)
        let text = try parameter(context, "number")
        let number: PhoneNumber
        do { number = try PhoneNumber(text) } catch {
            throw Problem(.notFound, "no number '\(text)': \(error)")
        }
        let existing = try await found { try await store.number(number.digits, account: account.id) }
        var expected: Int?
        let body: JSONValue
        if let existing {
            // RFC 9110 §13.2.1: the precondition is evaluated once the request is otherwise acceptable.
            body = try await readJSON(request).value
            expected = try ETag.require(request, current: existing.revision)
        } else {
            if try ETag.condition(request) != nil {
                throw Problem(
                    .preconditionFailed, "the account has no number \(number.digits) to match If-Match against")
            }
            // Numbers are the provider's to hand out: the operator, or the reseller for its client.
            guard manages(account, key) else {
                throw Problem.forbidden(
                    "numbers are assigned by the operator (or a client's reseller); this account has no \(number.digits)"
                )
            }
            body = try await readJSON(request).value
        }
        try await validate(.number(body, number: number.digits), in: account)
        let record = NumberRecord(
            number: number.digits, sms: body["sms"] == .bool(true), route: route(body["route"]),
            dtmf: body["dtmf"].flatMap { if case .string(let s) = $0 { DTMFMode(rawValue: s) } else { nil } } ?? .auto,
            answerAfterMs: { if case .number(let x)? = body["answerAfterMs"] { Int(x) } else { 0 } }())
        let saved = try await store.putNumber(
            record, account: account.id, expectedRevision: expected, origin: context.origin)
        return json(
            AccountValidation.numberJSON(saved), status: existing == nil ? .created : .ok, revision: saved.revision,
            location: existing == nil ? "\(accountPath(account.id))/numbers/\(number.digits)" : nil)
    }

    /// A route the model has accepted.
    private func route(_ value: JSONValue?) -> NumberRoute {
        if case .string(let name)? = value?["ivr"] { return .ivr(name) }
        return .hangup
    }
}

/// A named JSON document an account keeps under a collection of the API (a sequence, an IVR).
protocol NamedDocument: Sendable {
    var id: String { get }
    /// The body's `name`, unique in the account.
    var name: String { get }
    /// Canonical JSON text.
    var body: String { get }
    /// The ETag.
    var revision: Int { get }
}

extension SequenceRecord: NamedDocument {}
extension IVRRecord: NamedDocument {}

/// What differs between sequences and IVRs in the API: their path and noun, how a body is validated and which
/// store calls keep them. Everything else (pages, ETags, validation before saving, 201 with Location) is the
/// one handler path above.
struct DocumentKind<Record: NamedDocument>: Sendable {
    /// The path segment and the list's field (`sequences`, `ivrs`).
    let collection: String
    /// The word in a 404's detail (`sequence`, `IVR`).
    let noun: String
    /// The validation candidate for a body replacing the document of that name (nil: a new one).
    let candidate: @Sendable (JSONValue, String?) -> AccountValidation.Candidate
    let list: @Sendable (any Store, AccountID, PageRequest) async throws -> Page<Record>
    let create: @Sendable (any Store, AccountID, String, ChangeOrigin) async throws -> Record
    let get: @Sendable (any Store, String, AccountID) async throws -> Record
    let update: @Sendable (any Store, String, AccountID, String, Int, ChangeOrigin) async throws -> Record
    let delete: @Sendable (any Store, String, AccountID, Int, ChangeOrigin) async throws -> Void
}

extension DocumentKind where Record == SequenceRecord {
    static var sequences: Self {
        Self(
            collection: "sequences", noun: "sequence",
            candidate: { .sequence($0, replacing: $1) },
            list: { try await $0.sequences(account: $1, page: $2) },
            create: { try await $0.createSequence(account: $1, body: $2, origin: $3) },
            get: { try await $0.sequence($1, account: $2) },
            update: { try await $0.updateSequence($1, account: $2, body: $3, expectedRevision: $4, origin: $5) },
            delete: { try await $0.deleteSequence($1, account: $2, expectedRevision: $3, origin: $4) })
    }
}

extension DocumentKind where Record == IVRRecord {
    static var ivrs: Self {
        Self(
            collection: "ivrs", noun: "IVR",
            candidate: { .ivr($0, replacing: $1) },
            list: { try await $0.ivrs(account: $1, page: $2) },
            create: { try await $0.createIVR(account: $1, body: $2, origin: $3) },
            get: { try await $0.ivr($1, account: $2) },
            update: { try await $0.updateIVR($1, account: $2, body: $3, expectedRevision: $4, origin: $5) },
            delete: { try await $0.deleteIVR($1, account: $2, expectedRevision: $3, origin: $4) })
    }
}
