import Logging
import NIOCore

// Requests and responses received by the user-agent server: validation (§8.2), transaction matching
// (§17.2.3), and the methods (INVITE §13.3, re-INVITE §14.2, ACK, BYE §15.1.2, CANCEL §9.2, OPTIONS §11.2,
// UPDATE RFC 3311), with the offer/answer rules of RFC 3264 (late offer §5, re-offers §8).

/// A request whose mandatory headers (§8.1.1) parsed.
struct ReceivedRequest {
    let message: SIPMessage
    let method: String
    let from: SIPNameAddress
    let to: SIPNameAddress
    let callID: String
    let cseq: SIPCSeq
    let source: SocketAddress
    let context: ResponseContext
    let key: TransactionKey
}

/// What a request's body is for the offer/answer model (RFC 3264).
enum SessionBody {
    /// No body.
    case none
    /// A body that is not `application/sdp` (§8.2.3: 415 with Accept).
    case unsupportedType
    /// SDP that does not parse or has no usable audio stream.
    case invalid(SDPError)
    /// A session description.
    case sdp(SDPOffer)

    init(_ message: SIPMessage) {
        guard !message.body.isEmpty else {
            self = .none
            return
        }
        let type = message.headers["Content-Type"].map { trimmed($0.split(separator: ";").first ?? "") }
        guard type?.lowercased() == "application/sdp" else {
            self = .unsupportedType
            return
        }
        do {
            self = .sdp(try SDPOffer(parsing: String(decoding: message.body, as: UTF8.self)))
        } catch {
            self = .invalid(error)
        }
    }
}

extension UserAgentServer {
    // MARK: - Validation

    /// Where a response to a request with this top Via goes (§18.2.2, RFC 3581 §4), and the Via as the
    /// response carries it: `received` set to the source address; `rport` filled with the source port when
    /// present. Nil when the source has no IP address.
    static func responseRoute(_ via: SIPVia, source: SocketAddress) -> (SocketAddress, SIPVia)? {
        guard let ip = source.ipAddress, let sourcePort = source.port else { return nil }
        var via = via
        var port = via.port ?? 5060
        if via.responsePort != .absent {
            via.setParameter("rport", String(sourcePort))
            port = sourcePort
        }
        via.setParameter("received", ip)
        guard let destination = try? SocketAddress(ipAddress: ip, port: port) else { return nil }
        return (destination, via)
    }

    /// The server transaction key of a request (§17.2.3; §17.2.3's RFC 2543 fallback without the cookie).
    static func transactionKey(_ via: SIPVia, method: String, callID: String, fromTag: String?, cseq: UInt32)
        -> TransactionKey {
        let method = method == "ACK" ? "INVITE" : method
        if let branch = via.branch, branch.hasPrefix("z9hG4bK") {
            return TransactionKey(branch: branch, sentBy: via.sentBy.lowercased(), method: method)
        }
        return TransactionKey(branch: "rfc2543 \(callID) \(fromTag ?? "") \(cseq)", sentBy: via.sentBy.lowercased(),
                              method: method)
    }

    /// A datagram that did not parse: dropped when it is not SIP (or not a request); otherwise a request
    /// gets 400 naming the bad header, when it has the headers a response needs.
    mutating func rejectMalformed(_ datagram: ByteBuffer, error: SIPParseError, source: SocketAddress,
                                  into actions: inout [Action]) {
        guard error != .notSIP, error != .messageTooLarge(0),
              let salvaged = SIPMessage.salvageRequest(datagram, limits: configuration.limits)
        else {
            log(.debug, "dropped a datagram of \(datagram.readableBytes) bytes from \(source): \(error)", nil,
                into: &actions)
            return
        }
        badRequest(salvaged, error: error, source: source, into: &actions)
    }

    /// 400 Bad Request (stateless) naming the bad header in the reason phrase and a Warning (§20.43), when
    /// Via, From, To, Call-ID and CSeq are there to copy; nothing for an ACK (§17.1.1.3: never answered).
    mutating func badRequest(_ message: SIPMessage, error: SIPParseError, source: SocketAddress,
                             into actions: inout [Action]) {
        let headers = message.headers
        let callID = headers["Call-ID"]
        guard message.method != "ACK", let topVia = headers.values("Via").first, let via = try? SIPVia(topVia),
              let (destination, responseVia) = UserAgentServer.responseRoute(via, source: source),
              let from = headers["From"], let to = headers["To"], let callID, let cseq = headers["CSeq"]
        else {
            log(.debug, "dropped a malformed request from \(source): \(error)", callID, into: &actions)
            return
        }
        let toHasTag = (try? SIPNameAddress(to, header: "To"))?.tag != nil
        let context = ResponseContext(vias: [responseVia.description] + headers.values("Via").dropFirst(),
                                      from: from, to: to, toHasTag: toHasTag, callID: callID, cseq: cseq,
                                      method: message.method ?? "", destination: destination)
        let warning = error.detail.replacingQuotes()
        let response = context.render(status: 400, reason: "Bad Request (\(warning))", toTag: token(),
                                      headers: [("Warning", "399 \(configuration.product) \"\(warning)\"")],
                                      product: configuration.product)
        log(.debug, "→ 400 to a malformed \(message.method ?? "request") from \(source): \(error)", callID,
            into: &actions)
        actions.append(.send(response, to: destination))
    }

    // MARK: - Requests

    mutating func receivedRequest(_ message: SIPMessage, from source: SocketAddress, into actions: inout [Action]) {
        guard let method = message.method else { return }
        let request: ReceivedRequest
        do throws(SIPParseError) {
            let topVia = try message.topVia
            guard let (destination, responseVia) = UserAgentServer.responseRoute(topVia, source: source) else {
                return
            }
            _ = try message.vias
            let from = try message.from
            let to = try message.to
            let callID = try message.callID
            let cseq = try message.cseq
            guard cseq.method == method else { throw SIPParseError.invalidHeader("CSeq", "method does not match") }
            _ = try message.maxForwards
            _ = try message.requestURI
            let context = ResponseContext(vias: [responseVia.description] + message.headers.values("Via").dropFirst(),
                                          from: message.headers["From"] ?? "", to: message.headers["To"] ?? "",
                                          toHasTag: to.tag != nil, callID: callID,
                                          cseq: message.headers["CSeq"] ?? "", method: method,
                                          destination: destination)
            let key = UserAgentServer.transactionKey(topVia, method: method, callID: callID, fromTag: from.tag,
                                                     cseq: cseq.number)
            request = ReceivedRequest(message: message, method: method, from: from, to: to, callID: callID,
                                      cseq: cseq, source: source, context: context, key: key)
        } catch {
            badRequest(message, error: error, source: source, into: &actions)
            return
        }
        log(.debug, "← \(message.startLineText) from \(source)", request.callID, into: &actions)

        // Retransmissions go to their transaction (§17.2.3).
        switch method {
        case "ACK":
            receivedACK(request, into: &actions)
            return
        case "INVITE":
            if let transaction = inviteTransactions[request.key] {
                transaction.receivedRetransmission(into: &actions)
                return
            }
        default:
            if let transaction = nonInviteTransactions[request.key] {
                transaction.receivedRetransmission(into: &actions)
                return
            }
        }

        // §8.2.2.3: option tags in Require that we do not support (we support none) → 420.
        let required = message.require
        if method != "CANCEL", !required.isEmpty {
            let headers = [("Unsupported", required.joined(separator: ", "))]
            if method == "INVITE" {
                rejectInvite(request, status: 420, headers: headers, into: &actions)
            } else {
                respond(request, status: 420, headers: headers, into: &actions)
            }
            return
        }

        switch method {
        case "INVITE":
            if request.to.tag == nil {
                receivedInvite(request, into: &actions)
            } else {
                receivedReInvite(request, into: &actions)
            }
        case "BYE":
            receivedBYE(request, into: &actions)
        case "CANCEL":
            receivedCANCEL(request, into: &actions)
        case "UPDATE":
            receivedUpdate(request, into: &actions)
        case "OPTIONS":
            // §11.2: 200 with what we allow and accept.
            respond(request, status: 200, headers: [("Allow", UserAgentServer.allow), ("Accept", "application/sdp")],
                    into: &actions)
        default:
            // §8.2.1: a method we do not implement.
            respond(request, status: 405, headers: [("Allow", UserAgentServer.allow)], into: &actions)
        }
    }

    /// A final response to a non-INVITE request, through a server transaction (stateless at capacity).
    mutating func respond(_ request: ReceivedRequest, status: Int, toTag: String? = nil,
                          headers: [(String, String)] = [], into actions: inout [Action]) {
        respond(context: request.context, key: request.key, status: status, toTag: toTag, headers: headers,
                into: &actions)
    }

    /// A final response to a non-INVITE request from what it copies and its transaction key, with an optional
    /// body (its Content-Type among `headers`).
    mutating func respond(context: ResponseContext, key: TransactionKey, status: Int, toTag: String? = nil,
                          headers: [(String, String)] = [], body: [UInt8] = [], into actions: inout [Action]) {
        let tag = toTag ?? token()
        let response = context.render(status: status, toTag: tag, headers: headers, body: body,
                                      product: configuration.product)
        log(.debug, "→ \(status) \(ResponseContext.reason(status)) (\(context.method))", context.callID,
            into: &actions)
        guard transactionCount < configuration.maximumTransactions else {
            actions.append(.send(response, to: context.destination))
            return
        }
        let serial = newSerial(.nonInvite(key))
        var transaction = NonInviteServerTransaction(serial: serial, destination: context.destination)
        transaction.send(response, status: status, timers: timers, into: &actions)
        nonInviteTransactions[key] = transaction
    }

    /// A final response to an INVITE that creates no dialog, through an INVITE server transaction so that
    /// it is retransmitted and its ACK absorbed (stateless at capacity).
    mutating func rejectInvite(_ request: ReceivedRequest, status: Int, headers: [(String, String)] = [],
                               into actions: inout [Action]) {
        let response = request.context.render(status: status, toTag: token(), headers: headers,
                                               product: configuration.product)
        log(.debug, "→ \(status) \(ResponseContext.reason(status)) (INVITE)", request.callID, into: &actions)
        guard transactionCount < configuration.maximumTransactions else {
            actions.append(.send(response, to: request.context.destination))
            return
        }
        let serial = newSerial(.invite(request.key))
        var transaction = InviteServerTransaction(serial: serial, context: request.context, dialog: nil,
                                                  cseq: request.cseq.number)
        transaction.send(response, status: status, timers: timers, into: &actions)
        inviteTransactions[request.key] = transaction
    }

    // MARK: - INVITE

    /// A new INVITE (§13.3.1): 100 Trying, then the application's decision.
    mutating func receivedInvite(_ request: ReceivedRequest, into actions: inout [Action]) {
        if isDraining {
            rejectInvite(request, status: 503, into: &actions)
            return
        }
        guard dialogs.count < configuration.maximumDialogs,
              transactionCount < configuration.maximumTransactions
        else {
            log(.warning, "at capacity: 503", request.callID, into: &actions)
            rejectInvite(request, status: 503, into: &actions)
            return
        }
        guard let uri = try? request.message.requestURI else { return }
        var offer: SDPOffer?
        var offerError: SDPError?
        switch SessionBody(request.message) {
        case .none:
            break  // late offer (§13.2.1): the application's offer goes in the 200, the answer in the ACK
        case .unsupportedType:
            rejectInvite(request, status: 415, headers: [("Accept", "application/sdp")], into: &actions)
            return
        case .invalid(let error):
            offerError = error
        case .sdp(let parsed):
            offer = parsed
        }
        let id = DialogID(callID: request.callID, localTag: token(), remoteTag: request.from.tag ?? "")
        let contact = (try? request.message.contact)?.uri ?? request.from.uri
        let local = configuration.contactAddress ?? (uri.host.isEmpty ? "" : uri.port.map { "\(uri.host):\($0)" }
            ?? uri.host)
        var dialog = Dialog(id: id, remoteHeader: request.context.from,
                            localHeader: "\(request.context.to);tag=\(id.localTag)",
                            remoteTarget: contact, routeSet: request.message.recordRoute,
                            remoteCSeq: request.cseq.number, peer: request.context.destination,
                            localAddress: local, user: uri.user)
        dialog.invite = request.key
        if request.message.body.isEmpty { dialog.awaitingAnswer = .initial }
        dialogs[id] = dialog

        let serial = newSerial(.invite(request.key))
        var transaction = InviteServerTransaction(serial: serial, context: request.context, dialog: id,
                                                  cseq: request.cseq.number)
        // §17.2.1: 100 Trying at once (the application decides synchronously, but may take longer).
        let trying = request.context.render(status: 100, toTag: nil, product: configuration.product)
        transaction.send(trying, status: 100, timers: timers, into: &actions)
        inviteTransactions[request.key] = transaction

        log(.info, "incoming call from \(request.from.uri) to \(uri.user ?? uri.text) (\(request.source))",
            request.callID, into: &actions)
        actions.append(.incomingCall(IncomingCall(
            id: id, user: uri.user ?? "", requestURI: uri.text, from: request.context.from, to: request.context.to,
            callerDisplayName: request.from.displayName, callerURI: request.from.uri, offer: offer,
            offerError: offerError, source: request.source)))
    }

    /// Headers of a dialog-creating response (§12.1.1): Record-Route copied in order, our Contact, Allow.
    func dialogHeaders(_ dialog: Dialog) -> [(String, String)] {
        var headers = dialog.routeSet.map { ("Record-Route", $0) }
        let user = dialog.user.map { "\($0)@" } ?? ""
        headers.append(("Contact", "<sip:\(user)\(dialog.localAddress)>"))
        headers.append(("Allow", UserAgentServer.allow))
        return headers
    }

    /// Sends the 200 OK with the answer, or our offer when the INVITE had none (§13.3.1.4), retransmitted
    /// until the ACK.
    mutating func answer(_ id: DialogID, into actions: inout [Action]) {
        guard var dialog = dialogs[id], dialog.phase == .deciding || dialog.phase == .ringing,
              let key = dialog.invite, var transaction = inviteTransactions[key], transaction.isProceeding
        else { return }
        var headers = dialogHeaders(dialog)
        headers.append(("Content-Type", "application/sdp"))
        let ok = transaction.context.render(status: 200, toTag: id.localTag, headers: headers,
                                            body: dialog.localSDP, product: configuration.product)
        transaction.send(ok, status: 200, timers: timers, into: &actions)
        inviteTransactions[key] = transaction
        dialog.phase = .waitingForACK
        dialogs[id] = dialog
        log(.info, "answered", id.callID, into: &actions)
    }

    /// An INVITE inside a dialog (§14.2). With an offer: handed to the application (RFC 3264 §8), whose
    /// ``SDPDecision`` comes back through ``decideSession(_:_:)``: 200 with its answer, or its rejection with
    /// the session unchanged. Without SDP: the application's offer goes in the 200, the answer comes in the ACK.
    /// SDP that does not parse → 488; while our own offer awaits its answer → 491 (§14.2).
    mutating func receivedReInvite(_ request: ReceivedRequest, into actions: inout [Action]) {
        let id = DialogID(callID: request.callID, localTag: request.to.tag ?? "", remoteTag: request.from.tag ?? "")
        guard var dialog = dialogs[id], dialog.phase == .confirmed || dialog.phase == .waitingForACK else {
            rejectInvite(request, status: 481, into: &actions)
            return
        }
        if let key = dialog.invite, var pending = inviteTransactions[key] {
            if pending.isProceeding {
                // §14.2: an INVITE before the final response to the previous one → 500 with Retry-After.
                rejectInvite(request, status: 500, headers: [("Retry-After", "1")], into: &actions)
                return
            }
            if dialog.awaitingAnswer != nil {
                // §14.2: an offer crossing ours (in a 2xx whose ACK has not come) → 491 Request Pending.
                rejectInvite(request, status: 491, into: &actions)
                return
            }
            // The caller has our 2xx (it knows our tag): stop retransmitting it.
            _ = pending.acknowledged(into: &actions)
            inviteTransactions[key] = pending
            if dialog.phase == .waitingForACK {
                dialog.phase = .confirmed
                if !dialog.endTold { actions.append(.confirmed(id, answer: nil)) }
            }
        }
        guard request.cseq.number > dialog.remoteCSeq else {
            // §12.2.2: lower CSeq than the last request in the dialog.
            rejectInvite(request, status: 500, into: &actions)
            dialogs[id] = dialog
            return
        }
        guard transactionCount < configuration.maximumTransactions else {
            rejectInvite(request, status: 503, into: &actions)
            dialogs[id] = dialog
            return
        }
        dialog.remoteCSeq = request.cseq.number
        let offer: SDPOffer?
        switch SessionBody(request.message) {
        case .none:
            offer = nil
        case .unsupportedType:
            dialogs[id] = dialog
            rejectInvite(request, status: 415, headers: [("Accept", "application/sdp")], into: &actions)
            return
        case .invalid(let error):
            dialogs[id] = dialog
            log(.info, "re-INVITE with an unusable offer (\(error)): 488", id.callID, into: &actions)
            rejectInvite(request, status: 488, into: &actions)
            return
        case .sdp(let parsed):
            offer = parsed
        }
        if let contact = try? request.message.contact { dialog.remoteTarget = contact.uri }  // target refresh
        let serial = newSerial(.invite(request.key))
        inviteTransactions[request.key] = InviteServerTransaction(serial: serial, context: request.context,
                                                                  dialog: id, cseq: request.cseq.number)
        dialog.invite = request.key
        dialog.pendingOffer = PendingOffer(kind: .reInvite(hasOffer: offer != nil))
        dialogs[id] = dialog
        actions.append(.sessionOffered(id, offer: offer))
    }

    /// UPDATE (RFC 3311 §5.2), a target refresh inside a dialog: without a body → 200; with an offer → the
    /// application's ``SDPDecision`` (200 with the answer, or 488); SDP that does not parse → 488; while our
    /// offer awaits its answer → 491; while the caller's previous offer is unanswered (the INVITE not answered
    /// yet) → 500 with Retry-After; unknown dialog → 481.
    mutating func receivedUpdate(_ request: ReceivedRequest, into actions: inout [Action]) {
        let id = DialogID(callID: request.callID, localTag: request.to.tag ?? "", remoteTag: request.from.tag ?? "")
        guard request.to.tag != nil, var dialog = dialogs[id], dialog.phase != .terminating else {
            respond(request, status: 481, into: &actions)
            return
        }
        guard request.cseq.number > dialog.remoteCSeq else {
            respond(request, status: 500, into: &actions)  // RFC 3261 §12.2.2
            return
        }
        dialog.remoteCSeq = request.cseq.number
        if let contact = try? request.message.contact { dialog.remoteTarget = contact.uri }  // target refresh
        dialogs[id] = dialog
        let headers = dialogHeaders(dialog).filter { $0.0 != "Record-Route" }
        switch SessionBody(request.message) {
        case .none:
            respond(request, status: 200, headers: headers, into: &actions)
        case .unsupportedType:
            respond(request, status: 415, headers: [("Accept", "application/sdp")], into: &actions)
        case .invalid(let error):
            log(.info, "UPDATE with an unusable offer (\(error)): 488", id.callID, into: &actions)
            respond(request, status: 488, into: &actions)
        case .sdp(let offer):
            let inviteProceeding = dialog.invite.flatMap { inviteTransactions[$0] }?.isProceeding ?? false
            if dialog.phase == .deciding || dialog.phase == .ringing || inviteProceeding || dialog.pendingOffer != nil {
                respond(request, status: 500, headers: [("Retry-After", "1")], into: &actions)
            } else if dialog.awaitingAnswer != nil {
                respond(request, status: 491, into: &actions)
            } else {
                dialog.pendingOffer = PendingOffer(kind: .update(request.key, request.context))
                dialogs[id] = dialog
                actions.append(.sessionOffered(id, offer: offer))
            }
        }
    }

    // MARK: - ACK, BYE, CANCEL

    /// ACK: of a non-2xx final, absorbed by its INVITE transaction (§17.2.1); of our 2xx, it confirms the
    /// dialog (§13.3.1.4). Never answered.
    mutating func receivedACK(_ request: ReceivedRequest, into actions: inout [Action]) {
        if var transaction = inviteTransactions[request.key], !transaction.awaitsACK {
            transaction.receivedACK(timers: timers, into: &actions)
            inviteTransactions[request.key] = transaction
            return
        }
        guard let tag = request.to.tag else { return }
        let id = DialogID(callID: request.callID, localTag: tag, remoteTag: request.from.tag ?? "")
        guard var dialog = dialogs[id], let key = dialog.invite, var transaction = inviteTransactions[key],
              transaction.cseq == request.cseq.number, transaction.acknowledged(into: &actions)
        else { return }
        inviteTransactions[key] = transaction
        dialog.invite = nil
        var answer: SDPOffer?
        if let awaited = dialog.awaitingAnswer {
            // Our 2xx carried the offer: the ACK must carry the answer (RFC 3261 §13.2.1, RFC 3264 §5).
            dialog.awaitingAnswer = nil
            guard case .sdp(let parsed) = SessionBody(request.message) else {
                log(.info, "the ACK carries no usable SDP answer to our offer: BYE", id.callID, into: &actions)
                if !dialog.endTold {
                    dialog.endTold = true
                    actions.append(.ended(id, .missingAnswer))
                }
                sendBYE(&dialog, into: &actions)
                return
            }
            if awaited == .initial {
                answer = parsed
            } else if !dialog.endTold {
                actions.append(.sessionAnswered(id, answer: parsed))
            }
        }
        if dialog.phase == .waitingForACK {
            dialog.phase = .confirmed
            if !dialog.endTold {
                actions.append(.confirmed(id, answer: answer))
                log(.info, "call established", id.callID, into: &actions)
            }
        }
        if dialog.hangUpPending {
            sendBYE(&dialog, into: &actions)
        } else {
            dialogs[id] = dialog
        }
    }

    /// BYE (§15.1.2): 200 and the call ends; 481 for an unknown dialog.
    mutating func receivedBYE(_ request: ReceivedRequest, into actions: inout [Action]) {
        let id = DialogID(callID: request.callID, localTag: request.to.tag ?? "", remoteTag: request.from.tag ?? "")
        guard request.to.tag != nil, let dialog = dialogs[id] else {
            respond(request, status: 481, into: &actions)
            return
        }
        respond(request, status: 200, into: &actions)
        guard dialog.phase != .terminating else { return }  // crossing BYEs: ours continues
        if let key = dialog.invite, var transaction = inviteTransactions[key] {
            if transaction.isProceeding {
                actions.append(.cancelTimer(TimerID(kind: .answer, transaction: transaction.serial)))
                let terminated = transaction.context.render(status: 487, toTag: id.localTag,
                                                            product: configuration.product)
                transaction.send(terminated, status: 487, timers: timers, into: &actions)
            } else {
                _ = transaction.acknowledged(into: &actions)
            }
            inviteTransactions[key] = transaction
        }
        dialogs[id] = nil
        log(.info, "caller hung up (BYE)", id.callID, into: &actions)
        if !dialog.endTold { actions.append(.ended(id, .remoteBye)) }
    }

    /// CANCEL (§9.2): 200, and 487 to the INVITE when it has no final response yet; 481 without one.
    mutating func receivedCANCEL(_ request: ReceivedRequest, into actions: inout [Action]) {
        let inviteKey = TransactionKey(branch: request.key.branch, sentBy: request.key.sentBy, method: "INVITE")
        guard var transaction = inviteTransactions[inviteKey] else {
            respond(request, status: 481, into: &actions)
            return
        }
        respond(request, status: 200, toTag: transaction.dialog?.localTag, into: &actions)
        guard transaction.isProceeding else { return }
        actions.append(.cancelTimer(TimerID(kind: .answer, transaction: transaction.serial)))
        let terminated = transaction.context.render(status: 487, toTag: transaction.dialog?.localTag ?? token(),
                                                    product: configuration.product)
        transaction.send(terminated, status: 487, timers: timers, into: &actions)
        inviteTransactions[inviteKey] = transaction
        log(.info, "caller cancelled: 487", request.callID, into: &actions)
        if let id = transaction.dialog, let dialog = dialogs.removeValue(forKey: id), !dialog.endTold {
            actions.append(.ended(id, .cancelled))
        }
    }

    // MARK: - Our BYE

    /// Sends BYE in the dialog (§15.1.1, §12.2.1.1): a new CSeq, From/To swapped with tags, Request-URI the
    /// remote target, Route from the route set, to the caller's address; timers E and F.
    mutating func sendBYE(_ dialog: inout Dialog, into actions: inout [Action]) {
        guard transactionCount < configuration.maximumTransactions else {
            dialogs[dialog.id] = nil
            return
        }
        dialog.localCSeq += 1
        dialog.phase = .terminating
        dialog.hangUpPending = false
        let branch = "z9hG4bK" + token()
        var headers = SIPHeaders()
        headers.add(name: "Via", value: "SIP/2.0/UDP \(dialog.localAddress);branch=\(branch);rport")
        headers.add(name: "Max-Forwards", value: "70")
        for route in dialog.routeSet { headers.add(name: "Route", value: route) }
        headers.add(name: "From", value: dialog.localHeader)
        headers.add(name: "To", value: dialog.remoteHeader)
        headers.add(name: "Call-ID", value: dialog.id.callID)
        headers.add(name: "CSeq", value: "\(dialog.localCSeq) BYE")
        headers.add(name: "User-Agent", value: configuration.product)
        let bye = SIPMessage(startLine: .request(method: "BYE", uri: dialog.remoteTarget), headers: headers)
        let serial = newSerial(.client(branch))
        let transaction = NonInviteClientTransaction(serial: serial, request: bye.serialized(),
                                                     destination: dialog.peer, dialog: dialog.id, timers: timers,
                                                     into: &actions)
        clientTransactions[branch] = transaction
        dialogs[dialog.id] = dialog
        log(.debug, "→ BYE \(dialog.remoteTarget) to \(dialog.peer)", dialog.id.callID, into: &actions)
    }

    /// A response: only to our BYE (matched by branch and CSeq method, §17.1.3); others are dropped.
    mutating func receivedResponse(_ message: SIPMessage, from source: SocketAddress, into actions: inout [Action]) {
        guard let status = message.status, let via = try? message.topVia, let branch = via.branch,
              var transaction = clientTransactions[branch], let cseq = try? message.cseq, cseq.method == "BYE"
        else {
            log(.debug, "dropped a stray response from \(source): \(message.startLineText)",
                try? message.callID, into: &actions)
            return
        }
        log(.debug, "← \(message.startLineText) (BYE)", transaction.dialog.callID, into: &actions)
        if transaction.received(status: status, timers: timers, into: &actions),
           dialogs[transaction.dialog]?.phase == .terminating {
            dialogs[transaction.dialog] = nil
        }
        clientTransactions[branch] = transaction
    }
}

extension String {
    /// The text with double quotes replaced by single ones (for a quoted-string).
    func replacingQuotes() -> String {
        String(map { $0 == "\"" || $0 == "\\" ? "'" : $0 })
    }
}
