// ITU-T G.711 mu-law and A-law from 16-bit linear input, bit-exact with what media servers use:
// spandsp's g711.h, Asterisk and Sun's reference g711.c (and so FreeSWITCH, which uses spandsp's).
// - mu-law: magnitude |x| (two's complement), bias 0x84, clip at 32635, segment = top bit - 7,
//   inverted. The ITU-T G.191 Software Tool Library takes the one's complement of negative inputs
//   instead; the two differ on 127 of the 65536 inputs (negative multiples of 4 on a step boundary,
//   by one step). We follow the media servers, which is what every receiver we talk to does.
// - A-law: 13-bit magnitude of the one's complement for negative inputs, XOR 0x55: spandsp, Sun and
//   G.191 all agree.
// sox rounds to 14/13 bits instead of truncating, so its encoders differ on a few hundred inputs.
// Decoding agrees everywhere. Silence encodes as 0xFF (mu-law) and 0xD5 (A-law); decoded ranges are
// ±32124 (mu-law) and ±32256 (A-law).

/// G.711 mu-law (North America, Japan).
public enum MuLaw {
    /// The mu-law code of silence (linear 0).
    public static let silence: UInt8 = 0xFF

    /// Encodes one linear 16-bit sample.
    ///
    /// - Parameter sample: the linear sample.
    /// - Returns: the mu-law code.
    @inlinable
    public static func encode(_ sample: Int16) -> UInt8 {
        // The segment and the four bits after the leading one of the biased magnitude are the exponent and
        // the top four mantissa bits of its exact single-precision value: bits 30...19 of the float are
        // (segment + 134) << 4 | mantissa. One conversion replaces a count of leading zeros and a variable
        // shift, neither of which SSE2 has for vectors, so a loop of encodes becomes eight lanes a step.
        let biased = min(sample.magnitude, 32635) &+ 0x84  // 132...32767: segment 0...7
        let code = Int16(truncatingIfNeeded: Float(biased).bitPattern >> 19) &- 2144  // 0...127
        return UInt8(truncatingIfNeeded: code ^ (sample >= 0 ? 0xFF : 0x7F))
    }

    /// Decodes one mu-law code.
    ///
    /// - Parameter code: the mu-law code.
    /// - Returns: the linear sample (within ±32124).
    @inlinable
    public static func decode(_ code: UInt8) -> Int16 {
        let inverted = Int32(~code)
        let exponent = (inverted >> 4) & 0x07
        let mantissa = inverted & 0x0F
        let step = Int32(4) << (exponent + 1)
        let magnitude = (Int32(0x80) << exponent) + step * mantissa + step / 2 - 4 * 33
        return Int16(truncatingIfNeeded: code < 0x80 ? -magnitude : magnitude)
    }
}

/// G.711 A-law (Europe and most of the world).
public enum ALaw {
    /// The A-law code of silence (linear 0).
    public static let silence: UInt8 = 0xD5

    /// Encodes one linear 16-bit sample.
    ///
    /// - Parameter sample: the linear sample.
    /// - Returns: the A-law code.
    @inlinable
    public static func encode(_ sample: Int16) -> UInt8 {
        // From 16 on, the code is the exponent and the top four mantissa bits of the magnitude's exact
        // single-precision value: bits 30...19 of the float are (segment + 130) << 4 | mantissa (as for mu-law);
        // below 16 (segments 0 and 1 share one step) it is the magnitude itself.
        let magnitude = UInt16(bitPattern: sample ^ (sample >> 15)) >> 4  // 0...2047, one's complement if negative
        let scaled = Int16(truncatingIfNeeded: Float(magnitude).bitPattern >> 19) &- 2080
        let code = magnitude < 16 ? Int16(bitPattern: magnitude) : scaled  // 0...127
        return UInt8(truncatingIfNeeded: code ^ (sample >= 0 ? 0xD5 : 0x55))
    }

    /// Decodes one A-law code.
    ///
    /// - Parameter code: the A-law code.
    /// - Returns: the linear sample (within ±32256).
    @inlinable
    public static func decode(_ code: UInt8) -> Int16 {
        let value = Int32(code ^ 0x55) & 0x7F
        let exponent = value >> 4
        var mantissa = value & 0x0F
        if exponent > 0 { mantissa += 16 }
        mantissa = (mantissa << 4) + 8
        if exponent > 1 { mantissa <<= exponent - 1 }
        return Int16(truncatingIfNeeded: code > 127 ? mantissa : -mantissa)
    }
}
