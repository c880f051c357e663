// Sending texts off the audio thread: the player reports an SMS step, the host hands the message to a
// dispatcher, the call's audio goes on, and a delivery report comes back.
//
// At most once: every text is recorded in the ledger as pending before its first request leaves, and the
// daily limit is checked and the place reserved in that same transaction (no await in between, so the
// actor's re-entrancy cannot let two sends see the same free place). Only failures after which the provider
// certainly did not get the text are retried (see SMSTransportError): the request never reached it
// (connection refused, connect timeout, DNS) or it answered 500/503 itself; with exponential backoff (0.2 s,
// 0.4 s, 0.8 s...; at most 4 attempts by default). A refusal, a configuration error or a failed TLS handshake
// is final. An unknown outcome (502/504, a timeout after sending, a dropped connection, an unreadable answer)
// is recorded as such, counted, and never retried: the text may have gone out.

import Foundation
import Logging
import SMSText

/// Sends texts with retries, through the ledger and its daily limit; safe to use from any task.
public actor SMSDispatcher {
    /// How transient failures are retried.
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts in all, the first included.
        public var maximumAttempts: Int
        /// Wait before the second attempt.
        public var initialDelay: Duration
        /// Longest wait between attempts.
        public var maximumDelay: Duration

        /// Creates a policy; by default 4 attempts, waiting 0.2 s, 0.4 s, 0.8 s.
        public init(
            maximumAttempts: Int = 4, initialDelay: Duration = .milliseconds(200),
            maximumDelay: Duration = .seconds(2)
        ) {
            self.maximumAttempts = min(10, max(1, maximumAttempts))
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }
    }

    /// The ledger every text goes through.
    public nonisolated let ledger: SMSLedger
    /// The account texts count against unless ``send(_:account:)`` names another.
    public nonisolated let account: SMSAccount
    private let transport: any SMSTransport
    private let retry: RetryPolicy
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// Creates a dispatcher.
    ///
    /// - Parameters:
    ///   - transport: the provider.
    ///   - account: who texts count against by default, and its daily limit.
    ///   - ledger: where texts are recorded (`SMSLedger(directory:)` to hold across runs).
    ///   - retry: the retry policy.
    ///   - now: the clock (tests pass their own).
    ///   - logger: where to log (never the credentials or the text).
    public init(
        transport: any SMSTransport, account: SMSAccount, ledger: SMSLedger, retry: RetryPolicy = RetryPolicy(),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.transport = transport
        self.account = account
        self.ledger = ledger
        self.retry = retry
        self.now = now
        self.logger = logger
    }

    /// Creates a dispatcher with a ledger in memory (the limit holds for this dispatcher's lifetime only).
    ///
    /// - Throws: ``SMSLedgerError`` if SQLite cannot open an in-memory database.
    public init(
        transport: any SMSTransport, dailyLimit: Int, retry: RetryPolicy = RetryPolicy(),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) throws(SMSLedgerError) {
        self.init(
            transport: transport, account: SMSAccount(key: "default", dailyLimit: dailyLimit),
            ledger: try SMSLedger.inMemory(), retry: retry, now: now, logger: logger)
    }

    /// Texts counted against the default account today (UTC): pending, sent and unknown.
    public var sentToday: Int {
        (try? ledger.count(account: account.key, at: now())) ?? 0
    }

    /// Sends `message`, retrying what can be retried; records it in the ledger first.
    ///
    /// - Parameters:
    ///   - message: the text.
    ///   - account: who it counts against (default: the dispatcher's account).
    /// - Returns: sent, failed (certainly not sent) or unknown.
    public func send(_ message: SMSMessage, account: SMSAccount? = nil) async -> DeliveryReport {
        let account = account ?? self.account
        if let problem = message.problem {
            logger.error("sms refused before sending", metadata: ["to": "\(message.to)", "reason": "\(problem)"])
            return .failed(.invalidMessage(problem), attempts: 0)
        }
        let id: Int64
        do {
            switch try ledger.reserve(message, account: account, at: now()) {
            case .reserved(let reserved):
                id = reserved
            case .limitReached:
                logger.warning(
                    "sms refused: daily limit reached",
                    metadata: ["to": "\(message.to)", "limit": "\(account.dailyLimit)"])
                return .failed(.dailyLimitReached(limit: account.dailyLimit), attempts: 0)
            }
        } catch {
            logger.error("sms not sent: the ledger cannot record it", metadata: ["error": "\(error)"])
            return .failed(.ledger(error.description), attempts: 0)
        }

        var delay = retry.initialDelay
        var attempt = 0
        while true {
            attempt += 1
            do {
                let providerID = try await transport.send(message)
                record(id, .sent, attempt, providerID: providerID)
                logger.info(
                    "sms sent",
                    metadata: [
                        "from": "\(message.from)", "to": "\(message.to)",
                        "id": "\(providerID)", "attempts": "\(attempt)",
                    ])
                return .sent(providerID: providerID, attempts: attempt)
            } catch {
                if error.mayHaveBeenSent {
                    record(id, .unknown, attempt, detail: error.description)
                    logger.error(
                        "sms outcome unknown",
                        metadata: ["to": "\(message.to)", "error": "\(error)", "attempts": "\(attempt)"])
                    return .unknown(error, attempts: attempt)
                }
                guard error.isRetryable, attempt < retry.maximumAttempts else {
                    record(id, .failed, attempt, detail: error.description)
                    logger.error(
                        "sms failed",
                        metadata: ["to": "\(message.to)", "error": "\(error)", "attempts": "\(attempt)"])
                    return .failed(.transport(error), attempts: attempt)
                }
                logger.notice(
                    "sms attempt failed; retrying",
                    metadata: ["to": "\(message.to)", "error": "\(error)", "attempt": "\(attempt)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, retry.maximumDelay)
            }
        }
    }

    private func record(
        _ id: Int64, _ state: SMSLedger.State, _ attempts: Int, providerID: String? = nil,
        detail: String? = nil
    ) {
        do {
            try ledger.finish(id, state: state, attempts: attempts, providerID: providerID, detail: detail, at: now())
        } catch {
            // The text stays pending: the next start marks it unknown, so it is never sent again.
            logger.error("sms ledger not updated", metadata: ["error": "\(error)", "state": "\(state.rawValue)"])
        }
    }
}
