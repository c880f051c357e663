import Foundation
import TestSupport
import Testing

/// Runs `command` (a shell command line) under `script`, on a pseudo-terminal, and returns what the terminal
/// showed (stdout and stderr together, as bytes turned to text) and the exit status.
private func onTerminal(_ command: String) throws -> (status: Int32, output: String) {
    let result = try CommandRunner.run("/usr/bin/script", ["-qec", command, "/dev/null"])
    return (result.status, result.stdout)
}

/// A shell word: `text` in single quotes.
private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// A folder with four recordings (three good, one truncated), a text file, a hidden file and a subfolder.
private func mixedFolder() throws -> URL {
    let dir = try temporaryDirectory().appendingPathComponent("uploads")
    let manager = FileManager.default
    try manager.createDirectory(at: dir.appendingPathComponent("old.wav"), withIntermediateDirectories: true)
    for (source, name) in [
        ("formats/prompt-44k-stereo.mp3", "welcome.mp3"), ("formats/prompt-8k-ulaw.wav", "hold.wav"),
        ("formats/prompt-16k.caf", "closed.caf"), ("damaged/truncated.wav", "broken.wav"),
        ("formats/prompt-8k-alaw.wav", ".hidden.wav"),
    ] {
        try manager.copyItem(atPath: testAudioPath(source), toPath: dir.appendingPathComponent(name).path)
    }
    try Data("not audio".utf8).write(to: dir.appendingPathComponent("notes.txt"))
    return dir
}

@Suite("callseq convert DIR -o OUTDIR, and progress on a terminal only")
struct ConvertFolderTests {
    @Test func convertsEveryRecordingAndNamesTheBadOneWithoutStopping() throws {
        let input = try mixedFolder()
        let output = input.deletingLastPathComponent().appendingPathComponent("prompts/ulaw").path
        let result = try CommandRunner.callseq("convert", input.path, "-o", output, "--encoding", "ulaw")
        // Exit 1 because one failed; the three others are converted all the same.
        #expect(result.status == 1, "\(result.stderr)")
        let made = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        #expect(made == ["closed.wav", "hold.wav", "welcome.wav"])
        for name in made {
            let path = (output as NSString).appendingPathComponent(name)
            #expect(try CommandRunner.tool("soxi", ["-r", path]).stdout.hasPrefix("8000"))
            #expect(try CommandRunner.tool("soxi", ["-e", path]).stdout.contains("u-law"))
            let info = try CommandRunner.callseq("recording", "info", path)
            #expect(info.stdout.contains("duration: 2.2"), "\(name): \(info.stdout)")
        }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains(", 8000 Hz, ulaw wav, from ") }, "\(result.stdout)")
        // stderr (a pipe here): exactly the two error lines, no progress bytes.
        let errors = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(errors.count == 3 && errors[2].isEmpty, "\(result.stderr)")
        #expect(
            errors[0].hasPrefix("callseq: error: \(input.path)/broken.wav") && errors[0].contains("truncated"),
            "\(result.stderr)")
        #expect(errors[1] == "callseq: error: 1 of 4 recordings not converted: broken.wav")
        #expect(!result.stderr.contains("\r") && !result.stderr.contains("converting"))
    }

    @Test func aCleanFolderExitsZeroWithNothingOnStderr() throws {
        let input = try temporaryDirectory()
        for name in ["a.flac", "b.ogg"] {
            let source = name == "a.flac" ? "formats/prompt-44k-stereo.flac" : "formats/prompt-44k.ogg"
            try FileManager.default.copyItem(
                atPath: testAudioPath(source),
                toPath: input.appendingPathComponent(name).path)
        }
        let output = input.appendingPathComponent("out").path
        let result = try CommandRunner.callseq(
            "convert", input.path, "-o", output,
            "--extension", "al", "--rate", "16000")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.utf8.count == 0,
            "stderr is not a terminal: no bytes at all, got \(Array(result.stderr.utf8))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted() == ["a.al", "b.al"])
        // Headerless A-law at 16 kHz: one byte per sample, about 2.3 s.
        let size = try FileManager.default.attributesOfItem(atPath: output + "/a.al")[.size] as? Int ?? 0
        #expect((34_000...40_000).contains(size), "\(size) bytes")
    }

    @Test func folderMistakesAreRefused() throws {
        let input = try mixedFolder()
        let empty = try temporaryDirectory()
        let none = try CommandRunner.callseq("convert", empty.path, "-o", empty.path + "/out")
        #expect(none.status == 1 && none.stderr.contains("no recordings"), "\(none.stderr)")
        let same = try CommandRunner.callseq("convert", input.path, "-o", input.path)
        #expect(same.status == 1 && same.stderr.contains("is the input folder"), "\(same.stderr)")
        let badExtension = try CommandRunner.callseq("convert", input.path, "-o", "/tmp/x", "--extension", "mp3")
        #expect(badExtension.status == 64, "\(badExtension.stderr)")
    }

    @Test func progressOnATerminalOnly() throws {
        let input = try mixedFolder()
        let callseq = quoted(CommandRunner.callseqPath)
        let output = input.deletingLastPathComponent().appendingPathComponent("tty-out").path
        // stdout and stderr on the terminal: the progress line is drawn (and erased with ESC [K).
        let tty = try onTerminal("\(callseq) convert \(quoted(input.path)) -o \(quoted(output))")
        #expect(tty.status == 1, "\(tty.output)")
        #expect(tty.output.contains("\rconverting 0/4 (0%) broken.wav"), "\(tty.output.debugDescription)")
        #expect(tty.output.contains("\rconverting 3/4 (75%) welcome.mp3"))
        #expect(tty.output.contains("\rconverting 4/4 (100%)"))
        #expect(tty.output.contains("\r\u{1B}[K"))
        // The same with stderr sent to a file: stdout is still a terminal, stderr is not, so no progress.
        let errors = input.deletingLastPathComponent().appendingPathComponent("stderr.txt").path
        let piped = try onTerminal("\(callseq) convert \(quoted(input.path)) -o \(quoted(output)) 2>\(quoted(errors))")
        #expect(piped.status == 1)
        let stderr = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(
            stderr.split(separator: "\n").count == 2 && !stderr.contains("\r") && !stderr.contains("converting"),
            "\(stderr.debugDescription)")
        #expect(!piped.output.contains("converting") && piped.output.contains("hold.wav: "))
    }

    @Test func detectShowsProgressOverLongAudioOnATerminalOnly() throws {
        let dir = try temporaryDirectory()
        let tones = dir.appendingPathComponent("tones.wav").path
        let long = dir.appendingPathComponent("long.wav").path
        #expect(try CommandRunner.callseq("dtmf", "147", "-o", tones).status == 0)
        // 150 s of silence after the digits: three blocks of 60 s for the receiver.
        #expect(try CommandRunner.tool("sox", [tones, long, "pad", "0", "150"]).status == 0)
        let plain = try CommandRunner.callseq("detect", long)
        #expect(plain.status == 0 && plain.stdout.hasPrefix("147\n"))
        #expect(plain.stderr.utf8.count == 0, "\(plain.stderr.debugDescription)")
        let tty = try onTerminal("\(quoted(CommandRunner.callseqPath)) detect \(quoted(long))")
        #expect(tty.status == 0)
        #expect(tty.output.contains("\rdetecting 60/150 s (40%) 3 digits"), "\(tty.output.debugDescription)")
        #expect(tty.output.contains("\rdetecting 150/150 s (100%) 3 digits"))
        #expect(tty.output.contains("147"))
    }

    @Test func serveShowsAccountLoadingOnATerminalOnly() throws {
        let dir = try temporaryDirectory()
        let account = testAudioPath("../Examples/account.json")
        let callseq = quoted(CommandRunner.callseqPath)
        let errors = dir.appendingPathComponent("stderr.txt").path
        let serve = "\(callseq) serve --account \(quoted(account)) --listen 127.0.0.1:0 --rtp-ports 41000-41100"
        // SIGTERM after 2 s: the server stops cleanly (exit 0).
        let tty = try onTerminal("timeout -s TERM 2 \(serve)")
        #expect(tty.output.contains("\rloading accounts 0/1 (0%) "), "\(tty.output.debugDescription)")
        #expect(tty.output.contains("\rloading accounts 1/1 (100%)"))
        #expect(tty.output.contains("listening on udp 127.0.0.1:"))
        let piped = try onTerminal("timeout -s TERM 2 \(serve) 2>\(quoted(errors))")
        #expect(piped.output.contains("listening on udp 127.0.0.1:"))
        let stderr = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(!stderr.contains("loading accounts") && !stderr.contains("\r"), "\(stderr.debugDescription)")
        #expect(stderr.contains("serving "), "the logs are still there: \(stderr)")
    }
}
