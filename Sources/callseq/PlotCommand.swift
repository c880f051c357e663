import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a sequence or an audio file as one PNG: waveform, spectrogram and DTMF digits over time.",
        discussion: """
            A .json input is a sequence: it is rendered through the real-time player (as `render` does) and \
            drawn with its steps (recording name, dial string, SMS) and every scheduled digit. Any other input \
            is audio (any format libsndfile reads; headerless .raw, .ul, .al at --rate): drawn with the digits \
            our DTMF receiver found - measured frequencies, levels in dBm0, twist - and the candidates it refused \
            that came close (too short, twist, frequency, level, not clean), with the reason. The spectrogram \
            spans 0 to 4000 Hz with the eight DTMF frequencies marked on its right edge; dark is quiet \
            (-70 dBm0), bright is loud (-3 dBm0). The same input always gives the same bytes. \
            Prints the picture's size and where its time and frequency axes lie; for audio, a second line: \
            the digits found and each candidate refused with its time and reason. `verify --plot` draws the \
            sequence's expected digits against the audio's.
            """
    )

    @Argument(help: "A sequence file (.json) or an audio file.")
    var input: String

    @Option(name: .shortAndLong, help: "The PNG to write.")
    var output: String

    @Option(help: "Width of the picture in pixels (\(PlotCommand.widthText)).")
    var width: Int = 1600

    @OptionGroup var options: SequenceOptions

    static let widths = 400...8000
    static let widthText = "\(widths.lowerBound)...\(widths.upperBound)"

    func validate() throws {
        guard PlotCommand.widths.contains(width) else {
            throw ValidationError("--width \(width) is out of range (\(PlotCommand.widthText))")
        }
        guard output.lowercased().hasSuffix(".png") else {
            throw ValidationError("--output \(output): must end in .png")
        }
    }

    func run() throws {
        let plot: Plot
        var summary: String?
        if input.lowercased().hasSuffix(".json") {
            plot = try sequencePlot()
        } else {
            let audio = try runtime { try readForReceiver(input, headerlessRate: options.call.rate) }
            let drawn = try audioPlot(
                audio, title: "callseq plot: \((input as NSString).lastPathComponent)",
                subtitle: describe(audio))
            plot = drawn.plot
            summary = drawn.summary
        }
        print(try writePlot(plot, width: width, to: output))
        if let summary { print(summary) }
    }

    /// The sequence as the player renders it, with its steps and scheduled digits.
    func sequencePlot() throws -> Plot {
        let program = try loadSequence(input, options: options, encoding: .pcm16)
        let played = Render.play(program)
        let rate = program.format.sampleRate
        let samples: [Float]
        switch program.format.encoding {
        case .pcm16: samples = played.pcm.map(Float.init)
        case .ulaw: samples = played.bytes.map { Float(MuLaw.decode($0)) }
        case .alaw: samples = played.bytes.map { Float(ALaw.decode($0)) }
        }
        var spans: [Plot.Span] = []
        var notes: [String] = []
        let seconds = { (sample: Int) in Double(sample) / Double(rate) }
        let cues = program.cueSheet
        for scheduled in program.steps {
            let step = program.sequence.steps[scheduled.index]
            let label: String
            let style: Plot.Style
            let lane: Int
            switch step {
            case .recording(let recording):
                (label, style, lane) = ("recording \"\(recording.recording)\"", .recording, 0)
            case .dtmf(let dtmf):
                (label, style, lane) = ("dial \"\(dtmf.digits)\"", .dtmf, 0)
            case .sms(let sms):
                // An instant: its own lane, so that its label has room beside it.
                (label, style, lane) = ("SMS to \(sms.to): \"\(sms.message)\"", .sms, 2)
            }
            spans.append(
                Plot.Span(
                    lane: lane, start: seconds(scheduled.startSample), end: seconds(scheduled.endSample),
                    label: label, style: style))
        }
        for digit in program.digits {
            spans.append(
                Plot.Span(
                    lane: 1, start: seconds(digit.startSample), end: seconds(digit.endSample),
                    label: String(digit.digit.character), style: .scheduled))
        }
        for cue in cues {
            notes.append(
                cueNumber(cue, width: 6)
                    + String(format: "%7.3f-%.3f s  ", seconds(cue.startSample), seconds(cue.endSample)) + cue.text)
        }
        let format = program.format
        return Plot(
            title: "callseq plot: \(program.sequence.name)",
            subtitle: "\((input as NSString).lastPathComponent): \(program.sequence.steps.count) steps, "
                + "\(String(format: "%.3f", program.duration)) s, \(rate) Hz \(format.encoding.rawValue), "
                + "dtmf \(format.dtmfOutput.rawValue), rendered by the real-time player",
            samples: samples, sampleRate: rate,
            lanes: spans.contains { $0.lane == 2 } ? ["steps", "digits", "SMS"] : ["steps", "digits"],
            spans: spans, notes: notes)
    }

    private func describe(_ audio: DecodedAudio) -> String {
        "\((input as NSString).lastPathComponent): \(audio.container), \(audio.sampleRate) Hz, \(audio.channels) ch, "
            + String(format: "%.3f s", Double(audio.samples.count) / Double(audio.sampleRate))
    }
}

/// Audio with what our receiver found in it and the candidates it refused, below the lanes already given;
/// and a line that says it: `found "9876#"; refused 1: 5 at 2.051 s too short (18 ms)`.
func audioPlot(
    _ audio: DecodedAudio, title: String, subtitle: String, lanes: [String] = [],
    spans: [Plot.Span] = [], notes: [String] = []
) throws -> (plot: Plot, summary: String) {
    let rate = audio.sampleRate
    let analysis = try runtime { try DTMFNearMiss.analyze(audio.samples, sampleRate: rate) }
    let seconds = { (sample: Int) in Double(sample) / Double(rate) }
    let found = lanes.count
    let refused = lanes.count + 1
    var spans = spans
    var notes = notes
    func levels(_ low: Double, _ lowDb: Double, _ high: Double, _ highDb: Double) -> String {
        String(
            format: "%.1f Hz %.1f dBm0 + %.1f Hz %.1f dBm0, twist %+.1f dB",
            low, lowDb, high, highDb, highDb - lowDb)
    }
    notes.append("found \(analysis.accepted.count) digits: \"\(String(analysis.accepted.map(\.digit.character)))\"")
    for d in analysis.accepted {
        spans.append(
            Plot.Span(
                lane: found, start: seconds(d.startSample), end: seconds(d.endSample),
                label: String(d.digit.character), style: .found))
        notes.append(
            "  \(d.digit.character)  "
                + String(format: "%7.3f-%.3f s  ", seconds(d.startSample), seconds(d.endSample))
                + levels(d.lowFrequency, d.lowLevelDbm0, d.highFrequency, d.highLevelDbm0))
    }
    notes.append("refused \(analysis.nearMisses.count) candidates that came close:")
    for m in analysis.nearMisses {
        spans.append(
            Plot.Span(
                lane: refused, start: seconds(m.startSample), end: seconds(m.endSample),
                label: "\(m.digit.character)? \(m.reason)", style: .refused))
        notes.append(
            "  \(m.digit.character)? "
                + String(format: "%7.3f-%.3f s  ", seconds(m.startSample), seconds(m.endSample))
                + levels(m.lowFrequency, m.lowLevelDbm0, m.highFrequency, m.highLevelDbm0) + "  refused: \(m.reason)")
    }
    let refusals = analysis.nearMisses.prefix(20).map {
        "\($0.digit.character) at \(String(format: "%.3f", seconds($0.startSample))) s \($0.reason)"
    }
    let summary =
        "found \"\(String(analysis.accepted.map(\.digit.character)))\"; refused \(analysis.nearMisses.count)"
        + (refusals.isEmpty ? "" : ": " + refusals.joined(separator: "; "))
        + (analysis.nearMisses.count > 20 ? "; ..." : "")
    let plot = Plot(
        title: title, subtitle: subtitle, samples: audio.samples, sampleRate: rate,
        lanes: lanes + ["found", "refused"], spans: spans, notes: notes)
    return (plot, summary)
}

/// Draws `plot` and writes it as PNG to `path`; returns the summary line (size and axes).
func writePlot(_ plot: Plot, width: Int, to path: String) throws -> String {
    let (raster, g) = plot.draw(width: width)
    let bytes: [UInt8]
    switch raster.png() {
    case .success(let png): bytes = png
    case .failure(let failure): throw RuntimeError("\(path): cannot encode PNG: \(failure)")
    }
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw RuntimeError("\(path): cannot write: \((error as NSError).localizedDescription)")
    }
    return "\(path): \(g.width)x\(g.height) PNG; time 0 to \(String(format: "%.3f", g.duration)) s at x \(g.plotLeft) "
        + "to \(g.plotLeft + g.plotWidth); spectrogram \(Int(g.maximumFrequency)) to 0 Hz at y \(g.spectrogramTop) "
        + "to \(g.spectrogramTop + g.spectrogramHeight)"
}
