import SIP
import Testing

func offer(_ media: String, session: String = "c=IN IP4 198.51.100.7\r\n", attributes: [String] = []) -> String {
    "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\n\(session)t=0 0\r\nm=\(media)\r\n"
        + attributes.map { $0 + "\r\n" }.joined()
}

@Suite("SDP offer/answer (RFC 4566, RFC 3264, RFC 4733)")
struct SDPTests {
    @Test func pcmuOrPcmaInTheOfferersOrder() throws {
        let ulawFirst = try SDPOffer(
            parsing: offer(
                "audio 4000 RTP/AVP 0 8 101",
                attributes: [
                    "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
                ]))
        #expect(ulawFirst.payloadTypes == [0, 8, 101])
        #expect(ulawFirst.connectionAddress == "198.51.100.7")
        #expect(ulawFirst.audioPort == 4000)
        let answer = try #require(ulawFirst.negotiate())
        #expect(answer.codec == .pcmu)
        #expect(answer.payloadType == 0)
        #expect(answer.telephoneEventPayloadType == 101)
        #expect(answer.ptime == 20)
        let alawFirst = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 18 8 0"))
        #expect(alawFirst.negotiate()?.codec == .pcma)
        #expect(alawFirst.negotiate()?.payloadType == 8)
        #expect(alawFirst.negotiate()?.telephoneEventPayloadType == nil)
    }

    @Test func telephoneEventIsTakenAtTheAudioClockOnly() throws {
        let both = try SDPOffer(
            parsing: offer(
                "audio 4000 RTP/AVP 0 100 101",
                attributes: [
                    "a=rtpmap:100 telephone-event/48000", "a=fmtp:100 0-16",
                    "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
                ]))
        #expect(both.rtpmaps[100]?.clockRate == 48000)
        #expect(both.negotiate()?.telephoneEventPayloadType == 101)
        let only48k = try SDPOffer(
            parsing: offer(
                "audio 4000 RTP/AVP 0 100",
                attributes: [
                    "a=rtpmap:100 telephone-event/48000"
                ]))
        #expect(only48k.negotiate()?.telephoneEventPayloadType == nil)
        let dynamic = try SDPOffer(
            parsing: offer(
                "audio 4000 RTP/AVP 8 96",
                attributes: ["a=rtpmap:96 TELEPHONE-EVENT/8000"]))
        #expect(dynamic.negotiate()?.telephoneEventPayloadType == 96)
    }

    @Test func noCommonCodecGivesNoAnswer() throws {
        let g729 = try SDPOffer(
            parsing: offer(
                "audio 4000 RTP/AVP 18 101",
                attributes: [
                    "a=rtpmap:18 G729/8000", "a=rtpmap:101 telephone-event/8000",
                ]))
        #expect(g729.negotiate() == nil)
        // PCMU at another rate is not G.711; SRTP is not offered here.
        let odd = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 96", attributes: ["a=rtpmap:96 PCMU/16000"]))
        #expect(odd.negotiate() == nil)
        #expect(try SDPOffer(parsing: offer("audio 4000 RTP/SAVP 0")).negotiate() == nil)
    }

    @Test func ptimeIsHonoured() throws {
        let ptime30 = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", attributes: ["a=ptime:30"]))
        #expect(ptime30.negotiate()?.ptime == 30)
        let ptime7 = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", attributes: ["a=ptime:7"]))
        #expect(ptime7.negotiate()?.ptime == 20)
        let sessionLevel = "c=IN IP4 198.51.100.7\r\na=ptime:40\r\n"
        #expect(try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", session: sessionLevel)).negotiate()?.ptime == 40)
    }

    @Test func theAnswerText() throws {
        let answer = try #require(
            try SDPOffer(
                parsing: offer(
                    "audio 4000 RTP/AVP 8 0 101",
                    attributes: [
                        "a=rtpmap:101 telephone-event/8000", "a=ptime:30",
                    ])
            ).negotiate())
        #expect(
            answer.render(address: "192.0.2.10", port: 20002, sessionID: 4242) == """
                v=0\r
                o=- 4242 4242 IN IP4 192.0.2.10\r
                s=callseq\r
                c=IN IP4 192.0.2.10\r
                t=0 0\r
                m=audio 20002 RTP/AVP 8 101\r
                a=rtpmap:8 PCMA/8000\r
                a=rtpmap:101 telephone-event/8000\r
                a=fmtp:101 0-15\r
                a=ptime:30\r
                a=sendrecv\r

                """)
        let v6 = SDPAnswer(codec: .pcmu, payloadType: 0, telephoneEventPayloadType: nil)
            .render(address: "2001:db8::10", port: 20000, sessionID: 1)
        #expect(v6.contains("c=IN IP6 2001:db8::10\r\n"))
        #expect(v6.contains("m=audio 20000 RTP/AVP 0\r\n"))
        #expect(!v6.contains("telephone-event"))
    }

    @Test func connectionDirectionAndOtherStreams() throws {
        let text =
            "v=0\r\no=- 1 1 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\n"
            + "m=video 5000 RTP/AVP 96\r\nc=IN IP4 203.0.113.1\r\na=rtpmap:96 H264/90000\r\n"
            + "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 198.51.100.9\r\na=sendonly\r\n"
        let parsed = try SDPOffer(parsing: text)
        #expect(parsed.connectionAddress == "198.51.100.9")  // the audio stream's own c=
        #expect(parsed.addressType == .ipv4)
        #expect(parsed.direction == .sendonly)
        let answer = try #require(parsed.negotiate())
        #expect(answer.direction == .recvonly)
        let rendered = answer.render(address: "192.0.2.10", port: 20000, sessionID: 1)
        // RFC 3264 §6: as many m= lines, in the same order; the video one refused with port 0.
        let media = rendered.split(separator: "\r\n").filter { $0.hasPrefix("m=") }
        #expect(media == ["m=video 0 RTP/AVP 96", "m=audio 20000 RTP/AVP 0"])
        #expect(rendered.contains("a=recvonly"))
        let sessionV6 = try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", session: "c=IN IP6 2001:db8::7\r\n"))
        #expect(sessionV6.addressType == .ipv6)
        #expect(sessionV6.connectionAddress == "2001:db8::7")
    }

    @Test func offersWeCannotReadAreErrors() {
        #expect(throws: SDPError.self) { try SDPOffer(parsing: "hello") }
        #expect(throws: SDPError.self) { try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", session: "")) }
        #expect(throws: SDPError.self) { try SDPOffer(parsing: offer("video 4000 RTP/AVP 96")) }
        #expect(throws: SDPError.self) { try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0 x")) }
        #expect(throws: SDPError.self) {
            try SDPOffer(parsing: offer("audio 4000 RTP/AVP 0", session: "c=IN IP4 a b\r\n"))
        }
        #expect(throws: SDPError.self) { try SDPOffer(parsing: offer("audio 99999 RTP/AVP 0")) }
    }
}
