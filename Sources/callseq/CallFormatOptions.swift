import ArgumentParser
import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

extension DTMFOutput: ExpressibleByArgument {}

/// The call's format: rate, encoding and DTMF mode (render, timeline, verify, ivr).
struct CallFormatOptions: ParsableArguments {
    @Option(help: "Sample rate of the call in Hz (8000...48000).")
    var rate: Int = 8000

    @Option(help: "Encoding of the call: pcm16, ulaw or alaw.")
    var encoding: SampleEncoding?

    @Option(
        name: .customLong("dtmf-mode"),
        help: "How DTMF is sent: inband, rfc4733 (silent audio, telephone-events) or both.")
    var dtmfOutput: DTMFOutput = .inband

    func validate() throws {
        guard (8000...48000).contains(rate) else {
            throw ValidationError("--rate \(rate) is not supported (8000...48000 Hz)")
        }
    }

    func format(encoding fallback: SampleEncoding = .pcm16) -> CallFormat {
        CallFormat(sampleRate: rate, encoding: encoding ?? fallback, dtmfOutput: dtmfOutput)
    }
}
