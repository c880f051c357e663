import ArgumentParser
import CallSequence

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that AUDIO carries the sequence's digits, in order, with its timing.",
        discussion: """
            AUDIO is decoded with the DTMF receiver. The first digit sets the audio's offset (a capture may start \
            late); every digit's start and end must then be within --tolerance-ms of the sequence's. Exit 0 on \
            pass, 1 on failure.
            """
    )

    @Argument(help: "The sequence file (JSON).")
    var sequence: String

    @Argument(help: "The audio to check (any format libsndfile reads).")
    var audio: String

    @Option(name: .customLong("tolerance-ms"), help: "Allowed error on each digit's start and end, in ms.")
    var toleranceMs: Double = 20

    @OptionGroup var options: SequenceOptions

    func validate() throws {
        guard toleranceMs > 0 && toleranceMs <= 1000 else { throw ValidationError("--tolerance-ms \(toleranceMs) is out of range (0...1000)") }
    }

    func run() throws {
        let program = try loadSequence(sequence, options: options)
        let report = try runtime { () throws -> VerificationReport in
            let decoded = try readForReceiver(audio)
            return try Verifier.verify(program, samples: decoded.samples, sampleRate: decoded.sampleRate,
                                       tolerance: toleranceMs / 1000)
        }
        for line in report.lines { print(line) }
        if !report.passed { throw ExitCode(1) }
    }
}
