// An SDP offer (RFC 4566) as a caller sends it in an INVITE, and the answer we make to it (RFC 3264 §6):
// the first audio stream, G.711 in the offerer's order, and RFC 4733 telephone-event at the audio clock
// (8000 Hz). The a=rtpmap decides the codec, not the number (RFC 3264 §5.1, RFC 4566 §6): PCMU or PCMA may
// come on a dynamic payload type (`a=rtpmap:97 PCMU/8000`); the static 0 and 8 of RFC 3551 without an
// rtpmap keep their meaning; a dynamic payload type without an rtpmap is unknown.

/// Why a session description was not read.
public struct SDPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line (type letter and `=`) at fault, e.g. `c=`, or nil.
    public let line: String?
    /// What is wrong.
    public let detail: String

    init(line: String?, _ detail: String) {
        self.line = line
        self.detail = detail
    }

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String { line.map { "SDP \($0) line: \(detail)" } ?? "SDP: \(detail)" }
}

/// The parts of an SDP offer that a G.711 answerer needs.
public struct SDPOffer: Sendable, Equatable {
    /// The network address type of a `c=` line.
    public enum AddressType: String, Sendable, Equatable {
        /// `IN IP4`.
        case ipv4 = "IP4"
        /// `IN IP6`.
        case ipv6 = "IP6"
    }

    /// Media direction attributes (RFC 4566 §6, RFC 3264 §6.1).
    public enum Direction: String, Sendable, Equatable {
        /// `a=sendrecv`: media both ways (the default, RFC 4566 §6).
        case sendrecv
        /// `a=sendonly`: the offerer only sends.
        case sendonly
        /// `a=recvonly`: the offerer only receives.
        case recvonly
        /// `a=inactive`: no media either way (a call on hold).
        case inactive

        /// The direction of the answer to an offer with this one (RFC 3264 §6.1).
        public var answer: Direction {
            switch self {
            case .sendrecv: return .sendrecv
            case .sendonly: return .recvonly
            case .recvonly: return .sendonly
            case .inactive: return .inactive
            }
        }

        /// This answer direction without our sending side: sendrecv → recvonly, sendonly → inactive (for an
        /// answer to an offer whose connection address is 0.0.0.0, RFC 3264 §8.4).
        public var withoutSending: Direction {
            switch self {
            case .sendrecv, .recvonly: return .recvonly
            case .sendonly, .inactive: return .inactive
            }
        }
    }

    /// An `a=rtpmap:` entry (or a static payload type's defaults, RFC 3551 table 4).
    public struct RTPMap: Sendable, Equatable {
        /// The encoding name as written (`PCMU`, `telephone-event`).
        public var encoding: String
        /// The RTP clock rate in Hz.
        public var clockRate: Int
        /// The channel count (1 when not given).
        public var channels: Int
    }

    /// One `m=` line: its media, port, protocol and formats, as written (used to reject non-audio streams).
    public struct MediaLine: Sendable, Equatable {
        /// `audio`, `video`, ...
        public var media: String
        /// The port.
        public var port: Int
        /// The transport protocol (`RTP/AVP`).
        public var proto: String
        /// The format list (payload types for RTP).
        public var formats: [String]
    }

    /// The connection address that applies to the first audio stream (media-level `c=` over session-level).
    public var connectionAddress: String
    /// Whether ``connectionAddress`` is IPv4 or IPv6.
    public var addressType: AddressType
    /// The RTP port of the first audio stream.
    public var audioPort: Int
    /// The transport protocol of the first audio stream (`RTP/AVP`).
    public var audioProtocol: String
    /// The payload types of the first audio stream, in the offerer's order of preference.
    public var payloadTypes: [Int]
    /// `a=rtpmap` of the first audio stream, with static payload types filled in.
    public var rtpmaps: [Int: RTPMap]
    /// `a=fmtp` of the first audio stream: format parameters by payload type.
    public var fmtp: [Int: String]
    /// `a=ptime` in milliseconds (media level, else session level), nil when absent.
    public var ptime: Int?
    /// The first audio stream's direction (media level, else session level, else sendrecv).
    public var direction: Direction
    /// Every m= line, in order (RFC 3264 §6: the answer has as many, in the same order).
    public var mediaLines: [MediaLine]
    /// The index of the first audio stream in ``mediaLines``.
    public var audioIndex: Int

    /// Whether the connection address is `0.0.0.0`: RFC 2543's hold, which RFC 3264 §8.4 still asks every
    /// agent to understand as "send neither RTP nor RTCP to this peer".
    public var isHoldAddress: Bool { addressType == .ipv4 && connectionAddress == "0.0.0.0" }

    /// Parses a session description.
    /// - Parameter text: the SDP body (CRLF or LF line ends).
    /// - Throws: `SDPError` when there is no usable `m=audio`, no connection address for it, or a line
    ///   that it needs is malformed.
    public init(parsing text: String) throws(SDPError) {
        guard text.utf8.count <= 65_535 else { throw SDPError(line: nil, "too large") }
        var sessionConnection: (String, AddressType)?
        var sessionPtime: Int?
        var sessionDirection: Direction?
        var mediaConnection: (String, AddressType)?
        var mediaPtime: Int?
        var mediaDirection: Direction?
        var lines: [MediaLine] = []
        var audio: Int?
        var rtpmaps: [Int: RTPMap] = [:]
        var fmtp: [Int: String] = [:]
        var sawVersion = false

        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard line.utf8.count >= 2, line.utf8.count <= 4096 else { continue }
            let type = line.prefix(2)
            let value = line.dropFirst(2)
            let inAudio = audio != nil && audio == lines.count - 1
            let inSession = lines.isEmpty
            switch type {
            case "v=":
                guard value == "0" else { throw SDPError(line: "v=", "version is not 0") }
                sawVersion = true
            case "c=":
                guard inSession || inAudio else { continue }
                let connection = try SDPOffer.connection(value)
                if inSession { sessionConnection = connection } else { mediaConnection = connection }
            case "m=":
                guard lines.count < 64 else { throw SDPError(line: "m=", "too many media lines") }
                let fields = value.split(separator: " ")
                guard fields.count >= 3 else { throw SDPError(line: "m=", "expected media, port, proto") }
                // The port may carry "/count" (RFC 4566 §5.14); only the port matters here.
                let portText = fields[1].split(separator: "/").first ?? ""
                guard let port = decimal(portText), port <= 65535 else { throw SDPError(line: "m=", "invalid port") }
                lines.append(
                    MediaLine(
                        media: String(fields[0]), port: port, proto: String(fields[2]),
                        formats: fields.dropFirst(3).map(String.init)))
                if audio == nil, fields[0] == "audio", port != 0 { audio = lines.count - 1 }
            case "a=":
                guard inSession || inAudio else { continue }
                let (name, attributeValue) = SDPOffer.attribute(value)
                switch name {
                case "rtpmap" where inAudio:
                    if let (payload, map) = SDPOffer.rtpmap(attributeValue) { rtpmaps[payload] = map }
                case "fmtp" where inAudio:
                    let parts = attributeValue.split(separator: " ", maxSplits: 1)
                    if parts.count == 2, let payload = decimal(parts[0]), payload <= 127 {
                        fmtp[payload] = String(parts[1])
                    }
                case "ptime":
                    if let ptime = decimal(attributeValue.split(separator: ".").first ?? "") {
                        if inSession { sessionPtime = ptime } else { mediaPtime = ptime }
                    }
                case "sendrecv", "sendonly", "recvonly", "inactive":
                    let direction = Direction(rawValue: name)
                    if inSession { sessionDirection = direction } else { mediaDirection = direction }
                default:
                    break
                }
            default:
                continue
            }
        }
        guard sawVersion else { throw SDPError(line: "v=", "missing") }
        guard let audio else { throw SDPError(line: "m=", "no audio stream") }
        guard let (address, type) = mediaConnection ?? sessionConnection else {
            throw SDPError(line: "c=", "no connection address for the audio stream")
        }
        let media = lines[audio]
        var payloads: [Int] = []
        for format in media.formats {
            guard let payload = decimal(format), payload <= 127 else {
                throw SDPError(line: "m=", "invalid payload type \(format)")
            }
            payloads.append(payload)
            // Static payload types (RFC 3551 table 4) need no rtpmap.
            if rtpmaps[payload] == nil, let known = SDPOffer.staticPayloads[payload] { rtpmaps[payload] = known }
        }
        connectionAddress = address
        addressType = type
        audioPort = media.port
        audioProtocol = media.proto
        payloadTypes = payloads
        self.rtpmaps = rtpmaps.filter { payloads.contains($0.key) }
        self.fmtp = fmtp.filter { payloads.contains($0.key) }
        ptime = mediaPtime ?? sessionPtime
        direction = mediaDirection ?? sessionDirection ?? .sendrecv
        mediaLines = lines
        audioIndex = audio
    }

    /// The answer (RFC 3264 §6.1): PCMU or PCMA, whichever the offer lists first, by its rtpmap's encoding
    /// name (any case) at 8000 Hz, mono, on whatever payload type carries it; telephone-event with the
    /// offer's payload type when it is offered at 8000 Hz; the offer's ptime (10 to 120 ms, multiple of 10),
    /// else 20 ms; the direction of RFC 3264 §6.1 (sendonly → recvonly, recvonly → sendonly, inactive →
    /// inactive), without our sending side when the connection address is 0.0.0.0 (RFC 3264 §8.4: nothing may
    /// be sent there, so sendrecv and sendonly offers are answered recvonly, recvonly and inactive ones
    /// inactive). Nil when the stream is not
    /// RTP/AVP or offers neither PCMU nor PCMA (the caller answers 488).
    ///
    /// Also reads an answer to our offer (late offer, RFC 3264 §6.1): the result is then what we send and
    /// whether we send and receive.
    public func negotiate() -> SDPAnswer? {
        guard audioProtocol.uppercased() == "RTP/AVP" else { return nil }
        var codec: (Int, SDPAnswer.Codec)?
        var telephoneEvent: Int?
        for payload in payloadTypes {
            guard let map = rtpmaps[payload] else { continue }
            let name = map.encoding.lowercased()
            if codec == nil, map.clockRate == 8000, map.channels == 1 {
                if name == "pcmu" { codec = (payload, .pcmu) }
                if name == "pcma" { codec = (payload, .pcma) }
            }
            // RFC 4733 §7.1.1: telephone-event's rate must match the audio codec's (8000 for G.711).
            if telephoneEvent == nil, name == "telephone-event", map.clockRate == 8000 { telephoneEvent = payload }
        }
        guard let (payloadType, chosen) = codec else { return nil }
        let offered = ptime ?? 20
        let packetTime = (10...120).contains(offered) && offered % 10 == 0 ? offered : 20
        var rejected: [String] = []
        for (index, line) in mediaLines.enumerated() where index != audioIndex {
            // RFC 3264 §6: a stream we do not take is answered with port 0, the same media and formats.
            rejected.append("\(line.media) 0 \(line.proto) \(line.formats.joined(separator: " "))")
        }
        let answerDirection = isHoldAddress ? direction.answer.withoutSending : direction.answer
        return SDPAnswer(
            codec: chosen, payloadType: payloadType, telephoneEventPayloadType: telephoneEvent,
            ptime: packetTime, direction: answerDirection,
            rejectedMediaBefore: Array(rejected.prefix(audioIndex)),
            rejectedMediaAfter: Array(rejected.dropFirst(audioIndex)))
    }

    // MARK: - Lines

    static let staticPayloads: [Int: RTPMap] = [
        0: RTPMap(encoding: "PCMU", clockRate: 8000, channels: 1),
        3: RTPMap(encoding: "GSM", clockRate: 8000, channels: 1),
        8: RTPMap(encoding: "PCMA", clockRate: 8000, channels: 1),
        9: RTPMap(encoding: "G722", clockRate: 8000, channels: 1),
        18: RTPMap(encoding: "G729", clockRate: 8000, channels: 1),
    ]

    /// `IN IP4 192.0.2.1` (a multicast `/ttl` suffix is dropped).
    static func connection(_ value: Substring) throws(SDPError) -> (String, AddressType) {
        let fields = value.split(separator: " ")
        guard fields.count == 3, fields[0] == "IN", let type = AddressType(rawValue: String(fields[1])) else {
            throw SDPError(line: "c=", "expected IN IP4|IP6 address")
        }
        let address = fields[2].split(separator: "/").first.map(String.init) ?? ""
        let allowed: (Character) -> Bool =
            type == .ipv4
            ? { $0.isASCII && ($0.isNumber || $0 == ".") }
            : { $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") }
        guard !address.isEmpty, address.count <= 45, address.allSatisfy(allowed) else {
            throw SDPError(line: "c=", "invalid address")
        }
        return (address, type)
    }

    /// `name:value` or a flag `name`.
    static func attribute(_ value: Substring) -> (String, Substring) {
        if let colon = value.firstIndex(of: ":") {
            return (String(value[..<colon]).lowercased(), value[value.index(after: colon)...])
        }
        return (String(value).lowercased(), "")
    }

    /// `96 telephone-event/8000[/1]`.
    static func rtpmap(_ value: Substring) -> (Int, RTPMap)? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let payload = decimal(parts[0]), payload <= 127 else { return nil }
        let fields = parts[1].split(separator: "/")
        guard fields.count >= 2, let rate = decimal(fields[1]), rate > 0 else { return nil }
        let channels = fields.count >= 3 ? decimal(fields[2]) ?? 1 : 1
        return (payload, RTPMap(encoding: String(fields[0]), clockRate: rate, channels: channels))
    }
}
