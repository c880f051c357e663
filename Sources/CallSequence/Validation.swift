import Recordings
import SMSText
import TelephonyDSP

/// The limits sequence files are checked against: TelephonyDSP's `Limits.default` (the one place limits live), plus
/// the SMS length rule.
public enum SequenceLimits {
    /// The limits every sequence and account is read with.
    public static let limits = Limits.default
    /// Longest name, in characters.
    public static var maximumNameLength: Int { limits.maximumNameLength }
    /// Most steps in one sequence.
    public static var maximumSteps: Int { limits.maximumSteps }
    /// Longest dial string of one step, in characters.
    public static var maximumDialStringLength: Int { limits.maximumDialStringLength }
    /// One SMS in the GSM-7 alphabet, in septets (3GPP TS 23.038); a UCS-2 text holds 70 units. See
    /// `SMSLength` for the rules validation applies.
    public static let maximumMessageLength = 160
}

/// One problem in a sequence or account, with the JSON path of the value concerned.
public struct ValidationProblem: Hashable, Sendable, CustomStringConvertible {
    /// Where: `steps[2].digits`, `name`, or empty for the whole document.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates a problem.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// The text form, for logs and messages.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A document with problems: the first `Limits.maximumProblemsListed` problems found, in document
/// order, then (if there were more) one last problem saying "and N more problems".
public struct ValidationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file (or other source) the problems are in.
    public var source: String
    /// The problems.
    public var problems: [ValidationProblem]

    /// Creates a failure.
    public init(source: String, problems: [ValidationProblem]) {
        self.source = source
        self.problems = problems
    }

    /// One line per problem, each starting with the source.
    public var description: String {
        problems.map { "\(source): \($0)" }.joined(separator: "\n")
    }
}

/// Collects problems while reading a JSON document, with helpers that read typed fields.
final class ProblemCollector {
    /// The problems kept (at most ``Limits/maximumProblemsListed``).
    private(set) var kept: [ValidationProblem] = []
    /// Every problem found, kept or not.
    private(set) var count = 0
    let limits: Limits

    init(limits: Limits = SequenceLimits.limits) { self.limits = limits }

    func add(_ path: String, _ message: String) {
        count += 1
        if kept.count < limits.maximumProblemsListed { kept.append(ValidationProblem(path: path, message: message)) }
    }

    /// The problems to report: those kept, then "and N more problems".
    var problems: [ValidationProblem] {
        let more = count - kept.count
        guard more > 0 else { return kept }
        return kept + [ValidationProblem(path: "", message: "and \(more) more problem\(more == 1 ? "" : "s")")]
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    static func join(_ path: String, _ index: Int) -> String { "\(path)[\(index)]" }

    /// The members of an object, or a problem.
    func object(_ value: JSONValue, at path: String, what: String) -> [(key: String, value: JSONValue)]? {
        guard case .object(let members) = value else {
            add(path, "expected \(what) (an object), found \(value.typeName)")
            return nil
        }
        for member in members {
            if let problem = InputText.problem(in: member.key) {
                add(ProblemCollector.join(path, InputText.escaped(member.key)), "the key \(problem)")
            }
        }
        return members
    }

    /// Reports keys not in `allowed`, suggesting the intended key for a case slip.
    func rejectUnknownKeys(_ members: [(key: String, value: JSONValue)], allowed: [String], at path: String) {
        for member in members where !allowed.contains(member.key) && InputText.firstForbidden(in: member.key) == nil {
            let hint = allowed.first { $0.lowercased() == member.key.lowercased() }
                .map { " (did you mean \"\($0)\"?)" } ?? " (allowed: \(allowed.joined(separator: ", ")))"
            add(ProblemCollector.join(path, InputText.escaped(member.key)), "unknown key\(hint)")
        }
    }

    func value(_ members: [(key: String, value: JSONValue)], _ key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    func string(_ members: [(key: String, value: JSONValue)], _ key: String, at path: String, required: Bool = true) -> String? {
        let p = ProblemCollector.join(path, key)
        guard let v = value(members, key) else {
            if required { add(p, "missing (a string is required)") }
            return nil
        }
        guard case .string(let s) = v else {
            add(p, "expected a string, found \(v.typeName)")
            return nil
        }
        if let problem = InputText.problem(in: s) {
            add(p, "\"\(InputText.escaped(s, limit: 40))\" \(problem)")
            return nil
        }
        return s
    }

    func integer(_ members: [(key: String, value: JSONValue)], _ key: String, at path: String, range: ClosedRange<Int>,
                 unit: String, reason: String? = nil) -> Int? {
        let p = ProblemCollector.join(path, key)
        guard let v = value(members, key) else { return nil }
        guard case .number(let x) = v else {
            add(p, "expected a whole number of \(unit), found \(v.typeName)")
            return nil
        }
        guard x == x.rounded(), abs(x) < 1e12 else {
            add(p, "expected a whole number of \(unit), found \(x)")
            return nil
        }
        let n = Int(x)
        guard range.contains(n) else {
            add(p, "\(n) \(unit) is out of range (\(range.lowerBound)...\(range.upperBound) \(unit))"
                + (reason.map { ": \($0)" } ?? ""))
            return nil
        }
        return n
    }

    func number(_ members: [(key: String, value: JSONValue)], _ key: String, at path: String, range: ClosedRange<Double>,
                unit: String, reason: String? = nil) -> Double? {
        let p = ProblemCollector.join(path, key)
        guard let v = value(members, key) else { return nil }
        guard case .number(let x) = v else {
            add(p, "expected a number of \(unit), found \(v.typeName)")
            return nil
        }
        guard range.contains(x) else {
            add(p, "\(formatNumber(x)) \(unit) is out of range (\(formatNumber(range.lowerBound))...\(formatNumber(range.upperBound)) \(unit))"
                + (reason.map { ": \($0)" } ?? ""))
            return nil
        }
        return x
    }

    func formatNumber(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

// MARK: - Reading a sequence

extension CallSequence {
    /// The keys a sequence object may have.
    static let keys = ["name", "steps"]

    /// Reads a sequence from JSON text, checking everything that does not depend on an account.
    ///
    /// - Parameters:
    ///   - text: the JSON document.
    ///   - source: the file name to put in front of each problem.
    ///   - recordings: when given, recording names must exist in it.
    /// - Returns: the sequence.
    /// - Throws: ``ValidationFailure`` listing every problem with its JSON path (a syntax error is one problem
    ///   with its line and column).
    public static func parse(_ text: String, source: String, recordings: RecordingLibrary? = nil) throws(ValidationFailure) -> CallSequence {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw ValidationFailure(source: source, problems: [ValidationProblem(path: "", message: "invalid JSON at \(error)")])
        }
        let collector = ProblemCollector()
        let sequence = read(json, at: "", collector, recordings: recordings)
        if let sequence, collector.count == 0 { return sequence }
        throw ValidationFailure(source: source, problems: collector.problems)
    }

    /// Reads a sequence object at `path`, adding every problem to `collector`.
    static func read(_ json: JSONValue, at path: String, _ collector: ProblemCollector, recordings: RecordingLibrary?) -> CallSequence? {
        guard let members = collector.object(json, at: path, what: "a sequence") else { return nil }
        collector.rejectUnknownKeys(members, allowed: keys, at: path)
        let namePath = ProblemCollector.join(path, "name")
        var name = collector.string(members, "name", at: path)
        if let n = name {
            let trimmed = n.trimmingWhitespace
            if trimmed.isEmpty {
                collector.add(namePath, "the name cannot be empty")
                name = nil
            } else if trimmed.count > SequenceLimits.maximumNameLength {
                collector.add(namePath, "the name has \(trimmed.count) characters; at most \(SequenceLimits.maximumNameLength)")
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
            } else if items.count > SequenceLimits.maximumSteps {
                collector.add(stepsPath, "\(items.count) steps; at most \(SequenceLimits.maximumSteps)")
                stepsOK = false
            }
            for (i, item) in items.prefix(SequenceLimits.maximumSteps).enumerated() {
                if let step = readStep(item, at: ProblemCollector.join(stepsPath, i), collector, recordings: recordings) {
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
        return CallSequence(name: name, steps: steps)
    }

    static func readStep(_ json: JSONValue, at path: String, _ c: ProblemCollector, recordings: RecordingLibrary?) -> Step? {
        guard let members = c.object(json, at: path, what: "a step") else { return nil }
        guard let type = c.string(members, "type", at: path) else { return nil }
        switch type {
        case "dtmf":
            c.rejectUnknownKeys(members, allowed: ["type", "digits", "toneMs", "gapMs", "levelDbm0", "twistDb"], at: path)
            let before = c.count
            var dial: DialString?
            if let digits = c.string(members, "digits", at: path) {
                let p = ProblemCollector.join(path, "digits")
                if digits.count > SequenceLimits.maximumDialStringLength {
                    c.add(p, "\(digits.count) characters; at most \(SequenceLimits.maximumDialStringLength)")
                } else {
                    do { dial = try DialString(digits) } catch { c.add(p, error.description) }
                }
            }
            let limits = c.limits
            let tone = c.integer(members, "toneMs", at: path, range: limits.toneMilliseconds, unit: "ms",
                                 reason: Limits.toneReason)
            let gap = c.integer(members, "gapMs", at: path, range: limits.gapMilliseconds, unit: "ms",
                                reason: Limits.gapReason)
            let level = c.number(members, "levelDbm0", at: path, range: limits.levelDbm0, unit: "dBm0",
                                 reason: Limits.levelReason)
            let twist = c.number(members, "twistDb", at: path, range: limits.twistDb, unit: "dB")
            guard let dial, c.count == before else { return nil }
            let high = (level ?? DTMFTiming.default.levelDbm0) + (twist ?? DTMFTiming.default.twistDb)
            if !limits.levelDbm0.contains(high) {
                c.add(path, "the high-group tone (levelDbm0 + twistDb) would be at \(c.formatNumber(high)) dBm0, "
                    + "outside \(c.formatNumber(limits.levelDbm0.lowerBound))...\(c.formatNumber(limits.levelDbm0.upperBound)) dBm0: "
                    + Limits.levelReason)
                return nil
            }
            let step = DTMFStep(digits: dial, toneMilliseconds: tone, gapMilliseconds: gap, levelDbm0: level, twistDb: twist)
            let peak = DualTone(digit: .one, levelDbm0: level ?? DTMFTiming.default.levelDbm0, twistDb: twist ?? DTMFTiming.default.twistDb).peak
            if peak > 32767 {
                c.add(path, "levelDbm0 and twistDb together would clip: the two tones peak at \(Int(peak)) (max 32767)")
                return nil
            }
            return .dtmf(step)
        case "recording":
            c.rejectUnknownKeys(members, allowed: ["type", "recording"], at: path)
            guard let name = c.string(members, "recording", at: path) else { return nil }
            let p = ProblemCollector.join(path, "recording")
            guard !name.trimmingWhitespace.isEmpty, name.count <= SequenceLimits.maximumNameLength else {
                if !name.trimmingWhitespace.isEmpty {
                    c.add(ProblemCollector.join(path, "recording"),
                          "the name has \(name.count) characters; at most \(SequenceLimits.maximumNameLength)")
                    return nil
                }
                c.add(p, "empty; use a recording name, \"none\" or \"default\"")
                return nil
            }
            let choice = RecordingChoice(name)
            if let recordings, case .named(let n) = choice, recordings.files[n] == nil {
                let known = recordings.names
                let list = known.prefix(8).map { InputText.escaped($0) }.joined(separator: ", ")
                c.add(p, "no recording named '\(InputText.escaped(n))' in \(InputText.escaped(recordings.origin))"
                    + (known.isEmpty ? " (it is empty)" : " (known: \(list)\(known.count > 8 ? ", ..." : ""))"))
                return nil
            }
            return .recording(RecordingStep(recording: choice))
        case "sms":
            c.rejectUnknownKeys(members, allowed: ["type", "from", "to", "message"], at: path)
            var numbers: [PhoneNumber] = []
            for key in ["from", "to"] {
                guard let text = c.string(members, key, at: path) else { continue }
                do { numbers.append(try PhoneNumber(text)) } catch { c.add(ProblemCollector.join(path, key), "'\(InputText.escaped(text))' \(error)") }
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
            c.add(ProblemCollector.join(path, "type"), "unknown step type \"\(InputText.escaped(type))\" (dtmf, recording or sms)")
            return nil
        }
    }

    /// Checks what only the whole sequence tells: the dial strings' total length and the DTMF steps'
    /// total duration (with the default timing where a step sets none), against ``Limits``.
    static func checkTotals(_ steps: [Step], at path: String, _ c: ProblemCollector) -> Bool {
        var characters = 0, milliseconds = 0
        for step in steps {
            guard case .dtmf(let dtmf) = step else { continue }
            characters += dtmf.digits.elements.count
            milliseconds += dtmf.timing(defaults: .default).milliseconds(of: dtmf.digits)
        }
        let limits = c.limits
        if milliseconds > limits.maximumSequenceMilliseconds {
            c.add(path, "the DTMF steps last \(Limits.describe(milliseconds: milliseconds)); at most "
                + "\(Limits.describe(milliseconds: limits.maximumSequenceMilliseconds)) (\(Limits.durationReason))")
            return false
        }
        if characters > limits.maximumTotalDialStringLength {
            c.add(path, "the dial strings have \(characters) characters in all; at most \(limits.maximumTotalDialStringLength)")
            return false
        }
        return true
    }
}
