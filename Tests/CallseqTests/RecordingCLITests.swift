import Foundation
import TestSupport
import Testing

@Suite("callseq recording info, convert, and detect at any rate")
struct RecordingCLITests {
    @Test func recordingInfoShowsFormatRateChannelsDurationAndLevels() throws {
        let result = try CommandRunner.callseq("recording", "info", testAudioPath("formats/prompt-44k-stereo.mp3"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "mpg123's notes must not reach the user: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("format: MPEG-1/2 Audio, MPEG Layer III"))
        #expect(lines.contains("sample rate: 44100 Hz"))
        #expect(lines.contains("channels: 2"))
        #expect(lines.contains { $0.hasPrefix("duration: 2.29") })
        #expect(lines.contains { $0.hasPrefix("peak: ") && $0.contains("dBm0") })
        #expect(lines.contains { $0.hasPrefix("rms: -15.") })
        #expect(lines.contains { $0.hasPrefix("active level: -14.") })
    }

    @Test func convertMakesATelephonyReadyPrompt() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("prompt.wav").path
        let result = try CommandRunner.callseq(
            "convert", testAudioPath("formats/prompt-44k-stereo.flac"), "-o", out,
            "--encoding", "ulaw", "--normalize", "-18")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("active level -18.0 dBm0"))
        #expect(try CommandRunner.tool("soxi", ["-r", out]).stdout.hasPrefix("8000"))
        #expect(try CommandRunner.tool("soxi", ["-c", out]).stdout.hasPrefix("1"))
        #expect(try CommandRunner.tool("soxi", ["-e", out]).stdout.contains("u-law"))
        let info = try CommandRunner.callseq("recording", "info", out)
        #expect(info.stdout.contains("active level: -18."))
    }

    @Test func convertRefusesBadOptions() throws {
        let input = testAudioPath("formats/prompt-8k-ulaw.wav")
        #expect(try CommandRunner.callseq("convert", input, "-o", "x.wav", "--normalize", "5").status == 64)
        #expect(try CommandRunner.callseq("convert", input, "-o", "x.wav", "--rate", "96000").status == 64)
        let damaged = try CommandRunner.callseq(
            "convert", testAudioPath("damaged/truncated.wav"), "-o", "/tmp/never.wav")
        #expect(damaged.status == 1 && damaged.stderr.contains("truncated"))
    }

    @Test(arguments: [44100, 96000, 4000])
    func detectReadsDTMFAtAnyRate(rate: Int) throws {
        let dir = try temporaryDirectory()
        let at8k = dir.appendingPathComponent("d.wav").path
        let resampled = dir.appendingPathComponent("d-\(rate).flac").path
        _ = try CommandRunner.callseq("dtmf", "2580#", "-o", at8k)
        let sox = try CommandRunner.tool("sox", ["-D", at8k, "-r", String(rate), resampled])
        #expect(sox.status == 0, "\(sox.stderr)")
        let result = try CommandRunner.callseq("detect", resampled)
        #expect(result.stdout.hasPrefix("2580#\n"), "\(result.stdout) \(result.stderr)")
    }
}
