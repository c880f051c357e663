import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import Dispatch
import Foundation
import Logging
import SMSGateway

/// Options of the commands that can send a sequence's texts for real.
struct SMSOptions: ParsableArguments {
    @Flag(
        name: .customLong("send-sms"),
        help: "Send the SMS steps through the provider (default: dry run, nothing is sent).")
    var sendSMS = false

    @Option(
        name: .customLong("sms-endpoint"),
        help: "The VoIP.ms-compatible REST endpoint (https, or http to a loopback host).")
    var smsEndpoint: String = VoipMsTransport.defaultEndpoint

    @Flag(
        name: .customLong("allow-insecure-endpoint"),
        help: "Accept an http:// --sms-endpoint on another host (the API password travels in clear text).")
    var allowInsecureEndpoint = false

    @Option(
        name: .customLong("sms-credentials"),
        help: "JSON file { \"user\": ..., \"password\": ... } (default: CALLSEQ_SMS_USER and CALLSEQ_SMS_PASSWORD).")
    var smsCredentials: String?

    @Option(name: .customLong("sms-timeout-ms"), help: "Limit for one request to the provider, in ms.")
    var smsTimeoutMs: Int = 10_000

    @OptionGroup var state: StateDirectoryOption

    func check() throws {
        guard sendSMS else { return }
        guard (100...120_000).contains(smsTimeoutMs) else {
            throw ValidationError("--sms-timeout-ms \(smsTimeoutMs) is out of range (100...120000)")
        }
        if smsCredentials == nil && SMSCredentials.fromEnvironment() == nil {
            throw ValidationError(
                "--send-sms needs credentials: set \(SMSCredentials.userVariable) and "
                    + "\(SMSCredentials.passwordVariable), or give --sms-credentials FILE")
        }
    }

    /// The provider's transport, or `nil` for a dry run.
    func makeTransport() throws -> VoipMsTransport? {
        guard sendSMS else { return nil }
        do {
            let credentials: SMSCredentials
            if let file = smsCredentials {
                credentials = try SMSCredentials.fromFile(file)
            } else if let fromEnvironment = SMSCredentials.fromEnvironment() {
                credentials = fromEnvironment
            } else {
                throw RuntimeError("no SMS credentials")
            }
            return try VoipMsTransport(
                endpoint: smsEndpoint, credentials: credentials,
                timeout: .milliseconds(Int64(smsTimeoutMs)),
                allowInsecureEndpoint: allowInsecureEndpoint)
        } catch let error as SMSConfigurationError {
            throw RuntimeError(Self.namingOptions(error))
        }
    }

    /// The dispatcher, with the ledger in the state directory, or `nil` for a dry run. Texts left pending by a
    /// run that ended mid-request are reported (now unknown, never sent again).
    func makeDispatcher(account: SMSAccount) throws -> SMSDispatcher? {
        guard let transport = try makeTransport() else { return nil }
        do {
            let ledger = try state.openLedger()
            return SMSDispatcher(
                transport: transport, account: account, ledger: ledger,
                logger: Logger(label: "callseq.sms", factory: { _ in SwiftLogNoOpLogHandler() }))
        } catch let error as SMSConfigurationError {
            throw RuntimeError(Self.namingOptions(error))
        }
    }

    /// The library's message with the options that set the endpoint named.
    static func namingOptions(_ error: SMSConfigurationError) -> String {
        switch error.setting {
        case .credentials:
            return error.description
        case .endpointNotAURL(let shown):
            return "--sms-endpoint '\(shown)' is not an http(s) URL with a host and no query"
        case .endpointHoldsCredentials:
            return "--sms-endpoint must not hold a user or password (use --sms-credentials)"
        case .endpointInsecure(let shown):
            return "--sms-endpoint '\(shown)' is http://: the API password would travel in clear text; use https://, "
                + "or --allow-insecure-endpoint if you mean it"
        }
    }

    /// Sends the texts one after another and prints one delivery report each.
    ///
    /// - Throws: a one-line failure if any text was not sent or has an unknown outcome (after printing every
    ///   report).
    func send(
        _ requests: [SMSStep], with dispatcher: SMSDispatcher,
        accountFor: ((SMSStep) -> SMSAccount)? = nil
    ) throws {
        let messages = requests.map(SMSMessage.init)
        let accounts = requests.map { accountFor?($0) }
        let reports = waitFor {
            var reports: [DeliveryReport] = []
            for (message, account) in zip(messages, accounts) {
                reports.append(await dispatcher.send(message, account: account))
            }
            return reports
        }
        for (message, report) in zip(messages, reports) { print("SMS to \(message.to): \(report)") }
        let failed = reports.filter { if case .failed = $0 { true } else { false } }.count
        let unknown = reports.filter { if case .unknown = $0 { true } else { false } }.count
        let of = "of \(reports.count) text\(reports.count == 1 ? "" : "s")"
        switch (failed, unknown) {
        case (0, 0): return
        case (_, 0): throw RuntimeError("\(failed) \(of) not sent")
        case (0, _): throw RuntimeError("\(unknown) \(of) with an unknown outcome (may have been sent; not retried)")
        default: throw RuntimeError("\(failed) \(of) not sent, \(unknown) with an unknown outcome (not retried)")
        }
    }
}

/// `--state-dir`: where the texts ledger lives.
struct StateDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: "Folder of the texts ledger (default: $XDG_STATE_HOME/callseq, or ~/.local/state/callseq).")
    var stateDir: String?

    /// The folder: --state-dir, `$XDG_STATE_HOME/callseq` (an absolute XDG_STATE_HOME), or
    /// `~/.local/state/callseq` (HOME, or the user's home directory from the password database).
    var directory: String {
        if let stateDir { return stateDir }
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("callseq")
        }
        var home = environment["HOME"] ?? ""
        if !home.hasPrefix("/"), let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir {
            home = String(cString: dir)
        }
        return ((home.isEmpty ? "/tmp" : home) as NSString).appendingPathComponent(".local/state/callseq")
    }

    /// Opens the ledger, printing the texts that a run left pending (now unknown).
    func openLedger() throws -> SMSLedger {
        let ledger: SMSLedger
        do {
            ledger = try SMSLedger(directory: directory)
        } catch {
            throw RuntimeError(error.description)
        }
        for entry in ledger.recoveredAtOpen {
            print(
                "SMS ledger: text #\(entry.id) to \(entry.to) was being sent when a run ended; "
                    + "now unknown (it may have gone out; not sent again)")
        }
        return ledger
    }
}

extension SMSMessage {
    /// The text of a sequence's SMS step.
    init(_ step: SMSStep) {
        self.init(from: step.from.digits, to: step.to.digits, message: step.message)
    }
}

/// Runs async work from a synchronous command and waits for its result.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    guard let value = box.value else { preconditionFailure("the task ended without a value") }
    return value
}

/// Holds a task's result for the thread that waits for it (written once, before the semaphore is signalled).
final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
