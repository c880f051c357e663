import CallSequenceModel
import Testing

@Suite("JSON reader")
struct JSONValueTests {
    @Test func keepsKeyOrderAndTellsBooleansFromNumbers() throws {
        let v = try JSONValue.parse(#"{"b": true, "a": 1, "c": [null, "x\u00e9\n"], "d": -1.5e2}"#)
        guard case .object(let members) = v else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["b", "a", "c", "d"])
        #expect(v["b"] == .bool(true) && v["a"] == .number(1) && v["d"] == .number(-150))
        #expect(v["c"] == .array([.null, .string("xé\n")]))
    }

    @Test(arguments: [
        ("{\"a\": 01}", "line 1, column 7: leading zeros are not allowed in numbers"),
        ("{\"a\": 1,}", "line 1, column 9: expected a key in quotes, found '}'"),
        ("[1, 2", "line 1, column 6: unexpected end of the document; expected ',' or ']'"),
        ("{\"a\": tru}", "line 1, column 7: invalid literal; expected true"),
        ("\"\\q\"", "line 1, column 2: invalid escape \\q"),
        ("{} x", "line 1, column 4: unexpected 'x' after the end of the document"),
        ("", "line 1, column 1: unexpected end of the document"),
    ])
    func syntaxErrorsGiveLineAndColumn(text: String, expected: String) {
        #expect {
            try JSONValue.parse(text)
        } throws: { ($0 as? JSONSyntaxError)?.description == expected }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
    }
}
