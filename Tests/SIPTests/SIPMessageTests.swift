import Foundation
import NIOCore
import SIP
import Testing

@Suite("SIP messages: parsing and writing (RFC 3261 §7, §18.3, §20)")
struct SIPMessageTests {
    @Test func compactFormsAreReadAsTheirFullNames() throws {
        let text =
            "INVITE sip:5145550100@192.0.2.10 SIP/2.0\r\n"
            + "v: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds;rport\r\n"
            + "f: Door <sip:door@198.51.100.7>;tag=1928301774\r\n"
            + "t: <sip:5145550100@192.0.2.10>\r\n"
            + "i: a84b4c76e66710@pc33\r\n"
            + "CSEQ: 314159 INVITE\r\n"
            + "m: <sip:door@198.51.100.7:5062>\r\n"
            + "k: timer, replaces\r\n"
            + "c: application/sdp\r\n"
            + "l: 4\r\n\r\nv=0\r\nextra"
        let message = try SIPMessage(parsing: text)
        #expect(message.method == "INVITE")
        #expect(try message.topVia.branch == "z9hG4bK776asdhds")
        #expect(try message.topVia.responsePort == .requested)
        #expect(try message.from.displayName == "Door")
        #expect(try message.from.tag == "1928301774")
        #expect(try message.to.tag == nil)
        #expect(try message.callID == "a84b4c76e66710@pc33")
        #expect(try message.cseq == SIPCSeq(number: 314159, method: "INVITE"))
        #expect(try message.contact?.uri == "sip:door@198.51.100.7:5062")
        #expect(message.headers.values("Supported") == ["timer", "replaces"])
        #expect(message.headers["Content-Type"] == "application/sdp")
        #expect(message.body == Array("v=0\r".utf8))  // cut to Content-Length
        #expect(try message.requestURI.user == "5145550100")
    }

    @Test func viasInRepeatedLinesCommaListsAndFoldedLinesKeepTheirOrder() throws {
        let text =
            "BYE sip:x@192.0.2.10 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP first.example.com:5060;branch=z9hG4bK1;received=192.0.2.1;rport=5070,\r\n"
            + "  SIP/2.0/UDP second.example.com;branch=z9hG4bK2\r\n"
            + "To: <sip:x@192.0.2.10>;tag=a\r\nFrom: <sip:y@192.0.2.2>;tag=b\r\n"
            + "VIA: SIP / 2.0 / UDP [2001:db8::9]:5080;branch=z9hG4bK3\r\n"
            + "Call-ID: c\r\nCSeq: 2 BYE\r\n\r\n"
        let message = try SIPMessage(parsing: text)
        let vias = try message.vias
        #expect(vias.map(\.host) == ["first.example.com", "second.example.com", "[2001:db8::9]"])
        #expect(vias.map(\.port) == [5060, nil, 5080])
        #expect(vias.map(\.branch) == ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"])
        #expect(vias[0].received == "192.0.2.1")
        #expect(vias[0].responsePort == .value(5070))
        #expect(vias[1].responsePort == .absent)
        #expect(message.body.isEmpty)
    }

    @Test func withoutContentLengthTheBodyIsTheRestOfTheDatagram() throws {
        let message = try SIPMessage(parsing: "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\nhello\r\nworld")
        #expect(message.body == Array("hello\r\nworld".utf8))
    }

    @Test func aBadContentLengthIsAnErrorNamingIt() {
        for value in ["ten", "-1", "12345678901", "5, 6"] {
            #expect(throws: SIPParseError.invalidContentLength) {
                try SIPMessage(parsing: "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: \(value)\r\n\r\nhello")
            }
        }
        #expect(throws: SIPParseError.invalidContentLength) {
            try SIPMessage(parsing: "OPTIONS sip:a@b SIP/2.0\r\nl: 5\r\nContent-Length: 4\r\n\r\nhello")
        }
        do {
            _ = try SIPMessage(parsing: "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 50\r\n\r\nhello")
            Issue.record("a body shorter than Content-Length parsed")
        } catch {
            #expect(error == .truncatedBody)
            #expect(error.header == "Content-Length")
        }
    }

    @Test func garbageIsNotSIP() {
        let garbage: [[UInt8]] = [
            [], Array("\r\n\r\n".utf8), Array("hello".utf8), Array("GET / HTTP/1.1\r\n\r\n".utf8),
            Array("INVITE sip:a@b SIP/3.0\r\n\r\n".utf8), Array("SIP/2.0 99 Odd\r\n\r\n".utf8),
            Array("INVITE  sip:a@b SIP/2.0\r\n\r\n".utf8), [0xFF, 0xFE, 0x00, 0x01, 0x0A],
        ]
        for bytes in garbage {
            #expect(throws: SIPParseError.notSIP) { try SIPMessage(parsing: bytes) }
        }
    }

    @Test func randomBytesAndMutatedMessagesNeverTrap() {
        var random = SystemRandomNumberGenerator()
        let valid = Array(invite().utf8)
        var parsed = 0
        for round in 0..<3000 {
            var bytes = valid
            if round % 3 == 0 {
                let count = Int.random(in: 0..<800, using: &random)
                bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] = [0, 10, 13, 32, 44, 58, 59, 60, 62, 34, 255].randomElement(using: &random) ?? 0
                }
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            }
            if let message = try? SIPMessage(parsing: bytes) {
                parsed += 1
                _ = try? message.vias
                _ = try? message.from
                _ = try? message.to
                _ = try? message.cseq
                _ = try? message.contact
                _ = try? message.requestURI
            }
        }
        #expect(parsed > 0)
    }

    @Test func sizeCountAndLineLengthAreBounded() {
        let big = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n" + String(repeating: "a", count: 70_000)
        #expect(throws: SIPParseError.messageTooLarge(0)) { try SIPMessage(parsing: big) }
        let many = "OPTIONS sip:a@b SIP/2.0\r\n" + (0..<129).map { "X-H\($0): v\r\n" }.joined() + "\r\n"
        #expect(throws: SIPParseError.tooManyHeaders) { try SIPMessage(parsing: many) }
        let long = "OPTIONS sip:a@b SIP/2.0\r\nSubject: " + String(repeating: "a", count: 9000) + "\r\n\r\n"
        #expect(throws: SIPParseError.lineTooLong(header: "Subject")) { try SIPMessage(parsing: long) }
        let continuation = " " + String(repeating: "b", count: 100) + "\r\n"
        let folded = "OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n" + String(repeating: continuation, count: 90) + "\r\n"
        #expect(throws: SIPParseError.lineTooLong(header: "Subject")) { try SIPMessage(parsing: folded) }
        let exactly128 = "OPTIONS sip:a@b SIP/2.0\r\n" + (0..<128).map { "X-H\($0): v\r\n" }.joined() + "\r\n"
        #expect((try? SIPMessage(parsing: exactly128))?.headers.count == 128)
    }

    @Test func typedHeaderErrorsNameTheHeader() throws {
        let base = invite()
        let cases: [(String, String, String)] = [
            ("CSeq: 1 INVITE", "CSeq: one INVITE", "CSeq"),
            ("CSeq: 1 INVITE", "CSeq: 2147483648 INVITE", "CSeq"),
            ("From: \"Door\" <sip:door@198.51.100.7>;tag=caller-tag", "From: \"Door <sip:door@198.51.100.7>", "From"),
            ("To: <sip:5145550100@192.0.2.10>", "To: <sip:5145550100@192.0.2.10", "To"),
            ("Via: SIP/2.0/UDP 198.51.100.7:5062", "Via: SIP/1.0/UDP 198.51.100.7:5062", "Via"),
            ("Via: SIP/2.0/UDP 198.51.100.7:5062", "Via: SIP/2.0/UDP 198.51.100.7:99999", "Via"),
            ("Contact: <sip:door@198.51.100.7:5062>", "Contact: <door>", "Contact"),
        ]
        for (original, replacement, header) in cases {
            let message = try SIPMessage(parsing: base.replacingOccurrences(of: original, with: replacement))
            do {
                _ = try message.vias
                _ = try message.from
                _ = try message.to
                _ = try message.cseq
                _ = try message.contact
                Issue.record("\(replacement) was accepted")
            } catch {
                #expect(error.header == header, "\(replacement): \(error)")
            }
        }
        let noCallID = try SIPMessage(
            parsing: base.replacingOccurrences(
                of: "Call-ID: call-1@198.51.100.7\r\n",
                with: ""))
        #expect(throws: SIPParseError.missingHeader("Call-ID")) { try noCallID.callID }
    }

    @Test func uriUserPartsAndRecordRoute() throws {
        #expect(try SIPURI("sip:+15145550100;npdi@gw.example.com:5080;user=phone").user == "+15145550100")
        #expect(try SIPURI("sip:+15145550100;npdi@gw.example.com:5080;user=phone").port == 5080)
        #expect(try SIPURI("sip:alice:secret@example.com").user == "alice")
        #expect(try SIPURI("sip:example.com").user == nil)
        #expect(try SIPURI("tel:+1-514-555-0100;phone-context=example.com").user == "+1-514-555-0100")
        #expect(try SIPURI("sips:[2001:db8::1]:5061").host == "[2001:db8::1]")
        #expect(throws: SIPParseError.invalidHeader("Request-URI")) { try SIPURI("http://example.com") }
        let message = try SIPMessage(
            parsing: invite(extraHeaders: [
                "Record-Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr;ftag=x>", "Record-Route: <sip:p3;lr>",
            ]))
        #expect(message.recordRoute == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr;ftag=x>", "<sip:p3;lr>"])
        let quoted = try SIPNameAddress("\"Smith, John \\\"JJ\\\"\" <sip:j@example.com>;tag=9", header: "From")
        #expect(quoted.displayName == "Smith, John \"JJ\"")
        #expect(quoted.tag == "9")
        let bare = try SIPNameAddress("sip:j@example.com;tag=7", header: "To")
        #expect(bare.uri == "sip:j@example.com")
        #expect(bare.tag == "7")
    }

    @Test func writingSetsContentLengthAndReadsBackTheSame() throws {
        var headers = SIPHeaders([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1"), ("Call-ID", "x"), ("Content-Length", "99")])
        headers.add(name: "c", value: "application/sdp")
        let message = SIPMessage(
            startLine: .response(status: 200, reason: "OK"), headers: headers,
            body: Array("v=0\r\n".utf8))
        #expect(
            message.text == "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nCall-ID: x\r\n"
                + "Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n")
        let back = try SIPMessage(parsing: message.serialized())
        #expect(back.status == 200)
        #expect(back.body == message.body)
    }
}
