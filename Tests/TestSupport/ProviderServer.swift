import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP server on 127.0.0.1 that behaves like a VoIP.ms-style SMS provider, following a script:
/// one behaviour per request received. It records every request. Used by the SMS and CLI tests.
package final class ProviderServer: @unchecked Sendable {
    package enum Behavior: Sendable {
        case success(id: Int)
        case status(String)
        case http(Int)
        case slow(milliseconds: Int64, id: Int)
        case drop
        /// Any answer: status, extra headers, body.
        case raw(status: Int, headers: [String: String], body: String)
    }

    package struct Request: Sendable {
        package var method: String
        package var uri: String
        package var contentType: String
        package var body: String
        package var form: [String: String]
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: Channel?
    private let lock = NSLock()
    private var script: [Behavior]
    private var received: [Request] = []
    package private(set) var port = 0

    package init(script: [Behavior]) throws {
        self.script = script
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: self))
                }
            }
        let channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    package var endpoint: String { "http://127.0.0.1:\(port)/api/v1/rest.php" }

    package var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    package func shutdown() {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }

    fileprivate func record(_ request: Request) -> Behavior {
        lock.lock()
        defer { lock.unlock() }
        received.append(request)
        return script.isEmpty ? .status("no_script") : script.removeFirst()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let server: ProviderServer
        var head: HTTPRequestHead?
        var body = ""

        init(server: ProviderServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end:
                guard let head else { return }
                var form: [String: String] = [:]
                for pair in body.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map {
                        String($0).removingPercentEncoding ?? String($0)
                    }
                    if parts.count == 2 { form[parts[0]] = parts[1] }
                }
                let request = Request(
                    method: "\(head.method)", uri: head.uri,
                    contentType: head.headers.first(name: "Content-Type") ?? "", body: body, form: form)
                switch server.record(request) {
                case .success(let id): respond(context, 200, "{\"status\":\"success\",\"sms\":\(id)}")
                case .status(let code): respond(context, 200, "{\"status\":\"\(code)\"}")
                case .http(let status): respond(context, status, "{\"status\":\"error\"}")
                case .slow(let ms, let id):
                    let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: .milliseconds(ms)) {
                        self.respond(loopBound.value, 200, "{\"status\":\"success\",\"sms\":\(id)}")
                    }
                case .drop: context.close(promise: nil)
                case .raw(let status, let extra, let text): respond(context, status, text, extra)
                }
            }
        }

        func respond(_ context: ChannelHandlerContext, _ status: Int, _ text: String, _ extra: [String: String] = [:]) {
            var headers = HTTPHeaders()
            for (name, value) in extra { headers.add(name: name, value: value) }
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(text.utf8.count)")
            context.write(
                wrapOutboundOut(
                    .head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
