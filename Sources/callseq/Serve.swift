import ArgumentParser
import CallSequence
import CallServer
import Dispatch
import Foundation
import Logging
import SMSGateway

/// `callseq serve`: a SIP endpoint that answers calls for the accounts' numbers and plays their IVRs and
/// sequences over RTP.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer SIP calls (UDP) for the accounts' numbers and play their IVRs and sequences over RTP.",
        discussion: """
            The first line on stdout is `listening on udp HOST:PORT` (the real port when 0 was asked). Logs go \
            to stderr, one line per call event with the SIP Call-ID. SIGHUP reloads the account files (a file \
            that no longer validates is refused and its previous version kept; calls in progress keep what \
            they started with). SIGTERM or SIGINT: new calls get 503, calls in progress are ended with BYE, exit 0.
            """
    )

    @Option(name: .customLong("account"), help: "An account file (repeatable).")
    var accounts: [String] = []

    @Option(name: .customLong("recordings-root"),
            help: "A folder accounts' recordings folders may be in, besides each account file's own folder.")
    var recordingsRoot: String?

    @Option(help: "SIP's UDP address, HOST:PORT (port 0: any free port).")
    var listen: String = "127.0.0.1:5060"

    @Option(name: .customLong("media-address"), help: "The address announced in SDP (default: the --listen host).")
    var mediaAddress: String?

    @Option(name: .customLong("rtp-ports"), help: "RTP ports, one per call: A-B.")
    var rtpPorts: String = "20000-29999"

    @Option(name: .customLong("media-threads"), help: "Threads that send and receive RTP (1...64).")
    var mediaThreads: Int = 1

    @Option(name: .customLong("media-tick-ms"),
            help: "The media clock's tick in ms (1...20): calls are spread over the ticks of a packet interval.")
    var mediaTickMs: Int = 1

    @Option(name: .customLong("realtime-priority"),
            help: "Run the media threads with SCHED_FIFO at this priority (1...99); needs the privilege.")
    var realtimePriority: Int32?

    @Option(name: .customLong("rtp-timeout"), help: "Seconds without RTP from the caller before the call is ended.")
    var rtpTimeout: Int = 30

    @Option(name: .customLong("hold-timeout"),
            help: "Seconds a call may stay on hold (the caller sends no RTP) before it is ended.")
    var holdTimeout: Int = 7200

    @Option(name: .customLong("rtp-probation"),
            help: ArgumentHelp("Learning mode, off by default (0): also accept RTP from another address after this many packets in sequence from it.",
                               discussion: "For callers whose media address is neither their SDP's c= address nor their SIP source. Risk: whoever guesses the port and sends that many packets before the caller takes the call's audio and key presses."))
    var rtpProbation: Int = 0

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @OptionGroup var sms: SMSOptions

    func validate() throws {
        guard !accounts.isEmpty else { throw ValidationError("give at least one --account FILE") }
        _ = try parsedListen()
        _ = try parsedPorts()
        guard (1...64).contains(mediaThreads) else { throw ValidationError("--media-threads \(mediaThreads) is out of range (1...64)") }
        guard [1, 2, 4, 5, 10, 20].contains(mediaTickMs) else {
            throw ValidationError("--media-tick-ms \(mediaTickMs) must divide 20 (1, 2, 4, 5, 10 or 20)")
        }
        if let realtimePriority, !(1...99).contains(realtimePriority) {
            throw ValidationError("--realtime-priority \(realtimePriority) is out of range (1...99)")
        }
        guard (1...3600).contains(rtpTimeout) else { throw ValidationError("--rtp-timeout \(rtpTimeout) is out of range (1...3600 s)") }
        guard (1...86400).contains(holdTimeout) else {
            throw ValidationError("--hold-timeout \(holdTimeout) is out of range (1...86400 s)")
        }
        guard (0...1000).contains(rtpProbation) else {
            throw ValidationError("--rtp-probation \(rtpProbation) is out of range (0: off, up to 1000 packets)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a level") }
        try sms.check()
    }

    private func parsedListen() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw ValidationError("--listen '\(listen)' is not HOST:PORT")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen '\(listen)' has no host") }
        if mediaAddress == nil && (host == "0.0.0.0" || host == "::") {
            throw ValidationError("--listen \(listen) is a wildcard: give --media-address, the address callers send RTP to")
        }
        return (host, port)
    }

    private func parsedPorts() throws -> ClosedRange<Int> {
        let parts = rtpPorts.split(separator: "-")
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1024 <= low, low < high, high <= 65535 else {
            throw ValidationError("--rtp-ports '\(rtpPorts)' is not A-B with 1024 <= A < B <= 65535")
        }
        return low...high
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "callseq.serve")
        // One RTP socket per call: raise the soft limit on open files to the hard one.
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let (host, port) = try parsedListen()
        let directory: AccountDirectory
        let progress = ProgressLine("loading accounts")
        let show: (Int, Int, String) -> Void = { loaded, total, path in progress.update(loaded, of: total, path) }
        do throws(AccountLoadError) {
            directory = try AccountDirectory(paths: accounts, recordingsRoot: recordingsRoot, progress: show)
        } catch {
            progress.finish()
            throw ProblemList(lines: error.lines)
        }
        progress.update(accounts.count, of: accounts.count, force: true)
        progress.finish()
        // One ledger for every account: each text is counted against its account file's daily limit.
        let dispatcher = try sms.makeDispatcher(account: SMSAccount(key: "serve", dailyLimit: 0))
        let server = try runtime {
            try CallServer(
                configuration: CallServer.Configuration(host: host, port: port, mediaAddress: mediaAddress,
                                                        rtpPorts: try parsedPorts(), mediaThreads: mediaThreads,
                                                        rtpTimeoutSeconds: rtpTimeout, holdTimeoutSeconds: holdTimeout,
                                                        rtpProbationPackets: rtpProbation, mediaTickMs: mediaTickMs,
                                                        realtimePriority: realtimePriority),
                accounts: directory, logger: logger,
                onSMS: { request in
                    guard let dispatcher else {
                        logger.info("call \(request.callID): would send SMS from \(request.sms.from.digits) to \(request.sms.to.digits): \"\(request.sms.message)\" (dry run)")
                        return
                    }
                    let account = smsAccount(file: request.account, limit: request.dailyLimit)
                    let message = SMSMessage(request.sms)
                    Task {
                        let report = await dispatcher.send(message, account: account)
                        logger.info("call \(request.callID): SMS to \(message.to): \(report)")
                    }
                })
        }
        let boundPort = try runtime { try waitForThrowing { try await server.start() } }
        print("listening on udp \(host.contains(":") ? "[\(host)]" : host):\(boundPort)")
        fflush(nil)
        logger.info("serving \(directory.numberCount) numbers from \(directory.entries.count) account files")

        // Signals: handled on a queue of their own, never in a signal handler.
        let finished = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "callseq.serve.signals")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGHUP, SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if number == SIGHUP {
                    _ = server.reload()
                } else {
                    logger.info("shutting down: new calls get 503, calls in progress end with BYE")
                    server.drain(seconds: 5)
                    let stats = server.statistics()
                    logger.notice("media: \(stats.summary)")
                    waitFor { await server.shutdown() }
                    finished.signal()
                }
            }
            source.resume()
            sources.append(source)
        }
        finished.wait()
        withExtendedLifetime(sources) {}
    }
}

/// Runs throwing async work from a synchronous command and waits for its result.
func waitForThrowing<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = waitFor { () async -> Result<T, any Error> in
        do { return .success(try await body()) } catch { return .failure(error) }
    }
    return try result.get()
}
