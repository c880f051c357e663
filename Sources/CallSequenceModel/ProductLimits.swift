import TelephonyDSP

/// The one table of what the product allows a sequence and an account to hold: step and name counts, per-account
/// caps, the ranges of every account field. The signal limits (tone and gap durations, levels and twist per
/// ITU-T Q.24, the dial-string length and the sequence duration the generator also checks) are TelephonyDSP's
/// `Limits`, held here as ``signal``: what validates is what plays.
public struct ProductLimits: Sendable, Hashable {
    /// The signal limits (TelephonyDSP's `Limits.default`).
    public var signal = Limits.default
    /// Most steps in one sequence.
    public var maximumSteps = 50
    /// Longest name (of a sequence, an IVR, a recording), in characters.
    public var maximumNameLength = 100
    /// Most dial-string characters over all the DTMF steps of one sequence.
    public var maximumTotalDialStringLength = 1_000
    /// Most sequences in one account.
    public var maximumSequencesPerAccount = 1_000
    /// Most IVRs in one account.
    public var maximumIVRsPerAccount = 100
    /// Most DIDs in one account.
    public var maximumDIDsPerAccount = 1_000
    /// Most problems listed for one document; the rest are counted ("and N more").
    public var maximumProblemsListed = 50
    /// One SMS in the GSM-7 alphabet, in septets (3GPP TS 23.038); a UCS-2 text holds 70 units. See
    /// `SMSLength` for the rules validation applies.
    public var maximumMessageLength = 160
    /// Accepted `capabilities.smsDailyLimit` values (texts a UTC day).
    public var smsDailyLimit: ClosedRange<Int> = 0...100_000
    /// Texts an account may send a day when its file sets no limit: the provider's 100.
    public var defaultSMSDailyLimit = 100
    /// Accepted `answerAfterMs` values of a DID (ringing before a live call is answered).
    public var answerAfterMilliseconds: ClosedRange<Int> = 0...10_000
    /// Accepted `timeoutSeconds` values of an IVR.
    public var ivrTimeoutSeconds: ClosedRange<Int> = 1...60
    /// An IVR's wait for a digit when its file sets none, in seconds.
    public var defaultIVRTimeoutSeconds = 5
    /// Accepted `attempts` values of an IVR (plays of the menu).
    public var ivrAttempts: ClosedRange<Int> = 1...10
    /// Plays of an IVR's menu when its file sets none.
    public var defaultIVRAttempts = 3
    /// The largest account or sequence file read, in bytes (16 MiB).
    public var maximumFileBytes = 16 << 20

    /// The limits every sequence and account is read with (see the Limits article).
    public static let `default` = ProductLimits()

    /// Creates the default limits; change a field to try others.
    public init() {}
}
