/// A parameter outside what the DSP blocks support.
public struct TelephonyDSPError: Error, Hashable, Sendable, CustomStringConvertible {
    @usableFromInline
    enum Kind: Hashable, Sendable {
        case unsupportedSampleRate(Int, ClosedRange<Int>)
        case outOfRange(name: String, value: Double, range: ClosedRange<Double>, unit: String)
        case wouldClip(peak: Double)
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
        _ name: String, _ value: Double, _ range: ClosedRange<Double>, unit: String
    ) -> TelephonyDSPError {
        TelephonyDSPError(.outOfRange(name: name, value: value, range: range, unit: unit))
    }

    /// The requested levels add up to more than the 16-bit full scale.
    public static func wouldClip(peak: Double) -> TelephonyDSPError {
        TelephonyDSPError(.wouldClip(peak: peak))
    }

    public var description: String {
        switch kind {
        case .unsupportedSampleRate(let rate, let range):
            return "sample rate \(rate) Hz is not supported (\(range.lowerBound)...\(range.upperBound) Hz)"
        case .outOfRange(let name, let value, let range, let unit):
            return "\(name) \(formatted(value)) \(unit) is out of range "
                + "(\(formatted(range.lowerBound))...\(formatted(range.upperBound)) \(unit))"
        case .wouldClip(let peak):
            return "the two tones would peak at \(Int(peak.rounded())) and clip the 16-bit scale (max 32767); "
                + "lower the level or the twist"
        }
    }

    private func formatted(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
