// The services `callseq serve` runs in one swift-service-lifecycle ServiceGroup. The group shuts them down
// gracefully in reverse order: the SIGHUP reloader first, then the calls (drain: 503 to new INVITEs and OPTIONS,
// calls in progress run to their end for --drain-timeout, then BYE), then the SMS dispatch, which finishes the
// texts already requested.

import CallServer
import Logging
import Metrics
import SMSGateway
import ServiceLifecycle
import TelephonyDSP
import UnixSignals

/// The call server as the group's service: opens SIP, tells `announce` the port, then serves until the
/// group's graceful shutdown and drains (``CallServer/run()``).
struct CallService: Service {
    let server: CallServer
    /// End when the management API and the metrics listener are listening (their lines come first on stdout).
    var after: [AsyncStream<Void>] = []
    /// Called once the SIP port is open, with its number (the signal handlers are in place by then).
    let announce: @Sendable (Int) -> Void

    func run() async throws {
        for stream in after { for await _ in stream {} }
        announce(try await server.start())
        try await server.run()
    }
}

/// SIGHUP reloads the account files; ends at graceful shutdown.
struct AccountReloadService: Service {
    let server: CallServer
    /// Trapped before the group starts, so that a SIGHUP from then on never takes the default action (exit).
    let hangups: UnixSignalsSequence

    func run() async {
        // The configuration version /metrics shows: 1 at the start, one more per reload.
        let version = Gauge(label: "callseq_config_version")
        var generation = 1
        version.record(generation)
        for await _ in hangups.cancelOnGracefulShutdown() {
            _ = server.reload()
            generation += 1
            version.record(generation)
        }
    }
}

/// Sends the texts that live calls request, off the media path, one task each; at graceful shutdown it takes
/// no new request and waits for the texts already requested (their sends are bounded by the dispatcher's
/// timeout and retries).
struct SMSDispatchService: Service {
    /// An SMS step reached on a call, with the account it counts against.
    private struct Request: Sendable {
        var callID: String
        var message: SMSMessage
        var account: SMSAccount
    }

    /// Requests waiting for their task; bounded (a text beyond it is logged and dropped).
    static let queueLimit = 10_000

    private let dispatcher: SMSDispatcher
    private let logger: Logger
    private let requests: AsyncStream<Request>
    private let continuation: AsyncStream<Request>.Continuation

    init(dispatcher: SMSDispatcher, logger: Logger) {
        self.dispatcher = dispatcher
        self.logger = logger
        (requests, continuation) = AsyncStream.makeStream(
            of: Request.self,
            bufferingPolicy: .bufferingOldest(Self.queueLimit))
    }

    /// Queues a call's SMS step (from any thread; never blocks).
    func submit(_ request: LiveSMSRequest, account: SMSAccount) {
        let callID = InputText.escaped(request.callID, limit: 200)
        switch continuation.yield(Request(callID: callID, message: SMSMessage(request.sms), account: account)) {
        case .enqueued:
            break
        case .dropped:
            logger.error("call \(callID): SMS to \(request.sms.to.digits) not sent: \(Self.queueLimit) texts queued")
        case .terminated:
            logger.error("call \(callID): SMS to \(request.sms.to.digits) not sent: shutting down")
        @unknown default:
            break
        }
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await request in requests {
                    group.addTask {
                        let report = await dispatcher.send(request.message, account: request.account)
                        let outcome: String
                        switch report {
                        case .sent: outcome = "sent"
                        case .failed: outcome = "failed"
                        case .unknown: outcome = "unknown"
                        }
                        Counter(label: "callseq_sms_total", dimensions: [("outcome", outcome)]).increment()
                        logger.info("call \(request.callID): SMS to \(request.message.to): \(report)")
                    }
                }
            } onGracefulShutdown: {
                // The queued requests are still delivered to the loop above, then it ends.
                continuation.finish()
            }
        }
    }
}
