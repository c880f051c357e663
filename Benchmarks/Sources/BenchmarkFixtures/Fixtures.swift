// The inputs of the benchmark workloads, shared by the benchmark suite (CallSequenceBenchmarks) and the
// instruction counter (Instructions), so that both measure the same thing. A fixture that cannot be made
// stops the run (`required`): a benchmark that measures nothing must not pass.

import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP

/// The repository's root (fixtures are under TestAudio/ and Examples/).
public let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The value of a fixture, or the end of the run with the reason: missing input is a failure, never a skip.
public func required<T>(_ what: String, _ make: () throws -> T?) -> T {
    do {
        guard let value = try make() else { fatalError("benchmark fixture missing: \(what)") }
        return value
    } catch {
        fatalError("benchmark fixture missing: \(what): \(error)")
    }
}

/// 16-bit samples of a fixture under the repository, which must hold at least `minimum` of them.
public func fixtureSamples(_ path: String, minimum: Int) -> [Int16] {
    let audio = required(path) { try AudioFile.read(repository.appendingPathComponent(path).path) }
    let samples = audio.samples.map { Int16(max(-32768, min(32767, $0))) }
    guard samples.count >= minimum else {
        fatalError("benchmark fixture \(path): \(samples.count) samples, want \(minimum)")
    }
    return samples
}

/// 128 digits (spandsp's queue holds 128), 100 ms tones and 100 ms gaps: 25.6 s at 8 kHz.
public let dialText = String(repeating: "1234567890*#ABCD", count: 8)

/// The generator benchmark's string is longer than a sequence step may be (Limits.maximumDialStringLength).
public let benchmarkLimits: Limits = {
    var limits = Limits.default
    limits.maximumDialStringLength = 128
    return limits
}()

/// 126 s of speech (the talk-off fixture) with a DTMF digit every 1.5 s: what an IVR's receiver hears.
public func makeDetectionSignal() -> [Int16] {
    var samples = fixtureSamples("TestAudio/speech/talkoff-8k-ulaw.wav", minimum: 8000 * 120)
    let digits = required("digit 5") {
        try DTMFGenerator.render(
            try DialString("5"), timing: DTMFTiming(toneMilliseconds: 60, gapMilliseconds: 40),
            sampleRate: 8000)
    }
    var at = 4000
    while at + digits.count < samples.count {
        for (i, d) in digits.enumerated() { samples[at + i] = Int16(clamping: (Int(samples[at + i]) / 4) + Int(d)) }
        at += 12000
    }
    return samples
}

/// A long sequence: the welcome prompt, 96 digits, the default prompt, an SMS: about 25 s.
public let playerSequenceText = """
    { "name": "Bench", "steps": [
      { "type": "recording", "recording": "welcome" },
      { "type": "dtmf", "digits": "\(String(repeating: "1234567890*#ABCD", count: 6))" },
      { "type": "recording", "recording": "default" },
      { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "Bench" } ] }
    """

/// The player sequence compiled for a call format.
public func playerProgram(rate: Int, encoding: SampleEncoding) -> CompiledSequence {
    required("player sequence at \(rate) Hz \(encoding)") {
        let library = try RecordingLibrary(directory: repository.appendingPathComponent("Examples/recordings").path)
        let sequence = try SequenceDefinition.parse(playerSequenceText, source: "bench", recordings: library)
        let format = CallFormat(sampleRate: rate, encoding: encoding)
        return try CompiledSequence(sequence, format: format, recordings: RecordingCache(library: library))
    }
}

/// 60 s at 8 kHz of pseudo-random 16-bit samples: the G.711 encoders' input.
public let g711Input = (0..<480_000).map { Int16(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }

/// Zeroed, 64-byte aligned room for a spandsp state (its structs are well under 16 KiB), allocated by us
/// so that each run places it the same way.
public func spandspState() -> UnsafeMutableRawPointer {
    let storage = UnsafeMutableRawPointer.allocate(byteCount: 16384, alignment: 64)
    storage.initializeMemory(as: UInt8.self, repeating: 0, count: 16384)
    return storage
}
