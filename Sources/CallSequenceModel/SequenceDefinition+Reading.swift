import SMSText
import TelephonyDSP

extension SequenceDefinition {
    /// The keys a sequence object may have.
    static let keys = ["name", "steps"]

    /// Reads a sequence from JSON text, checking everything that does not depend on an account.
    ///
    /// - Parameters:
    ///   - text: the JSON document.
    ///   - source: the file name to put in front of each problem.
    ///   - recordings: when given, recording names must exist in it.
    /// - Returns: the sequence.
    /// - Throws: ``InvalidDocumentError`` listing every problem with its JSON path (a syntax error is one problem
    ///   with its line and column).
    public static func parse(
        _ text: String, source: String, recordings: (any RecordingCatalog)? = nil
    ) throws(InvalidDocumentError) -> SequenceDefinition {
        try ProblemCollector.validate(text, source: source) { read($0, at: "", $1, recordings: recordings) }
    }

    /// Reads a sequence object at `path`, adding every problem to `collector`.
    package static func read(
        _ json: JSONValue, at path: String, _ collector: ProblemCollector, recordings: (any RecordingCatalog)?
    ) -> SequenceDefinition? {
        guard let members = collector.object(json, at: path, what: "a sequence") else { return nil }
        collector.rejectUnknownKeys(members, allowed: keys, at: path)
        let namePath = ProblemCollector.join(path, "name")
        var name = collector.string(members, "name", at: path)
        if let n = name {
            let trimmed = n.trimmingWhitespace
            if trimmed.isEmpty {
                collector.add(namePath, "the name cannot be empty")
                name = nil
            } else if trimmed.count > ProductLimits.default.maximumNameLength {
                collector.add(
                    namePath,
                    "the name has \(trimmed.count) characters; at most \(ProductLimits.default.maximumNameLength)")
                name = nil
            } else {
                name = trimmed
            }
        }
        let stepsPath = ProblemCollector.join(path, "steps")
        var steps: [Step] = []
        var stepsOK = true
        switch collector.value(members, "steps") {
        case nil:
            collector.add(stepsPath, "missing (an array of steps is required)")
            stepsOK = false
        case .array(let items)?:
            if items.isEmpty {
                collector.add(stepsPath, "the sequence has no steps; add at least one")
                stepsOK = false
            } else if items.count > ProductLimits.default.maximumSteps {
                collector.add(stepsPath, "\(items.count) steps; at most \(ProductLimits.default.maximumSteps)")
                stepsOK = false
            }
            for (i, item) in items.prefix(ProductLimits.default.maximumSteps).enumerated() {
                if let step = readStep(item, at: ProblemCollector.join(stepsPath, i), collector, recordings: recordings)
                {
                    steps.append(step)
                } else {
                    stepsOK = false
                }
            }
            if stepsOK { stepsOK = checkTotals(steps, at: stepsPath, collector) }
        case let other?:
            collector.add(stepsPath, "expected an array of steps, found \(other.typeName)")
            stepsOK = false
        }
        guard let name, stepsOK else { return nil }
        return SequenceDefinition(name: name, steps: steps)
    }

    static func readStep(
        _ json: JSONValue, at path: String, _ c: ProblemCollector, recordings: (any RecordingCatalog)?
    ) -> Step? {
        guard let members = c.object(json, at: path, what: "a step") else { return nil }
        guard let type = c.string(members, "type", at: path) else { return nil }
        switch type {
        case "dtmf":
            c.rejectUnknownKeys(
                members, allowed: ["type", "digits", "toneMs", "gapMs", "levelDbm0", "twistDb"], at: path)
            let before = c.count
            var dial: DialString?
            if let digits = c.string(members, "digits", at: path) {
                let p = ProblemCollector.join(path, "digits")
                if digits.count > ProductLimits.default.signal.maximumDialStringLength {
                    c.add(
                        p, "\(digits.count) characters; at most \(ProductLimits.default.signal.maximumDialStringLength)"
                    )
                } else {
                    do { dial = try DialString(digits) } catch { c.add(p, error.description) }
                }
            }
            let limits = c.limits
            let tone = c.integer(
                members, "toneMs", at: path, range: limits.signal.toneMilliseconds, unit: "ms",
                reason: Limits.toneReason)
            let gap = c.integer(
                members, "gapMs", at: path, range: limits.signal.gapMilliseconds, unit: "ms",
                reason: Limits.gapReason)
            let level = c.number(
                members, "levelDbm0", at: path, range: limits.signal.levelDbm0, unit: "dBm0",
                reason: Limits.levelReason)
            let twist = c.number(members, "twistDb", at: path, range: limits.signal.twistDb, unit: "dB")
            guard let dial, c.count == before else { return nil }
            let high = (level ?? DTMFTiming.default.levelDbm0) + (twist ?? DTMFTiming.default.twistDb)
            if !limits.signal.levelDbm0.contains(high) {
                c.add(
                    path,
                    "the high-group tone (levelDbm0 + twistDb) would be at \(c.formatNumber(high)) dBm0, "
                        + "outside \(c.formatNumber(limits.signal.levelDbm0.lowerBound))...\(c.formatNumber(limits.signal.levelDbm0.upperBound)) dBm0: "
                        + Limits.levelReason)
                return nil
            }
            let step = DTMFStep(
                digits: dial, toneMilliseconds: tone, gapMilliseconds: gap, levelDbm0: level, twistDb: twist)
            let peak = DualTone(
                digit: .one, levelDbm0: level ?? DTMFTiming.default.levelDbm0,
                twistDb: twist ?? DTMFTiming.default.twistDb
            ).peak
            if peak > 32767 {
                c.add(path, "levelDbm0 and twistDb together would clip: the two tones peak at \(Int(peak)) (max 32767)")
                return nil
            }
            return .dtmf(step)
        case "recording":
            c.rejectUnknownKeys(members, allowed: ["type", "recording"], at: path)
            guard let name = c.string(members, "recording", at: path) else { return nil }
            let p = ProblemCollector.join(path, "recording")
            guard !name.trimmingWhitespace.isEmpty, name.count <= ProductLimits.default.maximumNameLength else {
                if !name.trimmingWhitespace.isEmpty {
                    c.add(
                        ProblemCollector.join(path, "recording"),
                        "the name has \(name.count) characters; at most \(ProductLimits.default.maximumNameLength)")
                    return nil
                }
                c.add(p, "empty; use a recording name, \"none\" or \"default\"")
                return nil
            }
            let choice = RecordingChoice(name)
            if let recordings, case .named(let n) = choice, !recordings.contains(n) {
                let known = recordings.names
                let list = known.prefix(8).map { InputText.escaped($0) }.joined(separator: ", ")
                c.add(
                    p,
                    "no recording named '\(InputText.escaped(n))' in \(InputText.escaped(recordings.origin))"
                        + (known.isEmpty ? " (it is empty)" : " (known: \(list)\(known.count > 8 ? ", ..." : ""))"))
                return nil
            }
            return .recording(RecordingStep(recording: choice))
        case "sms":
            c.rejectUnknownKeys(members, allowed: ["type", "from", "to", "message"], at: path)
            var numbers: [PhoneNumber] = []
            for key in ["from", "to"] {
                guard let text = c.string(members, key, at: path) else { continue }
                do { numbers.append(try PhoneNumber(text)) } catch {
                    c.add(ProblemCollector.join(path, key), "'\(InputText.escaped(text))' \(error)")
                }
            }
            var message = c.string(members, "message", at: path)
            if let m = message {
                let p = ProblemCollector.join(path, "message")
                if m.trimmingWhitespace.isEmpty {
                    c.add(p, "the message is empty")
                    message = nil
                } else if let problem = SMSLength(of: m).problem {
                    // 3GPP TS 23.038: counted as the network counts it (septets or UCS-2 units), one SMS.
                    c.add(p, problem)
                    message = nil
                }
            }
            guard numbers.count == 2, let message else { return nil }
            return .sms(SMSStep(from: numbers[0], to: numbers[1], message: message))
        default:
            c.add(
                ProblemCollector.join(path, "type"),
                "unknown step type \"\(InputText.escaped(type))\" (dtmf, recording or sms)")
            return nil
        }
    }

    /// Checks what only the whole sequence tells: the dial strings' total length and the DTMF steps'
    /// total duration (with the default timing where a step sets none), against ``Limits``.
    static func checkTotals(_ steps: [Step], at path: String, _ c: ProblemCollector) -> Bool {
        var characters = 0
        var milliseconds = 0
        for step in steps {
            guard case .dtmf(let dtmf) = step else { continue }
            characters += dtmf.digits.elements.count
            milliseconds += dtmf.timing(defaults: .default).milliseconds(of: dtmf.digits)
        }
        let limits = c.limits
        if milliseconds > limits.signal.maximumSequenceMilliseconds {
            c.add(
                path,
                "the DTMF steps last \(Limits.describe(milliseconds: milliseconds)); at most "
                    + "\(Limits.describe(milliseconds: limits.signal.maximumSequenceMilliseconds)) (\(Limits.durationReason))"
            )
            return false
        }
        if characters > limits.maximumTotalDialStringLength {
            c.add(
                path,
                "the dial strings have \(characters) characters in all; at most \(limits.maximumTotalDialStringLength)")
            return false
        }
        return true
    }
}
