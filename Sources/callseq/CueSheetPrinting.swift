import CallSequenceEngine
import CallSequenceModel
import Foundation

func seconds(_ samples: Int, _ rate: Int) -> String { String(format: "%.3f", Double(samples) / Double(rate)) }

/// A cue's number padded with spaces to `width` columns: "2" for a step, "  2.3" for its third digit (as the
/// cue sheet and the plot's notes show it).
func cueNumber(_ cue: Cue, width: Int) -> String {
    let number = cue.digit.map { "  \(cue.step + 1).\($0 + 1)" } ?? "\(cue.step + 1)"
    return number.padding(toLength: width, withPad: " ", startingAt: 0)
}

/// Prints the cue sheet of a compiled sequence.
func printCueSheet(_ program: CompiledSequence) {
    let rate = program.format.sampleRate
    print(
        "\"\(program.sequence.name)\": \(program.sequence.steps.count) steps, \(seconds(program.totalSamples, rate)) s, "
            + "\(rate) Hz \(program.format.encoding.rawValue), dtmf \(program.format.dtmfOutput.rawValue)")
    print("step   start s    end s      what")
    for cue in program.cueSheet {
        print(
            cueNumber(cue, width: 7)
                + seconds(cue.startSample, rate).padding(toLength: 11, withPad: " ", startingAt: 0)
                + seconds(cue.endSample, rate).padding(toLength: 11, withPad: " ", startingAt: 0) + cue.text)
    }
}
