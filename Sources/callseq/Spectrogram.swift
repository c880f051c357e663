import Foundation
import TelephonyDSP

/// Short-time spectra for the picture: one column per pixel, each the Hann-windowed power spectrum of
/// about 32 ms of audio centred on the column (radix-2 FFT), as levels in dBm0 per bin. When a column
/// spans more audio than one window, several windows spread over it are taken and the loudest value of
/// each bin kept, so that a short tone in a long recording still shows.
struct Spectrogram {
    /// Samples per analysis window (a power of two).
    let size: Int
    let sampleRate: Int
    /// Per column, `size / 2 + 1` levels in dBm0 (bin k is k * rate / size Hz).
    private(set) var columns: [[Float]] = []

    /// The most windows taken for one column.
    static let maximumWindowsPerColumn = 8

    init(samples: [Float], sampleRate: Int, columns count: Int) {
        self.sampleRate = sampleRate
        var n = 64
        while n < sampleRate * 32 / 1000 { n *= 2 }
        size = n
        let fft = FFT(size: n)
        let window = (0..<n).map { Float(0.5 - 0.5 * cos(2 * Double.pi * (Double($0) + 0.5) / Double(n))) }
        // A sine of peak A on a bin gives |X| = A N / 4 with a Hann window (the window sums to N/2).
        let scale = 4 / Float(n)
        let total = samples.count
        var re = [Float](repeating: 0, count: n)
        var im = [Float](repeating: 0, count: n)
        for column in 0..<max(count, 0) {
            let from = Double(column) * Double(total) / Double(count)
            let to = Double(column + 1) * Double(total) / Double(count)
            let windows = min(max(Int(((to - from) / Double(n)).rounded(.up)), 1), Spectrogram.maximumWindowsPerColumn)
            var peak = [Float](repeating: 0, count: n / 2 + 1)
            for w in 0..<windows {
                let centre = Int(from + (to - from) * (Double(w) + 0.5) / Double(windows))
                let start = centre - n / 2
                for i in 0..<n {
                    let index = start + i
                    re[i] = index >= 0 && index < total ? samples[index] * window[i] : 0
                    im[i] = 0
                }
                fft.transform(&re, &im)
                for k in 0...(n / 2) {
                    let magnitude = (re[k] * re[k] + im[k] * im[k]).squareRoot() * scale
                    peak[k] = max(peak[k], magnitude)
                }
            }
            columns.append(peak.map { Float(Level.dbm0(sinePeak: Double(max($0, 1e-3)))) })
        }
    }

    /// The level at `frequency` in column `column`, interpolated between bins, in dBm0.
    func level(column: Int, frequency: Double) -> Float {
        let bins = columns[column]
        let position = frequency * Double(size) / Double(sampleRate)
        let k = min(max(Int(position), 0), bins.count - 2)
        let fraction = Float(min(max(position - Double(k), 0), 1))
        return bins[k] * (1 - fraction) + bins[k + 1] * fraction
    }
}
