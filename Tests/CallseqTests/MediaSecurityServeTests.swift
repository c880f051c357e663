import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The example account, whose lobby (5145550100) runs "Front door" (code 9876#) on 1 and "Parking gate" on 2.
private let account = testAudioPath("../Examples/account.json")

/// An attacker on 127.0.0.2 spraying every even port of an RTP range with RTP: silence, and every 100 ms an RFC 4733
/// "2" (a new event each time), from before the call until stopped; it counts what it receives back.
private final class RTPSprayer: @unchecked Sendable {
    private let fd: Int32
    private let ports: [Int]
    private let lock = NSLock()
    private var stopped = false
    private var received = 0
    private var sent = 0
    private var thread: Thread?

    init(host: String, ports: ClosedRange<Int>) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw LivePeerError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            throw LivePeerError("bind \(host): \(errno)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        fd = descriptor
        self.ports = ports.filter { $0 % 2 == 0 }
        let thread = Thread { [self] in run() }
        self.thread = thread
        thread.start()
    }

    private func run() {
        var sequence: UInt16 = 1000
        var timestamp: UInt32 = 50_000
        var round = 0
        var buffer = [UInt8](repeating: 0, count: 2048)
        while !lock.withLock({ stopped }) {
            round += 1
            let event = round % 10 < 6  // 6 packets of a "2" event (3 updates, 3 ends), then 4 of silence
            let step = round % 10
            var packet: [UInt8] = [
                0x80, event ? (step == 0 ? 0x80 | 101 : 101) : 0,
                UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF),
                UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF), 0xBA, 0xD0, 0xBA, 0xD0,
            ]
            if event {
                let duration = UInt16(160 * min(step + 1, 3))
                packet += [2, (step >= 3 ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xFF)]
            } else {
                packet += [UInt8](repeating: 0xFF, count: 160)
                timestamp &+= 160
            }
            sequence &+= 1
            for port in ports {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                let n = packet.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                if n > 0 { lock.withLock { sent += 1 } }
            }
            while recv(fd, &buffer, buffer.count, 0) > 0 { lock.withLock { received += 1 } }
            usleep(10_000)
        }
    }

    /// Stops spraying; returns (datagrams sent, datagrams received).
    func stop() -> (sent: Int, received: Int) {
        lock.withLock { stopped = true }
        while thread?.isFinished == false { usleep(10_000) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let late = (0..<1000).reduce(0) { n, _ in recv(fd, &buffer, buffer.count, 0) > 0 ? n + 1 : n }
        close(fd)
        return lock.withLock { (sent, received + late) }
    }
}

@Suite("callseq serve: media security with a live attacker", .serialized)
struct MediaSecurityServeTests {
    /// The "RTP Bleed" attack: a third party sprays the server's RTP ports from before the call is answered until it
    /// ends, pressing "2" (the parking gate). It must receive nothing and choose nothing; the caller (baresip) hears
    /// the IVR, presses 1 and receives the door code.
    @Test func anAttackerSprayingTheRTPPortsGetsNothingAndTheCallerOpensTheDoor() throws {
        let base = 20000 + 2 * Int.random(in: 0..<4000)
        let ports = base...(base + 19)
        let server = try ServeProcess(accounts: [account], rtpPorts: ports)
        let attacker = try RTPSprayer(host: "127.0.0.2", ports: ports)
        var stopped = false
        defer { if !stopped { _ = attacker.stop() } }
        let phone = try Baresip()
        defer { phone.stop() }
        phone.command("dial", "sip:5145550100@127.0.0.1:\(server.port)")
        guard phone.waitForEvent(seconds: 60, { $0["type"] as? String == "CALL_ESTABLISHED" }) != nil else {
            throw LivePeerError("the call was not established: \(server.log.suffix(5))")
        }
        // The IVR's menu plays to the caller (not the attacker) before the press.
        #expect(server.stderr.wait(seconds: 20) { $0.contains("plays its menu") } != nil)
        phone.command("sndcode", "1")
        guard phone.waitForEvent(seconds: 90, { $0["type"] as? String == "CALL_CLOSED" }) != nil else {
            throw LivePeerError("the server did not end the call: \(server.log.suffix(8))")
        }
        let (sent, received) = attacker.stop()
        stopped = true
        #expect(sent > 500, "the attacker sent \(sent) datagrams")
        #expect(received == 0, "the attacker received \(received) datagrams")
        let digits = phone.events("CALL_DTMF_START").compactMap { $0["param"] as? String }.joined()
        #expect(digits == "9876#", "\(server.log.suffix(10))")
        #expect(server.log.contains { $0.contains("caller pressed 1") })
        #expect(
            !server.log.contains { $0.contains("caller pressed 2") }, "\(server.log.filter { $0.contains("pressed") })")
        #expect(server.stop() == 0)
        // The server's closing statistics count what it dropped.
        #expect(
            server.log.contains {
                $0.contains("from other sources (dropped)") && !$0.contains(" 0 from other sources")
            },
            "\(server.log.suffix(3))")
    }
}
