import TelephonyDSP

/// Collects problems while reading a JSON document, with helpers that read typed fields.
package final class ProblemCollector {
    /// The problems kept (at most `ProductLimits.maximumProblemsListed`).
    package private(set) var kept: [ValidationProblem] = []
    /// Every problem found, kept or not.
    package private(set) var count = 0
    package let limits: ProductLimits

    package init(limits: ProductLimits = .default) { self.limits = limits }

    package func add(_ path: String, _ message: String) {
        count += 1
        if kept.count < limits.maximumProblemsListed { kept.append(ValidationProblem(path: path, message: message)) }
    }

    /// The problems to report: those kept, then "and N more problems".
    package var problems: [ValidationProblem] {
        let more = count - kept.count
        guard more > 0 else { return kept }
        return kept + [ValidationProblem(path: "", message: "and \(more) more problem\(more == 1 ? "" : "s")")]
    }

    /// Parses `text` as JSON and reads it with `read`, which adds every problem it finds to the collector.
    ///
    /// - Returns: what `read` made, when no problem was found.
    /// - Throws: ``InvalidDocumentError`` with the syntax error (its line and column) or every problem found.
    package static func validate<T>(
        _ text: String, source: String,
        _ read: (JSONValue, ProblemCollector) -> T?
    ) throws(InvalidDocumentError) -> T {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw InvalidDocumentError(
                source: source,
                problems: [ValidationProblem(path: "", message: "invalid JSON at \(error)")])
        }
        let collector = ProblemCollector()
        if let value = read(json, collector), collector.count == 0 { return value }
        throw InvalidDocumentError(source: source, problems: collector.problems)
    }

    package static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    package static func join(_ path: String, _ index: Int) -> String { "\(path)[\(index)]" }

    /// The members of an object, or a problem.
    package func object(_ value: JSONValue, at path: String, what: String) -> [(key: String, value: JSONValue)]? {
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
    package func rejectUnknownKeys(_ members: [(key: String, value: JSONValue)], allowed: [String], at path: String) {
        for member in members where !allowed.contains(member.key) && InputText.firstForbidden(in: member.key) == nil {
            let hint =
                allowed.first { $0.lowercased() == member.key.lowercased() }
                .map { " (did you mean \"\($0)\"?)" } ?? " (allowed: \(allowed.joined(separator: ", ")))"
            add(ProblemCollector.join(path, InputText.escaped(member.key)), "unknown key\(hint)")
        }
    }

    package func value(_ members: [(key: String, value: JSONValue)], _ key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    package func string(
        _ members: [(key: String, value: JSONValue)], _ key: String, at path: String, required: Bool = true
    ) -> String? {
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

    package func integer(
        _ members: [(key: String, value: JSONValue)], _ key: String, at path: String, range: ClosedRange<Int>,
        unit: String, reason: String? = nil
    ) -> Int? {
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
            add(
                p,
                "\(n) \(unit) is out of range (\(range.lowerBound)...\(range.upperBound) \(unit))"
                    + (reason.map { ": \($0)" } ?? ""))
            return nil
        }
        return n
    }

    package func number(
        _ members: [(key: String, value: JSONValue)], _ key: String, at path: String, range: ClosedRange<Double>,
        unit: String, reason: String? = nil
    ) -> Double? {
        let p = ProblemCollector.join(path, key)
        guard let v = value(members, key) else { return nil }
        guard case .number(let x) = v else {
            add(p, "expected a number of \(unit), found \(v.typeName)")
            return nil
        }
        guard range.contains(x) else {
            add(
                p,
                "\(formatNumber(x)) \(unit) is out of range (\(formatNumber(range.lowerBound))...\(formatNumber(range.upperBound)) \(unit))"
                    + (reason.map { ": \($0)" } ?? ""))
            return nil
        }
        return x
    }

    package func formatNumber(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
