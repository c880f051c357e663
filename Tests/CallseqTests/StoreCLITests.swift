import Foundation
import StoreConformance
import Testing

/// `callseq import`, `export` and `keys create` against a SQLite file and a throw-away PostgreSQL.
@Suite("Store command line")
struct StoreCLITests {
    static let accountFile = """
        {
          "capabilities": { "sequences": true, "sms": true, "smsDailyLimit": 20 },
          "dids": [
            { "number": "5145550101", "sms": false, "route": { "hangup": true }, "dtmf": "inband", "answerAfterMs": 2000 },
            { "number": "5145550100", "sms": true, "route": { "ivr": "Lobby" } }
          ],
          "ivrs": [
            { "name": "Lobby", "prompt": "default", "timeoutSeconds": 5,
              "options": { "1": { "sequence": "Front door" }, "0": { "hangup": true } } }
          ],
          "sequences": [
            { "name": "Front door", "steps": [
              { "type": "dtmf", "digits": "1234#" },
              { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "Front door opened" } ] }
          ]
        }
        """

    static let expectedExport = """
        {
          "capabilities": {
            "sequences": true,
            "sms": true,
            "smsDailyLimit": 20
          },
          "dids": [
            {
              "number": "5145550100",
              "sms": true,
              "route": {
                "ivr": "Lobby"
              }
            },
            {
              "number": "5145550101",
              "sms": false,
              "route": {
                "hangup": true
              },
              "dtmf": "inband",
              "answerAfterMs": 2000
            }
          ],
          "ivrs": [
            {
              "name": "Lobby",
              "prompt": "default",
              "timeoutSeconds": 5,
              "options": {
                "1": {
                  "sequence": "Front door"
                },
                "0": {
                  "hangup": true
                }
              }
            }
          ],
          "sequences": [
            {
              "name": "Front door",
              "steps": [
                {
                  "type": "dtmf",
                  "digits": "1234#"
                },
                {
                  "type": "sms",
                  "from": "5145550100",
                  "to": "5145550199",
                  "message": "Front door opened"
                }
              ]
            }
          ]
        }

        """

    @Test("import prints the id, export gives canonical bytes, and export → import → export is identical (SQLite)")
    func sqliteRoundTrip() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try exchange(store: folder.appendingPathComponent("store.sqlite3").path, folder: folder)
    }

    @Test("the same on PostgreSQL (a throw-away server; fails without Debian's postgresql)")
    func postgresRoundTrip() throws {
        let server = try TestPostgres.start()
        defer { server.stop() }
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try exchange(store: try server.createDatabase(), folder: folder)
    }

    /// The whole exchange on one store: import, export, a second store round trip, keys, failures.
    func exchange(store: String, folder: URL) throws {
        let file = folder.appendingPathComponent("door.json").path
        try Self.accountFile.write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try CommandRunner.callseq("import", file, "--store", store)
        #expect(imported.status == 0, "\(imported.stderr)")
        let id = imported.stdout.trimmingCharacters(in: .newlines)
        #expect(id.hasPrefix("acc_") && id.count == 24 && imported.stdout == id + "\n")

        let first = try CommandRunner.callseq("export", id, "--store", store)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == Self.expectedExport)

        // A DID belongs to one account: importing the export into the same store is refused, all or nothing.
        let exported = folder.appendingPathComponent("exported.json").path
        try first.stdout.write(toFile: exported, atomically: true, encoding: .utf8)
        let clash = try CommandRunner.callseq("import", exported, "--store", store)
        #expect(clash.status == 1)
        #expect(clash.stderr.contains("5145550100") || clash.stderr.contains("already exists"), "\(clash.stderr)")

        // Into another store: export → import → export gives the same bytes.
        let other = folder.appendingPathComponent("other.sqlite3").path
        let copy = try CommandRunner.callseq("import", exported, "--store", other)
        #expect(copy.status == 0, "\(copy.stderr)")
        let second = try CommandRunner.callseq("export", copy.stdout.trimmingCharacters(in: .newlines), "--store", other)
        #expect(second.status == 0)
        #expect(second.stdout == first.stdout)

        // Keys: the first operator key, printed once.
        let key = try CommandRunner.callseq("keys", "create", "--store", store, "--operator")
        #expect(key.status == 0, "\(key.stderr)")
        #expect(key.stdout.hasPrefix("csk_") && key.stdout.count == 48 && key.stdout.hasSuffix("\n"))
        let accountKey = try CommandRunner.callseq("keys", "create", "--store", store, "--account", id, "--label", "door")
        #expect(accountKey.status == 0 && accountKey.stdout.hasPrefix("csk_") && accountKey.stdout != key.stdout)
        let neither = try CommandRunner.callseq("keys", "create", "--store", store)
        #expect(neither.status == 64)
        #expect(neither.stderr.contains("--operator"))

        // Failures: one line each, exit 1.
        let missing = try CommandRunner.callseq("export", "acc_00000000000000000000", "--store", store)
        #expect(missing.status == 1)
        #expect(missing.stderr == "callseq: error: not found: account acc_00000000000000000000\n")
        let bad = folder.appendingPathComponent("bad.json").path
        try #"{"dids": [{"number": "5145550100", "sms": true, "route": {"sequence": "X"}}]}"#
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let invalid = try CommandRunner.callseq("import", bad, "--store", store)
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("dids[0].route"), "\(invalid.stderr)")
        #expect(invalid.stderr.contains("a sequence can only be used as an IVR option"))
    }
}
