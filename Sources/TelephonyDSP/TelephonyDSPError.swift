/// A parameter outside what the DSP blocks support.
public struct TelephonyDSPError: Error, Hashable, Sendable, CustomStringConvertible {
    @usableFromInline
    enum Kind: Hashable, Sendable {
        case unsupportedSampleRate(Int, ClosedRange<Int>)
        case outOfRange(name: String, value: Double, range: ClosedRange<Double>, unit: String, reason: String?)
        case wouldClip(peak: Double)
        case tooLong(what: String, value: String, limit: String, reason: String)
    }

    @usableFromInline
    let kind: Kind

    @usableFromInline
    init(_ kind: Kind) { self.kind = kind }

    /// The sample rate is not one the block supports.
    public static func unsupportedSampleRate(_ rate: Int, supported: ClosedRange<Int>) -> TelephonyDSPError {
        TelephonyDSPError(.unsupportedSampleRate(rate, supported))
    }

    /// A numeric parameter is outside its range.
    public static func outOfRange(
        _ name: String, _ value: Double, _ range: ClosedRange<Double>, unit: String, reason: String? = nil
    ) -> TelephonyDSPError {
        TelephonyDSPError(.outOfRange(name: name, value: value, range: range, unit: unit, reason: reason))
    }

    /// Something is longer than its ``Limits`` allow (`value` and `limit` already formatted).
    public static func tooLong(_ what: String, _ value: String, limit: String, reason: String) -> TelephonyDSPError {
        TelephonyDSPError(.tooLong(what: what, value: value, limit: limit, reason: reason))
    }

    /// The requested levels add up to more than the 16-bit full scale.
    public static func wouldClip(peak: Double) -> TelephonyDSPError {
        TelephonyDSPError(.wouldClip(peak: peak))
    }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        switch kind {
        case .unsupportedSampleRate(let rate, let range):
            return "sample rate \(rate) Hz is not supported (\(range.lowerBound)...\(range.upperBound) Hz)"
        case .outOfRange(let name, let value, let range, let unit, let reason):
            return "\(name) \(formatted(value)) \(unit) is out of range "
                + "(\(formatted(range.lowerBound))...\(formatted(range.upperBound)) \(unit))"
                + (reason.map { ": \($0)" } ?? "")
        case .tooLong(let what, let value, let limit, let reason):
            return "\(what) is \(value); at most \(limit) (\(reason))"
        case .wouldClip(let peak):
            return "the two tones would peak at \(Int(peak.rounded())) and clip the 16-bit scale (max 32767); "
                + "lower the level or the twist"
        }
    }

    private func formatted(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
