// Dial strings as telephony systems write them (Asterisk SendDTMF, FreeSWITCH send_dtmf):
// `0-9 * # A-D` (a-d accepted) send a digit, `w` waits 0.5 s and `W` waits 1 s.

/// A parsed dial string: digits to send and pauses between them.
public struct DialString: Sendable, Hashable {
    /// One element of a dial string.
    public enum Element: Sendable, Hashable {
        /// Send this digit (a tone followed by the inter-digit gap).
        case digit(DTMFDigit)
        /// Wait this many milliseconds (`w` = 500, `W` = 1000).
        case pause(milliseconds: Int)
    }

    /// The elements in order.
    public let elements: [Element]

    /// The digits alone, in order.
    public var digits: [DTMFDigit] {
        elements.compactMap { if case .digit(let digit) = $0 { digit } else { nil } }
    }

    /// The most elements a dial string holds, whatever it is made from (``Limits`` sets the lower
    /// per-step and per-sequence bounds that sequences and the CLI apply).
    public static let maximumElements = 10_000
    /// The accepted pause lengths in milliseconds.
    public static let pauseMilliseconds: ClosedRange<Int> = 1...60_000

    /// Parses `text`.
    ///
    /// - Parameter text: the dial string, e.g. `"9876#"` or `"1w2W3"`.
    /// - Throws: ``DialStringError`` naming the first character that is not part of the grammar and its
    ///   position (1-based), or saying that the string has no element.
    public init(_ text: String) throws(DialStringError) {
        var elements: [Element] = []
        for (offset, character) in text.enumerated() {
            guard offset < DialString.maximumElements else { throw DialStringError(kind: .tooLong) }
            if let digit = DTMFDigit(character) {
                elements.append(.digit(digit))
            } else if character == "w" {
                elements.append(.pause(milliseconds: 500))
            } else if character == "W" {
                elements.append(.pause(milliseconds: 1000))
            } else {
                throw DialStringError(kind: .invalidCharacter(character, position: offset + 1))
            }
        }
        if elements.isEmpty { throw DialStringError(kind: .empty) }
        self.elements = elements
    }

    /// Creates a dial string from elements.
    ///
    /// - Throws: ``DialStringError`` for more than ``maximumElements`` elements or a pause outside
    ///   ``pauseMilliseconds``.
    public init(elements: [Element]) throws(DialStringError) {
        guard elements.count <= DialString.maximumElements else { throw DialStringError(kind: .tooLong) }
        for (offset, element) in elements.enumerated() {
            if case .pause(let ms) = element, !DialString.pauseMilliseconds.contains(ms) {
                throw DialStringError(kind: .badPause(ms, position: offset + 1))
            }
        }
        self.elements = elements
    }
}

extension DialString: CustomStringConvertible {
    /// The canonical text: digits upper-case, pauses of 500 and 1000 ms as `w` and `W`.
    public var description: String {
        var text = ""
        for element in elements {
            switch element {
            case .digit(let digit): text.append(digit.character)
            case .pause(let ms) where ms == 500: text.append("w")
            case .pause(let ms) where ms == 1000: text.append("W")
            case .pause(let ms): text.append("[\(ms) ms]")
            }
        }
        return text
    }
}

/// A dial string that could not be parsed.
public struct DialStringError: Error, Hashable, Sendable, CustomStringConvertible {
    @usableFromInline
    enum Kind: Hashable, Sendable {
        case invalidCharacter(Character, position: Int)
        case empty
        case tooLong
        case badPause(Int, position: Int)
    }

    @usableFromInline
    let kind: Kind

    /// The offending character, if the error is about one.
    public var character: Character? {
        if case .invalidCharacter(let c, _) = kind { c } else { nil }
    }

    /// The 1-based position of the offending character, if the error is about one.
    public var position: Int? {
        if case .invalidCharacter(_, let p) = kind { p } else { nil }
    }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        switch kind {
        case .invalidCharacter(let c, let position):
            let shown =
                c.unicodeScalars.contains { InputText.isForbidden($0) || $0.properties.isWhitespace }
                ? c.unicodeScalars.map(InputText.codePoint).joined()
                : InputText.escaped(String(c))
            return "'\(shown)' at position \(position) is not a DTMF digit (allowed: 0-9 * # A-D, w, W)"
        case .empty:
            return "the dial string is empty"
        case .tooLong:
            return "the dial string has more than \(DialString.maximumElements) elements"
        case .badPause(let ms, let position):
            return "the pause of \(ms) ms at position \(position) is out of range "
                + "(\(DialString.pauseMilliseconds.lowerBound)...\(DialString.pauseMilliseconds.upperBound) ms)"
        }
    }
}
