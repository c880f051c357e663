import CallSequenceModel
import Testing

@Suite("Phone numbers (NANP)")
struct PhoneNumberTests {
    @Test(arguments: [
        "5145550199", "+1 514 555 0199", "(514) 555-0199", "1-514-555-0199", "514.555.0199", "+15145550199",
    ])
    func commonWritingsNormalise(text: String) throws {
        #expect(try PhoneNumber(text).digits == "5145550199")
    }

    @Test(arguments: [
        "514555019", "25145550199", "0145550199", "9115550199", "5141550199", "5144110199", "514-555-01a9",
        "++15145550199",
    ])
    func invalidNumbersAreRefused(text: String) {
        #expect(throws: PhoneNumberError.self) { try PhoneNumber(text) }
    }

    @Test func onlyPlusOneMayPrefixTheTenDigits() throws {
        // +32 2 555 12 34 is Brussels: ten digits, but not (322) 555-1234.
        #expect(throws: PhoneNumberError.foreignCountryCode("32")) { try PhoneNumber("+32 2 555 12 34") }
        #expect(throws: PhoneNumberError.foreignCountryCode("442")) { try PhoneNumber("+442079460000") }
        #expect(throws: PhoneNumberError.wrongLength(10)) { try PhoneNumber("+1 514 555 019") }
        #expect(throws: PhoneNumberError.self) { try PhoneNumber("2-514-555-0199") }
        #expect(try PhoneNumber("1 (514) 555-0199").digits == "5145550199")
    }
}
