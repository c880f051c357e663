import Foundation
import TelephonyDSP
import TestSupport
import Testing

/// An independent transliteration of Sun's reference g711.c `linear2ulaw` (the 16-bit form that
/// spandsp and Asterisk use), with its table search for the segment.
enum SunG711 {
    static let segmentEnds = [0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF]

    static func linear2ulaw(_ sample: Int16) -> UInt8 {
        var pcm = Int(sample)
        let mask: Int
        if pcm < 0 {
            pcm = 0x84 - pcm
            mask = 0x7F
        } else {
            pcm += 0x84
            mask = 0xFF
        }
        var segment = 0
        while segment < 8 && pcm > segmentEnds[segment] { segment += 1 }
        if segment >= 8 { return UInt8(0x7F ^ mask) }
        return UInt8(((segment << 4) | ((pcm >> (segment + 3)) & 0xF)) ^ mask)
    }
}

/// An independent transliteration of ITU-T G.191's `ulaw_compress`/`alaw_compress`/`..._expand`
/// (loop-based segment search, as in the STL).
enum G191 {
    static func ulawCompress(_ sample: Int16) -> UInt8 {
        let x = Int(sample)
        var absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33
        if absno > 0x1FFF { absno = 0x1FFF }
        var i = absno >> 6
        var segno = 1
        while i != 0 {
            segno += 1
            i >>= 1
        }
        let high = 0x0008 - segno
        let low = 0x000F - ((absno >> segno) & 0x000F)
        var code = (high << 4) | low
        if x >= 0 { code |= 0x0080 }
        return UInt8(code)
    }

    static func ulawExpand(_ code: UInt8) -> Int16 {
        let sign = code < 0x80 ? -1 : 1
        var mantissa = Int(~code) & 0xFF
        let exponent = (mantissa >> 4) & 0x07
        let segment = exponent + 1
        mantissa &= 0x0F
        let step = 4 << segment
        return Int16(sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33))
    }

    static func alawCompress(_ sample: Int16) -> UInt8 {
        let x = Int(sample)
        var ix = x < 0 ? (~x) >> 4 : x >> 4
        if ix > 15 {
            var iexp = 1
            while ix > 16 + 15 {
                ix >>= 1
                iexp += 1
            }
            ix -= 16
            ix += iexp << 4
        }
        if x >= 0 { ix |= 0x0080 }
        return UInt8(ix ^ 0x0055)
    }

    static func alawExpand(_ code: UInt8) -> Int16 {
        var ix = Int(code) ^ 0x0055
        ix &= 0x007F
        let iexp = ix >> 4
        var mant = ix & 0x000F
        if iexp > 0 { mant += 16 }
        mant = (mant << 4) + 0x0008
        if iexp > 1 { mant <<= iexp - 1 }
        return Int16(code > 127 ? mant : -mant)
    }
}

/// The encoders' previous formulas (count of leading zeros and a variable shift, up to commit ac3d3ba), kept to
/// show that the float-exponent encoders that replaced them give the same byte for every input.
enum PreviousG711 {
    static func ulaw(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        let biased = min(x < 0 ? -x : x, 32635) + 0x84
        let segment = Int32(32 - UInt32(biased).leadingZeroBitCount) - 8
        let code = (segment << 4) | ((biased >> (segment + 3)) & 0x0F)
        return UInt8(truncatingIfNeeded: code ^ (x >= 0 ? 0xFF : 0x7F))
    }

    static func alaw(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        let magnitude = (x < 0 ? ~x : x) >> 4
        let bitLength = 32 - UInt32(magnitude).leadingZeroBitCount
        let shift = max(Int32(bitLength) - 5, 0)
        var code = (magnitude >> shift) + (shift << 4)
        if x >= 0 { code |= 0x80 }
        return UInt8(truncatingIfNeeded: code ^ 0x55)
    }
}

@Suite("G.711")
struct G711Tests {
    @Test func encodersMatchTheirPreviousFormulasForAll65536Inputs() {
        // One at a time, and in a loop over the whole range (the form the compiler turns into vector code).
        let all = (Int(Int16.min)...Int(Int16.max)).map { Int16($0) }
        var muMismatches = 0
        var aMismatches = 0
        for value in all {
            if MuLaw.encode(value) != PreviousG711.ulaw(value) { muMismatches += 1 }
            if ALaw.encode(value) != PreviousG711.alaw(value) { aMismatches += 1 }
        }
        #expect(muMismatches == 0 && aMismatches == 0)
        var mu = [UInt8](repeating: 0, count: all.count)
        var a = mu
        for i in 0..<all.count {
            mu[i] = MuLaw.encode(all[i])
            a[i] = ALaw.encode(all[i])
        }
        #expect(mu == all.map(PreviousG711.ulaw))
        #expect(a == all.map(PreviousG711.alaw))
    }

    @Test func muLawEncoderMatchesSunsReferenceForAll65536Inputs() {
        var mismatches = 0
        for value in Int16.min...Int16.max where MuLaw.encode(value) != SunG711.linear2ulaw(value) { mismatches += 1 }
        #expect(mismatches == 0)
    }

    @Test func muLawDiffersFromTheG191LibraryOnlyOnNegativeStepBoundariesByOneStep() {
        // G.191 takes the one's complement of negative inputs; media servers negate them.
        var differences: [Int16] = []
        for value in Int16.min...Int16.max where MuLaw.encode(value) != G191.ulawCompress(value) {
            differences.append(value)
            let step = Int(MuLaw.encode(value)) - Int(G191.ulawCompress(value))
            #expect(step == -1, "input \(value)")
        }
        print("mu-law vs ITU-T G.191 STL: \(differences.count) of 65536 inputs differ, all negative multiples of 4")
        #expect(differences.count == 127)
        #expect(differences.allSatisfy { $0 < 0 && $0 % 4 == 0 })
    }

    @Test func aLawEncoderMatchesTheG191ReferenceForAll65536Inputs() {
        var mismatches = 0
        for value in Int16.min...Int16.max where ALaw.encode(value) != G191.alawCompress(value) { mismatches += 1 }
        #expect(mismatches == 0)
    }

    @Test func decodersMatchTheG191ReferenceForAll256Codes() {
        for code in UInt8.min...UInt8.max {
            #expect(MuLaw.decode(code) == G191.ulawExpand(code), "mu-law code \(code)")
            #expect(ALaw.decode(code) == G191.alawExpand(code), "A-law code \(code)")
        }
    }

    @Test func silenceAndFullScaleCodePoints() {
        #expect(MuLaw.encode(0) == 0xFF)
        #expect(MuLaw.encode(-1) == 0x7F)
        #expect(ALaw.encode(0) == 0xD5)
        #expect(ALaw.encode(-1) == 0x55)
        #expect(MuLaw.decode(0xFF) == 0)
        #expect(ALaw.decode(0xD5) == 8)
        #expect(MuLaw.encode(.max) == 0x80 && MuLaw.encode(.min) == 0x00)
        #expect(ALaw.encode(.max) == 0xAA && ALaw.encode(.min) == 0x2A)
        #expect(MuLaw.decode(0x80) == 32124 && MuLaw.decode(0x00) == -32124)
        #expect(ALaw.decode(0xAA) == 32256 && ALaw.decode(0x2A) == -32256)
    }

    @Test func decodeThenEncodeIsTheIdentityOnCodes() {
        for code in UInt8.min...UInt8.max {
            #expect(ALaw.encode(ALaw.decode(code)) == code)
            // mu-law has two codes for zero (0x7F and 0xFF); 0x7F decodes to 0 and re-encodes as 0xFF.
            #expect(MuLaw.encode(MuLaw.decode(code)) == (code == 0x7F ? 0xFF : code))
        }
    }

    @Test func encodersAreMonotonic() {
        var previousMu = MuLaw.decode(MuLaw.encode(.min))
        var previousA = ALaw.decode(ALaw.encode(.min))
        for value in Int16.min...Int16.max {
            let mu = MuLaw.decode(MuLaw.encode(value))
            let a = ALaw.decode(ALaw.encode(value))
            #expect(mu >= previousMu && a >= previousA)
            previousMu = mu
            previousA = a
        }
    }

    @Test func quantisationNoiseOfAMinus10Dbm0SineIsAboutG712() {
        // G.712: signal-to-total-distortion at -10 dBm0 is at least 35 dB for a G.711 channel.
        let peak = Level.sinePeak(dbm0: -10)
        for (name, law) in [("mu-law", SampleEncoding.ulaw), ("A-law", .alaw)] {
            var signal = 0.0
            var noise = 0.0
            for i in 0..<8000 {
                let x = peak * sin(2 * Double.pi * 1004 * Double(i) / 8000)
                let q = Double(law.roundTrip(Int16(x.rounded())))
                signal += x * x
                noise += (q - x) * (q - x)
            }
            let snr = 10 * log10(signal / noise)
            print("G.711 \(name): S/(N+D) of a -10 dBm0 1004 Hz sine = \(String(format: "%.1f", snr)) dB")
            #expect(snr > 35)
        }
    }
}
