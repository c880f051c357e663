// One UDP port per call, from a range (default 20000-29999). RFC 3550 §11: RTP uses an even port (RTCP
// the odd one above it, which this server does not use). Ports are handed out round-robin so that a port
// just released is not reused at once (a late packet of the old call would land in the new one). The
// lock is taken at call set-up and tear-down only, never per packet.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Hands out bound UDP sockets on even ports of a range, one per call.
public final class RTPPortPool: Sendable {
    struct State {
        var inUse: [Bool]
        var cursor = 0
        var count = 0
    }

    /// The host the sockets are bound to.
    public let host: String
    /// The first even port of the range.
    public let firstPort: Int
    /// How many even ports the range holds.
    public let capacity: Int
    private let state: Mutex<State>

    /// Creates a pool.
    ///
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 address to bind (`0.0.0.0`, `::`, `127.0.0.1`).
    ///   - ports: the range; its even ports are used.
    /// - Throws: ``SocketError`` when the host is not numeric or the range holds no even port in 1...65534.
    public init(host: String, ports: ClosedRange<Int> = 20000...29999) throws(SocketError) {
        guard SocketAddress(host: host, port: 0) != nil else { throw SocketError("address \(host)", code: EINVAL) }
        let low = max(ports.lowerBound, 2) + (max(ports.lowerBound, 2) & 1)
        let high = min(ports.upperBound, 65534)
        guard low <= high else { throw SocketError("port range \(ports)", code: EINVAL) }
        self.host = host
        firstPort = low
        capacity = (high - low) / 2 + 1
        state = Mutex(State(inUse: [Bool](repeating: false, count: capacity)))
    }

    /// Ports currently reserved.
    public var reservedCount: Int { state.withLock { $0.count } }

    /// Binds a socket on the next free even port.
    ///
    /// Ports another process holds (`EADDRINUSE`) are skipped.
    /// - Throws: ``SocketError`` (`EADDRINUSE`) when every port of the range is taken.
    public func reserve() throws(SocketError) -> RTPPortReservation {
        let result: Result<(Int, UDPSocket), SocketError> = state.withLock { state in
            var lastError = SocketError("reserve: no free RTP port in \(firstPort)...\(firstPort + 2 * (capacity - 1))",
                                        code: EADDRINUSE)
            for _ in 0..<capacity {
                let index = state.cursor
                state.cursor = (state.cursor + 1) % capacity
                guard !state.inUse[index] else { continue }
                let port = firstPort + 2 * index
                guard let address = SocketAddress(host: host, port: port) else { continue }
                do throws(SocketError) {
                    let socket = try UDPSocket.bind(address)
                    state.inUse[index] = true
                    state.count += 1
                    return .success((port, socket))
                } catch {
                    if error.code != EADDRINUSE { lastError = error; break }
                }
            }
            return .failure(lastError)
        }
        switch result {
        case .success(let (port, socket)): return RTPPortReservation(port: port, socket: socket, pool: self)
        case .failure(let error): throw error
        }
    }

    func release(port: Int) {
        let index = (port - firstPort) / 2
        state.withLock { state in
            guard index >= 0, index < capacity, state.inUse[index] else { return }
            state.inUse[index] = false
            state.count -= 1
        }
    }
}

/// A bound RTP socket on a port of an ``RTPPortPool``: the port to announce in the SDP answer.
///
/// Releasing it (``release()``, or dropping the last reference) closes the socket and returns the port.
public final class RTPPortReservation: Sendable {
    /// The local port.
    public let port: Int
    /// The bound socket.
    public let socket: UDPSocket
    private let pool: RTPPortPool
    private let released = Atomic(false)

    init(port: Int, socket: UDPSocket, pool: RTPPortPool) {
        self.port = port
        self.socket = socket
        self.pool = pool
    }

    /// The address the socket is bound to.
    public var localAddress: SocketAddress? { socket.localAddress }

    /// Closes the socket and returns the port to the pool (once; later calls do nothing).
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        socket.close()
        pool.release(port: port)
    }

    deinit { release() }
}
