/// A 10-digit North American (NANP: US, Canada and the Caribbean) number: area code NXX, exchange NXX,
/// line XXXX, where N is 2-9.
public struct PhoneNumber: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The ten digits.
    public let digits: String

    /// Parses a number written any common way: `5145550199`, `+1 514 555 0199`, `(514) 555-0199`,
    /// `1-514-555-0199`, `514.555.0199`.
    ///
    /// - Throws: ``PhoneNumberError`` saying what is wrong.
    public init(_ text: String) throws(PhoneNumberError) {
        var digits = ""
        var international = false
        for (offset, c) in text.enumerated() {
            if c.isASCII, c.isNumber {
                digits.append(c)
                if digits.count > 15 { throw .wrongLength(digits.count) }
            } else if c == "+" && offset == 0 {
                international = true  // E.164: '+' then the country code
            } else if c == " " || c == "-" || c == "." || c == "(" || c == ")" {
                continue
            } else {
                throw .invalidCharacter(c, position: offset + 1)
            }
        }
        // NANP: the country code is 1. After '+' it must be there (E.164: +1 NXX NXX XXXX); without '+', a
        // leading 1 is the trunk prefix of an 11-digit number. '+32 2 555 12 34' is Brussels, not (322).
        if international {
            guard digits.hasPrefix("1") else {
                // The group written right after '+' (at most 3 digits: E.164 country codes have 1 to 3).
                let group = text.dropFirst().prefix { $0.isASCII && $0.isNumber }.prefix(3)
                throw .foreignCountryCode(group.isEmpty ? String(digits.prefix(1)) : String(group))
            }
            guard digits.count == 11 else { throw .wrongLength(digits.count) }
            digits.removeFirst()
        } else if digits.count == 11, digits.hasPrefix("1") {
            digits.removeFirst()
        }
        guard digits.count == 10 else { throw .wrongLength(digits.count) }
        let d = Array(digits)
        guard d[0] >= "2" else { throw .invalidAreaCode(String(d[0..<3])) }
        guard !(d[1] == "1" && d[2] == "1") else { throw .invalidAreaCode(String(d[0..<3])) }
        guard d[3] >= "2" else { throw .invalidExchange(String(d[3..<6])) }
        guard !(d[4] == "1" && d[5] == "1") else { throw .invalidExchange(String(d[3..<6])) }
        self.digits = digits
    }

    /// The text form, for logs and messages.
    public var description: String { digits }

    /// Orders numbers by their ten digits.
    public static func < (a: PhoneNumber, b: PhoneNumber) -> Bool { a.digits < b.digits }
}

/// Why a phone number is not a valid NANP number.
///
/// Shaped like every error of the package: a struct with a ``Kind`` to switch on, one static function per
/// kind, and a one-line ``description``.
public struct PhoneNumberError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Hashable, Sendable {
        /// A character that is not a digit or a separator, at this position (1-based).
        case invalidCharacter(Character, position: Int)
        /// This many digits: not 10 (or 11 with the leading 1).
        case wrongLength(Int)
        /// An area code that NANP does not allow (NANP: 2-9 first, not N11).
        case invalidAreaCode(String)
        /// A central-office code (exchange) that NANP does not allow (NANP: 2-9 first, not N11).
        case invalidExchange(String)
        /// Written with '+' and a country code other than 1 (the digits after '+', at most 3).
        case foreignCountryCode(String)
    }

    /// What is wrong.
    public let kind: Kind

    /// Creates the error of a kind.
    public init(_ kind: Kind) { self.kind = kind }

    /// A character that is not a digit or a separator, at this position (1-based).
    public static func invalidCharacter(_ c: Character, position: Int) -> Self {
        Self(.invalidCharacter(c, position: position))
    }
    /// This many digits: not 10 (or 11 with the leading 1).
    public static func wrongLength(_ digits: Int) -> Self { Self(.wrongLength(digits)) }
    /// An area code that NANP does not allow.
    public static func invalidAreaCode(_ code: String) -> Self { Self(.invalidAreaCode(code)) }
    /// An exchange that NANP does not allow.
    public static func invalidExchange(_ code: String) -> Self { Self(.invalidExchange(code)) }
    /// A country code other than 1.
    public static func foreignCountryCode(_ digits: String) -> Self { Self(.foreignCountryCode(digits)) }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        switch kind {
        case .invalidCharacter(let c, let position):
            return "'\(c)' at position \(position) is not part of a phone number"
        case .wrongLength(let n):
            return "has \(n) digits; a US/Canada number has 10 (optionally preceded by 1 or +1)"
        case .invalidAreaCode(let code):
            return "area code \(code) is not valid (it starts with 2-9 and is not N11)"
        case .invalidExchange(let code):
            return "exchange \(code) is not valid (it starts with 2-9 and is not N11)"
        case .foreignCountryCode(let digits):
            return "is not a US/Canada number: only +1 may come before the 10 digits (it starts with +\(digits))"
        }
    }
}
