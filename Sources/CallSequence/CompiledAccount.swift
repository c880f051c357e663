import Recordings
import TelephonyDSP

/// An account compiled for one call format: its prompts and sequences, ready for any number of calls.
public final class CompiledAccount: Sendable {
    /// The account.
    public let account: Account
    /// The call format.
    public let format: CallFormat
    /// Each IVR's prompt, as a one-step program (index = the IVR's index in the account); `nil` for an
    /// IVR no DID reaches.
    let prompts: [CompiledSequence?]
    /// Each sequence (index = the sequence's index in the account); `nil` for one no call can reach
    /// (no option of a reachable IVR runs it), which is never compiled.
    public let sequences: [CompiledSequence?]
    /// Each IVR's options, resolved to indices: [ivr][digit] (16 entries).
    let options: [[ResolvedAction?]]
    let detector: DTMFDetector

    enum ResolvedAction: Sendable, Hashable {
        case sequence(Int)
        case ivr(Int)
        case repeatMenu
        case hangup
    }

    /// Compiles the prompts and sequences of `account` that a call can reach: from each DID's route,
    /// through the options of the IVRs reached. The others stay `nil` and cost nothing.
    ///
    /// - Throws: ``CompileError`` naming the IVR or sequence whose recording cannot be prepared.
    public init(_ account: Account, recordings: RecordingCache, format: CallFormat,
                limits: Limits = .default) throws(CompileError) {
        self.account = account
        self.format = format
        let (reachableIVRs, reachableSequences) = CompiledAccount.reachable(account)
        var prompts: [CompiledSequence?] = []
        for (i, ivr) in account.ivrs.enumerated() {
            guard reachableIVRs.contains(i) else {
                prompts.append(nil)
                continue
            }
            let prompt = CallSequence(name: "prompt of \(ivr.name)", steps: [.recording(RecordingStep(recording: ivr.prompt))])
            do {
                prompts.append(try CompiledSequence(prompt, format: format, recordings: recordings, limits: limits))
            } catch {
                throw CompileError(path: "ivrs[\(i)].prompt", message: error.message)
            }
        }
        var sequences: [CompiledSequence?] = []
        for (i, sequence) in account.sequences.enumerated() {
            guard reachableSequences.contains(i) else {
                sequences.append(nil)
                continue
            }
            do {
                sequences.append(try CompiledSequence(sequence, format: format, recordings: recordings, limits: limits))
            } catch {
                throw CompileError(path: "sequences[\(i)].\(error.path)", message: error.message)
            }
        }
        self.prompts = prompts
        self.sequences = sequences
        options = account.ivrs.map { ivr in
            (0..<16).map { code -> ResolvedAction? in
                guard let digit = DTMFDigit(rawValue: UInt8(code)), let action = ivr.options[digit] else { return nil }
                switch action {
                case .sequence(let name): return account.sequences.firstIndex { $0.name == name }.map { .sequence($0) }
                case .ivr(let name): return account.ivrs.firstIndex { $0.name == name }.map { .ivr($0) }
                case .repeatMenu: return .repeatMenu
                case .hangup: return .hangup
                }
            }
        }
        do {
            detector = try DTMFDetector(sampleRate: format.sampleRate)
        } catch {
            throw CompileError(path: "", message: error.description)
        }
    }

    /// The indices of the IVRs and sequences a call can reach, starting from the DIDs' routes.
    static func reachable(_ account: Account) -> (ivrs: Set<Int>, sequences: Set<Int>) {
        var ivrIndex: [String: Int] = [:]
        for (i, ivr) in account.ivrs.enumerated() where ivrIndex[ivr.name] == nil { ivrIndex[ivr.name] = i }
        var sequenceIndex: [String: Int] = [:]
        for (i, sequence) in account.sequences.enumerated() where sequenceIndex[sequence.name] == nil {
            sequenceIndex[sequence.name] = i
        }
        var ivrs = Set<Int>(), sequences = Set<Int>(), pending: [Int] = []
        for did in account.dids {
            if case .ivr(let name) = did.route, let i = ivrIndex[name], ivrs.insert(i).inserted { pending.append(i) }
        }
        while let i = pending.popLast() {
            for action in account.ivrs[i].options.values {
                switch action {
                case .sequence(let name): if let s = sequenceIndex[name] { sequences.insert(s) }
                case .ivr(let name): if let n = ivrIndex[name], ivrs.insert(n).inserted { pending.append(n) }
                case .repeatMenu, .hangup: break
                }
            }
        }
        return (ivrs, sequences)
    }

    /// The number of prompts and sequences compiled (those a call can reach).
    public var compiledCount: Int { prompts.count { $0 != nil } + sequences.count { $0 != nil } }

    /// A session for a call to `number`.
    ///
    /// - Throws: ``CompileError`` if the number is not one of the account's DIDs.
    public func makeSession(calling number: PhoneNumber) throws(CompileError) -> IVRSession {
        guard let did = account.did(number) else {
            throw CompileError(path: "dids", message: "\(number) is not a number of this account (its numbers: "
                + account.dids.map(\.number.digits).joined(separator: ", ") + ")")
        }
        return IVRSession(self, route: did.route)
    }
}
