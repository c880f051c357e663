import Glibc
import RTP
import Testing

@Suite("UDP sockets and RTP ports")
struct SocketTests {
    @Test func thePoolHandsOutEvenPortsUntilTheRangeIsFullAndReusesReleasedOnes() throws {
        let pool = try RTPPortPool(host: "127.0.0.1", ports: 41001...41007)  // even: 41002, 41004, 41006
        let a = try pool.reserve()
        let b = try pool.reserve()
        let c = try pool.reserve()
        #expect([a.port, b.port, c.port].sorted() == [41002, 41004, 41006])
        #expect(pool.reservedCount == 3)
        #expect(throws: SocketError.self) { try pool.reserve() }
        b.release()
        b.release()
        #expect(pool.reservedCount == 2)
        let d = try pool.reserve()
        #expect(d.port == b.port && d.localAddress?.port == b.port)
        _ = (a, c, d)
    }

    @Test func aPortHeldElsewhereIsSkipped() throws {
        let other = try UDPSocket.bind(#require(UDPAddress(host: "127.0.0.1", port: 41020)))
        defer { other.close() }
        let pool = try RTPPortPool(host: "127.0.0.1", ports: 41020...41022)
        #expect(try pool.reserve().port == 41022)
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func datagramsGoBothWaysWithTheirSource(host: String) throws {
        // No IPv6 on this machine: nothing to test.
        guard let any = UDPAddress(host: host, port: 0), let probe = try? UDPSocket.bind(any) else { return }
        defer { probe.close() }
        let pool = try RTPPortPool(host: host, ports: 41040...41041)
        let rtp = try pool.reserve()
        let peerAddress = try #require(probe.localAddress)
        let to = try #require(UDPAddress(host: host, port: rtp.port))
        let sent = [UInt8](0..<100)
        #expect(sent.withUnsafeBytes { probe.send($0, to: to) } == 0)
        var buffer = [UInt8](repeating: 0, count: 64)
        var source = UDPAddress()
        var result = UDPReceiveResult.wouldBlock
        for _ in 0..<100 {
            result = buffer.withUnsafeMutableBytes { rtp.socket.receive(into: $0, from: &source) }
            if result != .wouldBlock { break }
            usleep(1000)
        }
        #expect(result == .truncated(100))  // larger than the buffer: reported, not cut
        #expect(sent.prefix(40).withUnsafeBytes { probe.send($0, to: to) } == 0)
        for _ in 0..<100 {
            result = buffer.withUnsafeMutableBytes { rtp.socket.receive(into: $0, from: &source) }
            if result != .wouldBlock { break }
            usleep(1000)
        }
        #expect(result == .datagram(40) && Array(buffer.prefix(40)) == Array(sent.prefix(40)))
        #expect(source.sameEndpoint(as: peerAddress) && source.port == peerAddress.port)
        #expect(buffer.withUnsafeMutableBytes { rtp.socket.receive(into: $0, from: &source) } == .wouldBlock)
        #expect(source.host == host)
    }

    @Test func addressesParseAndMapToIPv6() throws {
        let v4 = try #require(UDPAddress(host: "192.0.2.7", port: 5004))
        #expect(v4.family == AF_INET && v4.port == 5004 && v4.description == "192.0.2.7:5004")
        let mapped = v4.mappedToIPv6
        #expect(mapped.family == AF_INET6 && mapped.host == "::ffff:192.0.2.7" && mapped.port == 5004)
        #expect(UDPAddress(host: "[2001:db8::1]", port: 1)?.description == "[2001:db8::1]:1")
        #expect(UDPAddress(host: "example.com", port: 1) == nil && UDPAddress(host: "::1", port: 70000) == nil)
        #expect(!v4.sameEndpoint(as: try #require(UDPAddress(host: "192.0.2.7", port: 5006))))
    }
}

@Suite("Sends through io_uring")
struct UDPSendRingTests {
    /// Packets from several sockets to several destinations leave in one submission, each from its own socket
    /// (the receiver sees the sender's port) with its own bytes.
    @Test func oneSubmissionSendsEachPacketFromItsSocketToItsDestination() throws {
        let ring = UDPSendRing(entries: 8)
        // io_uring refused (disabled or filtered): the media threads use sendto, tested elsewhere.
        guard ring.isAvailable else { return }
        let loopback = try #require(UDPAddress(host: "127.0.0.1", port: 0))
        let senders = try (0..<3).map { _ in try UDPSocket.bind(loopback) }
        let receivers = try (0..<3).map { _ in try UDPSocket.bind(loopback) }
        defer { for socket in senders + receivers { socket.close() } }
        let packets: [[UInt8]] = [[1, 2, 3], [4, 5, 6, 7], Array(repeating: 0xAB, count: 172)]
        for i in 0..<3 {
            let destination = try #require(receivers[i].localAddress)
            #expect(packets[i].withUnsafeBytes { ring.queue($0, from: senders[i], to: destination) })
        }
        #expect(ring.pending == 3)
        let (sent, failed, systemCalls, error) = ring.flush()
        #expect(sent == 3 && failed == 0 && systemCalls == 1 && error == 0 && ring.pending == 0)
        for i in 0..<3 {
            var buffer = [UInt8](repeating: 0, count: 256)
            var source = UDPAddress()
            var result = UDPReceiveResult.wouldBlock
            for _ in 0..<1000 where result == .wouldBlock {
                result = buffer.withUnsafeMutableBytes { receivers[i].receive(into: $0, from: &source) }
                if result == .wouldBlock { usleep(1000) }
            }
            #expect(result == .datagram(packets[i].count))
            #expect(Array(buffer.prefix(packets[i].count)) == packets[i])
            #expect(source.port == senders[i].localAddress?.port)
        }
        // Nothing queued: nothing submitted, no system call.
        #expect(ring.flush().systemCalls == 0)
    }

    /// The queue holds `entries` sends; one more is refused until a flush.
    @Test func aFullQueueRefusesUntilFlushed() throws {
        let ring = UDPSendRing(entries: 4)
        guard ring.isAvailable else { return }
        let loopback = try #require(UDPAddress(host: "127.0.0.1", port: 0))
        let sender = try UDPSocket.bind(loopback)
        let receiver = try UDPSocket.bind(loopback)
        defer { for socket in [sender, receiver] { socket.close() } }
        let destination = try #require(receiver.localAddress)
        let byte: [UInt8] = [7]
        let queued = (0..<5).map { _ in byte.withUnsafeBytes { ring.queue($0, from: sender, to: destination) } }
        #expect(queued == [true, true, true, true, false])
        #expect(ring.flush().sent == 4)
        #expect(byte.withUnsafeBytes { ring.queue($0, from: sender, to: destination) })
        #expect(ring.flush().sent == 1)
    }

    /// A send the kernel refuses completes as failed within the flush (a closed descriptor: EBADF), and the
    /// sends beside it still leave.
    @Test func aRefusedSendIsCountedAndTheOthersLeave() throws {
        let ring = UDPSendRing(entries: 4)
        guard ring.isAvailable else { return }
        let loopback = try #require(UDPAddress(host: "127.0.0.1", port: 0))
        let sender = try UDPSocket.bind(loopback)
        let closed = try UDPSocket.bind(loopback)
        let receiver = try UDPSocket.bind(loopback)
        defer { for socket in [sender, receiver] { socket.close() } }
        closed.close()
        let destination = try #require(receiver.localAddress)
        let byte: [UInt8] = [9]
        #expect(byte.withUnsafeBytes { ring.queue($0, from: closed, to: destination) })
        #expect(byte.withUnsafeBytes { ring.queue($0, from: sender, to: destination) })
        let result = ring.flush()
        #expect(result.sent == 1 && result.failed == 1 && result.error == 0)
    }
}
