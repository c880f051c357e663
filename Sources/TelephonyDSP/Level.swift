#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Levels in dBm0 on the 16-bit linear scale, as ITU-T G.711 defines them: the maximum sine wave of
// a G.711 channel is +3.14 dBm0 (A-law; spandsp uses the same figure for both laws), so a sine of
// 0 dBm0 has a peak of 32767 / 10^(3.14/20) = 22826 and -10 dBm0 a peak of 7218.

/// Conversions between dBm0 and sample amplitudes on the 16-bit scale.
public enum Level {
    /// The peak amplitude, on the 16-bit scale, of a sine wave at 0 dBm0 (≈ 22826).
    public static let zeroDbm0SinePeak: Double = 32767.0 / pow10(3.14 / 20.0)

    /// The peak amplitude of a sine wave at `dbm0`.
    ///
    /// - Parameter dbm0: the level in dBm0.
    /// - Returns: the sine's peak on the 16-bit scale.
    @inlinable
    public static func sinePeak(dbm0: Double) -> Double {
        zeroDbm0SinePeak * pow10(dbm0 / 20.0)
    }

    /// The level in dBm0 of a sine wave whose peak is `peak` on the 16-bit scale.
    ///
    /// - Parameter peak: the peak amplitude; must be positive.
    /// - Returns: the level in dBm0 (`-infinity` for a zero peak).
    @inlinable
    public static func dbm0(sinePeak peak: Double) -> Double {
        20.0 * log10(peak / zeroDbm0SinePeak)
    }

    /// The level in dBm0 of a signal with the given RMS value (a sine's RMS is its peak / √2).
    ///
    /// - Parameter rms: the RMS amplitude on the 16-bit scale.
    /// - Returns: the level in dBm0 (`-infinity` for silence).
    @inlinable
    public static func dbm0(rms: Double) -> Double {
        dbm0(sinePeak: rms * 2.0.squareRoot())
    }

    @usableFromInline
    static func pow10(_ x: Double) -> Double { exp(x * 2.302585092994046) }
}
