import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Recordings
import TelephonyDSP

/// Checks a sequence, IVR or number against its account with the rules of `callseq validate`: the account
/// is written as an account file with the candidate in place, and read by the model (`Account.parse`), so
/// that the API and the command line refuse the same things with the same words. Problems come back with
/// RFC 6901 pointers into the candidate (`/steps/2/digits`).
struct AccountValidation {
    /// What is being saved.
    enum Candidate {
        /// A sequence body, replacing the sequence named `replacing` (nil: a new one).
        case sequence(JSONValue, replacing: String?)
        /// An IVR body, replacing the IVR named `replacing`.
        case ivr(JSONValue, replacing: String?)
        /// A number's body (`{sms, route, dtmf, answerAfterMs}`) for `number`.
        case number(JSONValue, number: String)
    }

    let account: AccountRecord
    let snapshot: AccountSnapshot

    /// Every problem of `candidate`, empty when it may be saved.
    func problems(_ candidate: Candidate) -> [(pointer: String, detail: String)] {
        var numbers = snapshot.numbers.map(Self.numberJSON)
        var ivrs = snapshot.ivrs.compactMap { try? JSONValue.parse($0) }
        var sequences = snapshot.sequences.compactMap { try? JSONValue.parse($0) }
        let prefix: String
        switch candidate {
        case .sequence(let body, let replacing):
            let index = replacing.flatMap { name in sequences.firstIndex { $0["name"] == .string(name) } }
            if let index { sequences[index] = body } else { sequences.append(body) }
            prefix = "sequences[\(index ?? sequences.count - 1)]"
        case .ivr(let body, let replacing):
            let index = replacing.flatMap { name in ivrs.firstIndex { $0["name"] == .string(name) } }
            if let index { ivrs[index] = body } else { ivrs.append(body) }
            prefix = "ivrs[\(index ?? ivrs.count - 1)]"
        case .number(let body, let number):
            var members: [(key: String, value: JSONValue)] = [("number", .string(number))]
            if case .object(let given) = body { members += given.filter { $0.key != "number" } }
            let did = JSONValue.object(members)
            let index = snapshot.numbers.firstIndex { $0.number == number }
            if let index { numbers[index] = did } else { numbers.append(did) }
            prefix = "dids[\(index ?? numbers.count - 1)]"
            guard case .object = body else {
                return [("", "expected a number's settings (an object), found \(body.typeName)")]
            }
            if let given = body["number"], given != .string(number) {
                return [("/number", "the number is the one in the path (\(number))")]
            }
        }
        let after = check(numbers: numbers, ivrs: ivrs, sequences: sequences)
        var found: [(pointer: String, detail: String)] = []
        for problem in after {
            if let inside = JSONPointer.relative(problem.path, under: prefix) {
                found.append((JSONPointer.from(path: inside), problem.message))
            }
        }
        // A number's SMS flag is what sequences send from: turning it off must not break one that uses it.
        if case .number = candidate {
            let before = Set(check(numbers: snapshot.numbers.map(Self.numberJSON), ivrs: ivrs, sequences: sequences))
            for problem in after
            where JSONPointer.relative(problem.path, under: prefix) == nil && !before.contains(problem) {
                found.append(("", "\(describe(problem.path, ivrs: ivrs, sequences: sequences)): \(problem.message)"))
            }
        }
        return found
    }

    /// The model's problems with the account as these parts.
    private func check(numbers: [JSONValue], ivrs: [JSONValue], sequences: [JSONValue]) -> [ValidationProblem] {
        let caps = account.capabilities
        let document = JSONValue.object([
            (
                "capabilities",
                .object([
                    ("sequences", .bool(caps.sequences)), ("sms", .bool(caps.sms)),
                    ("smsDailyLimit", .int(caps.smsDailyLimit)),
                ])
            ),
            ("dids", .array(numbers)),
            ("ivrs", .array(ivrs)),
            ("sequences", .array(sequences)),
        ])
        let names = snapshot.recordings.map(\.name)
        let library = RecordingLibrary(
            files: Dictionary(names.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }),
            origin: "the account's recordings")
        do {
            _ = try Account.parse(CanonicalJSON.text(document), source: account.id, catalog: library)
            return []
        } catch {
            return error.problems
        }
    }

    /// `sequences[2].steps[0].from` as a person knows it: `sequence "Front door" steps[0].from`.
    private func describe(_ path: String, ivrs: [JSONValue], sequences: [JSONValue]) -> String {
        for (label, list) in [("sequences", sequences), ("ivrs", ivrs)] {
            for (i, item) in list.enumerated() {
                guard let rest = JSONPointer.relative(path, under: "\(label)[\(i)]") else { continue }
                guard case .string(let name)? = item["name"] else { continue }
                let what = label == "ivrs" ? "IVR" : "sequence"
                return "\(what) \"\(InputText.escaped(name, limit: 64))\"" + (rest.isEmpty ? "" : " \(rest)")
            }
        }
        return path
    }

    /// A stored number as the account file's DID object.
    static func numberJSON(_ n: NumberRecord) -> JSONValue {
        let route: JSONValue
        switch n.route {
        case .ivr(let name): route = .object([("ivr", .string(name))])
        case .hangup: route = .object([("hangup", .bool(true))])
        }
        return .object([
            ("number", .string(n.number)), ("sms", .bool(n.sms)), ("route", route),
            ("dtmf", .string(n.dtmf.rawValue)), ("answerAfterMs", .int(n.answerAfterMs)),
        ])
    }
}

extension ManagementAPI {
    /// 422 with every problem of `candidate`, or nothing.
    func validate(_ candidate: AccountValidation.Candidate, in account: AccountRecord) async throws {
        let snapshot = try await store.snapshot(of: account.id, withAudio: false)
        let problems = AccountValidation(account: account, snapshot: snapshot).problems(candidate)
        if !problems.isEmpty { throw Problem.invalid(problems) }
    }
}
