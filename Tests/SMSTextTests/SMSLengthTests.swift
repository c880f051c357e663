import SMSText
import Testing

/// 3GPP TS 23.038: one SMS holds 160 GSM-7 septets or 70 UCS-2 units.
@Suite("SMS length as the network counts it")
struct SMSLengthTests {
    @Test func gsm7AccentsOfTheDefaultAlphabetTakeOneSeptet() {
        let text =
            String(repeating: "é", count: 60) + String(repeating: "ñ", count: 50) + String(repeating: "Ø", count: 50)
        let length = SMSLength(of: text)
        #expect(length.encoding == .gsm7 && length.units == 160 && length.fitsOneMessage && length.problem == nil)
        let over = SMSLength(of: text + "x")
        #expect(over.encoding == .gsm7 && over.units == 161 && !over.fitsOneMessage && over.segments == 2)
        #expect(over.problem == "161 GSM-7 septets; at most 160")
    }

    @Test func theEuroSignTakesTwoSeptets() {
        #expect(SMSLength(of: String(repeating: "€", count: 80)).units == 160)
        #expect(SMSLength(of: String(repeating: "€", count: 80)).fitsOneMessage)
        let over = SMSLength(of: String(repeating: "€", count: 81))
        #expect(over.encoding == .gsm7 && over.units == 162 && !over.fitsOneMessage)
        #expect(over.problem?.hasPrefix("162 GSM-7 septets (the extension characters") == true)
        for c in ["^", "{", "}", "\\", "[", "~", "]", "|", "\u{0C}"] {
            #expect(SMSLength(of: c).units == 2, "\(c)")
        }
    }

    @Test func oneCharacterOutsideGSM7MakesTheTextUCS2() {
        let text = "Porte ouvert" + "ê" + String(repeating: "a", count: 57)  // 'ê' at position 13
        let length = SMSLength(of: text)
        #expect(length.encoding == .ucs2 && length.units == 70 && length.fitsOneMessage)
        let over = SMSLength(of: "Porte ouver" + "ê" + String(repeating: "a", count: 59))
        #expect(over.units == 71)
        #expect(over.problem == "71 UCS-2 characters ('ê' at position 12 is not in GSM-7); at most 70")
    }

    @Test func anEmojiTakesTwoUCS2Units() {
        let sixtyNine = String(repeating: "Д", count: 69)
        #expect(SMSLength(of: sixtyNine + "я").units == 70)
        let over = SMSLength(of: sixtyNine + "😀")
        #expect(over.encoding == .ucs2 && over.units == 71 && over.characters == 70 && !over.fitsOneMessage)
        #expect(
            over.problem
                == "71 UCS-2 units ('Д' at position 1 is not in GSM-7; emoji and other characters beyond U+FFFF take 2); at most 70"
        )
        #expect(SMSLength(of: String(repeating: "😀", count: 160)).segments == 5)
        #expect(SMSLength(of: String(repeating: "Ж", count: 80)).segments == 2)
    }

    @Test func combiningAccentsAreCountedOneByOne() {
        let text = "e" + String(repeating: "\u{301}", count: 32_768)
        let length = SMSLength(of: text)
        #expect(length.encoding == .ucs2 && length.characters == 1 && length.units == 32_769 && !length.fitsOneMessage)
        // Decomposed é is not the GSM-7 é.
        #expect(SMSLength(of: "e\u{301}").encoding == .ucs2 && SMSLength(of: "\u{E9}").encoding == .gsm7)
    }

    @Test func controlCharactersAreEscapedInTheProblem() {
        let length = SMSLength(of: "\u{1B}[31m" + String(repeating: "a", count: 70))
        #expect(length.problem?.contains("'\\u{1B}' at position 1") == true)
        #expect(length.problem?.contains("\u{1B}") == false)
    }

    @Test func theDescriptionGivesEncodingAndUnits() {
        #expect(SMSLength(of: "Front door opened").description == "GSM-7, 17 of 160 septets")
        #expect(SMSLength(of: "Porte ouverte à 9 h €").description == "GSM-7, 22 of 160 septets")
        #expect(SMSLength(of: "Дверь открыта").description == "UCS-2, 13 of 70 units")
        #expect(SMSLength(of: "").segments == 0)
    }
}
