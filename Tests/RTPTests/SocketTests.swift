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
