import TelephonyDSP

// The `status` values of the VoIP.ms REST API that sendSMS can answer ("success", or an error
// code such as invalid_dst, sms_failed, limit_reached). Anything else is not printed as it came: it is
// reported as an unrecognised status with a short escaped excerpt, the password scrubbed first.

/// A provider `status` matched against the codes it is known to send.
public enum ProviderStatus: Sendable, Hashable {
    /// `success`: the text was accepted.
    case success
    /// A known error code: the provider refused the text.
    case refused(String)
    /// Anything else: a short, escaped, scrubbed excerpt.
    case unrecognised(String)

    /// The error codes sendSMS is known to answer; each means the text was refused and not sent.
    public static let knownErrors: Set<String> = [
        "api_not_enabled", "api_limit_exceeded", "invalid_credentials", "invalid_did", "invalid_dst",
        "invalid_message", "invalid_method", "invalid_sms", "ip_not_enabled", "limit_reached", "message_empty",
        "missing_credentials", "missing_did", "missing_dst", "missing_message", "missing_method", "no_api",
        "sms_failed", "sms_toolong", "sms_disabled", "did_not_sms_enabled", "dst_not_allowed",
        "account_suspended", "no_sms_balance",
    ]

    /// Longest excerpt of an unrecognised status, in characters.
    public static let excerptLength = 40

    /// Matches `status`; `scrub` removes credentials before an excerpt is made.
    public init(_ status: String, scrub: (String) -> String) {
        if status == "success" {
            self = .success
        } else if Self.knownErrors.contains(status) {
            self = .refused(status)
        } else {
            self = .unrecognised(InputText.escaped(scrub(status), limit: Self.excerptLength))
        }
    }
}
