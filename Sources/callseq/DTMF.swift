import ArgumentParser
import Foundation
import Recordings
import TelephonyDSP

extension SampleEncoding: ExpressibleByArgument {}

struct DTMF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dtmf",
        abstract: "Render a dial string as DTMF audio (Q.23 tones).",
        discussion: """
            DIGITS uses 0-9 * # A-D (a-d too); 'w' waits 0.5 s and 'W' 1 s. Every digit is a tone \
            followed by the gap. The output format follows OUT's extension: .wav, or headerless .raw \
            (16-bit little-endian unless --encoding says otherwise), .ul (mu-law), .al (A-law).
            """
    )

    @Argument(help: "The dial string, e.g. 1234567890*#ABCD or 12w34.")
    var digits: String

    @Option(name: .shortAndLong, help: "Output file (.wav, .raw, .ul, .al).")
    var output: String

    @Option(help: "Sample rate in Hz (8000...48000).")
    var rate: Int = 8000

    @Option(name: .customLong("tone-ms"), help: "Tone duration in ms (40...10000; ITU-T Q.24 minimum 40).")
    var toneMs: Int = DTMFTiming.default.toneMilliseconds

    @Option(
        name: .customLong("gap-ms"), help: "Silence after each tone in ms (40...10000; ITU-T Q.24 minimum pause 40).")
    var gapMs: Int = DTMFTiming.default.gapMilliseconds

    @Option(
        parsing: .unconditional,
        help: "Low-group tone level in dBm0 (-25...0, Q.24 receivers' range), e.g. --level -10.")
    var level: Double = DTMFTiming.default.levelDbm0

    @Option(parsing: .unconditional, help: "High-group level relative to the low group, in dB (-10...10).")
    var twist: Double = DTMFTiming.default.twistDb

    @Option(help: "Sample encoding: pcm16, ulaw or alaw (default: the extension's, pcm16 for .wav).")
    var encoding: SampleEncoding?

    var timing: DTMFTiming {
        DTMFTiming(toneMilliseconds: toneMs, gapMilliseconds: gapMs, levelDbm0: level, twistDb: twist)
    }

    func validate() throws {
        let limits = Limits.default
        // Counted in bytes first: a huge argument is refused before anything is built from it.
        guard digits.utf8.count <= limits.maximumDialStringLength * 4, digits.count <= limits.maximumDialStringLength
        else {
            throw ValidationError("DIGITS has \(digits.count) characters; at most \(limits.maximumDialStringLength)")
        }
        let dialString: DialString
        do {
            dialString = try DialString(digits)
        } catch {
            throw ValidationError("DIGITS: \(error)")
        }
        guard ToneSynthesizer.supportedSampleRates.contains(rate) else {
            throw ValidationError("--rate \(rate) is not supported (8000...48000 Hz)")
        }
        do {
            try timing.validate(limits)
            _ = try DTMFGenerator(dialString: dialString, timing: timing, sampleRate: rate, limits: limits)
        } catch {
            throw ValidationError("\(error)")
        }
        try validateOutput(output, encoding: encoding)
    }

    func run() throws {
        try runtime {
            let dialString = try DialString(digits)
            let format = try AudioOutputFormat(path: output, encoding: encoding)
            let samples = try DTMFGenerator.render(dialString, timing: timing, sampleRate: rate)
            try AudioFile.write(samples, sampleRate: rate, to: output, format: format)
            let seconds = Double(samples.count) / Double(rate)
            print(
                "\(output): \(dialString.digits.count) digits, "
                    + "\(String(format: "%.3f", seconds)) s, \(rate) Hz, \(format.encoding.rawValue) \(format.container.rawValue)"
            )
        }
    }
}
