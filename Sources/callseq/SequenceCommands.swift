import ArgumentParser
import CallSequence
import Foundation
import Recordings
import SMSGateway
import TelephonyDSP

extension DTMFMode: ExpressibleByArgument {}

/// The call's format: rate, encoding and DTMF mode (render, timeline, verify, ivr).
struct CallFormatOptions: ParsableArguments {
    @Option(help: "Sample rate of the call in Hz (8000...48000).")
    var rate: Int = 8000

    @Option(help: "Encoding of the call: pcm16, ulaw or alaw.")
    var encoding: SampleEncoding?

    @Option(name: .customLong("dtmf-mode"), help: "How DTMF is sent: inband, rfc4733 (silent audio, telephone-events) or both.")
    var dtmfMode: DTMFMode = .inband

    func validate() throws {
        guard (8000...48000).contains(rate) else { throw ValidationError("--rate \(rate) is not supported (8000...48000 Hz)") }
    }

    func format(encoding fallback: SampleEncoding = .pcm16) -> CallFormat {
        CallFormat(sampleRate: rate, encoding: encoding ?? fallback, dtmfMode: dtmfMode)
    }
}

/// Options shared by the commands that compile a sequence.
struct SequenceOptions: ParsableArguments {
    @Option(help: "Folder of the account's recordings (default: 'recordings' beside the sequence file, if any).")
    var recordings: String?

    @OptionGroup var call: CallFormatOptions

    var encoding: SampleEncoding? { call.encoding }

    /// The library: --recordings, or a 'recordings' folder beside the sequence, or none.
    func library(beside file: String) throws -> RecordingLibrary {
        if let recordings { return try RecordingLibrary(directory: recordings) }
        let beside = ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent("recordings")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: beside, isDirectory: &isDirectory), isDirectory.boolValue {
            return try RecordingLibrary(directory: beside)
        }
        return .empty
    }

    func format(encoding fallback: SampleEncoding = .pcm16) -> CallFormat { call.format(encoding: fallback) }
}

/// Reads and validates a sequence file, then compiles it.
///
/// `schedulesOnly` (timeline, validate) leaves the DTMF audio out: only places and durations are computed.
func loadSequence(_ file: String, options: SequenceOptions, encoding: SampleEncoding = .pcm16,
                  schedulesOnly: Bool = false) throws -> CompiledSequence {
    let text: String
    do {
        let bytes = try FileSystem.contents(of: file, limit: Account.maximumFileBytes)
        guard let utf8 = String(validating: bytes, as: UTF8.self) else {
            throw RuntimeFailure("\(file): not readable as UTF-8 text")
        }
        text = utf8
    } catch let error as FileSystem.ReadFailure {
        throw RuntimeFailure("\(file): \(error)")
    }
    let library = try runtime { try options.library(beside: file) }
    let sequence: CallSequence
    do {
        sequence = try CallSequence.parse(text, source: file, recordings: library)
    } catch {
        throw ProblemList(lines: error.problems.map { "\(file): \($0)" })
    }
    let cache = RecordingCache(library: library)
    do {
        return try quietly {
            try CompiledSequence(sequence, format: options.format(encoding: encoding), recordings: cache,
                                 schedulesOnly: schedulesOnly)
        }
    } catch {
        throw RuntimeFailure("\(file): \(error)")
    }
}

/// Several problems, one line each, on stderr; exit 1.
struct ProblemList: Error {
    let lines: [String]
}

func seconds(_ samples: Int, _ rate: Int) -> String { String(format: "%.3f", Double(samples) / Double(rate)) }

/// Prints the cue sheet of a compiled sequence.
func printCueSheet(_ program: CompiledSequence) {
    let rate = program.format.sampleRate
    print("\"\(program.sequence.name)\": \(program.sequence.steps.count) steps, \(seconds(program.totalSamples, rate)) s, "
        + "\(rate) Hz \(program.format.encoding.rawValue), dtmf \(program.format.dtmfMode.rawValue)")
    print("step   start s    end s      what")
    for cue in program.cueSheet {
        let label = cue.digit.map { "  \(cue.step + 1).\($0 + 1)" } ?? "\(cue.step + 1)"
        print(label.padding(toLength: 7, withPad: " ", startingAt: 0)
            + seconds(cue.startSample, rate).padding(toLength: 11, withPad: " ", startingAt: 0)
            + seconds(cue.endSample, rate).padding(toLength: 11, withPad: " ", startingAt: 0) + cue.text)
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a sequence to an audio file, as a call would hear it, through the real-time player.",
        discussion: """
            The player renders 20 ms frames. SMS steps are a dry run ('would send ...') unless --send-sms is \
            given; then each is sent through the provider and its delivery report printed. In rfc4733 and both \
            modes the RFC 4733 telephone-event packets are counted and summarised. The output format follows \
            OUT's extension (.wav, .raw, .ul, .al); --encoding sets the call's encoding.
            """
    )

    @Argument(help: "The sequence file (JSON).")
    var sequence: String

    @Option(name: .shortAndLong, help: "Output file (.wav, .raw, .ul, .al).")
    var output: String

    @OptionGroup var options: SequenceOptions

    @OptionGroup var sms: SMSOptions

    @Option(help: ArgumentHelp("The account the sequence belongs to: its SMS steps must send from its SMS-enabled "
        + "numbers, and its daily limit applies (default: texts count per sending number, 100 a day)."))
    var account: String?

    func validate() throws {
        try validateOutput(output, encoding: options.encoding)
        try sms.check()
    }

    func run() throws {
        let outputFormat = try runtime { try AudioOutputFormat(path: output, encoding: options.encoding) }
        let program = try loadSequence(sequence, options: options, encoding: outputFormat.encoding)
        let smsAccount = try checkAccount(program)
        let dispatcher = try sms.makeDispatcher(account: smsAccount)
        let result = play(program, sending: dispatcher != nil)
        try runtime {
            switch outputFormat.encoding {
            case .pcm16: try AudioFile.write(result.pcm, sampleRate: program.format.sampleRate, to: output, format: outputFormat)
            case .ulaw, .alaw: try AudioFile.write(g711: result.bytes, sampleRate: program.format.sampleRate, to: output, format: outputFormat)
            }
        }
        for line in result.log { print(line) }
        print("\(output): \(seconds(program.totalSamples, program.format.sampleRate)) s, \(program.format.sampleRate) Hz, "
            + "\(outputFormat.encoding.rawValue) \(outputFormat.container.rawValue), \(program.digits.count) digits, dtmf \(program.format.dtmfMode.rawValue)")
        if let dispatcher {
            // Without --account, each text counts against its sending number.
            let perSender = account == nil ? { (text: SMSStep) in
                SMSAccount(key: "number:\(text.from.digits)", dailyLimit: Account.Capabilities().smsDailyLimit)
            } : nil
            try sms.send(result.requests, with: dispatcher, accountFor: perSender)
        }
    }

    /// With --account: the sequence's SMS steps must be allowed by it and send from its SMS-enabled numbers;
    /// the texts count against it. Without: against the sending number, at the provider's default 100 a day.
    func checkAccount(_ program: CompiledSequence) throws -> SMSAccount {
        let texts = program.sequence.steps.enumerated().compactMap { i, step -> (Int, SMSStep)? in
            if case .sms(let sms) = step { return (i, sms) } else { return nil }
        }
        guard let account else {
            // Each text counts against its own sending number (see run()); this one is never used.
            return SMSAccount(key: "number:", dailyLimit: Account.Capabilities().smsDailyLimit)
        }
        let (loaded, _) = try loadAccount(account)
        let enabled = Set(loaded.dids.filter(\.sms).map(\.number))
        var problems: [String] = []
        for (i, text) in texts {
            if !loaded.capabilities.sms {
                problems.append("\(sequence): steps[\(i)]: the account \(account) cannot send SMS (a reseller's client account)")
            } else if !enabled.contains(text.from) {
                problems.append("\(sequence): steps[\(i)].from: \(text.from) is not an SMS-enabled number of the account \(account)"
                    + (enabled.isEmpty ? " (it has none)" : " (SMS-enabled: \(enabled.sorted().map(\.digits).joined(separator: ", ")))"))
            }
        }
        if !problems.isEmpty { throw ProblemList(lines: problems) }
        return smsAccount(file: account, limit: loaded.capabilities.smsDailyLimit)
    }

    struct Played {
        var pcm: [Int16] = []
        var bytes: [UInt8] = []
        var log: [String] = []
        var requests: [SMSStep] = []
    }

    /// Plays the program in 20 ms frames, as a media server would.
    func play(_ program: CompiledSequence, sending: Bool = false) -> Played {
        let rate = program.format.sampleRate
        let frame = rate / 50
        let player = program.makePlayer()
        var played = Played()
        var sender = TelephoneEventSender()
        var packets = 0, digitsSent = 0
        var pcmFrame = [Int16](repeating: 0, count: frame)
        var byteFrame = [UInt8](repeating: 0, count: frame)
        func handle(_ event: PlayerEvent) {
            let at = seconds(event.sample, rate)
            switch event.kind {
            case .stepStarted(let i): played.log.append("\(at) s: step \(i + 1) started (\(program.sequence.steps[i].typeName))")
            case .stepFinished(let i): played.log.append("\(at) s: step \(i + 1) finished")
            case .smsRequested(let i):
                if let sms = program.smsRequest(step: i) {
                    played.requests.append(sms)
                    played.log.append("\(at) s: \(sending ? "sending" : "would send") SMS from \(sms.from) to \(sms.to): \"\(sms.message)\""
                        + (sending ? "" : " (dry run)"))
                }
            case .telephoneEvent(let state):
                sender.update(state) { _ in packets += 1 }
                if state.ended { digitsSent += 1 }
            case .finished: played.log.append("\(at) s: finished")
            }
        }
        while !player.isFinished {
            if program.format.encoding == .pcm16 {
                let n = pcmFrame.withUnsafeMutableBufferPointer { player.render(into: $0, handle) }
                played.pcm.append(contentsOf: pcmFrame.prefix(n))
            } else {
                let n = byteFrame.withUnsafeMutableBufferPointer { player.render(into: $0, handle) }
                played.bytes.append(contentsOf: byteFrame.prefix(n))
            }
        }
        if program.format.dtmfMode != .inband {
            played.log.append("rfc4733: \(packets) telephone-event packets for \(digitsSent) digits (20 ms updates, final packet x3)")
        }
        return played
    }
}

struct Timeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a sequence's cue sheet: every step and every digit with its exact start and end."
    )

    @Argument(help: "The sequence file (JSON).")
    var sequence: String

    @OptionGroup var options: SequenceOptions

    func run() throws {
        printCueSheet(try loadSequence(sequence, options: options, schedulesOnly: true))
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a sequence or account file: exit 0 if valid, otherwise print every problem with its JSON path and exit 1.",
        discussion: """
            A file with "dids", "ivrs" or "capabilities" at the top is an account: its routes, IVR options, \
            recordings and SMS steps are cross-checked. Otherwise it is a sequence, whose recording names are \
            checked against --recordings (or the 'recordings' folder beside the file).
            """
    )

    @Argument(help: "The sequence file (JSON).")
    var file: String

    @Option(help: "Folder of the account's recordings.")
    var recordings: String?

    @Option(name: .customLong("recordings-root"),
            help: "A folder an account's recordings folder may be in, besides the account file's own folder.")
    var recordingsRoot: String?

    func run() throws {
        if let text = try? String(contentsOfFile: file, encoding: .utf8), let json = try? JSONValue.parse(text),
           ["dids", "ivrs", "capabilities"].contains(where: { json[$0] != nil }) {
            let (account, library) = try loadAccount(file, recordingsRoot: recordingsRoot)
            try decodeRecordings(of: account, library: library)
            print("\(file): valid account, \(account.dids.count) numbers, \(account.ivrs.count) IVRs, \(account.sequences.count) sequences")
            for (i, sequence) in account.sequences.enumerated() { printTexts(sequence, path: "sequences[\(i)].") }
            return
        }
        let options = try SequenceOptions.parse(recordings.map { ["--recordings", $0] } ?? [])
        let program = try loadSequence(file, options: options, schedulesOnly: true)
        print("\(file): valid sequence \"\(program.sequence.name)\", \(program.sequence.steps.count) steps, "
            + "\(seconds(program.totalSamples, program.format.sampleRate)) s")
        printTexts(program.sequence, path: "")
    }

    /// Decodes every recording the account names, prompts included, within the limits playing applies,
    /// so that a prompt of random bytes is found now and not on the first call.
    func decodeRecordings(of account: Account, library: RecordingLibrary) throws {
        let cache = RecordingCache(library: library)
        var uses: [(path: String, choice: RecordingChoice)] = account.ivrs.enumerated().map { ("ivrs[\($0)].prompt", $1.prompt) }
        for (i, sequence) in account.sequences.enumerated() {
            for (j, step) in sequence.steps.enumerated() {
                if case .recording(let r) = step { uses.append(("sequences[\(i)].steps[\(j)].recording", r.recording)) }
            }
        }
        var lines: [String] = []
        for (path, choice) in uses {
            do {
                _ = try quietly { try cache.recording(choice, sampleRate: 8000, encoding: .pcm16) }
            } catch {
                lines.append("\(file): \(path): \(error)")
            }
        }
        if !lines.isEmpty { throw ProblemList(lines: lines) }
    }

    /// One line per SMS step: the encoding and units the network will count (3GPP TS 23.038).
    func printTexts(_ sequence: CallSequence, path: String) {
        for (i, step) in sequence.steps.enumerated() {
            guard case .sms(let text) = step else { continue }
            let length = text.length
            print("  \(path)steps[\(i)]: SMS from \(text.from) to \(text.to), \(length.encoding), "
                + "\(length.units) of \(length.capacity) \(length.encoding == .gsm7 ? "septets" : "UCS-2 units"), 1 SMS")
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that AUDIO carries the sequence's digits, in order, with its timing.",
        discussion: """
            AUDIO is decoded with the DTMF receiver. The first digit sets the audio's offset (a capture may start \
            late); every digit's start and end must then be within --tolerance-ms of the sequence's. Exit 0 on \
            pass, 1 on failure. --plot OUT.png also draws the expected digits (shifted by that offset) against \
            the ones found and the candidates refused, over the audio's waveform and spectrogram (see `plot`).
            """
    )

    @Argument(help: "The sequence file (JSON).")
    var sequence: String

    @Argument(help: "The audio to check (any format libsndfile reads).")
    var audio: String

    @Option(name: .customLong("tolerance-ms"), help: "Allowed error on each digit's start and end, in ms.")
    var toleranceMs: Double = 20

    @Option(help: "Also draw the expected timeline against what was found, as a PNG (see `callseq plot`).")
    var plot: String?

    @OptionGroup var options: SequenceOptions

    func validate() throws {
        if let plot, !plot.lowercased().hasSuffix(".png") { throw ValidationError("--plot \(plot): must end in .png") }
        guard toleranceMs > 0 && toleranceMs <= 1000 else { throw ValidationError("--tolerance-ms \(toleranceMs) is out of range (0...1000)") }
    }

    func run() throws {
        let program = try loadSequence(sequence, options: options)
        let decoded = try runtime { try readForReceiver(audio) }
        let report = try runtime { () throws -> VerificationReport in
            try Verifier.verify(program, samples: decoded.samples, sampleRate: decoded.sampleRate,
                                tolerance: toleranceMs / 1000)
        }
        for line in report.lines { print(line) }
        if let plot { print(try drawPlot(plot, program: program, audio: decoded, report: report)) }
        if !report.passed { throw ExitCode(1) }
    }
}

extension Verify {
    /// The expected digits, moved by the offset the verifier measured, above the digits found in the audio.
    func drawPlot(_ path: String, program: CompiledSequence, audio: DecodedAudio,
                  report: VerificationReport) throws -> String {
        let rate = Double(program.format.sampleRate)
        let spans = program.digits.map { d in
            Plot.Span(lane: 0, start: Double(d.startSample) / rate + report.offset,
                      end: Double(d.endSample) / rate + report.offset,
                      label: String(d.digit.character), style: .expected)
        }
        let name = (audio: (self.audio as NSString).lastPathComponent,
                    sequence: (sequence as NSString).lastPathComponent)
        let (plot, summary) = try audioPlot(
            audio, title: "callseq verify: \(report.passed ? "PASS" : "FAIL") - \(name.audio) against \(name.sequence)",
            subtitle: "expected \"\(report.expected)\", found \"\(report.found)\", offset "
                + String(format: "%+.3f s", report.offset) + ", tolerance \(toleranceMs) ms; \(audio.sampleRate) Hz",
            lanes: ["expected"], spans: spans, notes: report.lines)
        return try writePlot(plot, width: 1600, to: path) + "\n" + summary
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render the bundled example (Examples/front-door.json) and verify it with the DTMF receiver."
    )

    @Option(help: "The examples folder.")
    var examples: String = "Examples"

    @Option(name: .shortAndLong, help: "Where to write the rendered call audio.")
    var output: String = "out/front-door.wav"

    func run() throws {
        let file = (examples as NSString).appendingPathComponent("front-door.json")
        let recordings = (examples as NSString).appendingPathComponent("recordings")
        let options = try SequenceOptions.parse(["--recordings", recordings])
        let program = try loadSequence(file, options: options)
        printCueSheet(program)
        print("")
        let directory = (output as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let render = try Render.parse([file, "-o", output, "--recordings", recordings])
        try render.validate()
        try render.run()
        print("")
        let verify = try Verify.parse([file, output, "--recordings", recordings])
        try verify.validate()
        try verify.run()
    }
}
