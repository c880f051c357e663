import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import TelephonyDSP

// Reading requests: path parameters, bounded JSON bodies, the tenant an `{account}` names.

extension ManagementAPI {
    /// A path parameter (the router guarantees it), bounded and free of control characters.
    func parameter(_ context: APIRequestContext, _ name: String) throws(Problem) -> String {
        guard let value = context.parameters.get(name) else { throw Problem(.badRequest, "missing \(name)") }
        guard value.utf8.count <= 200 else { throw Problem(.notFound, "no such \(name) (longer than any)") }
        if let problem = InputText.problem(in: value) {
            throw Problem(.badRequest, "the \(name) \"\(InputText.escaped(value, limit: 40))\" \(problem)")
        }
        return value
    }

    /// `?limit=` and `?cursor=` of a list.
    func page(_ request: Request) throws(Problem) -> PageRequest {
        var limit = 100
        if let text = request.uri.queryParameters["limit"] {
            guard let n = Int(String(text)), (1...PageRequest.maximumLimit).contains(n) else {
                throw Problem(.badRequest, "limit must be a whole number in 1...\(PageRequest.maximumLimit)")
            }
            limit = n
        }
        let cursor = request.uri.queryParameters["cursor"].map(String.init)
        if let cursor, cursor.utf8.count > 200 { throw Problem(.badRequest, "the cursor is not one this API gave") }
        return PageRequest(limit: limit, cursor: cursor)
    }

    /// `?limit=` and `?cursor=` of a newest-first log (audit, texts, calls), whose cursors are entry numbers.
    func logPage(_ request: Request) throws(Problem) -> PageRequest {
        let page = try page(request)
        if let cursor = page.cursor, !(Int64(cursor).map { $0 > 0 } ?? false) {
            throw Problem(.badRequest, "the cursor is not one this API gave (a log's cursor is an entry number)")
        }
        return page
    }

    /// The body as JSON: 415 unless `application/json`, 413 past 1 MiB, 400 when it is not UTF-8 or not
    /// JSON or nested deeper than 32 levels (checked before parsing, so no input can exhaust the stack).
    func readJSON(_ request: Request) async throws -> (text: String, value: JSONValue) {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
        else {
            throw Problem(
                .unsupportedMediaType,
                "the body must be application/json"
                    + (mediaType.isEmpty
                        ? " (no Content-Type was given)" : ", not \(InputText.escaped(mediaType, limit: 60))"),
                headers: [.accept: "application/json"])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: APILimits.maximumJSONBytes)
        } catch {
            throw Problem(.contentTooLarge, "the body is larger than \(APILimits.maximumJSONBytes) bytes")
        }
        let data = Array(buffer.readableBytesView)
        guard let text = String(validating: data, as: UTF8.self) else {
            throw Problem(.badRequest, "the body is not UTF-8 text")
        }
        if let depth = JSONDepth.exceeds(data, limit: APILimits.maximumJSONDepth) {
            throw Problem(
                .badRequest, "the JSON is nested deeper than \(APILimits.maximumJSONDepth) levels (at byte \(depth))")
        }
        do {
            return (text, try JSONValue.parse(text))
        } catch {
            throw Problem(.badRequest, "invalid JSON at \(error)")
        }
    }

    // MARK: - Tenancy

    /// The account `{account}` names, if the key may see it: its own, a reseller's client, any for the
    /// operator. Anything else is 404, exactly as an account that does not exist.
    func account(_ context: APIRequestContext) async throws -> AccountRecord {
        let key = try context.key()
        var id = try parameter(context, "account")
        if id == "me" {
            guard let own = key.account else { throw Problem.notFound("account: this operator key has none") }
            id = own
        }
        guard let record = try await found({ try await store.account(id) }) else {
            throw Problem.notFound("account \(InputText.escaped(id, limit: 64))")
        }
        guard canSee(record, key) else { throw Problem.notFound("account \(InputText.escaped(id, limit: 64))") }
        return record
    }

    func canSee(_ account: AccountRecord, _ key: KeyIdentity) -> Bool {
        if key.isOperator { return true }
        guard let own = key.account else { return false }
        return account.id == own || account.kind.parent == own
    }

    /// Whether the key manages `account` from above: the operator, or the reseller of a client.
    func manages(_ account: AccountRecord, _ key: KeyIdentity) -> Bool {
        key.isOperator || (key.account != nil && account.kind.parent == key.account)
    }
}

/// Nesting depth of JSON text, counted without parsing (brackets outside strings).
enum JSONDepth {
    /// The offset where `limit` is exceeded, or nil.
    static func exceeds(_ bytes: [UInt8], limit: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for (i, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > limit { return i }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return nil
    }
}
