// RFC 3264 §8 (and RFC 4566 §5.2): every session description a party sends in a dialog after its first keeps
// the first one's `o=` username and session id; its version is the previous one's plus one when anything in
// the description changed, and the same when nothing did.

/// Applies RFC 3264 §8's `o=` rule to the session descriptions the application hands to the user-agent server.
enum SDPVersioning {
    /// The `o=` fields: username, sess-id, sess-version, nettype, addrtype, unicast-address (RFC 4566 §5.2).
    private struct Origin {
        var fields: [Substring]
        var version: UInt64

        init?(_ line: Substring) {
            guard line.hasPrefix("o=") else { return nil }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 6, let version = UInt64(fields[2]) else { return nil }
            self.fields = fields
            self.version = version
        }

        var line: String { "o=" + fields.joined(separator: " ") }
    }

    /// Splits a description into lines (CRLF or LF) and finds its `o=` line.
    private static func lines(_ text: String) -> (lines: [Substring], origin: Int)? {
        // "\r\n" is one Character in Swift: split on either line end.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\r\n" || $0 == "\n" })
        guard let index = lines.firstIndex(where: { $0.hasPrefix("o=") }) else { return nil }
        return (lines, index)
    }

    /// The description to send after `previous` in the same dialog: `proposed` with `previous`'s `o=` username
    /// and session id, and its version; the version is `previous`'s when nothing else differs (then
    /// `previous` itself is returned, byte for byte), `previous`'s + 1 otherwise. `proposed` unchanged when
    /// either has no valid `o=` line (nothing to keep).
    static func revise(_ proposed: [UInt8], previous: [UInt8]) -> [UInt8] {
        let proposedText = String(decoding: proposed, as: UTF8.self)
        let previousText = String(decoding: previous, as: UTF8.self)
        guard case (var next, let nextIndex)? = lines(proposedText), let (old, oldIndex) = lines(previousText),
            var origin = Origin(next[nextIndex]), let before = Origin(old[oldIndex])
        else { return proposed }
        origin.fields[0] = before.fields[0]
        origin.fields[1] = before.fields[1]
        origin.fields[2] = Substring(String(before.version))
        next[nextIndex] = Substring(origin.line)
        var normalizedOld = old
        normalizedOld[oldIndex] = Substring(before.line)
        if next == normalizedOld { return previous }
        origin.fields[2] = Substring(String(before.version &+ 1))
        next[nextIndex] = Substring(origin.line)
        return Array(next.joined(separator: "\r\n").utf8)
    }
}
