// The store's structural rules (sizes, names, bodies) and the reading of references inside JSON bodies (which
// IVR options run which sequence, which steps play which recording), shared by every implementation.

import CallSequenceModel
import Foundation
import TelephonyDSP

/// Bounds the store holds everything to, whatever the caller checked before.
public enum StoreLimits {
    /// Names of accounts, packages, IVRs, sequences, recordings and key labels: characters.
    public static let maximumNameLength = 200
    /// A sequence or IVR body: bytes of JSON.
    public static let maximumBodyBytes = 1 << 20
    /// A recording's original or converted bytes.
    public static let maximumRecordingBytes = 64 << 20
    /// A recording's metadata: bytes of JSON.
    public static let maximumMetadataBytes = 64 << 10
    /// Free-text fields of the ledger and call records (caller, message, outcome...): characters.
    public static let maximumTextLength = 4096
}

enum StoreRules {
    /// `name` checked: 1...200 characters, not only spaces, no control characters.
    static func name(_ name: String, _ what: String) throws(StoreError) -> String {
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw .invalid("\(what): the name cannot be empty") }
        if name.count > StoreLimits.maximumNameLength {
            throw .invalid("\(what): the name has \(name.count) characters; at most \(StoreLimits.maximumNameLength)")
        }
        if let problem = InputText.problem(in: name) { throw .invalid("\(what): the name \(problem)") }
        return name
    }

    static func text(_ text: String, _ what: String, limit: Int = StoreLimits.maximumTextLength) throws(StoreError) {
        if text.count > limit { throw .invalid("\(what) has \(text.count) characters; at most \(limit)") }
    }

    /// A recording's name: a name, and no `/`, and not a word that means something else in a step.
    static func recordingName(_ name: String) throws(StoreError) -> String {
        _ = try Self.name(name, "recording")
        if name.contains("/") { throw .invalid("recording: the name cannot contain '/'") }
        if name == "none" || name == "default" { throw .invalid("recording: \"\(name)\" is a reserved name") }
        return name
    }

    /// Reads a sequence or IVR body: JSON object with a valid string `name`, at most 1 MiB.
    static func body(_ text: String, _ what: String) throws(StoreError) -> (name: String, json: JSONValue) {
        if text.utf8.count > StoreLimits.maximumBodyBytes {
            throw .invalid("\(what): the body has \(text.utf8.count) bytes; at most \(StoreLimits.maximumBodyBytes)")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch { throw .invalid("\(what): \(error.description)") }
        guard case .object = json else { throw .invalid("\(what): the body must be a JSON object") }
        guard case .string(let name)? = json["name"] else {
            throw .invalid("\(what): the body needs a string \"name\"")
        }
        return (try Self.name(name, what), json)
    }

    static func metadata(_ text: String) throws(StoreError) -> String {
        if text.utf8.count > StoreLimits.maximumMetadataBytes {
            throw .invalid(
                "recording: metadata has \(text.utf8.count) bytes; at most \(StoreLimits.maximumMetadataBytes)")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch { throw .invalid("recording metadata: \(error.description)") }
        guard case .object = json else { throw .invalid("recording metadata must be a JSON object") }
        return CanonicalJSON.text(json)
    }

    // MARK: - References inside bodies

    /// The names an IVR's options go to: `kind` is `sequence` or `ivr`.
    static func optionTargets(_ ivr: JSONValue, kind: String) -> [String] {
        guard case .object(let options)? = ivr["options"] else { return [] }
        return options.compactMap { option in
            if case .string(let name)? = option.value[kind] { return name }
            return nil
        }
    }

    /// The IVR with its options going to `old` (of `kind`) going to `new` instead; nil when none did.
    static func renamingOptionTargets(_ ivr: JSONValue, kind: String, from old: String, to new: String) -> JSONValue? {
        guard case .object(var members) = ivr,
            let index = members.firstIndex(where: { $0.key == "options" }),
            case .object(var options) = members[index].value
        else { return nil }
        var changed = false
        for i in options.indices {
            guard case .object(var action) = options[i].value else { continue }
            for j in action.indices where action[j].key == kind && action[j].value == .string(old) {
                action[j].value = .string(new)
                changed = true
            }
            options[i].value = .object(action)
        }
        guard changed else { return nil }
        members[index].value = .object(options)
        return .object(members)
    }

    /// The recording names a sequence's steps play.
    static func recordings(inSequence sequence: JSONValue) -> Set<String> {
        guard case .array(let steps)? = sequence["steps"] else { return [] }
        var names = Set<String>()
        for step in steps {
            if case .string("recording")? = step["type"], case .string(let name)? = step["recording"] {
                names.insert(name)
            }
        }
        return names
    }

    /// The recording an IVR plays as its prompt.
    static func prompt(ofIVR ivr: JSONValue) -> String? {
        if case .string(let name)? = ivr["prompt"] { return name }
        return nil
    }

    // MARK: - Identifiers, secrets, time

    /// `prefix` and 20 lowercase hex digits from the system's CSPRNG (getrandom(2) on Linux).
    static func newID(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var out = prefix
        for _ in 0..<10 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            out += hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 15)]
        }
        return out
    }

    static let hexDigits = (0..<16).map { String($0, radix: 16) }

    static func milliseconds(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite, ms > -9e15, ms < 9e15 else { return 0 }
        return Int64(ms)
    }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    /// The UTC day of `date`, `YYYY-MM-DD`.
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        func two(_ n: Int?) -> String {
            let s = String(n ?? 0)
            return s.count < 2 ? "0" + s : s
        }
        return "\(c.year ?? 1970)-\(two(c.month))-\(two(c.day))"
    }

    static func jsonStrings(_ strings: [String]) -> String {
        CanonicalJSON.text(.array(strings.map(JSONValue.string)))
    }

    static func strings(fromJSON text: String) -> [String] {
        guard case .array(let items)? = try? JSONValue.parse(text) else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
}
