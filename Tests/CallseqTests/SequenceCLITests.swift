import Foundation
import TestSupport
import Testing

@Suite("callseq render, timeline, validate, verify, demo")
struct SequenceCLITests {
    let frontDoor = testAudioPath("../Examples/front-door.json")
    let gate = testAudioPath("../Examples/gate.json")

    @Test func renderPlaysTheSequenceAndOnlyPretendsToSendTheSMS() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("door.wav").path
        let result = try CommandRunner.callseq("render", frontDoor, "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.contains(
                "5.987 s: would send SMS from 5145550100 to 5145550199: \"Front door opened\" (dry run)"))
        #expect(try CommandRunner.tool("soxi", ["-s", out]).stdout.hasPrefix("47898"))  // 4.737 s + 5 x 250 ms at 8 kHz
        #expect(try CommandRunner.callseq("detect", out).stdout.hasPrefix("9876#\n"))
    }

    @Test(arguments: ["ulaw", "alaw"])
    func renderWritesG711AsTheCallCarriesIt(encoding: String) throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("door.wav").path
        let result = try CommandRunner.callseq("render", frontDoor, "-o", out, "--encoding", encoding, "--rate", "8000")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            try CommandRunner.tool("soxi", ["-e", out]).stdout.lowercased().contains(
                encoding == "ulaw" ? "u-law" : "a-law"))
        #expect(try CommandRunner.callseq("verify", frontDoor, out).status == 0)
    }

    @Test func rfc4733RenderIsSilentDuringDigitsAndCountsPackets() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("door.wav").path
        let result = try CommandRunner.callseq("render", frontDoor, "-o", out, "--dtmf-mode", "rfc4733")
        // The prompt ends at sample 37898, 138 samples into a 20 ms frame, and digits follow every 2000
        // samples: they start 138 or 58 samples into a frame, so a 1200-sample tone gets 9 or 8 updates,
        // the last one sent 3 times: 3 x 11 + 2 x 10 = 53 packets.
        #expect(result.stdout.contains("rfc4733: 53 telephone-event packets for 5 digits"))
        #expect(try CommandRunner.callseq("detect", out).stdout == "\n")
        let verify = try CommandRunner.callseq("verify", frontDoor, out)
        #expect(verify.status == 1 && verify.stdout.contains("FAIL: expected digits \"9876#\", found \"\""))
    }

    @Test func timelineListsStepsAndDigitsWithExactTimes() throws {
        let result = try CommandRunner.callseq("timeline", gate)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "\"Parking gate\": 4 steps, 5.621 s, 8000 Hz pcm16, dtmf inband")
        #expect(lines.contains { $0.hasPrefix("1      0.000      2.121      recording \"default\"") })
        #expect(lines.contains { $0.hasPrefix("  2.1  2.121      2.371      digit * (941 + 1209 Hz)") })
        // `w` adds 0.5 s after the gap that follows "1".
        #expect(lines.contains { $0.hasPrefix("  2.3  3.421      3.671      digit 2") })
        #expect(lines.contains { $0.hasPrefix("3      5.421      5.421      recording \"none\"") })
        #expect(lines.contains { $0.hasPrefix("  4.1  5.421      5.521      digit A (697 + 1633 Hz)") })
    }

    @Test func validateExitsZeroForAGoodFileAndListsEveryProblemOfABadOne() throws {
        let good = try CommandRunner.callseq("validate", frontDoor)
        #expect(good.status == 0 && good.stdout.contains("valid sequence \"Front door\", 3 steps"))
        let bad = try CommandRunner.callseq("validate", testAudioPath("sequences/several-problems.json"))
        #expect(bad.status == 1)
        let lines = bad.stderr.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(
            lines[1].hasSuffix(
                "several-problems.json: steps[0].digits: 'z' at position 2 is not a DTMF digit (allowed: 0-9 * # A-D, w, W)"
            ))
        let unknown = try CommandRunner.callseq(
            "validate", testAudioPath("sequences/unknown-recording.json"),
            "--recordings", testAudioPath("../Examples/recordings"))
        #expect(unknown.status == 1 && unknown.stderr.contains("steps[0].recording: no recording named 'welcom'"))
    }

    @Test func verifyFailsAudioOfAnotherSequence() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("gate.wav").path
        _ = try CommandRunner.callseq("render", gate, "-o", out)
        let pass = try CommandRunner.callseq("verify", gate, out)
        #expect(pass.status == 0 && pass.stdout.contains("PASS: 8 digits in order"))
        let fail = try CommandRunner.callseq("verify", frontDoor, out)
        #expect(fail.status == 1 && fail.stdout.contains("FAIL"))
    }

    @Test func verifyAllowsADelayedCaptureButNotWrongTiming() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("door.wav").path
        let delayed = dir.appendingPathComponent("delayed.wav").path
        let stretched = dir.appendingPathComponent("stretched.wav").path
        _ = try CommandRunner.callseq("render", frontDoor, "-o", out)
        _ = try CommandRunner.tool("sox", ["-D", out, delayed, "pad", "0.73"])
        _ = try CommandRunner.tool("sox", ["-D", out, stretched, "tempo", "-s", "0.9"])
        let late = try CommandRunner.callseq("verify", frontDoor, delayed)
        #expect(late.status == 0 && late.stdout.contains("audio offset 73"), "\(late.stdout)")
        let slow = try CommandRunner.callseq("verify", frontDoor, stretched)
        #expect(slow.status == 1, "\(slow.stdout)")
    }

    @Test func demoRendersAndVerifiesTheExample() throws {
        let dir = try temporaryDirectory()
        let result = try CommandRunner.callseq(
            "demo", "--examples", testAudioPath("../Examples"), "-o", dir.appendingPathComponent("d.wav").path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("PASS: 5 digits in order"))
    }

    @Test func aMissingSequenceFileIsOneLine() throws {
        let result = try CommandRunner.callseq("timeline", "/nonexistent/seq.json")
        #expect(result.status == 1 && result.stderr == "callseq: error: /nonexistent/seq.json: no such file\n")
    }
}
