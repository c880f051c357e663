import ArgumentParser
import Foundation
import Recordings
import TelephonyDSP

struct RecordingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recording",
        abstract: "Inspect recordings.",
        subcommands: [Info.self]
    )

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a recording's format, rate, channels, duration, and levels in dBm0.",
            discussion: """
                Peak is the level of a sine with the recording's largest sample (+3.14 dBm0 is full scale); \
                RMS is over the whole file; the active level leaves out pauses (the RMS of the 20 ms blocks \
                above -55 dBm0 and within 35 dB of the loudest), which is what --normalize sets.
                """
        )

        @Argument(help: "The audio file (any format libsndfile reads).")
        var file: String

        @Option(help: "Sample rate of a headerless input file in Hz.")
        var rate: Int = 8000

        func run() throws {
            try runtime {
                let audio = try quietly { try AudioFile.read(file, headerlessRate: rate) }
                let loudness = Loudness.measure(audio.samples, sampleRate: audio.sampleRate)
                func level(_ x: Double) -> String { x.isFinite ? String(format: "%.1f dBm0", x) : "silent" }
                print("file: \(PathBytes.display(file))")   // a name that is not UTF-8 as \xFF
                print("format: \(audio.container), \(audio.encoding)")
                print("sample rate: \(audio.sampleRate) Hz")
                print("channels: \(audio.channels)")
                print("duration: \(String(format: "%.3f", audio.duration)) s (\(audio.samples.count) samples)")
                print("peak: \(level(loudness.peakDbm0)) (\(Int(loudness.peak.rounded())) of 32767)")
                print("rms: \(level(loudness.rmsDbm0))")
                print("active level: \(level(loudness.activeLevelDbm0))")
            }
        }
    }
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn any upload into a telephony-ready prompt: mono, resampled (libsoxr HQ), optionally normalised.",
        discussion: "The output format follows OUT's extension (.wav, .raw, .ul, .al), as for 'callseq dtmf'."
    )

    @Argument(help: "The input file (any format libsndfile reads).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (.wav, .raw, .ul, .al).")
    var output: String

    @Option(help: "Output sample rate in Hz (8000...48000).")
    var rate: Int = 8000

    @Option(help: "Sample encoding: pcm16, ulaw or alaw (default: the extension's, pcm16 for .wav).")
    var encoding: SampleEncoding?

    @Option(parsing: .unconditional, help: "Normalise the active level to this many dBm0 (-40...0), e.g. --normalize -16.")
    var normalize: Double?

    func validate() throws {
        guard (8000...48000).contains(rate) else { throw ValidationError("--rate \(rate) is not supported (8000...48000 Hz)") }
        if let normalize, !(normalize.isFinite && (-40...0).contains(normalize)) {
            throw ValidationError("--normalize \(normalize) is out of range (-40...0 dBm0)")
        }
        try validateOutput(output, encoding: encoding)
    }

    func run() throws {
        try runtime {
            let format = try AudioOutputFormat(path: output, encoding: encoding)
            let audio = try quietly { try AudioFile.read(input) }
            let prepared = try PreparedRecording(
                audio, name: input, sampleRate: rate, encoding: format.encoding, normalizeToDbm0: normalize)
            try AudioFile.write(prepared.pcm, sampleRate: rate, to: output, format: format)
            var summary = "\(output): \(String(format: "%.3f", Double(prepared.count) / Double(rate))) s, \(rate) Hz, "
                + "\(format.encoding.rawValue) \(format.container.rawValue), from \(audio.sampleRate) Hz \(audio.channels) ch; "
                + "active level \(String(format: "%.1f", prepared.loudness.activeLevelDbm0)) dBm0, "
                + "peak \(String(format: "%.1f", prepared.loudness.peakDbm0)) dBm0"
            if let n = prepared.normalization {
                summary += String(format: " (gain %+.1f dB%@)", n.gainDb, n.limitedByPeak ? ", limited by the peak" : "")
            }
            print(summary)
        }
    }
}
