import Foundation
import NIOCore
import SIP
import Testing

/// Establishes a call (INVITE, 200, ACK) and returns its dialog.
func establishedCall(
    _ harness: inout Harness, callID: String = "call-1@198.51.100.7",
    extraHeaders: [String] = []
) -> (DialogID, String) {
    let replies = harness.receive(invite(callID: callID, branch: "z9hG4bK-\(callID)", extraHeaders: extraHeaders))
    let tag = replies.last?.message.toTag ?? ""
    harness.receive(request("ACK", callID: callID, branch: "z9hG4bK-ack-\(callID)", toTag: tag))
    return (DialogID(callID: callID, localTag: tag, remoteTag: "caller-tag"), tag)
}

@Suite("User-agent server: the RFC 3261 behaviours, with a simulated clock")
struct UserAgentServerTests {
    @Test func anInviteGets100TryingThenA200WithTheAnswerContactAndRecordRoute() throws {
        var harness = Harness()
        let replies = harness.receive(
            invite(extraHeaders: [
                "Record-Route: <sip:proxy1.example.com;lr>, <sip:proxy2.example.com;lr>",
                "Record-Route: <sip:proxy3.example.com;lr>",
            ]))
        #expect(replies.statuses == [100, 200])
        let trying = replies[0].message
        let ok = replies[1].message
        #expect(trying.toTag == nil)  // 100 may lack a tag (§8.2.6.2)
        #expect(ok.toTag != nil && ok.toTag?.isEmpty == false)
        #expect(
            ok.headers.values("Record-Route") == [
                "<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>", "<sip:proxy3.example.com;lr>",
            ])
        #expect(ok.headers["Contact"] == "<sip:5145550100@192.0.2.10:5060>")
        #expect(ok.headers["Content-Type"] == "application/sdp")
        #expect(ok.bodyText == answerSDP)
        #expect(ok.headers["Content-Length"] == String(answerSDP.utf8.count))
        #expect(ok.headers["CSeq"] == "1 INVITE")
        #expect(ok.headers["Call-ID"] == "call-1@198.51.100.7")
        #expect(ok.headers["From"] == "\"Door\" <sip:door@198.51.100.7>;tag=caller-tag")
        #expect(replies.allSatisfy { $0.to == caller })
        // The application heard of the call with the number dialled and the offer.
        let call = try #require(harness.calls.first)
        #expect(call.user == "5145550100")
        #expect(call.callerDisplayName == "Door")
        #expect(call.offer?.audioPort == 49170)
        #expect(call.offer?.negotiate()?.telephoneEventPayloadType == 101)
        #expect(call.source == caller)
        #expect(call.id.localTag == ok.toTag)
        #expect(call.id.remoteTag == "caller-tag")
    }

    @Test func theTopViaGetsReceivedAndRportAndResponsesGoToTheSourcePort() throws {
        var harness = Harness()
        let natted = address("203.0.113.9", 40000)
        let text = invite().replacingOccurrences(
            of: "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-inv1;rport",
            with: "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-inv1;rport, SIP/2.0/UDP 10.0.0.4;branch=z9hG4bK-b\r\n"
                + "v: SIP/2.0/UDP 10.0.0.3:5080;branch=z9hG4bK-c")
        let replies = harness.receive(text, from: natted)
        #expect(replies.statuses == [100, 200])
        for reply in replies {
            #expect(reply.to == natted)
            #expect(
                reply.message.headers.values("Via") == [
                    "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-inv1;rport=40000;received=203.0.113.9",
                    "SIP/2.0/UDP 10.0.0.4;branch=z9hG4bK-b",
                    "SIP/2.0/UDP 10.0.0.3:5080;branch=z9hG4bK-c",
                ])
        }
    }

    @Test func withoutRportTheResponseGoesToTheReceivedAddressAndTheViaPort() throws {
        var harness = Harness()
        let replies = harness.receive(
            request("OPTIONS", branch: "z9hG4bK-o", rport: false),
            from: address("203.0.113.9", 40000))
        #expect(replies.statuses == [200])
        #expect(replies[0].to == address("203.0.113.9", 5062))
        #expect(
            replies[0].message.headers["Via"]
                == "SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-o;received=203.0.113.9")
    }

    @Test func the200IsRetransmittedAtT1DoublingToT2ThenByeAfter64T1WithoutAck() throws {
        var harness = Harness()
        let first = harness.receive(invite())
        let tag = try #require(first.last?.message.toTag)
        let later = harness.advance(seconds: 40)
        let oks = later.filter { $0.message.status == 200 }
        var times = [0.0] + oks.map { Double($0.at) / 1e9 }
        let intervals = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(intervals == [0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4])  // 0.5, 1.5, 3.5, 7.5, ... 31.5 s
        #expect(oks.allSatisfy { $0.text == first[1].text })
        times = later.filter { $0.message.method == "BYE" }.map { Double($0.at) / 1e9 }
        #expect(times.first == 32)  // 64·T1
        #expect(harness.ended.map(\.1) == [.ackTimeout])
        #expect(
            harness.ended.first?.0
                == DialogID(callID: "call-1@198.51.100.7", localTag: tag, remoteTag: "caller-tag"))
        #expect(harness.confirmed.isEmpty)
    }

    @Test func theAckConfirmsTheCallAndStopsTheRetransmissions() throws {
        var harness = Harness()
        let first = harness.receive(invite())
        let tag = try #require(first.last?.message.toTag)
        #expect(harness.advance(seconds: 0.6).statuses == [200])
        #expect(harness.receive(request("ACK", branch: "z9hG4bK-ack1", toTag: tag)).isEmpty)
        #expect(harness.confirmed == [DialogID(callID: "call-1@198.51.100.7", localTag: tag, remoteTag: "caller-tag")])
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.ended.isEmpty)
        #expect(harness.agent.transactionCount == 0)  // timer L cleared the INVITE transaction
        #expect(harness.agent.dialogCount == 1)
    }

    @Test func aRetransmittedInviteGetsTheLastResponseAgain() throws {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(2)) })
        let first = harness.receive(invite())
        #expect(first.statuses == [100, 180])
        #expect(harness.receive(invite()).map(\.text) == [first[1].text])
        let ok = harness.advance(seconds: 2.1)
        #expect(ok.statuses == [200])
        #expect(harness.receive(invite()).map(\.text) == [ok[0].text])
        #expect(harness.calls.count == 1)
    }

    @Test func ringingSends180AndAnswersAfterTheDelayWithTheSameTag() throws {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .milliseconds(2500)) })
        let first = harness.receive(invite(extraHeaders: ["Record-Route: <sip:proxy.example.com;lr>"]))
        #expect(first.statuses == [100, 180])
        let ringing = first[1].message
        #expect(ringing.headers["Record-Route"] == "<sip:proxy.example.com;lr>")
        #expect(ringing.headers["Contact"] != nil)
        #expect(harness.advance(seconds: 2.4).statuses == [])
        let answer = harness.advance(seconds: 0.2)
        #expect(answer.statuses == [200])
        #expect(answer[0].at == 2_500_000_000)
        #expect(answer[0].message.toTag == ringing.toTag)
    }

    @Test func aDecisionTakenLaterAnswersAfterTheTryingAndACancelMeanwhileEndsTheWait() throws {
        // `.later`: the application looks the number up elsewhere (a store); the caller has the 100 meanwhile.
        var harness = Harness(decision: { _ in .later })
        #expect(harness.receive(invite()).statuses == [100])
        let call = try #require(harness.calls.first?.id)
        #expect(harness.agent.isDeciding(call))
        #expect(harness.receive(invite()).statuses == [100], "a retransmitted INVITE while deciding")
        let before = harness.sent.count
        harness.perform(harness.agent.decide(call, .accept(answerSDP: answerSDP)))
        #expect(Array(harness.sent[before...]).statuses == [200])
        #expect(!harness.agent.isDeciding(call))

        // Cancelled while deciding: 200 and 487, the call ended; a decision arriving after it sends nothing.
        var cancelled = Harness(decision: { _ in .later })
        #expect(cancelled.receive(invite()).statuses == [100])
        let second = try #require(cancelled.calls.first?.id)
        #expect(cancelled.receive(request("CANCEL", branch: "z9hG4bK-inv1")).statuses == [200, 487])
        #expect(cancelled.ended.map(\.1) == [.cancelled])
        #expect(!cancelled.agent.isDeciding(second))
        let sentBefore = cancelled.sent.count
        cancelled.perform(cancelled.agent.decide(second, .accept(answerSDP: answerSDP)))
        #expect(cancelled.sent.count == sentBefore)
    }

    @Test func cancelBeforeTheAnswerGets200And487AndEndsTheCall() throws {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(3)) })
        let first = harness.receive(invite())
        let tag = try #require(first[1].message.toTag)
        harness.advance(seconds: 1)
        let replies = harness.receive(request("CANCEL", branch: "z9hG4bK-inv1"))
        #expect(replies.statuses == [200, 487])
        #expect(replies[0].message.headers["CSeq"] == "1 CANCEL")
        #expect(replies[1].message.headers["CSeq"] == "1 INVITE")
        #expect(replies.allSatisfy { $0.message.toTag == tag })
        #expect(harness.ended.map(\.1) == [.cancelled])
        // The 487 is retransmitted on timer G until the ACK, which is absorbed; no 200 ever.
        let retransmitted = harness.advance(seconds: 1.6)
        #expect(retransmitted.statuses == [487, 487])
        #expect(retransmitted.map { $0.at } == [1_500_000_000, 2_500_000_000])
        #expect(harness.receive(request("ACK", branch: "z9hG4bK-inv1", toTag: tag)).isEmpty)
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.agent.transactionCount == 0)
        #expect(harness.agent.dialogCount == 0)
        #expect(harness.confirmed.isEmpty)
    }

    @Test func cancelWithoutATransactionGets481() {
        var harness = Harness()
        #expect(harness.receive(request("CANCEL", branch: "z9hG4bK-nothing")).statuses == [481])
    }

    @Test func cancelAfterTheAnswerOnlyGets200() {
        var harness = Harness()
        harness.receive(invite())
        #expect(harness.receive(request("CANCEL", branch: "z9hG4bK-inv1")).statuses == [200])
        #expect(harness.ended.isEmpty)
    }

    @Test func aRejectionIsRetransmittedOnTimerGAndClearedByTimerH() throws {
        var harness = Harness(decision: { _ in .reject(status: 404) })
        let first = harness.receive(invite())
        #expect(first.statuses == [100, 404])
        #expect(first[1].message.toTag != nil)
        #expect(first[1].message.startLineText == "SIP/2.0 404 Not Found")
        let later = harness.advance(seconds: 40)
        let times = [0.0] + later.map { Double($0.at) / 1e9 }
        #expect(zip(times.dropFirst(), times).map { $0 - $1 } == [0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4])
        #expect(later.statuses.allSatisfy { $0 == 404 })
        #expect(harness.agent.transactionCount == 0)  // timer H at 32 s
        #expect(harness.agent.dialogCount == 0)
        #expect(harness.ended.isEmpty)
    }

    @Test(arguments: [403, 486, 488, 503, 603])
    func rejectionStatusesAreSentAsGiven(status: Int) {
        var harness = Harness(decision: { _ in .reject(status: status) })
        #expect(harness.receive(invite()).statuses == [100, status])
    }

    @Test func byeGets200AndEndsTheCall() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(&harness)
        let replies = harness.receive(request("BYE", branch: "z9hG4bK-bye1", toTag: tag, cseq: 2))
        #expect(replies.statuses == [200])
        #expect(replies[0].message.toTag == tag)
        #expect(harness.ended.map(\.0) == [id])
        #expect(harness.ended.map(\.1) == [.remoteBye])
        // A retransmitted BYE gets the same 200 from its transaction; the call is not ended twice.
        let again = harness.receive(request("BYE", branch: "z9hG4bK-bye1", toTag: tag, cseq: 2))
        #expect(again.map(\.text) == [replies[0].text])
        #expect(harness.ended.count == 1)
        harness.advance(seconds: 40)
        #expect(harness.agent.transactionCount == 0)  // timer J
        #expect(harness.agent.dialogCount == 0)
    }

    @Test func byeForAnUnknownDialogGets481() {
        var harness = Harness()
        let replies = harness.receive(request("BYE", branch: "z9hG4bK-bye9", toTag: "nobody", cseq: 2))
        #expect(replies.statuses == [481])
        #expect(replies[0].message.startLineText == "SIP/2.0 481 Call/Transaction Does Not Exist")
    }

    @Test func optionsGets200WithAllowAndAccept() {
        var harness = Harness()
        let replies = harness.receive(request("OPTIONS", uri: "sip:192.0.2.10", branch: "z9hG4bK-opt"))
        #expect(replies.statuses == [200])
        let reply = replies[0].message
        #expect(reply.headers["Allow"] == "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE")
        #expect(reply.headers["Accept"] == "application/sdp")
        #expect(reply.toTag != nil)
    }

    @Test(arguments: ["REGISTER", "INFO", "SUBSCRIBE", "MESSAGE", "FOO"])
    func otherMethodsGet405WithAllow(method: String) {
        var harness = Harness()
        let replies = harness.receive(request(method, branch: "z9hG4bK-\(method)"))
        #expect(replies.statuses == [405])
        #expect(replies[0].message.headers["Allow"] == "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE")
    }

    @Test func anUnsupportedRequireGets420WithUnsupported() {
        var harness = Harness()
        let replies = harness.receive(invite(extraHeaders: ["Require: 100rel, precondition"]))
        #expect(replies.statuses == [420])
        #expect(replies[0].message.headers["Unsupported"] == "100rel, precondition")
        #expect(harness.calls.isEmpty)
    }

    @Test func aReInviteGets200WithTheSameAnswer() throws {
        var harness = Harness()
        let (_, tag) = establishedCall(&harness)
        let reinvite = request("INVITE", branch: "z9hG4bK-re", toTag: tag, cseq: 2, body: offerSDP)
        let replies = harness.receive(reinvite)
        #expect(replies.statuses == [200])
        #expect(replies[0].message.bodyText == answerSDP)
        #expect(replies[0].message.toTag == tag)
        harness.receive(request("ACK", branch: "z9hG4bK-re-ack", toTag: tag, cseq: 2))
        #expect(harness.advance(seconds: 40).isEmpty)
        #expect(harness.ended.isEmpty)
        #expect(harness.calls.count == 1)
    }

    @Test func aReInviteForAnUnknownDialogGets481() {
        var harness = Harness()
        let reinvite = request("INVITE", branch: "z9hG4bK-re", toTag: "gone", cseq: 2, body: offerSDP)
        #expect(harness.receive(reinvite).statuses == [481])
    }

    @Test func aMalformedRequestGets400NamingTheHeader() throws {
        var harness = Harness()
        let bad = invite().replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: one INVITE")
        let replies = harness.receive(bad)
        #expect(replies.statuses == [400])
        let reply = replies[0].message
        #expect(reply.startLineText.contains("CSeq"))
        #expect(reply.headers["Warning"]?.hasPrefix("399 callseq \"invalid CSeq header") == true)
        #expect(reply.headers["CSeq"] == "one INVITE")
        #expect(harness.calls.isEmpty)

        let badLength = request("OPTIONS", branch: "z9hG4bK-o").replacingOccurrences(
            of: "Content-Length: 0",
            with: "Content-Length: ten")
        let lengthReply = harness.receive(badLength)
        #expect(lengthReply.statuses == [400])
        #expect(lengthReply.first?.message.startLineText.contains("Content-Length") == true)
    }

    @Test func aRequestWithoutTheHeadersOfAResponseIsDropped() {
        var harness = Harness()
        let noCallID = invite().replacingOccurrences(of: "Call-ID: call-1@198.51.100.7\r\n", with: "")
        #expect(harness.receive(noCallID).isEmpty)
        let noVia = invite().replacingOccurrences(
            of: "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-inv1;rport\r\n",
            with: "")
        #expect(harness.receive(noVia).isEmpty)
        let badACK = request("ACK", branch: "z9hG4bK-a", toTag: "x")
            .replacingOccurrences(of: "CSeq: 1 ACK", with: "CSeq: x")
        #expect(harness.receive(badACK).isEmpty)
        #expect(harness.calls.isEmpty)
    }

    @Test func garbageIsDroppedAndDoesNotDisturbACallInProgress() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(&harness)
        for garbage in [
            "hello", "\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            String(repeating: "\u{1}", count: 300),
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n\r\n",
        ] {
            #expect(harness.receive(garbage).isEmpty)
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let count = Int.random(in: 0..<600, using: &random)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            harness.perform(harness.agent.received(ByteBuffer(bytes: bytes), from: caller))
        }
        #expect(harness.receive(request("BYE", branch: "z9hG4bK-bye1", toTag: tag, cseq: 2)).statuses == [200])
        #expect(harness.ended.map(\.0) == [id])
    }

    @Test func drainingAnswersNewInvitesWith503() {
        var harness = Harness()
        harness.agent.setDraining(true)
        #expect(harness.receive(invite()).statuses == [503])
        #expect(harness.calls.isEmpty)
        harness.agent.setDraining(false)
        #expect(harness.receive(invite(callID: "c2", branch: "z9hG4bK-2")).statuses == [100, 200])
    }

    @Test func hangUpSendsAByeRetransmittedOnTimerEUntilItsResponse() throws {
        var harness = Harness()
        let (id, tag) = establishedCall(
            &harness,
            extraHeaders: [
                "Record-Route: <sip:p1.example.com;lr>", "Record-Route: <sip:p2.example.com;lr>",
            ])
        let sent = harness.hangUp(id)
        #expect(harness.ended.map(\.1) == [.localBye])
        #expect(sent.count == 1)
        let bye = try #require(sent.first)
        #expect(bye.to == caller)
        #expect(bye.message.startLineText == "BYE sip:door@198.51.100.7:5062 SIP/2.0")
        #expect(bye.message.headers.values("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(bye.message.headers["From"] == "<sip:5145550100@192.0.2.10>;tag=\(tag)")
        #expect(bye.message.headers["To"] == "\"Door\" <sip:door@198.51.100.7>;tag=caller-tag")
        #expect(bye.message.headers["CSeq"] == "1 BYE")
        #expect(bye.message.headers["Call-ID"] == "call-1@198.51.100.7")
        let via = try bye.message.topVia
        #expect(via.sentBy == "192.0.2.10:5060")
        #expect(via.branch?.hasPrefix("z9hG4bK") == true)
        // Timer E: 0.5, 1, 2 s ...
        let retransmissions = harness.advance(seconds: 3.6)
        #expect(retransmissions.map { $0.at } == [500_000_000, 1_500_000_000, 3_500_000_000])
        #expect(retransmissions.allSatisfy { $0.text == bye.text })
        // The 200 ends the transaction: no more BYEs; timer K clears it.
        let headers = bye.message.headers
        let ok =
            "SIP/2.0 200 OK\r\nVia: \(headers["Via"] ?? "")\r\nFrom: \(headers["From"] ?? "")\r\n"
            + "To: \(headers["To"] ?? "")\r\nCall-ID: call-1@198.51.100.7\r\nCSeq: 1 BYE\r\n"
            + "Content-Length: 0\r\n\r\n"
        #expect(harness.receive(ok).isEmpty)
        #expect(harness.advance(seconds: 60).isEmpty)
        #expect(harness.agent.transactionCount == 0)
        #expect(harness.agent.dialogCount == 0)
        #expect(harness.ended.count == 1)
    }

    @Test func anUnansweredByeStopsAfter64T1() throws {
        var harness = Harness()
        let (id, _) = establishedCall(&harness)
        harness.advance(seconds: 40)
        #expect(harness.hangUp(id).count == 1)
        let later = harness.advance(seconds: 40)
        let times = later.map { Double($0.at) / 1e9 - 40 }
        #expect(times == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5])
        #expect(harness.agent.transactionCount == 0)
        #expect(harness.agent.dialogCount == 0)
    }

    @Test func hangUpBeforeTheAckWaitsForItThenSendsBye() throws {
        var harness = Harness()
        let first = harness.receive(invite())
        let tag = try #require(first.last?.message.toTag)
        let id = DialogID(callID: "call-1@198.51.100.7", localTag: tag, remoteTag: "caller-tag")
        #expect(harness.hangUp(id).isEmpty)  // §15: no BYE before the ACK
        #expect(harness.ended.map(\.1) == [.localBye])
        let afterACK = harness.receive(request("ACK", branch: "z9hG4bK-ack1", toTag: tag))
        #expect(afterACK.map { $0.message.method } == ["BYE"])
        #expect(harness.confirmed.isEmpty)
    }

    @Test func hangUpWhileRingingSends480() {
        var harness = Harness(decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(5)) })
        harness.receive(invite())
        let call = harness.calls[0].id
        #expect(harness.hangUp(call).statuses == [480])
        #expect(harness.advance(seconds: 6).statuses == [480, 480, 480])  // timer G, never a 200
    }

    @Test func newInvitesBeyondTheDialogBoundGet503() {
        var harness = Harness(configuration: .init(maximumDialogs: 2, contactAddress: "192.0.2.10:5060"))
        #expect(harness.receive(invite(callID: "a", branch: "z9hG4bK-a")).statuses == [100, 200])
        #expect(harness.receive(invite(callID: "b", branch: "z9hG4bK-b")).statuses == [100, 200])
        #expect(harness.receive(invite(callID: "c", branch: "z9hG4bK-c")).statuses == [503])
        #expect(harness.agent.dialogCount == 2)
    }

    @Test func transactionsAreBoundedAndClearedWithTime() {
        var harness = Harness(configuration: .init(maximumTransactions: 2, contactAddress: "192.0.2.10:5060"))
        _ = establishedCall(&harness, callID: "c0")
        _ = establishedCall(&harness, callID: "c1")
        #expect(harness.agent.transactionCount == 2)  // the INVITEs' transactions, in Accepted until timer L
        #expect(harness.receive(invite(callID: "c2", branch: "z9hG4bK-c2")).statuses == [503])
        #expect(harness.receive(request("OPTIONS", branch: "z9hG4bK-o")).statuses == [200])  // stateless
        #expect(harness.agent.transactionCount == 2)
        harness.advance(seconds: 33)
        #expect(harness.agent.transactionCount == 0)  // timer L, 64·T1
        #expect(harness.timers.isEmpty)
        #expect(harness.receive(invite(callID: "c3", branch: "z9hG4bK-c3")).statuses == [100, 200])
    }

    @Test func callsAreIndependent() throws {
        var harness = Harness()
        let (first, firstTag) = establishedCall(&harness, callID: "one")
        let (second, secondTag) = establishedCall(&harness, callID: "two")
        #expect(firstTag != secondTag)
        let byeOne = request("BYE", callID: "one", branch: "z9hG4bK-b1", toTag: firstTag, cseq: 2)
        #expect(harness.receive(byeOne).statuses == [200])
        #expect(harness.ended.map(\.0) == [first])
        let wrongTag = request("BYE", callID: "two", branch: "z9hG4bK-b2", toTag: firstTag, cseq: 2)
        #expect(harness.receive(wrongTag).statuses == [481])
        let byeTwo = request("BYE", callID: "two", branch: "z9hG4bK-b3", toTag: secondTag, cseq: 2)
        #expect(harness.receive(byeTwo).statuses == [200])
        #expect(harness.ended.map(\.0) == [first, second])
    }
}
