// Text that comes from input (JSON files, arguments, C callers) and is checked or quoted back. Control
// characters are refused where text is stored (names, keys, digits, messages) and escaped wherever text
// is quoted in an error, so that input can never write newlines, terminal escape sequences (ECMA-48) or
// bidirectional overrides (Unicode TR #9, the "Trojan Source" problem) into a log or a terminal.

/// Checks and escapes text taken from input.
public enum InputText {
    /// Whether `scalar` is refused in stored text: C0 (U+0000...U+001F), DEL (U+007F), C1
    /// (U+0080...U+009F), the bidirectional embeddings, overrides and isolates (U+202A...U+202E,
    /// U+2066...U+2069), the marks U+200E, U+200F, U+061C, and the line and paragraph separators.
    @inlinable
    public static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// The first forbidden scalar of `text` and its 1-based position in scalars, if any.
    public static func firstForbidden(in text: String) -> (scalar: Unicode.Scalar, position: Int)? {
        for (offset, scalar) in text.unicodeScalars.enumerated() where isForbidden(scalar) {
            return (scalar, offset + 1)
        }
        return nil
    }

    /// The problem with `text` as stored text, or `nil`: "contains the control character U+001B at
    /// position 3 (control characters are not allowed)".
    public static func problem(in text: String) -> String? {
        guard let (scalar, position) = firstForbidden(in: text) else { return nil }
        return "contains the control character \(codePoint(scalar)) at position \(position) "
            + "(control and bidirectional-override characters are not allowed)"
    }

    /// `text` made safe to quote: forbidden scalars and other non-printing ones as `\u{1B}`, and at most
    /// `limit` characters (then `...`).
    public static func escaped(_ text: String, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "..."
                break
            }
            if isForbidden(scalar) || scalar.properties.generalCategory == .format
                || scalar.properties.generalCategory == .unassigned || scalar == "\\"
            {
                out += scalar == "\\" ? "\\\\" : "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    /// `U+001B`.
    public static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
