import CallSequenceModel
import Recordings
import Synchronization
import TelephonyDSP

/// An account ready for calls in one call format.
///
/// Its prompts and sequences are compiled when a call first needs them, then kept for every later call:
/// ``makeSession(calling:)`` compiles what that number's route can reach (its IVRs' prompts and the
/// sequences of their options, following IVR options), never on the real-time path, since a session
/// starts with every program it can play. Memory therefore follows what callers reach, not what the file
/// holds; ``compileReachable()`` compiles everything any number can reach at once (a server refusing a
/// broken file at load, for instance).
public final class CompiledAccount: Sendable {
    /// The account.
    public let account: Account
    /// The call format.
    public let format: CallFormat
    let recordings: RecordingCache
    let limits: Limits
    /// What has been compiled so far (index = the IVR's or sequence's index in the account).
    private let programs: Mutex<Programs>
    /// Each IVR's options, resolved to indices: [ivr][digit] (16 entries).
    let options: [[ResolvedAction?]]
    let detector: DTMFDetector

    struct Programs: Sendable {
        /// Each IVR's prompt as a one-step program, once compiled.
        var prompts: [CompiledSequence?]
        /// Each sequence, once compiled.
        var sequences: [CompiledSequence?]
    }

    enum ResolvedAction: Sendable, Hashable {
        case sequence(Int)
        case ivr(Int)
        case repeatMenu
        case hangup
    }

    /// Prepares `account` for calls; nothing is compiled until a call needs it.
    ///
    /// - Throws: ``CompileError`` if no DTMF receiver exists for the format's rate.
    public init(
        _ account: Account, recordings: RecordingCache, format: CallFormat,
        limits: Limits = .default
    ) throws(CompileError) {
        self.account = account
        self.format = format
        self.recordings = recordings
        self.limits = limits
        programs = Mutex(
            Programs(
                prompts: Array(repeating: nil, count: account.ivrs.count),
                sequences: Array(repeating: nil, count: account.sequences.count)))
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
        detector = try CompiledAccount.detector(sampleRate: format.sampleRate)
    }

    /// One receiver per sample rate for the whole process, copied by each account: its tables (13 KB at 8 kHz)
    /// are shared copy-on-write, and each session's ``IVRSession`` resets its copy, which gives it a history of
    /// its own. A server holding thousands of accounts (a store's) holds the tables once.
    private static let detectors = Mutex<[Int: DTMFDetector]>([:])

    private static func detector(sampleRate: Int) throws(CompileError) -> DTMFDetector {
        if let shared = detectors.withLock({ $0[sampleRate] }) { return shared }
        let made: DTMFDetector
        do {
            made = try DTMFDetector(sampleRate: sampleRate)
        } catch {
            throw CompileError(path: "", message: error.description)
        }
        return detectors.withLock { shared in
            if let existing = shared[sampleRate] { return existing }
            shared[sampleRate] = made
            return made
        }
    }

    /// Compiles every prompt and sequence that a call to any of the account's numbers can reach.
    ///
    /// - Throws: ``CompileError`` naming the IVR or sequence whose recording cannot be prepared.
    public func compileReachable() throws(CompileError) {
        let (ivrs, sequences) = CompiledAccount.reachable(account, from: account.dids.map(\.route))
        _ = try compile(ivrs: ivrs, sequences: sequences)
    }

    /// The programs of `ivrs` and `sequences` (compiled now if not yet), as arrays indexed like the
    /// account's, `nil` elsewhere.
    ///
    /// What is missing is read under the lock and compiled outside it: preparing recordings can take long,
    /// and the lock is also taken by ``compiledSequence(at:)`` on a server's media event thread. Two first
    /// calls at once may both compile a program; the first one stored is kept and shared.
    func compile(ivrs: Set<Int>, sequences: Set<Int>) throws(CompileError) -> Programs {
        let (missingPrompts, missingSequences) = programs.withLock { programs in
            (
                ivrs.filter { programs.prompts[$0] == nil }.sorted(),
                sequences.filter { programs.sequences[$0] == nil }.sorted()
            )
        }
        var prompts: [(Int, CompiledSequence)] = []
        for i in missingPrompts {
            let ivr = account.ivrs[i]
            let prompt = SequenceDefinition(
                name: "prompt of \(ivr.name)",
                steps: [.recording(RecordingStep(recording: ivr.prompt))])
            do throws(CompileError) {
                prompts.append(
                    (i, try CompiledSequence(prompt, format: format, recordings: recordings, limits: limits)))
            } catch {
                throw CompileError(path: "ivrs[\(i)].prompt", message: error.message)
            }
        }
        var compiledSequences: [(Int, CompiledSequence)] = []
        for i in missingSequences {
            do throws(CompileError) {
                compiledSequences.append(
                    (
                        i,
                        try CompiledSequence(
                            account.sequences[i], format: format,
                            recordings: recordings, limits: limits)
                    ))
            } catch {
                throw CompileError(path: "sequences[\(i)].\(error.path)", message: error.message)
            }
        }
        return programs.withLock { programs in
            for (i, program) in prompts where programs.prompts[i] == nil { programs.prompts[i] = program }
            for (i, program) in compiledSequences where programs.sequences[i] == nil {
                programs.sequences[i] = program
            }
            var chosen = Programs(
                prompts: Array(repeating: nil, count: account.ivrs.count),
                sequences: Array(repeating: nil, count: account.sequences.count))
            for i in ivrs { chosen.prompts[i] = programs.prompts[i] }
            for i in sequences { chosen.sequences[i] = programs.sequences[i] }
            return chosen
        }
    }

    /// Each sequence compiled so far (index = the sequence's index in the account); `nil` for one no call
    /// has reached yet.
    public var sequences: [CompiledSequence?] { programs.withLock { $0.sequences } }

    /// The account's sequence `index` if a call has reached it (so it is compiled); `nil` otherwise or out
    /// of range. One lookup, without copying ``sequences``.
    public func compiledSequence(at index: Int) -> CompiledSequence? {
        programs.withLock { $0.sequences.indices.contains(index) ? $0.sequences[index] : nil }
    }

    /// The indices of the IVRs and sequences a call can reach, starting from `routes`.
    static func reachable(_ account: Account, from routes: [Account.Route]) -> (ivrs: Set<Int>, sequences: Set<Int>) {
        var ivrIndex: [String: Int] = [:]
        for (i, ivr) in account.ivrs.enumerated() where ivrIndex[ivr.name] == nil { ivrIndex[ivr.name] = i }
        var sequenceIndex: [String: Int] = [:]
        for (i, sequence) in account.sequences.enumerated() where sequenceIndex[sequence.name] == nil {
            sequenceIndex[sequence.name] = i
        }
        var ivrs = Set<Int>()
        var sequences = Set<Int>()
        var pending: [Int] = []
        for route in routes {
            if case .ivr(let name) = route, let i = ivrIndex[name], ivrs.insert(i).inserted { pending.append(i) }
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

    /// The number of prompts and sequences compiled so far.
    public var compiledCount: Int {
        programs.withLock { $0.prompts.count { $0 != nil } + $0.sequences.count { $0 != nil } }
    }

    /// A session for a call to `number`, with the programs its route can reach (compiled now if no call
    /// reached them before). Call it at call set-up, not on a real-time thread: a first call may compile.
    ///
    /// - Throws: ``CompileError`` if the number is not one of the account's DIDs, or naming the IVR or
    ///   sequence whose recording cannot be prepared.
    public func makeSession(calling number: PhoneNumber) throws(CompileError) -> IVRSession {
        try makeSession(calling: number, listensInBand: true)
    }

    /// ``makeSession(calling:)``, saying whether the session will be given the caller's audio to listen for
    /// digits: a session that hears its digits as RFC 4733 events (`listensInBand` false) does without the
    /// in-band receiver (its state and history buffer: about 1.5 KB a call at 8 kHz). It still works if given
    /// audio, but its first frame with audio then allocates the receiver.
    public func makeSession(calling number: PhoneNumber, listensInBand: Bool) throws(CompileError) -> IVRSession {
        guard let did = account.did(number) else {
            throw CompileError(
                path: "dids",
                message: "\(number) is not a number of this account (its numbers: "
                    + account.dids.map(\.number.digits).joined(separator: ", ") + ")")
        }
        let (ivrs, sequences) = CompiledAccount.reachable(account, from: [did.route])
        return IVRSession(
            self, route: did.route, programs: try compile(ivrs: ivrs, sequences: sequences),
            listensInBand: listensInBand)
    }
}
