import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import FileSupport
import Foundation
import Recordings
import TelephonyDSP

/// Options shared by the commands that compile a sequence.
struct SequenceOptions: ParsableArguments {
    @Option(help: "Folder of the account's recordings (default: 'recordings' beside the sequence file, if any).")
    var recordings: String?

    @OptionGroup var call: CallFormatOptions

    var encoding: SampleEncoding? { call.encoding }

    /// The library: --recordings, or a 'recordings' folder beside the sequence, or none.
    func library(beside file: String) throws -> RecordingLibrary {
        if let recordings { return try RecordingLibrary(directory: recordings) }
        let beside = ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent("recordings")
        if FileSystem.kind(of: beside) == .directory {  // FileSystem: the name's own bytes
            return try RecordingLibrary(directory: beside)
        }
        return .empty
    }

    func format(encoding fallback: SampleEncoding = .pcm16) -> CallFormat { call.format(encoding: fallback) }
}

/// Reads and validates a sequence file, then compiles it.
///
/// `schedulesOnly` (timeline, validate) leaves the DTMF audio out: only places and durations are computed.
func loadSequence(
    _ file: String, options: SequenceOptions, encoding: SampleEncoding = .pcm16,
    schedulesOnly: Bool = false
) throws -> CompiledSequence {
    let text: String
    do {
        let bytes = try FileSystem.contents(of: file, limit: ProductLimits.default.maximumFileBytes)
        guard let utf8 = String(validating: bytes, as: UTF8.self) else {
            throw RuntimeError("\(file): not readable as UTF-8 text")
        }
        text = utf8
    } catch let error as FileSystem.ReadError {
        throw RuntimeError("\(file): \(error)")
    }
    let library = try runtime { try options.library(beside: file) }
    let sequence: SequenceDefinition
    do {
        sequence = try SequenceDefinition.parse(text, source: file, recordings: library)
    } catch {
        throw ProblemListError(lines: error.problems.map { "\(file): \($0)" })
    }
    let cache = RecordingCache(library: library)
    do {
        return try quietly {
            try CompiledSequence(
                sequence, format: options.format(encoding: encoding), recordings: cache,
                schedulesOnly: schedulesOnly)
        }
    } catch {
        throw RuntimeError("\(file): \(error)")
    }
}
