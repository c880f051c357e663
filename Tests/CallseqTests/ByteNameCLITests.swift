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
        try CommandRunner.run("/bin/sh", ["-c", script],
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
            #""$CALLSEQ" convert "$(printf '%s/\377.wav' "$DIR")" -o "$(printf '%s/caf\351.ul' "$DIR")""#, in: directory)
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(exists(prefix + Array("caf".utf8) + [0xE9] + Array(".ul".utf8)))

        // A missing byte name: one line naming it escaped.
        let missing = try shell(#""$CALLSEQ" recording info "$(printf '%s/\376.wav' "$DIR")""#, in: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr == "callseq: error: \(directory)/\\xFE.wav: no such file\n", "\(missing.stderr)")
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
