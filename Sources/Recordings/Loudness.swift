// Loudness of prompts in dBm0 (0 dBm0 = a sine of peak 22826 on the 16-bit scale, see TelephonyDSP.Level).
//
// - Peak: the largest absolute sample, given as the level of a sine with that peak.
// - RMS: the whole recording's RMS, as the level of a sine with that RMS.
// - Active level: a simplified ITU-T P.56 - the RMS of the 20 ms blocks that are louder than -55 dBm0
//   and within 35 dB of the loudest block, so that pauses do not pull a prompt's level down. This is
//   what normalisation sets, since it is what a listener hears as "how loud".

import TelephonyDSP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Peak, RMS and active level of a recording.
public struct LoudnessMeasurement: Sendable, Hashable {
    /// The largest absolute sample on the 16-bit scale.
    public var peak: Double
    /// The level of a sine with that peak, in dBm0 (+3.14 is full scale).
    public var peakDbm0: Double
    /// The RMS of the whole recording, in dBm0.
    public var rmsDbm0: Double
    /// The RMS of its active (non-pause) blocks, in dBm0.
    public var activeLevelDbm0: Double
}

/// The outcome of normalising a recording.
public struct NormalizationResult: Sendable, Hashable {
    /// The gain applied, in dB.
    public var gainDb: Double
    /// Whether the gain was reduced so that the peak stays within the 16-bit scale.
    public var limitedByPeak: Bool
    /// The active level reached, in dBm0.
    public var activeLevelDbm0: Double
}

/// Measures and normalises the loudness of prompts.
public enum Loudness {
    /// Measures `samples`.
    ///
    /// - Parameters:
    ///   - samples: mono samples on the 16-bit scale.
    ///   - sampleRate: their rate (sets the 20 ms block length).
    /// - Returns: peak, RMS and active level (`-infinity` for silence).
    public static func measure(_ samples: [Float], sampleRate: Int) -> LoudnessMeasurement {
        var peak: Float = 0
        var total = 0.0
        let block = max(1, sampleRate / 50)
        var blocks: [Double] = []
        blocks.reserveCapacity(samples.count / block + 1)
        var start = 0
        while start < samples.count {
            let end = min(start + block, samples.count)
            var sum = 0.0
            for i in start..<end {
                let x = samples[i]
                peak = max(peak, abs(x))
                sum += Double(x) * Double(x)
            }
            total += sum
            blocks.append(sum / Double(end - start))
            start = end
        }
        let rms = samples.isEmpty ? 0 : (total / Double(samples.count)).squareRoot()
        let loudest = blocks.max() ?? 0
        let floor = max(meanSquare(dbm0: -55), loudest * pow(10, -3.5))
        let active = blocks.filter { $0 > floor && $0 > 0 }
        let activeRms = active.isEmpty ? 0 : (active.reduce(0, +) / Double(active.count)).squareRoot()
        return LoudnessMeasurement(
            peak: Double(peak), peakDbm0: Level.dbm0(sinePeak: Double(peak)),
            rmsDbm0: Level.dbm0(rms: rms), activeLevelDbm0: Level.dbm0(rms: activeRms))
    }

    /// Scales `samples` so that their active level is `targetDbm0`, unless that would push the peak past
    /// 32767; then the gain stops there.
    ///
    /// - Parameters:
    ///   - samples: mono samples on the 16-bit scale, changed in place.
    ///   - sampleRate: their rate.
    ///   - targetDbm0: the active level wanted.
    /// - Returns: the gain applied and whether the peak limited it. Silence is left as it is.
    @discardableResult
    public static func normalize(
        _ samples: inout [Float], sampleRate: Int, toDbm0 targetDbm0: Double
    ) -> NormalizationResult {
        let before = measure(samples, sampleRate: sampleRate)
        guard before.activeLevelDbm0.isFinite, before.peak > 0 else {
            return NormalizationResult(gainDb: 0, limitedByPeak: false, activeLevelDbm0: before.activeLevelDbm0)
        }
        var gainDb = targetDbm0 - before.activeLevelDbm0
        let headroomDb = 20 * log10(32767 / before.peak)
        let limited = gainDb > headroomDb
        if limited { gainDb = headroomDb }
        let gain = Float(pow(10, gainDb / 20))
        for i in samples.indices { samples[i] = min(max(samples[i] * gain, -32768), 32767) }
        return NormalizationResult(
            gainDb: gainDb, limitedByPeak: limited, activeLevelDbm0: before.activeLevelDbm0 + gainDb)
    }

    static func meanSquare(dbm0: Double) -> Double {
        let rms = Level.sinePeak(dbm0: dbm0) / 2.0.squareRoot()
        return rms * rms
    }
}
