import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Hummingbird

// Sequences and their revisions, IVRs, numbers.

extension ManagementAPI {
    // MARK: - Sequences

    func summary(_ id: String, _ name: String, _ revision: Int) -> JSONValue {
        .object([("id", .string(id)), ("name", .string(name)), ("revision", .int(revision))])
    }

    func listSequences(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.sequences(account: account.id, page: try page(request))
        return json(.object([("sequences", .array(found.items.map { summary($0.id, $0.name, $0.revision) })),
                             ("next", .optional(found.next))]))
    }

    func createSequence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let (_, body) = try await readJSON(request)
        try await validate(.sequence(body, replacing: nil), in: account)
        let saved = try await store.createSequence(account: account.id, body: CanonicalJSON.text(body), origin: context.origin)
        return json(saved.body, status: .created, revision: saved.revision,
                    location: "\(accountPath(account.id))/sequences/\(saved.id)")
    }

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
        let account = try await account(context)
        let id = try parameter(context, "id")
        guard let sequence = try await found({ try await store.sequence(id, account: account.id) }) else {
            throw Problem.notFound("sequence \(id)")
        }
        return (account, sequence)
    }

    func getSequence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (_, sequence) = try await sequence(context)
        return json(sequence.body, revision: sequence.revision)
    }

    func putSequence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await sequence(context)
        let (_, body) = try await readJSON(request)   // RFC 9110 §13.2.1: the precondition comes last
        let expected = try ETag.require(request, current: current.revision)
        try await validate(.sequence(body, replacing: current.name), in: account)
        let saved = try await store.updateSequence(current.id, account: account.id, body: CanonicalJSON.text(body),
                                                   expectedRevision: expected, origin: context.origin)
        return json(saved.body, revision: saved.revision)
    }

    func deleteSequence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await sequence(context)
        let expected = try ETag.require(request, current: current.revision)
        try await store.deleteSequence(current.id, account: account.id, expectedRevision: expected, origin: context.origin)
        return Response(status: .noContent)
    }

    func listRevisions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await sequence(context)
        let found = try await store.revisions(of: current.id, account: account.id, page: try page(request))
        return json(.object([
            ("revisions", .array(found.items.map {
                .object([("revision", .int($0.number)), ("time", timestamp($0.created)), ("key", .optional($0.keyID))])
            })),
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
        guard let revision = try await found({ try await store.revision(n, of: current.id, account: account.id) }) else {
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
        let saved = try await store.restoreRevision(n, of: current.id, account: account.id, expectedRevision: expected,
                                                    origin: context.origin)
        return json(saved.body, revision: saved.revision)
    }

    // MARK: - IVRs

    func listIVRs(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.ivrs(account: account.id, page: try page(request))
        return json(.object([("ivrs", .array(found.items.map { summary($0.id, $0.name, $0.revision) })),
                             ("next", .optional(found.next))]))
    }

    func createIVR(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let (_, body) = try await readJSON(request)
        try await validate(.ivr(body, replacing: nil), in: account)
        let saved = try await store.createIVR(account: account.id, body: CanonicalJSON.text(body), origin: context.origin)
        return json(saved.body, status: .created, revision: saved.revision,
                    location: "\(accountPath(account.id))/ivrs/\(saved.id)")
    }

    func ivr(_ context: APIRequestContext) async throws -> (AccountRecord, IVRRecord) {
        let account = try await account(context)
        let id = try parameter(context, "id")
        guard let ivr = try await found({ try await store.ivr(id, account: account.id) }) else {
            throw Problem.notFound("IVR \(id)")
        }
        return (account, ivr)
    }

    func getIVR(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (_, ivr) = try await ivr(context)
        return json(ivr.body, revision: ivr.revision)
    }

    func putIVR(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await ivr(context)
        let (_, body) = try await readJSON(request)   // RFC 9110 §13.2.1: the precondition comes last
        let expected = try ETag.require(request, current: current.revision)
        try await validate(.ivr(body, replacing: current.name), in: account)
        let saved = try await store.updateIVR(current.id, account: account.id, body: CanonicalJSON.text(body),
                                              expectedRevision: expected, origin: context.origin)
        return json(saved.body, revision: saved.revision)
    }

    func deleteIVR(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, current) = try await ivr(context)
        let expected = try ETag.require(request, current: current.revision)
        try await store.deleteIVR(current.id, account: account.id, expectedRevision: expected, origin: context.origin)
        return Response(status: .noContent)
    }

    // MARK: - Numbers

    func listNumbers(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.numbers(account: account.id, page: try page(request))
        return json(.object([("numbers", .array(found.items.map(AccountValidation.numberJSON))), ("next", .optional(found.next))]))
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
                throw Problem(.preconditionFailed, "the account has no number \(number.digits) to match If-Match against")
            }
            // Numbers are the provider's to hand out: the operator, or the reseller for its client.
            guard manages(account, key) else {
                throw Problem.forbidden("numbers are assigned by the operator (or a client's reseller); this account has no \(number.digits)")
            }
            body = try await readJSON(request).value
        }
        try await validate(.number(body, number: number.digits), in: account)
        let record = NumberRecord(number: number.digits, sms: body["sms"] == .bool(true), route: route(body["route"]),
                                  dtmf: body["dtmf"].flatMap { if case .string(let s) = $0 { DTMFMode(rawValue: s) } else { nil } } ?? .auto,
                                  answerAfterMs: { if case .number(let x)? = body["answerAfterMs"] { Int(x) } else { 0 } }())
        let saved = try await store.putNumber(record, account: account.id, expectedRevision: expected, origin: context.origin)
        return json(AccountValidation.numberJSON(saved), status: existing == nil ? .created : .ok, revision: saved.revision,
                    location: existing == nil ? "\(accountPath(account.id))/numbers/\(number.digits)" : nil)
    }

    /// A route the model has accepted.
    private func route(_ value: JSONValue?) -> NumberRoute {
        if case .string(let name)? = value?["ivr"] { return .ivr(name) }
        return .hangup
    }
}
