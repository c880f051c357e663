import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ManagementAPI

let lobby = #"{"name":"Lobby","prompt":"none","options":{"1":{"sequence":"Front door"},"0":{"hangup":true}}}"#
let frontDoor = #"{"name":"Front door","steps":[{"type":"dtmf","digits":"1234#"}]}"#

@Suite("Management API")
struct ManagementAPITests {
    @Test func theDocumentAndTheRouterListTheSameOperations() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/ManagementAPI/openapi.yaml").standardized.path
        let committed = try String(contentsOfFile: source, encoding: .utf8)
        #expect(
            committed == OpenAPIDocument.text + "\n" || committed == OpenAPIDocument.text,
            "run Scripts/embed-openapi.sh")
        // Paths are at two spaces of indentation, their methods at four.
        var documented = Set<String>()
        var path = ""
        for line in committed.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            for method in ["get", "put", "post", "patch", "delete"] where line == "    \(method):" {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let routed = Set(ManagementAPI.routeTable.map { "\($0.method) \($0.path)" })
        #expect(documented.subtracting(routed).isEmpty, "documented, not routed: \(documented.subtracting(routed))")
        #expect(routed.subtracting(documented).isEmpty, "routed, not documented: \(routed.subtracting(documented))")
    }

    @Test func withoutAValidKeyEveryAPIPathIs401ProblemJSON() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            for key in [nil, "csk_wrong"] as [String?] {
                let answer = try await client.call(.get, "/api/v1/accounts", key: key)
                #expect(answer.status == .unauthorized)
                #expect(answer.headers[.contentType] == "application/problem+json")
                #expect(answer["status"]?.int == 401)
                #expect(answer["title"]?.string == "Unauthorized")
            }
            #expect(try await client.call(.get, "//api/v1/accounts", key: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/no/such/path", key: nil).status == .unauthorized)
            let missing = try await client.call(.get, "/api/v1/nothing", key: h.operatorKey)
            #expect(missing.status == .notFound && missing.headers[.contentType] == "application/problem+json")
            let health = try await client.call(.get, "/healthz", key: nil)
            #expect(health.status == .ok && health.text == "ok\n")
            let document = try await client.call(.get, "/openapi.yaml", key: nil)
            #expect(document.status == .ok && document.text.hasPrefix("openapi: 3.0.3"))
        }
    }

    @Test func aMethodThePathDoesNotSupportIs405WithAllow() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let patch = try await client.call(
                .patch, "/api/v1/accounts/me/sequences", key: h.operatorKey, json: frontDoor)
            #expect(patch.status == .methodNotAllowed)
            #expect(patch.headers[.allow] == "GET, POST")
            #expect(patch.headers[.contentType] == "application/problem+json" && patch["status"]?.int == 405)
            let delete = try await client.call(.delete, "/api/v1/me", key: h.operatorKey)
            #expect(delete.status == .methodNotAllowed && delete.headers[.allow] == "GET")
            // Without a key it is still 401: who is asking is checked first.
            #expect(try await client.call(.delete, "/api/v1/me", key: nil).status == .unauthorized)
            // A supported method on the same path is unaffected.
            #expect(try await client.call(.get, "/api/v1/me", key: h.operatorKey).status == .ok)
        }
    }

    @Test func anAccountKeySeesItsAccountAndAnotherTenantsIs404() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            let b = try await makeAccount(client, operatorKey: h.operatorKey, name: "Bob")
            let me = try await client.call(.get, "/api/v1/accounts/me", key: a.key)
            #expect(me.status == .ok && me["id"]?.string == a.id && me.etag == "\"1\"")
            let other = try await client.call(.get, "/api/v1/accounts/\(b.id)", key: a.key)
            #expect(other.status == .notFound && other.headers[.contentType] == "application/problem+json")
            let created = try await client.call(.post, "/api/v1/accounts/me/sequences", key: b.key, json: frontDoor)
            #expect(created.status == .created)
            let location = try #require(created.headers[.location])
            #expect(try await client.call(.get, location, key: b.key).status == .ok)
            #expect(
                try await client.call(.get, location.replacingOccurrences(of: b.id, with: a.id), key: a.key).status
                    == .notFound)
            let list = try await client.call(.get, "/api/v1/accounts", key: a.key)
            #expect(list["accounts"]?.array?.count == 1)
            let all = try await client.call(.get, "/api/v1/accounts", key: h.operatorKey)
            #expect(all["accounts"]?.array?.count == 2)
            #expect(
                try await client.call(.post, "/api/v1/accounts", key: a.key, json: #"{"name":"x"}"#).status
                    == .forbidden)
        }
    }

    @Test func aResellerSeesItsClientsAndTheirSMSStepsAre422() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let r = try await makeAccount(
                client, operatorKey: h.operatorKey, name: "Reseller", body: #"{"name":"Reseller","kind":"reseller"}"#)
            let package = try await client.call(
                .put, "/api/v1/accounts/me/packages/basic", key: r.key, json: #"{"sequences":true}"#)
            #expect(package.status == .ok, "\(package.text)")
            let c = try await client.call(
                .post, "/api/v1/accounts", key: r.key, json: #"{"name":"Client","package":"basic"}"#)
            #expect(c.status == .created, "\(c.text)")
            let clientID = try #require(c["id"]?.string)
            #expect(c["kind"]?.string == "client" && c["parent"]?.string == r.id)
            #expect(c.json?["capabilities"]?["sms"] == .bool(false))
            let sms = #"{"name":"Text","steps":[{"type":"sms","from":"5145550100","to":"5145550199","message":"hi"}]}"#
            let refused = try await client.call(.post, "/api/v1/accounts/\(clientID)/sequences", key: r.key, json: sms)
            #expect(refused.status == .unprocessableContent)
            let error = refused["errors"]?.array?.first
            #expect(error?["pointer"]?.string == "/steps/0")
            #expect(
                error?["detail"]?.string
                    == "this account cannot send SMS (a reseller's client account): remove the SMS step")
            let other = try await makeAccount(client, operatorKey: h.operatorKey, name: "Other")
            #expect(try await client.call(.get, "/api/v1/accounts/\(clientID)", key: other.key).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/accounts/\(clientID)", key: r.key).status == .ok)
        }
    }

    @Test func validationListsEveryProblemWithItsPointerAndTheCLIText() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            let bad =
                #"{"name":"Door","steps":[{"type":"dtmf","digits":"12x"},{"type":"recording","recording":"welcome"},{"type":"sms","from":"5145550100","to":"5145550199","message":"open"}]}"#
            let answer = try await client.call(.post, "/api/v1/accounts/me/sequences", key: a.key, json: bad)
            #expect(answer.status == .unprocessableContent)
            #expect(answer.headers[.contentType] == "application/problem+json")
            let pointers = answer["errors"]?.array?.compactMap { $0["pointer"]?.string } ?? []
            #expect(pointers == ["/steps/0/digits", "/steps/1/recording"], "\(answer.text)")
            let details = answer["errors"]?.array?.compactMap { $0["detail"]?.string } ?? []
            #expect(details.last == "no recording named 'welcome' in the account's recordings (it is empty)")
            // Once the steps are right, the account's rules: texts only from its SMS-enabled numbers.
            let sms =
                #"{"name":"Door","steps":[{"type":"dtmf","digits":"12"},{"type":"sms","from":"5145550100","to":"5145550199","message":"open"}]}"#
            let sender = try await client.call(.post, "/api/v1/accounts/me/sequences/validate", key: a.key, json: sms)
            #expect(sender.status == .unprocessableContent)
            #expect(sender["errors"]?.array?.first?["pointer"]?.string == "/steps/1/from")
            #expect(
                sender["errors"]?.array?.first?["detail"]?.string
                    == "5145550100 is not an SMS-enabled number of this account (it has none)")
            let fine = try await client.call(
                .post, "/api/v1/accounts/me/sequences/validate", key: a.key, json: frontDoor)
            #expect(fine.status == .ok && fine["valid"] == .bool(true))
            print("422 example: \(answer.text)")
            // Control characters in a name are refused.
            let control = try await client.call(
                .post, "/api/v1/accounts/me/sequences", key: a.key,
                json: #"{"name":"Door\u0007","steps":[{"type":"dtmf","digits":"1"}]}"#)
            #expect(
                control.status == .unprocessableContent
                    && control["errors"]?.array?.first?["pointer"]?.string == "/name")
            // Depth and size are bounded before parsing.
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            #expect(
                try await client.call(.post, "/api/v1/accounts/me/sequences", key: a.key, json: deep).status
                    == .badRequest)
            let huge = #"{"name":""# + String(repeating: "a", count: 2 << 20) + #""}"#
            #expect(
                try await client.call(.post, "/api/v1/accounts/me/sequences", key: a.key, json: huge).status
                    == .contentTooLarge)
            let plain = try await client.call(
                .post, "/api/v1/accounts/me/sequences", key: a.key, body: Array(frontDoor.utf8),
                contentType: "text/plain")
            #expect(plain.status == .unsupportedMediaType)
        }
    }

    @Test func aNumberRoutedToASequenceIs422AtRoute() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            #expect(
                try await client.call(.post, "/api/v1/accounts/me/sequences", key: a.key, json: frontDoor).status
                    == .created)
            let answer = try await client.call(
                .put, "/api/v1/accounts/\(a.id)/numbers/5145550100", key: h.operatorKey,
                json: #"{"sms":true,"route":{"sequence":"Front door"}}"#)
            #expect(answer.status == .unprocessableContent)
            #expect(answer["errors"]?.array?.first?["pointer"]?.string == "/route")
            #expect(
                answer["errors"]?.array?.first?["detail"]?.string
                    == "a sequence can only be used as an IVR option; route this number to an IVR whose option runs it")
            // The account itself may not assign numbers.
            let own = try await client.call(
                .put, "/api/v1/accounts/me/numbers/5145550100", key: a.key, json: #"{"route":{"hangup":true}}"#)
            #expect(own.status == .forbidden)
            // The IVR, then the number routed to it.
            let ivr = try await client.call(.post, "/api/v1/accounts/me/ivrs", key: a.key, json: lobby)
            #expect(ivr.status == .created, "\(ivr.text)")
            let number = try await client.call(
                .put, "/api/v1/accounts/\(a.id)/numbers/5145550100", key: h.operatorKey,
                json: #"{"sms":true,"route":{"ivr":"Lobby"}}"#)
            #expect(number.status == .created && number.etag == "\"1\"", "\(number.text)")
            let change = try await client.call(
                .put, "/api/v1/accounts/me/numbers/5145550100", key: a.key,
                json: #"{"sms":false,"route":{"ivr":"Lobby"}}"#)
            #expect(change.status.code == 428)
        }
    }

    @Test func etagsRevisionsAndRestore() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            let created = try await client.call(.post, "/api/v1/accounts/me/sequences", key: a.key, json: frontDoor)
            #expect(created.status == .created && created.etag == "\"1\"")
            let location = try #require(created.headers[.location])
            let v2 = #"{"name":"Front door","steps":[{"type":"dtmf","digits":"9876#"}]}"#
            let noMatch = try await client.call(.put, location, key: a.key, json: v2)
            #expect(noMatch.status.code == 428 && noMatch.headers[.contentType] == "application/problem+json")
            let saved = try await client.call(.put, location, key: a.key, json: v2, headers: [.ifMatch: "\"1\""])
            #expect(saved.status == .ok && saved.etag == "\"2\"")
            let stale = try await client.call(.put, location, key: a.key, json: v2, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == .preconditionFailed && stale.etag == "\"2\"")
            let revisions = try await client.call(.get, "\(location)/revisions", key: a.key)
            #expect(revisions["revisions"]?.array?.compactMap { $0["revision"]?.int } == [2, 1])
            let first = try await client.call(.get, "\(location)/revisions/1", key: a.key)
            #expect(first.text.contains("1234#"))
            let restored = try await client.call(
                .post, "\(location)/revisions/1/restore", key: a.key, headers: [.ifMatch: "\"2\""])
            #expect(restored.status == .ok && restored.etag == "\"3\"" && restored.text.contains("1234#"))
            // In use by an IVR option: 409 naming it.
            let ivr = try await client.call(.post, "/api/v1/accounts/me/ivrs", key: a.key, json: lobby)
            #expect(ivr.status == .created)
            let delete = try await client.call(.delete, location, key: a.key, headers: [.ifMatch: "\"3\""])
            #expect(delete.status == .conflict && delete.text.contains("Lobby"), "\(delete.text)")
            // Renaming keeps the IVR option that runs it.
            let renamed = try await client.call(
                .put, location, key: a.key,
                json: #"{"name":"Gate","steps":[{"type":"dtmf","digits":"1234#"}]}"#,
                headers: [.ifMatch: "\"3\""])
            #expect(renamed.status == .ok && renamed.etag == "\"4\"", "\(renamed.text)")
            let option = try await client.call(.get, try #require(ivr.headers[.location]), key: a.key)
            #expect(option.json?["options"]?["1"]?["sequence"]?.string == "Gate", "\(option.text)")
            let audit = try await client.call(.get, "/api/v1/accounts/me/audit", key: a.key)
            let actions = audit["entries"]?.array?.compactMap { $0["action"]?.string } ?? []
            #expect(actions.contains("sequence.restore") && actions.contains("sequence.update"), "\(actions)")
        }
    }

    @Test func eachKeyIsRateLimitedWithRetryAfter() async throws {
        let h = try await APIHarness(limits: APILimits(requestsPerSecond: 0.01, burst: 3))
        defer { h.remove() }
        try await h.test { client in
            for _ in 0..<3 { #expect(try await client.call(.get, "/api/v1/me", key: h.operatorKey).status == .ok) }
            let limited = try await client.call(.get, "/api/v1/me", key: h.operatorKey)
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
    }
}

@Suite("Management API: import and export")
struct ImportExportTests {
    @Test func anAccountFileImportedThenExportedKeepsItsContentsAndTheAccountsCapabilities() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(
                client, operatorKey: h.operatorKey, name: "Alice",
                body: #"{"name":"Alice","capabilities":{"sms":false}}"#)
            let file = #"{"capabilities":{"sms":true},"ivrs":[\#(lobby)],"sequences":[\#(frontDoor)]}"#
            // Without If-Match: 428; then the account's own capabilities hold (no SMS), the file's are ignored.
            #expect(
                try await client.call(.put, "/api/v1/accounts/me/import", key: a.key, json: file).status.code == 428)
            let imported = try await client.call(
                .put, "/api/v1/accounts/me/import", key: a.key, json: file, headers: [.ifMatch: "\"1\""])
            #expect(imported.status == .ok, "\(imported.text)")
            #expect(imported.json?["capabilities"]?["sms"] == .bool(false))
            let exported = try await client.call(.get, "/api/v1/accounts/me/export", key: a.key)
            #expect(
                exported.status == .ok && exported.text.contains("\"Front door\"")
                    && exported.text.contains("\"Lobby\""))
            // An SMS step is checked against those capabilities.
            let sms =
                #"{"sequences":[{"name":"T","steps":[{"type":"sms","from":"5145550100","to":"5145550199","message":"x"}]}]}"#
            let etag = try #require(imported.etag)
            let refused = try await client.call(
                .put, "/api/v1/accounts/me/import", key: a.key, json: sms, headers: [.ifMatch: etag])
            #expect(
                refused.status == .unprocessableContent
                    && refused["errors"]?.array?.first?["pointer"]?.string == "/sequences/0/steps/0")
        }
    }
}
