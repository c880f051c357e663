import CallSequenceModel
import Testing

@testable import CallSequenceStore

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test("one spelling: indentation, numbers, escapes, key order kept")
    func spelling() throws {
        let text = #"{"b":1.50,"a":[true,null,-0,1e3,0.1,"x\"\\\u0001\n\u00e9"],"e":{},"f":[]}"#
        #expect(
            try CanonicalJSON.canonicalize(text) == """
                {
                  "b": 1.5,
                  "a": [
                    true,
                    null,
                    0,
                    1000,
                    0.1,
                    "x\\"\\\\\\u0001\\né"
                  ],
                  "e": {},
                  "f": []
                }

                """)
    }

    @Test("canonical text is a fixed point")
    func fixedPoint() throws {
        let samples = [
            #"{"name":"Door","steps":[{"type":"dtmf","digits":"1#","levelDbm0":-7.5}]}"#, "[1,2,[3,[4]]]",
            #""\u2028 \t""#, "12345678901234",
        ]
        for sample in samples {
            let once = try CanonicalJSON.canonicalize(sample)
            #expect(try CanonicalJSON.canonicalize(once) == once)
            #expect(try JSONValue.parse(once) == JSONValue.parse(sample))
        }
    }

    @Test("keys are hashed with SHA-256 (FIPS 180-4 test vector)")
    func sha256() {
        #expect(APIKeySecret.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIKeySecret.base64url([0xfb, 0xff]) == "-_8")
        #expect(APIKeySecret.make().count == 47)
    }

    @Test("$N placeholders become ?N for SQLite")
    func placeholders() {
        #expect(SQLiteTransaction.sqliteSQL("SELECT $1, $12 WHERE a = $2") == "SELECT ?1, ?12 WHERE a = ?2")
        #expect(SQLiteTransaction.sqliteSQL("SELECT '$'") == "SELECT '$'")
    }
}
