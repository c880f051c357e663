import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Check a sequence or account file: exit 0 if valid, otherwise print every problem with its JSON path and exit 1.",
        discussion: """
            A file with "dids", "ivrs" or "capabilities" at the top is an account: its routes, IVR options, \
            recordings and SMS steps are cross-checked. Otherwise it is a sequence, whose recording names are \
            checked against --recordings (or the 'recordings' folder beside the file).
            """
    )

    @Argument(help: "The sequence file (JSON).")
    var file: String

    @Option(help: "Folder of the recordings: a sequence's, or an account's in place of the one it names.")
    var recordings: String?

    @Option(
        name: .customLong("recordings-root"),
        help: "A folder an account's recordings folder may be in, besides the account file's own folder.")
    var recordingsRoot: String?

    func run() throws {
        if let text = try? String(contentsOfFile: file, encoding: .utf8), let json = try? JSONValue.parse(text),
            ["dids", "ivrs", "capabilities"].contains(where: { json[$0] != nil })
        {
            let (account, library) = try loadAccount(file, recordingsRoot: recordingsRoot, recordings: recordings)
            try decodeRecordings(of: account, library: library)
            print(
                "\(file): valid account, \(account.dids.count) numbers, \(account.ivrs.count) IVRs, \(account.sequences.count) sequences"
            )
            for (i, sequence) in account.sequences.enumerated() { printTexts(sequence, path: "sequences[\(i)].") }
            return
        }
        let options = try SequenceOptions.parse(recordings.map { ["--recordings", $0] } ?? [])
        let program = try loadSequence(file, options: options, schedulesOnly: true)
        print(
            "\(file): valid sequence \"\(program.sequence.name)\", \(program.sequence.steps.count) steps, "
                + "\(seconds(program.totalSamples, program.format.sampleRate)) s")
        printTexts(program.sequence, path: "")
    }

    /// Decodes every recording the account names, prompts included, within the limits playing applies,
    /// so that a prompt of random bytes is found now and not on the first call.
    func decodeRecordings(of account: Account, library: RecordingLibrary) throws {
        let cache = RecordingCache(library: library)
        var uses: [(path: String, choice: RecordingChoice)] = account.ivrs.enumerated().map {
            ("ivrs[\($0)].prompt", $1.prompt)
        }
        for (i, sequence) in account.sequences.enumerated() {
            for (j, step) in sequence.steps.enumerated() {
                if case .recording(let r) = step { uses.append(("sequences[\(i)].steps[\(j)].recording", r.recording)) }
            }
        }
        var lines: [String] = []
        for (path, choice) in uses {
            do {
                _ = try quietly { try cache.recording(choice, sampleRate: 8000, encoding: .pcm16) }
            } catch {
                lines.append("\(file): \(path): \(error)")
            }
        }
        if !lines.isEmpty { throw ProblemListError(lines: lines) }
    }

    /// One line per SMS step: the encoding and units the network will count (3GPP TS 23.038).
    func printTexts(_ sequence: SequenceDefinition, path: String) {
        for (i, step) in sequence.steps.enumerated() {
            guard case .sms(let text) = step else { continue }
            let length = text.length
            print(
                "  \(path)steps[\(i)]: SMS from \(text.from) to \(text.to), \(length.encoding), "
                    + "\(length.units) of \(length.capacity) \(length.encoding == .gsm7 ? "septets" : "UCS-2 units"), 1 SMS"
            )
        }
    }
}
