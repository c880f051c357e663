import NIOCore

/// What a response copies from its request (RFC 3261 §8.2.6.2): the Via values (the top one with
/// `received` and `rport`, §18.2.1 and RFC 3581), From, To, Call-ID and CSeq as written; and where it goes.
struct ResponseContext: Sendable {
    /// Via values in order, the top one completed with received/rport.
    var vias: [String]
    var from: String
    var to: String
    /// Whether To already has a tag (a request inside a dialog).
    var toHasTag: Bool
    var callID: String
    var cseq: String
    /// The request's method (for logs).
    var method: String
    /// Where the response goes (§18.2.2: the top Via's received address, rport or sent-by port).
    var destination: SocketAddress

    /// The response's bytes.
    /// - Parameters:
    ///   - status: the status code.
    ///   - reason: the reason phrase, default the usual one.
    ///   - toTag: our tag, added to To when the request's To has none (not for 100, §8.2.6.2).
    ///   - headers: more headers, after CSeq.
    ///   - body: the body (its Content-Type among `headers`).
    ///   - product: the Server header's value.
    func render(
        status: Int, reason: String? = nil, toTag: String?, headers: [(String, String)] = [],
        body: [UInt8] = [], product: String
    ) -> ByteBuffer {
        var fields = SIPHeaders()
        for via in vias { fields.add(name: "Via", value: via) }
        for (name, value) in headers where name == "Record-Route" { fields.add(name: name, value: value) }
        fields.add(name: "From", value: from)
        if let toTag, !toHasTag, status != 100 {
            fields.add(name: "To", value: "\(to);tag=\(toTag)")
        } else {
            fields.add(name: "To", value: to)
        }
        fields.add(name: "Call-ID", value: callID)
        fields.add(name: "CSeq", value: cseq)
        for (name, value) in headers where name != "Record-Route" { fields.add(name: name, value: value) }
        if status == 503, !headers.contains(where: { $0.0 == "Retry-After" }) {
            // §21.5.4: without Retry-After a client must treat 503 as 500; every 503 of ours says when to retry.
            fields.add(name: "Retry-After", value: String(ResponseContext.defaultRetryAfterSeconds))
        }
        fields.add(name: "Server", value: product)
        let message = SIPMessage(
            startLine: .response(status: status, reason: reason ?? ResponseContext.reason(status)),
            headers: fields, body: body)
        return message.serialized()
    }

    /// The Retry-After of a 503 that does not give its own (draining, at capacity, the application's 503).
    static let defaultRetryAfterSeconds = 5

    /// The usual reason phrase of a status code (RFC 3261 §21).
    static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 183: return "Session Progress"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 410: return "Gone"
        case 415: return "Unsupported Media Type"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 482: return "Loop Detected"
        case 483: return "Too Many Hops"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 491: return "Request Pending"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Server Time-out"
        case 600: return "Busy Everywhere"
        case 603: return "Decline"
        case 604: return "Does Not Exist Anywhere"
        case 606: return "Not Acceptable"
        default:
            switch status {
            case 100..<200: return "Session Progress"
            case 200..<300: return "OK"
            case 300..<400: return "Redirection"
            case 400..<500: return "Client Error"
            case 500..<600: return "Server Error"
            default: return "Global Failure"
            }
        }
    }
}
