// Graceful shutdown of `callseq serve` (its ServiceGroup on SIGTERM), seen from a caller that holds the drain
// open: a plain UDP socket speaking SIP, which answers the server's BYE only when the test says so.

import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The example account, whose lobby (5145550100) plays its IVR.
private let account = testAudioPath("../Examples/account.json")

/// A SIP user agent on a UDP socket of 127.0.0.1 (an ephemeral port): sends what it is given, receives whole
/// datagrams as text.
private final class SIPSocket {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw LivePeerError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0 else {
            close(fd)
            throw LivePeerError("bind: \(errno)")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    func send(_ text: String, toPort port: Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The first datagram within `seconds` for which `predicate` holds (others are skipped), or nil.
    func receive(seconds: Double, where predicate: (SIPText) -> Bool) -> SIPText? {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = SIPText(String(decoding: buffer[..<count], as: UTF8.self))
            if predicate(message) { return message }
        }
        return nil
    }
}

/// A received SIP message: its start line and headers (compact forms not used by the server).
private struct SIPText {
    let text: String
    let startLine: String
    let headers: [(name: String, value: String)]

    init(_ text: String) {
        self.text = text
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        let lines = head.components(separatedBy: "\r\n")
        startLine = lines.first ?? ""
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    func values(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    func value(_ name: String) -> String? { values(name).first }

    /// The status code of a response.
    var status: Int? {
        guard startLine.hasPrefix("SIP/2.0 ") else { return nil }
        return Int(startLine.dropFirst(8).prefix(3))
    }
}

/// An INVITE to `number` from `socket` with a PCMU/telephone-event offer (RFC 3264 §5) for RTP port `rtpPort`.
private func invite(_ number: String, serverPort: Int, from socket: SIPSocket, callID: String, rtpPort: Int) -> String {
    let body = """
        v=0\r
        o=drain 1 1 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=audio \(rtpPort) RTP/AVP 0 101\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:101 telephone-event/8000\r
        a=fmtp:101 0-15\r

        """
    return """
        INVITE sip:\(number)@127.0.0.1:\(serverPort) SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.0.1:\(socket.port);branch=z9hG4bK\(callID)-1\r
        Max-Forwards: 70\r
        From: <sip:drain@127.0.0.1:\(socket.port)>;tag=\(callID)-tag\r
        To: <sip:\(number)@127.0.0.1:\(serverPort)>\r
        Call-ID: \(callID)\r
        CSeq: 1 INVITE\r
        Contact: <sip:drain@127.0.0.1:\(socket.port)>\r
        Content-Type: application/sdp\r
        Content-Length: \(body.utf8.count)\r
        \r
        \(body)
        """
}

/// An OPTIONS request from `socket` (as a dispatcher's probe, RFC 3261 §11).
private func options(serverPort: Int, from socket: SIPSocket, callID: String) -> String {
    """
    OPTIONS sip:127.0.0.1:\(serverPort) SIP/2.0\r
    Via: SIP/2.0/UDP 127.0.0.1:\(socket.port);branch=z9hG4bK\(callID)\r
    Max-Forwards: 70\r
    From: <sip:dispatcher@127.0.0.1:\(socket.port)>;tag=\(callID)-tag\r
    To: <sip:127.0.0.1:\(serverPort)>\r
    Call-ID: \(callID)\r
    CSeq: 1 OPTIONS\r
    Content-Length: 0\r
    \r

    """
}

/// Calls `number` from `caller` and acknowledges the 200: the dialog's To (with the server's tag) and the
/// server's Contact.
private func establish(
    _ number: String, server: ServeProcess, caller: SIPSocket, media: SIPSocket,
    callID: String
) throws -> (to: String, contact: String) {
    caller.send(
        invite(number, serverPort: server.port, from: caller, callID: callID, rtpPort: media.port),
        toPort: server.port)
    let ok = try #require(caller.receive(seconds: 30) { $0.status == 200 }, "no 200 OK: \(server.log.suffix(5))")
    let to = try #require(ok.value("To"))
    let contact = try #require(ok.value("Contact")?.trimmingCharacters(in: CharacterSet(charactersIn: "<>")))
    caller.send(
        """
        ACK \(contact) SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.0.1:\(caller.port);branch=z9hG4bK\(callID)-ack\r
        Max-Forwards: 70\r
        From: <sip:drain@127.0.0.1:\(caller.port)>;tag=\(callID)-tag\r
        To: \(to)\r
        Call-ID: \(callID)\r
        CSeq: 1 ACK\r
        Content-Length: 0\r
        \r

        """, toPort: server.port)
    return (to, contact)
}

/// GET `url`: the status and the body.
private func get(_ url: String) async throws -> (Int, String) {
    let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// The value of the sample `name` (its whole name with labels) in a Prometheus text.
private func sample(_ name: String, in text: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
        Double($0.split(separator: " ").last ?? "")
    }
}

extension ServeSignalTests {
    /// SIGTERM on a cluster node with a call up: OPTIONS (the dispatcher's probe) and new INVITEs get 503 with
    /// Retry-After at once, so the dispatcher takes the node out of rotation; the call in progress is NOT hung
    /// up (no BYE from the server while --drain-timeout runs); when the caller hangs up, the process exits 0
    /// at once.
    /// Its `/healthz` says `ready` (200), then `draining` (503); `/metrics` counts the call, active then ended.
    @Test func sigtermLetsCallsInProgressFinishWhileProbesAndNewCallsGet503() async throws {
        let server = try ServeProcess(
            accounts: [account], extra: ["--drain-timeout", "120", "--metrics", "127.0.0.1:0"])
        let metricsLine = try #require(server.stdout.all.first { $0.hasPrefix("listening on metrics ") })
        let base = "http://127.0.0.1:" + (metricsLine.split(separator: ":").last.map(String.init) ?? "0")
        #expect(try await get(base + "/healthz") == (200, "ready\n"))
        let caller = try SIPSocket()
        let media = try SIPSocket()
        let callID = "finish-\(UInt32.random(in: 0 ... .max))"
        // Before SIGTERM, a probe is answered 200.
        let probe = try SIPSocket()
        probe.send(options(serverPort: server.port, from: probe, callID: "probe-1-\(callID)"), toPort: server.port)
        #expect(probe.receive(seconds: 10) { $0.status != nil }?.status == 200)

        let (to, contact) = try establish("5145550100", server: server, caller: caller, media: media, callID: callID)
        #expect(server.stderr.wait(seconds: 30) { $0.contains("media started") } != nil, "\(server.log.suffix(5))")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.stderr.wait(seconds: 30) { $0.contains("draining: new calls and OPTIONS get 503") } != nil)
        #expect(try await get(base + "/healthz") == (503, "draining\n"))
        let (status, metrics) = try await get(base + "/metrics")
        #expect(status == 200)
        #expect(sample("callseq_calls_active", in: metrics) == 1, "\(metrics)")
        #expect(sample("callseq_draining", in: metrics) == 1, "\(metrics)")
        #expect(sample("callseq_config_version", in: metrics) == 1, "\(metrics)")
        #expect(metrics.contains("callseq_media_send_lateness_seconds_bucket{le=\"+Inf\"}"), "\(metrics)")

        probe.send(options(serverPort: server.port, from: probe, callID: "probe-2-\(callID)"), toPort: server.port)
        let refusedProbe = probe.receive(seconds: 10) { $0.status != nil }
        #expect(refusedProbe?.status == 503, "\(refusedProbe?.startLine ?? "no response to OPTIONS")")
        #expect(refusedProbe?.value("Retry-After").flatMap { Int($0.prefix { $0.isNumber }) } != nil)
        let late = try SIPSocket()
        late.send(
            invite(
                "5145550100", serverPort: server.port, from: late, callID: "late-\(callID)",
                rtpPort: media.port), toPort: server.port)
        #expect(late.receive(seconds: 10) { ($0.status ?? 0) >= 200 }?.status == 503)

        // The call goes on: no BYE from the server for 3 s, and the process is still up.
        #expect(caller.receive(seconds: 3) { $0.startLine.hasPrefix("BYE ") } == nil, "\(server.log.suffix(8))")
        #expect(server.process.isRunning)

        // The caller hangs up (§15.1.1): 200 to its BYE, then the drain ends on that event and serve exits 0.
        let hungUp = Date()
        caller.send(
            """
            BYE \(contact) SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(caller.port);branch=z9hG4bK\(callID)-bye\r
            Max-Forwards: 70\r
            From: <sip:drain@127.0.0.1:\(caller.port)>;tag=\(callID)-tag\r
            To: \(to)\r
            Call-ID: \(callID)\r
            CSeq: 2 BYE\r
            Content-Length: 0\r
            \r

            """, toPort: server.port)
        #expect(
            caller.receive(seconds: 10) { $0.status != nil && $0.value("CSeq")?.hasSuffix("BYE") == true }?
                .status == 200)

        let deadline = Date().addingTimeInterval(30)
        while server.process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!server.process.isRunning && server.process.terminationStatus == 0, "\(server.log.suffix(8))")
        let seconds = Date().timeIntervalSince(hungUp)
        print("serve exited \(String(format: "%.3f", seconds)) s after the last call's caller hung up")
        #expect(seconds < 10)
        #expect(server.log.contains { $0.contains("the caller hung up (BYE)") })
        #expect(!server.log.contains { $0.contains("the server is shutting down: sending BYE") })
    }

    /// SIGTERM with a call up and --drain-timeout 1: after that second the server sends BYE (and retransmits it while unanswered, RFC 3261 §17.1.2.2);
    /// meanwhile a new INVITE gets 503 with Retry-After (§21.5.4); the caller's 200 OK to the BYE ends the drain
    /// at once (an event, not the 5 s limit), and the process exits 0 with its media statistics logged.
    @Test func sigtermDrainsRefusesNewCallsWith503AndExitsOnceTheByeIsAnswered() throws {
        let server = try ServeProcess(accounts: [account], extra: ["--drain-timeout", "1"])
        let caller = try SIPSocket()
        let media = try SIPSocket()  // the caller's RTP port: bound, never read
        let callID = "drain-\(UInt32.random(in: 0 ... .max))"
        caller.send(
            invite("5145550100", serverPort: server.port, from: caller, callID: callID, rtpPort: media.port),
            toPort: server.port)
        let ok = try #require(caller.receive(seconds: 30) { $0.status == 200 }, "no 200 OK: \(server.log.suffix(5))")
        let to = try #require(ok.value("To"))
        let contact = try #require(ok.value("Contact")?.trimmingCharacters(in: CharacterSet(charactersIn: "<>")))
        caller.send(
            """
            ACK \(contact) SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(caller.port);branch=z9hG4bK\(callID)-ack\r
            Max-Forwards: 70\r
            From: <sip:drain@127.0.0.1:\(caller.port)>;tag=\(callID)-tag\r
            To: \(to)\r
            Call-ID: \(callID)\r
            CSeq: 1 ACK\r
            Content-Length: 0\r
            \r

            """, toPort: server.port)
        #expect(server.stderr.wait(seconds: 30) { $0.contains("media started") } != nil, "\(server.log.suffix(5))")

        kill(server.process.processIdentifier, SIGTERM)
        // The BYE comes, and comes again (Timer E) while we do not answer: the server is still draining.
        let bye = try #require(
            caller.receive(seconds: 30) { $0.startLine.hasPrefix("BYE ") },
            "no BYE: \(server.log.suffix(8))")
        #expect(bye.value("Call-ID") == callID)
        let again = caller.receive(seconds: 10) { $0.startLine.hasPrefix("BYE ") }
        #expect(again?.value("CSeq") == bye.value("CSeq"), "the BYE was not retransmitted")
        #expect(server.process.isRunning)

        // A new call during the drain: 503 Service Unavailable, with Retry-After.
        let late = try SIPSocket()
        let lateID = "late-\(callID)"
        late.send(
            invite("5145550100", serverPort: server.port, from: late, callID: lateID, rtpPort: media.port),
            toPort: server.port)
        let refused = late.receive(seconds: 10) { ($0.status ?? 0) >= 200 }
        #expect(refused?.status == 503, "\(refused?.startLine ?? "no final response")")
        #expect(
            refused?.value("Retry-After").flatMap { Int($0.prefix { $0.isNumber }) } != nil,
            "\(refused?.text ?? "")")
        #expect(server.process.isRunning, "the server stopped before the caller answered its BYE")

        // The caller answers the BYE (§15.1.2): the drain ends on that event and the process exits 0.
        let answered = Date()
        let copied = ["From", "To", "Call-ID", "CSeq"].compactMap { name in bye.value(name).map { "\(name): \($0)" } }
        let vias = bye.values("Via").map { "Via: \($0)" }
        let okToBye = ["SIP/2.0 200 OK"] + vias + copied + ["Content-Length: 0", "", ""]
        caller.send(okToBye.joined(separator: "\r\n"), toPort: server.port)
        let deadline = Date().addingTimeInterval(30)
        while server.process.isRunning && Date() < deadline { usleep(20_000) }
        let exitSeconds = Date().timeIntervalSince(answered)
        #expect(!server.process.isRunning && server.process.terminationStatus == 0, "\(server.log.suffix(8))")
        // The drain ended on the BYE's answer, not at its 5 s limit.
        #expect(!server.log.contains { $0.contains("drain: stopped waiting") }, "\(server.log.suffix(8))")
        print("serve exited \(String(format: "%.3f", exitSeconds)) s after the caller answered its BYE")
        #expect(server.log.contains { $0.contains("the server is shutting down: sending BYE") })
        #expect(server.log.contains { $0.contains("media: ") && $0.contains("RTP packets sent") })
    }

    /// A text the call requested is still with the provider when SIGTERM comes: the SMS dispatch service is shut
    /// down after the calls, and waits for it, so it is sent and recorded before the process exits 0.
    @Test func sigtermWaitsForATextAlreadyRequestedByACall() throws {
        let provider = try ProviderServer(script: [.slow(milliseconds: 3000, id: 7)])
        defer { provider.shutdown() }
        let dir = try temporaryDirectory()
        let credentials = dir.appendingPathComponent("sms.json").path
        try #"{ "user": "acme", "password": "drain-S3cret" }"#.write(
            toFile: credentials, atomically: true,
            encoding: .utf8)
        let state = dir.appendingPathComponent("state").path
        let server = try ServeProcess(
            accounts: [account],
            extra: [
                "--send-sms", "--sms-endpoint", provider.endpoint, "--sms-credentials", credentials,
                "--state-dir", state, "--sms-timeout-ms", "20000",
            ])
        let phone = try Baresip()
        defer { phone.stop() }
        phone.command("dial", "sip:5145550100@127.0.0.1:\(server.port)")
        #expect(phone.waitForEvent(seconds: 60) { $0["type"] as? String == "CALL_ESTABLISHED" } != nil)
        phone.command("sndcode", "1")  // "Front door": welcome, 9876#, then its text
        let deadline = Date().addingTimeInterval(60)
        while provider.requests.isEmpty && Date() < deadline { usleep(20_000) }
        #expect(provider.requests.count == 1, "\(server.log.suffix(8))")

        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.stop(seconds: 30) == 0, "\(server.log.suffix(8))")
        #expect(
            server.log.contains { $0.contains("SMS to 5145550199: sent, provider id 7") },
            "\(server.log.suffix(8))")
        let log = try CommandRunner.callseq("sms", "log", "--state-dir", state)
        #expect(log.stdout.contains(" sent 5145550100 -> 5145550199"), "\(log.stdout)")
    }
}
