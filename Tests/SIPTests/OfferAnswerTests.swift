import Foundation
import NIOCore
import SIP
import Testing

/// An offer from the caller (198.51.100.7) with these m= formats, direction and connection address.
func callerOffer(
    formats: String = "0 8 101", direction: String? = "sendrecv", address: String = "198.51.100.7",
    port: Int = 49170, version: Int = 2, before: [String] = []
) -> String {
    var lines = ["v=0", "o=alice 2890844526 \(version) IN IP4 198.51.100.7", "s=-", "c=IN IP4 \(address)", "t=0 0"]
    lines += before.map { "m=\($0)" }
    lines += ["m=audio \(port) RTP/AVP \(formats)", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"]
    if let direction { lines.append("a=\(direction)") }
    return lines.joined(separator: "\r\n") + "\r\n"
}

/// The `o=` line's fields of a session description.
func origin(_ sdp: String) -> [Substring] {
    sdp.split(separator: "\r\n").first { $0.hasPrefix("o=") }.map { $0.dropFirst(2).split(separator: " ") } ?? []
}

/// The `a=` direction of a session description.
func direction(_ sdp: String) -> String? {
    sdp.split(separator: "\r\n").map(String.init).first {
        ["a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"].contains($0)
    }
}

/// A re-INVITE (CSeq `cseq`) in the established call whose local tag is `tag`.
func reInvite(_ tag: String, cseq: Int, body: String, branch: String? = nil) -> String {
    request("INVITE", branch: branch ?? "z9hG4bK-re\(cseq)", toTag: tag, cseq: cseq, body: body)
}

@Suite("SDP directions and hold (RFC 3264 §6.1, §8.4)")
struct SDPDirectionTests {
    @Test(
        arguments: [
            ("sendrecv", "sendrecv", true, true), ("sendonly", "recvonly", false, true),
            ("recvonly", "sendonly", true, false), ("inactive", "inactive", false, false),
            (nil, "sendrecv", true, true),
        ] as [(String?, String, Bool, Bool)])
    func theAnswerMirrorsTheOffersDirection(offered: String?, answered: String, sends: Bool, receives: Bool) throws {
        let answer = try #require(try SDPOffer(parsing: callerOffer(direction: offered)).negotiate())
        #expect(answer.direction.rawValue == answered)
        #expect(answer.sends == sends)
        #expect(answer.receives == receives)
        let text = answer.render(address: "192.0.2.10", port: 20000, sessionID: 7)
        #expect(direction(text) == "a=\(answered)")
    }

    /// RFC 3264 §8.4: c=0.0.0.0 means "send nothing here"; we answer with our own address and without our
    /// sending side: offers sendrecv and sendonly → recvonly, recvonly and inactive → inactive.
    @Test(arguments: [
        ("sendrecv", "recvonly"), ("sendonly", "recvonly"), ("recvonly", "inactive"),
        ("inactive", "inactive"),
    ])
    func aZeroAddressIsHoldAnsweredWithOurOwnAddress(offered: String, answered: String) throws {
        let offer = try SDPOffer(parsing: callerOffer(direction: offered, address: "0.0.0.0"))
        #expect(offer.isHoldAddress)
        let answer = try #require(offer.negotiate())
        #expect(answer.direction.rawValue == answered)
        #expect(!answer.sends)
        let text = answer.render(address: "192.0.2.10", port: 20000, sessionID: 7)
        #expect(text.contains("c=IN IP4 192.0.2.10\r\n"))
        #expect(!text.contains("0.0.0.0"))
        #expect(direction(text) == "a=\(answered)")
        #expect(try !SDPOffer(parsing: callerOffer()).isHoldAddress)
    }

    @Test func ourLateOfferHasBothLawsTelephoneEventAndPtime() throws {
        let text = SDPAnswer.renderOffer(address: "192.0.2.10", port: 20000, sessionID: 7)
        let offer = try SDPOffer(parsing: text)
        #expect(offer.payloadTypes == [0, 8, 101])
        #expect(offer.rtpmaps[101]?.encoding == "telephone-event")
        #expect(offer.fmtp[101] == "0-16")
        #expect(offer.ptime == 20)
        #expect(offer.direction == .sendrecv)
        #expect(offer.connectionAddress == "192.0.2.10" && offer.audioPort == 20000)
    }
}

@Suite("Re-INVITE, UPDATE and late offer in the user-agent server (RFC 3264, RFC 3311)")
struct OfferAnswerTests {
    @Test func aReInviteSendonlyIsAnsweredRecvonlyThenSendrecvResumesWithTheVersionRaisedEachTime() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(&harness)
        let held = harness.receive(reInvite(tag, cseq: 2, body: callerOffer(direction: "sendonly")))
        #expect(held.statuses == [200])
        let heldSDP = held[0].message.bodyText
        #expect(direction(heldSDP) == "a=recvonly")
        #expect(origin(heldSDP) == ["-", "7", "8", "IN", "IP4", "192.0.2.10"])  // same session id, version + 1
        #expect(held[0].message.headers["Content-Type"] == "application/sdp")
        #expect(held[0].message.headers["Contact"] == "<sip:5145550100@192.0.2.10:5060>")
        #expect(held[0].message.toTag == tag)
        #expect(harness.offers.map { $0?.direction } == [.sendonly])
        harness.receive(request("ACK", branch: "z9hG4bK-re2-ack", toTag: tag, cseq: 2))

        let resumed = harness.receive(reInvite(tag, cseq: 3, body: callerOffer(direction: "sendrecv", version: 3)))
        #expect(resumed.statuses == [200])
        #expect(direction(resumed[0].message.bodyText) == "a=sendrecv")
        #expect(origin(resumed[0].message.bodyText)[2] == "9")
        harness.receive(request("ACK", branch: "z9hG4bK-re3-ack", toTag: tag, cseq: 3))

        // RFC 3264 §8: an unchanged description keeps its version (a session refresh).
        let refresh = harness.receive(reInvite(tag, cseq: 4, body: callerOffer(direction: "sendrecv", version: 3)))
        #expect(refresh.map(\.message.bodyText) == [resumed[0].message.bodyText])
        #expect(harness.offers.count == 3)
        #expect(harness.ended.isEmpty)
        #expect(harness.confirmed == [id])
    }

    @Test(arguments: [("inactive", "a=inactive"), ("recvonly", "a=sendonly")])
    func otherDirectionsOfAReInvite(offered: String, answered: String) throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reply = harness.receive(reInvite(tag, cseq: 2, body: callerOffer(direction: offered)))
        #expect(reply.statuses == [200])
        #expect(direction(reply[0].message.bodyText) == answered)
    }

    @Test func aReInviteToZeroAddressIsHoldAnsweredRecvonly() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reply = harness.receive(reInvite(tag, cseq: 2, body: callerOffer(direction: nil, address: "0.0.0.0")))
        let sdp = try #require(reply.first?.message.bodyText)
        #expect(direction(sdp) == "a=recvonly")
        #expect(sdp.contains("c=IN IP4 192.0.2.10\r\n"))
        #expect(harness.offers.first??.isHoldAddress == true)
    }

    @Test func aReInviteWithPcmaOnlyIsAnsweredPcmaAndANewPortIsHandedOn() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reply = harness.receive(reInvite(tag, cseq: 2, body: callerOffer(formats: "8 101", port: 50000)))
        #expect(reply.statuses == [200])
        let sdp = reply[0].message.bodyText
        #expect(sdp.contains("m=audio 20000 RTP/AVP 8 101\r\n"))
        #expect(sdp.contains("a=rtpmap:8 PCMA/8000\r\n"))
        #expect(!sdp.contains("PCMU"))
        #expect(harness.offers.first??.audioPort == 50000)
    }

    @Test func theAnswerToAReOfferKeepsItsMediaLinesInOrder() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let body = callerOffer(before: ["video 5004 RTP/AVP 96"])
        let reply = harness.receive(reInvite(tag, cseq: 2, body: body))
        let media = reply.first?.message.bodyText.split(separator: "\r\n").filter { $0.hasPrefix("m=") }
        #expect(media == ["m=video 0 RTP/AVP 96", "m=audio 20000 RTP/AVP 0 101"])
    }

    @Test func aReOfferWithoutACommonCodecGets488AndTheSessionIsUnchanged() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reply = harness.receive(reInvite(tag, cseq: 2, body: callerOffer(formats: "18")))
        #expect(reply.statuses == [488])
        #expect(reply[0].message.toTag == tag)
        // Its ACK is absorbed; the call goes on; the next offer is answered from the unchanged session.
        #expect(harness.receive(request("ACK", branch: "z9hG4bK-re2", toTag: tag, cseq: 2)).isEmpty)
        #expect(harness.advance(seconds: 40).isEmpty)
        let next = harness.receive(reInvite(tag, cseq: 3, body: offerSDP))
        #expect(next.map(\.message.bodyText) == [answerSDP])
        #expect(harness.ended.isEmpty)
    }

    @Test func aReInviteWithSDPThatDoesNotParseGets488WithoutAskingTheApplication() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reply = harness.receive(reInvite(tag, cseq: 2, body: "v=0\r\nm=audio x RTP/AVP 0\r\n"))
        #expect(reply.statuses == [488])
        #expect(harness.offers.isEmpty)
        let typed = request(
            "INVITE", branch: "z9hG4bK-re3", toTag: tag, cseq: 3, body: "<xml/>",
            contentType: "application/xml")
        let unsupported = harness.receive(typed)
        #expect(unsupported.statuses == [415])
        #expect(unsupported[0].message.headers["Accept"] == "application/sdp")
    }

    @Test func aReInviteWithoutSDPGetsOurOfferAndItsAckCarriesTheAnswer() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(&harness)
        let reply = harness.receive(reInvite(tag, cseq: 2, body: ""))
        #expect(reply.statuses == [200])
        let sdp = reply[0].message.bodyText
        #expect(sdp.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"))
        #expect(origin(sdp)[1] == "7" && origin(sdp)[2] == "8")
        #expect(harness.offers == [nil])
        // Retransmitted until the ACK, which brings the answer.
        #expect(harness.advance(seconds: 0.6).statuses == [200])
        let ack = request("ACK", branch: "z9hG4bK-re2-ack", toTag: tag, cseq: 2, body: callerOffer(formats: "8"))
        #expect(harness.receive(ack).isEmpty)
        #expect(harness.sessionAnswers.map(\.payloadTypes) == [[8]])
        #expect(harness.advance(seconds: 40).isEmpty)
        #expect(harness.ended.isEmpty)
        #expect(harness.confirmed == [id])
    }

    @Test func aReInviteWithoutSDPWhoseAckHasNoAnswerEndsTheCallWithBye() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(&harness)
        #expect(harness.receive(reInvite(tag, cseq: 2, body: "")).statuses == [200])
        let bye = harness.receive(request("ACK", branch: "z9hG4bK-re2-ack", toTag: tag, cseq: 2))
        #expect(bye.map { $0.message.method } == ["BYE"])
        #expect(harness.ended.map(\.0) == [id])
        #expect(harness.ended.map(\.1) == [.missingAnswer])
        #expect(harness.sessionAnswers.isEmpty)
    }

    @Test func updateWithoutABodyGets200WithContactAndUpdateIsAllowed() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reply = harness.receive(request("UPDATE", branch: "z9hG4bK-up", toTag: tag, cseq: 2))
        #expect(reply.statuses == [200])
        #expect(reply[0].message.headers["Contact"] == "<sip:5145550100@192.0.2.10:5060>")
        #expect(reply[0].message.headers["Allow"]?.contains("UPDATE") == true)
        #expect(reply[0].message.body.isEmpty)
        #expect(reply[0].message.toTag == tag)
        #expect(harness.offers.isEmpty)
        // A retransmission gets the same 200 from its non-INVITE transaction.
        let again = harness.receive(request("UPDATE", branch: "z9hG4bK-up", toTag: tag, cseq: 2))
        #expect(again.map(\.text) == reply.map(\.text))
    }

    @Test func updateWithAnOfferIsAnsweredAndApplied() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let hold = request(
            "UPDATE", branch: "z9hG4bK-up", toTag: tag, cseq: 2,
            body: callerOffer(direction: "inactive"))
        let reply = harness.receive(hold)
        #expect(reply.statuses == [200])
        #expect(reply[0].message.headers["CSeq"] == "2 UPDATE")
        #expect(direction(reply[0].message.bodyText) == "a=inactive")
        #expect(origin(reply[0].message.bodyText)[2] == "8")
        #expect(harness.offers.map { $0?.direction } == [.inactive])
        let g729 = request("UPDATE", branch: "z9hG4bK-up3", toTag: tag, cseq: 3, body: callerOffer(formats: "18"))
        #expect(harness.receive(g729).statuses == [488])
        let bad = request("UPDATE", branch: "z9hG4bK-up4", toTag: tag, cseq: 4, body: "v=1\r\n")
        #expect(harness.receive(bad).statuses == [488])
        #expect(harness.offers.count == 2)
        let old = request("UPDATE", branch: "z9hG4bK-up5", toTag: tag, cseq: 3, body: offerSDP)
        #expect(harness.receive(old).statuses == [500])  // RFC 3261 §12.2.2: a lower CSeq
    }

    @Test func updateInAnUnknownDialogGets481() {
        var harness = Harness()
        let reply = harness.receive(request("UPDATE", branch: "z9hG4bK-up", toTag: "gone", cseq: 2, body: offerSDP))
        #expect(reply.statuses == [481])
    }

    // MARK: - Late offer

    /// A harness whose application offers `lateOfferSDP` to INVITEs without SDP.
    func lateOfferHarness() -> Harness {
        Harness(decision: { call in
            call.isLateOffer ? .accept(answerSDP: lateOfferSDP) : .reject(status: 488)
        })
    }

    @Test func anInviteWithoutSDPGetsOurOfferInThe200AndTheAckAnswerConfirmsTheCall() throws {
        var harness = lateOfferHarness()
        let replies = harness.receive(invite(body: ""))
        #expect(replies.statuses == [100, 200])
        #expect(harness.calls.first?.isLateOffer == true)
        let ok = replies[1].message
        #expect(ok.bodyText == lateOfferSDP)
        #expect(ok.headers["Content-Type"] == "application/sdp")
        let tag = try #require(ok.toTag)
        // Retransmitted until the ACK.
        let again = harness.advance(seconds: 1.6)
        #expect(again.statuses == [200, 200])
        #expect(again.allSatisfy { $0.message.bodyText == lateOfferSDP })
        #expect(harness.confirmed.isEmpty)
        let ack = request("ACK", branch: "z9hG4bK-ack1", toTag: tag, body: callerOffer(formats: "8 101"))
        #expect(harness.receive(ack).isEmpty)
        #expect(harness.confirmedAnswers.count == 1)
        let answer = try #require(harness.confirmedAnswers.first ?? nil)
        #expect(answer.payloadTypes == [8, 101])
        #expect(answer.negotiate()?.codec == .pcma)
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.ended.isEmpty)
    }

    @Test(arguments: [("", "application/sdp"), ("v=0\r\nbroken\r\n", "application/sdp"), ("hello", "text/plain")])
    func aLateOfferWhoseAckHasNoUsableAnswerEndsWithBye(body: String, type: String) throws {
        var harness = lateOfferHarness()
        let replies = harness.receive(invite(body: ""))
        let tag = try #require(replies.last?.message.toTag)
        let ack = request("ACK", branch: "z9hG4bK-ack1", toTag: tag, body: body, contentType: type)
        let sent = harness.receive(ack)
        #expect(sent.map { $0.message.method } == ["BYE"])
        #expect(sent.first?.message.headers["CSeq"] == "1 BYE")
        #expect(harness.confirmed.isEmpty)
        #expect(harness.ended.map(\.1) == [.missingAnswer])
        // The BYE is answered; the dialog is gone; no 200 retransmission follows.
        let byeBranch = try #require(try sent.first?.message.topVia.branch)
        let ok = """
            SIP/2.0 200 OK\r
            Via: SIP/2.0/UDP 192.0.2.10:5060;branch=\(byeBranch);rport\r
            From: <sip:5145550100@192.0.2.10>;tag=\(tag)\r
            To: "Door" <sip:door@198.51.100.7>;tag=caller-tag\r
            Call-ID: call-1@198.51.100.7\r
            CSeq: 1 BYE\r
            Content-Length: 0\r
            \r

            """
        harness.receive(ok)
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.agent.dialogCount == 0)
    }

    @Test func offersCrossingOurLateOfferGet491() throws {
        var harness = lateOfferHarness()
        let replies = harness.receive(invite(body: ""))
        let tag = try #require(replies.last?.message.toTag)
        #expect(harness.receive(reInvite(tag, cseq: 2, body: offerSDP)).statuses == [491])
        let update = request("UPDATE", branch: "z9hG4bK-up", toTag: tag, cseq: 3, body: offerSDP)
        #expect(harness.receive(update).statuses == [491])
        #expect(harness.offers.isEmpty)
        // The ACK with the answer still confirms the call.
        harness.receive(request("ACK", branch: "z9hG4bK-ack1", toTag: tag, body: offerSDP))
        #expect(harness.confirmedAnswers.count == 1)
    }
}
