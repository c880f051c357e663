import CallSequence
import Foundation

func seconds(_ samples: Int, _ rate: Int) -> String { String(format: "%.3f", Double(samples) / Double(rate)) }

/// Prints the cue sheet of a compiled sequence.
func printCueSheet(_ program: CompiledSequence) {
    let rate = program.format.sampleRate
    print("\"\(program.sequence.name)\": \(program.sequence.steps.count) steps, \(seconds(program.totalSamples, rate)) s, "
        + "\(rate) Hz \(program.format.encoding.rawValue), dtmf \(program.format.dtmfMode.rawValue)")
    print("step   start s    end s      what")
    for cue in program.cueSheet {
        let label = cue.digit.map { "  \(cue.step + 1).\($0 + 1)" } ?? "\(cue.step + 1)"
        print(label.padding(toLength: 7, withPad: " ", startingAt: 0)
            + seconds(cue.startSample, rate).padding(toLength: 11, withPad: " ", startingAt: 0)
            + seconds(cue.endSample, rate).padding(toLength: 11, withPad: " ", startingAt: 0) + cue.text)
    }
}
