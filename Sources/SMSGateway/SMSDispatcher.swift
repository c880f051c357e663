// Sending texts off the audio thread: the player reports an SMS step, the host hands the message to a
// dispatcher, the call's audio goes on, and a delivery report comes back.
//
// Retry policy: a text is never sent twice by our retries. Only failures after which the provider
// certainly did not send it are retried - the request never reached it (connection refused, connect
// timeout) or it answered HTTP 5xx - with exponential backoff (0.2 s, 0.4 s, 0.8 s...; at most 4 attempts
// by default). A provider refusal (invalid_dst, limit_reached, an auth error) is final. A request whose
// outcome is unknown (sent, then a timeout or a dropped connection, or an unreadable answer) is reported as
// such and not retried: the host decides, knowing the text may have gone out.
// The daily limit counts texts sent, and texts whose outcome is unknown, per UTC day.

import CallSequence
import Foundation
import Logging

/// What became of a text.
public enum DeliveryReport: Sendable, Hashable, CustomStringConvertible {
    /// The provider accepted it, with its id, after `attempts` tries.
    case sent(providerID: String, attempts: Int)
    /// It was not (or may not have been) sent.
    case failed(SMSFailure, attempts: Int)

    public var description: String {
        switch self {
        case .sent(let id, let attempts): return "sent, provider id \(id) (\(attempts) attempt\(attempts == 1 ? "" : "s"))"
        case .failed(let failure, let attempts): return "failed: \(failure) (\(attempts) attempt\(attempts == 1 ? "" : "s"))"
        }
    }
}

/// Why a text failed.
public enum SMSFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The account's daily limit is reached; nothing was sent to the provider.
    case dailyLimitReached(limit: Int)
    /// The transport's error after the last attempt.
    case transport(SMSTransportError)

    public var description: String {
        switch self {
        case .dailyLimitReached(let limit): return "the daily limit of \(limit) texts is reached"
        case .transport(let error): return error.description
        }
    }
}

/// Sends texts with retries and a daily limit; safe to use from any task.
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
        public init(maximumAttempts: Int = 4, initialDelay: Duration = .milliseconds(200), maximumDelay: Duration = .seconds(2)) {
            self.maximumAttempts = max(1, maximumAttempts)
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }
    }

    private let transport: any SMSTransport
    private let dailyLimit: Int
    private let retry: RetryPolicy
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var day = ""
    private var countToday = 0

    /// Creates a dispatcher.
    ///
    /// - Parameters:
    ///   - transport: the provider.
    ///   - dailyLimit: texts per UTC day (the account's `smsDailyLimit`).
    ///   - retry: the retry policy.
    ///   - now: the clock (tests pass their own).
    ///   - logger: where to log (never the credentials or the text).
    public init(transport: any SMSTransport, dailyLimit: Int, retry: RetryPolicy = RetryPolicy(),
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.transport = transport
        self.dailyLimit = dailyLimit
        self.retry = retry
        self.now = now
        self.logger = logger
    }

    /// Texts counted against today's limit so far.
    public var sentToday: Int {
        rollDay()
        return countToday
    }

    /// Sends `message`, retrying what can be retried.
    public func send(_ message: SMSMessage) async -> DeliveryReport {
        rollDay()
        guard countToday < dailyLimit else {
            logger.warning("sms refused: daily limit reached", metadata: ["to": "\(message.to)", "limit": "\(dailyLimit)"])
            return .failed(.dailyLimitReached(limit: dailyLimit), attempts: 0)
        }
        var delay = retry.initialDelay
        var attempt = 0
        while true {
            attempt += 1
            do {
                let id = try await transport.send(message)
                countToday += 1
                logger.info("sms sent", metadata: ["from": "\(message.from)", "to": "\(message.to)", "id": "\(id)", "attempts": "\(attempt)"])
                return .sent(providerID: id, attempts: attempt)
            } catch {
                if case .outcomeUnknown = error.kind { countToday += 1 }
                guard error.isRetryable, attempt < retry.maximumAttempts else {
                    logger.error("sms failed", metadata: ["to": "\(message.to)", "error": "\(error)", "attempts": "\(attempt)"])
                    return .failed(.transport(error), attempts: attempt)
                }
                logger.notice("sms attempt failed; retrying", metadata: ["to": "\(message.to)", "error": "\(error)", "attempt": "\(attempt)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, retry.maximumDelay)
            }
        }
    }

    private func rollDay() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: now())
        let today = "\(parts.year ?? 0)-\(parts.month ?? 0)-\(parts.day ?? 0)"
        if today != day {
            day = today
            countToday = 0
        }
    }
}
