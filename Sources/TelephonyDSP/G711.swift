// ITU-T G.711 mu-law and A-law, bit-exact with the ITU-T G.191 reference implementation
// (`ulaw_compress`/`alaw_compress`/`..._expand` of the Software Tool Library) and with spandsp:
// negative inputs use their one's complement and the 16-bit input is truncated to 14 bits
// (mu-law) or 13 bits (A-law). sox rounds instead of truncating, so it differs on a few hundred of
// the 65536 inputs; decoding agrees everywhere. Silence encodes as 0xFF (mu-law) and 0xD5 (A-law).
// Decoded ranges: mu-law ±32124, A-law ±32256.

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
        let x = Int32(sample)
        // 14-bit magnitude plus the bias of 33 (0x84 on the 16-bit scale), one's complement if negative.
        let biased = min(((x < 0 ? ~x : x) >> 2) + 33, 0x1FFF)
        let bitLength = 32 - UInt32(biased).leadingZeroBitCount   // 6...13
        let segment = Int32(bitLength) - 5                          // 1...8
        let code = ((8 - segment) << 4) | (15 - ((biased >> segment) & 0x0F))
        return UInt8(truncatingIfNeeded: x >= 0 ? code | 0x80 : code)
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
        let x = Int32(sample)
        let magnitude = (x < 0 ? ~x : x) >> 4                       // 0...2047
        let bitLength = 32 - UInt32(magnitude).leadingZeroBitCount  // 0...11
        let shift = max(Int32(bitLength) - 5, 0)
        var code = (magnitude >> shift) + (shift << 4)
        if x >= 0 { code |= 0x80 }
        return UInt8(truncatingIfNeeded: code ^ 0x55)
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

/// The sample encodings a telephony channel carries.
public enum SampleEncoding: String, Sendable, CaseIterable, Codable {
    /// Linear 16-bit PCM.
    case pcm16
    /// G.711 mu-law, 8 bits a sample.
    case ulaw
    /// G.711 A-law, 8 bits a sample.
    case alaw

    /// Bytes per sample.
    public var bytesPerSample: Int { self == .pcm16 ? 2 : 1 }

    /// Passes `sample` through the encoding and back: what a receiver hears of it.
    @inlinable
    public func roundTrip(_ sample: Int16) -> Int16 {
        switch self {
        case .pcm16: return sample
        case .ulaw: return MuLaw.decode(MuLaw.encode(sample))
        case .alaw: return ALaw.decode(ALaw.encode(sample))
        }
    }
}
