// 3GPP TS 23.038 §6.2.1: the GSM 7-bit default alphabet and its extension table (§6.2.1.1).
// A character of the default alphabet takes one septet; one of the extension table (form feed, ^ { } \ [ ~ ] |
// and €) takes two (the escape 0x1B, then its code). A text with any other character is sent in UCS-2
// (§6.2.3), where every UTF-16 code unit counts: a character outside the Basic Multilingual Plane (an
// emoji) takes two. The text is counted as it is written: a decomposed "e" + U+0301 is not GSM-7.

/// How a text is encoded on the network (3GPP TS 23.038).
public enum SMSEncoding: String, Sendable, Hashable, CustomStringConvertible {
    /// The GSM 7-bit default alphabet, with its extension table; counted in septets.
    case gsm7 = "GSM-7"
    /// UCS-2 (UTF-16 on today's networks); counted in 16-bit code units.
    case ucs2 = "UCS-2"

    /// The name used in messages: `GSM-7` or `UCS-2`.
    public var description: String { rawValue }

    /// The unit counted: `septets` or `UCS-2 units`.
    public var unitName: String { self == .gsm7 ? "septets" : "UCS-2 units" }

    /// Units in one SMS: 160 septets or 70 UCS-2 units (140 octets of user data).
    public var singleMessageCapacity: Int { self == .gsm7 ? 160 : 70 }

    /// Units in each segment of a concatenated SMS (6 octets go to the user data header): 153 or 67.
    public var segmentCapacity: Int { self == .gsm7 ? 153 : 67 }

    /// Septets that `scalar` takes in GSM-7: 1 (default alphabet), 2 (extension table), or `nil` if it
    /// has no GSM-7 code and the text must go as UCS-2.
    public static func gsm7Septets(_ scalar: Unicode.Scalar) -> Int? {
        let v = scalar.value
        switch v {
        // Printable ASCII that the default alphabet keeps at the same code (§6.2.1 table, columns 2-7).
        case 0x20...0x23, 0x25...0x3F, 0x41...0x5A, 0x61...0x7A: return 1
        case 0x0A, 0x0D: return 1  // LF, CR
        case 0x40, 0x24, 0x5F: return 1  // @ $ _
        case 0x0C: return 2  // form feed (extension 0x0A)
        case 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C: return 2  // ^ { } \ [ ~ ] |
        case 0x20AC: return 2  // € (extension 0x65)
        default:
            return defaultAlphabetBeyondASCII.contains(v) ? 1 : nil
        }
    }

    /// The default alphabet's characters outside ASCII (TS 23.038 §6.2.1).
    static let defaultAlphabetBeyondASCII: Set<UInt32> = [
        0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7,  // £ ¥ è é ù ì ò Ç
        0x00D8, 0x00F8, 0x00C5, 0x00E5,  // Ø ø Å å
        0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3,  // Δ Φ Γ Λ Ω Π Ψ Σ
        0x0398, 0x039E,  // Θ Ξ
        0x00C6, 0x00E6, 0x00DF, 0x00C9,  // Æ æ ß É
        0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,  // ¤ ¡ Ä Ö Ñ Ü §
        0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,  // ¿ ä ö ñ ü à
    ]
}
