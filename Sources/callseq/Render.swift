import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import RTP
import Recordings
import SMSGateway
import TelephonyDSP

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

    @Option(
        help: ArgumentHelp(
            "The account the sequence belongs to: its SMS steps must send from its SMS-enabled "
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
        let result = Render.play(program, sending: dispatcher != nil)
        try runtime {
            switch outputFormat.encoding {
            case .pcm16:
                try AudioFile.write(result.pcm, sampleRate: program.format.sampleRate, to: output, format: outputFormat)
            case .ulaw, .alaw:
                try AudioFile.write(
                    g711: result.bytes, sampleRate: program.format.sampleRate, to: output, format: outputFormat)
            }
        }
        for line in result.log { print(line) }
        print(
            "\(output): \(seconds(program.totalSamples, program.format.sampleRate)) s, \(program.format.sampleRate) Hz, "
                + "\(outputFormat.encoding.rawValue) \(outputFormat.container.rawValue), \(program.digits.count) digits, dtmf \(program.format.dtmfOutput.rawValue)"
        )
        if let dispatcher {
            // Without --account, each text counts against its sending number.
            let perSender =
                account == nil
                ? { (text: SMSStep) in
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
        var problems: [String] = []
        for (i, text) in texts {
            switch loaded.smsSenderProblem(text) {
            case .cannotSendSMS?:
                problems.append(
                    "\(sequence): steps[\(i)]: "
                        + SMSSenderProblem.cannotSendSMS.message(account: "the account \(account)"))
            case let problem?:
                problems.append("\(sequence): steps[\(i)].from: " + problem.message(account: "the account \(account)"))
            case nil:
                break
            }
        }
        if !problems.isEmpty { throw ProblemListError(lines: problems) }
        return smsAccount(file: account, limit: loaded.capabilities.smsDailyLimit)
    }

    struct Played {
        var pcm: [Int16] = []
        var bytes: [UInt8] = []
        var log: [String] = []
        var requests: [SMSStep] = []
    }

    /// Plays the program in 20 ms frames, as a media server would.
    static func play(_ program: CompiledSequence, sending: Bool = false) -> Played {
        let rate = program.format.sampleRate
        let frame = rate / 50
        let player = program.makePlayer()
        var played = Played()
        let eventPayloadType: UInt8 = 101
        // The packets `serve` would send (RTPSender is the one writer of RFC 4733 packets), counted.
        var sender = RTPSender(
            audioPayloadType: 0, eventPayloadType: eventPayloadType, ssrc: 0,
            firstSequenceNumber: 0, timestampBase: 0)
        var packet = [UInt8](repeating: 0, count: RTPHeader.fixedSize + TelephoneEvent.size)
        var packets = 0
        var digitsSent = 0
        func count(_ bytes: UnsafeRawBufferPointer) {
            if bytes.count > 1, bytes[1] & 0x7F == eventPayloadType { packets += 1 }
        }
        var pcmFrame = [Int16](repeating: 0, count: frame)
        var byteFrame = [UInt8](repeating: 0, count: frame)
        func handle(_ event: PlayerEvent) {
            let at = seconds(event.sample, rate)
            switch event.kind {
            case .stepStarted(let i):
                played.log.append("\(at) s: step \(i + 1) started (\(program.sequence.steps[i].typeName))")
            case .stepFinished(let i): played.log.append("\(at) s: step \(i + 1) finished")
            case .smsRequested(let i):
                if let sms = program.smsRequest(step: i) {
                    played.requests.append(sms)
                    played.log.append(
                        "\(at) s: \(sending ? "sending" : "would send") SMS from \(sms.from) to \(sms.to): \"\(sms.message)\""
                            + (sending ? "" : " (dry run)"))
                }
            case .telephoneEvent(let state):
                let update = TelephoneEventUpdate(state, reportedAt: event.sample)
                packet.withUnsafeMutableBytes { sender.sendTelephoneEvent(update, into: $0, count) }
                if state.ended { digitsSent += 1 }
            case .finished: played.log.append("\(at) s: finished")
            }
        }
        // One interval per frame; two more after the end for the last final packet's retransmissions.
        var after = 2
        while !player.isFinished || after > 0 {
            var n = 0
            if player.isFinished {
                after -= 1
            } else if program.format.encoding == .pcm16 {
                n = pcmFrame.withUnsafeMutableBufferPointer { player.render(into: $0, handle) }
                played.pcm.append(contentsOf: pcmFrame.prefix(n))
            } else {
                n = byteFrame.withUnsafeMutableBufferPointer { player.render(into: $0, handle) }
                played.bytes.append(contentsOf: byteFrame.prefix(n))
            }
            packet.withUnsafeMutableBytes { sender.finishInterval(audio: nil, samples: n, into: $0, count) }
        }
        if program.format.dtmfOutput != .inband {
            played.log.append(
                "rfc4733: \(packets) telephone-event packets for \(digitsSent) digits"
                    + " (20 ms updates, each final packet sent 3 times 20 ms apart)")
        }
        return played
    }
}
