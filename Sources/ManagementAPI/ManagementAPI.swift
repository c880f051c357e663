import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import TelephonyDSP

/// The management API: the routes of `openapi.yaml` over a `Store` (CallSequenceStore), as a Hummingbird router.
///
/// Hand-written routes, one per operation of the document (a test holds the two to the same list of paths
/// and methods), so that the rules every route shares — RFC 9457 problems, API keys and tenancy, the rate
/// limit, bounded bodies, ETags — are middleware and helpers in one place.
package struct ManagementAPI: Sendable {
    let store: any Store
    let limits: APILimits
    let rateLimiter: RateLimiter
    let logger: Logger
    let onChange: @Sendable () -> Void
    /// Keys the store verified lately (a request does not read the store to authenticate); a revocation here
    /// drops the key at once, one elsewhere within the cache's lifetime (1 s).
    let verifiedKeys: VerifiedKeyCache
    /// The node's Prometheus text for `GET /metrics` (operator keys only), once the process serves calls.
    package let metrics = MetricsExposition()

    /// An API over `store`; `onChange` is called after every request that may have changed it (a successful
    /// POST, PUT, PATCH or DELETE), so that live calls in the same process see the change at once.
    package init(
        store: any Store, limits: APILimits = APILimits(), logger: Logger = Logger(label: "callseq.http"),
        onChange: @escaping @Sendable () -> Void = {}
    ) {
        self.init(store: store, limits: limits, logger: logger, verifiedKeys: VerifiedKeyCache(), onChange: onChange)
    }

    /// An API with its own cache of verified keys (tests give one with their own clock).
    package init(
        store: any Store, limits: APILimits = APILimits(), logger: Logger = Logger(label: "callseq.http"),
        verifiedKeys: VerifiedKeyCache, onChange: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.limits = limits
        self.rateLimiter = RateLimiter(rate: limits.requestsPerSecond, burst: limits.burst)
        self.logger = logger
        self.onChange = onChange
        self.verifiedKeys = verifiedKeys
    }

    /// Changes the store's change feed read from the audit log (nil: the feed lost track): keys revoked by
    /// another process (another node's API on the same store) leave the cache of verified keys now, not when
    /// their entries expire.
    package func storeChanged(_ changes: [AuditEntry]?) {
        guard let changes else {
            verifiedKeys.revokeAll()
            return
        }
        for change in changes where change.action == "key.revoke" { verifiedKeys.revoke(keyID: change.target) }
    }

    /// Every route: method and path, in the document's spelling.
    package static var routeTable: [(method: String, path: String)] {
        var table: [(String, String)] = []
        let recorder = RouteRecorder { method, path in table.append((method, path)) }
        ManagementAPI.register(on: recorder)
        return table
    }

    /// The methods the routes give `path`, in their order (`{parameter}` matches one segment; where several
    /// templates match, the ones with the most literal segments win, as the router picks them), or none.
    static func allowedMethods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var best = -1
        var methods: [String] = []
        for (method, template) in routeTable {
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { continue }
            var literals = 0
            var matches = true
            for (part, segment) in zip(parts, segments) {
                if part.hasPrefix("{") { continue }
                if part == segment {
                    literals += 1
                } else {
                    matches = false
                    break
                }
            }
            guard matches, literals >= best else { continue }
            if literals > best {
                best = literals
                methods = []
            }
            if !methods.contains(method) { methods.append(method) }
        }
        return methods
    }

    /// The router: middleware (problems, authentication and rate limit) and every route.
    package func router() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ProblemMiddleware(logger: logger))
        router.add(middleware: Authentication(store: store, verifiedKeys: verifiedKeys, rateLimiter: rateLimiter))
        router.add(middleware: ChangeNotification(onChange: onChange))
        // The editor's files (not API operations: outside the document and the route table).
        WebEditor.register(on: router)
        let routes = RouteBinder(api: self, router: router)
        ManagementAPI.register(on: routes)
        return router
    }

    /// A Hummingbird application listening on `host:port` (0: any free port); `onListening` is told the
    /// address once the socket is bound.
    package func application(
        host: String, port: Int,
        onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    )
        -> some ApplicationProtocol
    {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "callseq"),
            onServerRunning: { channel in
                await onListening(host, channel.localAddress?.port ?? port)
            },
            logger: logger)
    }
}

// MARK: - The route list (one place, so that the document and the router cannot drift)

/// Where routes are declared: the real router, or a recorder for the contract test.
protocol RouteSink {
    func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler)
    typealias Handler = @Sendable (ManagementAPI, Request, APIRequestContext) async throws -> Response
}

struct RouteRecorder: RouteSink {
    let record: (String, String) -> Void
    func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        record(method.rawValue, path)
    }
}

struct RouteBinder: RouteSink {
    let api: ManagementAPI
    let router: Router<APIRequestContext>
    func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        let api = self.api
        router.on(RouterPath(path), method: method) { request, context in
            try await handler(api, request, context)
        }
    }
}

extension ManagementAPI {
    static func register(on r: some RouteSink) {
        let a = "/api/v1/accounts/{account}"
        r.on(.get, "/healthz") { _, _, _ in text("ok\n") }
        r.on(.get, "/openapi.yaml") { _, _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        r.on(.get, "/metrics") { api, q, c in try await api.metricsText(q, c) }
        r.on(.get, "/api/v1/me") { api, q, c in try await api.me(q, c) }
        r.on(.get, "/api/v1/accounts") { api, q, c in try await api.listAccounts(q, c) }
        r.on(.post, "/api/v1/accounts") { api, q, c in try await api.createAccount(q, c) }
        r.on(.get, a) { api, q, c in try await api.getAccount(q, c) }
        r.on(.patch, a) { api, q, c in try await api.updateAccount(q, c) }
        r.on(.get, "\(a)/packages") { api, q, c in try await api.listPackages(q, c) }
        r.on(.put, "\(a)/packages/{package}") { api, q, c in try await api.putPackage(q, c) }
        r.on(.post, "\(a)/keys") { api, q, c in try await api.createKey(q, c) }
        r.on(.delete, "\(a)/keys/{key}") { api, q, c in try await api.revokeKey(q, c) }
        r.on(.get, "\(a)/numbers") { api, q, c in try await api.listNumbers(q, c) }
        r.on(.put, "\(a)/numbers/{number}") { api, q, c in try await api.putNumber(q, c) }
        r.on(.get, "\(a)/recordings") { api, q, c in try await api.listRecordings(q, c) }
        r.on(.put, "\(a)/recordings/{name}") { api, q, c in try await api.putRecording(q, c) }
        r.on(.get, "\(a)/recordings/{name}") { api, q, c in try await api.getRecording(q, c) }
        r.on(.delete, "\(a)/recordings/{name}") { api, q, c in try await api.deleteRecording(q, c) }
        r.on(.get, "\(a)/recordings/{name}/audio") { api, q, c in try await api.getRecordingAudio(q, c) }
        registerDocuments(.sequences, under: a, on: r)
        r.on(.post, "\(a)/sequences/validate") { api, q, c in try await api.validateSequence(q, c) }
        r.on(.post, "\(a)/sequences/preview.wav") { api, q, c in try await api.previewUnsavedAudio(q, c) }
        r.on(.post, "\(a)/sequences/plot.png") { api, q, c in try await api.previewUnsavedPlot(q, c) }
        r.on(.post, "\(a)/sequences/timeline") { api, q, c in try await api.previewUnsavedTimeline(q, c) }
        r.on(.get, "\(a)/sequences/{id}/revisions") { api, q, c in try await api.listRevisions(q, c) }
        r.on(.get, "\(a)/sequences/{id}/revisions/{n}") { api, q, c in try await api.getRevision(q, c) }
        r.on(.post, "\(a)/sequences/{id}/revisions/{n}/restore") { api, q, c in try await api.restoreRevision(q, c) }
        r.on(.get, "\(a)/sequences/{id}/preview.wav") { api, q, c in try await api.previewAudio(q, c) }
        r.on(.get, "\(a)/sequences/{id}/plot.png") { api, q, c in try await api.previewPlot(q, c) }
        r.on(.get, "\(a)/sequences/{id}/timeline") { api, q, c in try await api.previewTimeline(q, c) }
        registerDocuments(.ivrs, under: a, on: r)
        r.on(.get, "\(a)/sms") { api, q, c in try await api.listTexts(q, c) }
        r.on(.get, "\(a)/audit") { api, q, c in try await api.listAudit(q, c) }
        r.on(.get, "\(a)/calls") { api, q, c in try await api.listCalls(q, c) }
        r.on(.get, "\(a)/export") { api, q, c in try await api.exportAccount(q, c) }
        r.on(.put, "\(a)/import") { api, q, c in try await api.importAccount(q, c) }
    }

    /// The five routes of a kind of document (list, create, get, replace, delete), on the one handler path.
    static func registerDocuments<Record>(_ kind: DocumentKind<Record>, under account: String, on r: some RouteSink) {
        let all = "\(account)/\(kind.collection)"
        let one = "\(all)/{id}"
        r.on(.get, all) { api, q, c in try await api.listDocuments(kind, q, c) }
        r.on(.post, all) { api, q, c in try await api.createDocument(kind, q, c) }
        r.on(.get, one) { api, q, c in try await api.getDocument(kind, q, c) }
        r.on(.put, one) { api, q, c in try await api.putDocument(kind, q, c) }
        r.on(.delete, one) { api, q, c in try await api.deleteDocument(kind, q, c) }
    }
}

// MARK: - Middleware

/// Turns every failure into an RFC 9457 problem: problems as they are, store errors by their kind,
/// Hummingbird's own (no route: 404; a body past the limit: 413), anything else a 500 that says no more.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let logger: Logger

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as StoreError {
            if case .unavailable = error.kind { logger.error("store: \(error)") }
            return Problem.from(error).response()
        } catch let error as HTTPError {
            let detail: String
            switch error.status {
            case .notFound:
                // RFC 9110 §15.5.6: a path the API has, with a method it does not: 405 with Allow.
                let allowed = ManagementAPI.allowedMethods(for: request.uri.path)
                if !allowed.isEmpty {
                    let allow = allowed.joined(separator: ", ")
                    let method = InputText.escaped(request.method.rawValue, limit: 20)
                    return Problem(
                        .methodNotAllowed, "\(method) is not supported here (allowed: \(allow))",
                        headers: [.allow: allow]
                    ).response()
                }
                detail =
                    "no such resource: \(InputText.escaped(request.method.rawValue, limit: 20)) "
                    + InputText.escaped(request.uri.path, limit: 200)
            case .contentTooLarge: detail = "the body is too large"
            default: detail = error.body ?? error.status.reasonPhrase
            }
            return Problem(error.status, detail).response()
        } catch {
            logger.error("\(request.method.rawValue) \(request.uri.path): \(error)")
            return Problem(.internalServerError, "internal error").response()
        }
    }
}

/// `Authorization: Bearer KEY` (RFC 6750 §2.1) on every route but `/healthz`, `/openapi.yaml` and the editor's
/// files: 401 without a valid key; then each
/// key's rate limit (429 with Retry-After). Failed attempts are limited per client address. Keys the store
/// verified lately come from ``VerifiedKeyCache``.
struct Authentication: RouterMiddleware {
    typealias Context = APIRequestContext
    let store: any Store
    let verifiedKeys: VerifiedKeyCache
    let rateLimiter: RateLimiter

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // Only these two and the editor's files are public; every other path (whatever its spelling:
        // `//api/...`) needs a key.
        if request.method == .get, ["/healthz", "/openapi.yaml"].contains(request.uri.path) {
            return try await next(request, context)
        }
        if request.method == .get || request.method == .head, WebEditor.serves(request.uri.path) {
            return try await next(request, context)
        }
        var context = context
        let header = request.headers[.authorization] ?? ""
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        var identity: KeyIdentity?
        if parts.count == 2, parts[0].lowercased() == "bearer", parts[1].utf8.count <= 256 {
            // RFC 9110 §5.6.3: optional whitespace is spaces and tabs.
            var secret = parts[1]
            while let c = secret.first, c == " " || c == "\t" { secret.removeFirst() }
            while let c = secret.last, c == " " || c == "\t" { secret.removeLast() }
            let store = self.store
            identity = try await verifiedKeys.identity(for: secret) { secret in
                try await store.authenticate(key: secret)
            }
        }
        guard let identity else {
            if let wait = rateLimiter.take("address:\(context.address)") { throw Problem.tooMany(wait) }
            throw Problem.unauthorized()
        }
        if let wait = rateLimiter.take("key:\(identity.keyID)") { throw Problem.tooMany(wait) }
        context.identity = identity
        return try await next(request, context)
    }
}

/// Tells ``ManagementAPI/onChange`` about every successful request that writes.
struct ChangeNotification: RouterMiddleware {
    typealias Context = APIRequestContext
    let onChange: @Sendable () -> Void

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        if ![.get, .head, .options].contains(request.method), (200..<300).contains(response.status.code) { onChange() }
        return response
    }
}

extension Problem {
    static func tooMany(_ seconds: Int) -> Problem {
        Problem(
            .tooManyRequests, "too many requests with this key; retry in \(seconds) s",
            headers: [.retryAfter: String(seconds)])
    }
}

// MARK: - Answers

func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status, headers: [.contentType: "text/plain; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
}

/// A JSON answer; `body` is JSON text (canonical from the store, or written by `CanonicalJSON`).
func json(_ body: String, status: HTTPResponse.Status = .ok, revision: Int? = nil, location: String? = nil) -> Response
{
    var headers: HTTPFields = [.contentType: "application/json"]
    if let revision { headers[.eTag] = ETag.text(revision) }
    if let location { headers[.location] = location }
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
}

func json(
    _ value: JSONValue, status: HTTPResponse.Status = .ok, revision: Int? = nil, location: String? = nil
) -> Response {
    json(CanonicalJSON.text(value), status: status, revision: revision, location: location)
}

func bytes(_ data: [UInt8], contentType: String) -> Response {
    Response(
        status: .ok, headers: [.contentType: contentType],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

extension JSONValue {
    static func int(_ n: Int) -> JSONValue { .number(Double(n)) }
    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
}

/// RFC 3339 times (UTC, whole seconds) for JSON answers.
func timestamp(_ date: Date) -> JSONValue {
    .string(date.formatted(.iso8601))
}
