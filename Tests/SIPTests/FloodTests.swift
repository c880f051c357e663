import Foundation
import NIOCore
import SIP
import Testing

/// A harness whose application knows one number, 5145550100, and rejects the others with 404 (as CallServer).
private func floodHarness(_ configuration: UserAgentServer.Configuration) -> Harness {
    Harness(
        configuration: configuration,
        decision: { call in
            call.user == "5145550100" ? .accept(answerSDP: answerSDP) : .reject(status: 404)
        })
}

/// The requests of a scanner: OPTIONS, REGISTER and an INVITE to a number nobody has, each a new transaction.
private func scannerRequest(_ index: Int) -> String {
    switch index % 3 {
    case 0: return request("OPTIONS", uri: "sip:192.0.2.10", callID: "scan-\(index)", branch: "z9hG4bK-s\(index)")
    case 1: return request("REGISTER", uri: "sip:192.0.2.10", callID: "scan-\(index)", branch: "z9hG4bK-s\(index)")
    default:
        return request(
            "INVITE", uri: "sip:100@192.0.2.10", callID: "scan-\(index)", branch: "z9hG4bK-s\(index)",
            body: offerSDP)
    }
}

private let scanner = address("203.0.113.66", 5060)

@Suite("User-agent server: flood resistance (stateless answers, bounded tables, rate limit per source)")
struct FloodTests {
    @Test func twentyThousandOptionsFromManySourcesTakeNoTransactionAndACallIsStillAnswered() throws {
        var harness = floodHarness(.init(contactAddress: "192.0.2.10:5060"))
        for index in 0..<20_000 {
            // 250 sources of 80 requests each: under the bucket's burst of 100, so every one is answered.
            let source = address("10.0.\(index % 250).1", 5060)
            let replies = harness.receive(
                request(
                    "OPTIONS", uri: "sip:192.0.2.10", callID: "o\(index)",
                    branch: "z9hG4bK-o\(index)"), from: source)
            #expect(replies.statuses == [200])
        }
        #expect(harness.agent.transactionCount == 0)
        #expect(harness.agent.cachedResponseCount == 4_096)
        #expect(harness.timers.isEmpty)
        let replies = harness.receive(invite())
        #expect(replies.statuses == [100, 200])
        #expect(harness.calls.count == 1)
    }

    @Test func aFloodFromOneSourceIsAnsweredUpToItsBucketThenRefusedThenDroppedWhileACallGoesThrough() throws {
        var harness = floodHarness(.init(contactAddress: "192.0.2.10:5060"))
        var answered = 0
        var refused = 0
        for index in 0..<20_000 {
            for reply in harness.receive(scannerRequest(index), from: scanner) {
                if reply.message.status == 503 {
                    refused += 1
                    #expect(reply.message.headers["Retry-After"] == "1")
                } else if reply.message.status != 100 {
                    answered += 1
                }
            }
        }
        // Bursts of 100 of each (no time passes): 100 handled (200, 405, 404), 100 refused, the rest dropped.
        #expect(answered == 100)
        #expect(refused == 100)
        #expect(harness.agent.callTransactionCount == 0)
        #expect(harness.agent.rejectedInviteCount == 33)  // the INVITEs among the 100, rejected by the application
        #expect(harness.receive(invite()).statuses == [100, 200])
        #expect(harness.calls.count == 34)
    }

    @Test func rejectedInvitesKeepTimerGWithinTheirOwnBoundAndNeverCrowdOutCalls() throws {
        var harness = floodHarness(
            .init(
                maximumTransactions: 4, maximumRejectedInvites: 50, rateLimit: nil,
                contactAddress: "192.0.2.10:5060"))
        var first: [Harness.Sent] = []
        for index in 0..<2_000 {
            let replies = harness.receive(scannerRequest(3 * index + 2), from: scanner)
            #expect(replies.statuses == [100, 404])
            if index == 0 { first = replies }
        }
        #expect(harness.agent.rejectedInviteCount == 50)
        #expect(harness.agent.callTransactionCount == 0)
        // The first INVITE's transaction is gone; its retransmission gets the same 404 from the cache, and its
        // ACK is absorbed.
        let again = harness.receive(scannerRequest(2), from: scanner)
        #expect(again.map(\.text) == [first[1].text])
        let tag = try #require(first[1].message.toTag)
        #expect(
            harness.receive(
                request(
                    "ACK", uri: "sip:100@192.0.2.10", callID: "scan-2", branch: "z9hG4bK-s2",
                    toTag: tag), from: scanner
            ).isEmpty)
        // The 50 kept are retransmitted on timer G (§17.2.1) at T1.
        #expect(harness.advance(seconds: 0.5).statuses == Array(repeating: 404, count: 50))
        // Calls have their room: 4 transactions of calls.
        for call in 0..<4 {
            #expect(harness.receive(invite(callID: "c\(call)", branch: "z9hG4bK-c\(call)")).statuses == [100, 200])
        }
        let busy = harness.receive(invite(callID: "c4", branch: "z9hG4bK-c4"))
        #expect(busy.statuses == [503])
        #expect(busy.first?.message.headers["Retry-After"] == "5")
        // Timer H clears the pool.
        harness.advance(seconds: 40)
        #expect(harness.agent.rejectedInviteCount == 0)
    }

    @Test func aRetransmittedOptionsGetsIdenticalBytesFromTheCacheFor64T1() throws {
        var harness = floodHarness(.init(contactAddress: "192.0.2.10:5060"))
        let options = request("OPTIONS", uri: "sip:192.0.2.10", branch: "z9hG4bK-opt")
        let first = harness.receive(options)
        #expect(first.statuses == [200])
        #expect(harness.agent.transactionCount == 0)
        #expect(harness.agent.cachedResponseCount == 1)
        let again = harness.receive(options)
        #expect(again.map(\.text) == first.map(\.text))
        #expect(again.map(\.to) == [caller])
        // After 64·T1 it is a new request: answered again, with a new To-tag.
        harness.advance(seconds: 33)
        let later = harness.receive(options)
        #expect(later.statuses == [200])
        #expect(later.first?.message.toTag != first.first?.message.toTag)
    }

    @Test func theResponseCacheEvictsTheOldestFirst() throws {
        var harness = floodHarness(.init(responseCacheSize: 10, contactAddress: "192.0.2.10:5060"))
        let requests = (0..<11).map { request("OPTIONS", callID: "o\($0)", branch: "z9hG4bK-o\($0)") }
        let first = requests.map { harness.receive($0) }
        #expect(harness.agent.cachedResponseCount == 10)
        #expect(harness.agent.transactionCount == 0)
        // The newest ten answer with their bytes; the oldest was evicted and is answered anew (another To-tag).
        for index in 1..<11 { #expect(harness.receive(requests[index]).map(\.text) == first[index].map(\.text)) }
        let anew = harness.receive(requests[0])
        #expect(anew.statuses == [200])
        #expect(anew.first?.message.toTag != first[0].first?.message.toTag)
    }

    @Test func theRateLimitTracksABoundedNumberOfSources() throws {
        let limit = UserAgentServer.RateLimit(requestsPerSecond: 1, burst: 1, maximumSources: 100)
        var harness = floodHarness(.init(rateLimit: limit, contactAddress: "192.0.2.10:5060"))
        for index in 0..<10_000 {
            let source = address("10.\(index / 65_536).\(index / 256 % 256).\(index % 256)", 5060)
            #expect(
                harness.receive(
                    request("OPTIONS", callID: "o\(index)", branch: "z9hG4bK-o\(index)"),
                    from: source
                ).statuses == [200])
            #expect(harness.agent.rateLimitedSourceCount <= 100)
        }
        // A source seen a moment ago is still tracked: its bucket is empty.
        let recent = address("10.0.39.15", 5060)  // source 9,999
        #expect(harness.receive(request("OPTIONS", branch: "z9hG4bK-again"), from: recent).statuses == [503])
    }

    @Test func aRejectedInviteIsAnsweredFromTheCacheAndItsAckIsAbsorbed() throws {
        var harness = floodHarness(.init(contactAddress: "192.0.2.10:5060"))
        let bad = invite(extraHeaders: ["Require: 100rel"])
        let first = harness.receive(bad)
        #expect(first.statuses == [420])
        #expect(harness.agent.transactionCount == 0)
        #expect(harness.receive(bad).map(\.text) == first.map(\.text))
        let tag = try #require(first.first?.message.toTag)
        #expect(harness.receive(request("ACK", branch: "z9hG4bK-inv1", toTag: tag)).isEmpty)
        #expect(harness.advance(seconds: 40).isEmpty)  // no timer G: no 100 went out, the caller retransmits
    }

    @Test func theTokenBucketRefusesPastTheBurstWith503AndRetryAfterThenAnswersAgain() throws {
        let limit = UserAgentServer.RateLimit(requestsPerSecond: 10, burst: 20)
        var harness = floodHarness(
            .init(
                rateLimit: limit, trustedSources: ["192.0.2.99"],
                contactAddress: "192.0.2.10:5060"))
        func options(_ index: Int, from source: SocketAddress = scanner) -> [Int] {
            harness.receive(
                request("OPTIONS", uri: "sip:192.0.2.10", callID: "o\(index)", branch: "z9hG4bK-o\(index)"),
                from: source
            ).statuses
        }
        for index in 0..<20 { #expect(options(index) == [200]) }
        let refusal = harness.receive(request("OPTIONS", branch: "z9hG4bK-o20"), from: scanner)
        #expect(refusal.statuses == [503])
        #expect(refusal.first?.message.headers["Retry-After"] == "1")
        #expect(refusal.first?.message.headers["Via"]?.contains("received=203.0.113.66") == true)
        for index in 21..<40 { #expect(options(index) == [503]) }
        // Past 20 refusals, nothing: a flood is not answered.
        for index in 40..<100 { #expect(options(index).isEmpty) }
        // Another address and a trusted proxy are not affected.
        #expect(options(100, from: address("203.0.113.67", 5060)) == [200])
        for index in 101..<200 { #expect(options(index, from: address("192.0.2.99", 5060)) == [200]) }
        // One second later, 10 tokens (and 10 refusals) are back.
        harness.advance(seconds: 1)
        for index in 200..<210 { #expect(options(index) == [200]) }
        #expect(options(210) == [503])
        #expect(harness.agent.rateLimitedSourceCount == 2)
    }

    @Test func aCallInProgressIsNeverRateLimited() throws {
        let limit = UserAgentServer.RateLimit(requestsPerSecond: 1, burst: 2)
        var harness = floodHarness(.init(rateLimit: limit, contactAddress: "192.0.2.10:5060"))
        let (id, tag) = establishedCall(&harness)  // the INVITE takes a token, the ACK none
        for index in 0..<10 {
            harness.receive(request("OPTIONS", callID: "o\(index)", branch: "z9hG4bK-o\(index)"))
        }
        #expect(harness.receive(request("OPTIONS", branch: "z9hG4bK-late")).isEmpty)  // the source is flooding
        // Its requests inside the dialog still go through: a re-INVITE, its ACK, the BYE and its retransmission.
        let reinvite = request("INVITE", branch: "z9hG4bK-re", toTag: tag, cseq: 2, body: offerSDP)
        #expect(harness.receive(reinvite).statuses == [200])
        harness.receive(request("ACK", branch: "z9hG4bK-re-ack", toTag: tag, cseq: 2))
        let bye = request("BYE", branch: "z9hG4bK-bye", toTag: tag, cseq: 3)
        #expect(harness.receive(bye).statuses == [200])
        #expect(harness.receive(bye).statuses == [200])
        #expect(harness.ended.map(\.0) == [id])
    }

    @Test func aCancelOfAPendingInviteIsNeverRateLimited() throws {
        let limit = UserAgentServer.RateLimit(requestsPerSecond: 1, burst: 1)
        var harness = Harness(
            configuration: .init(rateLimit: limit, contactAddress: "192.0.2.10:5060"),
            decision: { _ in .accept(answerSDP: answerSDP, ringFor: .seconds(5)) })
        #expect(harness.receive(invite()).statuses == [100, 180])
        #expect(harness.receive(invite()).statuses == [180])  // a retransmission of the pending INVITE
        #expect(harness.receive(request("CANCEL", branch: "z9hG4bK-inv1")).statuses == [200, 487])
        #expect(harness.ended.map(\.1) == [.cancelled])
    }

    @Test func every503CarriesRetryAfter() throws {
        // Draining.
        var draining = floodHarness(.init(contactAddress: "192.0.2.10:5060"))
        draining.agent.setDraining(true)
        let drained = draining.receive(invite())
        #expect(drained.statuses == [503])
        #expect(drained.first?.message.headers["Retry-After"] == "5")
        // At the dialog bound.
        var full = floodHarness(.init(maximumDialogs: 1, contactAddress: "192.0.2.10:5060"))
        full.receive(invite(callID: "a", branch: "z9hG4bK-a"))
        let busy = full.receive(invite(callID: "b", branch: "z9hG4bK-b"))
        #expect(busy.statuses == [503])
        #expect(busy.first?.message.headers["Retry-After"] == "5")
        // The application's own 503.
        var refusing = Harness(decision: { _ in .reject(status: 503) })
        let refused = refusing.receive(invite())
        #expect(refused.statuses == [100, 503])
        #expect(refused.last?.message.headers["Retry-After"] == "5")
        #expect(refusing.advance(seconds: 0.5).first?.message.headers["Retry-After"] == "5")  // timer G
    }
}
