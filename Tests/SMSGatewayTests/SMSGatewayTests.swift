import CallSequenceEngine
import CallSequenceModel
import Foundation
import Logging
import NIOCore
import SMSGateway
import TelephonyDSP
import TestSupport
import Testing

let secret = "s3cret-Pa55word"
let credentials = SMSCredentials(user: "acme", password: secret)
let message = SMSMessage(from: "5145550100", to: "5145550199", message: "Front door opened & closed")

/// Collects every log line and its metadata, to check what the library says.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
    func append(_ line: String) {
        lock.lock()
        storage.append(line)
        lock.unlock()
    }
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

func dispatcher(
    _ server: ProviderServer, limit: Int = 100, timeoutMs: Int64 = 2000, logs: CapturedLogs = CapturedLogs(),
    now: @escaping @Sendable () -> Date = { Date() }
) throws -> SMSDispatcher {
    let transport = try VoipMsTransport(
        endpoint: server.endpoint, credentials: credentials, timeout: .milliseconds(timeoutMs))
    return try SMSDispatcher(
        transport: transport, dailyLimit: limit,
        retry: .init(maximumAttempts: 4, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(80)),
        now: now, logger: logs.logger)
}

/// Whether a send has returned (set from its task, read by the rendering loop).
final class SendFinished: @unchecked Sendable {
    private let lock = NSLock()
    private var finished = false
    var value: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }
    func set() {
        lock.lock()
        finished = true
        lock.unlock()
    }
}

@Suite("SMS over HTTP, against a provider on 127.0.0.1", .serialized)
struct SMSGatewayTests {
    @Test func aTextIsSentWithExactlyTheProvidersParameters() async throws {
        let server = try ProviderServer(script: [.success(id: 23434)])
        defer { server.shutdown() }
        let report = try await dispatcher(server).send(message)
        #expect(report == .sent(providerID: "23434", attempts: 1))
        let requests = server.requests
        #expect(requests.count == 1)
        let r = try #require(requests.first)
        #expect(
            r.method == "POST" && r.uri == "/api/v1/rest.php" && r.contentType == "application/x-www-form-urlencoded")
        #expect(
            r.form == [
                "api_username": "acme", "api_password": secret, "method": "sendSMS",
                "did": "5145550100", "dst": "5145550199", "message": "Front door opened & closed",
            ])
    }

    @Test(arguments: ["invalid_dst", "sms_failed", "limit_reached", "invalid_credentials", "missing_did"])
    func eachProviderErrorIsFinalAndNotRetried(status: String) async throws {
        let server = try ProviderServer(script: [.status(status), .success(id: 1)])
        defer { server.shutdown() }
        let report = try await dispatcher(server).send(message)
        #expect(report == .failed(.transport(SMSTransportError(.rejected(status))), attempts: 1))
        #expect(server.requests.count == 1)
    }

    @Test func serverErrorsAreRetriedWithBackoffUntilSuccess() async throws {
        let server = try ProviderServer(script: [.http(500), .http(503), .success(id: 77)])
        defer { server.shutdown() }
        let start = Date()
        let report = try await dispatcher(server).send(message)
        #expect(report == .sent(providerID: "77", attempts: 3))
        #expect(server.requests.count == 3)
        #expect(Date().timeIntervalSince(start) >= 0.06)  // waited 20 ms, then 40 ms
    }

    @Test func retriesStopAtTheBound() async throws {
        let server = try ProviderServer(script: Array(repeating: .http(503), count: 10))
        defer { server.shutdown() }
        let report = try await dispatcher(server).send(message)
        #expect(report == .failed(.transport(SMSTransportError(.serverError(status: 503))), attempts: 4))
        #expect(server.requests.count == 4)
    }

    @Test(arguments: [502, 504])
    func aGatewaysAnswerIsAnUnknownOutcomeAfterOneRequest(status: Int) async throws {
        let server = try ProviderServer(script: [.http(status), .success(id: 2)])
        defer { server.shutdown() }
        let d = try dispatcher(server)
        let report = await d.send(message)
        guard case .unknown(let error, 1) = report, case .outcomeUnknown = error.kind else {
            Issue.record("expected unknown after 1 attempt, got \(report)")
            return
        }
        #expect(report.description.contains("HTTP \(status)"))
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.requests.count == 1)
        #expect(try d.ledger.entries().map(\.state) == [.unknown])
        #expect(await d.sentToday == 1)  // an unknown text counts against the limit
    }

    @Test func a503FromAnIntermediaryIsUnknownNotRetried() async throws {
        let server = try ProviderServer(script: [
            .raw(status: 503, headers: ["Via": "1.1 proxy"], body: "busy"), .success(id: 2),
        ])
        defer { server.shutdown() }
        let report = try await dispatcher(server).send(message)
        guard case .unknown(_, 1) = report else {
            Issue.record("expected unknown after 1 attempt, got \(report)")
            return
        }
        #expect(server.requests.count == 1)
    }

    @Test func aClientErrorStatusIsFinal() async throws {
        let server = try ProviderServer(script: [.http(403), .success(id: 1)])
        defer { server.shutdown() }
        #expect(
            try await dispatcher(server).send(message)
                == .failed(.transport(SMSTransportError(.httpStatus(403))), attempts: 1))
        #expect(server.requests.count == 1)
    }

    @Test func aSlowAnswerPastTheTimeoutIsAnUnknownOutcomeAndIsNotSentAgain() async throws {
        let server = try ProviderServer(script: [.slow(milliseconds: 1500, id: 5), .success(id: 6)])
        defer { server.shutdown() }
        let report = try await dispatcher(server, timeoutMs: 300).send(message)
        guard case .unknown(let error, let attempts) = report, case .outcomeUnknown = error.kind else {
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
        let report = try await dispatcher(server).send(message)
        guard case .unknown(let error, 1) = report, case .outcomeUnknown = error.kind else {
            Issue.record("expected an unknown outcome after one attempt, got \(report)")
            return
        }
        #expect(server.requests.count == 1)
    }

    @Test func aRefusedConnectionIsNotSentWithinThreeSecondsAfterEveryRetry() async throws {
        let server = try ProviderServer(script: [])
        let endpoint = server.endpoint
        server.shutdown()  // nothing listens on that port any more
        let transport = try VoipMsTransport(endpoint: endpoint, credentials: credentials)  // the defaults: 10 s
        let dispatcher = try SMSDispatcher(transport: transport, dailyLimit: 10, logger: CapturedLogs().logger)
        let start = ContinuousClock.now
        let report = await dispatcher.send(message)  // default policy: 4 attempts, 0.2 + 0.4 + 0.8 s apart
        let elapsed = ContinuousClock.now - start
        guard case .failed(let failure, 4) = report, case .transport(let error) = failure.kind,
            case .notSent = error.kind
        else {
            Issue.record("expected not sent after 4 attempts, got \(report)")
            return
        }
        #expect(report.description.hasPrefix("failed: not sent: connection refused"), "\(report)")
        #expect(elapsed < .seconds(3) && elapsed >= .milliseconds(1400), "\(elapsed)")
        #expect(try dispatcher.ledger.entries().map(\.state) == [.failed])
        #expect(await dispatcher.sentToday == 0)  // a failed text frees its place
    }

    @Test func aFailedTLSHandshakeIsNotSentAndNotRetried() async throws {
        let server = try ProviderServer(script: [.success(id: 1)])  // plain HTTP: no TLS handshake possible
        defer { server.shutdown() }
        let transport = try VoipMsTransport(
            endpoint: "https://127.0.0.1:\(server.port)/api/v1/rest.php", credentials: credentials)
        let d = try SMSDispatcher(transport: transport, dailyLimit: 10, logger: CapturedLogs().logger)
        let report = await d.send(message)
        guard case .failed(let failure, 1) = report, case .transport(let error) = failure.kind,
            case .tlsFailure = error.kind
        else {
            Issue.record("expected a TLS failure after 1 attempt, got \(report)")
            return
        }
        #expect(report.description.hasPrefix("failed: not sent: the TLS handshake failed"))
        #expect(server.requests.isEmpty)
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

    @Test func twentyConcurrentSendsWithALimitOfFiveMakeExactlyFiveRequests() async throws {
        let server = try ProviderServer(script: (1...20).map { .slow(milliseconds: 50, id: $0) })
        defer { server.shutdown() }
        let d = try dispatcher(server, limit: 5)
        let reports = await withTaskGroup(of: DeliveryReport.self) { group in
            for _ in 0..<20 { group.addTask { await d.send(message) } }
            var all: [DeliveryReport] = []
            for await report in group { all.append(report) }
            return all
        }
        #expect(server.requests.count == 5)
        #expect(reports.filter { if case .sent = $0 { true } else { false } }.count == 5)
        #expect(reports.filter { $0 == .failed(.dailyLimitReached(limit: 5), attempts: 0) }.count == 15)
        #expect(await d.sentToday == 5)
    }

    @Test func twoDispatchersSharingAStateDirectoryShareTheLimit() async throws {
        let server = try ProviderServer(script: (1...20).map { .slow(milliseconds: 30, id: $0) })
        defer { server.shutdown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
            .path
        let account = SMSAccount(key: "/accounts/acme.json", dailyLimit: 5)
        let dispatchers = try (0..<2).map { _ in
            SMSDispatcher(
                transport: try VoipMsTransport(endpoint: server.endpoint, credentials: credentials),
                account: account, ledger: try SMSLedger(directory: directory), logger: CapturedLogs().logger)
        }
        await withTaskGroup(of: DeliveryReport.self) { group in
            for i in 0..<20 { group.addTask { await dispatchers[i % 2].send(message) } }
            for await _ in group {}
        }
        #expect(server.requests.count == 5)
        let entries = try SMSLedger(directory: directory).entries()
        #expect(entries.count == 20 && entries.filter { $0.state == .sent }.count == 5)
        #expect(entries.filter { $0.state == .failed && $0.detail == "daily limit of 5 reached: not sent" }.count == 15)
    }

    @Test(arguments: [
        (
            String(repeating: "é", count: 60) + String(repeating: "ñ", count: 50) + String(repeating: "Ø", count: 50),
            true
        ),
        (
            String(repeating: "é", count: 60) + String(repeating: "ñ", count: 50) + String(repeating: "Ø", count: 51),
            false
        ),
        (String(repeating: "€", count: 80), true),
        (String(repeating: "€", count: 81), false),
        (String(repeating: "ê", count: 70), true),
        (String(repeating: "ê", count: 71), false),
        (String(repeating: "ê", count: 69) + "😀", false),
    ])
    func onlyTextsThatFitOneSMSReachTheProvider(text: String, fits: Bool) async throws {
        let server = try ProviderServer(script: [.success(id: 1)])
        defer { server.shutdown() }
        let report = try await dispatcher(server).send(SMSMessage(from: "5145550100", to: "5145550199", message: text))
        if fits {
            #expect(report == .sent(providerID: "1", attempts: 1))
            #expect(server.requests.first?.form["message"] == text)
        } else {
            guard case .failed(let failure, 0) = report, case .invalidMessage(let reason) = failure.kind else {
                Issue.record("expected a refusal, got \(report)")
                return
            }
            #expect(reason.contains("at most"))
            #expect(server.requests.isEmpty)
        }
    }

    @Test func aProviderStatusEchoingThePasswordIsNeverShown() async throws {
        let echo = #"{"status":"error api_password=\#(secret)&did=5145550100 \u001b[2J\u001b]0;pwned\u0007"}"#
        let server = try ProviderServer(script: [.raw(status: 200, headers: [:], body: echo)])
        defer { server.shutdown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
            .path
        let logs = CapturedLogs()
        let transport = try VoipMsTransport(endpoint: server.endpoint, credentials: credentials)
        let d = SMSDispatcher(
            transport: transport, account: SMSAccount(key: "acme", dailyLimit: 10),
            ledger: try SMSLedger(directory: directory), logger: logs.logger)
        let report = await d.send(message)
        guard case .unknown(let error, 1) = report, case .outcomeUnknown(let reason) = error.kind else {
            Issue.record("expected an unknown outcome, got \(report)")
            return
        }
        #expect(reason.hasPrefix("unrecognised provider status \"error api_password=<redacted>&did="), "\(reason)")
        #expect(!reason.contains("\u{1B}") && !reason.contains("\u{07}"))
        var dumped = ""
        dump(transport, to: &dumped)
        dump(credentials, to: &dumped)
        let ledgerBytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + SMSLedger.fileName))
        let everything =
            logs.lines + [report.description, dumped, String(reflecting: transport)]
            + (try d.ledger.entries().map { "\($0)" })
        for text in everything { #expect(!text.contains(secret), "\(text)") }
        #expect(ledgerBytes.range(of: Data(secret.utf8)) == nil)
        #expect(dumped.contains("<redacted>"))
    }

    @Test func anHTTPEndpointIsRefusedUnlessLoopbackOrAllowed() throws {
        #expect(throws: SMSConfigurationError.self) {
            try VoipMsTransport(endpoint: "http://sms.example.com/api", credentials: credentials)
        }
        #expect(throws: SMSConfigurationError.self) {
            try VoipMsTransport(endpoint: "https:///api", credentials: credentials)
        }
        #expect(throws: SMSConfigurationError.self) {
            try VoipMsTransport(endpoint: "https://u:p@sms.example.com/api", credentials: credentials)
        }
        // The library names no command-line option: a C host or an API client sees these too.
        for endpoint in ["http://sms.example.com/api", "https:///api", "https://u:p@sms.example.com/api"] {
            do {
                _ = try VoipMsTransport(endpoint: endpoint, credentials: credentials)
            } catch {
                #expect(!error.description.contains("--"), "\(error)")
                #expect(error.description.hasPrefix("the SMS endpoint"), "\(error)")
            }
        }
        _ = try VoipMsTransport(
            endpoint: "http://sms.example.com/api", credentials: credentials, allowInsecureEndpoint: true)
        _ = try VoipMsTransport(endpoint: "http://localhost:8080/api", credentials: credentials)
        _ = try VoipMsTransport(endpoint: "http://[::1]:8080/api", credentials: credentials)
        _ = try VoipMsTransport(endpoint: "https://sms.example.com/api", credentials: credentials)
    }

    @Test func aPendingTextOfAProcessThatEndedBecomesUnknownAtOpen() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
            .path
        let ledger = try SMSLedger(directory: directory)
        guard case .reserved = try ledger.reserve(message, account: SMSAccount(key: "a", dailyLimit: 1), at: Date())
        else {
            Issue.record("not reserved")
            return
        }
        // This process is alive: another opening leaves its pending text alone.
        let again = try SMSLedger(directory: directory)
        #expect(again.recoveredAtOpen.isEmpty)
        #expect(try again.entries().map(\.state) == [.pending])
        #expect(
            try again.reserve(message, account: SMSAccount(key: "a", dailyLimit: 1), at: Date())
                == .limitReached(count: 1))
    }

    @Test func noCredentialAppearsInLogsReportsOrErrors() async throws {
        let server = try ProviderServer(script: [
            .success(id: 9), .status("invalid_credentials"), .drop, .http(500), .http(500), .http(500), .http(500),
        ])
        defer { server.shutdown() }
        let logs = CapturedLogs()
        let d = try dispatcher(server, logs: logs)
        var reports: [DeliveryReport] = []
        for _ in 0..<4 { reports.append(await d.send(message)) }
        let everything =
            logs.lines + reports.map(\.description) + [credentials.description, String(reflecting: credentials)]
        #expect(!logs.lines.isEmpty)
        for line in everything { #expect(!line.contains(secret), "\(line)") }
        #expect(server.requests.allSatisfy { $0.form["api_password"] == secret && !$0.uri.contains(secret) })
    }

    @Test func theCallsAudioGoesOnWhileTheTextIsSent() async throws {
        // The SMS step sits between two runs of digits and the provider answers after 1.5 s. The text leaves
        // when the player reaches its step; once the provider holds the request, every later frame is rendered
        // (and carries the second run's tones) while the send is still outstanding.
        let server = try ProviderServer(script: [.slow(milliseconds: 1500, id: 42)])
        defer { server.shutdown() }
        let d = try dispatcher(server)
        let sequence = SequenceDefinition(
            name: "x",
            steps: [
                .dtmf(DTMFStep(digits: try DialString("12345"))),
                .sms(
                    SMSStep(
                        from: try PhoneNumber(message.from), to: try PhoneNumber(message.to), message: message.message)),
                .dtmf(DTMFStep(digits: try DialString("67890"))),
            ])
        let program = try CompiledSequence(sequence, format: CallFormat(), recordings: .init(library: .empty))
        let player = program.makePlayer()
        let answered = SendFinished()
        var sending: Task<DeliveryReport, Never>?
        var frame = [Int16](repeating: 0, count: 160)
        var framesBefore = 0
        var heardWhileOutstanding: [Int16] = []
        while !player.isFinished {
            var requested: Int?
            frame.withUnsafeMutableBufferPointer { buffer in
                _ = player.render(into: buffer) { if case .smsRequested(let step) = $0.kind { requested = step } }
            }
            if sending == nil {
                framesBefore += 1
            } else {
                #expect(!answered.value, "the provider answered before frame \(heardWhileOutstanding.count / 160)")
                heardWhileOutstanding.append(contentsOf: frame)
            }
            if let step = requested {
                let sms = try #require(program.smsRequest(step: step))
                let text = SMSMessage(from: sms.from.digits, to: sms.to.digits, message: sms.message)
                sending = Task {
                    let report = await d.send(text)
                    answered.set()
                    return report
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while server.requests.isEmpty && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                try #require(server.requests.count == 1, "the provider never received the text")
            }
        }
        // "12345" takes 1 s (50 frames); the SMS step is at sample 8000, the start of frame 51, which asks for the
        // text. The 49 frames after it, the rest of "67890", are all rendered before the provider answers.
        #expect(framesBefore == 51)
        #expect(heardWhileOutstanding.count == 49 * 160)
        #expect(
            try detectDigits(heardWhileOutstanding, sampleRate: 8000).map { String($0.digit.character) }.joined()
                == "67890")
        #expect(!answered.value)
        #expect(await sending?.value == .sent(providerID: "42", attempts: 1))
        #expect(server.requests.first?.form["message"] == message.message)
    }

    @Test func credentialsComeFromTheEnvironmentOrAFile() throws {
        #expect(
            SMSCredentials.fromEnvironment(["CALLSEQ_SMS_USER": "u", "CALLSEQ_SMS_PASSWORD": "p"])
                == SMSCredentials(user: "u", password: "p"))
        #expect(SMSCredentials.fromEnvironment(["CALLSEQ_SMS_USER": "u"]) == nil)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sms-\(UUID().uuidString).json")
        try Data(#"{"user": "u2", "password": "\#(secret)"}"#.utf8).write(to: file)
        #expect(try SMSCredentials.fromFile(file.path) == SMSCredentials(user: "u2", password: secret))
        try Data(#"{"user": "u2", "pass": "\#(secret)"}"#.utf8).write(to: file)
        #expect {
            try SMSCredentials.fromFile(file.path)
        } throws: { !String(describing: $0).contains(secret) }
        #expect(throws: SMSConfigurationError.self) {
            try VoipMsTransport(endpoint: "ftp://x/y", credentials: credentials)
        }
    }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date {
        get {
            lock.lock()
            defer { lock.unlock() }
            return value
        }
        set {
            lock.lock()
            value = newValue
            lock.unlock()
        }
    }
}
