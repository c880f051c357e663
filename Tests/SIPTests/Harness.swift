import Foundation
import NIOCore
import SIP

/// Runs a UserAgentServer with a simulated clock: performs its actions, keeps its timers, records what it
/// sends and tells, and answers incoming calls with `decision`.
struct Harness {
    struct Sent {
        /// Nanoseconds since the start.
        let at: Int64
        let to: SocketAddress
        let message: SIPMessage
        let text: String
    }

    var agent: UserAgentServer
    var now: Int64 = 0
    var timers: [TimerID: (deadline: Int64, order: Int)] = [:]
    var order = 0
    var sent: [Sent] = []
    var events: [UserAgentServer.Action] = []
    var calls: [IncomingCall] = []
    var timerStarts: [(TimerID, TimeAmount)] = []
    /// Every `.log` action: its text and its Call-ID.
    var logs: [(text: String, callID: String?)] = []
    var decision: (IncomingCall) -> CallDecision
    /// The application's answer to an offer inside a dialog (default: negotiate it like the first one).
    var sessionDecision: (DialogID, SDPOffer?) -> SDPDecision = { _, offer in
        guard let offer else { return .accept(sdp: lateOfferSDP) }
        guard let answer = offer.negotiate() else { return .reject(status: 488) }
        return .accept(sdp: answer.render(address: "192.0.2.10", port: 20000, sessionID: 7))
    }

    init(
        configuration: UserAgentServer.Configuration = .init(contactAddress: "192.0.2.10:5060"),
        decision: @escaping (IncomingCall) -> CallDecision = { _ in .accept(answerSDP: answerSDP) }
    ) {
        agent = UserAgentServer(configuration: configuration, seed: 42)
        self.decision = decision
    }

    mutating func perform(_ actions: [UserAgentServer.Action]) {
        for action in actions {
            switch action {
            case .send(var bytes, let destination):
                let text = bytes.readString(length: bytes.readableBytes) ?? ""
                guard let message = try? SIPMessage(parsing: text) else {
                    preconditionFailure("the server sent something that does not parse: \(text)")
                }
                sent.append(Sent(at: now, to: destination, message: message, text: text))
            case .startTimer(let id, let delay):
                order += 1
                timers[id] = (now + delay.nanoseconds, order)
                timerStarts.append((id, delay))
            case .cancelTimer(let id):
                timers[id] = nil
            case .incomingCall(let call):
                calls.append(call)
                events.append(action)
                perform(agent.decide(call.id, decision(call)))
            case .sessionOffered(let call, let offer):
                events.append(action)
                perform(agent.decideSession(call, sessionDecision(call, offer)))
            case .confirmed, .ended, .sessionAnswered:
                events.append(action)
            case .log(_, let text, let callID):
                logs.append((text, callID))
            }
        }
    }

    /// Delivers a datagram; returns what was sent in reply.
    @discardableResult
    mutating func receive(_ text: String, from source: SocketAddress = caller) -> [Sent] {
        let before = sent.count
        perform(agent.received(ByteBuffer(string: text), from: source, at: .uptimeNanoseconds(UInt64(now))))
        return Array(sent[before...])
    }

    /// Runs every timer due up to `now + nanoseconds`, in deadline order; returns what was sent meanwhile.
    @discardableResult
    mutating func advance(by nanoseconds: Int64) -> [Sent] {
        let before = sent.count
        let end = now + nanoseconds
        while let (id, due) = timers.min(by: {
            ($0.value.deadline, $0.value.order) < ($1.value.deadline, $1.value.order)
        }),
            due.deadline <= end
        {
            timers[id] = nil
            now = due.deadline
            perform(agent.timerFired(id))
        }
        now = end
        return Array(sent[before...])
    }

    mutating func advance(seconds: Double) -> [Sent] { advance(by: Int64(seconds * 1e9)) }

    mutating func hangUp(_ call: DialogID) -> [Sent] {
        let before = sent.count
        perform(agent.hangUp(call))
        return Array(sent[before...])
    }

    var ended: [(DialogID, CallEndReason)] {
        events.compactMap { if case .ended(let id, let reason) = $0 { return (id, reason) } else { return nil } }
    }

    var confirmed: [DialogID] {
        events.compactMap { if case .confirmed(let id, _) = $0 { return id } else { return nil } }
    }

    /// The answers the ACKs of our offers carried, in order (nil: a confirmation without one).
    var confirmedAnswers: [SDPOffer?] {
        events.compactMap { if case .confirmed(_, let answer) = $0 { return .some(answer) } else { return nil } }
    }

    /// The offers handed to the application inside dialogs (nil: a re-INVITE without SDP).
    var offers: [SDPOffer?] {
        events.compactMap { if case .sessionOffered(_, let offer) = $0 { return .some(offer) } else { return nil } }
    }

    /// The answers to our offers in re-INVITE 200s.
    var sessionAnswers: [SDPOffer] {
        events.compactMap { if case .sessionAnswered(_, let answer) = $0 { return answer } else { return nil } }
    }
}

let caller: SocketAddress = {
    guard let address = try? SocketAddress(ipAddress: "198.51.100.7", port: 5062) else {
        preconditionFailure("test address")
    }
    return address
}()

func address(_ ip: String, _ port: Int) -> SocketAddress {
    guard let address = try? SocketAddress(ipAddress: ip, port: port) else { preconditionFailure("address") }
    return address
}

let offerSDP = """
    v=0\r
    o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r
    s=-\r
    c=IN IP4 198.51.100.7\r
    t=0 0\r
    m=audio 49170 RTP/AVP 0 8 101\r
    a=rtpmap:0 PCMU/8000\r
    a=rtpmap:8 PCMA/8000\r
    a=rtpmap:101 telephone-event/8000\r
    a=fmtp:101 0-16\r
    a=sendrecv\r

    """

/// Our offer in the 200 OK to an INVITE without SDP.
let lateOfferSDP = SDPAnswer.renderOffer(address: "192.0.2.10", port: 20000, sessionID: 7)

let answerSDP = SDPAnswer(codec: .pcmu, payloadType: 0, telephoneEventPayloadType: 101)
    .render(address: "192.0.2.10", port: 20000, sessionID: 7)

/// A request as a caller sends it (Via with rport unless told otherwise).
func request(
    _ method: String, uri: String = "sip:5145550100@192.0.2.10:5060", callID: String = "call-1@198.51.100.7",
    branch: String = "z9hG4bK-inv1", fromTag: String = "caller-tag", toTag: String? = nil,
    cseq: Int = 1, cseqMethod: String? = nil, rport: Bool = true, extraHeaders: [String] = [],
    body: String = "", contentType: String = "application/sdp"
) -> String {
    var lines = [
        "\(method) \(uri) SIP/2.0",
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=\(branch)\(rport ? ";rport" : "")",
        "Max-Forwards: 70",
        "From: \"Door\" <sip:door@198.51.100.7>;tag=\(fromTag)",
        "To: <sip:5145550100@192.0.2.10>\(toTag.map { ";tag=\($0)" } ?? "")",
        "Call-ID: \(callID)",
        "CSeq: \(cseq) \(cseqMethod ?? method)",
        "Contact: <sip:door@198.51.100.7:5062>",
    ]
    lines += extraHeaders
    if !body.isEmpty { lines.append("Content-Type: \(contentType)") }
    lines.append("Content-Length: \(body.utf8.count)")
    return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
}

func invite(
    callID: String = "call-1@198.51.100.7", branch: String = "z9hG4bK-inv1", fromTag: String = "caller-tag",
    extraHeaders: [String] = [], rport: Bool = true, body: String = offerSDP
) -> String {
    request(
        "INVITE", callID: callID, branch: branch, fromTag: fromTag, rport: rport, extraHeaders: extraHeaders,
        body: body)
}

extension SIPMessage {
    var toTag: String? { (try? to)?.tag }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

extension Array where Element == Harness.Sent {
    var statuses: [Int] { map { $0.message.status ?? 0 } }
}
