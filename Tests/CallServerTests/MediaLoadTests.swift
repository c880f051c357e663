import CallSequenceEngine
import CallSequenceModel
import CallServer
import Glibc
import Logging
import RTP
import TelephonyDSP
import Testing

/// An environment variable as an integer.
func environment(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) } }

/// The process's heap allocations so far, when Benchmarks/MediaLoad/malloccount.c is preloaded.
func allocationCount() -> UInt64? {
    // A null handle: RTLD_DEFAULT.
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloccount_total") else { return nil }
    typealias Total = @convention(c) () -> UInt
    return UInt64(unsafeBitCast(symbol, to: Total.self)())
}

/// A measurement, not a check: CALLSERVER_LOAD_CALLS calls (e.g. 500) on loopback, each receiving PCMU every
/// 20 ms from one caller socket and sending its IVR prompt back to it, for CALLSERVER_LOAD_SECONDS (5), on
/// CALLSERVER_LOAD_THREADS media threads (1) with a CALLSERVER_LOAD_TICK_MS tick (5).
/// Prints the media threads' CPU per call and per frame, the lateness, and the heap allocations of the
/// whole process in the window (0 expected: preload Benchmarks/MediaLoad/malloccount.c to count them).
@Suite("Media engine load (measurement)")
struct MediaLoadTests {
    @Test(.enabled(if: environment("CALLSERVER_LOAD_CALLS") != nil))
    func loadOnLoopback() throws {
        let calls = environment("CALLSERVER_LOAD_CALLS") ?? 500
        let seconds = environment("CALLSERVER_LOAD_SECONDS") ?? 5
        let threads = environment("CALLSERVER_LOAD_THREADS") ?? 1
        let tickMs = environment("CALLSERVER_LOAD_TICK_MS") ?? 5
        let compiled = try exampleAccount(CallFormat(sampleRate: 8000, encoding: .ulaw, dtmfOutput: .rfc4733))
        let engine = try MediaEngine(
            configuration: .init(
                bindHost: "127.0.0.1", ports: 34000...(34000 + 2 * calls + 200), mediaThreads: threads,
                rtpTimeout: .seconds(3600), tick: .milliseconds(tickMs),
                maxCallsPerThread: calls),
            logger: Logger(label: "load"), onEvent: { _ in })
        defer { engine.shutdown() }
        let caller = try UDPSocket.bind(#require(UDPAddress(host: "127.0.0.1", port: 0)))
        defer { caller.close() }
        let callerPort = try #require(caller.localAddress).port
        var targets: [UDPAddress] = []
        for i in 0..<calls {
            let port = try engine.reservePort()
            targets.append(try #require(UDPAddress(host: "127.0.0.1", port: port.port)))
            try engine.startCall(
                MediaCallParameters(
                    port: port, remote: (host: "127.0.0.1", port: callerPort), audioPayloadType: 0,
                    telephoneEventPayloadType: 101, ptimeMs: 20, sendDTMFAsEvents: true,
                    session: compiled.makeSession(calling: PhoneNumber("5145550100")), callID: "load-\(i)"))
        }
        var packet = [UInt8](repeating: MuLaw.silence, count: 172)
        var clock = MediaClock(interval: .milliseconds(20))
        var before: (stats: MediaStatistics, allocations: UInt64?, at: Int64)?
        let warmUp = 50
        let total = warmUp + seconds * 50
        for n in 0..<total {
            clock.waitForNextTick()
            for (i, target) in targets.enumerated() {
                packet.withUnsafeMutableBytes {
                    _ = RTPHeader(
                        marker: false, payloadType: 0, sequenceNumber: UInt16(truncatingIfNeeded: n),
                        timestamp: UInt32(n * 160), ssrc: UInt32(i)
                    ).write(into: $0)
                }
                _ = packet.withUnsafeBytes { caller.send($0, to: target) }
            }
            if n == warmUp { before = (engine.statistics(), allocationCount(), MediaClock.now()) }
        }
        usleep(150_000)  // the engine publishes every 20 ticks
        let after = engine.statistics()
        let allocations = allocationCount()
        let start = try #require(before)
        let elapsed = Double(MediaClock.now() - 150_000_000 - start.at) / 1e9
        let frames = Double(after.packetsSent - start.stats.packetsSent)
        let cpu = Double(after.cpuTime - start.stats.cpuTime)
        let received = after.packetsReceived - start.stats.packetsReceived
        print(
            """
            media load: \(calls) calls, \(threads) media thread(s), \(tickMs) ms tick, \(format1(elapsed)) s
              packets sent \(after.packetsSent - start.stats.packetsSent), received \(received), send errors \
            \(after.sendErrors - start.stats.sendErrors)
              media CPU \(format1(cpu / 1e6 / elapsed)) ms/s = \(format1(cpu / 1e7 / elapsed)) % of a core; \
            \(format1(cpu / max(frames, 1))) ns per call per 20 ms frame (receive + render + send)
              tick wake-up lateness p50 \(after.latenessP50 / 1000) µs, p99 \(after.latenessP99 / 1000) µs, \
            max \(after.latenessMax / 1000) µs
              tick's last send after deadline p50 \(after.sendLateness.percentile(0.5) / 1000) µs, \
            p99 \(after.sendLateness.percentile(0.99) / 1000) µs, max \(after.sendLateness.max / 1000) µs
              heap allocations in the window (whole process): \
            \(allocations.flatMap { a in start.allocations.map { String(a - $0) } } ?? "not counted (no preload)")
            """)
        #expect(after.calls == calls && frames > 0)
    }
}

func format1(_ x: Double) -> String {
    let scaled = (x * 10).rounded() / 10
    return "\(scaled)"
}
