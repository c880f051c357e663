/// A text's length as the network counts it (3GPP TS 23.038): its encoding, the units it takes, and how
/// many SMS it needs.
///
/// ```swift
/// let length = SMSLength(of: "Porte ouverte à 9 h")   // GSM-7, 19 septets, 1 SMS
/// length.fitsOneMessage                               // true
/// ```
public struct SMSLength: Sendable, Hashable, CustomStringConvertible {
    /// GSM-7 when every character has a GSM-7 code, otherwise UCS-2.
    public let encoding: SMSEncoding
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public let units: Int
    /// Characters (grapheme clusters), as a person counts them.
    public let characters: Int
    /// For UCS-2: the first Unicode scalar without a GSM-7 code, and the 1-based position (in characters) of
    /// the character it is part of.
    public let firstNonGSM: (scalar: Unicode.Scalar, position: Int)?
    /// Whether some character took two units: an extension character in GSM-7 (`€`, `[`...), a character
    /// outside the Basic Multilingual Plane (an emoji) in UCS-2.
    public let hasDoubleUnitCharacters: Bool

    /// Measures `text`.
    public init(of text: String) {
        var septets = 0
        var doubleSeptets = false
        var firstNonGSM: (Unicode.Scalar, Int)?
        var characters = 0
        for character in text {
            characters += 1
            guard firstNonGSM == nil else { continue }
            for scalar in character.unicodeScalars {
                guard let n = SMSEncoding.gsm7Septets(scalar) else {
                    firstNonGSM = (scalar, characters)
                    break
                }
                septets += n
                if n == 2 { doubleSeptets = true }
            }
        }
        self.characters = characters
        if let firstNonGSM {
            encoding = .ucs2
            units = text.utf16.count
            self.firstNonGSM = firstNonGSM
            hasDoubleUnitCharacters = text.unicodeScalars.contains { $0.value > 0xFFFF }
        } else {
            encoding = .gsm7
            units = septets
            self.firstNonGSM = nil
            hasDoubleUnitCharacters = doubleSeptets
        }
    }

    /// Units one SMS holds in this encoding: 160 or 70.
    public var capacity: Int { encoding.singleMessageCapacity }

    /// Whether the text fits one SMS (the only kind sent: VoIP.ms's sendSMS takes one).
    public var fitsOneMessage: Bool { units <= capacity }

    /// SMS needed: 1 up to the single-message capacity, then concatenated segments of 153 septets or 67
    /// units; 0 for an empty text.
    public var segments: Int {
        if units == 0 { return 0 }
        if units <= capacity { return 1 }
        return (units + encoding.segmentCapacity - 1) / encoding.segmentCapacity
    }

    /// `GSM-7, 17 of 160 septets` or `UCS-2, 12 of 70 units`.
    public var description: String {
        "\(encoding), \(units) of \(capacity) \(encoding == .gsm7 ? "septets" : "units")"
    }

    /// Why the text does not fit one SMS, in the words validation uses, or `nil` if it fits:
    /// `71 UCS-2 characters ('ê' at position 12 is not in GSM-7); at most 70`, or
    /// `162 GSM-7 septets (the extension characters € [ ] { } \ ^ ~ | take 2); at most 160`.
    public var problem: String? {
        guard !fitsOneMessage else { return nil }
        switch encoding {
        case .gsm7:
            let why =
                hasDoubleUnitCharacters
                ? " (the extension characters € [ ] { } \\ ^ ~ | and form feed take 2)" : ""
            return "\(units) GSM-7 septets\(why); at most \(capacity)"
        case .ucs2:
            var why = ""
            if let (scalar, position) = firstNonGSM {
                why = "'\(SMSLength.escaped(scalar))' at position \(position) is not in GSM-7"
            }
            if hasDoubleUnitCharacters {
                why += (why.isEmpty ? "" : "; ") + "emoji and other characters beyond U+FFFF take 2"
            }
            let noun = units == characters ? "UCS-2 characters" : "UCS-2 units"
            return "\(units) \(noun) (\(why)); at most \(capacity)"
        }
    }

    /// The scalar as it can be printed: control, format and combining characters as `\u{...}`.
    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate,
            .nonspacingMark, .spacingMark, .enclosingMark:
            return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default:
            return String(Character(scalar))
        }
    }

    /// Whether two lengths are the same in every field (encoding, units, characters, the first non-GSM-7
    /// character, double-unit characters).
    public static func == (a: SMSLength, b: SMSLength) -> Bool {
        a.encoding == b.encoding && a.units == b.units && a.characters == b.characters
            && a.firstNonGSM?.scalar == b.firstNonGSM?.scalar && a.firstNonGSM?.position == b.firstNonGSM?.position
            && a.hasDoubleUnitCharacters == b.hasDoubleUnitCharacters
    }

    /// Hashes the encoding, units and characters (equal lengths hash alike).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(encoding)
        hasher.combine(units)
        hasher.combine(characters)
    }
}
