import CallServer
import Logging
import ServiceLifecycle
import Testing

/// `CallServer` as a swift-service-lifecycle service (the calls' own drain is checked live, with a caller, in
/// CallseqTests' ServeDrainTests).
@Suite("CallServer: run in a ServiceGroup")
struct CallServerLifecycleTests {
    private func makeServer() throws -> CallServer {
        let base = 30000 + 2 * Int.random(in: 0..<4000)
        return try CallServer(
            configuration: CallServer.Configuration(host: "127.0.0.1", port: 0, rtpPorts: base...(base + 9)),
            accounts: try AccountDirectory(paths: [examplesDirectory + "/account.json"]),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), onSMS: { _ in })
    }

    @Test func gracefulShutdownOfTheGroupEndsRun() async throws {
        let server = try makeServer()
        let port = try await server.start()
        #expect(port > 0)
        #expect(try await server.start() == port, "start() opens the port once")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [server], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func aDrainWithNoCallEndsOnItsEventsBeforeItsLimit() async throws {
        let server = try makeServer()
        _ = try await server.start()
        // No call and no dialog: both events come at once. (A generous limit: the test pool's threads may be
        // busy with other suites.)
        #expect(await server.drain(timeout: .seconds(60)))
        await server.shutdown()
    }

    @Test func cancellationAlsoStopsTheServer() async throws {
        let server = try makeServer()
        _ = try await server.start()
        let task = Task { try await server.run() }
        task.cancel()
        try await task.value
    }
}
