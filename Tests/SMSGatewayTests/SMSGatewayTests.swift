import CallSequence
import Foundation
import Logging
import NIOCore
import SMSGateway
import Testing
import TelephonyDSP
import TestSupport

let secret = "s3cret-Pa55word"
let credentials = SMSCredentials(user: "acme", password: secret)
let message: SMSMessage = {
    guard let from = try? PhoneNumber("5145550100"), let to = try? PhoneNumber("5145550199") else { preconditionFailure("test numbers") }
    return SMSMessage(from: from, to: to, message: "Front door opened & closed")
}()

/// Collects every log line and its metadata, to check what the library says.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return storage }
    func append(_ line: String) { lock.lock(); storage.append(line); lock.unlock() }
    var logger: Logger { Logger(label: "test", factory: { _ in Handler(sink: self) }) }

    struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.append("\(event.level) \(event.message) \(event.metadata ?? [:])")
        }
    }
}

func dispatcher(_ server: ProviderServer, limit: Int = 100, timeoutMs: Int64 = 2000, logs: CapturedLogs = CapturedLogs(),
                now: @escaping @Sendable () -> Date = { Date() }) throws -> SMSDispatcher {
    let transport = try VoipMsTransport(endpoint: server.endpoint, credentials: credentials, timeout: .milliseconds(timeoutMs))
    return SMSDispatcher(transport: transport, dailyLimit: limit,
                         retry: .init(maximumAttempts: 4, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(80)),
                         now: now, logger: logs.logger)
}

@Suite("SMS over HTTP, against a provider on 127.0.0.1", .serialized)
struct SMSGatewayTests {
    @Test func aTextIsSentWithExactlyTheProvidersParameters() async throws {
        let server = try ProviderServer(script: [.success(id: 23434)])
        defer { server.shutdown() }
        let report = await try dispatcher(server).send(message)
        #expect(report == .sent(providerID: "23434", attempts: 1))
        let requests = server.requests
        #expect(requests.count == 1)
        let r = try #require(requests.first)
        #expect(r.method == "POST" && r.uri == "/api/v1/rest.php" && r.contentType == "application/x-www-form-urlencoded")
        #expect(r.form == ["api_username": "acme", "api_password": secret, "method": "sendSMS",
                           "did": "5145550100", "dst": "5145550199", "message": "Front door opened & closed"])
    }

    @Test(arguments: ["invalid_dst", "sms_failed", "limit_reached", "invalid_credentials", "missing_did"])
    func eachProviderErrorIsFinalAndNotRetried(status: String) async throws {
        let server = try ProviderServer(script: [.status(status), .success(id: 1)])
        defer { server.shutdown() }
        let report = await try dispatcher(server).send(message)
        #expect(report == .failed(.transport(SMSTransportError(.rejected(status))), attempts: 1))
        #expect(server.requests.count == 1)
    }

    @Test func serverErrorsAreRetriedWithBackoffUntilSuccess() async throws {
        let server = try ProviderServer(script: [.http(500), .http(503), .success(id: 77)])
        defer { server.shutdown() }
        let start = Date()
        let report = await try dispatcher(server).send(message)
        #expect(report == .sent(providerID: "77", attempts: 3))
        #expect(server.requests.count == 3)
        #expect(Date().timeIntervalSince(start) >= 0.06)   // waited 20 ms, then 40 ms
    }

    @Test func retriesStopAtTheBound() async throws {
        let server = try ProviderServer(script: Array(repeating: .http(502), count: 10))
        defer { server.shutdown() }
        let report = await try dispatcher(server).send(message)
        #expect(report == .failed(.transport(SMSTransportError(.serverError(status: 502))), attempts: 4))
        #expect(server.requests.count == 4)
    }

    @Test func aClientErrorStatusIsFinal() async throws {
        let server = try ProviderServer(script: [.http(403), .success(id: 1)])
        defer { server.shutdown() }
        #expect(await try dispatcher(server).send(message) == .failed(.transport(SMSTransportError(.httpStatus(403))), attempts: 1))
        #expect(server.requests.count == 1)
    }

    @Test func aSlowAnswerPastTheTimeoutIsAnUnknownOutcomeAndIsNotSentAgain() async throws {
        let server = try ProviderServer(script: [.slow(milliseconds: 1500, id: 5), .success(id: 6)])
        defer { server.shutdown() }
        let report = await try dispatcher(server, timeoutMs: 300).send(message)
        guard case .failed(.transport(let error), let attempts) = report, case .outcomeUnknown = error.kind else {
            Issue.record("expected an unknown outcome, got \(report)")
            return
        }
        #expect(attempts == 1)
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.requests.count == 1)
    }

    @Test func aDroppedConnectionIsAnUnknownOutcomeAndIsNotSentAgain() async throws {
        let server = try ProviderServer(script: [.drop, .success(id: 6)])
        defer { server.shutdown() }
        let report = await try dispatcher(server).send(message)
        guard case .failed(.transport(let error), 1) = report, case .outcomeUnknown = error.kind else {
            Issue.record("expected an unknown outcome after one attempt, got \(report)")
            return
        }
        #expect(server.requests.count == 1)
    }

    @Test func aRefusedConnectionWasNeverSentSoItIsRetried() async throws {
        let server = try ProviderServer(script: [])
        let endpoint = server.endpoint
        server.shutdown()   // nothing listens on that port any more
        let transport = try VoipMsTransport(endpoint: endpoint, credentials: credentials, timeout: .seconds(2))
        let dispatcher = SMSDispatcher(transport: transport, dailyLimit: 10,
                                       retry: .init(maximumAttempts: 3, initialDelay: .milliseconds(10)), logger: CapturedLogs().logger)
        let report = await dispatcher.send(message)
        guard case .failed(.transport(let error), 3) = report, case .notSent = error.kind else {
            Issue.record("expected not sent after 3 attempts, got \(report)")
            return
        }
    }

    @Test func theDailyLimitIsEnforcedPerUTCDay() async throws {
        let server = try ProviderServer(script: [.success(id: 1), .success(id: 2), .success(id: 3)])
        defer { server.shutdown() }
        let clock = Clock()
        let d = try dispatcher(server, limit: 2, now: { clock.now })
        #expect(await d.send(message) == .sent(providerID: "1", attempts: 1))
        #expect(await d.send(message) == .sent(providerID: "2", attempts: 1))
        #expect(await d.send(message) == .failed(.dailyLimitReached(limit: 2), attempts: 0))
        #expect(server.requests.count == 2)
        clock.now = clock.now.addingTimeInterval(86_400)
        #expect(await d.send(message) == .sent(providerID: "3", attempts: 1))
        #expect(await d.sentToday == 1)
    }

    @Test func noCredentialAppearsInLogsReportsOrErrors() async throws {
        let server = try ProviderServer(script: [.success(id: 9), .status("invalid_credentials"), .drop, .http(500), .http(500), .http(500), .http(500)])
        defer { server.shutdown() }
        let logs = CapturedLogs()
        let d = try dispatcher(server, logs: logs)
        var reports: [DeliveryReport] = []
        for _ in 0..<4 { reports.append(await d.send(message)) }
        let everything = logs.lines + reports.map(\.description) + [credentials.description, String(reflecting: credentials)]
        #expect(!logs.lines.isEmpty)
        for line in everything { #expect(!line.contains(secret), "\(line)") }
        #expect(server.requests.allSatisfy { $0.form["api_password"] == secret && !$0.uri.contains(secret) })
    }

    @Test func theCallsAudioGoesOnWhileTheTextIsSent() async throws {
        // The provider takes 400 ms; the whole 6 s front-door sequence renders meanwhile.
        let server = try ProviderServer(script: [.slow(milliseconds: 400, id: 42)])
        defer { server.shutdown() }
        let d = try dispatcher(server)
        let sending = Task { await d.send(message) }
        let sequence = CallSequence(name: "x", steps: [
            .dtmf(DTMFStep(digits: try DialString("1234567890"))),
            .sms(message),
        ])
        let program = try CompiledSequence(sequence, format: CallFormat(), recordings: .init(library: .empty))
        let player = program.makePlayer()
        var frame = [Int16](repeating: 0, count: 160)
        var frames = 0
        while !player.isFinished {
            frame.withUnsafeMutableBufferPointer { _ = player.render(into: $0) }
            frames += 1
        }
        #expect(frames == 100)   // 2 s of audio, rendered while the provider has not answered yet
        #expect(server.requests.count <= 1)
        #expect(await sending.value == .sent(providerID: "42", attempts: 1))
    }

    @Test func credentialsComeFromTheEnvironmentOrAFile() throws {
        #expect(SMSCredentials.fromEnvironment(["CALLSEQ_SMS_USER": "u", "CALLSEQ_SMS_PASSWORD": "p"]) == SMSCredentials(user: "u", password: "p"))
        #expect(SMSCredentials.fromEnvironment(["CALLSEQ_SMS_USER": "u"]) == nil)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sms-\(UUID().uuidString).json")
        try Data(#"{"user": "u2", "password": "\#(secret)"}"#.utf8).write(to: file)
        #expect(try SMSCredentials.fromFile(file.path) == SMSCredentials(user: "u2", password: secret))
        try Data(#"{"user": "u2", "pass": "\#(secret)"}"#.utf8).write(to: file)
        #expect {
            try SMSCredentials.fromFile(file.path)
        } throws: { !String(describing: $0).contains(secret) }
        #expect(throws: SMSConfigurationError.self) { try VoipMsTransport(endpoint: "ftp://x/y", credentials: credentials) }
    }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}
