import CSpanDSP
import Foundation
import Recordings
import TestSupport
import Testing

/// The example account, whose lobby (5145550100) runs "Front door" (code 9876#) on 1; 5145550122 sends
/// its DTMF in-band; 5145550133 rings 2 s before answering.
private let account = testAudioPath("../Examples/account.json")

/// The digits baresip reported receiving as RFC 4733 events (CALL_DTMF_START), in order.
private func receivedDigits(_ phone: Baresip) -> String {
    phone.events("CALL_DTMF_START").compactMap { $0["param"] as? String }.joined()
}

/// Dials `number` from baresip, presses `press` (RFC 4733) once the call is up, and waits for the server to
/// hang up.
private func call(_ number: String, on server: ServeProcess, from phone: Baresip, press: String?) throws {
    phone.command("dial", "sip:\(number)@127.0.0.1:\(server.port)")
    guard phone.waitForEvent(seconds: 60, { $0["type"] as? String == "CALL_ESTABLISHED" }) != nil else {
        throw LivePeerError(
            "the call was not established: \(phone.events.map { $0["type"] ?? "" }) \(server.log.suffix(5))")
    }
    if let press { phone.command("sndcode", press) }
    guard phone.waitForEvent(seconds: 90, { $0["type"] as? String == "CALL_CLOSED" }) != nil else {
        throw LivePeerError("the server did not end the call: \(server.log.suffix(8))")
    }
}

/// A capture of the loopback traffic on the server's RTP ports, read back by tshark's RTP analysis.
private final class RTPCapture {
    let file: String
    let process = Process()
    let output = LineCollector()

    init(ports: ClosedRange<Int>) throws {
        file = try temporaryDirectory().appendingPathComponent("rtp.pcapng").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        process.arguments = ["-i", "lo", "-f", "udp portrange \(ports.lowerBound)-\(ports.upperBound)", "-w", file]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        output.attach(err)
        try process.run()
        guard output.wait(seconds: 30, for: { $0.contains("Capturing on") }) != nil else {
            process.terminate()
            throw LivePeerError("tshark did not start capturing: \(output.all)")
        }
    }

    /// Stops the capture and returns tshark's `rtp,streams` rows: (source port, lost, max delta ms, problem).
    func streams() throws -> [(sourcePort: Int, lost: Int, maxDelta: Double, problem: Bool)] {
        // SIGTERM (a child of the test runner may have SIGINT ignored); tshark then writes out and exits.
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let result = try CommandRunner.tool(
            "tshark", ["-r", file, "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams"])
        // Start End SrcIP SrcPort DstIP DstPort SSRC Payload... Pkts Lost(n (p%)) MinDelta MeanDelta MaxDelta ... Problem?
        var rows: [(Int, Int, Double, Bool)] = []
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count > 12, fields[2].hasPrefix("127."), let source = Int(fields[3]),
                let lostIndex = fields.firstIndex(where: { $0.hasPrefix("(") && $0.hasSuffix("%)") }),
                lostIndex >= 1, let lost = Int(fields[lostIndex - 1]), lostIndex + 3 < fields.count,
                let maxDelta = Double(fields[lostIndex + 3])
            else { continue }
            rows.append((source, lost, maxDelta, line.hasSuffix("X")))
        }
        return rows
    }

    /// The capture times (seconds since the epoch, the kernel's stamps) of the RTP packets sent from `ports`.
    func packetTimes(sourcePorts ports: ClosedRange<Int>) throws -> [Double] {
        let result = try CommandRunner.tool(
            "tshark",
            [
                "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp",
                "-T", "fields", "-e", "frame.time_epoch", "-e", "udp.srcport",
            ])
        return result.stdout.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t")
            guard fields.count == 2, let port = Int(fields[1]), ports.contains(port) else { return nil }
            return Double(fields[0])
        }
    }
}

@Suite("callseq serve: live calls from baresip", .serialized)
struct ServeBaresipTests {
    @Test func baresipPressesOneAndReceivesTheDoorCodeAsTelephoneEvents() throws {
        // The pacing is measured: run the media thread as an operator would on a busy host (SCHED_FIFO; where
        // the system refuses it, the server says so and runs normally), since the rest of the suite runs beside it.
        let server = try ServeProcess(accounts: [account], extra: ["--realtime-priority", "50"])
        let capture = try RTPCapture(ports: server.rtpPorts)
        let probe = MachineStallProbe(priority: 50)
        defer { probe.finish() }  // also when the call throws: the probe's SCHED_FIFO thread must not outlive the test
        let phone = try Baresip()
        defer { phone.stop() }
        try call("5145550100", on: server, from: phone, press: "1")
        let stalls = probe.finish()
        // The door code reached baresip as RFC 4733 events, each digit once, and the server hung up.
        #expect(receivedDigits(phone) == "9876#", "\(phone.events.map { ($0["type"] ?? "", $0["param"] ?? "") })")
        #expect(server.stderr.wait(seconds: 10) { $0.contains("caller pressed 1") } != nil, "\(server.log)")
        #expect(server.log.contains { $0.contains("sent BYE") || $0.contains("call ended") })
        // tshark's independent RTP analysis of our stream: no loss or sequence error, 20 ms packets at most
        // 25 ms apart — except where the machine itself stopped for the excess (MachineStallProbe: a virtual
        // machine paused by its host delays every thread, and no sender can help it).
        let ours = try capture.streams().filter { server.rtpPorts.contains($0.sourcePort) }
        #expect(ours.count == 1, "\(ours)")
        for stream in ours {
            #expect(stream.lost == 0 && !stream.problem, "\(stream)")
        }
        let times = try capture.packetTimes(sourcePorts: server.rtpPorts)
        #expect(times.count >= 250, "\(times.count) packets from us")
        let unexplained = MachineStallProbe.unexplainedGaps(packetTimes: times, limitMs: 25, stalls: stalls)
        let hostStalls = stalls.filter { $0.lateMs > 5 }.map { String(format: "%.1f", $0.lateMs) }
        let scheduler = probe.realtime ? "SCHED_FIFO" : "normal"
        #expect(
            unexplained.isEmpty,
            """
            gaps over 25 ms with the machine running: \(unexplained.map { String(format: "%.1f ms", $0.gapMs) }); \
            tshark max delta \(ours.map(\.maxDelta)); machine stalls over 5 ms (\(scheduler) probe): \(hostStalls)
            """)
        #expect(server.stop() == 0)
    }

    /// A microphone for baresip: `before` seconds of `speech` (or silence), a 200 ms '1' tone, `after` seconds of
    /// speech (or silence), then 40 s of silence.
    private func microphone(speech: Bool) throws -> String {
        let dir = try temporaryDirectory()
        let talk = testAudioPath("speech/talkoff-8k-ulaw.wav")
        let tone = dir.appendingPathComponent("one.wav").path
        let before = dir.appendingPathComponent("before.wav").path
        let after = dir.appendingPathComponent("after.wav").path
        let result = dir.appendingPathComponent("caller.wav").path
        #expect(try CommandRunner.callseq("dtmf", "1", "--tone-ms", "200", "-o", tone).status == 0)
        let pcm16 = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
        if speech {
            #expect(try CommandRunner.tool("sox", [talk] + pcm16 + [before, "trim", "0", "1.5"]).status == 0)
            #expect(try CommandRunner.tool("sox", [talk] + pcm16 + [after, "trim", "20", "1.5"]).status == 0)
        } else {
            #expect(try CommandRunner.tool("sox", ["-n"] + pcm16 + [before, "trim", "0", "1.5"]).status == 0)
            #expect(try CommandRunner.tool("sox", ["-n"] + pcm16 + [after, "trim", "0", "0.5"]).status == 0)
        }
        let mixed = try CommandRunner.tool("sox", [before, tone, after] + pcm16 + [result, "pad", "0", "40"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        return result
    }

    /// The in-band DID (`"dtmf": "inband"`) answers without telephone-event, so the caller's phone presses in
    /// its audio; the server hears the tone and plays the door code as tones, which spandsp decodes from what
    /// baresip recorded.
    @Test func anInbandDIDHearsTheCallersToneAndPlaysTheCodeThatSpandspDecodes() throws {
        let server = try ServeProcess(accounts: [account])
        let phone = try Baresip(source: try microphone(speech: false))
        defer { phone.stop() }
        try call("514-555-0122", on: server, from: phone, press: nil)
        #expect(server.log.contains { $0.contains("caller pressed 1") }, "\(server.log)")
        #expect(receivedDigits(phone) == "", "an in-band DID sends no telephone-events")
        phone.stop()
        let recording = try #require(phone.receivedAudioPath(), "baresip wrote no recording")
        let audio = try AudioFile.read(recording)
        #expect(spandspReceive(audio.samples.map { Int16($0) }) == "9876#")
        #expect(server.stop() == 0)
    }

    @Test func anInbandOneInsideTheCallersSpeechChoosesTheDoor() throws {
        // The caller's microphone: speech, a '1' tone in it, more speech, then silence.
        let server = try ServeProcess(accounts: [account])
        let phone = try Baresip(source: try microphone(speech: true))
        defer { phone.stop() }
        try call("514-555-0122", on: server, from: phone, press: nil)
        #expect(server.log.contains { $0.contains("caller pressed 1") }, "\(server.log)")
        #expect(server.log.filter { $0.contains("caller pressed") }.count == 1, "\(server.log)")
        phone.stop()
        let recording = try #require(phone.receivedAudioPath(), "baresip wrote no recording")
        #expect(spandspReceive(try AudioFile.read(recording).samples.map { Int16($0) }) == "9876#")
        #expect(server.stop() == 0)
    }
}

@Suite("callseq serve: SIP edge cases with SIPp")
struct ServeSIPpTests {
    @Test func optionsIsAnsweredWithAllow() throws {
        let server = try ServeProcess(accounts: [account])
        let result = try runSIPp("options.xml", service: "5145550100", port: server.port)
        #expect(result.status == 0, "\(result.stdout.suffix(400)) \(result.stderr.suffix(400))")
        #expect(server.stop() == 0)
    }

    @Test func cancelBeforeTheAnswerGets487() throws {
        let server = try ServeProcess(accounts: [account])
        let result = try runSIPp("cancel.xml", service: "5145550133", port: server.port)
        #expect(result.status == 0, "\(result.stdout.suffix(400)) \(result.stderr.suffix(400))")
        #expect(server.stop() == 0)
    }

    @Test func anOfferWithOnlyG729Gets488() throws {
        let server = try ServeProcess(accounts: [account])
        let result = try runSIPp("g729-only.xml", service: "5145550100", port: server.port)
        #expect(result.status == 0, "\(result.stdout.suffix(400)) \(result.stderr.suffix(400))")
        #expect(server.stop() == 0)
    }

    @Test func byeForAnUnknownDialogGets481() throws {
        let server = try ServeProcess(accounts: [account])
        let result = try runSIPp("bye-unknown.xml", service: "5145550100", port: server.port)
        #expect(result.status == 0, "\(result.stdout.suffix(400)) \(result.stderr.suffix(400))")
        #expect(server.stop() == 0)
    }

    @Test func unknownNumbersGet404AndHangupRoutes603() throws {
        let server = try ServeProcess(accounts: [account])
        let notFound = try runSIPp("not-found.xml", service: "5145550199", port: server.port)
        #expect(notFound.status == 0, "\(notFound.stdout.suffix(400)) \(notFound.stderr.suffix(400))")
        let declined = try runSIPp("declined.xml", service: "(514)555-0111", port: server.port)
        #expect(declined.status == 0, "\(declined.stdout.suffix(400)) \(declined.stderr.suffix(400))")
        #expect(server.stop() == 0)
    }

    @Test func aTwoHundredWithoutAckIsRetransmittedThenTheCallIsEndedWithBye() throws {
        let server = try ServeProcess(accounts: [account])
        let started = Date()
        let result = try runSIPp("no-ack.xml", service: "5145550100", port: server.port)
        #expect(result.status == 0, "\(result.stdout.suffix(400)) \(result.stderr.suffix(400))")
        // 64·T1 = 32 s after the first 200 (RFC 3261 §13.3.1.4).
        #expect(Date().timeIntervalSince(started) >= 31)
        #expect(server.stop() == 0)
    }

    @Test func garbageDatagramsDisturbNothing() throws {
        let server = try ServeProcess(accounts: [account])
        var generator = SystemRandomNumberGenerator()
        sendDatagram(Array("hello\r\n\r\n".utf8), toPort: server.port)
        sendDatagram(Array("INVITE sip:5145550100@127.0.0.1 SIP/2.0\r\n\r\n".utf8), toPort: server.port)
        sendDatagram((0..<1400).map { _ in UInt8.random(in: 0...255, using: &generator) }, toPort: server.port)
        sendDatagram([UInt8](repeating: 0x41, count: 60_000), toPort: server.port)
        sendDatagram(
            Array(
                "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nContent-Length: 99999\r\n\r\n"
                    .utf8),
            toPort: server.port)
        let result = try runSIPp("options.xml", service: "5145550100", port: server.port)
        #expect(result.status == 0, "\(result.stdout.suffix(400)) \(result.stderr.suffix(400))")
        #expect(server.stop() == 0)
    }

    @Test func pcmuOnADynamicPayloadTypeIsAnsweredOnItAndTheCallRuns() throws {
        let server = try ServeProcess(accounts: [account])
        // The rtpmap decides (a=rtpmap:97 PCMU/8000); the escaped user part %2B1... is decoded (RFC 3261
        // §19.1.4) and still finds the DID.
        for service in ["5145550100", "%2B15145550100"] {
            let result = try runSIPp("dynamic-pt.xml", service: service, port: server.port)
            #expect(result.status == 0, "\(service): \(result.stdout.suffix(600)) \(result.stderr.suffix(400))")
        }
        #expect(
            server.stderr.wait(seconds: 30, count: 2) { $0.contains("PCMU (payload type 97)") } == 2,
            "\(server.log.suffix(10))")
        #expect(server.stderr.wait(seconds: 30, count: 2) { $0.contains("media started") } == 2)
        #expect(server.stderr.wait(seconds: 30, count: 2) { $0.contains("the caller hung up (BYE)") } == 2)
        #expect(!server.log.contains { $0.contains("media did not start") })
        #expect(server.stop() == 0)
    }

    @Test func aHundredCallsAtOnceAreAllAnsweredAndEnded() throws {
        let server = try ServeProcess(accounts: [account])
        let result = try runSIPp(
            "call.xml", service: "5145550100", port: server.port,
            extra: ["-m", "100", "-l", "100", "-r", "100", "-d", "3000"])
        #expect(result.status == 0, "\(result.stdout.suffix(600)) \(result.stderr.suffix(400))")
        // Every call was confirmed by its ACK (media started) and ended by the caller's BYE.
        #expect(server.stderr.wait(seconds: 30, count: 100) { $0.contains("media started") } == 100)
        #expect(server.stderr.wait(seconds: 30, count: 100) { $0.contains("the caller hung up (BYE)") } == 100)
        #expect(server.stop() == 0)
    }
}

@Suite("callseq serve: signals")
struct ServeSignalTests {
    /// A copy of the example account in a folder of its own, with its recordings beside it.
    private func accountCopy() throws -> (file: URL, text: String) {
        let dir = try temporaryDirectory()
        let examples = URL(fileURLWithPath: testAudioPath("../Examples"))
        try FileManager.default.copyItem(
            at: examples.appendingPathComponent("recordings"),
            to: dir.appendingPathComponent("recordings"))
        let text = try String(contentsOf: examples.appendingPathComponent("account.json"), encoding: .utf8)
        let file = dir.appendingPathComponent("account.json")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return (file, text)
    }

    @Test func sighupReloadsTheAccountsAndRefusesAFileThatNoLongerValidates() throws {
        let (file, text) = try accountCopy()
        let server = try ServeProcess(accounts: [file.path])
        // Broken: refused, the old version kept (5145550100 still routes to its IVR: a G.729 offer gets 488, not 404).
        try text.replacingOccurrences(of: "\"timeoutSeconds\": 5", with: "\"timeoutSeconds\": 0")
            .write(to: file, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        let refused = server.stderr.wait(seconds: 30) { $0.contains("reload refused") }
        #expect(refused?.contains("ivrs[0].timeoutSeconds: 0 s is out of range (1...60 s)") == true, "\(server.log)")
        let kept = try runSIPp("g729-only.xml", service: "5145550100", port: server.port)
        #expect(kept.status == 0, "\(kept.stdout.suffix(300))")
        // Fixed, with a new number that hangs up: the reload takes it (603).
        try text.replacingOccurrences(
            of: "\"dids\": [", with: "\"dids\": [\n    { \"number\": \"5145550177\", \"route\": { \"hangup\": true } },"
        )
        .write(to: file, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(server.stderr.wait(seconds: 30, count: 2) { $0.contains("accounts reloaded") } == 2, "\(server.log)")
        let declined = try runSIPp("declined.xml", service: "5145550177", port: server.port)
        #expect(declined.status == 0, "\(declined.stdout.suffix(300))")
        #expect(server.stop() == 0)
    }

    /// With `--drain-timeout 0`, SIGTERM ends the calls in progress with BYE at once (the default lets them
    /// finish first: ServeDrainTests).
    @Test func sigtermEndsCallsInProgressWithByeAndExitsZero() throws {
        let server = try ServeProcess(accounts: [account], extra: ["--drain-timeout", "0"])
        let phone = try Baresip()
        defer { phone.stop() }
        phone.command("dial", "sip:5145550100@127.0.0.1:\(server.port)")
        #expect(phone.waitForEvent(seconds: 60) { $0["type"] as? String == "CALL_ESTABLISHED" } != nil)
        #expect(server.stderr.wait(seconds: 30) { $0.contains("media started") } != nil)
        kill(server.process.processIdentifier, SIGTERM)
        // The call ends from our side (BYE) and the server exits 0.
        #expect(phone.waitForEvent(seconds: 30) { $0["type"] as? String == "CALL_CLOSED" } != nil)
        #expect(server.stop(seconds: 30) == 0)
        #expect(server.log.contains { $0.contains("the server is shutting down: sending BYE") })
        #expect(server.log.contains { $0.contains("media: ") && $0.contains("RTP packets sent") })
    }
}
