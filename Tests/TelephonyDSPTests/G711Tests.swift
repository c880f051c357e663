import Foundation
import Testing
import TelephonyDSP

/// An independent transliteration of ITU-T G.191's `ulaw_compress`/`alaw_compress`/`..._expand`
/// (loop-based segment search, as in the STL), to check the bit-twiddling encoders against.
enum G191 {
    static func ulawCompress(_ sample: Int16) -> UInt8 {
        let x = Int(sample)
        var absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33
        if absno > 0x1FFF { absno = 0x1FFF }
        var i = absno >> 6
        var segno = 1
        while i != 0 { segno += 1; i >>= 1 }
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
            while ix > 16 + 15 { ix >>= 1; iexp += 1 }
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

@Suite("G.711")
struct G711Tests {
    @Test func muLawEncoderMatchesTheG191ReferenceForAll65536Inputs() {
        var mismatches = 0
        for value in Int16.min...Int16.max where MuLaw.encode(value) != G191.ulawCompress(value) { mismatches += 1 }
        #expect(mismatches == 0)
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
            let mu = MuLaw.decode(MuLaw.encode(value)), a = ALaw.decode(ALaw.encode(value))
            #expect(mu >= previousMu && a >= previousA)
            previousMu = mu
            previousA = a
        }
    }

    @Test func quantisationNoiseOfAMinus10Dbm0SineIsAboutG712() {
        // G.712: signal-to-total-distortion at -10 dBm0 is at least 35 dB for a G.711 channel.
        let peak = Level.sinePeak(dbm0: -10)
        for (name, law) in [("mu-law", SampleEncoding.ulaw), ("A-law", .alaw)] {
            var signal = 0.0, noise = 0.0
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
