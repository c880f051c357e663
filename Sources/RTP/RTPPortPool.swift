// One UDP port per call, from a range (default 20000-29999). RFC 3550 §11: RTP uses an even port (RTCP
// the odd one above it, which this server does not use). Ports are chosen at random among the free ones, so
// that the next call's port cannot be guessed from the last one's (the "RTP Bleed" attack sprays the ports
// a server is about to use); a port just released rests behind the others (a queue of recently released
// ports) so that a late packet of the old call does not land in a new one. The lock is taken at call set-up
// and tear-down only, never per packet.

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
        /// Free port indexes that may be handed out (in no order).
        var free: [Int]
        /// Released port indexes resting before they join `free`, oldest first.
        var resting: [Int] = []
        var restingFirst = 0
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
        guard UDPAddress(host: host, port: 0) != nil else { throw SocketError("address \(host)", code: EINVAL) }
        let low = max(ports.lowerBound, 2) + (max(ports.lowerBound, 2) & 1)
        let high = min(ports.upperBound, 65534)
        guard low <= high else { throw SocketError("port range \(ports)", code: EINVAL) }
        self.host = host
        firstPort = low
        capacity = (high - low) / 2 + 1
        state = Mutex(State(inUse: [Bool](repeating: false, count: capacity), free: Array(0..<capacity)))
    }

    /// Ports currently reserved.
    public var reservedCount: Int { state.withLock { $0.count } }

    /// How many released ports rest before they may be handed out again.
    var restingLimit: Int { min(capacity / 2, 256) }

    /// Binds a socket on an even port chosen at random among the free ones.
    ///
    /// Ports another process holds (`EADDRINUSE`) are skipped.
    /// - Throws: ``SocketError`` (`EADDRINUSE`) when every port of the range is taken.
    public func reserve() throws(SocketError) -> RTPPortReservation {
        let result: Result<(Int, UDPSocket), SocketError> = state.withLock { state in
            var lastError = SocketError(
                "reserve: no free RTP port in \(firstPort)...\(firstPort + 2 * (capacity - 1))",
                code: EADDRINUSE)
            // Every free port is tried at most once; ports another process holds go back to the free list.
            var busy: [Int] = []
            defer { state.free.append(contentsOf: busy) }
            if state.free.isEmpty { state.takeResting(all: true) }
            while !state.free.isEmpty {
                let pick = Int.random(in: 0..<state.free.count)
                let index = state.free[pick]
                state.free.swapAt(pick, state.free.count - 1)
                state.free.removeLast()
                let port = firstPort + 2 * index
                guard let address = UDPAddress(host: host, port: port) else { continue }
                do throws(SocketError) {
                    let socket = try UDPSocket.bind(address)
                    state.inUse[index] = true
                    state.count += 1
                    return .success((port, socket))
                } catch {
                    busy.append(index)
                    if error.code != EADDRINUSE {
                        lastError = error
                        break
                    }
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
        let limit = restingLimit
        state.withLock { state in
            guard index >= 0, index < capacity, state.inUse[index] else { return }
            state.inUse[index] = false
            state.count -= 1
            state.resting.append(index)
            if state.resting.count - state.restingFirst > limit { state.takeResting(all: false) }
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
    public var localAddress: UDPAddress? { socket.localAddress }

    /// Closes the socket and returns the port to the pool (once; later calls do nothing).
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        socket.close()
        pool.release(port: port)
    }

    deinit { release() }
}

extension RTPPortPool.State {
    /// Moves the oldest resting port (or all of them) to the free list.
    mutating func takeResting(all: Bool) {
        repeat {
            guard restingFirst < resting.count else { break }
            free.append(resting[restingFirst])
            restingFirst += 1
        } while all
        if restingFirst > 1024 || restingFirst == resting.count {
            resting.removeFirst(restingFirst)
            restingFirst = 0
        }
    }
}
