import ArgumentParser
import FileSupport
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
                print("file: \(PathBytes.display(file))")  // a name that is not UTF-8 as \xFF
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
        discussion: """
            The output format follows OUT's extension (.wav, .raw, .ul, .al), as for 'callseq dtmf'. \
            Given a folder, converts every recording in it (the files a recordings folder plays: .wav, .mp3, \
            .flac, .ogg, ...; hidden files, other files and subfolders are left out) into the folder OUT \
            (created if missing), each as NAME.EXT with --extension's EXT; a file that cannot be converted \
            is reported by name on stderr and the others are still converted (exit 1 if any failed). On a \
            terminal, progress is shown on stderr.
            """
    )

    @Argument(help: "The input file (any format libsndfile reads), or a folder of recordings.")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (.wav, .raw, .ul, .al), or the output folder for a folder.")
    var output: String

    @Option(help: "Output sample rate in Hz (8000...48000).")
    var rate: Int = 8000

    @Option(help: "Sample encoding: pcm16, ulaw or alaw (default: the extension's, pcm16 for .wav).")
    var encoding: SampleEncoding?

    @Option(
        parsing: .unconditional, help: "Normalise the active level to this many dBm0 (-40...0), e.g. --normalize -16.")
    var normalize: Double?

    @Option(name: .customLong("extension"), help: "For a folder: the outputs' extension (wav, raw, ul or al).")
    var outputExtension: String = "wav"

    /// Whether the input is a folder (converted file by file into the output folder).
    /// Asked of the name's own bytes (PathBytes), so that a folder whose name is not UTF-8 is one too.
    private var inputIsFolder: Bool { FileSystem.kind(of: input) == .directory }

    func validate() throws {
        guard (8000...48000).contains(rate) else {
            throw ValidationError("--rate \(rate) is not supported (8000...48000 Hz)")
        }
        if let normalize, !(normalize.isFinite && (-40...0).contains(normalize)) {
            throw ValidationError("--normalize \(normalize) is out of range (-40...0 dBm0)")
        }
        if inputIsFolder {
            guard ["wav", "raw", "ul", "al"].contains(outputExtension) else {
                throw ValidationError("--extension '\(outputExtension)' is not wav, raw, ul or al")
            }
            do {
                _ = try AudioOutputFormat(path: "output.\(outputExtension)", encoding: encoding)
            } catch {
                throw ValidationError("--extension \(error)")
            }
        } else {
            try validateOutput(output, encoding: encoding)
        }
    }

    func run() throws {
        if inputIsFolder {
            try convertFolder()
        } else {
            try runtime { print(try convert(input, to: output)) }
        }
    }

    /// Converts one file; returns the summary line.
    private func convert(_ input: String, to output: String) throws -> String {
        let format = try AudioOutputFormat(path: output, encoding: encoding)
        let audio = try quietly { try AudioFile.read(input) }
        let prepared = try PreparedRecording(
            audio, name: input, sampleRate: rate, encoding: format.encoding, normalizeToDbm0: normalize)
        try AudioFile.write(prepared.pcm, sampleRate: rate, to: output, format: format)
        let duration = String(format: "%.3f", Double(prepared.count) / Double(rate))
        var summary =
            "\(PathBytes.display(output)): \(duration) s, \(rate) Hz, "
            + "\(format.encoding.rawValue) \(format.container.rawValue), "
            + "from \(audio.sampleRate) Hz \(audio.channels) ch; "
            + "active level \(String(format: "%.1f", prepared.loudness.activeLevelDbm0)) dBm0, "
            + "peak \(String(format: "%.1f", prepared.loudness.peakDbm0)) dBm0"
        if let n = prepared.normalization {
            summary += String(format: " (gain %+.1f dB%@)", n.gainDb, n.limitedByPeak ? ", limited by the peak" : "")
        }
        return summary
    }

    /// Converts every recording of the input folder into the output folder: one summary line per file on
    /// stdout, one error line per file that failed on stderr, then exit 1 if any did.
    private func convertFolder() throws {
        let files = try recordings(in: input)
        guard !files.isEmpty else { throw RuntimeError("\(input): no recordings in this folder") }
        guard Convert.makeDirectories(output) else {
            throw RuntimeError("\(output): cannot create the output folder")
        }
        // Both resolved (realpath(3)) from their own bytes: the same folder under another name is refused too.
        guard let source = FileSystem.resolved(input), let target = FileSystem.resolved(output) else {
            throw RuntimeError("\(output): cannot resolve the output folder")
        }
        guard source != target else {
            throw RuntimeError("\(output): is the input folder (its recordings would be overwritten)")
        }
        let progress = ProgressLine("converting", minimumInterval: 0)
        var failed: [String] = []
        var outputs: [String: String] = [:]  // output name -> the input that made it
        func report(_ line: String) {
            progress.clear()
            FileHandle.standardError.write(Data("callseq: error: \(PathBytes.display(line))\n".utf8))
        }
        for (index, file) in files.enumerated() {
            progress.update(index, of: files.count, PathBytes.display(file))
            let path = FileSystem.appending(file, to: input)
            let name = FileSystem.deletingExtension(file)
            if let earlier = outputs[name] {
                report("\(path): has the same name as \(earlier) (both would be \(name).\(outputExtension)); skipped")
                failed.append(file)
                continue
            }
            outputs[name] = file
            let destination = FileSystem.appending("\(name).\(outputExtension)", to: output)
            do {
                let summary = try runtime { try convert(path, to: destination) }
                progress.clear()
                print(summary)
            } catch {
                report(String(describing: error).hasPrefix(path) ? "\(error)" : "\(path): \(error)")
                failed.append(file)
            }
        }
        progress.update(files.count, of: files.count, force: true)
        progress.finish()
        if !failed.isEmpty {
            report("\(failed.count) of \(files.count) recordings not converted: \(failed.joined(separator: ", "))")
            throw ExitCode(1)
        }
    }

    /// The recordings of `folder`, sorted by name: regular files (or links to them) with an extension of
    /// ``RecordingLibrary/audioExtensions``, not hidden. Listed as RecordingLibrary lists a recordings folder
    /// (FileSystem on the names' own bytes), so that a name that is not UTF-8 is converted as given.
    private func recordings(in folder: String) throws -> [String] {
        guard let entries = FileSystem.entries(of: folder) else {
            throw RuntimeError("\(folder): cannot read this folder")
        }
        return entries.sorted().filter { entry in
            guard !entry.hasPrefix("."),
                RecordingLibrary.audioExtensions.contains(FileSystem.pathExtension(entry).lowercased())
            else {
                return false
            }
            if case .file = FileSystem.kind(of: FileSystem.appending(entry, to: folder)) { return true }
            return false
        }
    }

    /// Creates `path` and its missing parents (as `mkdir -p`), on the names' own bytes (PathBytes).
    ///
    /// - Returns: whether `path` is a directory afterwards.
    private static func makeDirectories(_ path: String) -> Bool {
        switch FileSystem.kind(of: path) {
        case .directory: return true
        case .missing: break
        case .file, .other: return false
        }
        let parent = FileSystem.deletingLastComponent(path)
        if !parent.isEmpty, parent != path, !makeDirectories(parent) { return false }
        return PathBytes.withCString(path) { mkdir($0, 0o777) } == 0 || FileSystem.kind(of: path) == .directory
    }
}
