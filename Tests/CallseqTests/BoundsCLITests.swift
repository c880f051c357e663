import Foundation
import Testing

@Suite("callseq: hostile arguments and files are refused with one line")
struct BoundsCLITests {
    @Test func aHundredThousandDigitsAreRefusedWithOneLine() throws {
        let directory = try temporaryDirectory()
        let out = directory.appendingPathComponent("x.wav").path
        let result = try CommandRunner.callseq("dtmf", String(repeating: "1", count: 100_000), "-o", out)
        #expect(result.status == 64)
        #expect(result.stderr == "callseq: error: DIGITS has 100000 characters; at most 100\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aGapUnderTheQ24MinimumIsRefusedWithTheReason() throws {
        let directory = try temporaryDirectory()
        let result = try CommandRunner.callseq(
            "dtmf", "11", "--gap-ms", "0", "-o", directory.appendingPathComponent("x.wav").path)
        #expect(result.status == 64)
        #expect(
            result.stderr.contains("gap duration 0 ms is out of range (40...10000 ms): a Q.24 receiver needs a pause"))
    }

    @Test func theTwentySevenHourSequenceIsRefusedWithOneLine() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("TestAudio/sequences/too-long-27h.json").path
        for command in ["validate", "timeline"] {
            let result = try CommandRunner.callseq(command, file)
            #expect(result.status == 1)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("steps: the DTMF steps last 27.8 h; at most 10 min 0 s"))
        }
    }

    @Test func aHugeHeaderlessRateIsRefusedNotATrap() throws {
        let directory = try temporaryDirectory()
        let raw = directory.appendingPathComponent("x.raw")
        try Data([0, 1, 2, 3]).write(to: raw)
        let result = try CommandRunner.callseq("recording", "info", raw.path, "--rate", "3000000000")
        #expect(result.status == 1)
        #expect(result.stderr == "callseq: error: \(raw.path): sample rate 3000000000 Hz is outside 4000...192000 Hz\n")
    }

    @Test func validateDecodesEveryRecordingOfAnAccountPromptsToo() throws {
        let directory = try temporaryDirectory()
        let recordings = directory.appendingPathComponent("recordings")
        try FileManager.default.createDirectory(at: recordings, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })
            .write(to: recordings.appendingPathComponent("noise.wav"))
        let account = directory.appendingPathComponent("account.json")
        try Data(
            #"""
            { "recordings": "recordings", "dids": [ { "number": "5145550100", "route": { "ivr": "L" } } ],
              "ivrs": [ { "name": "L", "prompt": "noise", "options": { "1": { "hangup": true } } } ] }
            """#.utf8
        ).write(to: account)
        let result = try CommandRunner.callseq("validate", account.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("callseq: error: \(account.path): ivrs[0].prompt: "), "\(result.stderr)")
        #expect(result.stderr.contains("noise.wav: not a readable audio file"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func validateRecordingsReplacesTheAccountsFolder() throws {
        let directory = try temporaryDirectory()
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let examples = repository.appendingPathComponent("Examples/recordings").path
        let account = directory.appendingPathComponent("account.json")
        try Data(
            #"""
            { "dids": [ { "number": "5145550100", "route": { "ivr": "L" } } ],
              "ivrs": [ { "name": "L", "prompt": "welcome", "options": { "1": { "hangup": true } } } ] }
            """#.utf8
        ).write(to: account)
        // The account names no folder: "welcome" is missing, unless --recordings supplies it.
        let alone = try CommandRunner.callseq("validate", account.path)
        #expect(alone.status == 1)
        #expect(alone.stderr.contains("ivrs[0].prompt: no recording named 'welcome'"), "\(alone.stderr)")
        let given = try CommandRunner.callseq("validate", account.path, "--recordings", examples)
        #expect(given.status == 0, "\(given.stderr)")
        #expect(given.stdout == "\(account.path): valid account, 1 numbers, 1 IVRs, 0 sequences\n")
        // And an empty folder given with --recordings is the one checked, not the example's.
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let emptied = try CommandRunner.callseq(
            "validate", repository.appendingPathComponent("Examples/account.json").path,
            "--recordings", empty.path)
        #expect(emptied.status == 1)
        #expect(emptied.stderr.contains("no recording named 'lobby-greeting'"), "\(emptied.stderr)")
    }

    @Test func theLibrarysFolderMessagesNameTheOptions() throws {
        let directory = try temporaryDirectory()
        for folder in ["a", "elsewhere"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(folder),
                withIntermediateDirectories: true)
        }
        let account = directory.appendingPathComponent("a/account.json")
        try Data(
            #"""
            { "recordings": "../elsewhere",
              "dids": [ { "number": "5145550100", "route": { "ivr": "L" } } ],
              "ivrs": [ { "name": "L", "options": { "1": { "hangup": true } } } ] }
            """#.utf8
        ).write(to: account)
        let outside = try CommandRunner.callseq("validate", account.path)
        #expect(outside.status == 1)
        #expect(
            outside.stderr.contains("an operator may allow a wider folder with --recordings-root"), "\(outside.stderr)")
        let missing = try CommandRunner.callseq(
            "validate", account.path, "--recordings",
            directory.appendingPathComponent("none").path)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(account.path): --recordings: "), "\(missing.stderr)")
        #expect(!missing.stderr.contains("the operator's recordings folder"), "\(missing.stderr)")
    }

    @Test func anInterruptedRenderLeavesNoPartialFile() throws {
        // A 10-minute sequence (the cap) at 48 kHz: 57.6 MB of WAV, interrupted while it is written.
        let directory = try temporaryDirectory()
        let sequence = directory.appendingPathComponent("long.json")
        let step =
            #"{ "type": "dtmf", "digits": "\#(String(repeating: "5", count: 100))", "toneMs": 1500, "gapMs": 1500 }"#
        try Data(#"{ "name": "long", "steps": [ \#(step), \#(step) ] }"#.utf8).write(to: sequence)
        let out = directory.appendingPathComponent("long.wav").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.callseqPath)
        process.arguments = ["render", sequence.path, "-o", out, "--rate", "48000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var sawPartial = false
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            if names.contains(where: { $0.contains(".partial-") }) {
                sawPartial = true
                kill(process.processIdentifier, SIGINT)
                break
            }
            usleep(500)
        }
        process.waitUntilExit()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!names.contains { $0.contains(".partial-") }, "\(names)")
        if sawPartial {
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
            #expect(!names.contains("long.wav"))
        }
    }
}
