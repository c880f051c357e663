// The signal limits: what the generator (DTMFGenerator, DTMFTiming.validate) accepts, so that what plays fits in
// bounded memory and time. The model's ProductLimits (CallSequenceModel) holds them with the product's own limits
// (steps, names, per-account caps): what validates is what plays.
//
// Signal limits follow ITU-T Q.24 (DTMF receivers): a receiver must recognise a digit whose tone lasts
// 40 ms and whose pause lasts 40 ms (Q.24 Table A-1, "signal/pause duration"); shorter pauses merge two
// equal digits into one. Q.24 collects the administrations' national receiver figures side by side and
// does not supersede them; the level floor here is the AT&T/Bellcore (North American, later Telcordia)
// must-accept figure, -25 dBm0 per frequency: a receiver built to it need not hear weaker tones. Other
// administrations' figures may differ; the README ("Level floor") says how this figure was sourced.

/// Limits on the signal: tone and gap durations, levels, twist, one dial string and one sequence's duration, with
/// the reason for each.
public struct Limits: Sendable, Hashable {
    /// Longest total duration of one sequence, in milliseconds (default 10 minutes).
    public var maximumSequenceMilliseconds: Int
    /// Longest dial string of one DTMF step, in characters.
    public var maximumDialStringLength: Int
    /// Accepted tone durations in ms (Q.24: at least 40 ms).
    public var toneMilliseconds: ClosedRange<Int>
    /// Accepted gaps after a tone in ms (Q.24: at least 40 ms, or equal digits merge).
    public var gapMilliseconds: ClosedRange<Int>
    /// Accepted low-group levels in dBm0 (down to -25 dBm0: the AT&T/Bellcore must-accept floor in Q.24).
    public var levelDbm0: ClosedRange<Double>
    /// Accepted twists (high group relative to low group) in dB; the high group must also stay at or
    /// above the level floor.
    public var twistDb: ClosedRange<Double>

    /// The defaults (see the README's limits table).
    public static let `default` = Limits(
        maximumSequenceMilliseconds: 600_000,
        maximumDialStringLength: 100,
        toneMilliseconds: 40...10_000,
        gapMilliseconds: 40...10_000,
        levelDbm0: -25...0,
        twistDb: -10...10)

    /// Creates limits; every parameter is a field above.
    public init(
        maximumSequenceMilliseconds: Int, maximumDialStringLength: Int, toneMilliseconds: ClosedRange<Int>,
        gapMilliseconds: ClosedRange<Int>, levelDbm0: ClosedRange<Double>, twistDb: ClosedRange<Double>
    ) {
        self.maximumSequenceMilliseconds = maximumSequenceMilliseconds
        self.maximumDialStringLength = maximumDialStringLength
        self.toneMilliseconds = toneMilliseconds
        self.gapMilliseconds = gapMilliseconds
        self.levelDbm0 = levelDbm0
        self.twistDb = twistDb
    }

    /// The reason quoted in an error about a tone duration.
    public static let toneReason = "a Q.24 receiver needs tones of at least 40 ms"
    /// The reason quoted in an error about a gap.
    public static let gapReason = "a Q.24 receiver needs a pause of at least 40 ms, or two equal digits merge"
    /// The reason quoted in an error about a level.
    public static let levelReason = "Q.24 receivers are only required to hear tones down to -25 dBm0"
    /// The reason quoted in an error about the total duration.
    public static let durationReason = "sequences are capped so that one account cannot hold a call or memory"

    /// The duration of `milliseconds` formatted for errors (`27.8 h`, `12 min 3 s`, `850 ms`).
    public static func describe(milliseconds: Int) -> String {
        if milliseconds >= 3_600_000 {
            let tenths = (milliseconds + 180_000) / 360_000
            return "\(tenths / 10).\(tenths % 10) h"
        }
        if milliseconds >= 60_000 { return "\(milliseconds / 60_000) min \(milliseconds % 60_000 / 1000) s" }
        if milliseconds >= 1000 { return "\(milliseconds / 1000) s" }
        return "\(milliseconds) ms"
    }
}
