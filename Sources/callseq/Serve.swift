import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import CallSequenceStorePostgres
import CallServer
import Foundation
import Logging
import ManagementAPI
import Metrics
import SMSGateway
import ServiceLifecycle
import StoreCalls
import TelephonyDSP
import UnixSignals

/// `callseq serve`: a SIP endpoint that answers calls for the accounts' numbers and plays their IVRs and
/// sequences over RTP; one swift-service-lifecycle `ServiceGroup` (SIP and media, SIGHUP reloads, SMS dispatch)
/// that SIGTERM or SIGINT shuts down gracefully.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer SIP calls (UDP) for the accounts' numbers and play their IVRs and sequences over RTP.",
        discussion: """
            The first line on stdout is `listening on udp HOST:PORT` (the real port when 0 was asked). Logs go \
            to stderr, one line per call event with the SIP Call-ID. With --store, the store's numbers are answered \
            too (an account is loaded on its first call; a saved change reaches new calls within 1 s, no SIGHUP \
            needed) and each of their calls leaves a call record. SIGHUP reloads the account files (a file \
            that no longer validates is refused and its previous version kept; calls in progress keep what \
            they started with). SIGTERM or SIGINT drains: new calls and OPTIONS get 503 with Retry-After (a \
            dispatcher that probes with OPTIONS stops sending calls), calls in progress run to their end for \
            up to --drain-timeout seconds, the rest are then ended with BYE (up to 5 s more for the callers' \
            answers), exit 0. The texts of the store's accounts are counted in its ledger, reserved before the \
            provider is asked: one a call and step on every node, within the account's daily limit; a text still \
            reserved after every attempt's --sms-timeout-ms (its node stopped mid-send) becomes unknown, never \
            sent again.
            """
    )

    @Option(name: .customLong("account"), help: "An account file (repeatable).")
    var accounts: [String] = []

    @Option(
        help: ArgumentHelp(
            "The management store: a SQLite file (created if missing) or a postgres:// URL; its numbers are answered.",
            discussion:
                "Accounts are loaded when first called and kept in a bounded cache; a saved change reaches new calls within a second."
        ))
    var store: String?

    @Option(
        name: .customLong("call-records-days"),
        help: "Days the store keeps the call records of its accounts' calls (1...3650).")
    var callRecordsDays: Int = 90

    @Option(
        help: ArgumentHelp(
            "Serve the management API over HTTP on HOST:PORT (port 0: any free port); needs --store.",
            discussion: "Its first stdout line is `listening on http HOST:PORT`, before SIP's."))
    var http: String?

    @Option(
        name: .customLong("api-rate"),
        help: "Management API requests a second per key, on average (1...100000; bursts of twice as many); 429 past it."
    )
    var apiRate: Int = 50

    @Option(name: .customLong("api-upload-limit"), help: "The largest recording upload in MiB (1...1024); 413 past it.")
    var apiUploadLimit: Int = 20

    @Option(
        help: ArgumentHelp(
            "Serve GET /healthz (200 ready, 503 draining) and GET /metrics (Prometheus) on HOST:PORT, without authentication: bind it to a private address.",
            discussion: "Its stdout line `listening on metrics HOST:PORT` comes before SIP's."))
    var metrics: String?

    @Option(
        name: .customLong("recordings-root"),
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

    @Option(
        name: .customLong("media-tick-ms"),
        help: "The media clock's tick in ms (1...20): calls are spread over the ticks of a packet interval.")
    var mediaTickMs: Int = MediaEngine.defaultTickMilliseconds

    @Option(
        name: .customLong("realtime-priority"),
        help: "Run the media threads with SCHED_FIFO at this priority (1...99); needs the privilege.")
    var realtimePriority: Int32?

    @Option(
        name: .customLong("media-send"),
        help:
            "How media threads send RTP: io-uring (a tick's packets in one system call; sendto where the kernel refuses io_uring) or sendto (one system call a packet)."
    )
    var mediaSend: MediaSend = .ioUring

    @Option(name: .customLong("rtp-timeout"), help: "Seconds without RTP from the caller before the call is ended.")
    var rtpTimeout: Int = 30

    @Option(
        name: .customLong("hold-timeout"),
        help: "Seconds a call may stay on hold (the caller sends no RTP) before it is ended.")
    var holdTimeout: Int = 7200

    @Option(
        name: .customLong("rtp-probation"),
        help: ArgumentHelp(
            "Learning mode, off by default (0): also accept RTP from another address after this many packets in sequence from it.",
            discussion:
                "For callers whose media address is neither their SDP's c= address nor their SIP source. Risk: whoever guesses the port and sends that many packets before the caller takes the call's audio and key presses."
        ))
    var rtpProbation: Int = 0

    @Option(
        name: .customLong("trusted-proxy"),
        help: "A proxy's IP address exempt from the per-source SIP rate limit (repeatable).")
    var trustedProxies: [String] = []

    @Option(
        name: .customLong("drain-timeout"),
        help: "At SIGTERM, seconds calls in progress may run to their end before they get BYE (0...86400).")
    var drainTimeout: Int = 60

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @OptionGroup var sms: SMSOptions

    /// The management API's bounds from --api-rate and --api-upload-limit.
    var apiLimits: APILimits {
        APILimits(maximumRecordingBytes: apiUploadLimit << 20, requestsPerSecond: Double(apiRate), burst: 2 * apiRate)
    }

    func validate() throws {
        guard !accounts.isEmpty || store != nil else {
            throw ValidationError("give at least one --account FILE, or --store FILE")
        }
        if http != nil && store == nil { throw ValidationError("--http needs --store FILE") }
        guard (1...3650).contains(callRecordsDays) else {
            throw ValidationError("--call-records-days \(callRecordsDays) is out of range (1...3650)")
        }
        if let http { _ = try Serve.hostAndPort(http, option: "--http") }
        guard (1...100_000).contains(apiRate) else {
            throw ValidationError("--api-rate \(apiRate) is out of range (1...100000)")
        }
        guard (1...1024).contains(apiUploadLimit) else {
            throw ValidationError("--api-upload-limit \(apiUploadLimit) is out of range (1...1024 MiB)")
        }
        if let metrics { _ = try Serve.hostAndPort(metrics, option: "--metrics") }
        if metrics != nil && accounts.isEmpty && store == nil {
            throw ValidationError("--metrics reports calls: give --account FILE or --store S")
        }
        _ = try parsedListen()
        _ = try parsedPorts()
        guard (1...64).contains(mediaThreads) else {
            throw ValidationError("--media-threads \(mediaThreads) is out of range (1...64)")
        }
        guard [1, 2, 4, 5, 10, 20].contains(mediaTickMs) else {
            throw ValidationError("--media-tick-ms \(mediaTickMs) must divide 20 (1, 2, 4, 5, 10 or 20)")
        }
        if let realtimePriority, !(1...99).contains(realtimePriority) {
            throw ValidationError("--realtime-priority \(realtimePriority) is out of range (1...99)")
        }
        guard (1...3600).contains(rtpTimeout) else {
            throw ValidationError("--rtp-timeout \(rtpTimeout) is out of range (1...3600 s)")
        }
        guard (1...86400).contains(holdTimeout) else {
            throw ValidationError("--hold-timeout \(holdTimeout) is out of range (1...86400 s)")
        }
        guard (0...1000).contains(rtpProbation) else {
            throw ValidationError("--rtp-probation \(rtpProbation) is out of range (0: off, up to 1000 packets)")
        }
        for proxy in trustedProxies where !isIPAddress(proxy) {
            throw ValidationError("--trusted-proxy '\(proxy)' is not an IP address")
        }
        guard (0...86400).contains(drainTimeout) else {
            throw ValidationError("--drain-timeout \(drainTimeout) is out of range (0...86400 s)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not a level")
        }
        try sms.check()
    }

    private func parsedListen() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--listen '\(listen)' is not HOST:PORT")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen '\(listen)' has no host") }
        if mediaAddress == nil && (host == "0.0.0.0" || host == "::") {
            throw ValidationError(
                "--listen \(listen) is a wildcard: give --media-address, the address callers send RTP to")
        }
        return (host, port)
    }

    /// HOST:PORT (IPv6 in brackets), port 0...65535.
    static func hostAndPort(_ text: String, option: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("\(option) '\(text)' is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("\(option) '\(text)' has no host") }
        return (host, port)
    }

    private func parsedPorts() throws -> ClosedRange<Int> {
        let parts = rtpPorts.split(separator: "-")
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1024 <= low, low < high,
            high <= 65535
        else {
            throw ValidationError("--rtp-ports '\(rtpPorts)' is not A-B with 1024 <= A < B <= 65535")
        }
        return low...high
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = DeferredMetadataLogHandler(StreamLogHandler.standardError(label: label))
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
        // The management API first: its line is the first on stdout, SIP waits for it.
        var apiServices: [any Service] = []
        var apiListening: AsyncStream<Void>?
        let opened: (any Store)? = if let store { try await openStore(store) } else { nil }
        // The store's calls: accounts on first call, dropped when the feed says they changed. PostgreSQL (a
        // store several nodes share): LISTEN/NOTIFY, every node hears every node's writes. SQLite: a poll every
        // 300 ms, woken at once by a change saved through this process's API.
        let listening = (opened as? PostgresStore).map {
            PostgresChangeFeed(location: $0.database.location, logger: logger)
        }
        let polling = listening == nil ? opened.map { PollingChangeFeed(store: $0, interval: .milliseconds(300)) } : nil
        let feed: (any StoreChangeFeed)? = listening ?? polling
        let storeAccounts = opened.map { StoreAccounts(store: $0, logger: logger) }
        var managementAPI: ManagementAPI?
        if let http, let opened {
            let (httpHost, httpPort) = try Serve.hostAndPort(http, option: "--http")
            let (listening, ready) = AsyncStream<Void>.makeStream()
            apiListening = listening
            let shown = httpHost.contains(":") ? "[\(httpHost)]" : httpHost
            let api = ManagementAPI(store: opened, limits: apiLimits, logger: logger, onChange: { polling?.changed() })
            managementAPI = api
            apiServices.append(
                api.application(host: httpHost, port: httpPort) { _, bound in
                    print("listening on http \(shown):\(bound)")
                    fflush(nil)
                    ready.finish()
                })
        }
        let (host, port) = try parsedListen()
        let directory: AccountDirectory
        let progress = ProgressLine("loading accounts")
        let show: (Int, Int, String) -> Void = { loaded, total, path in progress.update(loaded, of: total, path) }
        do throws(AccountLoadError) {
            directory = try AccountDirectory(paths: accounts, recordingsRoot: recordingsRoot, progress: show)
        } catch {
            progress.finish()
            throw ProblemListError(lines: error.lines.map(namingOptions))
        }
        progress.update(accounts.count, of: accounts.count, force: true)
        progress.finish()
        // One ledger for every account: each text is counted against its account file's daily limit.
        let dispatch =
            accounts.isEmpty
            ? nil
            : try sms.makeDispatcher(account: SMSAccount(key: "serve", dailyLimit: 0))
                .map { SMSDispatchService(dispatcher: $0, logger: logger) }
        let records = opened.map { CallRecordService(store: $0, retentionDays: callRecordsDays, logger: logger) }
        let storeTexts = try opened.map { StoreTexts(store: $0, transport: try sms.makeTransport(), logger: logger) }
        let server = try runtime {
            try CallServer(
                configuration: CallServer.Configuration(
                    host: host, port: port, mediaAddress: mediaAddress,
                    rtpPorts: try parsedPorts(), mediaThreads: mediaThreads,
                    rtpTimeoutSeconds: rtpTimeout, holdTimeoutSeconds: holdTimeout,
                    rtpProbationPackets: rtpProbation, mediaTickMs: mediaTickMs,
                    realtimePriority: realtimePriority, sendRing: mediaSend == .ioUring,
                    trustedProxies: trustedProxies,
                    drainTimeout: .seconds(drainTimeout)),
                accounts: directory, source: storeAccounts, logger: logger,
                onSMS: { request in
                    if let account = request.storeAccount, let storeTexts, let records {
                        // Counted in the store's ledger against the account's daily limit.
                        records.textStarted(request.callID)
                        Task {
                            let outcome = await storeTexts.send(request, account: account)
                            if let label = StoreTexts.metricOutcome(outcome) {
                                Counter(label: "callseq_sms_total", dimensions: [("outcome", label)]).increment()
                            }
                            records.textFinished(request.callID, outcome: outcome)
                        }
                        return
                    }
                    guard let dispatch else {
                        Counter(label: "callseq_sms_total", dimensions: [("outcome", "dry_run")]).increment()
                        let callID = InputText.escaped(request.callID, limit: 200)
                        let line =
                            "call \(callID): would send SMS from \(request.sms.from.digits) to "
                            + "\(request.sms.to.digits): \"\(request.sms.message)\" (dry run)"
                        logger.info("\(line)")
                        return
                    }
                    dispatch.submit(request, account: smsAccount(file: request.account, limit: request.dailyLimit))
                },
                onCallEnded: { summary in records?.callEnded(summary) })
        }
        // SIGHUP is trapped before the port opens: from the first stdout line on, none takes the default action.
        // (The group traps SIGTERM and SIGINT before it starts the services.)
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let numbers = directory.numberCount
        let files = directory.entries.count
        var before = apiListening.map { [$0] } ?? []
        var metricsServices: [any Service] = []
        // One registry per process: the API's GET /metrics (operator keys) and the --metrics listener.
        let node = NodeMetrics(server: server)
        node.bootstrap()
        managementAPI?.metrics.provide { node.render() }
        if let metrics {
            let (metricsHost, metricsPort) = try Serve.hostAndPort(metrics, option: "--metrics")
            let (listening, ready) = AsyncStream<Void>.makeStream()
            // After the management API's line: its stream ends first.
            let previous = apiListening
            before = [listening]
            let shown = metricsHost.contains(":") ? "[\(metricsHost)]" : metricsHost
            metricsServices.append(
                node.application(host: metricsHost, port: metricsPort, logger: logger) { bound in
                    if let previous { for await _ in previous {} }
                    print("listening on metrics \(shown):\(bound)")
                    fflush(nil)
                    ready.finish()
                })
        }
        let calls = CallService(server: server, after: before) { boundPort in
            print("listening on udp \(host.contains(":") ? "[\(host)]" : host):\(boundPort)")
            fflush(nil)
            logger.info(
                "serving \(numbers) numbers from \(files) account files\(opened == nil ? "" : ", and the store's numbers")"
            )
        }
        // Shut down in reverse order: reloads stop, calls drain, then the texts already requested go out.
        // The metrics listener is stopped last: /healthz says `draining` while the calls drain.
        var services: [any Service] =
            metricsServices + apiServices + (dispatch.map { [$0] } ?? [])
            + (records.map { [$0] } ?? [])
        services += [calls, AccountReloadService(server: server, hangups: hangups)]
        if let listening { services.append(PostgresFeedService(feed: listening)) }
        if let opened, let storeTexts, storeTexts.transport != nil {
            services.append(
                SMSReservationExpiry(
                    store: opened, logger: logger,
                    horizon: StoreTexts.longestSend(
                        timeout: .milliseconds(sms.smsTimeoutMs), attempts: storeTexts.maximumAttempts)))
        }
        if let storeAccounts, let feed {
            // The feed also tells the API's cache of verified keys about keys revoked by other processes.
            let api = managementAPI
            services.append(StoreChangeService(accounts: storeAccounts, feed: feed, observe: { api?.storeChanged($0) }))
        }
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // The drain (--drain-timeout, then 5 s for the BYEs' answers), then the texts already requested.
        configuration.maximumGracefulShutdownDuration = .seconds(drainTimeout + 60)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch let error as CustomStringConvertible {
            throw RuntimeError(error.description)
        }
        logger.notice("media: \(server.statistics().summary)")
        if let opened { await closeStore(opened) }
    }
}

/// Whether `text` is an IPv4 or IPv6 address (inet_pton's forms).
private func isIPAddress(_ text: String) -> Bool {
    var v4 = in_addr()
    var v6 = in6_addr()
    return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
}

/// `callseq serve --media-send`.
enum MediaSend: String, ExpressibleByArgument, CaseIterable {
    case ioUring = "io-uring"
    case sendto
}
