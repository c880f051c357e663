import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import Recordings

// The audit log, the SMS ledger, call records, export.

extension ManagementAPI {
    func listAudit(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.audit(account: account.id, page: try logPage(request))
        return json(
            .object([
                (
                    "entries",
                    .array(
                        found.items.map {
                            .object([
                                ("time", timestamp($0.time)), ("key", .optional($0.keyID)),
                                ("address", .string($0.address)),
                                ("action", .string($0.action)), ("target", .string($0.target)),
                                ("revision", $0.revision.map { .int($0) } ?? .null),
                            ])
                        })
                ),
                ("next", .optional(found.next)),
            ]))
    }

    func listTexts(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.smsEntries(account: account.id, page: try logPage(request))
        return json(
            .object([
                (
                    "texts",
                    .array(
                        found.items.map {
                            .object([
                                ("time", timestamp($0.created)), ("day", .string($0.day)),
                                ("callID", .string($0.callID)),
                                ("step", .int($0.step)), ("from", .string($0.from)), ("to", .string($0.to)),
                                ("message", .string($0.message)), ("state", .string($0.state.rawValue)),
                                ("providerID", .optional($0.providerID)), ("detail", .optional($0.detail)),
                            ])
                        })
                ),
                ("next", .optional(found.next)),
            ]))
    }

    func listCalls(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        var filter = CallFilter()
        let query = request.uri.queryParameters
        if let did = query.get("did") {
            guard let number = try? PhoneNumber(String(did)) else {
                throw Problem(.badRequest, "did is not a phone number")
            }
            filter.did = number.digits
        }
        func time(_ name: String) throws(Problem) -> Date? {
            guard let text = query.get(name) else { return nil }
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw Problem(.badRequest, "\(name) is not an RFC 3339 time such as 2026-12-04T03:00:00Z")
            }
            return date
        }
        filter.from = try time("from")
        filter.until = try time("until")
        let found = try await store.callRecords(account: account.id, filter: filter, page: try logPage(request))
        return json(
            .object([
                (
                    "calls",
                    .array(
                        found.items.map {
                            .object([
                                ("time", timestamp($0.time)), ("caller", .string($0.caller)), ("did", .string($0.did)),
                                ("ivrPath", .array($0.ivrPath.map { .string($0) })), ("keys", .string($0.keys)),
                                ("sequence", .optional($0.sequence)), ("stepsDone", .int($0.stepsDone)),
                                ("stepsTotal", .int($0.stepsTotal)),
                                ("sms", .array($0.smsOutcomes.map { .string($0) })),
                                ("outcome", .string($0.outcome)), ("durationMs", .int($0.durationMs)),
                            ])
                        })
                ),
                ("next", .optional(found.next)),
            ]))
    }

    /// The account file (canonical JSON) of what the store holds, as `callseq export` prints it.
    func exportAccount(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let snapshot = try await store.snapshot(of: account.id, withAudio: false)
        return json(AccountExchange.accountFile(snapshot))
    }
}

extension ManagementAPI {
    /// Replaces the account's numbers, IVRs and sequences by an account file's (checked by every rule of
    /// `callseq validate`, its recordings being the account's stored ones, which are kept). Capabilities come
    /// from the file only for the operator; anyone else keeps the account's own.
    func importAccount(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        let account = try await account(context)
        let (text, file) = try await readJSON(request)  // RFC 9110 §13.2.1: the precondition comes last
        let expected = try ETag.require(request, current: account.revision)
        let current = try await store.snapshot(of: account.id, withAudio: true)
        let names = current.recordings.map(\.name)
        let library = RecordingLibrary(
            files: Dictionary(names.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }),
            origin: "the account's recordings")
        if file["recordings"] != nil {
            throw Problem.invalid([
                ("/recordings", "recordings are uploaded one by one (PUT .../recordings/{name}), not named as a folder")
            ])
        }
        // The file's capabilities are the operator's to choose; anyone else's file is checked against the
        // account's own, which stay.
        var document = text
        if !key.isOperator, case .object(let members) = file {
            let c = account.capabilities
            let own = JSONValue.object([
                ("sequences", .bool(c.sequences)), ("sms", .bool(c.sms)), ("smsDailyLimit", .int(c.smsDailyLimit)),
            ])
            document = CanonicalJSON.text(
                .object([("capabilities", own)] + members.filter { $0.key != "capabilities" }))
        }
        let parsed: Account
        do {
            parsed = try Account.parse(document, source: account.id, catalog: library)
        } catch {
            throw Problem.invalid(error.problems.map { (JSONPointer.from(path: $0.path), $0.message) })
        }
        func bodies(_ key: String) -> [String] {
            guard case .array(let items)? = file[key] else { return [] }
            return items.map(CanonicalJSON.text)
        }
        let numbers = parsed.dids.map { did -> NumberRecord in
            let route: NumberRoute
            switch did.route {
            case .ivr(let name): route = .ivr(name)
            case .hangup: route = .hangup
            }
            return NumberRecord(
                number: did.number.digits, sms: did.sms, route: route,
                dtmf: DTMFMode(rawValue: did.dtmf.rawValue) ?? .auto, answerAfterMs: did.answerAfterMs)
        }
        // Numbers are the provider's: only the operator or the client's reseller may add one.
        let owned = Set(current.numbers.map(\.number))
        if !manages(account, key), let added = numbers.first(where: { !owned.contains($0.number) }) {
            throw Problem.forbidden(
                "numbers are assigned by the operator (or a client's reseller); this account has no \(added.number)")
        }
        let c = parsed.capabilities
        let snapshot = AccountSnapshot(
            capabilities: StoreCapabilities(sequences: c.sequences, sms: c.sms, smsDailyLimit: c.smsDailyLimit),
            numbers: numbers.sorted { $0.number < $1.number }, ivrs: bodies("ivrs"), sequences: bodies("sequences"),
            recordings: current.recordings)
        let saved = try await store.replaceAccountContents(
            account.id, with: snapshot, expectedRevision: expected,
            origin: context.origin)
        return json(Self.accountJSON(saved), revision: saved.revision)
    }
}
