import CallSequenceStore
import Foundation
import StoreConformance
import TestSupport
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
        let second = try CommandRunner.callseq(
            "export", copy.stdout.trimmingCharacters(in: .newlines), "--store", other)
        #expect(second.status == 0)
        #expect(second.stdout == first.stdout)

        // Keys: the first operator key, printed once.
        let key = try CommandRunner.callseq("keys", "create", "--store", store, "--operator")
        #expect(key.status == 0, "\(key.stderr)")
        #expect(key.stdout.hasPrefix("csk_") && key.stdout.count == 48 && key.stdout.hasSuffix("\n"))
        let accountKey = try CommandRunner.callseq(
            "keys", "create", "--store", store, "--account", id, "--label", "door")
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

    /// `callseq import` stores each recording with its telephony conversion, made by the pipeline the API's upload
    /// uses: calls and `GET .../audio` get the same 8 kHz WAV whichever way the recording came in.
    @Test func importStoresRecordingsWithTheUploadsConversion() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let recordings = folder.appendingPathComponent("recordings")
        try FileManager.default.createDirectory(at: recordings, withIntermediateDirectories: true)
        let mp3 = try Data(contentsOf: URL(fileURLWithPath: testAudioPath("formats/prompt-44k-stereo.mp3")))
        try mp3.write(to: recordings.appendingPathComponent("welcome.mp3"))
        let file = folder.appendingPathComponent("gate.json").path
        try """
        { "capabilities": { "sequences": true, "sms": false, "smsDailyLimit": 0 }, "recordings": "recordings",
          "dids": [ { "number": "5145550100", "sms": false, "route": { "ivr": "Lobby" } } ],
          "ivrs": [ { "name": "Lobby", "prompt": "welcome", "options": { "1": { "sequence": "Gate" } } } ],
          "sequences": [ { "name": "Gate", "steps": [ { "type": "recording", "recording": "welcome" } ] } ] }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let path = folder.appendingPathComponent("store.sqlite3").path
        let imported = try CommandRunner.callseq("import", file, "--store", path)
        #expect(imported.status == 0, "\(imported.stderr)")
        let id = imported.stdout.trimmingCharacters(in: .newlines)

        let store = try await SQLiteStore.open(path: path)
        let info = try await store.recording("welcome", account: id)
        #expect(info.contentType == "audio/mpeg")
        #expect(info.originalBytes == mp3.count)
        let converted = try await store.recordingAudio("welcome", account: id, variant: .converted)
        // The upload's pipeline, byte for byte: what `PUT .../recordings/welcome` stores for these bytes.
        let upload = try RecordingConversion.convert(Array(mp3), name: "welcome")
        #expect(converted == upload.wav)
        #expect(info.convertedBytes == converted.count && info.durationMs == upload.durationMs)
        #expect(info.metadata == CanonicalJSON.text(upload.metadata))
        // A WAV a telephone plays: RIFF, PCM (1), mono, 8000 Hz, 16 bits, about as long as the source (2 s).
        func u16(_ at: Int) -> Int { Int(converted[at]) | Int(converted[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        #expect(
            converted.count > 44 && Array(converted[0..<4]) == Array("RIFF".utf8)
                && Array(converted[8..<12]) == Array("WAVE".utf8))
        #expect(u16(20) == 1 && u16(22) == 1 && u32(24) == 8000 && u16(34) == 16)
        #expect(info.durationMs > 500 && u32(40) == (converted.count - 44), "\(info.durationMs) ms")

        // A recording the decoder cannot read: the import fails naming it, and no account is added.
        try Data("RIFF....WAVEnot really".utf8).write(to: recordings.appendingPathComponent("broken.wav"))
        let other = folder.appendingPathComponent("other.sqlite3").path
        let refused = try CommandRunner.callseq("import", file, "--store", other)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("broken"), "\(refused.stderr)")
        let empty = try await SQLiteStore.open(path: other)
        #expect(try await empty.accounts(parent: nil, page: .first).items.isEmpty)
    }
}
