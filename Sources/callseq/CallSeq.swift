import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import FileSupport
import Foundation
import Recordings
import TelephonyDSP

/// The `callseq` command line: renders, inspects and verifies telephony call sequences offline.
struct CallSeq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callseq",
        abstract: "Render, inspect and verify telephony call sequences (DTMF, recordings, SMS).",
        discussion: "Exit codes: 0 success, 1 failure (runtime error), 64 usage error.",
        version: PackageVersion.string,
        subcommands: [
            Render.self, Timeline.self, Validate.self, Verify.self, PlotCommand.self, IVRCommand.self, Demo.self,
            DTMF.self, Detect.self, RecordingCommand.self, Convert.self, Serve.self, SMSCommand.self,
            ImportCommand.self, ExportCommand.self, KeysCommand.self,
        ]
    )
}

/// A failure while running a command (not a usage error): printed as one line, exit code 1.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@main
enum Main {
    static func main() async {
        let standardError = FileHandle.standardError
        func fail(_ message: String, code: Int32) -> Never {
            let line = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
            standardError.write(Data("callseq: error: \(PathBytes.display(line))\n".utf8))
            exit(code)
        }
        PartialFile.installSignalHandlers()  // an interrupted write leaves no .partial file behind
        do {
            // argv as given: a file name that is not UTF-8 keeps its bytes (PathBytes), rather than being
            // repaired into a name that does not exist.
            let arguments = (1..<Int(CommandLine.argc)).compactMap { index in
                CommandLine.unsafeArgv[index].map { PathBytes.string(cString: $0) }
            }
            var command = try CallSeq.parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()  // `serve`: a ServiceGroup
            } else {
                try command.run()
            }
        } catch let failure as RuntimeError {
            fail(failure.description, code: 1)
        } catch let list as ProblemListError {
            for line in list.lines { standardError.write(Data("callseq: error: \(PathBytes.display(line))\n".utf8)) }
            exit(1)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            let code = CallSeq.exitCode(for: error)
            if code == .success {
                // --help, --version
                print(CallSeq.fullMessage(for: error))
                exit(0)
            }
            if code == .validationFailure {
                fail(CallSeq.message(for: error), code: 64)
            }
            fail(CallSeq.message(for: error), code: 1)
        }
    }
}

/// Runs `body`, turning library errors into a one-line runtime failure.
func runtime<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as RuntimeError {
        throw error
    } catch let error as CustomStringConvertible {
        throw RuntimeError(error.description)
    }
}

/// Runs `body` with standard error sent to /dev/null: libsndfile's MP3 decoder (mpg123) prints its own
/// notes there, and this tool's errors are one line. The tool is single-threaded, so nothing else is
/// writing meanwhile; the library itself never touches file descriptors.
func quietly<T>(_ body: () throws -> T) rethrows -> T {
    fflush(nil)
    let saved = dup(STDERR_FILENO)
    let null = open("/dev/null", O_WRONLY)
    if saved >= 0 && null >= 0 { dup2(null, STDERR_FILENO) }
    defer {
        fflush(nil)
        if saved >= 0 {
            dup2(saved, STDERR_FILENO)
            close(saved)
        }
        if null >= 0 { close(null) }
    }
    return try body()
}

/// Checks that OUT's extension names an output format compatible with the requested encoding (a usage error).
func validateOutput(_ output: String, encoding: SampleEncoding?) throws {
    do {
        _ = try AudioOutputFormat(path: output, encoding: encoding)
    } catch {
        throw ValidationError("--output \(error)")
    }
}

/// Reads audio for the DTMF receiver: any format; audio outside its 8000...48000 Hz is resampled to 8000 Hz.
func readForReceiver(_ path: String, headerlessRate: Int = 8000) throws -> DecodedAudio {
    var audio = try quietly { try AudioFile.read(path, headerlessRate: headerlessRate) }
    if !DTMFDetector.supportedSampleRates.contains(audio.sampleRate) {
        audio.samples = try Resampler.resample(audio.samples, from: audio.sampleRate, to: 8000, name: path)
        audio.sampleRate = 8000
    }
    return audio
}
