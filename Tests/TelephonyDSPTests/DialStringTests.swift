import TelephonyDSP
import TestSupport
import Testing

@Suite("Dial strings")
struct DialStringTests {
    @Test func everyQ23DigitParsesToItsToneAndEventCode() throws {
        let parsed = try DialString("1234567890*#ABCD")
        #expect(parsed.digits.map(\.eventCode) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 10, 11, 12, 13, 14, 15])
        #expect(
            parsed.digits.map(\.lowFrequency) == [
                697, 697, 697, 770, 770, 770, 852, 852, 852, 941, 941, 941, 697, 770, 852, 941,
            ])
        #expect(
            parsed.digits.map(\.highFrequency) == [
                1209, 1336, 1477, 1209, 1336, 1477, 1209, 1336, 1477, 1336, 1209, 1477, 1633, 1633, 1633, 1633,
            ])
        #expect(parsed.description == "1234567890*#ABCD")
    }

    @Test func lowercaseLettersAreTheSameDigits() throws {
        #expect(try DialString("abcd").digits == [.a, .b, .c, .d])
    }

    @Test func wWaitsHalfASecondAndCapitalWWaitsOneSecond() throws {
        let parsed = try DialString("1w2W3")
        #expect(
            parsed.elements == [
                .digit(.one), .pause(milliseconds: 500), .digit(.two), .pause(milliseconds: 1000), .digit(.three),
            ])
    }

    @Test(arguments: [("12x4", "x", 3), ("E", "E", 1), ("123 4", " ", 4), ("9,", ",", 2), ("12é", "é", 3)])
    func anOtherCharacterIsAnErrorNamingItAndItsPosition(text: String, character: Character, position: Int) {
        #expect {
            try DialString(text)
        } throws: { error in
            guard let error = error as? DialStringError else { return false }
            return error.character == character && error.position == position
                && error.description.contains("position \(position)")
        }
    }

    @Test func anEmptyStringIsAnError() {
        #expect(throws: DialStringError.self) { try DialString("") }
    }
}
