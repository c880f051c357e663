// Real peers for the live-call tests: `callseq serve` as a process, baresip (a SIP phone driven through
// its ctrl_tcp module), SIPp scenarios and tshark captures. Ports are chosen at run time; every wait is
// on an event (a line, a netstring, a process exit) with a generous deadline, because CI shares 2 cores.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A UDP or TCP port that was free a moment ago on 127.0.0.1 (the kernel picked it).
func freePort(udp: Bool = true) -> Int {
    let fd = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Sends one UDP datagram to 127.0.0.1:port.
func sendDatagram(_ bytes: [UInt8], toPort port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    _ = bytes.withUnsafeBytes { buffer in
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}

/// Lines a child process writes, collected as they come, with waits for a line that matches.
final class LineCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var lines: [String] = []
    private var partial = Data()
    private(set) var closed = false

    func attach(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.append(data)
        }
    }

    private func append(_ data: Data) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if data.isEmpty {
            closed = true
            return
        }
        partial.append(data)
        while let newline = partial.firstIndex(of: 0x0A) {
            lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial.removeSubrange(partial.startIndex...newline)
        }
    }

    /// Every line so far.
    var all: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// Waits until a line satisfies `predicate`; returns it, or nil after `seconds`.
    func wait(seconds: Double, for predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let line = lines.first(where: predicate) { return line }
            if closed || !condition.wait(until: deadline) { return lines.first(where: predicate) }
        }
    }

    /// Waits until `count` lines satisfy `predicate`.
    func wait(seconds: Double, count: Int, for predicate: (String) -> Bool) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let n = lines.filter(predicate).count
            if n >= count || closed || !condition.wait(until: deadline) { return lines.filter(predicate).count }
        }
    }
}

/// `callseq serve` running in the background.
final class ServeProcess {
    let process = Process()
    let stdout = LineCollector()
    let stderr = LineCollector()
    /// The SIP port it listens on.
    private(set) var port = 0
    let rtpPorts: ClosedRange<Int>

    init(accounts: [String], rtpPorts: ClosedRange<Int>? = nil, extra: [String] = []) throws {
        let base = 20000 + 2 * Int.random(in: 0..<4500)
        self.rtpPorts = rtpPorts ?? base...(base + 399)
        process.executableURL = URL(fileURLWithPath: CommandRunner.callseqPath)
        process.arguments =
            ["serve"] + accounts.flatMap { ["--account", $0] }
            + ["--listen", "127.0.0.1:0", "--rtp-ports", "\(self.rtpPorts.lowerBound)-\(self.rtpPorts.upperBound)"]
            + extra
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        stdout.attach(out)
        stderr.attach(err)
        try process.run()
        guard let first = stdout.wait(seconds: 60, for: { $0.hasPrefix("listening on udp ") }),
            let portText = first.split(separator: ":").last, let port = Int(portText)
        else {
            process.terminate()
            throw LivePeerError("callseq serve did not print its port: \(stderr.all.suffix(5))")
        }
        self.port = port
    }

    /// Every log line (swift-log writes to stderr).
    var log: [String] { stderr.all }

    /// SIGTERM, then the exit status (nil if it did not exit within `seconds`).
    func stop(seconds: Double = 30) -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}

struct LivePeerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A baresip phone (Debian's baresip-core) in its own folder, driven through ctrl_tcp (netstring JSON).
final class Baresip {
    let directory: URL
    let process = Process()
    let output = LineCollector()
    private let input = Pipe()
    private var control: Int32 = -1
    private var pending = [UInt8]()
    /// The JSON events received, in order.
    private(set) var events: [[String: Any]] = []

    /// - Parameter source: a WAV (8 kHz mono 16-bit) for its microphone, or nil for silence.
    init(source: String? = nil) throws {
        directory = try temporaryDirectory()
        let controlPort = freePort(udp: false)
        var microphone = source
        if microphone == nil {
            // 60 s of silence: aufile ends the call at the file's end.
            let silence = directory.appendingPathComponent("silence.wav").path
            let made = try CommandRunner.tool(
                "sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", silence, "trim", "0", "60"])
            guard made.status == 0 else { throw LivePeerError("sox: \(made.stderr)") }
            microphone = silence
        }
        let config = """
            sip_listen 127.0.0.1:0
            net_interface 127.0.0.1
            module_path /usr/lib/baresip/modules
            module g711.so
            module aufile.so
            module sndfile.so
            module_tmp account.so
            module_app menu.so
            module_app ctrl_tcp.so
            ctrl_tcp_listen 127.0.0.1:\(controlPort)
            audio_source aufile,\(microphone!)
            snd_path \(directory.path)

            """
        try config.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try "<sip:tester@127.0.0.1>;regint=0\n".write(
            to: directory.appendingPathComponent("accounts"),
            atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/baresip")
        process.arguments = ["-f", directory.path, "-t", "120"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        // baresip quits at the end of its standard input: keep it open for the call's length.
        process.standardInput = input
        output.attach(out)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(controlPort).bigEndian)
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if ok == 0 {
                control = fd
                break
            }
            close(fd)
            usleep(50_000)
        }
        guard control >= 0 else {
            stop()
            throw LivePeerError("baresip's ctrl_tcp did not open: \(output.all.suffix(5))")
        }
    }

    /// Sends a ctrl_tcp command (`dial`, `sndcode`, `hangup`...).
    func command(_ name: String, _ params: String = "") {
        let json = try? JSONSerialization.data(withJSONObject: ["command": name, "params": params, "token": name])
        let body = [UInt8](json ?? Data())
        let frame = Array("\(body.count):".utf8) + body + Array(",".utf8)
        _ = frame.withUnsafeBytes { send(control, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads events until one satisfies `predicate` (returned), or `seconds` pass (nil).
    @discardableResult
    func waitForEvent(seconds: Double, _ predicate: ([String: Any]) -> Bool) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        var scanned = 0
        while true {
            while scanned < events.count {
                let event = events[scanned]
                scanned += 1
                if predicate(event) { return event }
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var pfd = pollfd(fd: control, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(left, 1) * 1000)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = recv(control, &chunk, chunk.count, 0)
            guard n > 0 else { return nil }
            pending += chunk.prefix(n)
            // Netstrings: LENGTH ":" BODY ",".
            while let colon = pending.firstIndex(of: UInt8(ascii: ":")),
                let length = Int(String(decoding: pending[..<colon], as: UTF8.self)),
                pending.count >= colon + 1 + length + 1
            {
                let body = Data(pending[(colon + 1)..<(colon + 1 + length)])
                pending.removeFirst(colon + 1 + length + 1)
                if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], object["event"] != nil
                {
                    events.append(object)
                }
            }
        }
    }

    /// The events of one type.
    func events(_ type: String) -> [[String: Any]] { events.filter { $0["type"] as? String == type } }

    /// What baresip received, written by its sndfile module (`dump-…-dec.wav`).
    func receivedAudioPath() -> String? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.first { $0.hasPrefix("dump-") && $0.hasSuffix("-dec.wav") }.map {
            directory.appendingPathComponent($0).path
        }
    }

    func stop() {
        if control >= 0 {
            close(control)
            control = -1
        }
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        // baresip can ignore SIGTERM in the middle of a call: no phone may outlive its test.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

/// The SIPp scenarios committed in Tests/SIPp.
func sippScenario(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SIPp").appendingPathComponent(name).path
}

/// Runs SIPp against 127.0.0.1:port; SIPp's exit status is 0 when every call succeeded.
func runSIPp(_ scenario: String, service: String, port: Int, extra: [String] = []) throws -> CommandResult {
    let directory = try temporaryDirectory()
    return try CommandRunner.run(
        "/usr/bin/sipp",
        [
            "-sf", sippScenario(scenario), "-s", service, "127.0.0.1:\(port)", "-i", "127.0.0.1",
            "-p", "\(freePort())", "-mp", "\(freePort())", "-m", "1", "-timeout", "90", "-timeout_error",
            "-trace_err", "-error_file", directory.appendingPathComponent("errors.log").path, "-nostdin",
        ] + extra)
}
