// A non-blocking POSIX UDP socket for one RTP stream: bound once at call set-up, then `recvfrom` into a
// preallocated buffer (until EAGAIN) and `sendto` a stored address, with no allocation per packet.

internal import CUDPBatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What one receive attempt found.
public enum UDPReceiveResult: Sendable, Hashable {
    /// A datagram of this many bytes is in the buffer.
    case datagram(Int)
    /// A datagram larger than the buffer arrived and was dropped (its real size).
    case truncated(Int)
    /// Nothing is waiting.
    case wouldBlock
    /// The kernel reported this `errno`.
    case failed(Int32)
}

/// A socket operation failed.
public struct SocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The operation (`socket`, `bind`, `reserve`...).
    public var operation: String
    /// The `errno` value.
    public var code: Int32

    /// Creates an error.
    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String {
        let text = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return "\(operation): \(text)"
    }
}

/// A non-blocking UDP socket (IPv4 or IPv6). A value holding the file descriptor: its owner closes it once.
public struct UDPSocket: Sendable {
    /// The file descriptor.
    public let fileDescriptor: Int32

    /// Opens a non-blocking socket bound to `address` (an IPv6 wildcard also accepts IPv4).
    ///
    /// - Throws: ``SocketError`` when the socket cannot be created or bound (`EADDRINUSE`...).
    public static func bind(_ address: UDPAddress) throws(SocketError) -> UDPSocket {
        let family = address.family
        guard family == AF_INET || family == AF_INET6 else { throw SocketError("bind", code: EAFNOSUPPORT) }
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw SocketError("socket", code: errno) }
        if family == AF_INET6 {
            var off: Int32 = 0
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
        }
        guard result == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw SocketError("bind \(address)", code: code)
        }
        return UDPSocket(fileDescriptor: fd)
    }

    /// Wraps an open descriptor.
    public init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    /// The address the socket is bound to (its real port when 0 was asked).
    public var localAddress: UDPAddress? {
        var address = UDPAddress()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let result = withUnsafeMutablePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fileDescriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        address.length = length
        return address
    }

    /// Receives one datagram without blocking.
    ///
    /// - Parameters:
    ///   - buffer: where the datagram goes.
    ///   - source: set to the sender's address.
    @inline(__always)
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer,
        from source: inout UDPAddress
    ) -> UDPReceiveResult {
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let n = withUnsafeMutablePointer(to: &source.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fileDescriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), $0, &length)
            }
        }
        if n < 0 {
            let code = errno
            return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock : .failed(code)
        }
        source.length = length
        return n > buffer.count ? .truncated(n) : .datagram(n)
    }

    /// Sends one datagram without blocking.
    ///
    /// - Returns: 0 when sent, otherwise the `errno` value (`EAGAIN` when the send buffer is full).
    @inline(__always)
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: UDPAddress) -> Int32 {
        let n = withUnsafePointer(to: destination.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fileDescriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, destination.length)
            }
        }
        return n < 0 ? errno : 0
    }

    /// Closes the descriptor.
    public func close() { _ = Glibc.close(fileDescriptor) }
}

extension UDPSocket {
    /// Sends `count` (at most 64) datagrams to `destination` in one sendmmsg(2) call, without blocking:
    /// datagram i is `lengths[i]` bytes at `base + offsets[i]`.
    ///
    /// - Returns: how many were sent, and the `errno` value that stopped the call (0 when all were sent).
    @inline(__always)
    public func send(
        batch base: UnsafeRawPointer, offsets: UnsafePointer<UInt32>, lengths: UnsafePointer<UInt32>,
        count: Int, to destination: UDPAddress
    ) -> (sent: Int, error: Int32) {
        let n = withUnsafePointer(to: destination.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                callseq_udp_send_batch(fileDescriptor, base, offsets, lengths, UInt32(count), $0, destination.length)
            }
        }
        if n < 0 { return (0, -n) }
        return (Int(n), Int(n) < count ? EAGAIN : 0)
    }
}
