import Foundation

/// RFC 6901 JSON pointers from the model's problem paths (`steps[2].digits` → `/steps/2/digits`).
enum JSONPointer {
    /// The pointer of a model path (`""` is the whole document).
    static func from(path: String) -> String {
        var pointer = ""
        var token = ""
        var inIndex = false
        func flush() {
            guard !token.isEmpty else { return }
            pointer += "/" + escape(token)
            token = ""
        }
        for character in path {
            switch character {
            case "." where !inIndex: flush()
            case "[" where !inIndex:
                flush()
                inIndex = true
            case "]" where inIndex:
                flush()
                inIndex = false
            default: token.append(character)
            }
        }
        flush()
        return pointer
    }

    /// RFC 6901 §3: `~` is written `~0` and `/` is written `~1`.
    static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// The part of `path` under `prefix` (`sequences[3]`), as a path relative to it, or nil when outside it.
    static func relative(_ path: String, under prefix: String) -> String? {
        if path == prefix { return "" }
        if path.hasPrefix(prefix + ".") { return String(path.dropFirst(prefix.count + 1)) }
        if path.hasPrefix(prefix + "[") { return String(path.dropFirst(prefix.count)) }
        return nil
    }
}
