import ArgumentParser

struct Timeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a sequence's cue sheet: every step and every digit with its exact start and end."
    )

    @Argument(help: "The sequence file (JSON).")
    var sequence: String

    @OptionGroup var options: SequenceOptions

    func run() throws {
        printCueSheet(try loadSequence(sequence, options: options, schedulesOnly: true))
    }
}
