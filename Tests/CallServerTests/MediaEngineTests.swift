import CallSequenceEngine
import CallSequenceModel
import CallServer
import Glibc
import Logging
import RTP
import Recordings
import Synchronization
import TelephonyDSP
import Testing

/// The repository's Examples directory.
let examplesDirectory: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    return path + "/Examples"
}()

func exampleAccount(_ format: CallFormat) throws -> CompiledAccount {
    let (account, library) = try Account.load(examplesDirectory + "/account.json")
    return try CompiledAccount(account, recordings: RecordingCache(library: library), format: format)
}

/// Collects an engine's events for a test.
final class EventLog: Sendable {
    let events = Mutex<[MediaEvent]>([])
    func append(_ event: MediaEvent) { events.withLock { $0.append(event) } }
    var all: [MediaEvent] { events.withLock { $0 } }
    var kinds: [MediaEvent.Kind] { all.map(\.kind) }
    var ended: Bool { kinds.contains { if case .ended = $0 { true } else { false } } }
}

/// A packet the peer received, with its arrival time.
struct Received {
    var header: RTPHeader
    var payload: [UInt8]
    var at: Int64
}

/// The caller's side: a plain UDP socket that sends RTP every 20 ms and records what comes back.
struct Peer {
    let socket: UDPSocket
    let address: UDPAddress
    var sequence: UInt16 = 500
    var timestamp: UInt32 = 90_000
    var received: [Received] = []
    var buffer = [UInt8](repeating: 0, count: 2048)

    init(host: String = "127.0.0.1") throws {
        socket = try UDPSocket.bind(#require(UDPAddress(host: host, port: 0)))
        address = try #require(socket.localAddress)
    }

    mutating func send(
        to engine: UDPAddress, payloadType: UInt8, marker: Bool = false, timestamp ts: UInt32? = nil,
        payload: [UInt8]
    ) {
        var packet = [UInt8](repeating: 0, count: 12)
        _ = packet.withUnsafeMutableBytes {
            RTPHeader(
                marker: marker, payloadType: payloadType, sequenceNumber: sequence, timestamp: ts ?? timestamp,
                ssrc: 0x5EED
            ).write(into: $0)
        }
        packet += payload
        _ = packet.withUnsafeBytes { socket.send($0, to: engine) }
        sequence &+= 1
    }

    mutating func drain() {
        var source = UDPAddress()
        while true {
            let result = buffer.withUnsafeMutableBytes { socket.receive(into: $0, from: &source) }
            guard case .datagram(let n) = result else { return }
            let bytes = Array(buffer.prefix(n))
            guard let header = try? bytes.withUnsafeBytes({ raw throws(RTPHeaderError) in try RTPHeader(parsing: raw) })
            else {
                continue
            }
            received.append(
                Received(
                    header: header,
                    payload: Array(bytes[header.payloadOffset..<(header.payloadOffset + header.payloadLength)]),
                    at: MediaClock.now()))
        }
    }
}

/// One RFC 4733 event as received: its packets in order.
struct ReceivedEvent {
    var timestamp: UInt32
    var packets: [(marker: Bool, sequence: UInt16, event: UInt8, end: Bool, duration: UInt16)]
}

func telephoneEvents(_ received: [Received]) -> [ReceivedEvent] {
    var events: [ReceivedEvent] = []
    for r in received where r.header.payloadType == 101 {
        let p = r.payload
        guard p.count >= 4 else { continue }
        let packet = (
            r.header.marker, r.header.sequenceNumber, p[0], p[1] & 0x80 != 0, UInt16(p[2]) << 8 | UInt16(p[3])
        )
        if let last = events.last, last.timestamp == r.header.timestamp {
            events[events.count - 1].packets.append(packet)
        } else {
            events.append(ReceivedEvent(timestamp: r.header.timestamp, packets: [packet]))
        }
    }
    return events
}

func code(_ digit: Character) -> UInt8 { DTMFDigit(digit)!.eventCode }

/// Runs one call against the engine: the peer sends PCMU (silence, or `inbandOne` tones for "1") every
/// 20 ms, and "1" as an RFC 4733 event when `rfc4733One`, once the engine's audio arrives.
func runCall(
    dtmfOutput: DTMFOutput, ports: ClosedRange<Int>, rfc4733One: Bool, sendRing: Bool = true
) throws
    -> (received: [Received], log: EventLog, engine: MediaEngine)
{
    let compiled = try exampleAccount(CallFormat(sampleRate: 8000, encoding: .ulaw, dtmfOutput: dtmfOutput))
    let session = try compiled.makeSession(calling: PhoneNumber("5145550100"))
    let log = EventLog()
    let engine = try MediaEngine(
        configuration: .init(
            bindHost: "127.0.0.1", ports: ports, mediaThreads: 1, rtpTimeout: .seconds(30), sendRing: sendRing),
        logger: Logger(label: "test"), onEvent: { log.append($0) })
    var peer = try Peer()
    let port = try engine.reservePort()
    let engineAddress = try #require(UDPAddress(host: "127.0.0.1", port: port.port))
    try engine.startCall(
        MediaCallParameters(
            port: port, remote: (host: "127.0.0.1", port: peer.address.port), audioPayloadType: 0,
            telephoneEventPayloadType: 101, ptimeMs: 20, sendDTMFAsEvents: dtmfOutput == .rfc4733, session: session,
            callID: "call-\(dtmfOutput)"))

    var tone = try DTMFGenerator(
        dialString: DialString("1"), timing: DTMFTiming(toneMilliseconds: 200, gapMilliseconds: 100),
        sampleRate: 8000)
    var pcm = [Int16](repeating: 0, count: 160)
    var clock = MediaClock(interval: .milliseconds(20))
    var pressedAt: Int? = nil
    var n = 0
    let limit = 40 * 50  // 40 s
    while n < limit, !log.ended {
        clock.waitForNextTick()
        n += 1
        peer.drain()
        if pressedAt == nil, peer.received.count >= 25 { pressedAt = n }  // half a second into the menu
        var payload = [UInt8](repeating: MuLaw.silence, count: 160)
        if pressedAt != nil, !rfc4733One, !tone.isFinished {
            _ = pcm.withUnsafeMutableBufferPointer { tone.render(into: $0) }
            payload = pcm.map(MuLaw.encode)
        }
        if let at = pressedAt, rfc4733One, n - at < 6 {
            // RFC 4733 "1": three updates, then three end packets, one timestamp.
            let step = n - at
            let end = step >= 3
            let duration = UInt16(160 * min(step + 1, 3))
            peer.send(
                to: engineAddress, payloadType: 101, marker: step == 0, timestamp: peer.timestamp,
                payload: [1, (end ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xFF)])
        } else {
            peer.send(to: engineAddress, payloadType: 0, payload: payload)
            peer.timestamp &+= 160
        }
    }
    // What is still in flight after the end.
    usleep(100_000)
    peer.drain()
    return (peer.received, log, engine)
}

@Suite("Media engine on 127.0.0.1", .serialized)
struct MediaEngineTests {
    /// Both ways of sending: the tick's packets in one io_uring submission (where the kernel allows it), and
    /// one sendto a packet (`callseq serve --media-send sendto`).
    @Test(arguments: [true, false])
    func rfc4733CallerPressesOneAndReceivesTheDoorCodeAsEvents(sendRing: Bool) throws {
        let (received, log, engine) = try runCall(
            dtmfOutput: .rfc4733, ports: 32000...32099, rfc4733One: true, sendRing: sendRing)
        defer { engine.shutdown() }
        let kinds = log.kinds
        #expect(kinds.first == .session(.menuStarted(ivr: 0, play: 1)))
        // Option 1 = "Front door".
        #expect(kinds.contains(.session(.digit(.one))) && kinds.contains(.session(.sequenceStarted(0))))
        #expect(kinds.filter { $0 == .session(.digit(.one)) }.count == 1)
        #expect(kinds.contains(.smsRequested(sequence: 0, step: 2)))
        #expect(kinds.last == .ended(.ivr(.sequenceFinished)))
        #expect(log.all.allSatisfy { $0.callID == "call-rfc4733" })

        // An RFC 4733 receiver hears each digit once.
        var receiver = TelephoneEventReceiver()
        let presses = received.filter { $0.header.payloadType == 101 }.compactMap { r in
            r.payload.withUnsafeBytes { TelephoneEvent(payload: $0) }.flatMap { receiver.receive(r.header, $0) }
        }
        #expect(presses == "9876#".map(code))
        let events = telephoneEvents(received)
        #expect(events.map { $0.packets[0].event } == "9876#".map(code))
        for event in events {
            let packets = event.packets
            #expect(packets.first?.marker == true && packets.dropFirst().allSatisfy { !$0.marker })
            #expect(Set(packets.map(\.event)).count == 1)
            #expect(zip(packets, packets.dropFirst()).allSatisfy { $0.duration <= $1.duration })
            let ends = packets.filter(\.end)
            #expect(ends.count == 3 && packets.suffix(3).allSatisfy(\.end))
            #expect(Set(ends.map(\.duration)) == [1200])  // toneMs 150 at 8 kHz
        }
        // One timestamp per event, 150 ms tone + 100 ms gap apart, on the audio's clock.
        let starts = events.map(\.timestamp)
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 &- $0 == 2000 })
        let audio = received.filter { $0.header.payloadType == 0 }
        #expect(audio.allSatisfy { $0.payload.count == 160 && !$0.header.marker })
        for (i, start) in starts.enumerated() {
            // Muted from the frame where the event starts until its third end packet (1200 samples, then two
            // intervals), back after that (except after "#", which ends the sequence and the call).
            let offsets = audio.map { Int(Int32(bitPattern: $0.header.timestamp &- start)) }
            #expect(!offsets.contains { $0 > -160 && $0 < 1200 + 320 })
            if i < starts.count - 1 { #expect(offsets.contains { $0 >= 1200 + 320 && $0 < 1200 + 480 }) }
        }
        // One stream: one SSRC, sequence numbers +1 on every packet.
        #expect(Set(received.map(\.header.ssrc)).count == 1)
        #expect(
            zip(received, received.dropFirst()).allSatisfy { $1.header.sequenceNumber == $0.header.sequenceNumber &+ 1 }
        )
        // The audio timestamps advance by 160 per 20 ms packet, muted intervals included.
        #expect(zip(audio, audio.dropFirst()).allSatisfy { ($1.header.timestamp &- $0.header.timestamp) % 160 == 0 })

        let statistics = engine.statistics()
        #expect(statistics.packetsReceived > 50 && statistics.packetsSent >= UInt64(received.count))
        #expect(statistics.invalidPackets == 0 && statistics.sendErrors == 0)
        // io_uring unless asked not to or the kernel refuses it (then the engine says so and uses sendto).
        #expect(statistics.sendRingThreads == (sendRing && UDPSendRing(entries: 1).isAvailable ? 1 : 0))
        try waitUntil { engine.ports.reservedCount == 0 && engine.activeCalls == 0 }
    }

    @Test func inbandCallerPressesOneAndHearsTheDoorCodeAsTones() throws {
        let (received, log, engine) = try runCall(dtmfOutput: .inband, ports: 32100...32199, rfc4733One: false)
        defer { engine.shutdown() }
        #expect(log.kinds.contains(.session(.digit(.one))) && log.kinds.contains(.session(.sequenceStarted(0))))
        #expect(log.kinds.last == .ended(.ivr(.sequenceFinished)))
        #expect(!received.contains { $0.header.payloadType == 101 })
        let ordered = received.filter { $0.header.payloadType == 0 }
            .sorted { Int32(bitPattern: $0.header.timestamp &- $1.header.timestamp) < 0 }
        let pcm = ordered.flatMap { $0.payload.map(MuLaw.decode) }
        var detector = try DTMFDetector(sampleRate: 8000)
        #expect(String(detector.detect(pcm).map(\.digit.character)) == "9876#")
    }

    @Test func noRTPFromTheCallerEndsTheCallWithRtpTimeout() throws {
        let compiled = try exampleAccount(CallFormat(sampleRate: 8000, encoding: .ulaw, dtmfOutput: .inband))
        let log = EventLog()
        let engine = try MediaEngine(
            configuration: .init(bindHost: "127.0.0.1", ports: 32200...32299, rtpTimeout: .milliseconds(300)),
            logger: Logger(label: "test"), onEvent: { log.append($0) })
        defer { engine.shutdown() }
        let peer = try Peer()
        let handle = try engine.startCall(
            MediaCallParameters(
                port: engine.reservePort(), remote: (host: "127.0.0.1", port: peer.address.port), audioPayloadType: 0,
                telephoneEventPayloadType: nil, ptimeMs: 20, sendDTMFAsEvents: false,
                session: compiled.makeSession(calling: PhoneNumber("5145550100")), callID: "silent"))
        try waitUntil { log.ended }
        #expect(log.all.last?.kind == .ended(.rtpTimeout) && log.all.last?.call == handle)
        try waitUntil { engine.ports.reservedCount == 0 }
    }

    /// What the server logs, sends as the BYE's reason and keeps as the call's outcome: the IVR session's texts
    /// (the ones `callseq ivr` prints), and the engine's own for a silent caller.
    @Test func aCallsEndIsToldInTheSessionsWordsOrTheEngines() {
        #expect(MediaEndReason.rtpTimeout.description == "no RTP from the caller")
        #expect(MediaEndReason.ivr(.sequenceFinished).description == "the sequence finished")
        #expect(MediaEndReason.ivr(.hangupOption).description == "the caller chose to hang up")
        let reasons: [IVRSession.EndReason] = [
            .routeHangup, .hangupOption, .noChoice, .sequenceFinished, .callerHungUp,
        ]
        #expect(reasons.allSatisfy { MediaEndReason.ivr($0).description == $0.description })
    }

    @Test func endCallStopsTheMediaReleasesThePortAndReportsNothingMore() throws {
        let compiled = try exampleAccount(CallFormat(sampleRate: 8000, encoding: .alaw, dtmfOutput: .inband))
        let log = EventLog()
        let engine = try MediaEngine(
            configuration: .init(bindHost: "127.0.0.1", ports: 32300...32399),
            logger: Logger(label: "test"), onEvent: { log.append($0) })
        defer { engine.shutdown() }
        var peer = try Peer()
        let handle = try engine.startCall(
            MediaCallParameters(
                port: engine.reservePort(), remote: (host: "127.0.0.1", port: peer.address.port), audioPayloadType: 8,
                telephoneEventPayloadType: 101, ptimeMs: 20, sendDTMFAsEvents: false,
                session: compiled.makeSession(calling: PhoneNumber("5145550100")), callID: "bye"))
        try waitUntil {
            peer.drain()
            return peer.received.count >= 5
        }
        #expect(peer.received.allSatisfy { $0.header.payloadType == 8 })
        engine.endCall(handle)
        try waitUntil { engine.ports.reservedCount == 0 }
        usleep(100_000)
        peer.drain()
        let count = peer.received.count
        let eventsAtEnd = log.all.count
        usleep(200_000)
        peer.drain()
        #expect(peer.received.count == count && log.all.count == eventsAtEnd)
        #expect(!log.ended && log.kinds == [.session(.menuStarted(ivr: 0, play: 1))])
    }

    @Test func mismatchedParametersAreRefused() throws {
        let compiled = try exampleAccount(CallFormat(sampleRate: 8000, encoding: .ulaw, dtmfOutput: .rfc4733))
        // A 5 ms tick (the default is 1 ms, which every ptime is a multiple of).
        let engine = try MediaEngine(
            configuration: .init(
                bindHost: "127.0.0.1", ports: 32400...32499,
                tick: .milliseconds(5)),
            logger: Logger(label: "test"), onEvent: { _ in })
        defer { engine.shutdown() }
        let session = try compiled.makeSession(calling: PhoneNumber("5145550100"))
        let port = try engine.reservePort()
        func start(_ pt: UInt8, _ te: UInt8?, _ events: Bool, ptime: Int = 20, host: String = "127.0.0.1") -> Bool {
            (try? engine.startCall(
                MediaCallParameters(
                    port: port, remote: (host: host, port: 4000), audioPayloadType: pt,
                    telephoneEventPayloadType: te, ptimeMs: ptime, sendDTMFAsEvents: events, session: session,
                    callID: "x"))) != nil
        }
        #expect(!start(72, 101, true))  // RFC 5761: 64-95 would be RTCP
        #expect(!start(200, 101, true))  // not a payload type
        #expect(!start(0, nil, true))  // RFC 4733 session without telephone-event
        #expect(!start(0, 101, false))  // events compiled, in-band asked
        #expect(!start(0, 101, true, ptime: 7))  // not a multiple of the 5 ms tick
        #expect(!start(0, 101, true, ptime: Int.max - 5))
        #expect(!start(0, 101, true, host: "caller.example.com"))
        #expect(engine.activeCalls == 0)
        port.release()
        #expect(engine.ports.reservedCount == 0)
    }
}

/// Waits up to `seconds` for `condition`, polling every 10 ms.
func waitUntil(seconds: Double = 20, _ condition: () throws -> Bool) throws {
    let deadline = MediaClock.now() + Int64(seconds * 1e9)
    while MediaClock.now() < deadline {
        if try condition() { return }
        usleep(10_000)
    }
    Issue.record("timed out after \(seconds) s")
}
