// A media thread's sends through io_uring (C shim: Sources/CUDPBatch/sendring.c): during a tick every due
// call's packets are queued (IORING_OP_SENDMSG from the call's own socket to its own destination) and leave in
// one io_uring_enter(2), instead of one sendto(2) a packet. Sends carry MSG_DONTWAIT and so complete within the
// submitting call. Nothing is allocated after the ring is created.

internal import CUDPBatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A batch of UDP sends submitted in one system call (io_uring), from many sockets to many destinations.
public struct UDPSendRing: ~Copyable {
    private let ring: OpaquePointer?
    /// Why the kernel refused the ring (0 when ``isAvailable``): `ENOSYS` without io_uring, `EPERM` when it is
    /// disabled or filtered. Callers then send with sendto(2).
    public let error: Int32

    /// A ring for `entries` (1...4096) queued sends; check ``isAvailable``.
    public init(entries: Int) {
        var error: Int32 = 0
        ring = callseq_send_ring_create(UInt32(clamping: max(entries, 0)), &error)
        self.error = ring == nil ? error : 0
    }

    deinit { if let ring { callseq_send_ring_destroy(ring) } }

    /// Whether the ring exists (otherwise nothing can be queued).
    public var isAvailable: Bool { ring != nil }

    /// Queues `bytes` from `socket` to `destination`. The bytes must not change until the next ``flush()``.
    /// False when the queue is full (flush, then queue again) or there is no ring.
    @inline(__always)
    public func queue(_ bytes: UnsafeRawBufferPointer, from socket: UDPSocket, to destination: UDPAddress) -> Bool {
        guard let ring else { return false }
        return withUnsafePointer(to: destination.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                callseq_send_ring_queue(
                    ring, socket.fileDescriptor, bytes.baseAddress, UInt32(truncatingIfNeeded: bytes.count), $0,
                    destination.length) == 0
            }
        }
    }

    /// Submits what is queued in one system call: the sends that completed (sent, failed: `EAGAIN` when a
    /// socket's buffer was full), the system calls made (0 or 1), and the `errno` value of a failed or partial
    /// submission (0 when every queued send was taken; otherwise stop using the ring: what was not taken is
    /// stale by the next tick).
    @inline(__always)
    public func flush() -> (sent: UInt64, failed: UInt64, systemCalls: Int, error: Int32) {
        guard let ring else { return (0, 0, 0, EBADF) }
        var sent: UInt64 = 0
        var failed: UInt64 = 0
        let n = callseq_send_ring_flush(ring, &sent, &failed)
        return n < 0 ? (sent, failed, 1, -n) : (sent, failed, Int(n), 0)
    }

    /// Sends queued or submitted whose completion has not been seen.
    public var pending: Int { ring.map { Int(callseq_send_ring_pending($0)) } ?? 0 }
}
