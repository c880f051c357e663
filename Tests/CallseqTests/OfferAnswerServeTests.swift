// Live offer/answer in a dialog (RFC 3264 §5 and §8, RFC 6337): late offer, hold and resume, a codec and
// address change, with SIPp doing the signalling and plain UDP sockets standing in for the caller's RTP.

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The example account, whose lobby (5145550100) plays its IVR.
private let account = testAudioPath("../Examples/account.json")

/// A UDP socket on 127.0.0.1 that records the RTP packets it receives: arrival time and payload type.
private final class RTPListener: @unchecked Sendable {
    struct Packet {
        /// Seconds since the listener started.
        let at: Double
        let payloadType: UInt8
    }

    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var received: [Packet] = []
    private var running = true
    private let start = Date()

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
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in receive() }.start()
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while isRunning {
            let count = recv(fd, &buffer, buffer.count, 0)
            // RTP version 2 (RFC 3550 §5.1); the payload type is the low 7 bits of the second byte.
            guard count >= 12, buffer[0] >> 6 == 2 else { continue }
            record(Packet(at: now, payloadType: buffer[1] & 0x7F))
        }
    }

    /// Seconds since the listener started.
    var now: Double { Date().timeIntervalSince(start) }

    private var isRunning: Bool { lock.withLock { running } }
    private func record(_ packet: Packet) { lock.withLock { received.append(packet) } }

    /// Every packet so far.
    var packets: [Packet] { lock.withLock { received } }

    /// Stops receiving and closes the socket.
    func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        usleep(200_000)  // the thread sees `running` within its 100 ms receive timeout
        close(fd)
    }

    /// The gaps between consecutive packets longer than `seconds`: (start, length).
    func gaps(longerThan seconds: Double) -> [(at: Double, length: Double)] {
        let times = packets.map(\.at)
        return zip(times, times.dropFirst()).compactMap { $1 - $0 > seconds ? ($0, $1 - $0) : nil }
    }
}

/// SIPp's outcome as a test message.
private func describe(_ result: CommandResult) -> String {
    "SIPp exit \(result.status): \(result.stdout.suffix(400)) \(result.stderr.suffix(400))"
}

@Suite("callseq serve: late offer, hold and re-INVITE with SIPp", .serialized)
struct OfferAnswerServeTests {
    @Test func aLateOfferCallRunsWithTheAcksAnswerAndEndsWithTheServersBye() throws {
        let server = try ServeProcess(accounts: [account], extra: ["--rtp-timeout", "3"])
        let media = try RTPListener()
        defer { media.stop() }
        // The INVITE has no SDP; SIPp checks that the 200 carries an offer and answers PCMA in the ACK.
        let result = try runSIPp(
            "late-offer.xml", service: "5145550100", port: server.port,
            extra: ["-key", "rtp_port", "\(media.port)"])
        #expect(result.status == 0, "\(describe(result)) \(server.log.suffix(8))")
        #expect(server.log.contains { $0.contains("media started") }, "\(server.log.suffix(8))")
        // The media followed the answer in the ACK: PCMA (8) to its port.
        let packets = media.packets
        #expect(packets.count >= 50, "\(packets.count) packets")
        #expect(Set(packets.map(\.payloadType)).isSubset(of: [8, 101]), "\(Set(packets.map(\.payloadType)))")
        #expect(server.stop() == 0)
    }

    @Test func aLateOfferWhoseAckHasNoAnswerIsEndedWithBye() throws {
        let server = try ServeProcess(accounts: [account])
        let result = try runSIPp("late-offer-empty-ack.xml", service: "5145550100", port: server.port)
        #expect(result.status == 0, "\(describe(result)) \(server.log.suffix(8))")
        #expect(server.stderr.wait(seconds: 10) { $0.contains("no usable SDP answer") } != nil, "\(server.log)")
        #expect(!server.log.contains { $0.contains("media started") })
        #expect(server.stop() == 0)
    }

    @Test func aSendonlyReInviteIsAnsweredRecvonlyAndStopsOurRTPUntilSendrecv() throws {
        let server = try ServeProcess(accounts: [account])
        let media = try RTPListener()
        defer { media.stop() }
        // 2 s up, 4 s held (SIPp checks a=recvonly in the answer), 2 s resumed (a=sendrecv), BYE.
        let result = try runSIPp(
            "reinvite-hold.xml", service: "5145550100", port: server.port,
            extra: ["-key", "rtp_port", "\(media.port)"])
        #expect(result.status == 0, "\(describe(result)) \(server.log.suffix(8))")
        let packets = media.packets
        let gaps = media.gaps(longerThan: 1)
        // One silence, the hold: about 4 s (SIPp's pause plus a re-INVITE round trip), packets before and after.
        #expect(gaps.count == 1, "gaps \(gaps), \(packets.count) packets")
        if let hold = gaps.first {
            #expect(hold.length > 3.5 && hold.length < 8, "\(hold)")
            #expect(packets.filter { $0.at <= hold.at }.count >= 50)
            #expect(packets.filter { $0.at > hold.at + hold.length - 0.01 }.count >= 50)
        }
        #expect(server.stop() == 0)
    }

    @Test func aCallHeldFromItsInviteIsAnsweredRecvonlyAndGetsNoRTP() throws {
        let server = try ServeProcess(accounts: [account])
        let media = try RTPListener()
        defer { media.stop() }
        let result = try runSIPp(
            "hold-from-start.xml", service: "5145550100", port: server.port,
            extra: ["-key", "rtp_port", "\(media.port)"])
        #expect(result.status == 0, "\(describe(result)) \(server.log.suffix(8))")
        #expect(server.log.contains { $0.contains("media started") }, "\(server.log.suffix(8))")
        #expect(media.packets.isEmpty, "\(media.packets.count) packets sent to a caller that only sends")
        #expect(server.stop() == 0)
    }

    @Test func anInactiveHoldOutlastsTheRTPTimeout() throws {
        // --rtp-timeout 2, and 6 s on hold without RTP either way: the call is not ended (SIPp would get a BYE
        // it does not expect and fail); the hold limit (--hold-timeout, 2 hours by default) applies instead.
        let server = try ServeProcess(accounts: [account], extra: ["--rtp-timeout", "2"])
        let media = try RTPListener()
        defer { media.stop() }
        let result = try runSIPp(
            "reinvite-inactive.xml", service: "5145550100", port: server.port,
            extra: ["-key", "rtp_port", "\(media.port)"])
        #expect(result.status == 0, "\(describe(result)) \(server.log.suffix(8))")
        #expect(server.log.contains { $0.contains("the caller hung up (BYE)") }, "\(server.log.suffix(8))")
        #expect(!server.log.contains { $0.contains("no RTP from the caller") })
        // Nothing was sent while inactive: the last packet came at least 5 s before SIPp's BYE.
        let end = media.now
        let packets = media.packets
        #expect(packets.count >= 5, "\(packets.count) packets before the hold")
        #expect(end - (packets.last?.at ?? 0) >= 5, "last packet at \(packets.last?.at ?? 0) s, SIPp ended at \(end) s")
        #expect(server.stop() == 0)
    }

    @Test func aPcmaOnlyReInviteToANewPortMovesTheMediaThereAsPcma() throws {
        let server = try ServeProcess(accounts: [account])
        let first = try RTPListener()
        let second = try RTPListener()
        defer {
            first.stop()
            second.stop()
        }
        let result = try runSIPp(
            "reinvite-pcma.xml", service: "5145550100", port: server.port,
            extra: ["-key", "rtp_port", "\(first.port)", "-key", "rtp_port2", "\(second.port)"])
        #expect(result.status == 0, "\(describe(result)) \(server.log.suffix(8))")
        let before = first.packets
        let after = second.packets
        #expect(
            before.count >= 50 && Set(before.map(\.payloadType)).isSubset(of: [0, 101]),
            "\(before.count) packets, types \(Set(before.map(\.payloadType)))")
        // From the change on, PCMA (8) only — except at most one first packet: the media thread prepares each
        // packet one interval ahead (MediaThread's outbox), so the packet prepared before the update, still
        // PCMU, leaves for the new address.
        let leftover = after.prefix { $0.payloadType == 0 }.count
        #expect(leftover <= 1, "\(after.map(\.payloadType).prefix(12))")
        let changed = after.dropFirst(leftover)
        #expect(
            changed.count >= 50 && Set(changed.map(\.payloadType)).isSubset(of: [8, 101])
                && changed.contains { $0.payloadType == 8 },
            "\(after.count) packets, types \(after.map(\.payloadType).prefix(12))")
        // The move is clean: the first port hears nothing once the second one does.
        if let moved = after.first?.at {
            #expect(before.filter { $0.at > moved + 0.1 }.isEmpty)
        }
        #expect(server.stop() == 0)
    }
}
