import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The example account: 5145550100 runs the lobby IVR.
private let account = testAudioPath("../Examples/account.json")

/// The receive queue (bytes) and drop count of the UDP socket bound to 127.0.0.1:`port`, from /proc/net/udp.
private func serverSocketQueue(port: Int) -> (queued: Int, drops: Int)? {
    let fd = open("/proc/net/udp", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let count = read(fd, &chunk, chunk.count)
        guard count > 0 else { break }
        bytes += chunk.prefix(count)
    }
    let local = String(format: "0100007F:%04X", port)
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 13, fields[1] == local, let queues = fields[4].split(separator: ":").last,
            let queued = Int(queues, radix: 16), let drops = Int(fields[fields.count - 1])
        else { continue }
        return (queued, drops)
    }
    return nil
}

/// A scanner on 127.0.0.2: sends OPTIONS, REGISTER and INVITEs to a number nobody has (a new transaction each)
/// to the server from one UDP socket, in a thread of its own, and counts what comes back. It sends as fast as
/// the server's socket takes them: when more than 64 KiB wait in the server's receive queue (its buffer is
/// about 200 KiB), it yields until the server has read them. So the whole flood reaches the server's state
/// machine (a flood the kernel drops tests nothing of ours), and the callers' datagrams find room.
private final class Flooder: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    private var sentCount = 0
    private var finished = false
    private var stopReading = false
    private var readerDone = false
    private var statuses: [Int: Int] = [:]
    private var refusalsWithoutRetryAfter = 0
    private var sendingSeconds = 0.0

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw LivePeerError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.2")
        address.sin_port = 0
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            close(fd)
            throw LivePeerError("cannot bind 127.0.0.2: \(errno)")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// The port the flood comes from.
    var port: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts sending `count` datagrams to 127.0.0.1:`serverPort` and reading the answers.
    func start(count: Int, serverPort: Int) {
        let own = port
        let datagrams: [[UInt8]] = (0..<count).map { index in
            let (method, user) = [("OPTIONS", ""), ("REGISTER", ""), ("INVITE", "100@")][index % 3]
            return Array(
                """
                \(method) sip:\(user)127.0.0.1:\(serverPort) SIP/2.0\r
                Via: SIP/2.0/UDP 127.0.0.2:\(own);branch=z9hG4bK-flood\(index);rport\r
                Max-Forwards: 70\r
                From: <sip:scanner@127.0.0.2>;tag=f\(index)\r
                To: <sip:\(user)127.0.0.1>\r
                Call-ID: flood-\(index)@127.0.0.2\r
                CSeq: 1 \(method)\r
                Contact: <sip:scanner@127.0.0.2:\(own)>\r
                Content-Length: 0\r
                \r

                """.utf8)
        }
        let sender = Thread { [self] in
            let began = Date()
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(serverPort).bigEndian)
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            for (index, datagram) in datagrams.enumerated() {
                if index % 16 == 0 {
                    while let queue = serverSocketQueue(port: serverPort), queue.queued > 65_536 { sched_yield() }
                }
                _ = datagram.withUnsafeBytes { buffer in
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, buffer.baseAddress, buffer.count, 0, $0, length)
                        }
                    }
                }
                if index % 1_000 == 999 {
                    condition.lock()
                    sentCount = index + 1
                    condition.broadcast()
                    condition.unlock()
                }
            }
            condition.lock()
            sentCount = datagrams.count
            sendingSeconds = Date().timeIntervalSince(began)
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        let reader = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                condition.lock()
                let stop = stopReading
                condition.unlock()
                if stop { break }
                let received = recv(fd, &buffer, buffer.count, 0)
                guard received > 12 else { continue }
                let text = String(decoding: buffer.prefix(received), as: UTF8.self)
                guard text.hasPrefix("SIP/2.0 "), let status = Int(text.dropFirst(8).prefix(3)) else { continue }
                condition.lock()
                statuses[status, default: 0] += 1
                if status == 503 && !text.contains("\r\nRetry-After: ") { refusalsWithoutRetryAfter += 1 }
                condition.broadcast()
                condition.unlock()
            }
            condition.lock()
            readerDone = true
            condition.broadcast()
            condition.unlock()
        }
        sender.start()
        reader.start()
    }

    /// Waits until `count` datagrams were sent (or every one); false after `seconds`.
    func waitUntilSent(_ count: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while sentCount < count && !finished {
            if !condition.wait(until: deadline) { break }
        }
        return sentCount >= count || finished
    }

    /// Waits until `count` answers with `status` came back; returns how many did (after `seconds` at most).
    func waitForAnswers(_ status: Int, count: Int, seconds: Double) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while statuses[status, default: 0] < count, condition.wait(until: deadline) {}
        return statuses[status, default: 0]
    }

    /// Stops reading; returns the datagrams sent and how long that took, the answers by status and the 503s
    /// without Retry-After.
    func finish(
        seconds: Double
    )
        -> (sent: Int, sendingSeconds: Double, statuses: [Int: Int], refusalsWithoutRetryAfter: Int)
    {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !finished, condition.wait(until: deadline) {}
        stopReading = true
        while !readerDone, condition.wait(until: deadline) {}
        return (sentCount, sendingSeconds, statuses, refusalsWithoutRetryAfter)
    }
}

@Suite("callseq serve: a flood from one address does not keep callers out", .serialized)
struct ServeFloodTests {
    @Test func fiftyThousandScannerRequestsFromOneAddressLeaveTwentyCallsAnsweredAndPlayed() throws {
        let server = try ServeProcess(accounts: [account])
        let flooder = try Flooder()
        let started = Date()
        flooder.start(count: 50_000, serverPort: server.port)
        defer { _ = flooder.finish(seconds: 30) }  // its threads end with the test, whatever happens
        // The calls start while the flood is on: 10,000 requests would already fill a 10,000-entry table.
        #expect(flooder.waitUntilSent(10_000, seconds: 120))
        let result = try runSIPp(
            "call.xml", service: "5145550100", port: server.port,
            extra: ["-m", "20", "-l", "20", "-r", "10", "-d", "2000"])
        let flood = flooder.finish(seconds: 120)
        // Datagrams received by status (404s include their timer G retransmissions: the scanner never ACKs).
        let answers = flood.statuses.sorted { $0.key < $1.key }.map { "\($0.value)×\($0.key)" }
        print(
            """
            flood: \(flood.sent) datagrams from 127.0.0.2 in \(String(format: "%.2f", flood.sendingSeconds)) s; \
            it received \(answers.joined(separator: ", ")); the server's socket dropped \
            \(serverSocketQueue(port: server.port)?.drops ?? -1) datagrams; SIPp done after \
            \(String(format: "%.1f", Date().timeIntervalSince(started))) s
            """)
        #expect(flood.sent == 50_000)
        #expect(
            result.status == 0,
            "\(result.stdout.suffix(800)) \(result.stderr.suffix(400)) \(server.log.suffix(10))")
        // Every call was confirmed by its ACK (its IVR started playing) and ended by the caller's BYE.
        #expect(server.stderr.wait(seconds: 60, count: 20) { $0.contains("media started") } == 20)
        #expect(server.stderr.wait(seconds: 60, count: 20) { $0.contains("the caller hung up (BYE)") } == 20)
        // The flood met the rate limit, and every 503 said when to retry.
        #expect(flood.statuses[503] ?? 0 > 0)
        #expect(flood.refusalsWithoutRetryAfter == 0)
        #expect(server.stop() == 0)
    }

    @Test func aTrustedProxyIsNotRateLimited() throws {
        let server = try ServeProcess(accounts: [account], extra: ["--trusted-proxy", "127.0.0.2"])
        let flooder = try Flooder()
        flooder.start(count: 600, serverPort: server.port)
        defer { _ = flooder.finish(seconds: 30) }
        // 600 requests at once, six times the bucket's burst: 200 OPTIONS, 200 REGISTER, 200 INVITEs, all handled.
        #expect(flooder.waitForAnswers(200, count: 200, seconds: 120) == 200)
        #expect(flooder.waitForAnswers(405, count: 200, seconds: 120) == 200)
        #expect(flooder.waitForAnswers(100, count: 200, seconds: 120) == 200)
        let flood = flooder.finish(seconds: 120)
        #expect(flood.statuses[503] == nil, "\(flood.statuses)")
        #expect(server.stop() == 0)
    }

    @Test func aTrustedProxyMustBeAnIPAddress() throws {
        let result = try CommandRunner.callseq("serve", "--account", account, "--trusted-proxy", "kamailio.local")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--trusted-proxy 'kamailio.local' is not an IP address"), "\(result.stderr)")
    }
}
