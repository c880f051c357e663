import CallSequence

/// A text to send: the same value as a sequence's SMS step (from, to, message).
public typealias SMSMessage = SMSStep

/// Something that hands a text to an SMS provider.
public protocol SMSTransport: Sendable {
    /// Sends `message` once (no retries: the dispatcher decides those).
    ///
    /// - Returns: the provider's id of the text.
    /// - Throws: ``SMSTransportError`` saying whether the text may have been sent.
    func send(_ message: SMSMessage) async throws(SMSTransportError) -> String
}

/// Why a send failed, and what that means for retrying it.
public struct SMSTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Kind: Sendable, Hashable {
        /// The request never reached the provider (connection refused, connect timeout): safe to retry.
        case notSent(String)
        /// The provider answered HTTP 5xx: it failed the request; retried.
        case serverError(status: Int)
        /// The provider refused the text with this status (`invalid_dst`, `limit_reached`, an auth error...): final.
        case rejected(String)
        /// The provider answered another HTTP status (4xx): final.
        case httpStatus(Int)
        /// The request was sent but no answer came (timeout, dropped connection), or the answer could not be
        /// read: the text may or may not have been sent. Never retried, so a text is never sent twice.
        case outcomeUnknown(String)
    }

    /// The kind of failure.
    public var kind: Kind

    /// Creates an error.
    public init(_ kind: Kind) { self.kind = kind }

    /// Whether retrying cannot send the text twice and may succeed.
    public var isRetryable: Bool {
        switch kind {
        case .notSent, .serverError: return true
        case .rejected, .httpStatus, .outcomeUnknown: return false
        }
    }

    public var description: String {
        switch kind {
        case .notSent(let reason): return "not sent: \(reason)"
        case .serverError(let status): return "the provider failed with HTTP \(status)"
        case .rejected(let status): return "the provider refused the text: \(status)"
        case .httpStatus(let status): return "the provider answered HTTP \(status)"
        case .outcomeUnknown(let reason): return "outcome unknown (not retried, the text may have been sent): \(reason)"
        }
    }
}
