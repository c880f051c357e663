import ArgumentParser
import Foundation
import Recordings
import TelephonyDSP

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find the DTMF digits in an audio file.",
        discussion: """
            Prints the digits found on the first line (an empty line if none), then one line per digit: \
            DIGIT START_MS END_MS, the times of the audible tone (within about 1 ms). Reads any format \
            libsndfile reads, at any rate: audio outside 8000...48000 Hz is resampled to 8000 Hz first. \
            Headerless .raw (16-bit little-endian), .ul and .al files are read at --rate.
            """
    )

    @Argument(help: "The audio file.")
    var file: String

    @Flag(help: "Print JSON instead: digits, and per digit its times, levels and measured frequencies.")
    var json = false

    @Option(help: "Sample rate of a headerless input file in Hz.")
    var rate: Int = 8000

    func validate() throws {
        guard (4000...192_000).contains(rate) else {
            throw ValidationError("--rate \(rate) is out of range (4000...192000)")
        }
    }

    func run() throws {
        try runtime {
            let audio = try readForReceiver(file, headerlessRate: rate)
            var detector = try DTMFDetector(sampleRate: audio.sampleRate)
            let digits = Detect.digits(in: audio, detector: &detector)
            let ms = { (sample: Int) in Double(sample) * 1000 / Double(audio.sampleRate) }
            if json {
                print(jsonReport(digits, sampleRate: audio.sampleRate, ms: ms))
            } else {
                print(String(digits.map(\.digit.character)))
                for d in digits {
                    print("\(d.digit.character) \(Int(ms(d.startSample).rounded())) \(Int(ms(d.endSample).rounded()))")
                }
            }
        }
    }

    /// Runs the receiver over the whole file in blocks of a minute of audio, with progress on a terminal's
    /// stderr between blocks (the same digits as `detector.detect(samples)`: the receiver is a stream).
    static func digits(in audio: DecodedAudio, detector: inout DTMFDetector) -> [DTMFDetector.Digit] {
        let samples = audio.samples
        let block = 60 * audio.sampleRate
        let seconds = { (count: Int) in count / audio.sampleRate }
        let total = seconds(samples.count)
        let progress = ProgressLine("detecting", unit: "s")
        var found: [DTMFDetector.Digit] = []
        let collect: (DTMFDetector.Event) -> Void = { if case .ended(let digit) = $0 { found.append(digit) } }
        samples.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + block)
                detector.process(UnsafeBufferPointer(rebasing: all[start..<end]), collect)
                start = end
                progress.update(seconds(end), of: total, "\(found.count) digits", force: end == all.count)
            }
        }
        detector.finish(collect)
        progress.finish()
        return found
    }

    private func jsonReport(_ digits: [DTMFDetector.Digit], sampleRate: Int, ms: (Int) -> Double) -> String {
        func number(_ x: Double, _ places: Int) -> String { String(format: "%.\(places)f", x) }
        let entries = digits.map { d in
            "    {\"digit\": \"\(d.digit.character)\", \"startMs\": \(number(ms(d.startSample), 1)), "
                + "\"endMs\": \(number(ms(d.endSample), 1)), "
                + "\"lowHz\": \(number(d.lowFrequency, 1)), \"highHz\": \(number(d.highFrequency, 1)), "
                + "\"lowDbm0\": \(number(d.lowLevelDbm0, 1)), \"highDbm0\": \(number(d.highLevelDbm0, 1))}"
        }
        let list = entries.isEmpty ? "[]" : "[\n" + entries.joined(separator: ",\n") + "\n  ]"
        return "{\n  \"file\": \(quoted(file)),\n  \"sampleRate\": \(sampleRate),\n"
            + "  \"digits\": \"\(String(digits.map(\.digit.character)))\",\n  \"events\": \(list)\n}"
    }

    private func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
