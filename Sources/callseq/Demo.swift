import ArgumentParser
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render the bundled example (Examples/front-door.json) and verify it with the DTMF receiver."
    )

    @Option(help: "The examples folder.")
    var examples: String = "Examples"

    @Option(name: .shortAndLong, help: "Where to write the rendered call audio.")
    var output: String = "out/front-door.wav"

    func run() throws {
        let file = (examples as NSString).appendingPathComponent("front-door.json")
        let recordings = (examples as NSString).appendingPathComponent("recordings")
        let options = try SequenceOptions.parse(["--recordings", recordings])
        let program = try loadSequence(file, options: options)
        printCueSheet(program)
        print("")
        let directory = (output as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let render = try Render.parse([file, "-o", output, "--recordings", recordings])
        try render.validate()
        try render.run()
        print("")
        let verify = try Verify.parse([file, output, "--recordings", recordings])
        try verify.validate()
        try verify.run()
    }
}
