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
    /// Whether the Request-URI's scheme is one we serve (sip, sips); otherwise 416 (§8.2.2.1).
    let supportedScheme: Bool
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
    static func transactionKey(
        _ via: SIPVia, method: String, callID: String, fromTag: String?, cseq: UInt32
    )
        -> TransactionKey
    {
        let method = method == "ACK" ? "INVITE" : method
        if let branch = via.branch, branch.hasPrefix("z9hG4bK") {
            return TransactionKey(branch: branch, sentBy: via.sentBy.lowercased(), method: method)
        }
        return TransactionKey(
            branch: "rfc2543 \(callID) \(fromTag ?? "") \(cseq)", sentBy: via.sentBy.lowercased(),
            method: method)
    }

    /// A datagram that did not parse: dropped when it is not SIP (or not a request); otherwise a request
    /// gets 400 naming the bad header, when it has the headers a response needs.
    mutating func rejectMalformed(
        _ datagram: ByteBuffer, error: SIPParseError, source: SocketAddress,
        into actions: inout [Action]
    ) {
        guard error != .notSIP, error != .messageTooLarge(0),
            let salvaged = SIPMessage.salvageRequest(datagram, limits: configuration.limits)
        else {
            log(
                .debug, "dropped a datagram of \(datagram.readableBytes) bytes from \(source): \(error)", nil,
                into: &actions)
            return
        }
        badRequest(salvaged, error: error, source: source, into: &actions)
    }

    /// 400 Bad Request (stateless) naming the bad header in the reason phrase and a Warning (§20.43), when
    /// Via, From, To, Call-ID and CSeq are there to copy; nothing for an ACK (§17.1.1.3: never answered).
    mutating func badRequest(
        _ message: SIPMessage, error: SIPParseError, source: SocketAddress,
        into actions: inout [Action]
    ) {
        let headers = message.headers
        let callID = headers["Call-ID"]
        guard message.method != "ACK", let topVia = headers.values("Via").first, let via = try? SIPVia(topVia),
            let (destination, responseVia) = UserAgentServer.responseRoute(via, source: source),
            let from = headers["From"], let to = headers["To"], let callID, let cseq = headers["CSeq"]
        else {
            log(.debug, "dropped a malformed request from \(source): \(error)", callID, into: &actions)
            return
        }
        // Over its source's rate limit, a malformed request gets nothing (not even 503: it may be no SIP client).
        guard admit(from: source) == .admit else { return }
        let toHasTag = (try? SIPNameAddress(to, header: "To"))?.tag != nil
        let context = ResponseContext(
            vias: [responseVia.description] + headers.values("Via").dropFirst(),
            from: from, to: to, toHasTag: toHasTag, callID: callID, cseq: cseq,
            method: message.method ?? "", destination: destination)
        let warning = error.detail.replacingQuotes()
        let response = context.render(
            status: 400, reason: "Bad Request (\(warning))", toTag: token(),
            headers: [("Warning", "399 \(configuration.product) \"\(warning)\"")],
            product: configuration.product)
        log(
            .debug, "→ 400 to a malformed \(message.method ?? "request") from \(source): \(error)", callID,
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
            // §8.2.2.1: a scheme other than sip or sips gets 416 (below, once the request can be answered);
            // a sip or sips URI that does not parse, or one without a scheme, gets 400.
            var supportedScheme = true
            if case .request(_, let uriText) = message.startLine, let colon = uriText.firstIndex(of: ":"),
                !["sip", "sips"].contains(uriText[..<colon].lowercased())
            {
                supportedScheme = false
            } else {
                _ = try message.requestURI
            }
            let context = ResponseContext(
                vias: [responseVia.description] + message.headers.values("Via").dropFirst(),
                from: message.headers["From"] ?? "", to: message.headers["To"] ?? "",
                toHasTag: to.tag != nil, callID: callID,
                cseq: message.headers["CSeq"] ?? "", method: method,
                destination: destination)
            let key = UserAgentServer.transactionKey(
                topVia, method: method, callID: callID, fromTag: from.tag,
                cseq: cseq.number)
            request = ReceivedRequest(
                message: message, method: method, from: from, to: to, callID: callID,
                cseq: cseq, source: source, context: context, key: key,
                supportedScheme: supportedScheme)
        } catch {
            badRequest(message, error: error, source: source, into: &actions)
            return
        }
        // ACK is never answered (§17.1.1.3) and never limited: it confirms a call or is absorbed.
        if method == "ACK" {
            log(.debug, "← \(message.startLineText) from \(source)", request.callID, into: &actions)
            receivedACK(request, into: &actions)
            return
        }
        // The rate limit, for requests that are not part of a call in progress.
        if !belongsToCall(request) {
            switch admit(from: source) {
            case .admit:
                break
            case .refuse(let seconds):
                // §21.5.4 with §20.33: stateless, no transaction and no cache (the request is not handled).
                let response = request.context.render(
                    status: 503, toTag: token(),
                    headers: [("Retry-After", String(seconds))],
                    product: configuration.product)
                log(
                    .debug, "→ 503 to \(source) (rate limit): \(message.startLineText)", request.callID,
                    into: &actions)
                actions.append(.send(response, to: request.context.destination))
                return
            case .drop:
                return
            }
        }
        log(.debug, "← \(message.startLineText) from \(source)", request.callID, into: &actions)

        // Retransmissions go to their transaction (§17.2.3), or get the cached response of a stateless answer.
        if method == "INVITE", let transaction = inviteTransactions[request.key] {
            transaction.receivedRetransmission(into: &actions)
            return
        }
        if let transaction = nonInviteTransactions[request.key] {
            transaction.receivedRetransmission(into: &actions)
            return
        }
        if let cached = responseCache.entry(for: request.key, at: now) {
            actions.append(.send(cached.response, to: cached.destination))
            return
        }

        guard request.supportedScheme else {
            // §8.2.2.1: 416 Unsupported URI Scheme.
            log(.info, "unsupported Request-URI scheme: 416", request.callID, into: &actions)
            if method == "INVITE" {
                rejectInvite(request, status: 416, into: &actions)
            } else {
                respond(request, status: 416, into: &actions)
            }
            return
        }

        // §8.2.2.2: merged requests. A new INVITE without a To tag whose Call-ID, From tag and CSeq are those
        // of an INVITE transaction in progress, on another branch, is a copy that a forking proxy sent along
        // another path: 482 Loop Detected, and no second call.
        if method == "INVITE", request.to.tag == nil,
            let first = invitesByRequest[RequestIdentity(request)], first != request.key,
            inviteTransactions[first] != nil
        {
            log(
                .info,
                "merged request (same Call-ID, From tag and CSeq as a call in progress, branch "
                    + "\(request.key.branch)): 482", request.callID, into: &actions)
            rejectInvite(request, status: 482, into: &actions)
            return
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
            // Draining: 503 with Retry-After (§21.5.4), so that a dispatcher probing with OPTIONS (Kamailio's
            // ds_probing_mode) takes this node out of rotation while its calls in progress finish.
            if isDraining {
                respond(request, status: 503, into: &actions)
                return
            }
            // §11.2: 200 with what we allow and accept.
            respond(
                request, status: 200, headers: [("Allow", UserAgentServer.allow), ("Accept", "application/sdp")],
                into: &actions)
        default:
            // §8.2.1: a method we do not implement.
            respond(request, status: 405, headers: [("Allow", UserAgentServer.allow)], into: &actions)
        }
    }

    /// Whether a request is part of a call in progress, and so never rate limited: a retransmitted INVITE of a
    /// call not rejected, a CANCEL of an INVITE still pending, a request inside a dialog, a retransmitted BYE.
    /// (Knowing the Call-ID and both tags, or the pending INVITE's branch, is what makes it so: a spoofer of
    /// the caller's address who knows them could end the call anyway.)
    func belongsToCall(_ request: ReceivedRequest) -> Bool {
        switch request.method {
        case "INVITE":
            if inviteTransactions[request.key]?.dialog != nil, rejectedInvites[request.key] == nil { return true }
        case "CANCEL":
            let inviteKey = TransactionKey(branch: request.key.branch, sentBy: request.key.sentBy, method: "INVITE")
            guard let invite = inviteTransactions[inviteKey] else { return false }
            return invite.dialog != nil && invite.isProceeding
        default:
            if nonInviteTransactions[request.key] != nil { return true }
        }
        guard let localTag = request.to.tag else { return false }
        return dialogs[DialogID(callID: request.callID, localTag: localTag, remoteTag: request.from.tag ?? "")] != nil
    }

    /// The rate limit's verdict on a request from `source`: trusted sources and sources without an IP address
    /// (none over UDP) are always admitted.
    mutating func admit(from source: SocketAddress) -> SourceRateLimiter.Verdict {
        guard rateLimiter != nil, let ip = source.ipAddress, !trustedSources.contains(ip) else { return .admit }
        return rateLimiter?.check(ip, at: now) ?? .admit
    }

    /// A final response to a non-INVITE request. `stateful` (a BYE in a dialog): through a server transaction
    /// (§17.2.2), counted as a transaction of a call. Otherwise, and at capacity, stateless: sent once and kept
    /// in the response cache for retransmissions (§16.11), so that requests outside calls take no transaction.
    mutating func respond(
        _ request: ReceivedRequest, status: Int, toTag: String? = nil,
        headers: [(String, String)] = [], stateful: Bool = false, into actions: inout [Action]
    ) {
        respond(
            context: request.context, key: request.key, status: status, toTag: toTag, headers: headers,
            stateful: stateful, into: &actions)
    }

    /// A final response to a non-INVITE request from what it copies and its transaction key, with an optional
    /// body (its Content-Type among `headers`); `stateful` as for ``respond(_:status:toTag:headers:stateful:into:)``.
    mutating func respond(
        context: ResponseContext, key: TransactionKey, status: Int, toTag: String? = nil,
        headers: [(String, String)] = [], body: [UInt8] = [], stateful: Bool = false,
        into actions: inout [Action]
    ) {
        let tag = toTag ?? token()
        let response = context.render(
            status: status, toTag: tag, headers: headers, body: body,
            product: configuration.product)
        log(
            .debug, "→ \(status) \(ResponseContext.reason(status)) (\(context.method))", context.callID,
            into: &actions)
        guard stateful, hasRoomForCallTransaction else {
            actions.append(.send(response, to: context.destination))
            responseCache.store(response, to: context.destination, for: key, at: now)
            return
        }
        let serial = newSerial(.nonInvite(key))
        var transaction = NonInviteServerTransaction(serial: serial, destination: context.destination)
        transaction.send(response, status: status, timers: timers, into: &actions)
        nonInviteTransactions[key] = transaction
    }

    /// A final response to an INVITE refused before the application sees it (415, 420, 481, 500, 503), sent
    /// statelessly as a proxy would (§16.11) and cached: no 100 Trying went out, so the caller's transaction
    /// is still in Calling and retransmits the INVITE on timer A (§17.1.1.2), which gets the cached response;
    /// its ACK matches nothing and is dropped (absorbed).
    mutating func rejectInvite(
        _ request: ReceivedRequest, status: Int, headers: [(String, String)] = [],
        into actions: inout [Action]
    ) {
        let response = request.context.render(
            status: status, toTag: token(), headers: headers,
            product: configuration.product)
        log(.debug, "→ \(status) \(ResponseContext.reason(status)) (INVITE)", request.callID, into: &actions)
        actions.append(.send(response, to: request.context.destination))
        responseCache.store(response, to: request.context.destination, for: request.key, at: now)
    }

    // MARK: - INVITE

    /// A new INVITE (§13.3.1): 100 Trying, then the application's decision.
    mutating func receivedInvite(_ request: ReceivedRequest, into actions: inout [Action]) {
        if isDraining {
            rejectInvite(request, status: 503, into: &actions)
            return
        }
        guard dialogs.count < configuration.maximumDialogs, hasRoomForCallTransaction else {
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
        let local =
            configuration.contactAddress
            ?? (uri.host.isEmpty
                ? ""
                : uri.port.map { "\(uri.host):\($0)" }
                    ?? uri.host)
        var dialog = Dialog(
            id: id, remoteHeader: request.context.from,
            localHeader: "\(request.context.to);tag=\(id.localTag)",
            remoteTarget: contact, routeSet: request.message.recordRoute,
            remoteCSeq: request.cseq.number, peer: request.context.destination,
            localAddress: local, user: uri.user)
        dialog.invite = request.key
        if request.message.body.isEmpty { dialog.awaitingAnswer = .initial }
        dialogs[id] = dialog

        let serial = newSerial(.invite(request.key))
        var transaction = InviteServerTransaction(
            serial: serial, context: request.context, dialog: id,
            cseq: request.cseq.number)
        let identity = RequestIdentity(request)
        transaction.identity = identity
        invitesByRequest[identity] = request.key
        // §17.2.1: 100 Trying at once (the application decides synchronously, but may take longer).
        let trying = request.context.render(status: 100, toTag: nil, product: configuration.product)
        transaction.send(trying, status: 100, timers: timers, into: &actions)
        // §13.3.1: an INVITE that expires before its final response gets 487 (see `expired`). A value that
        // is not delta-seconds is ignored; decimal() bounds it to 9 digits.
        if let expires = request.message.headers["Expires"].flatMap({ decimal(trimmed($0)) }) {
            transaction.armExpires(after: .seconds(Int64(expires)), into: &actions)
        }
        inviteTransactions[request.key] = transaction

        // §19.1.4: the user part is compared unescaped (`%2B15145550100` dials +15145550100).
        let user = uri.unescapedUser ?? ""
        log(
            .info, "incoming call from \(request.from.uri) to \(uri.user ?? uri.text) (\(request.source))",
            request.callID, into: &actions)
        actions.append(
            .incomingCall(
                IncomingCall(
                    id: id, user: user, requestURI: uri.text, from: request.context.from, to: request.context.to,
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
        let ok = transaction.context.render(
            status: 200, toTag: id.localTag, headers: headers,
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
        guard hasRoomForCallTransaction else {
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
        inviteTransactions[request.key] = InviteServerTransaction(
            serial: serial, context: request.context,
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
        guard request.cseq.number >= dialog.remoteCSeq else {
            // §12.2.2: a CSeq lower than the last one received in the dialog: out of order, 500.
            log(
                .info, "BYE with CSeq \(request.cseq.number) below \(dialog.remoteCSeq): 500", id.callID,
                into: &actions)
            respond(request, status: 500, into: &actions)
            return
        }
        respond(request, status: 200, stateful: true, into: &actions)
        guard dialog.phase != .terminating else { return }  // crossing BYEs: ours continues
        if let key = dialog.invite, var transaction = inviteTransactions[key] {
            if transaction.isProceeding {
                actions.append(.cancelTimer(TimerID(kind: .answer, transaction: transaction.serial)))
                sendRejection(487, toTag: id.localTag, on: key, &transaction, into: &actions)
            } else {
                _ = transaction.acknowledged(into: &actions)
                inviteTransactions[key] = transaction
            }
        }
        dialogs[id] = nil
        log(.info, "caller hung up (BYE)", id.callID, into: &actions)
        if !dialog.endTold { actions.append(.ended(id, .remoteBye)) }
    }

    /// CANCEL (§9.2): 200, and 487 to the INVITE when it has no final response yet; 481 without one. Both
    /// stateless and cached (a CANCEL creates nothing that needs a transaction).
    mutating func receivedCANCEL(_ request: ReceivedRequest, into actions: inout [Action]) {
        let inviteKey = TransactionKey(branch: request.key.branch, sentBy: request.key.sentBy, method: "INVITE")
        guard var transaction = inviteTransactions[inviteKey] else {
            respond(request, status: 481, into: &actions)
            return
        }
        respond(request, status: 200, toTag: transaction.dialog?.localTag, into: &actions)
        guard transaction.isProceeding else { return }
        actions.append(.cancelTimer(TimerID(kind: .answer, transaction: transaction.serial)))
        sendRejection(
            487, toTag: transaction.dialog?.localTag ?? token(), on: inviteKey, &transaction,
            into: &actions)
        log(.info, "caller cancelled: 487", request.callID, into: &actions)
        if let id = transaction.dialog, let dialog = dialogs.removeValue(forKey: id), !dialog.endTold {
            actions.append(.ended(id, .cancelled))
        }
    }

    /// The INVITE's `Expires` passed with no final response (§13.3.1): 487 Request Terminated, and the
    /// application hears the call ended (`.expired`), as for a CANCEL.
    mutating func expired(_ key: TransactionKey, into actions: inout [Action]) {
        guard var transaction = inviteTransactions[key], transaction.isProceeding else { return }
        actions.append(.cancelTimer(TimerID(kind: .answer, transaction: transaction.serial)))
        sendRejection(487, toTag: transaction.dialog?.localTag ?? token(), on: key, &transaction, into: &actions)
        log(.info, "the INVITE expired unanswered (Expires): 487", transaction.context.callID, into: &actions)
        if let id = transaction.dialog, let dialog = dialogs.removeValue(forKey: id), !dialog.endTold {
            actions.append(.ended(id, .expired))
        }
    }

    // MARK: - Our BYE

    /// Where a request in the dialog goes and how it is addressed (§12.2.1.1, §8.1.2, RFC 3263 without DNS).
    ///
    /// - A route set whose first URI has `lr` (loose routing): Request-URI the remote target, Route the
    ///   route set, sent to the first route's host and port.
    /// - A first URI without `lr` (a strict router, RFC 2543): Request-URI that URI (without its headers),
    ///   Route the other routes then the remote target, sent to that URI's host and port.
    /// - No route set: Request-URI the remote target, sent to its host and port.
    ///
    /// Only numeric hosts are used (no DNS here): a name falls back to the address the INVITE came from (the
    /// top Via's source), with a log line. `maddr` overrides the host (§19.1.1); the port defaults to 5060.
    func requestRouting(
        _ dialog: Dialog, into actions: inout [Action]
    )
        -> (uri: String, routes: [String], destination: SocketAddress)
    {
        var uri = dialog.remoteTarget
        var routes = dialog.routeSet
        var next: String = dialog.remoteTarget
        if let first = dialog.routeSet.first {
            let firstURI = (try? SIPNameAddress(first, header: "Route"))?.uri ?? ""
            next = firstURI
            if (try? SIPURI(firstURI, header: "Route"))?.hasParameter("lr") == false {
                // §12.2.1.1, strict routing: the first route becomes the Request-URI.
                uri = firstURI.split(separator: "?", maxSplits: 1).first.map(String.init) ?? firstURI
                routes = Array(dialog.routeSet.dropFirst()) + ["<\(dialog.remoteTarget)>"]
            }
        }
        if let parsed = try? SIPURI(next, header: "Route"), parsed.scheme != "tel" {
            let port = parsed.port ?? (parsed.scheme == "sips" ? 5061 : 5060)
            if let address = UserAgentServer.numericAddress(
                host: parsed.parameter("maddr") ?? parsed.host,
                port: port)
            {
                return (uri, routes, address)
            }
        }
        log(
            dialog.routeSet.isEmpty ? .debug : .info,
            "cannot send to \(next) without DNS: to the INVITE's source \(dialog.peer) instead", dialog.id.callID,
            into: &actions)
        return (uri, routes, dialog.peer)
    }

    /// An IPv4 or IPv6 (`[...]` or bare) literal with a port as a socket address; nil for a host name.
    static func numericAddress(host: String, port: Int) -> SocketAddress? {
        var host = Substring(host)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, host.utf8.count <= 45,
            host.utf8.allSatisfy({ byte in
                byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") || SIPURI.hexValue(byte) != nil
            })
        else { return nil }
        return try? SocketAddress(ipAddress: String(host), port: port)
    }

    /// Sends BYE in the dialog (§15.1.1): a new CSeq, From/To swapped with tags, Request-URI, Route and
    /// destination from the route set and the remote target (``requestRouting(_:into:)``); timers E and F.
    mutating func sendBYE(_ dialog: inout Dialog, into actions: inout [Action]) {
        guard hasRoomForCallTransaction else {
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
        let (uri, routes, destination) = requestRouting(dialog, into: &actions)
        for route in routes { headers.add(name: "Route", value: route) }
        headers.add(name: "From", value: dialog.localHeader)
        headers.add(name: "To", value: dialog.remoteHeader)
        headers.add(name: "Call-ID", value: dialog.id.callID)
        headers.add(name: "CSeq", value: "\(dialog.localCSeq) BYE")
        headers.add(name: "User-Agent", value: configuration.product)
        let bye = SIPMessage(startLine: .request(method: "BYE", uri: uri), headers: headers)
        let serial = newSerial(.client(branch))
        let transaction = NonInviteClientTransaction(
            serial: serial, request: bye.serialized(),
            destination: destination, dialog: dialog.id, timers: timers,
            into: &actions)
        clientTransactions[branch] = transaction
        dialogs[dialog.id] = dialog
        log(.debug, "→ BYE \(uri) to \(destination)", dialog.id.callID, into: &actions)
    }

    /// A response: only to our BYE (matched by branch and CSeq method, §17.1.3); others are dropped.
    mutating func receivedResponse(_ message: SIPMessage, from source: SocketAddress, into actions: inout [Action]) {
        guard let status = message.status, let via = try? message.topVia, let branch = via.branch,
            var transaction = clientTransactions[branch], let cseq = try? message.cseq, cseq.method == "BYE"
        else {
            log(
                .debug, "dropped a stray response from \(source): \(message.startLineText)",
                try? message.callID, into: &actions)
            return
        }
        log(.debug, "← \(message.startLineText) (BYE)", transaction.dialog.callID, into: &actions)
        if transaction.received(status: status, timers: timers, into: &actions),
            dialogs[transaction.dialog]?.phase == .terminating
        {
            dialogs[transaction.dialog] = nil
        }
        clientTransactions[branch] = transaction
    }
}

extension RequestIdentity {
    /// The identity of a received request (§8.2.2.2).
    init(_ request: ReceivedRequest) {
        self.init(
            callID: request.callID, fromTag: request.from.tag ?? "", cseq: request.cseq.number,
            method: request.method)
    }
}

extension String {
    /// The text with double quotes replaced by single ones (for a quoted-string).
    func replacingQuotes() -> String {
        String(map { $0 == "\"" || $0 == "\\" ? "'" : $0 })
    }
}
