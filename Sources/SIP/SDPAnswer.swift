/// The answer to an ``SDPOffer`` (RFC 3264 §6.1): one G.711 codec, optional RFC 4733 telephone-event,
/// the packet time and the direction. Made by ``SDPOffer/negotiate()``; written by ``render(address:port:sessionID:)``.
public struct SDPAnswer: Sendable, Equatable {
    /// The G.711 law chosen (ITU-T G.711; RTP payload types of RFC 3551).
    public enum Codec: String, Sendable, Equatable {
        /// µ-law, static payload type 0.
        case pcmu = "PCMU"
        /// A-law, static payload type 8.
        case pcma = "PCMA"
    }

    /// The audio codec.
    public var codec: Codec
    /// The audio payload type, as offered: the static 0 (PCMU) or 8 (PCMA), or the dynamic one whose
    /// `a=rtpmap` names the codec (`a=rtpmap:97 PCMU/8000`); the answer uses the same number.
    public var payloadType: Int
    /// The offer's telephone-event/8000 payload type (RFC 4733), nil when none was offered at 8000 Hz.
    public var telephoneEventPayloadType: Int?
    /// Milliseconds of audio per packet.
    public var ptime: Int
    /// The answer's direction for the stream.
    public var direction: SDPOffer.Direction
    /// m= lines of streams before the audio one, answered with port 0 (`video 0 RTP/AVP 96`).
    public var rejectedMediaBefore: [String]
    /// m= lines of streams after the audio one, answered with port 0.
    public var rejectedMediaAfter: [String]

    /// An answer.
    public init(
        codec: Codec, payloadType: Int, telephoneEventPayloadType: Int?, ptime: Int = 20,
        direction: SDPOffer.Direction = .sendrecv, rejectedMediaBefore: [String] = [],
        rejectedMediaAfter: [String] = []
    ) {
        self.codec = codec
        self.payloadType = payloadType
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.ptime = ptime
        self.direction = direction
        self.rejectedMediaBefore = rejectedMediaBefore
        self.rejectedMediaAfter = rejectedMediaAfter
    }

    /// Whether we send RTP: the answer is sendrecv or sendonly (RFC 3264 §6.1).
    public var sends: Bool { direction == .sendrecv || direction == .sendonly }

    /// Whether the peer sends us RTP: the answer is sendrecv or recvonly.
    public var receives: Bool { direction == .sendrecv || direction == .recvonly }

    /// The samples per packet at 8 kHz (160 for 20 ms).
    public var samplesPerPacket: Int { ptime * 8 }

    /// The session description text (RFC 4566), CRLF line ends:
    /// `v= o= s= c= t= m=audio ... a=rtpmap a=fmtp (telephone-event 0-15) a=ptime a=<direction>`.
    /// - Parameters:
    ///   - address: our RTP address (IPv4, or IPv6 when it contains `:`), in `o=` and `c=`.
    ///   - port: our RTP port.
    ///   - sessionID: the `o=` session id and version (keep it for the call; the user-agent server raises the
    ///     version of a later answer that differs, RFC 3264 §8).
    public func render(address: String, port: Int, sessionID: UInt64) -> String {
        let type = address.contains(":") ? "IP6" : "IP4"
        var formats = "\(payloadType)"
        if let event = telephoneEventPayloadType { formats += " \(event)" }
        var lines = [
            "v=0",
            "o=- \(sessionID) \(sessionID) IN \(type) \(address)",
            "s=callseq",
            "c=IN \(type) \(address)",
            "t=0 0",
        ]
        lines += rejectedMediaBefore.map { "m=\($0)" }
        lines += [
            "m=audio \(port) RTP/AVP \(formats)",
            "a=rtpmap:\(payloadType) \(codec.rawValue)/8000",
        ]
        if let event = telephoneEventPayloadType {
            lines += ["a=rtpmap:\(event) telephone-event/8000", "a=fmtp:\(event) 0-15"]
        }
        lines += ["a=ptime:\(ptime)", "a=\(direction.rawValue)"]
        lines += rejectedMediaAfter.map { "m=\($0)" }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Our offer when the caller's INVITE (or re-INVITE) had none (RFC 3264 §5, RFC 3261 §13.2.1: it goes in
    /// the 200 OK, the answer comes in the ACK): PCMU 0, PCMA 8, telephone-event 101 (events 0-16), 20 ms.
    /// - Parameters:
    ///   - address: our RTP address (IPv4, or IPv6 when it contains `:`).
    ///   - port: our RTP port.
    ///   - sessionID: the `o=` session id and version.
    ///   - direction: the stream's direction (sendrecv unless a call stays on hold).
    public static func renderOffer(
        address: String, port: Int, sessionID: UInt64,
        direction: SDPOffer.Direction = .sendrecv
    ) -> String {
        let type = address.contains(":") ? "IP6" : "IP4"
        let lines = [
            "v=0",
            "o=- \(sessionID) \(sessionID) IN \(type) \(address)",
            "s=callseq",
            "c=IN \(type) \(address)",
            "t=0 0",
            "m=audio \(port) RTP/AVP 0 8 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16",
            "a=ptime:20",
            "a=\(direction.rawValue)",
        ]
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
