import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import SMSGateway
import TelephonyDSP

struct IVRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ivr",
        abstract: "Play a call to one of an account's numbers: what the caller hears, with the IVR's timeline.",
        discussion: """
            The caller either presses digits (--press, repeatable: each is pressed 0.5 s after the menu has \
            finished playing) or plays an audio file (--caller-audio) that the DTMF receiver listens to, as it \
            would listen to a real caller. SMS steps are a dry run unless --send-sms is given.
            """
    )

    @Argument(help: "The account file (JSON).")
    var account: String

    @Option(
        name: .customLong("recordings-root"),
        help: "A folder the account's recordings folder may be in, besides the account file's own folder.")
    var recordingsRoot: String?

    @Option(help: "The number called (one of the account's DIDs).")
    var did: String

    @Option(help: "A digit the caller presses when the menu is done (repeat for sub-menus).")
    var press: [String] = []

    @Option(name: .customLong("caller-audio"), help: "Audio of the caller, listened to for digits (any format).")
    var callerAudio: String?

    @Option(name: .shortAndLong, help: "Output file (.wav, .raw, .ul, .al): what the caller hears.")
    var output: String

    @OptionGroup var call: CallFormatOptions

    var rate: Int { call.rate }

    @OptionGroup var sms: SMSOptions

    func validate() throws {
        guard (press.isEmpty) != (callerAudio == nil) else {
            throw ValidationError("give either --press DIGIT or --caller-audio FILE")
        }
        for p in press where p.count != 1 || DTMFDigit(Character(p)) == nil {
            throw ValidationError("--press '\(p)' is not a DTMF digit (0-9 * # A-D)")
        }
        do { _ = try PhoneNumber(did) } catch { throw ValidationError("--did '\(did)' \(error)") }
        try validateOutput(output, encoding: call.encoding)
        try sms.check()
    }

    func run() throws {
        let (loaded, library) = try loadAccount(account, recordingsRoot: recordingsRoot)
        let format = try runtime { try AudioOutputFormat(path: output, encoding: call.encoding) }
        let callFormat = call.format(encoding: format.encoding)
        let compiled: CompiledAccount
        do {
            compiled = try quietly {
                try CompiledAccount(loaded, recordings: RecordingCache(library: library), format: callFormat)
            }
        } catch {
            throw RuntimeError("\(account): \(error)")
        }
        let session: IVRSession
        do {
            session = try compiled.makeSession(calling: try PhoneNumber(did))
        } catch {
            throw RuntimeError("\(account): \(error)")
        }
        var caller: [Int16] = []
        if let callerAudio {
            caller = try runtime { () throws -> [Int16] in
                let audio = try quietly { try AudioFile.read(callerAudio) }
                let resampled = try Resampler.resample(
                    audio.samples, from: audio.sampleRate, to: rate, name: callerAudio)
                return resampled.map { Int16(max(-32768, min(32767, $0.rounded()))) }
            }
        }
        let dispatcher = try sms.makeDispatcher(
            account: smsAccount(file: account, limit: loaded.capabilities.smsDailyLimit))
        var log: [String] = []
        let frame = rate / 50
        var pcm: [Int16] = []
        var bytes: [UInt8] = []
        var pcmFrame = [Int16](repeating: 0, count: frame)
        var byteFrame = [UInt8](repeating: 0, count: frame)
        let silentFrame = [Int16](repeating: 0, count: frame)
        var presses = press.compactMap { DTMFDigit(Character($0)) }
        var waitingFrames = 0
        var requests: [(Int, SMSStep)] = []
        let limit = rate * 600  // a simulated call stops after 10 minutes whatever happens
        func time(_ sample: Int) -> String { String(format: "%.3f s", Double(sample) / Double(rate)) }
        func handle(_ event: IVRSession.Event) {
            let at = time(event.sample)
            let ivrs = loaded.ivrs
            let sequences = loaded.sequences
            switch event.kind {
            case .menuStarted(let i, let n):
                log.append("\(at): IVR \"\(ivrs[i].name)\" plays its menu (play \(n) of \(ivrs[i].attempts))")
            case .digit(let d): log.append("\(at): caller pressed \(d)")
            case .invalidOption(let i, let d): log.append("\(at): \(d) is not an option of \"\(ivrs[i].name)\"")
            case .timedOut(let i): log.append("\(at): no digit within \(ivrs[i].timeoutSeconds) s")
            case .sequenceStarted(let s): log.append("\(at): running sequence \"\(sequences[s].name)\"")
            case .sequence(let s, let kind):
                switch kind {
                case .stepStarted(let step):
                    log.append("\(at):   step \(step + 1) (\(sequences[s].steps[step].typeName))")
                case .smsRequested(let step):
                    if let request = compiled.compiledSequence(at: s)?.smsRequest(step: step) {
                        requests.append((s, request))
                        log.append(
                            "\(at):   \(dispatcher == nil ? "would send" : "sending") SMS from \(request.from) to \(request.to): \"\(request.message)\""
                                + (dispatcher == nil ? " (dry run)" : ""))
                    }
                default: break
                }
            case .ended(let reason): log.append("\(at): call ended (\(reason))")
            }
        }
        var at = 0
        while !session.isEnded && session.position < limit {
            if session.isWaitingForDigit, !presses.isEmpty {
                waitingFrames += 1
                if waitingFrames >= 25 {
                    session.press(presses.removeFirst())
                    waitingFrames = 0
                }
            }
            // The caller's frame, if the file still has one; its pointer is made inside withUnsafeBufferPointer.
            var span: Range<Int>?
            if callerAudio != nil {
                if at + frame <= caller.count { span = at..<(at + frame) }
                at += frame
            }
            caller.withUnsafeBufferPointer { all in
                silentFrame.withUnsafeBufferPointer { silent in
                    let input = span.map { UnsafeBufferPointer(rebasing: all[$0]) }
                    let audio = callerAudio == nil ? nil : (input ?? silent)
                    if format.encoding == .pcm16 {
                        pcmFrame.withUnsafeMutableBufferPointer { session.render(callerAudio: audio, into: $0, handle) }
                        pcm += pcmFrame
                    } else {
                        byteFrame.withUnsafeMutableBufferPointer {
                            session.render(callerAudio: audio, into: $0, handle)
                        }
                        bytes += byteFrame
                    }
                }
            }
        }
        try runtime {
            if format.encoding == .pcm16 {
                try AudioFile.write(pcm, sampleRate: rate, to: output, format: format)
            } else {
                try AudioFile.write(g711: bytes, sampleRate: rate, to: output, format: format)
            }
        }
        for line in log { print(line) }
        print(
            "\(output): \(time(session.position)), \(rate) Hz, \(format.encoding.rawValue) \(format.container.rawValue)"
        )
        if let dispatcher {
            try sms.send(requests.map(\.1), with: dispatcher)
        }
    }
}

/// The ledger's account for an account file: its real path (symbolic links resolved), so that every run,
/// from any directory, counts against the same daily limit.
func smsAccount(file: String, limit: Int) -> SMSAccount {
    let absolute =
        file.hasPrefix("/") ? file : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(file)
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let key = realpath(absolute, &buffer) != nil ? String(cString: buffer) : (absolute as NSString).standardizingPath
    return SMSAccount(key: key, dailyLimit: limit)
}

/// Reads and checks an account file; problems are listed one per line (exit 1).
func loadAccount(
    _ file: String, recordingsRoot: String? = nil,
    recordings: String? = nil
) throws -> (Account, RecordingLibrary) {
    do {
        return try Account.load(file, recordingsRoot: recordingsRoot, recordings: recordings)
    } catch {
        throw ProblemListError(
            lines: error.problems.map {
                namingOptions($0.path.isEmpty ? "\(file): \($0.message)" : "\(file): \($0)")
            })
    }
}

/// A library message about the operator's folders, with the options that set them named: the library speaks of
/// "the operator's recordings folder" and "a recordings root"; the command line's user set them with
/// `--recordings` and `--recordings-root`.
func namingOptions(_ line: String) -> String {
    var line = line
    if let range = line.range(of: Account.operatorRecordingsPhrase + ": ") {
        line.replaceSubrange(range, with: "--recordings: ")
    }
    if line.hasSuffix(Account.recordingsRootHint) {
        line =
            String(line.dropLast(Account.recordingsRootHint.count))
            + "; an operator may allow a wider folder with --recordings-root"
    }
    return line
}
