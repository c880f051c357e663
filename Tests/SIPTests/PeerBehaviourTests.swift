import Foundation
import NIOCore
import SIP
import Testing

/// The INVITE of `invite()` with its Contact replaced.
private func invite(contact: String, extraHeaders: [String] = []) -> String {
    invite(extraHeaders: extraHeaders).replacingOccurrences(
        of: "Contact: <sip:door@198.51.100.7:5062>", with: "Contact: \(contact)")
}

/// Whether `text` holds a C0 or C1 control character or DEL (what must never reach a log line).
private func hasControlCharacter(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
}

@Suite("User-agent server: what real peers send (RFC 3261 §8.2.2, §12.2, §13.3.1, §19.1.4)")
struct PeerBehaviourTests {
    // MARK: - SDP: the rtpmap decides, not the number

    @Test func pcmuOnADynamicPayloadTypeIsAnsweredOnThatPayloadType() throws {
        let offered = try SDPOffer(
            parsing: offer(
                "audio 4000 RTP/AVP 97 101",
                attributes: [
                    "a=rtpmap:97 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
                ]))
        let answer = try #require(offered.negotiate())
        #expect(answer.codec == .pcmu)
        #expect(answer.payloadType == 97)
        #expect(answer.telephoneEventPayloadType == 101)
        let text = answer.render(address: "192.0.2.10", port: 20002, sessionID: 1)
        #expect(text.contains("m=audio 20002 RTP/AVP 97 101\r\n"))
        #expect(text.contains("a=rtpmap:97 PCMU/8000\r\n"))
        // The encoding name in any case; the static numbers without rtpmap keep their meaning; an rtpmap on
        // a static number overrides it; a dynamic number without rtpmap is unknown.
        let alaw = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 96 98", attributes: ["a=rtpmap:98 pcma/8000"]))
        #expect(alaw.negotiate()?.codec == .pcma)
        #expect(alaw.negotiate()?.payloadType == 98)
        #expect(try SDPOffer(parsing: offer("audio 4000 RTP/AVP 8")).negotiate()?.codec == .pcma)
        let remapped = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", attributes: ["a=rtpmap:0 PCMA/8000"]))
        #expect(remapped.negotiate()?.codec == .pcma)
        #expect(try SDPOffer(parsing: offer("audio 4000 RTP/AVP 97")).negotiate() == nil)
    }

    // MARK: - §8.2.2.2 merged requests

    @Test func aMergedInviteGets482AndNoSecondCall() throws {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(2)) })
        #expect(harness.receive(invite(branch: "z9hG4bK-path1")).statuses == [100, 180])
        // The same INVITE (Call-ID, From tag, CSeq) along another path of a forking proxy: a new branch.
        let merged = harness.receive(invite(branch: "z9hG4bK-path2"))
        #expect(merged.statuses == [482])
        #expect(merged.first?.message.startLineText == "SIP/2.0 482 Loop Detected")
        #expect(harness.calls.count == 1)
        // Its ACK is absorbed; the first call goes on and is answered.
        let mergedACK = harness.receive(request("ACK", branch: "z9hG4bK-path2", toTag: merged.first?.message.toTag))
        #expect(mergedACK.isEmpty)
        #expect(harness.advance(seconds: 2.1).statuses.filter { $0 == 200 } == [200])
        // Another Call-ID on the second branch is a call of its own.
        #expect(harness.receive(invite(callID: "other", branch: "z9hG4bK-path3")).statuses == [100, 180])
        #expect(harness.calls.count == 2)
    }

    // MARK: - §12.2.2 CSeq order

    @Test func anInDialogRequestWithALowerCSeqGets500() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(&harness)
        let reinvite = request("INVITE", branch: "z9hG4bK-re5", toTag: tag, cseq: 5, body: offerSDP)
        #expect(harness.receive(reinvite).statuses == [200])
        harness.receive(request("ACK", branch: "z9hG4bK-ack5", toTag: tag, cseq: 5))
        let lowerInvite = request("INVITE", branch: "z9hG4bK-re4", toTag: tag, cseq: 4, body: offerSDP)
        #expect(harness.receive(lowerInvite).statuses == [500])
        let lowerBye = harness.receive(request("BYE", branch: "z9hG4bK-bye3", toTag: tag, cseq: 3))
        #expect(lowerBye.statuses == [500])
        #expect(harness.ended.isEmpty)
        #expect(harness.agent.dialogCount == 1)
        #expect(harness.receive(request("BYE", branch: "z9hG4bK-bye6", toTag: tag, cseq: 6)).statuses == [200])
        #expect(harness.ended.map(\.0) == [id])
        #expect(harness.ended.map(\.1) == [.remoteBye])
    }

    // MARK: - §8.2.2.1 Request-URI scheme, §19.1.4 escaped user

    @Test func aRequestURISchemeOtherThanSipOrSipsGets416() {
        var harness = Harness()
        let tel = harness.receive(request("INVITE", uri: "tel:+15145550100", branch: "z9hG4bK-tel", body: offerSDP))
        #expect(tel.statuses == [416])
        #expect(tel.first?.message.startLineText == "SIP/2.0 416 Unsupported URI Scheme")
        let telACK = harness.receive(
            request(
                "ACK", uri: "tel:+15145550100", branch: "z9hG4bK-tel",
                toTag: tel.first?.message.toTag))
        #expect(telACK.isEmpty)
        let web = harness.receive(
            request(
                "INVITE", uri: "http://example.com/door", callID: "web",
                branch: "z9hG4bK-http", body: offerSDP))
        #expect(web.statuses == [416])
        let options = harness.receive(request("OPTIONS", uri: "tel:+15145550100", branch: "z9hG4bK-opt"))
        #expect(options.statuses == [416])
        #expect(harness.calls.isEmpty)
        // sips is served; a sip URI that does not parse still gets 400.
        #expect(harness.receive(request("OPTIONS", uri: "sips:192.0.2.10", branch: "z9hG4bK-o2")).statuses == [200])
        #expect(harness.receive(request("OPTIONS", uri: "sip:@", branch: "z9hG4bK-o3")).statuses == [400])
    }

    @Test func anEscapedUserPartIsDecodedBeforeTheNumberIsLookedUp() throws {
        var harness = Harness()
        let text = request("INVITE", uri: "sip:%2B15145550100@192.0.2.10:5060", branch: "z9hG4bK-esc", body: offerSDP)
        let replies = harness.receive(text)
        #expect(replies.statuses == [100, 200])
        let call = try #require(harness.calls.first)
        #expect(call.user == "+15145550100")
        #expect(call.requestURI == "sip:%2B15145550100@192.0.2.10:5060")
        // Our Contact keeps the user part as written: a decoded %0D%0A could never split a header.
        #expect(replies.last?.message.headers["Contact"] == "<sip:%2B15145550100@192.0.2.10:5060>")
        #expect(try SIPURI("sip:%0d%0Ax%2b1@h").unescapedUser == "\r\nx+1")
        #expect(try SIPURI("sip:100%25@h").unescapedUser == "100%")
        #expect(try SIPURI("sip:%2@h").unescapedUser == "%2")  // malformed: as written
        #expect(try SIPURI("sip:%FF@h").unescapedUser == "%FF")  // not UTF-8: as written
        #expect(try SIPURI("sip:h").unescapedUser == nil)
    }

    // MARK: - §13.3.1 Expires

    @Test func anInviteThatExpiresWhileRingingGets487AndTheCallEnds() throws {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(5)) })
        let first = harness.receive(invite(extraHeaders: ["Expires: 2"]))
        #expect(first.statuses == [100, 180])
        #expect(harness.advance(seconds: 1.9).isEmpty)
        let expired = harness.advance(seconds: 0.2)
        #expect(expired.statuses == [487])
        #expect(expired.first?.at == 2_000_000_000)
        #expect(expired.first?.message.toTag == first[1].message.toTag)
        let id = try #require(harness.calls.first?.id)
        #expect(harness.ended.map(\.0) == [id])
        #expect(harness.ended.map(\.1) == [.expired])
        // Never a 200 afterwards: only the 487 again on timer G until its ACK.
        #expect(harness.advance(seconds: 4).statuses.allSatisfy { $0 == 487 })
        harness.receive(request("ACK", branch: "z9hG4bK-inv1", toTag: first[1].message.toTag))
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.agent.dialogCount == 0)
        #expect(harness.agent.transactionCount == 0)
    }

    @Test func anInviteAnsweredBeforeItExpiresIsNotTouchedAndItsTimerIsCancelled() throws {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(2)) })
        let first = harness.receive(invite(extraHeaders: ["Expires: 30"]))
        #expect(first.statuses == [100, 180])
        #expect(harness.advance(seconds: 2.1).statuses == [200])
        #expect(!harness.timers.keys.contains { $0.kind == .expires })
        harness.receive(request("ACK", branch: "z9hG4bK-ack1", toTag: first[1].message.toTag))
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.ended.isEmpty)
        #expect(harness.confirmed.count == 1)
    }

    // MARK: - §12.2.1.1 our BYE: route set and remote target

    @Test func ourByeFollowsALooseRouteSetToTheFirstRoute() throws {
        var harness = Harness()
        // Record-Route in the INVITE, proxy nearest to us first (§12.1.1: the UAS route set in that order).
        let (id, _) = establishedCall(
            &harness,
            extraHeaders: [
                "Record-Route: <sip:203.0.113.20:5070;lr;transport=udp>, <sip:203.0.113.30;lr>"
            ])
        let bye = try #require(harness.hangUp(id).first)
        #expect(bye.message.startLineText == "BYE sip:door@198.51.100.7:5062 SIP/2.0")
        #expect(
            bye.message.headers.values("Route") == [
                "<sip:203.0.113.20:5070;lr;transport=udp>",
                "<sip:203.0.113.30;lr>",
            ])
        #expect(bye.to == address("203.0.113.20", 5070))
        // Its retransmissions go there too.
        #expect(harness.advance(seconds: 0.6).map(\.to) == [address("203.0.113.20", 5070)])
    }

    @Test func ourByeThroughAStrictRouterPutsItInTheRequestURI() throws {
        var harness = Harness()
        let (id, _) = establishedCall(
            &harness,
            extraHeaders: [
                "Record-Route: <sip:203.0.113.20:5070>", "Record-Route: <sip:[2001:db8::30]:5080;lr>",
            ])
        let bye = try #require(harness.hangUp(id).first)
        #expect(bye.message.startLineText == "BYE sip:203.0.113.20:5070 SIP/2.0")
        #expect(
            bye.message.headers.values("Route") == [
                "<sip:[2001:db8::30]:5080;lr>",
                "<sip:door@198.51.100.7:5062>",
            ])
        #expect(bye.to == address("203.0.113.20", 5070))
        // The default port, an IPv6 first route.
        var other = Harness()
        let (second, _) = establishedCall(&other, extraHeaders: ["Record-Route: <sip:[2001:db8::30];lr>"])
        #expect(other.hangUp(second).first?.to == address("2001:db8::30", 5060))
    }

    @Test func aRouteByNameFallsBackToTheInvitesSourceWithALogLine() throws {
        var harness = Harness()
        let (id, _) = establishedCall(&harness, extraHeaders: ["Record-Route: <sip:kamailio.example.com;lr>"])
        harness.logs.removeAll()
        let bye = try #require(harness.hangUp(id).first)
        #expect(bye.message.headers.values("Route") == ["<sip:kamailio.example.com;lr>"])
        #expect(bye.to == caller)
        #expect(harness.logs.contains { $0.text.contains("sip:kamailio.example.com;lr") && $0.text.contains("DNS") })
    }

    @Test func withoutARouteSetOurByeGoesToTheContactNotTheViaSource() throws {
        var harness = Harness()
        let replies = harness.receive(invite(contact: "<sip:door@203.0.113.50:5090;transport=udp>"))
        let tag = try #require(replies.last?.message.toTag)
        harness.receive(request("ACK", branch: "z9hG4bK-ack1", toTag: tag))
        let id = DialogID(callID: "call-1@198.51.100.7", localTag: tag, remoteTag: "caller-tag")
        let bye = try #require(harness.hangUp(id).first)
        #expect(bye.message.startLineText == "BYE sip:door@203.0.113.50:5090;transport=udp SIP/2.0")
        #expect(bye.message.headers.values("Route").isEmpty)
        #expect(bye.to == address("203.0.113.50", 5090))
        // A Contact by name: the Via source.
        var named = Harness()
        let first = named.receive(invite(contact: "<sip:door@door.example.com>"))
        let namedTag = try #require(first.last?.message.toTag)
        named.receive(request("ACK", branch: "z9hG4bK-ack1", toTag: namedTag))
        let namedID = DialogID(callID: "call-1@198.51.100.7", localTag: namedTag, remoteTag: "caller-tag")
        #expect(named.hangUp(namedID).first?.to == caller)
    }

    // MARK: - Logs

    @Test func nothingFromTheNetworkReachesALogLineUnescaped() throws {
        var harness = Harness()
        // A Call-ID with CR, ESC and NUL (not a valid Call-ID: 400, whose log quotes it).
        let badCallID = invite().replacingOccurrences(
            of: "Call-ID: call-1@198.51.100.7",
            with: "Call-ID: a\rb\u{1B}[2J\u{0}c")
        #expect(harness.receive(badCallID).statuses == [400])
        // A From with control characters in its display name and URI; a user part with escaped CR LF.
        let from = "From: \"Door\u{1B}[31m\r\" <sip:door\u{1B}]0;pwned\u{7}\u{0}@198.51.100.7>;tag=caller-tag"
        let hostile = request(
            "INVITE", uri: "sip:%0D%0A%1B@192.0.2.10:5060", callID: "ok@198.51.100.7",
            branch: "z9hG4bK-h", body: offerSDP
        )
        .replacingOccurrences(of: "From: \"Door\" <sip:door@198.51.100.7>;tag=caller-tag", with: from)
        #expect(harness.receive(hostile).statuses == [100, 200])
        #expect(harness.calls.first?.user == "\r\n\u{1B}")  // the application gets it decoded, to escape
        // A response with a hostile reason phrase (dropped: not ours).
        harness.receive(
            "SIP/2.0 200 O\u{1B}[2JK\rX\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKnone\r\n"
                + "Call-ID: x\u{1B}y\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n")
        #expect(harness.logs.count >= 5)
        for (text, callID) in harness.logs {
            #expect(!hasControlCharacter(text), "\(Array(text.unicodeScalars))")
            #expect(!hasControlCharacter(callID ?? ""), "\(Array((callID ?? "").unicodeScalars))")
        }
        #expect(harness.logs.contains { $0.text.contains("door\\u{1B}]0;pwned\\u{7}\\u{0}@198.51.100.7") })
        #expect(harness.logs.contains { $0.callID == "a\\u{D}b\\u{1B}[2J\\u{0}c" })
    }
}
