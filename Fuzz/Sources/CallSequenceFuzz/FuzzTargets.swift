// libFuzzer entry point (swiftc -sanitize=fuzzer,address): `make fuzz` builds this module only when
// CALLSEQ_FUZZ is set (see Package.swift) and runs each target for FUZZ_SECONDS. FUZZ_TARGET picks what
// the bytes are fed to: the JSON reader, sequence validation, account validation, dial strings, or
// AudioFile.decode from memory, SIP datagrams (the parser, SDP, and the user-agent server's state machine
// fed up to 8 datagrams split at NUL bytes, its timers fired), or RTP datagrams (the header and RFC 4733
// receiver). Any trap, leak or out-of-bounds access is a finding; libFuzzer writes
// the input to Fuzz/crashes/ and it becomes a regression test.

import CallSequenceEngine
import CallSequenceModel
import Glibc
import NIOCore
import RTP
import Recordings
import SIP
import TelephonyDSP

/// The caller's address every fuzzed datagram comes from.
nonisolated(unsafe) private let source = try? SocketAddress(ipAddress: "192.0.2.10", port: 5060)
/// One receiver across inputs, as a live call keeps one across packets.
nonisolated(unsafe) private var telephoneEvents = TelephoneEventReceiver()

/// Feeds datagrams (split at NUL bytes, at most 8) to a fresh user-agent server, answering its INVITEs and
/// firing the timers it starts, as the NIO driver would.
private func fuzzSIP(_ bytes: [UInt8]) {
    guard let source else { return }
    var agent = UserAgentServer(seed: 1)
    var timers: [TimerID] = []
    var decisions = 0
    func perform(_ actions: [UserAgentServer.Action]) {
        for action in actions {
            switch action {
            case .incomingCall(let call):
                decisions += 1
                let decision: CallDecision = decisions % 3 == 0 ? .reject(status: 486)
                    : .accept(answerSDP: "v=0\r\n", ringFor: decisions % 2 == 0 ? .milliseconds(100) : .zero)
                perform(agent.decide(call.id, decision))
            case .sessionOffered(let call, _):
                decisions += 1
                perform(agent.decideSession(call, decisions % 3 == 0 ? .reject(status: 488) : .accept(sdp: "v=0\r\n")))
            case .startTimer(let timer, _):
                if timers.count < 64 { timers.append(timer) }
            default:
                break
            }
        }
    }
    for datagram in bytes.split(separator: 0, maxSplits: 7) {
        _ = try? SIPMessage(parsing: Array(datagram))
        if let text = String(validating: datagram, as: UTF8.self) { _ = try? SDPOffer(parsing: text) }
        var buffer = ByteBuffer()
        buffer.writeBytes(datagram)
        perform(agent.received(buffer, from: source))
    }
    var fired = 0
    while fired < timers.count && fired < 256 {
        perform(agent.timerFired(timers[fired]))
        fired += 1
    }
}

/// Parses an RTP datagram and hands a telephone-event payload to the receiver.
private func fuzzRTP(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { datagram in
        guard let header = try? RTPHeader(parsing: datagram) else { return }
        let payload = header.payload(in: datagram)
        if let event = TelephoneEvent(payload: payload) { _ = telephoneEvents.receive(header, event) }
    }
}

/// Which target this run feeds, read once from FUZZ_TARGET.
nonisolated(unsafe) private var target: String = {
    guard let value = getenv("FUZZ_TARGET") else { return "json" }
    return String(cString: value)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "audio":
        _ = try? AudioFile.decode(bytes, name: "fuzz.wav")
    case "sip":
        fuzzSIP(bytes)
    case "rtp":
        fuzzRTP(bytes)
    case "dialstring":
        let text = String(decoding: bytes, as: UTF8.self)
        if let dial = try? DialString(text) {
            _ = try? DTMFGenerator(dialString: dial, sampleRate: 8000)
        }
    default:
        let text = String(decoding: bytes, as: UTF8.self)
        switch target {
        case "sequence": _ = try? SequenceDefinition.parse(text, source: "fuzz")
        case "account": _ = try? Account.parse(text, source: "fuzz", baseDirectory: "/nonexistent")
        default: _ = try? JSONValue.parse(text)
        }
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable module's entry point under this name; it hands over to libFuzzer's driver.
@_cdecl("CallSequenceFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
