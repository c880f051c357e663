// An IPv4 or IPv6 UDP endpoint as the kernel takes it (a `sockaddr_in6`, which also holds a `sockaddr_in`,
// and its length), so that a media thread can receive into it and send to it with no allocation or conversion
// per packet. 32 bytes, not the 132 of a `sockaddr_storage`: a live call keeps four (RTPSourceFilter).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IPv4 or IPv6 address and UDP port.
public struct UDPAddress: Sendable, CustomStringConvertible {
    /// The kernel's form.
    public var storage = sockaddr_in6()
    /// The length of the address in ``storage`` (0 when empty).
    public var length: socklen_t = 0

    /// An empty address, to receive into.
    public init() {}

    /// An address from a numeric host (`192.0.2.1`, `::1`, `[::1]`) and a port.
    ///
    /// - Returns: `nil` when the host is not an IPv4 or IPv6 literal or the port is outside 0...65535.
    public init?(host: String, port: Int) {
        guard (0...65535).contains(port) else { return nil }
        var text = host
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, text, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = UInt16(port).bigEndian
            withUnsafeBytes(of: v4) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, text, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = UInt16(port).bigEndian
            withUnsafeBytes(of: v6) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            return
        }
        return nil
    }

    /// `AF_INET`, `AF_INET6`, or `AF_UNSPEC` when empty.
    public var family: Int32 { length == 0 ? AF_UNSPEC : Int32(storage.sin6_family) }

    /// The port.
    public var port: Int {
        withUnsafeBytes(of: storage) { raw in
            switch family {
            case AF_INET: Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            case AF_INET6: Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            default: 0
            }
        }
    }

    /// The numeric host.
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: storage) { raw in
            switch family {
            case AF_INET:
                var a = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
            case AF_INET6:
                var a = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count))
            default: break
            }
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text form, for logs and messages.
    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The same endpoint as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), for
    /// sending from an IPv6 socket; other addresses are returned unchanged.
    public var mappedToIPv6: UDPAddress {
        guard family == AF_INET else { return self }
        let v4 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = v4.sin_port
        withUnsafeMutableBytes(of: &v6.sin6_addr) { bytes in
            bytes[10] = 0xFF
            bytes[11] = 0xFF
            withUnsafeBytes(of: v4.sin_addr) { a in
                for i in 0..<4 { bytes[12 + i] = a[i] }
            }
        }
        var result = UDPAddress()
        withUnsafeBytes(of: v6) { bytes in
            withUnsafeMutableBytes(of: &result.storage) { $0.copyMemory(from: bytes) }
        }
        result.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        return result
    }

    /// Whether two addresses name the same endpoint (family, address and port; no allocation).
    public func sameEndpoint(as other: UDPAddress) -> Bool {
        guard length == other.length, family == other.family else { return false }
        return withUnsafeBytes(of: storage) { a in
            withUnsafeBytes(of: other.storage) { b in
                switch family {
                case AF_INET:
                    let x = a.load(as: sockaddr_in.self)
                    let y = b.load(as: sockaddr_in.self)
                    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr
                case AF_INET6:
                    let x = a.load(as: sockaddr_in6.self)
                    let y = b.load(as: sockaddr_in6.self)
                    return x.sin6_port == y.sin6_port && x.sin6_scope_id == y.sin6_scope_id
                        && withUnsafeBytes(of: x.sin6_addr) { p in
                            withUnsafeBytes(of: y.sin6_addr) { q in p.elementsEqual(q) }
                        }
                default:
                    return false
                }
            }
        }
    }

    /// Whether two addresses have the same IP address (family and address; the port is ignored; no
    /// allocation). An empty address matches nothing.
    public func sameHost(as other: UDPAddress) -> Bool {
        guard length != 0, length == other.length, family == other.family else { return false }
        return withUnsafeBytes(of: storage) { a in
            withUnsafeBytes(of: other.storage) { b in
                switch family {
                case AF_INET:
                    return a.load(as: sockaddr_in.self).sin_addr.s_addr == b.load(as: sockaddr_in.self).sin_addr.s_addr
                case AF_INET6:
                    let x = a.load(as: sockaddr_in6.self)
                    let y = b.load(as: sockaddr_in6.self)
                    return withUnsafeBytes(of: x.sin6_addr) { p in
                        withUnsafeBytes(of: y.sin6_addr) { q in p.elementsEqual(q) }
                    }
                default:
                    return false
                }
            }
        }
    }
}
