import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import HummingbirdTesting
import ManagementAPI
import NIOCore
import Testing

/// A fresh SQLite store in a temporary folder, with an operator key, and the API's router over it.
struct APIHarness {
    let folder: String
    let store: SQLiteStore
    let operatorKey: String
    var api: ManagementAPI

    init(limits: APILimits = APILimits()) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        store = try await SQLiteStore.open(path: folder + "/store.sqlite3")
        operatorKey = try await store.createKey(account: nil, isOperator: true, label: "operator", origin: .commandLine)
            .secret
        api = ManagementAPI(store: store, limits: limits)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// Runs `body` with a client of the router (no socket).
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: api.router())
        try await app.test(.router) { client in try await body(client) }
    }
}

/// One answer, read whole.
struct Answer {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONValue.parse(text) }
    subscript(_ key: String) -> JSONValue? { json?[key] }
    var etag: String? { headers[.eTag] }
}

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ uri: String, key: String?, json: String? = nil, body: [UInt8]? = nil,
        contentType: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        var buffer: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(string: json)
        } else if let body {
            buffer = ByteBuffer(bytes: body)
            if let contentType { headers[.contentType] = contentType }
        }
        return try await execute(uri: uri, method: method, headers: headers, body: buffer) { response in
            Answer(status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
        }
    }
}

extension JSONValue {
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let x) = self { Int(exactly: x) } else { nil } }
    var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
}

/// Creates a direct account and a key for it through the API; answers (id, key).
func makeAccount(
    _ client: any TestClientProtocol, operatorKey: String, name: String,
    body: String? = nil
) async throws -> (id: String, key: String) {
    let created = try await client.call(
        .post, "/api/v1/accounts", key: operatorKey, json: body ?? #"{"name":"\#(name)"}"#)
    #expect(created.status == .created, "\(created.text)")
    let id = try #require(created["id"]?.string)
    let key = try await client.call(.post, "/api/v1/accounts/\(id)/keys", key: operatorKey)
    #expect(key.status == .created, "\(key.text)")
    return (id, try #require(key["key"]?.string))
}
