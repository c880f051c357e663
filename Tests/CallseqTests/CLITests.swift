import Foundation
import TestSupport
import Testing

@Suite("callseq command line")
struct CLITests {
    let all16 = "1234567890*#ABCD"

    @Test(arguments: [(8000, "pcm16"), (16000, "pcm16"), (48000, "pcm16"), (8000, "ulaw"), (8000, "alaw")])
    func dtmfWritesAWavThatSoxReads(rate: Int, encoding: String) throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("x.wav").path
        let result = try CommandRunner.callseq("dtmf", all16, "-o", out, "--rate", String(rate), "--encoding", encoding)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("16 digits, 3.200 s"))
        // 16 digits x (100 ms tone + 100 ms gap) = 3.2 s.
        let samples = try CommandRunner.tool("soxi", ["-s", out])
        #expect(samples.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(rate * 32 / 10))
        #expect(
            try CommandRunner.tool("soxi", ["-r", out]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == String(rate))
        let expectedEncoding = ["pcm16": "Signed Integer PCM", "ulaw": "u-law", "alaw": "A-law"][encoding] ?? "?"
        #expect(try CommandRunner.tool("soxi", ["-e", out]).stdout.contains(expectedEncoding))
        // sox measures the level. Tones of peak 7218 (-10 dBm0) and 9087 (-8 dBm0) have an RMS of 8205;
        // each 4 ms raised-cosine edge keeps 3/8 of its energy, so a 100 ms tone counts as 95 ms, and
        // tones fill half the file: 8205 * sqrt(0.95 / 2) = 5655, or -15.26 dBFS.
        let stat = try CommandRunner.tool("sox", [out, "-n", "stats"])
        let rmsLine = stat.stderr.split(separator: "\n").first { $0.hasPrefix("RMS lev dB") }
        let rmsDb = rmsLine.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(abs(rmsDb - (-15.26)) < 0.1, "sox RMS \(rmsDb) dBFS")
    }

    @Test func detectPrintsTheDigitsThenOneLinePerDigitWithTimes() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("x.wav").path
        _ = try CommandRunner.callseq("dtmf", "159#w0", "-o", out, "--tone-ms", "150", "--gap-ms", "120")
        let result = try CommandRunner.callseq("detect", out)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "159#0")
        // Tones start every 270 ms; `w` adds 500 ms before the last one.
        let starts = [0, 270, 540, 810, 1580]
        for (i, start) in starts.enumerated() {
            let fields = lines[i + 1].split(separator: " ")
            #expect(fields.count == 3)
            #expect(abs((Int(fields[1]) ?? -999) - start) <= 3, "line \(lines[i + 1])")
            #expect(abs((Int(fields[2]) ?? -999) - (start + 150)) <= 3, "line \(lines[i + 1])")
        }
    }

    @Test func detectOnAFileWithoutDigitsPrintsAnEmptyLine() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("silence.wav")
        try Data(count: 0).write(to: out)
        // A real file of silence: one second of zeros written by sox.
        _ = try CommandRunner.tool("sox", ["-n", "-r", "8000", "-b", "16", out.path, "trim", "0", "1"])
        let result = try CommandRunner.callseq("detect", out.path)
        #expect(result.status == 0)
        #expect(result.stdout == "\n")
    }

    @Test func detectReadsHeaderlessMuLaw() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("x.ul").path
        _ = try CommandRunner.callseq("dtmf", "42", "-o", out)
        let result = try CommandRunner.callseq("detect", out)
        #expect(result.stdout.hasPrefix("42\n"))
    }

    @Test func detectJsonCarriesTimesLevelsAndFrequencies() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("x.wav").path
        _ = try CommandRunner.callseq("dtmf", "7", "-o", out, "--level", "-15", "--twist", "3")
        let result = try CommandRunner.callseq("detect", out, "--json")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["digits"] as? String == "7")
        let event = (json?["events"] as? [[String: Any]])?.first
        #expect(abs((event?["lowHz"] as? Double ?? 0) - 852) < 2)
        #expect(abs((event?["highHz"] as? Double ?? 0) - 1209) < 2)
        #expect(abs((event?["lowDbm0"] as? Double ?? 0) - -15) < 0.3)
        #expect(abs((event?["highDbm0"] as? Double ?? 0) - -12) < 0.3)
    }

    // MARK: - Errors: one line on stderr, exit 64 for usage, 1 for runtime

    func expectOneLineError(_ result: CommandResult, status: Int32, mentioning fragment: String) {
        #expect(result.status == status, "status \(result.status): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)")
    }

    @Test func aBadDigitIsAUsageErrorNamingItsPosition() throws {
        let result = try CommandRunner.callseq("dtmf", "12x4", "-o", "/tmp/never.wav")
        expectOneLineError(result, status: 64, mentioning: "'x' at position 3")
    }

    @Test func usageErrorsExitWith64() throws {
        expectOneLineError(try CommandRunner.callseq("dtmf", "1", "-o", "x.mp3"), status: 64, mentioning: ".mp3")
        expectOneLineError(
            try CommandRunner.callseq("dtmf", "1", "-o", "x.wav", "--rate", "4000"), status: 64,
            mentioning: "--rate 4000")
        expectOneLineError(
            try CommandRunner.callseq("dtmf", "1", "-o", "x.wav", "--tone-ms", "5"), status: 64,
            mentioning: "tone duration 5 ms is out of range (40...10000 ms)")
        expectOneLineError(
            try CommandRunner.callseq("dtmf", "1", "-o", "x.wav", "--level", "0", "--twist", "0"),
            status: 64, mentioning: "clip")
        expectOneLineError(
            try CommandRunner.callseq("dtmf", "1", "-o", "x.wav", "--level", "0"), status: 64,
            mentioning: "high-group level (level + twist) 2 dBm0 is out of range (-25...0 dBm0)")
        expectOneLineError(
            try CommandRunner.callseq("dtmf", "1", "-o", "x.wav", "--level", "-70"), status: 64, mentioning: "level -70"
        )
        expectOneLineError(try CommandRunner.callseq("dtmf", "1"), status: 64, mentioning: "--output")
        expectOneLineError(try CommandRunner.callseq("frobnicate"), status: 64, mentioning: "frobnicate")
    }

    @Test func unreadableFilesAreRuntimeErrorsNamingTheFile() throws {
        let dir = try temporaryDirectory()
        expectOneLineError(
            try CommandRunner.callseq("detect", dir.appendingPathComponent("nope.wav").path), status: 1,
            mentioning: "nope.wav: no such file")
        let garbage = dir.appendingPathComponent("garbage.wav")
        try Data(repeating: 0x41, count: 500).write(to: garbage)
        expectOneLineError(
            try CommandRunner.callseq("detect", garbage.path), status: 1,
            mentioning: "garbage.wav: not a readable audio file")
        let unwritable = dir.appendingPathComponent("missing-dir/x.wav").path
        expectOneLineError(
            try CommandRunner.callseq("dtmf", "1", "-o", unwritable), status: 1, mentioning: "cannot write")
    }

    @Test func helpExitsZero() throws {
        let result = try CommandRunner.callseq("dtmf", "--help")
        #expect(result.status == 0)
        #expect(result.stdout.contains("--tone-ms"))
    }
}
