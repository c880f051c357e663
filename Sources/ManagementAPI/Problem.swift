import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import TelephonyDSP

/// An RFC 9457 problem: what every failing request answers, as `application/problem+json`.
///
/// Validation failures (422) list every problem in `errors`, each with an RFC 6901 pointer into the request
/// body and the text `callseq validate` prints; 409 answers name what uses the resource in `users`.
struct Problem: Error, Sendable {
    var status: HTTPResponse.Status
    var detail: String
    var errors: [(pointer: String, detail: String)] = []
    var users: [String] = []
    /// Extra fields of the answer: `ETag` on 412, `Retry-After` on 429, `Allow`...
    var headers: HTTPFields = [:]

    init(
        _ status: HTTPResponse.Status, _ detail: String, errors: [(pointer: String, detail: String)] = [],
        users: [String] = [], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.detail = detail
        self.errors = errors
        self.users = users
        self.headers = headers
    }

    /// The answer: `type` is `about:blank`, so `title` is the status's reason phrase (RFC 9457 §4.2.1).
    func response() -> Response {
        var members: [(key: String, value: JSONValue)] = [
            ("type", .string("about:blank")),
            ("title", .string(status.reasonPhrase)),
            ("status", .number(Double(status.code))),
            ("detail", .string(detail)),
        ]
        if !errors.isEmpty {
            members.append(
                (
                    "errors",
                    .array(
                        errors.map {
                            .object([("pointer", .string($0.pointer)), ("detail", .string($0.detail))])
                        })
                ))
        }
        if !users.isEmpty { members.append(("users", .array(users.map { .string($0) }))) }
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: CanonicalJSON.text(.object(members)))))
    }

    // MARK: - The common ones

    static func unauthorized() -> Problem {
        Problem(
            .unauthorized, "a valid API key is required: Authorization: Bearer KEY",
            headers: [.wwwAuthenticate: "Bearer realm=\"callseq\""])
    }

    static func notFound(_ what: String) -> Problem { Problem(.notFound, "no \(what)") }

    static func forbidden(_ why: String) -> Problem { Problem(.forbidden, why) }

    static func preconditionRequired(current revision: Int) -> Problem {
        // RFC 6585 §3: the change must be conditional; the current ETag tells the client what to send.
        Problem(
            .init(code: 428, reasonPhrase: "Precondition Required"),
            "this change needs If-Match with the resource's ETag (it is \(ETag.text(revision)))",
            headers: [.eTag: ETag.text(revision)])
    }

    static func stale(current revision: Int) -> Problem {
        Problem(
            .preconditionFailed,
            "the resource changed: If-Match does not match its current ETag \(ETag.text(revision)); "
                + "read it again and reapply the change", headers: [.eTag: ETag.text(revision)])
    }

    /// A validation failure: every problem, each with its RFC 6901 pointer and the CLI's text.
    static func invalid(_ problems: [(pointer: String, detail: String)]) -> Problem {
        let first = problems.first.map { $0.pointer.isEmpty ? $0.detail : "\($0.pointer): \($0.detail)" } ?? "invalid"
        let detail = problems.count == 1 ? first : "\(problems.count) problems; the first: \(first)"
        return Problem(.unprocessableContent, detail, errors: problems)
    }

    /// The answer to a store failure.
    static func from(_ error: StoreError) -> Problem {
        switch error.kind {
        case .notFound(let what): return Problem(.notFound, "not found: \(what)")
        case .conflict(let current): return .stale(current: current)
        case .duplicate(let what): return Problem(.conflict, "already exists: \(what)")
        case .inUse(let users):
            return Problem(
                .conflict, "in use by \(users.joined(separator: ", ")): change or delete those first",
                users: users)
        case .invalid(let why): return .invalid([(pointer: "", detail: why)])
        case .unavailable(let why):
            return Problem(.serviceUnavailable, "the store is unavailable: \(why)", headers: [.retryAfter: "5"])
        }
    }
}

/// ETags are the resource's revision number as a strong validator: `"3"` (RFC 9110 §8.8.3).
enum ETag {
    static func text(_ revision: Int) -> String { "\"\(revision)\"" }

    /// What an `If-Match` asks for: nil when absent, `.any` for `*`, the revisions listed otherwise
    /// (RFC 9110 §13.1.1: a comma-separated list of entity tags; strong comparison, so `W/` never matches).
    enum Condition: Equatable {
        case any
        case revisions([Int])
    }

    /// - Throws: 400 when a value is not `*` or a list of entity tags (`"3"`, `W/"3"`; an empty value too).
    static func condition(_ request: Request) throws(Problem) -> Condition? {
        let values = request.headers[values: .ifMatch]
        guard !values.isEmpty else { return nil }
        var revisions: [Int] = []
        var any = false
        for value in values {
            let items = value.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for tag in items {
                if tag == "*" {
                    any = true
                    continue
                }
                let opaque = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
                guard opaque.count >= 2, opaque.hasPrefix("\""), opaque.hasSuffix("\""),
                    !opaque.dropFirst().dropLast().contains("\"")
                else {
                    throw Problem(
                        .badRequest,
                        "If-Match \"\(InputText.escaped(value, limit: 60))\" is not * or a list "
                            + "of entity tags such as \"3\" (RFC 9110 §13.1.1)")
                }
                if !tag.hasPrefix("W/"), let n = Int(opaque.dropFirst().dropLast()), n > 0 { revisions.append(n) }
            }
        }
        return any ? .any : .revisions(revisions)
    }

    /// The revision a change is made from: 428 without `If-Match`, 412 when it names another revision.
    static func require(_ request: Request, current: Int) throws(Problem) -> Int {
        switch try condition(request) {
        case nil: throw .preconditionRequired(current: current)
        case .any?: return current
        case .revisions(let list)?:
            guard list.contains(current) else { throw .stale(current: current) }
            return current
        }
    }
}

extension StoreError {
    var isNotFound: Bool {
        if case .notFound = kind { return true }
        return false
    }
}

/// The value `body` reads, or nil when the store has no such thing (any other failure is thrown).
func found<T>(_ body: () async throws -> T) async throws -> T? {
    do {
        return try await body()
    } catch let error as StoreError {
        if case .notFound = error.kind { return nil }
        throw error
    }
}
