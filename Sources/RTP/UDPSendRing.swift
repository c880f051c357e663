// A media thread's sends through io_uring (Linux 5.19+; C shim: Sources/CUDPBatch/sendring.c): during a tick
// every due call's packets are queued (IORING_OP_SENDMSG from the call's own socket to its own destination)
// and leave in one io_uring_enter(2), instead of one sendto(2) a packet. Sockets are registered with the ring
// (fixed files), so a send skips the descriptor lookup. Sends carry MSG_DONTWAIT and so complete within the
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

    /// A ring for `entries` (1...4096) queued sends and a table of `sockets` registered sockets (none when the
    /// kernel refuses a table: sends then name the descriptor); check ``isAvailable``.
    public init(entries: Int, sockets: Int) {
        var error: Int32 = 0
        ring = callseq_send_ring_create(UInt32(clamping: max(entries, 0)), UInt32(clamping: max(sockets, 0)), &error)
        self.error = ring == nil ? error : 0
    }

    /// Whether the ring exists (otherwise nothing can be queued).
    public var isAvailable: Bool { ring != nil }

    deinit { if let ring { callseq_send_ring_destroy(ring) } }

    /// The number of socket slots (0 when the kernel refused a table: sends then name the descriptor).
    public var socketSlots: Int { ring.map { Int(callseq_send_ring_file_slots($0)) } ?? 0 }

    /// Registers `socket` in `slot` (0..<``socketSlots``); 0 or the `errno` value. The ring holds a reference
    /// to the socket until ``unregister(slot:)``: unregister before closing it, or its port stays bound.
    public func register(_ socket: UDPSocket, slot: Int) -> Int32 {
        guard let ring, slot >= 0, slot < socketSlots else { return EINVAL }
        return -callseq_send_ring_register(ring, UInt32(slot), socket.fileDescriptor)
    }

    /// Empties `slot`; 0 or the `errno` value.
    @discardableResult
    public func unregister(slot: Int) -> Int32 {
        guard let ring, slot >= 0, slot < socketSlots else { return EINVAL }
        return -callseq_send_ring_unregister(ring, UInt32(slot))
    }

    /// Queues `bytes` to `destination` from `socket` (through its registered `slot`, or -1). The bytes must
    /// not change until the next ``flush()``. False when the queue is full: flush, then queue again.
    @inline(__always)
    public func queue(
        _ bytes: UnsafeRawBufferPointer, from socket: UDPSocket, slot: Int, to destination: UDPAddress
    ) -> Bool {
        guard let ring else { return false }
        return withUnsafePointer(to: destination.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                callseq_send_ring_queue(
                    ring, Int32(truncatingIfNeeded: slot), socket.fileDescriptor, bytes.baseAddress,
                    UInt32(truncatingIfNeeded: bytes.count), $0, destination.length) == 0
            }
        }
    }

    /// Submits what is queued in one system call: the sends that completed (sent, failed: `EAGAIN` when a
    /// socket's buffer was full), the system calls made (0 or 1), and the `errno` value of a failed submission
    /// (0 when it was accepted; otherwise the queue is kept).
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
