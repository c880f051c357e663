// A node's health and metrics (`callseq serve --metrics HOST:PORT`), on a listener of their own without
// authentication (bind it to a private address): `GET /healthz` is 200 `ready` or 503 `draining` (a load
// balancer or orchestrator stops sending work at 503), `GET /metrics` the Prometheus text format (version 0.0.4).
//
// Nothing here runs on a media thread. The media engine's counters and its send-lateness histogram are the
// copies its threads already publish every 20 ticks (`MediaStatistics`), read at scrape time; the call
// counts are the call server's own (kept on the SIP event loop); texts, store reconnects and the
// configuration version are swift-metrics counters and gauges, which swift-prometheus's registry holds.

import CallServer
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import RTP
import Synchronization

/// What `/metrics` shows of one node.
final class NodeMetrics: Sendable {
    /// The registry the swift-metrics factory writes to (texts, store reconnects, configuration version).
    let registry = PrometheusCollectorRegistry()
    private let server: CallServer
    /// The totals last written to the registry's counters: a scrape adds the difference.
    private let seen = Mutex<[String: Int64]>([:])
    private let calls: Prometheus.Gauge
    private let draining: Prometheus.Gauge

    /// The send-lateness buckets (seconds): one media tick is 5 ms, a packet 20 ms.
    static let latenessBuckets: [Double] = [
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
    ]

    init(server: CallServer) {
        self.server = server
        calls = registry.makeGauge(
            descriptor: Self.name(
                "callseq_calls_active",
                help: "Calls between the INVITE's acceptance and their end."))
        draining = registry.makeGauge(
            descriptor: Self.name(
                "callseq_draining",
                help: "1 while the node drains (SIGTERM: new calls and OPTIONS get 503)."))
    }

    /// A metric's whole name as a descriptor (no namespace or unit of its own).
    private static func name(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// swift-metrics' backend for the whole process: this registry (call once, before any metric is made).
    func bootstrap() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// Raises the counter `name{labels}` to `total` (counters only go up: a smaller total is ignored).
    private func advance(_ name: String, labels: [(String, String)] = [], help: String, to total: Int64) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let delta = seen.withLock { seen -> Int64 in
            let last = seen[key] ?? 0
            guard total > last else { return 0 }
            seen[key] = total
            return total - last
        }
        let counter = registry.makeCounter(descriptor: Self.name(name, help: help), labels: labels)
        if delta > 0 { counter.increment(by: delta) }
    }

    /// The Prometheus text of every metric, as of now.
    func render() -> [UInt8] {
        let statistics = server.statistics()
        let counts = server.callCounts
        calls.set(to: Double(server.activeCalls))
        draining.set(to: server.isDraining ? 1 : 0)
        let help = "Calls since the start, by how they ended (refused_NNN: the INVITE's final status)."
        advance("callseq_calls_total", labels: [("outcome", "caller_hung_up")], help: help, to: Int64(counts.remoteBye))
        advance("callseq_calls_total", labels: [("outcome", "server_hung_up")], help: help, to: Int64(counts.localBye))
        advance("callseq_calls_total", labels: [("outcome", "cancelled")], help: help, to: Int64(counts.cancelled))
        advance("callseq_calls_total", labels: [("outcome", "failed")], help: help, to: Int64(counts.failed))
        for (status, count) in counts.refused.sorted(by: { $0.key < $1.key }) {
            advance("callseq_calls_total", labels: [("outcome", "refused_\(status)")], help: help, to: Int64(count))
        }
        advance(
            "callseq_rtp_foreign_packets_dropped_total",
            help: "Valid RTP from an address other than the caller's (dropped).", to: Int64(statistics.foreignPackets))
        advance(
            "callseq_rtp_invalid_packets_total", help: "Datagrams that were not valid RTP.",
            to: Int64(statistics.invalidPackets))
        advance("callseq_rtp_packets_sent_total", help: "RTP packets sent.", to: Int64(statistics.packetsSent))
        advance(
            "callseq_rtp_packets_received_total", help: "RTP packets received from the callers.",
            to: Int64(statistics.packetsReceived))
        advance(
            "callseq_media_skipped_ticks_total", help: "Media clock ticks skipped after a stall.",
            to: Int64(statistics.skippedTicks))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        buffer += Array(
            Self.histogram(
                "callseq_media_send_lateness_seconds",
                help: "When each media tick's last packet left, after its deadline.",
                statistics.sendLateness
            ).utf8)
        return buffer
    }

    /// A histogram in the text format from the media engine's buckets (each `le` counts the durations whose
    /// bucket, 6 % wide, lies wholly below it).
    static func histogram(_ name: String, help: String, _ histogram: LatencyHistogram) -> String {
        var lines = ["# HELP \(name) \(help)", "# TYPE \(name) histogram"]
        for bound in latenessBuckets {
            let count = histogram.count(atMost: Int64(bound * 1e9))
            lines.append("\(name)_bucket{le=\"\(bound)\"} \(count)")
        }
        lines.append("\(name)_bucket{le=\"+Inf\"} \(histogram.count)")
        lines.append("\(name)_sum \(Double(histogram.sum) / 1e9)")
        lines.append("\(name)_count \(histogram.count)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The listener: `/healthz` and `/metrics`, nothing else (404).
    func application(
        host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            let draining = self.server.isDraining
            return Response(
                status: draining ? .serviceUnavailable : .ok,
                headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: draining ? "draining\n" : "ready\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.render())))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "callseq"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
