import CallSequenceEngine
import CallSequenceModel
import CallServer
import Foundation
import Glibc
import Logging
import RTP
import Recordings
import TelephonyDSP
import Testing

// Which RTP a call hears (the "RTP Bleed" class, Asterisk CVE-2017-14099), where its key presses come from (one
// source per call), and re-INVITE media changes, on a real engine and real sockets on 127.0.0.0/8: the caller
// on 127.0.0.1, attackers on 127.0.0.2 and 127.0.0.3 (Linux routes the whole block to the loopback device).

/// A UDP socket on a loopback address, sending RTP and recording what it receives.
private struct Endpoint {
    var peer: Peer

    init(host: String) throws {
        peer = try Peer(host: host)
    }

    /// RFC 4733 packet of `digit` (one timestamp per press).
    mutating func sendEvent(_ digit: Character, to engine: UDPAddress, step: Int, timestamp: UInt32) {
        let end = step >= 3
        let duration = UInt16(160 * min(step + 1, 3))
        peer.send(
            to: engine, payloadType: 101, marker: step == 0, timestamp: timestamp,
            payload: [code(digit), (end ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xFF)])
    }

    mutating func sendSilence(to engine: UDPAddress) {
        peer.send(to: engine, payloadType: 0, payload: [UInt8](repeating: MuLaw.silence, count: 160))
        peer.timestamp &+= 160
    }

    /// Sends a whole RFC 4733 press (three updates, three end packets) at once.
    mutating func press(_ digit: Character, to engine: UDPAddress) {
        let timestamp = peer.timestamp
        for step in 0..<6 { sendEvent(digit, to: engine, step: step, timestamp: timestamp) }
        peer.timestamp &+= 480
    }
}

/// An account file in a temporary folder: Lobby's 1 opens Sub, 2 runs "Gate"; Sub's 1 runs "Door", 2 runs
/// "Gate". Prompts are the system default.
private func twoLevelAccount() throws -> CompiledAccount {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("callseq-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let json = """
        {
          "capabilities": { "sequences": true, "sms": false },
          "dids": [ { "number": "5145550100", "route": { "ivr": "Lobby" } } ],
          "ivrs": [
            { "name": "Lobby", "prompt": "default", "timeoutSeconds": 5, "attempts": 3,
              "options": { "1": { "ivr": "Sub" }, "2": { "sequence": "Gate" } } },
            { "name": "Sub", "prompt": "default", "timeoutSeconds": 5, "attempts": 3,
              "options": { "1": { "sequence": "Door" }, "2": { "sequence": "Gate" } } }
          ],
          "sequences": [
            { "name": "Door", "steps": [ { "type": "dtmf", "digits": "1234" } ] },
            { "name": "Gate", "steps": [ { "type": "dtmf", "digits": "5678" } ] }
          ]
        }
        """
    let path = folder.appendingPathComponent("account.json").path
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    let (account, library) = try Account.load(path)
    return try CompiledAccount(
        account, recordings: RecordingCache(library: library),
        format: CallFormat(sampleRate: 8000, encoding: .ulaw, dtmfOutput: .rfc4733))
}

private func digits(_ log: EventLog) -> [DTMFDigit] {
    log.kinds.compactMap { if case .session(.digit(let d)) = $0 { d } else { nil } }
}

/// The telephone-event digits an RFC 4733 receiver hears in `received`.
private func heardDigits(_ received: [Received]) -> String {
    var receiver = TelephoneEventReceiver()
    let codes = received.filter { $0.header.payloadType == 101 }.compactMap { r in
        r.payload.withUnsafeBytes { TelephoneEvent(payload: $0) }.flatMap { receiver.receive(r.header, $0) }
    }
    return String(codes.compactMap { DTMFDigit(rawValue: $0)?.character })
}

@Suite("Media security: which RTP a call hears", .serialized)
struct MediaSecurityTests {
    /// The door account (Lobby's 1 runs "Front door", code 9876#; 2 runs "Parking gate", *1w2580#), RFC 4733.
    func engineAndCall(
        ports: ClosedRange<Int>, probation: Int = 0, sdpHost: String = "127.0.0.1",
        sdpPort: Int, signalling: String? = "127.0.0.1", beforeStart: (UDPAddress) -> Void = { _ in }
    )
        throws -> (MediaEngine, EventLog, UDPAddress)
    {
        let compiled = try exampleAccount(CallFormat(sampleRate: 8000, encoding: .ulaw, dtmfOutput: .rfc4733))
        let log = EventLog()
        let engine = try MediaEngine(
            configuration: .init(
                bindHost: "127.0.0.1", ports: ports, rtpTimeout: .seconds(30), rtpProbation: probation),
            logger: Logger(label: "test"), onEvent: { log.append($0) })
        let port = try engine.reservePort()
        let address = try #require(UDPAddress(host: "127.0.0.1", port: port.port))
        beforeStart(address)  // the port is in the SDP answer: between the 200 OK and the ACK
        try engine.startCall(
            MediaCallParameters(
                port: port, remote: (host: sdpHost, port: sdpPort), signallingAddress: signalling, audioPayloadType: 0,
                telephoneEventPayloadType: 101, sendDTMFAsEvents: true,
                session: compiled.makeSession(calling: PhoneNumber("5145550100")),
                callID: "guarded"))
        return (engine, log, address)
    }

    /// A spoofer on 127.0.0.2 sprays RTP (audio and RFC 4733 "2", the parking gate) at the call's port from before
    /// the ACK (or only after it) and all through the call; the caller on 127.0.0.1 starts sending only once it has
    /// heard 10 packets, then presses 1.
    func spooferRaces(beforeACK: Bool, ports: ClosedRange<Int>) throws {
        var caller = try Endpoint(host: "127.0.0.1")
        var spoofer = try Endpoint(host: "127.0.0.2")
        let (engine, log, address) = try engineAndCall(ports: ports, sdpPort: caller.peer.address.port) { address in
            guard beforeACK else { return }
            for _ in 0..<20 { spoofer.sendSilence(to: address) }
            spoofer.press("2", to: address)
        }
        defer { engine.shutdown() }
        var clock = MediaClock(interval: .milliseconds(20))
        var pressed = false
        var n = 0
        while n < 40 * 50, !log.ended {
            clock.waitForNextTick()
            n += 1
            caller.peer.drain()
            spoofer.peer.drain()
            if n % 10 == 0 { spoofer.press("2", to: address) } else { spoofer.sendSilence(to: address) }
            guard caller.peer.received.count >= 10 else { continue }
            if !pressed, caller.peer.received.count >= 25 {
                caller.press("1", to: address)
                pressed = true
            } else {
                caller.sendSilence(to: address)
            }
        }
        usleep(100_000)
        caller.peer.drain()
        spoofer.peer.drain()
        #expect(log.ended)
        #expect(spoofer.peer.received.isEmpty, "the spoofer received \(spoofer.peer.received.count) packets")
        #expect(digits(log) == [.one], "\(log.kinds)")
        #expect(log.kinds.contains(.session(.sequenceStarted(0))) && !log.kinds.contains(.session(.sequenceStarted(1))))
        #expect(heardDigits(caller.peer.received) == "9876#")
        #expect(engine.statistics().foreignPackets > 0)
    }

    @Test func aSpooferBeforeTheACKGetsNothingAndTheCallerOpensTheDoor() throws {
        try spooferRaces(beforeACK: true, ports: 33000...33099)
    }

    @Test func aSpooferAfterTheACKGetsNothingAndTheCallerOpensTheDoor() throws {
        try spooferRaces(beforeACK: false, ports: 33100...33199)
    }

    /// Behind NAT: the SDP names 127.0.0.9 (a private address nothing answers on), the SIP signalling came from
    /// 127.0.0.1, and the caller's RTP comes from 127.0.0.1 on a port of its own: the call latches to it.
    @Test func aCallerBehindNATIsHeardFromItsSignallingAddressOnAnotherPort() throws {
        var caller = try Endpoint(host: "127.0.0.1")
        let (engine, log, address) = try engineAndCall(ports: 33200...33299, sdpHost: "127.0.0.9", sdpPort: 40000)
        defer { engine.shutdown() }
        var clock = MediaClock(interval: .milliseconds(20))
        var n = 0
        var pressed = false
        while n < 40 * 50, !log.ended {
            clock.waitForNextTick()
            n += 1
            caller.peer.drain()
            if !pressed, caller.peer.received.count >= 25 {
                caller.press("1", to: address)
                pressed = true
            } else {
                caller.sendSilence(to: address)
            }
        }
        usleep(100_000)
        caller.peer.drain()
        #expect(digits(log) == [.one])
        #expect(heardDigits(caller.peer.received) == "9876#")
    }

    /// The same NAT'd caller with the offer's c= address as its only known address: its port differs, its IP
    /// does not.
    @Test func aCallerOnTheOffersAddressButAnotherPortIsHeard() throws {
        var caller = try Endpoint(host: "127.0.0.1")
        let (engine, log, address) = try engineAndCall(ports: 33300...33399, sdpPort: 40000, signalling: nil)
        defer { engine.shutdown() }
        try waitUntil {
            caller.sendSilence(to: address)
            caller.peer.drain()
            return caller.peer.received.count >= 5
        }
        #expect(log.kinds.first == .session(.menuStarted(ivr: 0, play: 1)))
        #expect(engine.statistics().foreignPackets == 0)
    }

    /// Learning mode off (the default): a source that is neither the offer's nor the signalling address is never
    /// heard, however long it sends in sequence. On (probation 4): it is, after 4 packets in sequence — the
    /// documented risk — and packets out of sequence restart its probation.
    @Test(arguments: [0, 4]) func probationLearnsAnotherSourceOnlyWhenEnabled(probation: Int) throws {
        var elsewhere = try Endpoint(host: "127.0.0.3")
        let (engine, _, address) = try engineAndCall(
            ports: probation == 0 ? 33400...33499 : 33500...33599,
            probation: probation, sdpHost: "127.0.0.9", sdpPort: 40000)
        defer { engine.shutdown() }
        // Out of sequence (every other number): never learned.
        for _ in 0..<10 {
            elsewhere.sendSilence(to: address)
            elsewhere.peer.sequence &+= 1
            usleep(20_000)
        }
        usleep(100_000)
        elsewhere.peer.drain()
        #expect(elsewhere.peer.received.isEmpty)
        for _ in 0..<(probation == 0 ? 50 : 8) {
            elsewhere.sendSilence(to: address)
            usleep(20_000)
        }
        if probation == 0 {
            try waitUntil { engine.statistics().foreignPackets >= 40 }
            elsewhere.peer.drain()
            #expect(elsewhere.peer.received.isEmpty)
        } else {
            try waitUntil {
                elsewhere.peer.drain()
                return elsewhere.peer.received.count >= 3
            }
        }
    }
}

@Suite("One key press is one press", .serialized)
struct OnePressTests {
    /// A phone that sends a press both ways (an RFC 4733 event and 120 ms of the tone in its audio): in a two-level
    /// IVR the press opens the sub-menu and nothing more.
    @Test func aPressSentBothWaysCountsOnce() throws {
        let compiled = try twoLevelAccount()
        let log = EventLog()
        let engine = try MediaEngine(
            configuration: .init(bindHost: "127.0.0.1", ports: 33600...33699),
            logger: Logger(label: "test"), onEvent: { log.append($0) })
        defer { engine.shutdown() }
        var caller = try Endpoint(host: "127.0.0.1")
        let port = try engine.reservePort()
        let address = try #require(UDPAddress(host: "127.0.0.1", port: port.port))
        try engine.startCall(
            MediaCallParameters(
                port: port, remote: (host: "127.0.0.1", port: caller.peer.address.port), signallingAddress: "127.0.0.1",
                audioPayloadType: 0, telephoneEventPayloadType: 101, sendDTMFAsEvents: true,
                session: compiled.makeSession(calling: PhoneNumber("5145550100")), callID: "both-ways"))
        var tone = try DTMFGenerator(
            dialString: DialString("1"),
            timing: DTMFTiming(toneMilliseconds: 120, gapMilliseconds: 100), sampleRate: 8000)
        var pcm = [Int16](repeating: 0, count: 160)
        var clock = MediaClock(interval: .milliseconds(20))
        var pressAt: Int?
        var n = 0
        while n < 150 {  // 3 s
            clock.waitForNextTick()
            n += 1
            caller.peer.drain()
            if pressAt == nil, caller.peer.received.count >= 10 { pressAt = n }
            if let at = pressAt, n - at < 6 {
                caller.sendEvent("1", to: address, step: n - at, timestamp: caller.peer.timestamp)
            }
            var payload = [UInt8](repeating: MuLaw.silence, count: 160)
            if pressAt != nil, !tone.isFinished {
                _ = pcm.withUnsafeMutableBufferPointer { tone.render(into: $0) }
                payload = pcm.map(MuLaw.encode)
            }
            caller.peer.send(to: address, payloadType: 0, payload: payload)
            if pressAt == nil || n - (pressAt ?? 0) >= 6 { caller.peer.timestamp &+= 160 }
        }
        #expect(digits(log) == [.one], "\(log.kinds)")
        #expect(log.kinds.contains(.session(.menuStarted(ivr: 1, play: 1))))
        #expect(!log.kinds.contains { if case .session(.sequenceStarted) = $0 { true } else { false } }, "\(log.kinds)")
    }

    /// Two presses within one packet interval (1 then 2): both are handled, in order — the sub-menu, then its 2.
    @Test func twoDigitsInOnePacketIntervalAreBothHandledInOrder() throws {
        let compiled = try twoLevelAccount()
        let log = EventLog()
        let engine = try MediaEngine(
            configuration: .init(bindHost: "127.0.0.1", ports: 33700...33799),
            logger: Logger(label: "test"), onEvent: { log.append($0) })
        defer { engine.shutdown() }
        var caller = try Endpoint(host: "127.0.0.1")
        let port = try engine.reservePort()
        let address = try #require(UDPAddress(host: "127.0.0.1", port: port.port))
        try engine.startCall(
            MediaCallParameters(
                port: port, remote: (host: "127.0.0.1", port: caller.peer.address.port), signallingAddress: "127.0.0.1",
                audioPayloadType: 0, telephoneEventPayloadType: 101, sendDTMFAsEvents: true,
                session: compiled.makeSession(calling: PhoneNumber("5145550100")), callID: "two-digits"))
        try waitUntil {
            caller.sendSilence(to: address)
            caller.peer.drain()
            return caller.peer.received.count >= 10
        }
        caller.press("1", to: address)
        caller.press("2", to: address)
        try waitUntil {
            caller.sendSilence(to: address)
            return log.ended
        }
        #expect(digits(log) == [.one, .two], "\(log.kinds)")
        #expect(log.kinds.contains(.session(.menuStarted(ivr: 1, play: 1))))
        #expect(log.kinds.contains(.session(.sequenceStarted(1))), "\(log.kinds)")  // Sub's 2: "Gate"
        caller.peer.drain()
        #expect(heardDigits(caller.peer.received) == "5678")
    }
}

@Suite("RTP ports are not guessable")
struct RTPPortChoiceTests {
    @Test func portsAreChosenAtRandomAndAReleasedPortRests() throws {
        let pool = try RTPPortPool(host: "127.0.0.1", ports: 34000...35999)
        let reservations = try (0..<20).map { _ in try pool.reserve() }
        let ports = reservations.map(\.port)
        #expect(Set(ports).count == 20 && ports.allSatisfy { $0 % 2 == 0 && (34000...35999).contains($0) })
        // In order (each 2 above the last) would be the old, guessable behaviour; 20 random picks among 1,000
        // ports are in order with a probability far below 1e-30.
        let steps = zip(ports, ports.dropFirst()).map { $1 - $0 }
        #expect(!steps.allSatisfy { $0 == 2 }, "\(ports)")
        #expect(Set(steps).count > 5, "\(ports)")
        let released = ports[0]
        reservations[0].release()
        let next = try (0..<20).map { _ in try pool.reserve() }
        #expect(!next.map(\.port).contains(released), "a port just released was handed out again")
        for r in reservations + next { r.release() }
        #expect(pool.reservedCount == 0)
    }

    @Test func everyPortOfASmallRangeIsHandedOutThenNoneIsLeft() throws {
        let pool = try RTPPortPool(host: "127.0.0.1", ports: 36000...36007)
        let reservations = try (0..<4).map { _ in try pool.reserve() }
        #expect(Set(reservations.map(\.port)) == [36000, 36002, 36004, 36006])
        #expect(throws: SocketError.self) { try pool.reserve() }
        reservations[2].release()
        #expect(try pool.reserve().port == reservations[2].port)
        for r in reservations { r.release() }
    }
}
