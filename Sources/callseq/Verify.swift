import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that AUDIO carries the sequence's digits, in order, with its timing.",
        discussion: """
            AUDIO is decoded with the DTMF receiver. The first digit sets the audio's offset (a capture may start \
            late); every digit's start and end must then be within --tolerance-ms of the sequence's. Exit 0 on \
            pass, 1 on failure. --plot OUT.png also draws the expected digits (shifted by that offset) against \
            the ones found and the candidates refused, over the audio's waveform and spectrogram (see `plot`).
            """
    )

    @Argument(help: "The sequence file (JSON).")
    var sequence: String

    @Argument(help: "The audio to check (any format libsndfile reads).")
    var audio: String

    @Option(name: .customLong("tolerance-ms"), help: "Allowed error on each digit's start and end, in ms.")
    var toleranceMs: Double = 20

    @Option(help: "Also draw the expected timeline against what was found, as a PNG (see `callseq plot`).")
    var plot: String?

    @OptionGroup var options: SequenceOptions

    func validate() throws {
        if let plot, !plot.lowercased().hasSuffix(".png") { throw ValidationError("--plot \(plot): must end in .png") }
        guard toleranceMs > 0 && toleranceMs <= 1000 else {
            throw ValidationError("--tolerance-ms \(toleranceMs) is out of range (0...1000)")
        }
    }

    func run() throws {
        let program = try loadSequence(sequence, options: options)
        let decoded = try runtime { try readForReceiver(audio) }
        let report = try runtime { () throws -> VerificationReport in
            try Verifier.verify(
                program, samples: decoded.samples, sampleRate: decoded.sampleRate,
                tolerance: toleranceMs / 1000)
        }
        for line in report.lines { print(line) }
        if let plot { print(try drawPlot(plot, program: program, audio: decoded, report: report)) }
        if !report.passed { throw ExitCode(1) }
    }
}

extension Verify {
    /// The expected digits, moved by the offset the verifier measured, above the digits found in the audio.
    func drawPlot(
        _ path: String, program: CompiledSequence, audio: DecodedAudio,
        report: VerificationReport
    ) throws -> String {
        let rate = Double(program.format.sampleRate)
        let spans = program.digits.map { d in
            Plot.Span(
                lane: 0, start: Double(d.startSample) / rate + report.offset,
                end: Double(d.endSample) / rate + report.offset,
                label: String(d.digit.character), style: .expected)
        }
        let name = (
            audio: (self.audio as NSString).lastPathComponent,
            sequence: (sequence as NSString).lastPathComponent
        )
        let (plot, summary) = try audioPlot(
            audio, title: "callseq verify: \(report.passed ? "PASS" : "FAIL") - \(name.audio) against \(name.sequence)",
            subtitle: "expected \"\(report.expected)\", found \"\(report.found)\", offset "
                + String(format: "%+.3f s", report.offset) + ", tolerance \(toleranceMs) ms; \(audio.sampleRate) Hz",
            lanes: ["expected"], spans: spans, notes: report.lines)
        return try writePlot(plot, width: 1600, to: path) + "\n" + summary
    }
}
