// `callseq serve --store S --http HOST:PORT`: the management API in serve's ServiceGroup, through a real socket.

import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("callseq serve --http")
struct ServeHTTPTests {
    /// One request; answers the status and the body.
    func request(_ url: String, key: String?, method: String = "GET", json: String? = nil) async throws -> (Int, String)
    {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func theHTTPLineComesFirstThenSIPsAndTheAPIAnswersWithTheFirstKey() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("store.sqlite3").path
        let created = try CommandRunner.callseq("keys", "create", "--store", store, "--operator")
        #expect(created.status == 0, "\(created.stderr)")
        let key = try #require(created.stdout.split(separator: "\n").last.map(String.init))

        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: CommandRunner.callseqPath)
        serve.arguments = [
            "serve", "--store", store, "--http", "127.0.0.1:0",
            "--account", testAudioPath("../Examples/account.json"), "--listen", "127.0.0.1:0",
        ]
        let out = Pipe()
        let err = Pipe()
        serve.standardOutput = out
        serve.standardError = err
        let stdout = LineCollector()
        stdout.attach(out)
        let stderr = LineCollector()
        stderr.attach(err)
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }
        _ = stdout.wait(seconds: 60) { $0.hasPrefix("listening on udp ") }
        let lines = stdout.all
        #expect(lines.count >= 2, "\(stderr.all.suffix(5))")
        let first = try #require(lines.first)
        #expect(first.hasPrefix("listening on http 127.0.0.1:"))
        #expect(lines.dropFirst().first?.hasPrefix("listening on udp 127.0.0.1:") == true)
        let port = try #require(first.split(separator: ":").last.flatMap { Int($0) })
        let base = "http://127.0.0.1:\(port)"

        let (health, healthBody) = try await request("\(base)/healthz", key: nil)
        #expect(health == 200 && healthBody == "ok\n")
        let (anonymous, problem) = try await request("\(base)/api/v1/accounts", key: nil)
        #expect(anonymous == 401 && problem.contains("\"status\": 401"))
        let (made, account) = try await request(
            "\(base)/api/v1/accounts", key: key, method: "POST", json: #"{"name":"Alice"}"#)
        #expect(made == 201 && account.contains("\"name\": \"Alice\""), "\(account)")
        // GET /metrics on the API's port: the node's Prometheus text for the operator, 403 for a tenant's key.
        let (scraped, metrics) = try await request("\(base)/metrics", key: key)
        #expect(scraped == 200, "\(metrics)")
        #expect(
            metrics.contains("\ncallseq_calls_active 0") || metrics.hasPrefix("callseq_calls_active 0"), "\(metrics)")
        #expect(metrics.contains("callseq_media_send_lateness_seconds_count 0"), "\(metrics)")
        let (unsigned, _) = try await request("\(base)/metrics", key: nil)
        #expect(unsigned == 401)
        let accountJSON = try #require(JSONSerialization.jsonObject(with: Data(account.utf8)) as? [String: Any])
        let accountID = try #require(accountJSON["id"] as? String)
        let (keyMade, keyBody) = try await request(
            "\(base)/api/v1/accounts/\(accountID)/keys", key: key, method: "POST",
            json: #"{"label":"tenant"}"#)
        #expect(keyMade == 201, "\(keyBody)")
        let keyJSON = try #require(JSONSerialization.jsonObject(with: Data(keyBody.utf8)) as? [String: Any])
        let tenantKey = try #require(keyJSON["key"] as? String)
        let (tenantScrape, tenantProblem) = try await request("\(base)/metrics", key: tenantKey)
        #expect(
            tenantScrape == 403 && tenantProblem.contains("only an operator key reads /metrics"), "\(tenantProblem)")
        let (document, yaml) = try await request("\(base)/openapi.yaml", key: nil)
        #expect(document == 200 && yaml.hasPrefix("openapi: 3.0.3"))

        kill(serve.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while serve.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!serve.isRunning && serve.terminationStatus == 0)
    }
}
