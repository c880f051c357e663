import Foundation
import Glibc
import Logging
import NIOCore
import SIP
import Testing

/// A plain UDP socket on 127.0.0.1, as a SIP peer that nobody here wrote would use.
final class UDPPeer {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        var timeout = timeval(tv_sec: 15, tv_usec: 0)  // generous: CI shares 2 cores
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String, to port: Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bytes = Array(text.utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The next datagram, parsed; nil after 15 s of silence.
    ///
    /// A signal to this process (SIGCHLD of another suite's child process) interrupts `recv` with EINTR even
    /// under SA_RESTART, since the socket has a receive timeout (signal(7)): that is not silence, so it waits on.
    func receive() -> SIPMessage? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 { return try? SIPMessage(parsing: Array(buffer.prefix(count))) }
            guard count < 0, errno == EINTR, ContinuousClock.now < deadline else { return nil }
        }
    }
}

/// Records what the server tells the application.
final class RecordingDelegate: SIPServerDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    private var identifiers: [DialogID] = []

    var events: [String] { lock.withLock { storage } }
    var calls: [DialogID] { lock.withLock { identifiers } }

    func incomingCall(_ call: IncomingCall) -> CallDecision {
        lock.withLock {
            storage.append("call \(call.user) from \(call.callerURI)")
            identifiers.append(call.id)
        }
        guard let answer = call.offer?.negotiate() else { return .reject(status: 488) }
        return .accept(answerSDP: answer.render(address: "127.0.0.1", port: 20000, sessionID: 1))
    }

    func callConfirmed(_ call: DialogID, answer: SDPOffer?) {
        lock.withLock { storage.append("confirmed \(call.callID)") }
    }

    func sessionOffered(_ call: DialogID, offer: SDPOffer?) -> SDPDecision {
        lock.withLock { storage.append("offer \(call.callID) \(offer?.direction.rawValue ?? "none")") }
        guard let answer = offer?.negotiate() else { return .reject(status: 488) }
        return .accept(sdp: answer.render(address: "127.0.0.1", port: 20000, sessionID: 1))
    }

    func sessionAnswered(_ call: DialogID, answer: SDPOffer) {}

    func callEnded(_ call: DialogID, reason: CallEndReason) {
        lock.withLock { storage.append("ended \(call.callID) \(reason)") }
    }
}

/// Collects log lines with their metadata.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    var lines: [String] { lock.withLock { storage } }
    func append(_ line: String) { lock.withLock { storage.append(line) } }
    var logger: Logger {
        var logger = Logger(label: "sip-test", factory: { _ in Handler(sink: self) })
        logger.logLevel = .debug
        return logger
    }

    struct Handler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.append("\(event.level) \(event.message) \(event.metadata?["call-id"].map { "\($0)" } ?? "-")")
        }
    }
}

@Suite("SIPServer on a real UDP socket", .serialized)
struct SIPServerTests {
    func message(
        _ method: String, peer: UDPPeer, callID: String, branch: String, toTag: String? = nil,
        cseq: Int = 1, body: String = ""
    ) -> String {
        var lines = [
            "\(method) sip:5145550100@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:\(peer.port);branch=\(branch);rport",
            "Max-Forwards: 70",
            "From: <sip:tester@127.0.0.1>;tag=peer",
            "To: <sip:5145550100@127.0.0.1>\(toTag.map { ";tag=\($0)" } ?? "")",
            "Call-ID: \(callID)",
            "CSeq: \(cseq) \(method)",
            "Contact: <sip:tester@127.0.0.1:\(peer.port)>",
        ]
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(body.utf8.count)")
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    @Test func optionsAndACallOverUDP() async throws {
        let delegate = RecordingDelegate()
        let logs = LogLines()
        let server = try await SIPServer.start(host: "127.0.0.1", port: 0, delegate: delegate, logger: logs.logger)
        let port = try #require(server.localAddress.port)
        #expect(port > 0)
        let peer = try UDPPeer()

        peer.send(message("OPTIONS", peer: peer, callID: "ping", branch: "z9hG4bK-o1"), to: port)
        let options = try #require(peer.receive())
        #expect(options.status == 200)
        #expect(options.headers["Allow"] == "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE")
        #expect(
            try options.topVia.description
                == "SIP/2.0/UDP 127.0.0.1:\(peer.port);branch=z9hG4bK-o1;rport=\(peer.port);received=127.0.0.1")

        peer.send("garbage that is not SIP", to: port)
        peer.send(message("INVITE", peer: peer, callID: "call-a", branch: "z9hG4bK-i1", body: offerSDP), to: port)
        let trying = try #require(peer.receive())
        #expect(trying.status == 100)
        let ok = try #require(peer.receive())
        #expect(ok.status == 200)
        let tag = try #require(ok.toTag)
        #expect(ok.headers["Contact"] == "<sip:5145550100@127.0.0.1:\(port)>")
        #expect(ok.bodyText.contains("m=audio 20000 RTP/AVP 0 101\r\n"))
        peer.send(message("ACK", peer: peer, callID: "call-a", branch: "z9hG4bK-a1", toTag: tag), to: port)
        // A re-INVITE putting the call on hold: the delegate's answer, recvonly, the o= version raised.
        let hold = offerSDP.replacingOccurrences(of: "a=sendrecv", with: "a=sendonly")
        peer.send(
            message(
                "INVITE", peer: peer, callID: "call-a", branch: "z9hG4bK-r1", toTag: tag, cseq: 2,
                body: hold), to: port)
        let held = try #require(peer.receive())
        #expect(held.status == 200)
        #expect(held.bodyText.contains("a=recvonly\r\n"))
        #expect(held.bodyText.contains("o=- 1 2 IN IP4 127.0.0.1\r\n"))
        peer.send(message("ACK", peer: peer, callID: "call-a", branch: "z9hG4bK-a2", toTag: tag, cseq: 2), to: port)
        peer.send(message("BYE", peer: peer, callID: "call-a", branch: "z9hG4bK-b1", toTag: tag, cseq: 3), to: port)
        let byeOK = try #require(peer.receive())
        #expect(byeOK.status == 200)
        #expect(try byeOK.cseq.method == "BYE")
        #expect(
            delegate.events == [
                "call 5145550100 from sip:tester@127.0.0.1", "confirmed call-a", "offer call-a sendonly",
                "ended call-a remoteBye",
            ])

        // The server hangs up the second call: BYE reaches the peer at its Contact, our 200 ends it.
        peer.send(message("INVITE", peer: peer, callID: "call-b", branch: "z9hG4bK-i2", body: offerSDP), to: port)
        #expect(peer.receive()?.status == 100)
        let secondOK = try #require(peer.receive())
        let secondTag = try #require(secondOK.toTag)
        peer.send(message("ACK", peer: peer, callID: "call-b", branch: "z9hG4bK-a2", toTag: secondTag), to: port)
        try await Task.sleep(for: .milliseconds(100))
        let call = try #require(delegate.calls.last)
        try await server.hangUp(call).get()
        let bye = try #require(peer.receive())
        #expect(bye.startLineText == "BYE sip:tester@127.0.0.1:\(peer.port) SIP/2.0")
        #expect(try bye.to.tag == "peer")
        #expect(try bye.from.tag == secondTag)
        let via = try bye.topVia
        let reply =
            "SIP/2.0 200 OK\r\nVia: \(via)\r\nFrom: \(bye.headers["From"] ?? "")\r\n"
            + "To: \(bye.headers["To"] ?? "")\r\n"
            + "Call-ID: call-b\r\nCSeq: \(bye.headers["CSeq"] ?? "")\r\nContent-Length: 0\r\n\r\n"
        peer.send(reply, to: port)
        #expect(delegate.events.last == "ended call-b localBye")

        // Draining: a new INVITE gets 503.
        try await server.setDraining(true).get()
        peer.send(message("INVITE", peer: peer, callID: "call-c", branch: "z9hG4bK-i3", body: offerSDP), to: port)
        // Skip what may still be in flight for call-b (a BYE retransmitted before our 200 reached the server).
        var answer = peer.receive()
        for _ in 0..<8 where answer != nil && answer?.headers["Call-ID"] != "call-c" { answer = peer.receive() }
        #expect(answer?.status == 503)

        try await server.shutdown()
        let lines = logs.lines
        #expect(
            lines.contains {
                $0.hasPrefix("debug ← INVITE sip:5145550100@127.0.0.1 SIP/2.0") && $0.hasSuffix("call-a")
            })
        #expect(lines.contains { $0.hasPrefix("info incoming call") && $0.hasSuffix("call-a") })
        #expect(lines.contains { $0.hasPrefix("info caller hung up") && $0.hasSuffix("call-a") })
    }
}
