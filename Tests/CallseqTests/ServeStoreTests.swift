// `callseq serve --store S --http HOST:PORT`, end to end through the API only: an account built over HTTP answers
// baresip's call, its sequence's text goes through the store's ledger to the (fake) provider, the call leaves a
// call record, and a saved change reaches the next call without SIGHUP.

import CallSequenceStore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("callseq serve --store: calls from the store", .serialized)
struct ServeStoreTests {
    /// `callseq serve --store S --send-sms` against `provider`, its SMS credentials (for `user`) and state
    /// in `folder`.
    func serveSendingTexts(
        store: String, provider: ProviderServer, user: String, in folder: URL, extra: [String] = []
    ) throws -> ServeProcess {
        let credentials = folder.appendingPathComponent("sms.json").path
        try #"{ "user": "\#(user)", "password": "st0re-S3cret" }"#.write(
            toFile: credentials, atomically: true, encoding: .utf8)
        return try ServeProcess(
            accounts: [],
            extra: [
                "--store", store, "--send-sms", "--sms-endpoint", provider.endpoint, "--sms-credentials", credentials,
                "--state-dir", folder.appendingPathComponent("state").path,
            ] + extra)
    }

    struct Answer {
        var status: Int
        var body: String
        var headers: [String: String]
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    }

    /// One API request.
    func call(
        _ method: String, _ url: String, key: String, json: String? = nil, body: Data? = nil,
        contentType: String? = nil, ifMatch: String? = nil
    ) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        } else if let body {
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        if let ifMatch { request.setValue(ifMatch, forHTTPHeaderField: "If-Match") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Answer(status: http?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self), headers: headers)
    }

    /// Dials `number` from a new baresip, presses 1 once the call is up, waits for the server's BYE; answers the
    /// digits baresip received as RFC 4733 events and when the call was established.
    func dialAndPressOne(
        _ number: String, port: Int, server: ServeProcess
    ) throws -> (digits: String, established: Date) {
        let phone = try Baresip()
        defer { phone.stop() }
        phone.command("dial", "sip:\(number)@127.0.0.1:\(port)")
        guard phone.waitForEvent(seconds: 60, { $0["type"] as? String == "CALL_ESTABLISHED" }) != nil else {
            throw LivePeerError("the call was not established: \(server.log.suffix(8))")
        }
        let established = Date()
        phone.command("sndcode", "1")
        guard phone.waitForEvent(seconds: 90, { $0["type"] as? String == "CALL_CLOSED" }) != nil else {
            throw LivePeerError("the server did not end the call: \(server.log.suffix(8))")
        }
        let digits = phone.events("CALL_DTMF_START").compactMap { $0["param"] as? String }.joined()
        return (digits, established)
    }

    @Test func anAccountBuiltThroughTheAPIAnswersCallsTextsOnceLeavesRecordsAndChangesWithoutReload() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("store.sqlite3").path
        let created = try CommandRunner.callseq("keys", "create", "--store", store, "--operator")
        #expect(created.status == 0, "\(created.stderr)")
        let operatorKey = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        let provider = try ProviderServer(script: [.success(id: 501), .success(id: 502)])
        defer { provider.shutdown() }

        let server = try serveSendingTexts(
            store: store, provider: provider, user: "door", in: folder, extra: ["--http", "127.0.0.1:0"])
        defer { _ = server.stop() }
        let httpLine = try #require(server.stdout.all.first { $0.hasPrefix("listening on http ") })
        let httpPort = try #require(httpLine.split(separator: ":").last.flatMap { Int($0) })
        let api = "http://127.0.0.1:\(httpPort)/api/v1"

        // The provider's side: an account, its key, a DID that can text.
        let account = try await call("POST", "\(api)/accounts", key: operatorKey, json: #"{"name":"Door"}"#)
        #expect(account.status == 201, "\(account.body)")
        let id = try #require(account.json?["id"] as? String)
        let keyAnswer = try await call(
            "POST", "\(api)/accounts/\(id)/keys", key: operatorKey, json: #"{"label":"door"}"#)
        #expect(keyAnswer.status == 201, "\(keyAnswer.body)")
        let key = try #require(keyAnswer.json?["key"] as? String)
        let number = try await call(
            "PUT", "\(api)/accounts/\(id)/numbers/5145550100", key: operatorKey,
            json: #"{"sms":true,"route":{"hangup":true}}"#)
        #expect(number.status == 201, "\(number.body)")

        // The customer's side, with its own key: an MP3, a sequence (it, 1234#, a text), an IVR with it on 1.
        let mp3 = try Data(contentsOf: URL(fileURLWithPath: testAudioPath("formats/prompt-44k-stereo.mp3")))
        let upload = try await call(
            "PUT", "\(api)/accounts/me/recordings/welcome", key: key, body: mp3, contentType: "audio/mpeg")
        #expect(upload.status == 201, "\(upload.body)")
        func door(_ digits: String) -> String {
            """
            {"name":"Door","steps":[{"type":"recording","recording":"welcome"},{"type":"dtmf","digits":"\(digits)"},\
            {"type":"sms","from":"5145550100","to":"5145550199","message":"Door opened"}]}
            """
        }
        let sequence = try await call("POST", "\(api)/accounts/me/sequences", key: key, json: door("1234#"))
        #expect(sequence.status == 201, "\(sequence.body)")
        let location = try #require(sequence.headers["location"])
        let ivr = try await call(
            "POST", "\(api)/accounts/me/ivrs", key: key,
            json: #"{"name":"Lobby","prompt":"none","options":{"1":{"sequence":"Door"}}}"#)
        #expect(ivr.status == 201, "\(ivr.body)")
        let route = try await call(
            "PUT", "\(api)/accounts/\(id)/numbers/5145550100", key: operatorKey,
            json: #"{"sms":true,"route":{"ivr":"Lobby"}}"#, ifMatch: number.headers["etag"])
        #expect(route.status == 200, "\(route.body)")

        // baresip calls, presses 1, receives 1234#; the provider gets the text once.
        let first = try dialAndPressOne("5145550100", port: server.port, server: server)
        #expect(first.digits == "1234#", "\(server.log.suffix(10))")
        var deadline = Date().addingTimeInterval(30)
        while provider.requests.isEmpty && Date() < deadline { usleep(20_000) }
        #expect(provider.requests.count == 1)
        #expect(
            provider.requests.first?.form["dst"] == "5145550199"
                && provider.requests.first?.form["message"] == "Door opened")

        // The call record, through the API.
        var records: [[String: Any]] = []
        deadline = Date().addingTimeInterval(30)
        while records.isEmpty && Date() < deadline {
            records =
                try await call("GET", "\(api)/accounts/me/calls", key: key).json?["calls"] as? [[String: Any]] ?? []
            if records.isEmpty { usleep(50_000) }
        }
        let record = try #require(records.first, "\(server.log.suffix(10))")
        #expect(records.count == 1)
        #expect(record["did"] as? String == "5145550100")
        #expect(record["ivrPath"] as? [String] == ["Lobby"])
        #expect(record["keys"] as? String == "1")
        #expect(record["sequence"] as? String == "Door")
        #expect(record["stepsDone"] as? Int == 3 && record["stepsTotal"] as? Int == 3, "\(record)")
        #expect(record["sms"] as? [String] == ["sent"], "\(record)")
        #expect(record["outcome"] as? String == "the sequence finished", "\(record)")
        #expect((record["durationMs"] as? Int ?? 0) > 2000, "\(record)")
        #expect(provider.requests.count == 1, "the text went out once")

        // A changed sequence reaches the next call, placed at once after the PUT's answer (no SIGHUP).
        let current = try await call("GET", "http://127.0.0.1:\(httpPort)\(location)", key: key)
        let saved = try await call(
            "PUT", "http://127.0.0.1:\(httpPort)\(location)", key: key, json: door("999#"),
            ifMatch: current.headers["etag"])
        let savedAt = Date()
        #expect(saved.status == 200, "\(saved.body)")
        let second = try dialAndPressOne("5145550100", port: server.port, server: server)
        #expect(second.digits == "999#", "\(server.log.suffix(10))")
        print(
            "PUT answered → the next call established in \(Int(second.established.timeIntervalSince(savedAt) * 1000)) ms (baresip's dial included), and it played the change"
        )

        // Records page and filter by DID and date.
        deadline = Date().addingTimeInterval(30)
        while records.count < 2 && Date() < deadline {
            records =
                try await call("GET", "\(api)/accounts/me/calls", key: key).json?["calls"] as? [[String: Any]] ?? []
            if records.count < 2 { usleep(50_000) }
        }
        #expect(records.count == 2)
        let page = try await call("GET", "\(api)/accounts/me/calls?limit=1", key: key)
        #expect((page.json?["calls"] as? [[String: Any]])?.count == 1 && page.json?["next"] is String, "\(page.body)")
        let other = try await call("GET", "\(api)/accounts/me/calls?did=5145550111", key: key)
        #expect((other.json?["calls"] as? [[String: Any]])?.isEmpty == true, "\(other.body)")
        let future = try await call("GET", "\(api)/accounts/me/calls?from=2099-01-01T00:00:00Z", key: key)
        #expect((future.json?["calls"] as? [[String: Any]])?.isEmpty == true, "\(future.body)")
        let ours = try await call("GET", "\(api)/accounts/me/calls?did=5145550100&from=2020-01-01T00:00:00Z", key: key)
        #expect((ours.json?["calls"] as? [[String: Any]])?.count == 2, "\(ours.body)")
        // Both texts in the store's ledger, each once.
        let texts = try await call("GET", "\(api)/accounts/me/sms", key: key)
        let states = (texts.json?["texts"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
        #expect(states == ["sent", "sent"], "\(texts.body)")
        #expect(provider.requests.count == 2)
        #expect(server.stop() == 0)
    }

    /// A change written by another process (the command line here; another node in a cluster) is seen by polling:
    /// a number nobody had (404, remembered) is answered once an account with it is imported, with no SIGHUP.
    @Test func aNumberImportedByAnotherProcessIsAnsweredWithoutReload() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("store.sqlite3").path
        #expect(try CommandRunner.callseq("keys", "create", "--store", store, "--operator").status == 0)
        let server = try ServeProcess(accounts: [], extra: ["--store", store, "--trusted-proxy", "127.0.0.1"])
        defer { _ = server.stop() }
        let nobody = try runSIPp("not-found.xml", service: "5145550100", port: server.port)
        #expect(nobody.status == 0, "\(nobody.stdout.suffix(400)) \(server.log.suffix(5))")

        let imported = try CommandRunner.callseq("import", testAudioPath("../Examples/account.json"), "--store", store)
        #expect(imported.status == 0, "\(imported.stderr)")
        let importedAt = Date()
        // The server's poll (every 300 ms) sees the change and drops what it remembered about the number.
        let seen = server.stderr.wait(seconds: 10) { $0.contains("store changed") }
        #expect(seen != nil, "\(server.log.suffix(5))")
        print("a change by another process seen after \(Int(Date().timeIntervalSince(importedAt) * 1000)) ms")
        let answered = try runSIPp("call.xml", service: "5145550100", port: server.port, extra: ["-d", "500"])
        #expect(answered.status == 0, "\(answered.stdout.suffix(400)) \(server.log.suffix(8))")
        #expect(server.log.contains { $0.contains("calls 5145550100 (acc_") }, "\(server.log.suffix(8))")
        #expect(server.stop() == 0)
    }

    /// SIGTERM while a call's text is still at the provider: shutdown waits (bounded) for the text's outcome, and
    /// the call's record is written with it before the process exits.
    @Test func aCallRecordIsWrittenWhenTheServerStopsWhileItsTextIsStillBeingSent() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite3").path
        let account = folder.appendingPathComponent("gate.json").path
        try """
        { "capabilities": { "sequences": true, "sms": true, "smsDailyLimit": 10 },
          "dids": [ { "number": "5145550100", "sms": true, "route": { "ivr": "Lobby" } } ],
          "ivrs": [ { "name": "Lobby", "prompt": "none", "options": { "1": { "sequence": "Gate" } } } ],
          "sequences": [ { "name": "Gate", "steps": [
            { "type": "dtmf", "digits": "1#" },
            { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "Gate opened" } ] } ] }
        """.write(toFile: account, atomically: true, encoding: .utf8)
        let imported = try CommandRunner.callseq("import", account, "--store", path)
        #expect(imported.status == 0, "\(imported.stderr)")
        // The provider answers after 5 s: the call is over long before.
        let provider = try ProviderServer(script: [.slow(milliseconds: 5000, id: 601)])
        defer { provider.shutdown() }
        let server = try serveSendingTexts(store: path, provider: provider, user: "gate", in: folder)
        defer { _ = server.stop() }

        // The call: 1 pressed, the sequence runs (its text goes to the provider), the server hangs up.
        let phone = try Baresip()
        defer { phone.stop() }
        phone.command("dial", "sip:5145550100@127.0.0.1:\(server.port)")
        #expect(
            phone.waitForEvent(seconds: 60, { $0["type"] as? String == "CALL_ESTABLISHED" }) != nil,
            "\(server.log.suffix(8))")
        phone.command("sndcode", "1")
        #expect(
            phone.waitForEvent(seconds: 90, { $0["type"] as? String == "CALL_CLOSED" }) != nil,
            "\(server.log.suffix(8))")
        // The call is over, its text is still at the provider: SIGTERM now.
        #expect(provider.requests.count <= 1)
        #expect(!server.log.contains { $0.contains("SMS to 5145550199") }, "the text finished before the SIGTERM")
        let stoppedAt = Date()
        #expect(server.stop(seconds: 60) == 0, "\(server.log.suffix(8))")
        let waited = Date().timeIntervalSince(stoppedAt)
        print("SIGTERM with a text at the provider: exited after \(Int(waited * 1000)) ms")
        #expect(server.log.contains { $0.contains("call records: waiting up to") }, "\(server.log.suffix(8))")

        let store = try await SQLiteStore.open(path: path)
        let id = try #require(try await store.numberOwner("5145550100")?.account)
        let records = try await store.callRecords(account: id, filter: CallFilter(), page: .first)
        let record = try #require(records.items.first, "no call record: \(server.log.suffix(8))")
        #expect(records.items.count == 1)
        #expect(record.sequence == "Gate" && record.keys == "1")
        #expect(record.smsOutcomes == ["sent"], "\(record.smsOutcomes) \(server.log.suffix(8))")
        #expect(provider.requests.count == 1)
        let texts = try await store.smsEntries(account: id, page: .first)
        #expect(texts.items.map(\.state) == [.sent], "\(texts.items)")
    }

    /// A text a stopped node left `reserved` (it died between the reservation and the provider's answer, so the
    /// text may have gone out) becomes `unknown` once older than the longest possible send: still counted, never
    /// sent again. A fresh reservation (a live node's send under way) and a finished text are left alone.
    @Test func textsLeftReservedByAStoppedNodeBecomeUnknown() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite3").path
        let store = try await SQLiteStore.open(path: path)
        let account = try await store.createAccount(NewAccount(name: "Gate"), origin: .commandLine)
        func reserve(_ call: String, minutesAgo: Double) async throws -> Int64 {
            let request = SMSRequest(
                account: account.id, callID: call, step: 1, from: "5145550100", to: "5145550199",
                message: "Gate opened", dailyLimit: 10, time: Date().addingTimeInterval(-minutesAgo * 60))
            let reservation = try await store.reserveSMS(request)
            guard case .reserved(let id) = reservation else {
                Issue.record("\(call): \(reservation)")
                return -1
            }
            return id
        }
        let stale = try await reserve("call-of-a-dead-node", minutesAgo: 10)
        let fresh = try await reserve("call-in-progress", minutesAgo: 0)
        let finished = try await reserve("call-done", minutesAgo: 10)
        try await store.finishSMS(id: finished, state: .sent, providerID: "prov-9", detail: nil)

        let provider = try ProviderServer(script: [])
        defer { provider.shutdown() }
        let server = try serveSendingTexts(store: path, provider: provider, user: "gate", in: folder)
        let said = server.stderr.wait(seconds: 60) { $0.contains("texts still reserved after") }
        #expect(server.stop(seconds: 60) == 0, "\(server.log.suffix(8))")
        #expect(said?.contains("1 texts still reserved") == true, "\(server.log.suffix(8))")

        let texts = try await store.smsEntries(account: account.id, page: .first).items
        let byID = Dictionary(uniqueKeysWithValues: texts.map { ($0.id, $0) })
        #expect(byID[stale]?.state == .unknown, "\(texts)")
        #expect(byID[stale]?.detail?.contains("not sent again") == true)
        #expect(byID[fresh]?.state == .reserved, "a live node's send is not taken away: \(texts)")
        #expect(byID[finished]?.state == .sent && byID[finished]?.providerID == "prov-9")
        #expect(provider.requests.isEmpty, "nothing is sent again")
    }

    /// `--call-records-days`: records older than the retention are deleted (at start, then every hour); newer
    /// ones stay.
    @Test func callRecordsPastTheRetentionAreDeleted() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite3").path
        let store = try await SQLiteStore.open(path: path)
        let account = try await store.createAccount(NewAccount(name: "Gate"), origin: .commandLine)
        func record(daysAgo: Double) -> CallRecord {
            CallRecord(
                time: Date().addingTimeInterval(-daysAgo * 86_400), account: account.id, caller: "alice",
                did: "5145550100", ivrPath: ["Lobby"], keys: "1", sequence: "Gate", stepsDone: 2, stepsTotal: 2,
                smsOutcomes: [], outcome: "the sequence finished", durationMs: 4000)
        }
        _ = try await store.appendCallRecord(record(daysAgo: 45))
        _ = try await store.appendCallRecord(record(daysAgo: 5))
        let server = try ServeProcess(accounts: [], extra: ["--store", path, "--call-records-days", "30"])
        defer { _ = server.stop() }
        #expect(
            server.stderr.wait(seconds: 30) { $0.contains("call records: 1 older than 30 days deleted") } != nil,
            "\(server.log.suffix(5))")
        let left = try await store.callRecords(account: account.id, filter: CallFilter(), page: .first)
        #expect(
            left.items.count == 1 && left.items.first?.time ?? .distantPast > Date().addingTimeInterval(-6 * 86_400))
        #expect(server.stop() == 0)
    }
}
