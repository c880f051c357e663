import TelephonyDSP

/// The limits sequence files are checked against: TelephonyDSP's `Limits.default` (the one place limits live), plus
/// the SMS length rule.
public enum SequenceLimits {
    /// The limits every sequence and account is read with.
    public static let limits = Limits.default
    /// Longest name, in characters.
    public static var maximumNameLength: Int { limits.maximumNameLength }
    /// Most steps in one sequence.
    public static var maximumSteps: Int { limits.maximumSteps }
    /// Longest dial string of one step, in characters.
    public static var maximumDialStringLength: Int { limits.maximumDialStringLength }
    /// One SMS in the GSM-7 alphabet, in septets (3GPP TS 23.038); a UCS-2 text holds 70 units. See
    /// `SMSLength` for the rules validation applies.
    public static let maximumMessageLength = 160
}
