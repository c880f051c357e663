/// Something that hands a text to an SMS provider.
public protocol SMSTransport: Sendable {
    /// Sends `message` once (no retries: the dispatcher decides those).
    ///
    /// - Returns: the provider's id of the text.
    /// - Throws: ``SMSTransportError`` saying whether the text may have been sent.
    func send(_ message: SMSMessage) async throws(SMSTransportError) -> String
}

/// Why a send failed, and what that means for retrying it.
///
/// | kind | the text | retried |
/// |---|---|---|
/// | ``Kind/notSent(_:)`` | never reached the provider (connection refused, connect timeout, DNS) | yes |
/// | ``Kind/tlsFailure(_:)`` | not sent: the TLS handshake failed, before any byte of the request | no |
/// | ``Kind/configuration(_:)`` | not sent: the endpoint cannot work (bad URL, no host) | no |
/// | ``Kind/serverError(status:)`` | not sent: the provider itself answered 500 or 503 | yes |
/// | ``Kind/rejected(_:)`` | refused with a known provider status | no |
/// | ``Kind/httpStatus(_:)`` | refused: HTTP 3xx, 4xx, 501, 505 | no |
/// | ``Kind/outcomeUnknown(_:)`` | may have been sent: 502, 504, a timeout after sending, an odd answer | no |
public struct SMSTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Kind: Sendable, Hashable {
        /// The request never reached the provider (connection refused, connect timeout, DNS failure before
        /// connecting): safe to retry.
        case notSent(String)
        /// The TLS handshake failed (certificate, protocol): nothing of the request was sent; retrying does not
        /// help.
        case tlsFailure(String)
        /// The endpoint cannot work (bad URL, no host): failed at once.
        case configuration(String)
        /// The provider itself answered HTTP 500 or 503, before processing the text; retried.
        case serverError(status: Int)
        /// The provider refused the text with this known status (`invalid_dst`, `limit_reached`...): final.
        case rejected(String)
        /// The provider answered another HTTP status that means "not processed" (3xx, 4xx, 501, 505): final.
        case httpStatus(Int)
        /// The request may have reached the provider and the text may have gone out: never retried, so a
        /// text is never sent twice; counted against the daily limit.
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
        case .tlsFailure, .configuration, .rejected, .httpStatus, .outcomeUnknown: return false
        }
    }

    /// Whether the text may have been sent (only for an unknown outcome).
    public var mayHaveBeenSent: Bool {
        if case .outcomeUnknown = kind { return true }
        return false
    }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        switch kind {
        case .notSent(let reason): return "not sent: \(reason)"
        case .tlsFailure(let reason): return "not sent: the TLS handshake failed (\(reason))"
        case .configuration(let reason): return "not sent: \(reason)"
        case .serverError(let status): return "the provider failed with HTTP \(status)"
        case .rejected(let status): return "the provider refused the text: \(status)"
        case .httpStatus(let status): return "the provider answered HTTP \(status)"
        case .outcomeUnknown(let reason): return "outcome unknown (not retried, the text may have been sent): \(reason)"
        }
    }
}
