// Which datagrams on a call's RTP port are the caller's: the defence against "RTP Bleed" (Asterisk
// CVE-2017-14099), where a server latched to the first source it heard and anyone who guessed the port took
// the call's audio and key presses.
//
//     unlatched ── packet from an expected host (any port) ───────────────▶ latched to that address and port
//         │      └─ probation on: N packets in sequence from one source ─▶ latched to it
//         └─ anything else: dropped
//     latched ── packet from the latched address and port: accepted; anything else: dropped
//     rearm(new offer address) ─▶ unlatched (a re-INVITE moved the media)
//
// A plain value, no allocation: the media thread keeps one per call and asks it per packet.

/// Decides, packet by packet, whether RTP comes from the caller, and where the caller's RTP comes from
/// (symmetric RTP: replies go there).
///
/// Expected hosts are the offer's `c=` address and the SIP signalling source of the dialog; another port on
/// one of them is accepted (a caller behind NAT), and the first accepted packet latches the filter to its
/// address and port. With a probation of N packets (learning mode, off at 0), a source that is neither is
/// accepted after N packets with consecutive sequence numbers (RFC 3550 §A.1's probation, as Asterisk's
/// `strictrtp` learns); until then its packets are not accepted.
public struct RTPSourceFilter: Sendable {
    /// Where the caller's RTP comes from once latched; the offer's address and port before.
    public private(set) var remote: UDPAddress
    /// Whether a source has been accepted; from then on only ``remote`` is.
    public private(set) var isLatched = false
    private var offerHost: UDPAddress
    private let signallingHost: UDPAddress
    private let probation: Int
    private var candidate = UDPAddress()
    private var candidateSequence: UInt16 = 0
    private var candidateCount = 0

    /// A filter for a new call.
    ///
    /// - Parameters:
    ///   - offer: the offer's `c=` address and `m=` port (where RTP goes until a source is accepted).
    ///   - signalling: the SIP signalling source (any port), or an empty `UDPAddress()` for none.
    ///   - probation: packets in sequence that make another source accepted; 0 never accepts one.
    public init(offer: UDPAddress, signalling: UDPAddress, probation: Int) {
        remote = offer
        offerHost = offer
        signallingHost = signalling
        self.probation = max(probation, 0)
    }

    /// Whether the packet is the caller's; latches on the first accepted source.
    ///
    /// - Parameters:
    ///   - source: the datagram's source address.
    ///   - sequenceNumber: its RTP sequence number (for probation).
    @inline(__always)
    public mutating func accepts(_ source: UDPAddress, sequenceNumber: UInt16) -> Bool {
        if isLatched { return source.sameEndpoint(as: remote) }
        if source.sameHost(as: offerHost) || source.sameHost(as: signallingHost) {
            latch(source)
            return true
        }
        guard probation > 0 else { return false }
        if candidateCount > 0, source.sameEndpoint(as: candidate), sequenceNumber == candidateSequence &+ 1 {
            candidateCount += 1
        } else {
            candidate = source
            candidateCount = 1
        }
        candidateSequence = sequenceNumber
        guard candidateCount >= probation else { return false }
        latch(source)
        return true
    }

    /// A new offer moved the media (RFC 3264 §8.3.1): RTP goes to its address, and the check starts again
    /// for it. An offer with the same address and port changes nothing.
    public mutating func rearm(offer: UDPAddress) {
        guard !offer.sameEndpoint(as: offerHost) else { return }
        remote = offer
        offerHost = offer
        isLatched = false
        candidateCount = 0
    }

    private mutating func latch(_ source: UDPAddress) {
        remote = source
        isLatched = true
        candidateCount = 0
    }
}
