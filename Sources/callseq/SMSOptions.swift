import ArgumentParser
import CallSequence
import Dispatch
import Foundation
import Logging
import SMSGateway

/// Options of the commands that can send a sequence's texts for real.
struct SMSOptions: ParsableArguments {
    @Flag(name: .customLong("send-sms"), help: "Send the SMS steps through the provider (default: dry run, nothing is sent).")
    var sendSMS = false

    @Option(name: .customLong("sms-endpoint"), help: "The VoIP.ms-compatible REST endpoint.")
    var smsEndpoint: String = VoipMsTransport.defaultEndpoint

    @Option(name: .customLong("sms-credentials"),
            help: "JSON file { \"user\": ..., \"password\": ... } (default: CALLSEQ_SMS_USER and CALLSEQ_SMS_PASSWORD).")
    var smsCredentials: String?

    @Option(name: .customLong("sms-timeout-ms"), help: "Limit for one request to the provider, in ms.")
    var smsTimeoutMs: Int = 10_000

    func check() throws {
        guard sendSMS else { return }
        guard (100...120_000).contains(smsTimeoutMs) else {
            throw ValidationError("--sms-timeout-ms \(smsTimeoutMs) is out of range (100...120000)")
        }
        if smsCredentials == nil && SMSCredentials.fromEnvironment() == nil {
            throw ValidationError("--send-sms needs credentials: set \(SMSCredentials.userVariable) and "
                + "\(SMSCredentials.passwordVariable), or give --sms-credentials FILE")
        }
    }

    /// The dispatcher, or `nil` for a dry run.
    func makeDispatcher(dailyLimit: Int) throws -> SMSDispatcher? {
        guard sendSMS else { return nil }
        do {
            let credentials: SMSCredentials
            if let file = smsCredentials {
                credentials = try SMSCredentials.fromFile(file)
            } else if let fromEnvironment = SMSCredentials.fromEnvironment() {
                credentials = fromEnvironment
            } else {
                throw RuntimeFailure("no SMS credentials")
            }
            let transport = try VoipMsTransport(endpoint: smsEndpoint, credentials: credentials,
                                                timeout: .milliseconds(Int64(smsTimeoutMs)))
            return SMSDispatcher(transport: transport, dailyLimit: dailyLimit,
                                 logger: Logger(label: "callseq.sms", factory: { _ in SwiftLogNoOpLogHandler() }))
        } catch let error as SMSConfigurationError {
            throw RuntimeFailure(error.description)
        }
    }

    /// Sends the texts one after another and prints one delivery report each.
    ///
    /// - Throws: a one-line failure if any text was not sent (after printing every report).
    func send(_ requests: [SMSStep], with dispatcher: SMSDispatcher) throws {
        let reports = waitFor {
            var reports: [DeliveryReport] = []
            for request in requests { reports.append(await dispatcher.send(request)) }
            return reports
        }
        for (request, report) in zip(requests, reports) { print("SMS to \(request.to): \(report)") }
        let failed = reports.filter { if case .failed = $0 { true } else { false } }.count
        if failed > 0 { throw RuntimeFailure("\(failed) of \(reports.count) text\(reports.count == 1 ? "" : "s") not sent") }
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
