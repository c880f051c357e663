// The DTMF tone plan of ITU-T Q.23: sixteen digits, each a pair of one low-group (row) and one
// high-group (column) frequency. The raw value is the RFC 4733 telephone-event code (0-9, * = 10,
// # = 11, A-D = 12-15).

/// One of the sixteen DTMF digits of ITU-T Q.23.
public enum DTMFDigit: UInt8, CaseIterable, Sendable, Hashable, Codable {
    // Raw values: the RFC 4733 §3.2 event codes.
    /// 0 (941 + 1336 Hz); event 0.
    case zero = 0
    /// 1 (697 + 1209 Hz); event 1.
    case one
    /// 2 (697 + 1336 Hz); event 2.
    case two
    /// 3 (697 + 1477 Hz); event 3.
    case three
    /// 4 (770 + 1209 Hz); event 4.
    case four
    /// 5 (770 + 1336 Hz); event 5.
    case five
    /// 6 (770 + 1477 Hz); event 6.
    case six
    /// 7 (852 + 1209 Hz); event 7.
    case seven
    /// 8 (852 + 1336 Hz); event 8.
    case eight
    /// 9 (852 + 1477 Hz); event 9.
    case nine
    /// `*` (941 + 1209 Hz); event 10.
    case star = 10
    /// `#` (941 + 1477 Hz); event 11.
    case pound = 11
    /// A (697 + 1633 Hz); event 12.
    case a = 12
    /// B (770 + 1633 Hz); event 13.
    case b = 13
    /// C (852 + 1633 Hz); event 14.
    case c = 14
    /// D (941 + 1633 Hz); event 15.
    case d = 15

    /// The low-group (row) frequencies of Q.23, in hertz.
    public static let lowGroupFrequencies: [Double] = [697, 770, 852, 941]
    /// The high-group (column) frequencies of Q.23, in hertz.
    public static let highGroupFrequencies: [Double] = [1209, 1336, 1477, 1633]

    /// The digits of the Q.23 keypad, row by row (`keypad[row][column]`).
    public static let keypad: [[DTMFDigit]] = [
        [.one, .two, .three, .a],
        [.four, .five, .six, .b],
        [.seven, .eight, .nine, .c],
        [.star, .zero, .pound, .d],
    ]

    /// Creates the digit written as `character`: `0-9`, `*`, `#`, `A-D` (or `a-d`).
    ///
    /// - Parameter character: the dial-string character.
    /// - Returns: `nil` when the character is not a DTMF digit.
    public init?(_ character: Character) {
        switch character {
        case "0"..."9":
            guard let value = character.asciiValue else { return nil }
            self.init(rawValue: value - 48)
        case "*": self = .star
        case "#": self = .pound
        case "A", "a": self = .a
        case "B", "b": self = .b
        case "C", "c": self = .c
        case "D", "d": self = .d
        default: return nil
        }
    }

    /// The digit at `row` and `column` of the keypad (both 0...3).
    @inlinable
    public init(row: Int, column: Int) {
        precondition((0..<4).contains(row) && (0..<4).contains(column), "keypad position out of range")
        self = DTMFDigit.keypad[row][column]
    }

    /// The digit as written in a dial string (`0-9`, `*`, `#`, `A-D`).
    public var character: Character {
        switch self {
        case .star: return "*"
        case .pound: return "#"
        case .a: return "A"
        case .b: return "B"
        case .c: return "C"
        case .d: return "D"
        default: return Character(Unicode.Scalar(rawValue + 48))
        }
    }

    /// The keypad row (0...3), which selects the low-group frequency.
    public var row: Int {
        switch self {
        case .one, .two, .three, .a: return 0
        case .four, .five, .six, .b: return 1
        case .seven, .eight, .nine, .c: return 2
        case .star, .zero, .pound, .d: return 3
        }
    }

    /// The keypad column (0...3), which selects the high-group frequency.
    public var column: Int {
        switch self {
        case .one, .four, .seven, .star: return 0
        case .two, .five, .eight, .zero: return 1
        case .three, .six, .nine, .pound: return 2
        case .a, .b, .c, .d: return 3
        }
    }

    /// The low-group (row) frequency in hertz.
    public var lowFrequency: Double { DTMFDigit.lowGroupFrequencies[row] }

    /// The high-group (column) frequency in hertz.
    public var highFrequency: Double { DTMFDigit.highGroupFrequencies[column] }

    /// The RFC 4733 telephone-event code (0-15).
    public var eventCode: UInt8 { rawValue }
}

extension DTMFDigit: CustomStringConvertible {
    /// The text form, for logs and messages.
    public var description: String { String(character) }
}
