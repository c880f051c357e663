import FileSupport
import Foundation
import Glibc
import Recordings
import Testing

/// File names are bytes: a name that is not UTF-8 is read, written and reported as given (escaped as \xFF).
@Suite("File names that are not UTF-8")
struct ByteNameCLITests {
    /// Whether a regular file exists under exactly these name bytes.
    func exists(_ bytes: [UInt8]) -> Bool {
        var info = stat()
        return (bytes.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { stat($0.baseAddress!, &info) } == 0
            && info.st_mode & S_IFMT == S_IFREG
    }

    /// Runs a shell script in which `printf` makes the byte names, with $CALLSEQ and $DIR set.
    func shell(_ script: String, in directory: String) throws -> CommandResult {
        try CommandRunner.run(
            "/bin/sh", ["-c", script],
            environment: ["CALLSEQ": CommandRunner.callseqPath, "DIR": directory])
    }

    @Test func aLatin1NameIsWrittenReadConvertedAndReportedAsGiven() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bytes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let prefix = Array(directory.utf8) + [UInt8(ascii: "/")]

        // Written: the output name is the bytes given (0xFF), not U+FFFD.
        let written = try shell(#"set -e; "$CALLSEQ" dtmf 123 -o "$(printf '%s/\377.wav' "$DIR")""#, in: directory)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(exists(prefix + [0xFF] + Array(".wav".utf8)))
        #expect(!exists(prefix + Array("\u{FFFD}.wav".utf8)))

        // Read, and reported escaped.
        let info = try shell(#""$CALLSEQ" recording info "$(printf '%s/\377.wav' "$DIR")""#, in: directory)
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("file: \(directory)/\\xFF.wav\n"), "\(info.stdout)")
        #expect(info.stdout.contains("duration: 0.600 s"), "\(info.stdout)")

        // Converted from one byte name to another (Latin-1 "café.ul": 0xE9).
        let converted = try shell(
            #""$CALLSEQ" convert "$(printf '%s/\377.wav' "$DIR")" -o "$(printf '%s/caf\351.ul' "$DIR")""#, in: directory
        )
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(exists(prefix + Array("caf".utf8) + [0xE9] + Array(".ul".utf8)))

        // A missing byte name: one line naming it escaped.
        let missing = try shell(#""$CALLSEQ" recording info "$(printf '%s/\376.wav' "$DIR")""#, in: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr == "callseq: error: \(directory)/\\xFE.wav: no such file\n", "\(missing.stderr)")
    }

    @Test func aFolderWithALatin1NameIsConvertedFileByFileAsGiven() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bytes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let prefix = Array(directory.utf8) + [UInt8(ascii: "/")]

        // The folder "\xE9dir" holds "\xFF.wav" (0.6 s of DTMF) and "\xFE.wav", which is not audio.
        let made = try shell(
            #"""
            set -e; in="$(printf '%s/\351dir' "$DIR")"; mkdir "$in"
            "$CALLSEQ" dtmf 123 -o "$(printf '%s/\377.wav' "$in")"; echo "not audio" > "$(printf '%s/\376.wav' "$in")"
            """#, in: directory)
        #expect(made.status == 0, "\(made.stderr)")
        let converted = try shell(
            #""$CALLSEQ" convert "$(printf '%s/\351dir' "$DIR")" -o "$(printf '%s/out\351' "$DIR")" --extension ul"#,
            in: directory)
        // Exit 1 for the file that is not audio; the other is converted, under exactly the bytes given.
        #expect(converted.status == 1, "\(converted.stderr)")
        let output = prefix + Array("out".utf8) + [0xE9, UInt8(ascii: "/"), 0xFF] + Array(".ul".utf8)
        #expect(exists(output))
        #expect(!exists(prefix + Array("out\u{FFFD}/\u{FFFD}.ul".utf8)))
        // Reported escaped: the summary line on stdout, the failure and the count on stderr.
        let summary = "\(directory)/out\\xE9/\\xFF.ul: 0.600 s, 8000 Hz, ulaw raw, from 8000 Hz 1 ch"
        #expect(converted.stdout.hasPrefix(summary), "\(converted.stdout)")
        let errors = converted.stderr.split(separator: "\n").map(String.init)
        #expect(errors.count == 2, "\(converted.stderr)")
        #expect(
            errors.first?.hasPrefix("callseq: error: \(directory)/\\xE9dir/\\xFE.wav: ") == true,
            "\(converted.stderr)")
        #expect(errors.last == "callseq: error: 1 of 2 recordings not converted: \\xFE.wav", "\(converted.stderr)")

        // It decodes: 0.6 s of 8 kHz mu-law is 4800 bytes, and the receiver hears the digits.
        var info = stat()
        let size = (output.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { stat($0.baseAddress!, &info) }
        #expect(size == 0 && info.st_size == 4800, "\(info.st_size) bytes")
        let read = try shell(#""$CALLSEQ" recording info "$(printf '%s/out\351/\377.ul' "$DIR")""#, in: directory)
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("file: \(directory)/out\\xE9/\\xFF.ul\n"), "\(read.stdout)")
        #expect(read.stdout.contains("duration: 0.600 s (4800 samples)"), "\(read.stdout)")
        let detected = try shell(#""$CALLSEQ" detect "$(printf '%s/out\351/\377.ul' "$DIR")""#, in: directory)
        #expect(detected.status == 0 && detected.stdout.hasPrefix("123\n"), "\(detected.stdout) \(detected.stderr)")
    }

    @Test func pathBytesRoundTripEveryByteSequence() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 1...255, using: &generator) }
            #expect(PathBytes.bytes(PathBytes.string(bytes)) == bytes)
        }
        // Valid UTF-8 stays text; a name that already holds an escape scalar (U+10FFFF, F4 8F BF BF) keeps its
        // bytes too.
        #expect(PathBytes.string(Array("café.wav".utf8)) == "café.wav")
        let escapeLike: [UInt8] = [0xF4, 0x8F, 0xBF, 0xBF]
        #expect(PathBytes.bytes(PathBytes.string(escapeLike)) == escapeLike)
        #expect(PathBytes.display(PathBytes.string([0x61, 0xFF, 0x1B])) == "a\\xFF\\u{1B}")
    }
}
