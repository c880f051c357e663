import Foundation
import TestSupport
import Testing

/// Texts from the command line: the ledger across runs, restarts and kill -9; what is printed.
@Suite("callseq texts: ledger, daily limit, at most once", .serialized)
struct SMSCLITests {
    let secret = "cli-S3cret-pw"
    var environment: [String: String] { ["CALLSEQ_SMS_USER": "acme", "CALLSEQ_SMS_PASSWORD": secret] }

    /// Examples/account.json with another daily limit, in `dir` (its recordings by absolute path).
    func account(limit: Int, in dir: URL) throws -> String {
        let example = testAudioPath("../Examples/account.json")
        let recordings = URL(fileURLWithPath: example).deletingLastPathComponent().appendingPathComponent("recordings")
            .path
        var text = try String(contentsOfFile: example, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"smsDailyLimit\": 100", with: "\"smsDailyLimit\": \(limit)")
            .replacingOccurrences(of: "\"recordings\": \"recordings\"", with: "\"recordings\": \"\(recordings)\"")
        let path = dir.appendingPathComponent("account.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func ivr(_ account: String, _ dir: URL, _ server: ProviderServer, state: URL) throws -> CommandResult {
        try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "ivr", account, "--did", "5145550100", "--press", "1", "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir", state.path,
                // The account's recordings are the examples' (an absolute path): the operator allows them.
                "--recordings-root", URL(fileURLWithPath: testAudioPath("../Examples")).standardized.path,
            ],
            environment: environment)
    }

    @Test func aLimitOfOneHoldsAcrossTwoRunsWithOneStateDirectory() throws {
        let server = try ProviderServer(script: [.success(id: 1), .success(id: 2)])
        defer { server.shutdown() }
        let dir = try temporaryDirectory()
        let state = dir.appendingPathComponent("state")
        let file = try account(limit: 1, in: dir)
        let first = try ivr(file, dir, server, state: state)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("SMS to 5145550199: sent, provider id 1 (1 attempt)"))
        let second = try ivr(file, dir, server, state: state)
        #expect(second.status == 1)
        #expect(second.stdout.contains("SMS to 5145550199: failed: the daily limit of 1 texts is reached (0 attempts)"))
        #expect(server.requests.count == 1)
        let log = try CommandRunner.callseq("sms", "log", "--state-dir", state.path)
        #expect(log.status == 0, "\(log.stderr)")
        #expect(
            log.stdout.contains("#1 ")
                && log.stdout.contains(" sent 5145550100 -> 5145550199 GSM-7 17 units, 1 attempt, provider id 1"))
        #expect(
            log.stdout.contains("#2 ")
                && log.stdout.contains(
                    " failed 5145550100 -> 5145550199 GSM-7 17 units, 0 attempts: daily limit of 1 reached: not sent")
        )
        #expect(log.stdout.contains(": 1 counted (pending, sent, unknown)"))
    }

    @Test func killedMidRequestTheTextIsUnknownAtTheNextStartAndNeverSentAgain() throws {
        let server = try ProviderServer(script: [.slow(milliseconds: 30_000, id: 1), .success(id: 2)])
        defer { server.shutdown() }
        let dir = try temporaryDirectory()
        let state = dir.appendingPathComponent("state")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.callseqPath)
        process.arguments = [
            "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
            "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir", state.path, "--sms-timeout-ms", "60000",
        ]
        process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]) { a, _ in
            a
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while server.requests.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(server.requests.count == 1)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let log = try CommandRunner.callseq("sms", "log", "--state-dir", state.path)
        #expect(log.status == 0, "\(log.stderr)")
        #expect(log.stdout.contains("SMS ledger: text #1 to 5145550199 was being sent when a run ended; now unknown"))
        #expect(log.stdout.contains("#1 ") && log.stdout.contains(" unknown 5145550100 -> 5145550199"))
        #expect(log.stdout.contains("found pending at start-up"))
        // A new run sends its own text, never the interrupted one.
        let again = try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir", state.path,
            ], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(server.requests.count == 2)
        let after = try CommandRunner.callseq("sms", "log", "--state-dir", state.path).stdout
        #expect(after.contains(" unknown 5145550100") && after.contains("#2 ") && after.contains(" sent 5145550100"))
        #expect(after.contains(": 2 counted"))
    }

    @Test func aRefusedConnectionIsReportedNotSentWithinThreeSeconds() throws {
        let server = try ProviderServer(script: [])
        let endpoint = server.endpoint
        server.shutdown()
        let dir = try temporaryDirectory()
        let start = Date()
        let result = try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", endpoint, "--state-dir", dir.appendingPathComponent("state").path,
            ],
            environment: environment)
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("SMS to 5145550199: failed: not sent: connection refused (4 attempts)"),
            "\(result.stdout)")
        #expect(elapsed < 3, "\(elapsed) s")
    }

    @Test func a502IsOneRequestAndAnUnknownOutcome() throws {
        let server = try ProviderServer(script: [.http(502), .success(id: 2)])
        defer { server.shutdown() }
        let dir = try temporaryDirectory()
        let result = try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir",
                dir.appendingPathComponent("state").path,
            ],
            environment: environment)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "SMS to 5145550199: outcome unknown (not retried, the text may have been sent): "
                    + "a gateway answered HTTP 502"), "\(result.stdout)")
        #expect(server.requests.count == 1)
    }

    @Test func aStatusEchoingThePasswordShowsItNowhere() throws {
        let body = #"{"status":"bad request api_username=acme&api_password=\#(secret) \u001b[31m"}"#
        let server = try ProviderServer(script: [.raw(status: 200, headers: [:], body: body)])
        defer { server.shutdown() }
        let dir = try temporaryDirectory()
        let state = dir.appendingPathComponent("state")
        let result = try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir", state.path,
            ],
            environment: environment)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("unrecognised provider status \"bad request api_username=acme&api_passwo..."),
            "\(result.stdout)")
        let log = try CommandRunner.callseq("sms", "log", "--state-dir", state.path)
        let ledger = try Data(contentsOf: state.appendingPathComponent("sms-ledger.sqlite3"))
        for text in [result.stdout, result.stderr, log.stdout, log.stderr] {
            #expect(!text.contains(secret) && !text.contains("\u{1B}"), "\(text)")
        }
        #expect(ledger.range(of: Data(secret.utf8)) == nil)
    }

    @Test func anHTTPEndpointElsewhereIsRefusedUnlessAllowed() throws {
        let dir = try temporaryDirectory()
        let arguments = [
            "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
            "--send-sms", "--sms-endpoint", "http://sms.invalid/api/v1/rest.php",
            "--state-dir", dir.appendingPathComponent("state").path,
        ]
        let refused = try CommandRunner.run(CommandRunner.callseqPath, arguments, environment: environment)
        #expect(
            refused.status == 1 && refused.stderr.contains("is http://: the API password would travel in clear text"))
        let allowed = try CommandRunner.run(
            CommandRunner.callseqPath, arguments + ["--allow-insecure-endpoint"], environment: environment)
        #expect(
            allowed.stdout.contains("SMS to 5145550199: failed: not sent: the host name did not resolve"),
            "\(allowed.stdout)")
    }

    @Test func renderChecksTheSenderAgainstTheAccount() throws {
        let dir = try temporaryDirectory()
        let sequence = dir.appendingPathComponent("seq.json").path
        try
            #"{ "name": "x", "steps": [ { "type": "sms", "from": "5145550111", "to": "5145550199", "message": "hi" } ] }"#
            .write(toFile: sequence, atomically: true, encoding: .utf8)
        let result = try CommandRunner.callseq(
            "render", sequence, "-o", dir.appendingPathComponent("o.wav").path,
            "--account", testAudioPath("../Examples/account.json"))
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("steps[0].from: 5145550111 is not an SMS-enabled number of the account"),
            "\(result.stderr)")
    }

    @Test func validateAndTimelineShowTheEncodingAndUnits() throws {
        let dir = try temporaryDirectory()
        let sequence = dir.appendingPathComponent("seq.json").path
        try
            #"{ "name": "x", "steps": [ { "type": "sms", "from": "5145550100", "to": "+1 514 555 0199", "message": "Porte ouverte 9 h €" },"#
            .appending(#" { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "Дверь открыта" } ] }"#)
            .write(toFile: sequence, atomically: true, encoding: .utf8)
        let validate = try CommandRunner.callseq("validate", sequence)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(
            validate.stdout.contains("steps[0]: SMS from 5145550100 to 5145550199, GSM-7, 20 of 160 septets, 1 SMS"))
        #expect(
            validate.stdout.contains("steps[1]: SMS from 5145550100 to 5145550199, UCS-2, 13 of 70 UCS-2 units, 1 SMS"))
        let timeline = try CommandRunner.callseq("timeline", sequence)
        #expect(timeline.stdout.contains("\"Porte ouverte 9 h €\" (GSM-7, 20 of 160 septets)"))
        #expect(timeline.stdout.contains("\"Дверь открыта\" (UCS-2, 13 of 70 units)"))
        let bad = dir.appendingPathComponent("bad.json").path
        try
            (#"{ "name": "x", "steps": [ { "type": "sms", "from": "+32 2 555 12 34", "to": "5145550199", "message": ""#
            + "Porte ouver\u{EA}" + String(repeating: "a", count: 59) + #"" } ] }"#)
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try CommandRunner.callseq("validate", bad)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "steps[0].from: '+32 2 555 12 34' is not a US/Canada number: only +1 may come before the 10 digits (it starts with +32)"
            ))
        #expect(
            refused.stderr.contains(
                "steps[0].message: 71 UCS-2 characters ('ê' at position 12 is not in GSM-7); at most 70"))
    }
}
