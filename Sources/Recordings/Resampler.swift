// Sample-rate conversion with libsoxr at its "high quality" setting (20-bit, passband to 91 % of the
// lower Nyquist frequency, stopband attenuation beyond 120 dB): flat to 3.6 kHz at 8 kHz, with
// everything above the target's Nyquist frequency removed: ResamplerTests measure a 1 kHz tone kept within
// 0.0001 Hz and 0.001 dB, and a 6 kHz tone at 48 kHz 144 dB down at 8 kHz.

import CSoxr

/// Converts mono audio between sample rates with libsoxr (HQ).
public enum Resampler {
    /// Resamples `samples` from `inputRate` to `outputRate`.
    ///
    /// - Parameters:
    ///   - samples: mono samples on any scale (they are not clipped).
    ///   - inputRate: their rate in hertz.
    ///   - outputRate: the rate wanted.
    ///   - name: what to call the audio in an error.
    /// - Returns: the samples at `outputRate` (`samples` unchanged when the rates are equal).
    /// - Throws: ``RecordingError`` if libsoxr refuses.
    public static func resample(
        _ samples: [Float], from inputRate: Int, to outputRate: Int, name: String = "audio"
    ) throws(RecordingError) -> [Float] {
        guard inputRate != outputRate, !samples.isEmpty else { return samples }
        guard inputRate > 0, outputRate > 0 else {
            throw .resamplingFailed(name, reason: "rates must be positive (\(inputRate) -> \(outputRate) Hz)")
        }
        let expected = Int((Double(samples.count) * Double(outputRate) / Double(inputRate)).rounded())
        var output = [Float](repeating: 0, count: expected + 64)
        var done = 0
        var ioSpec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        let failure: String? = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                var inputDone = 0
                guard
                    let error = soxr_oneshot(
                        Double(inputRate), Double(outputRate), 1,
                        input.baseAddress, input.count, &inputDone,
                        out.baseAddress, out.count, &done,
                        &ioSpec, &quality, nil)
                else { return nil }
                return String(cString: error)
            }
        }
        if let failure { throw .resamplingFailed(name, reason: failure) }
        output.removeLast(output.count - min(done, output.count))
        return output
    }
}
