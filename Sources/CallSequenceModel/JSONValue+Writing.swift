// The canonical JSON writer (RFC 8259): what the API's export and revisions store, and what an editor saves.
// Byte-stable: object members in the order the value holds them (the model writes a fixed order), two-space
// indentation, no trailing spaces, one final newline; numbers in their shortest round-trip form, integers
// without a fraction; strings escaped as RFC 8259 §7 requires (quote, backslash, controls), nothing else.

extension JSONValue {
    /// The canonical text of this value, ending with a newline. Reading it back (``parse(_:)``) gives an equal
    /// value.
    public var canonicalText: String {
        var text = ""
        write(to: &text, indent: 0)
        text.append("\n")
        return text
    }

    private func write(to text: inout String, indent: Int) {
        switch self {
        case .null: text.append("null")
        case .bool(let b): text.append(b ? "true" : "false")
        case .number(let x): text.append(JSONValue.numberText(x))
        case .string(let s): JSONValue.appendString(s, to: &text)
        case .array(let items):
            guard !items.isEmpty else {
                text.append("[]")
                return
            }
            text.append("[\n")
            for (i, item) in items.enumerated() {
                JSONValue.appendIndent(indent + 1, to: &text)
                item.write(to: &text, indent: indent + 1)
                text.append(i == items.count - 1 ? "\n" : ",\n")
            }
            JSONValue.appendIndent(indent, to: &text)
            text.append("]")
        case .object(let members):
            guard !members.isEmpty else {
                text.append("{}")
                return
            }
            text.append("{\n")
            for (i, member) in members.enumerated() {
                JSONValue.appendIndent(indent + 1, to: &text)
                JSONValue.appendString(member.key, to: &text)
                text.append(": ")
                member.value.write(to: &text, indent: indent + 1)
                text.append(i == members.count - 1 ? "\n" : ",\n")
            }
            JSONValue.appendIndent(indent, to: &text)
            text.append("}")
        }
    }

    private static func appendIndent(_ level: Int, to text: inout String) {
        for _ in 0..<level { text.append("  ") }
    }

    /// An integral value within ±2^53 as an integer; any other finite value in Swift's shortest round-trip
    /// form (valid JSON: `1e-05`, `0.1`); a non-finite value, which JSON cannot hold, as `null`.
    static func numberText(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(.towardZero), abs(x) <= 9_007_199_254_740_992 {
            return x == 0 ? "0" : String(Int64(x))
        }
        return "\(x)"
    }

    private static func appendString(_ s: String, to text: inout String) {
        text.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            case "\u{08}": text.append("\\b")
            case "\u{0C}": text.append("\\f")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16, uppercase: false)
                text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text.append("\"")
    }
}

// MARK: - The model as JSON

extension SequenceDefinition {
    /// The sequence as its canonical JSON object (`name`, then `steps`; each step's keys in the file format's
    /// order, optional fields only when set). ``SequenceDefinition/parse(_:source:recordings:)`` of its
    /// ``JSONValue/canonicalText`` gives this sequence back.
    public var jsonValue: JSONValue {
        .object([("name", .string(name)), ("steps", .array(steps.map(\.jsonValue)))])
    }

    /// The canonical text of ``jsonValue``.
    public var canonicalJSON: String { jsonValue.canonicalText }
}

extension SequenceDefinition.Step {
    /// The step as its JSON object.
    public var jsonValue: JSONValue {
        switch self {
        case .dtmf(let step):
            var members: [(key: String, value: JSONValue)] = [
                ("type", .string("dtmf")),
                ("digits", .string(step.digits.description)),
            ]
            if let tone = step.toneMilliseconds { members.append(("toneMs", .number(Double(tone)))) }
            if let gap = step.gapMilliseconds { members.append(("gapMs", .number(Double(gap)))) }
            if let level = step.levelDbm0 { members.append(("levelDbm0", .number(level))) }
            if let twist = step.twistDb { members.append(("twistDb", .number(twist))) }
            return .object(members)
        case .recording(let step):
            return .object([("type", .string("recording")), ("recording", .string(step.recording.description))])
        case .sms(let step):
            return .object([
                ("type", .string("sms")), ("from", .string(step.from.digits)),
                ("to", .string(step.to.digits)), ("message", .string(step.message)),
            ])
        }
    }
}

extension Account {
    /// The account as its canonical JSON object: `capabilities`, `recordings` (when set), `dids`, `ivrs`,
    /// `sequences`; IVR options ordered by digit (0-9, *, #, A-D). ``Account/parse(_:source:recordings:)`` of its
    /// ``JSONValue/canonicalText`` gives this account back.
    public var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            (
                "capabilities",
                .object([
                    ("sequences", .bool(capabilities.sequences)), ("sms", .bool(capabilities.sms)),
                    ("smsDailyLimit", .number(Double(capabilities.smsDailyLimit))),
                ])
            )
        ]
        if let recordings { members.append(("recordings", .string(recordings))) }
        members.append(
            (
                "dids",
                .array(
                    dids.map { did in
                        let route: JSONValue =
                            switch did.route {
                            case .ivr(let name): .object([("ivr", .string(name))])
                            case .hangup: .object([("hangup", .bool(true))])
                            }
                        return .object([
                            ("number", .string(did.number.digits)), ("sms", .bool(did.sms)), ("route", route),
                            ("dtmf", .string(did.dtmf.rawValue)),
                            ("answerAfterMs", .number(Double(did.answerAfterMs))),
                        ])
                    })
            ))
        members.append(
            (
                "ivrs",
                .array(
                    ivrs.map { ivr in
                        let options = ivr.options.sorted { $0.key.rawValue < $1.key.rawValue }.map { digit, action in
                            let value: JSONValue =
                                switch action {
                                case .sequence(let name): .object([("sequence", .string(name))])
                                case .ivr(let name): .object([("ivr", .string(name))])
                                case .repeatMenu: .object([("repeat", .bool(true))])
                                case .hangup: .object([("hangup", .bool(true))])
                                }
                            return (key: String(digit.character), value: value)
                        }
                        return .object([
                            ("name", .string(ivr.name)), ("prompt", .string(ivr.prompt.description)),
                            ("timeoutSeconds", .number(Double(ivr.timeoutSeconds))),
                            ("attempts", .number(Double(ivr.attempts))), ("options", .object(options)),
                        ])
                    })
            ))
        members.append(("sequences", .array(sequences.map(\.jsonValue))))
        return .object(members)
    }

    /// The canonical text of ``jsonValue``.
    public var canonicalJSON: String { jsonValue.canonicalText }
}
