// SIP header fields (RFC 3261 §7.3): names compared case-insensitively, compact forms (§7.3.3) read as
// their full names, repeated headers kept in order, comma-separated values split outside quotes and <>.

/// The header fields of a SIP message, in the order they appear.
///
/// Names are compared case-insensitively and the compact forms of RFC 3261 §7.3.3 (`v`, `i`, `f`, `t`, `m`,
/// `l`, `c`, `k`, `s`, `e`) are stored under their full names, so `headers["Via"]` finds a `v:` line.
public struct SIPHeaders: Sendable, Equatable, Sequence {
    /// One header line: the canonical name (full form) and the value with surrounding whitespace removed.
    public struct Field: Sendable, Equatable {
        /// The header name, full form (`Via` for `v`), as written when the name has no known spelling.
        public var name: String
        /// The header value, folded lines joined by one space.
        public var value: String
        var key: String

        /// Creates a header line.
        public init(name: String, value: String) {
            let canonical = SIPHeaders.canonicalName(name)
            self.name = canonical
            self.value = value
            self.key = canonical.lowercased()
        }
    }

    var fields: [Field]

    /// An empty header list.
    public init() { fields = [] }

    /// Headers from name/value pairs, in order.
    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// The number of header lines.
    public var count: Int { fields.count }

    /// Iterates the header lines in order.
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value of the header `name` (any case, compact form accepted), or nil.
    public subscript(name: String) -> String? {
        let key = SIPHeaders.canonicalName(name).lowercased()
        return fields.first { $0.key == key }?.value
    }

    /// Every line of the header `name`, in order, each as written (not split at commas).
    public func lines(_ name: String) -> [String] {
        let key = SIPHeaders.canonicalName(name).lowercased()
        return fields.compactMap { $0.key == key ? $0.value : nil }
    }

    /// Every value of the header `name`: repeated lines and comma-separated values (RFC 3261 §7.3.1), in
    /// order. Commas inside quoted strings and `<...>` are not separators.
    public func values(_ name: String) -> [String] {
        lines(name).flatMap(SIPHeaders.splitList)
    }

    /// Whether the header `name` is present.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Appends a header line.
    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every line of the header `name`.
    public mutating func remove(_ name: String) {
        let key = SIPHeaders.canonicalName(name).lowercased()
        fields.removeAll { $0.key == key }
    }

    /// Replaces every line of `name` by one line holding `value`, at the place of the first one (or at the end).
    public mutating func replace(name: String, value: String) {
        let key = SIPHeaders.canonicalName(name).lowercased()
        if let first = fields.firstIndex(where: { $0.key == key }) {
            fields[first] = Field(name: name, value: value)
            var index = fields.index(after: first)
            while index < fields.endIndex {
                if fields[index].key == key { fields.remove(at: index) } else { index += 1 }
            }
        } else {
            add(name: name, value: value)
        }
    }

    // MARK: - Names

    /// The full, conventionally spelled name of a header: compact forms expanded (RFC 3261 §7.3.3), known
    /// names in their usual spelling, other names unchanged.
    public static func canonicalName(_ name: String) -> String {
        if name.utf8.count == 1, let full = compactForms[name.lowercased()] { return full }
        return knownNames[name.lowercased()] ?? name
    }

    static let compactForms: [String: String] = [
        "v": "Via", "i": "Call-ID", "f": "From", "t": "To", "m": "Contact", "l": "Content-Length",
        "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding",
    ]

    static let knownNames: [String: String] = {
        let names = [
            "Via", "Call-ID", "From", "To", "Contact", "Content-Length", "Content-Type", "Supported", "Subject",
            "Content-Encoding", "CSeq", "Max-Forwards", "Record-Route", "Route", "Allow", "Accept", "Require",
            "Unsupported", "Warning", "Server", "User-Agent", "Retry-After",
        ]
        var table: [String: String] = [:]
        for name in names { table[name.lowercased()] = name }
        return table
    }()

    // MARK: - Lists

    /// Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1): not inside a
    /// quoted string or angle brackets. Elements are trimmed; empty ones are dropped.
    public static func splitList(_ value: String) -> [String] {
        var result: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var angle = false
        for character in value {
            if escaped {
                escaped = false
                current.append(character)
                continue
            }
            switch character {
            case "\\" where inQuotes:
                escaped = true
            case "\"":
                inQuotes.toggle()
            case "<" where !inQuotes:
                angle = true
            case ">" where !inQuotes:
                angle = false
            case "," where !inQuotes && !angle:
                let element = trimmed(current)
                if !element.isEmpty { result.append(element) }
                current = ""
                continue
            default:
                break
            }
            current.append(character)
        }
        let element = trimmed(current)
        if !element.isEmpty { result.append(element) }
        return result
    }
}

/// `text` without leading and trailing spaces and tabs.
func trimmed<S: StringProtocol>(_ text: S) -> String {
    var scalars = Substring(text).unicodeScalars[...]
    while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(String.UnicodeScalarView(scalars))
}
