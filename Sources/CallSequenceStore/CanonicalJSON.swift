// Canonical JSON: the one spelling the store writes for a JSON value, so that the same value always gives the
// same bytes (export → import → export is byte for byte) and revisions diff line by line.
//
// The spelling (RFC 8259 text): objects keep their keys in the order given (an account file's order is the
// author's, and the exporter writes its own fixed order); two-space indentation, one member or element a line,
// `"key": value`; `{}` and `[]` when empty; numbers that are whole and within ±2^53 without a fraction
// (`150`, `-3`), others in Swift's shortest round-trip form (`-3.5`, `1e-05`); strings escape `"`, `\` and
// the control characters below U+0020 (`\n`, `\t`... or `\u00XX`) and nothing else; a final newline.

import CallSequenceModel

/// Writes `JSONValue`s in canonical form and reads text into it.
public enum CanonicalJSON {
    /// The canonical text of `value`, ending in a newline.
    public static func text(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        out += "\n"
        return out
    }

    /// Parses `text` (strict JSON) and writes it canonically.
    public static func canonicalize(_ text: String) throws(JSONSyntaxError) -> String {
        Self.text(try JSONValue.parse(text))
    }

    static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += number(x)
        case .string(let s): string(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                pad(indent + 1, &out)
                write(item, indent: indent + 1, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            pad(indent, &out)
            out += "]"
        case .object(let members):
            guard !members.isEmpty else {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, member) in members.enumerated() {
                pad(indent + 1, &out)
                string(member.key, into: &out)
                out += ": "
                write(member.value, indent: indent + 1, into: &out)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            pad(indent, &out)
            out += "}"
        }
    }

    static func pad(_ level: Int, _ out: inout String) {
        out += String(repeating: "  ", count: level)
    }

    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }  // JSON has no NaN or infinity; the reader never makes them
        if x == x.rounded(.towardZero), abs(x) <= 9_007_199_254_740_992 {
            if x == 0 { return "0" }  // also -0
            return String(Int64(x))
        }
        return x.description
    }

    static func string(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
