import CPNG
import Foundation
import TestSupport
import Testing

/// A PNG decoded back to RGB by libpng, and the axes `callseq plot` reported for it.
struct DecodedPicture {
    var width: Int, height: Int
    var rgb: [UInt8]
    // From the summary line: time 0...duration over x left...right; frequency top...0 Hz over y top...bottom.
    var duration: Double, left: Int, right: Int
    var maximumFrequency: Double, top: Int, bottom: Int

    /// Reads `path` with libpng's simplified API and the geometry from `summary` (the command's first line).
    init(path: String, summary: String) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeMutableBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw PictureError("libpng cannot read \(path)") }
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR)  // PNG_FORMAT_RGB
        let (w, h) = (Int(image.width), Int(image.height))
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(w * 3), nil)
        }
        (width, height, rgb) = (w, h, pixels)
        guard finished != 0 else { throw PictureError("libpng cannot decode \(path)") }
        let numbers = summary.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        // "P: WxH PNG; time 0 to D s at x L to R; spectrogram F to 0 Hz at y T to B"
        guard numbers.count >= 8 else { throw PictureError("no axes in the summary: \(summary)") }
        let tail = Array(numbers.suffix(8))
        (duration, left, right) = (tail[1], Int(tail[2]), Int(tail[3]))
        (maximumFrequency, top, bottom) = (tail[4], Int(tail[6]), Int(tail[7]))
    }

    /// Whether the pixel column at `seconds`, above the spectrogram, holds the colour `rgb` anywhere.
    func laneColumn(at seconds: Double, contains color: (UInt8, UInt8, UInt8)) -> Bool {
        let x = left + Int(seconds / duration * Double(right - left))
        return (0..<top).contains { y in
            let i = (y * width + x) * 3
            return (rgb[i], rgb[i + 1], rgb[i + 2]) == color
        }
    }

    /// Mean brightness (0...255) of the spectrogram pixels at `frequency` over `seconds`.
    func brightness(frequency: Double, seconds: ClosedRange<Double>) -> Double {
        let y = top + Int(((1 - frequency / maximumFrequency) * Double(bottom - top)).rounded(.down))
        let x0 = left + Int(seconds.lowerBound / duration * Double(right - left))
        let x1 = left + Int(seconds.upperBound / duration * Double(right - left))
        var total = 0.0
        for x in x0...x1 {
            let i = (y * width + x) * 3
            total += 0.299 * Double(rgb[i]) + 0.587 * Double(rgb[i + 1]) + 0.114 * Double(rgb[i + 2])
        }
        return total / Double(x1 - x0 + 1)
    }
}

struct PictureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite("callseq plot and verify --plot")
struct PlotCLITests {
    let frontDoor = testAudioPath("../Examples/front-door.json")
    let capture = testAudioPath("captures/door-9876-near-misses.wav")

    /// The PNG signature and the IHDR chunk's width and height (ISO/IEC 15948 §5.2, §11.2.2).
    func header(_ path: String) throws -> (width: Int, height: Int) {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.count > 33)
        #expect(Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(bytes[12..<16]) == Array("IHDR".utf8))
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// The start and end (seconds) of the scheduled digits, from `callseq timeline`.
    func scheduledDigits(_ file: String) throws -> [(Character, Double, Double)] {
        let lines = try CommandRunner.callseq("timeline", file).stdout.split(separator: "\n")
        return lines.compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 5, fields[3] == "digit", let d = fields[4].first,
                let start = Double(fields[1]), let end = Double(fields[2])
            else { return nil }
            return (d, start, end)
        }
    }

    @Test func sequencePlotShowsTheNineOf9876PoundInItsTwoRows() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("door.png").path
        let result = try CommandRunner.callseq("plot", frontDoor, "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        let size = try header(out)
        #expect(size.width == 1600)
        let picture = try DecodedPicture(path: out, summary: result.stdout)
        #expect(picture.width == 1600 && picture.height == size.height)
        #expect(picture.maximumFrequency == 4000)

        let digits = try scheduledDigits(frontDoor)
        #expect(String(digits.map(\.0)) == "9876#")
        try #require(digits.count == 5)
        let nine = (digits[0].1 + 0.03)...(digits[0].2 - 0.03)  // inside the tone, clear of its edges
        let gap = (digits[0].2 + 0.04)...(digits[1].1 - 0.04)  // between 9 and 8
        let eight = (digits[1].1 + 0.03)...(digits[1].2 - 0.03)  // 852 + 1336 Hz: no 1477
        let hash = (digits[4].1 + 0.03)...(digits[4].2 - 0.03)  // 941 + 1477 Hz: no 852
        let after = (digits[4].2 + 0.04)...(picture.duration - 0.01)  // the SMS step: silence
        for frequency in [852.0, 1477] {
            let bright = picture.brightness(frequency: frequency, seconds: nine)
            #expect(bright > 200, "\(frequency) Hz during the 9: \(bright)")
            #expect(picture.brightness(frequency: frequency, seconds: gap) < 40, "\(frequency) Hz between 9 and 8")
            #expect(picture.brightness(frequency: frequency, seconds: after) < 40, "\(frequency) Hz after the digits")
        }
        #expect(picture.brightness(frequency: 1477, seconds: eight) < 90, "1477 Hz during the 8")
        #expect(picture.brightness(frequency: 852, seconds: hash) < 90, "852 Hz during the #")
        #expect(picture.brightness(frequency: 1336, seconds: eight) > 200, "1336 Hz during the 8")
    }

    @Test func capturePlotNamesWhatWasFoundAndWhatWasRefused() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("capture.png").path
        let result = try CommandRunner.callseq("plot", capture, "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        #expect(lines[1].hasPrefix("found \"9876#\"; refused 3: 5 at "), "\(lines[1])")
        #expect(lines[1].contains("too short ("))
        #expect(lines[1].contains("2 at ") && lines[1].contains("twist -14"))
        #expect(lines[1].contains("3 at ") && lines[1].contains("frequency off by 3.5 %"))
        #expect(try header(out).width == 1600)
        let picture = try DecodedPicture(path: out, summary: lines[0])
        // The capture's 9 as our receiver timed it.
        let detected = try CommandRunner.callseq("detect", capture).stdout.split(separator: "\n")
        let nine = try #require(detected.dropFirst().first?.split(separator: " ").dropFirst().compactMap { Double($0) })
        try #require(nine.count == 2)
        let during = (nine[0] / 1000 + 0.03)...(nine[1] / 1000 - 0.03)
        // The refused twisted '2' (2.47-2.62 s) is drawn in the refusal colour, the found '9' is not.
        let refusedRed: (UInt8, UInt8, UInt8) = (215, 50, 40)
        let foundTeal: (UInt8, UInt8, UInt8) = (0, 150, 160)
        #expect(picture.laneColumn(at: 2.55, contains: refusedRed))
        #expect(!picture.laneColumn(at: 2.55, contains: foundTeal))
        #expect(picture.laneColumn(at: (nine[0] + nine[1]) / 2000, contains: foundTeal))
        #expect(!picture.laneColumn(at: (nine[0] + nine[1]) / 2000, contains: refusedRed))
        for frequency in [852.0, 1477] {
            #expect(picture.brightness(frequency: frequency, seconds: during) > 200, "\(frequency) Hz during the 9")
            #expect(picture.brightness(frequency: frequency, seconds: 0.05...0.3) < 40, "\(frequency) Hz before it")
        }
    }

    @Test func theSameInputGivesTheSameBytesAndWidthIsAnOption() throws {
        let dir = try temporaryDirectory()
        let a = dir.appendingPathComponent("a.png").path
        let b = dir.appendingPathComponent("b.png").path
        #expect(try CommandRunner.callseq("plot", frontDoor, "-o", a).status == 0)
        #expect(try CommandRunner.callseq("plot", frontDoor, "-o", b).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
        let narrow = dir.appendingPathComponent("narrow.png").path
        #expect(try CommandRunner.callseq("plot", capture, "-o", narrow, "--width", "800").status == 0)
        #expect(try header(narrow).width == 800)
    }

    @Test func verifyPlotsTheExpectedTimelineAgainstTheFoundOne() throws {
        let dir = try temporaryDirectory()
        let wav = dir.appendingPathComponent("door.wav").path
        let out = dir.appendingPathComponent("verify.png").path
        #expect(try CommandRunner.callseq("render", frontDoor, "-o", wav).status == 0)
        let result = try CommandRunner.callseq("verify", frontDoor, wav, "--plot", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(out): 1600x"))
        #expect(result.stdout.contains("found \"9876#\"; refused 0"))
        #expect(try header(out).width == 1600)
        // The expected lane, the one thing --plot adds to `plot`: each scheduled digit (the audio's offset is
        // 1 ms here) drawn in the expected colour at its middle, and nothing of it during the recording step.
        let expectedBlue: (UInt8, UInt8, UInt8) = (150, 150, 200)
        let digits = try scheduledDigits(frontDoor)
        try #require(digits.count == 5)
        let summary = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("\(out): ") })
        let picture = try DecodedPicture(path: out, summary: String(summary))
        for (digit, start, end) in digits {
            let drawn = picture.laneColumn(at: (start + end) / 2, contains: expectedBlue)
            #expect(drawn, "expected \(digit) at \((start + end) / 2) s")
        }
        let duringTheRecording = picture.laneColumn(at: 2.0, contains: expectedBlue)
        #expect(!duringTheRecording)
        // Audio of another sequence still gets its picture, and fails; the expected digits are drawn all the same.
        let gateWav = dir.appendingPathComponent("gate.wav").path
        let failed = dir.appendingPathComponent("failed.png").path
        #expect(try CommandRunner.callseq("render", testAudioPath("../Examples/gate.json"), "-o", gateWav).status == 0)
        let mismatch = try CommandRunner.callseq("verify", frontDoor, gateWav, "--plot", failed)
        #expect(mismatch.status == 1)
        #expect(FileManager.default.fileExists(atPath: failed))
        let failedSummary = try #require(mismatch.stdout.split(separator: "\n").first { $0.hasPrefix("\(failed): ") })
        let failedPicture = try DecodedPicture(path: failed, summary: String(failedSummary))
        // There the expected digits are moved to where the audio's first digit starts (the verifier's offset).
        let detected = try CommandRunner.callseq("detect", gateWav).stdout.split(separator: "\n")
        let firstLine = try #require(detected.dropFirst().first)
        let first = firstLine.split(separator: " ").dropFirst().compactMap { Double($0) }
        try #require(first.count == 2)
        let offset = first[0] / 1000 - digits[0].1
        for (digit, start, end) in digits {
            let drawn = failedPicture.laneColumn(at: (start + end) / 2 + offset, contains: expectedBlue)
            #expect(drawn, "expected \(digit) at \((start + end) / 2 + offset) s")
        }
        let beforeTheDigits = failedPicture.laneColumn(at: 1.0, contains: expectedBlue)
        #expect(!beforeTheDigits)
    }

    @Test func badInputIsOneLineNamingTheFile() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("x.png").path
        for input in [
            testAudioPath("damaged/garbage-header.wav"), dir.appendingPathComponent("missing.wav").path,
            testAudioPath("sequences/syntax-error.json"),
        ] {
            let result = try CommandRunner.callseq("plot", input, "-o", out)
            #expect(result.status == 1, "\(input)")
            let lines = result.stderr.split(separator: "\n")
            #expect(
                lines.count == 1 && lines[0].hasPrefix("callseq: error: ") && lines[0].contains(input),
                "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let wrong = try CommandRunner.callseq("plot", frontDoor, "-o", dir.appendingPathComponent("x.jpg").path)
        #expect(wrong.status == 64)
    }
}
