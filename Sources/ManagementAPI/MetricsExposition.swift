// `GET /metrics` on the management API's port: the same Prometheus text as `serve --metrics`, for the operator.

import Hummingbird
import NIOCore
import Synchronization

/// Where the API finds the node's metrics: set once the call server exists (it is made after the API), read
/// at each scrape. Unset (a process that serves no calls): `/metrics` answers 404.
package final class MetricsExposition: Sendable {
    private let render = Mutex<(@Sendable () -> [UInt8])?>(nil)

    package init() {}

    /// The function that writes the text format (version 0.0.4) of every metric, as of the call.
    package func provide(_ render: @escaping @Sendable () -> [UInt8]) {
        self.render.withLock { $0 = render }
    }

    func text() -> [UInt8]? {
        render.withLock { $0 }?()
    }
}

extension ManagementAPI {
    /// The node's metrics, only for an operator key: they describe every tenant's calls and texts together
    /// (a tenant key gets 403). The unauthenticated listener for a scraper on a private address is `--metrics`.
    func metricsText(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.key()
        guard key.isOperator else { throw Problem.forbidden("only an operator key reads /metrics") }
        guard let body = metrics.text() else { throw Problem.notFound("metrics: this process serves no calls") }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
