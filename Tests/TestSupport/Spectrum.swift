import Foundation

/// Direct (non-FFT) spectral measurements in double precision, independent of the code under test.
package enum Spectrum {
    /// The DFT of `x[range]` at `frequency`, referenced to the range's first sample.
    package static func dft<C: RandomAccessCollection>(
        _ x: C, frequency: Double, sampleRate: Int
    ) -> (re: Double, im: Double)
    where C.Element: BinaryFloatingPoint, C.Index == Int {
        let w = 2 * Double.pi * frequency / Double(sampleRate)
        var re = 0.0
        var im = 0.0
        // Rotate a phasor instead of calling sin/cos per sample; renormalise now and then.
        var c = 1.0
        var s = 0.0
        let cw = cos(w)
        let sw = sin(w)
        var k = 0
        for i in x.indices {
            let v = Double(x[i])
            re += v * c
            im -= v * s
            (c, s) = (c * cw - s * sw, s * cw + c * sw)
            k += 1
            if k & 1023 == 0 {
                let m = (c * c + s * s).squareRoot()
                c /= m
                s /= m
            }
        }
        return (re, im)
    }

    /// The peak amplitude of the sine at `frequency` in `x` (exact when `x` holds whole cycles).
    package static func amplitude<C: RandomAccessCollection>(_ x: C, frequency: Double, sampleRate: Int) -> Double
    where C.Element: BinaryFloatingPoint, C.Index == Int {
        let (re, im) = dft(x, frequency: frequency, sampleRate: sampleRate)
        return 2 * (re * re + im * im).squareRoot() / Double(x.count)
    }

    /// The frequency of the tone near `nominal`, from the phase advance of the DFT between the two halves of `x`.
    package static func frequency<C: RandomAccessCollection>(_ x: C, near nominal: Double, sampleRate: Int) -> Double
    where C.Element: BinaryFloatingPoint, C.Index == Int {
        let half = x.count / 2
        let start = x.startIndex
        let a = dft(x[start..<(start + half)], frequency: nominal, sampleRate: sampleRate)
        let b = dft(x[(start + half)..<(start + 2 * half)], frequency: nominal, sampleRate: sampleRate)
        // Each half's DFT is referenced to its own start: remove the nominal advance over `half` samples.
        var dphi = atan2(b.im, b.re) - atan2(a.im, a.re) + 2 * Double.pi * nominal * Double(half) / Double(sampleRate)
        dphi = remainder(dphi, 2 * Double.pi)
        // With X = sum x e^{-jwn}, a tone above nominal makes the phase advance.
        return nominal + dphi / (2 * Double.pi * Double(half) / Double(sampleRate))
    }

    /// Energy of `x` within `bandwidth` hertz of any of `frequencies`, and outside, from a direct DFT on a 2 Hz grid.
    package static func energyNearAndAway<C: RandomAccessCollection>(
        _ x: C, frequencies: [Double], bandwidth: Double, sampleRate: Int
    ) -> (near: Double, away: Double) where C.Element: BinaryFloatingPoint, C.Index == Int {
        var near = 0.0
        var away = 0.0
        var f = 0.0
        while f < Double(sampleRate) / 2 {
            let (re, im) = dft(x, frequency: f, sampleRate: sampleRate)
            let e = re * re + im * im
            if frequencies.contains(where: { abs($0 - f) <= bandwidth }) { near += e } else { away += e }
            f += 2
        }
        return (near, away)
    }
}

package func dB(_ ratio: Double) -> Double { 10 * log10(ratio) }
package func formatted(_ x: Double, _ places: Int = 2) -> String { String(format: "%.\(places)f", x) }
