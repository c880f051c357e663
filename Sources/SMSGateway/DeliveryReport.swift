/// What became of a text; the ledger records the same three outcomes.
public enum DeliveryReport: Sendable, Hashable, CustomStringConvertible {
    /// The provider accepted it, with its id, after `attempts` tries.
    case sent(providerID: String, attempts: Int)
    /// It was certainly not sent (refused, never reached the provider, over the daily limit).
    case failed(SMSSendError, attempts: Int)
    /// It may or may not have been sent (see ``SMSTransportError/Kind/outcomeUnknown(_:)``); it is not
    /// retried and counts against the daily limit.
    case unknown(SMSTransportError, attempts: Int)

    /// The text form, for logs and messages.
    public var description: String {
        func tries(_ n: Int) -> String { "(\(n) attempt\(n == 1 ? "" : "s"))" }
        switch self {
        case .sent(let id, let attempts): return "sent, provider id \(id) \(tries(attempts))"
        case .failed(let failure, let attempts): return "failed: \(failure) \(tries(attempts))"
        case .unknown(let error, let attempts): return "\(error) \(tries(attempts))"
        }
    }
}

/// Why a text was not sent: a struct with a ``Kind`` to switch on, one static function per kind, and a
/// one-line ``description``, like every error of the package.
public struct SMSSendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why it was not sent.
    public enum Kind: Sendable, Hashable {
        /// The account's daily limit is reached; nothing was sent to the provider.
        case dailyLimitReached(limit: Int)
        /// The message cannot be sent (a number that is not NANP, a text longer than one SMS); nothing was sent.
        case invalidMessage(String)
        /// The ledger could not record the text before sending it, so it was not sent.
        case ledger(String)
        /// The transport's error after the last attempt.
        case transport(SMSTransportError)
    }

    /// Why it was not sent.
    public let kind: Kind

    /// Creates the error of a kind.
    public init(_ kind: Kind) { self.kind = kind }

    /// The account's daily limit is reached; nothing was sent to the provider.
    public static func dailyLimitReached(limit: Int) -> Self { Self(.dailyLimitReached(limit: limit)) }
    /// The message cannot be sent; nothing was sent.
    public static func invalidMessage(_ reason: String) -> Self { Self(.invalidMessage(reason)) }
    /// The ledger could not record the text before sending it, so it was not sent.
    public static func ledger(_ reason: String) -> Self { Self(.ledger(reason)) }
    /// The transport's error after the last attempt.
    public static func transport(_ error: SMSTransportError) -> Self { Self(.transport(error)) }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        switch kind {
        case .dailyLimitReached(let limit): return "the daily limit of \(limit) texts is reached"
        case .invalidMessage(let reason): return "not sent: \(reason)"
        case .ledger(let reason): return "not sent: the ledger cannot record it (\(reason))"
        case .transport(let error): return error.description
        }
    }
}
