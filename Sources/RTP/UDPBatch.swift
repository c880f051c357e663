// Batched receive and readiness for the media threads: one recvmmsg(2) drains a socket (instead of recvfrom
// until EAGAIN: two calls for one datagram), and one edge-triggered epoll(7) poll per tick says which of a
// thread's sockets received anything, so that a call whose caller sent nothing costs no system call. Buffers
// are allocated once; nothing is allocated per packet. (C shim: Sources/CUDPBatch, for struct mmsghdr and the
// packed epoll_event that Swift's Glibc module does not import.)

internal import CUDPBatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Datagrams received by one recvmmsg(2) call, in buffers allocated once.
public struct UDPReceiveBatch: ~Copyable {
    /// The most datagrams one call receives.
    public let capacity: Int
    /// The size of each datagram's buffer (a larger datagram is truncated and reported as such).
    public let bufferSize: Int
    private let buffers: UnsafeMutableRawPointer
    private let datagrams: UnsafeMutablePointer<callseq_udp_datagram>

    /// Allocates `capacity` (1...64) buffers of `bufferSize` bytes.
    public init(capacity: Int, bufferSize: Int) {
        self.capacity = min(max(capacity, 1), Int(CALLSEQ_UDP_BATCH_MAX))
        self.bufferSize = max(bufferSize, 1)
        buffers = .allocate(byteCount: self.capacity * self.bufferSize, alignment: 16)
        datagrams = .allocate(capacity: self.capacity)
        datagrams.initialize(repeating: callseq_udp_datagram(), count: self.capacity)
    }

    deinit {
        buffers.deallocate()
        datagrams.deallocate()
    }

    /// Receives, without blocking, what is waiting on `socket` (at most `limit` datagrams, at most the capacity):
    /// the number received (0: nothing was waiting), or the `errno` value, negated.
    @inline(__always)
    public func receive(from socket: UDPSocket, limit: Int) -> Int {
        Int(
            callseq_udp_receive_batch(
                socket.fileDescriptor, buffers, bufferSize,
                UInt32(min(max(limit, 1), capacity)), datagrams))
    }

    /// Datagram `i` of the last receive (truncated to the buffer when ``isTruncated(_:)``).
    @inline(__always)
    public func datagram(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffers + i &* bufferSize, count: min(datagrams[i].size, bufferSize))
    }

    /// Whether datagram `i` was larger than its buffer.
    @inline(__always)
    public func isTruncated(_ i: Int) -> Bool { datagrams[i].truncated != 0 }

    /// Where datagram `i` came from.
    @inline(__always)
    public func source(_ i: Int, into address: inout UDPAddress) {
        let length = min(Int(datagrams[i].sourceLength), MemoryLayout<sockaddr_in6>.size)
        withUnsafeMutableBytes(of: &address.storage) { destination in
            withUnsafeBytes(of: &datagrams[i].source) {
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<destination.count]))
            }
        }
        address.length = socklen_t(length)
    }
}

/// An edge-triggered epoll(7) set of sockets: each socket is reported once per arrival of data, with the
/// 64-bit value it was added with.
public struct ReadinessPoll: ~Copyable {
    /// The most descriptors one ``poll(into:)`` reports.
    public static let batch = Int(CALLSEQ_UDP_BATCH_MAX)
    private let descriptor: Int32

    /// Creates the set; check ``isAvailable`` (false when the kernel refused: `EMFILE`...).
    public init() {
        let fd = callseq_epoll_create()
        descriptor = fd >= 0 ? fd : -1
    }

    deinit { if descriptor >= 0 { _ = close(descriptor) } }

    /// Whether the set exists (otherwise every operation fails with `EBADF`).
    public var isAvailable: Bool { descriptor >= 0 }

    /// Watches `socket` for input, reporting `data`; 0 or the `errno` value.
    public func add(_ socket: UDPSocket, data: UInt64) -> Int32 {
        -callseq_epoll_add(descriptor, socket.fileDescriptor, data)
    }

    /// Changes what `socket` reports; 0 or the `errno` value.
    public func modify(_ socket: UDPSocket, data: UInt64) -> Int32 {
        -callseq_epoll_modify(descriptor, socket.fileDescriptor, data)
    }

    /// Stops watching `socket` (before it is closed: a closed descriptor's number may be reused); 0 or the
    /// `errno` value.
    @discardableResult
    public func remove(_ socket: UDPSocket) -> Int32 {
        -callseq_epoll_remove(descriptor, socket.fileDescriptor)
    }

    /// The data of the sockets that received something since they were last reported, without waiting: their
    /// number (at most ``batch``), or the `errno` value, negated.
    @inline(__always)
    public func poll(into data: UnsafeMutablePointer<UInt64>) -> Int {
        Int(callseq_epoll_poll(descriptor, data, Int32(ReadinessPoll.batch)))
    }
}
