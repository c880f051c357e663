import RTP
import Testing

private func address(_ host: String, _ port: Int) -> UDPAddress {
    UDPAddress(host: host, port: port) ?? UDPAddress()
}

/// `filter.accepts(...)` outside the #expect macro (which cannot call a mutating method).
private func accept(_ filter: inout RTPSourceFilter, _ source: UDPAddress, sequenceNumber: UInt16) -> Bool {
    filter.accepts(source, sequenceNumber: sequenceNumber)
}

@Suite("RTP source filter (RTP Bleed)")
struct RTPSourceFilterTests {
    let offer = address("192.0.2.10", 40000)
    let signalling = address("198.51.100.7", 0)

    @Test func onlyTheOfferOrSignallingHostLatchesThenOnlyThatEndpointCounts() {
        var filter = RTPSourceFilter(offer: offer, signalling: signalling, probation: 0)
        #expect(filter.remote.sameEndpoint(as: offer) && !filter.isLatched)
        // A stranger, however many packets in sequence: never.
        for n in 0..<100 { #expect(!accept(&filter, address("203.0.113.66", 40000), sequenceNumber: UInt16(n))) }
        #expect(!filter.isLatched && filter.remote.sameEndpoint(as: offer))
        // The signalling host on another port (NAT): latched to that address and port.
        let nat = address("198.51.100.7", 61000)
        #expect(accept(&filter, nat, sequenceNumber: 1))
        #expect(filter.isLatched && filter.remote.sameEndpoint(as: nat))
        // Then even the offer's own address is someone else.
        #expect(!accept(&filter, offer, sequenceNumber: 2))
        #expect(!accept(&filter, address("198.51.100.7", 61002), sequenceNumber: 2))
        #expect(accept(&filter, nat, sequenceNumber: 3))
    }

    @Test func theOffersHostOnAnyPortLatches() {
        var filter = RTPSourceFilter(offer: offer, signalling: UDPAddress(), probation: 0)
        #expect(!accept(&filter, address("198.51.100.7", 5000), sequenceNumber: 1))
        #expect(accept(&filter, address("192.0.2.10", 40002), sequenceNumber: 1))
        #expect(filter.remote.port == 40002)
    }

    @Test func probationAcceptsAStrangerAfterNPacketsInSequenceOnly() {
        var filter = RTPSourceFilter(offer: offer, signalling: signalling, probation: 4)
        let stranger = address("203.0.113.66", 7078)
        // Out of sequence, or interleaved with another source: the count starts again.
        for n in stride(from: 0, to: 40, by: 2) { #expect(!accept(&filter, stranger, sequenceNumber: UInt16(n))) }
        #expect(!accept(&filter, stranger, sequenceNumber: 100))
        #expect(!accept(&filter, stranger, sequenceNumber: 101))
        #expect(!accept(&filter, address("203.0.113.67", 7078), sequenceNumber: 102))
        #expect(!accept(&filter, stranger, sequenceNumber: 103))
        #expect(!accept(&filter, stranger, sequenceNumber: 104))
        #expect(!accept(&filter, stranger, sequenceNumber: 105))
        #expect(accept(&filter, stranger, sequenceNumber: 106))  // 103...106: four in sequence
        #expect(filter.isLatched && filter.remote.sameEndpoint(as: stranger))
        #expect(!accept(&filter, address("192.0.2.10", 40000), sequenceNumber: 107))
    }

    @Test func probationWrapsAroundTheSequenceNumber() {
        var filter = RTPSourceFilter(offer: offer, signalling: signalling, probation: 3)
        let stranger = address("203.0.113.66", 7078)
        #expect(!accept(&filter, stranger, sequenceNumber: 65534))
        #expect(!accept(&filter, stranger, sequenceNumber: 65535))
        #expect(accept(&filter, stranger, sequenceNumber: 0))
    }

    @Test func aNewOfferAddressRearmsTheCheck() {
        var filter = RTPSourceFilter(offer: offer, signalling: UDPAddress(), probation: 0)
        #expect(accept(&filter, address("192.0.2.10", 40000), sequenceNumber: 1))
        let moved = address("192.0.2.99", 50000)
        filter.rearm(offer: offer)  // the same offer: nothing changes
        #expect(filter.isLatched)
        filter.rearm(offer: moved)
        #expect(!filter.isLatched && filter.remote.sameEndpoint(as: moved))
        #expect(!accept(&filter, address("192.0.2.10", 40000), sequenceNumber: 2))  // the old address is gone
        #expect(accept(&filter, address("192.0.2.99", 50004), sequenceNumber: 3))
    }

    @Test func sameHostComparesAddressesNotPorts() {
        #expect(address("::1", 5).sameHost(as: address("::1", 6)))
        #expect(!address("::1", 5).sameHost(as: address("::2", 5)))
        #expect(!address("127.0.0.1", 5).sameHost(as: address("::ffff:127.0.0.1", 5)))
        #expect(address("127.0.0.1", 5).mappedToIPv6.sameHost(as: address("::ffff:127.0.0.1", 9)))
        #expect(!UDPAddress().sameHost(as: UDPAddress()))
    }
}
