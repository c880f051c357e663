import CallSequence
import CallSequenceStore
import Foundation
import Hummingbird

// The audit log, the SMS ledger, call records, export.

extension ManagementAPI {
    func listAudit(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.audit(account: account.id, page: try page(request))
        return json(.object([
            ("entries", .array(found.items.map {
                .object([("time", timestamp($0.time)), ("key", .optional($0.keyID)), ("address", .string($0.address)),
                         ("action", .string($0.action)), ("target", .string($0.target)),
                         ("revision", $0.revision.map { .int($0) } ?? .null)])
            })),
            ("next", .optional(found.next)),
        ]))
    }

    func listTexts(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.smsEntries(account: account.id, page: try page(request))
        return json(.object([
            ("texts", .array(found.items.map {
                .object([("time", timestamp($0.created)), ("day", .string($0.day)), ("callID", .string($0.callID)),
                         ("step", .int($0.step)), ("from", .string($0.from)), ("to", .string($0.to)),
                         ("message", .string($0.message)), ("state", .string($0.state.rawValue)),
                         ("providerID", .optional($0.providerID)), ("detail", .optional($0.detail))])
            })),
            ("next", .optional(found.next)),
        ]))
    }

    func listCalls(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        var filter = CallFilter()
        let query = request.uri.queryParameters
        if let did = query.get("did") {
            guard let number = try? PhoneNumber(String(did)) else { throw Problem(.badRequest, "did is not a phone number") }
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
        let found = try await store.callRecords(account: account.id, filter: filter, page: try page(request))
        return json(.object([
            ("calls", .array(found.items.map {
                .object([("time", timestamp($0.time)), ("caller", .string($0.caller)), ("did", .string($0.did)),
                         ("ivrPath", .array($0.ivrPath.map { .string($0) })), ("keys", .string($0.keys)),
                         ("sequence", .optional($0.sequence)), ("stepsDone", .int($0.stepsDone)),
                         ("stepsTotal", .int($0.stepsTotal)), ("sms", .array($0.smsOutcomes.map { .string($0) })),
                         ("outcome", .string($0.outcome)), ("durationMs", .int($0.durationMs))])
            })),
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
