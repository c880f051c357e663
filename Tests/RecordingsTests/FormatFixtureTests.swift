import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

/// One fixture of TestAudio/formats: the same 2.247 s prompt in every format libsndfile 1.2 reads.
struct Fixture: Sendable, CustomStringConvertible {
    let file: String
    let rate: Int
    let channels: Int
    /// How far the decoded length may be from the master's: one codec frame or block, plus encoder padding.
    let durationToleranceMs: Double
    /// How far the active level may be from the master's, in dB (lossy codecs change it a little).
    let levelToleranceDb: Double
    var description: String { file }
}

let masterDuration = 99076.0 / 44100  // prompt-44k-stereo.wav
let fixtures: [Fixture] = [
    Fixture(file: "prompt-44k-stereo.wav", rate: 44100, channels: 2, durationToleranceMs: 0, levelToleranceDb: 0),
    Fixture(file: "prompt-48k-float.wav", rate: 48000, channels: 1, durationToleranceMs: 0.1, levelToleranceDb: 0.1),
    Fixture(file: "prompt-8k-ulaw.wav", rate: 8000, channels: 1, durationToleranceMs: 0.2, levelToleranceDb: 0.3),
    Fixture(file: "prompt-8k-alaw.wav", rate: 8000, channels: 1, durationToleranceMs: 0.2, levelToleranceDb: 0.3),
    // IMA ADPCM blocks hold 505 samples, MS ADPCM 500, GSM 6.10 in WAV 320 (two frames; the encoder pads 2).
    Fixture(
        file: "prompt-8k-ima-adpcm.wav", rate: 8000, channels: 1, durationToleranceMs: 505 / 8, levelToleranceDb: 0.5),
    Fixture(file: "prompt-8k-ms-adpcm.wav", rate: 8000, channels: 1, durationToleranceMs: 500 / 8, levelToleranceDb: 1),
    Fixture(
        file: "prompt-8k-gsm610.wav", rate: 8000, channels: 1, durationToleranceMs: 2 * 320 / 8, levelToleranceDb: 1),
    Fixture(file: "prompt-22k.aiff", rate: 22050, channels: 1, durationToleranceMs: 0.1, levelToleranceDb: 0.1),
    Fixture(file: "prompt-16k.caf", rate: 16000, channels: 1, durationToleranceMs: 0.1, levelToleranceDb: 0.1),
    Fixture(file: "prompt-44k-stereo.flac", rate: 44100, channels: 2, durationToleranceMs: 0, levelToleranceDb: 0),
    Fixture(file: "prompt-44k.ogg", rate: 44100, channels: 1, durationToleranceMs: 0.1, levelToleranceDb: 0.3),
    Fixture(file: "prompt-48k.opus", rate: 48000, channels: 1, durationToleranceMs: 0.1, levelToleranceDb: 0.5),
    // MP3 keeps LAME's encoder delay and padding (2 frames of 1152 samples) unless the decoder is gapless.
    Fixture(
        file: "prompt-44k-stereo.mp3", rate: 44100, channels: 2, durationToleranceMs: 2 * 1152 / 44.1,
        levelToleranceDb: 1),
    // VBR with a Xing frame count: mpg123 then drops LAME's delay and padding (gapless), so the length is exact.
    Fixture(file: "prompt-22k-vbr.mp3", rate: 22050, channels: 1, durationToleranceMs: 0.1, levelToleranceDb: 1),
]

@Suite("Decoding every format users upload")
struct FormatFixtureTests {
    let master = try? AudioFile.read(testAudioPath("formats/prompt-44k-stereo.wav"))

    @Test(arguments: fixtures)
    func decodesWithTheRightRateChannelsDurationAndLevel(fixture: Fixture) throws {
        let audio = try AudioFile.read(testAudioPath("formats/" + fixture.file))
        let master = try #require(master)
        #expect(audio.sampleRate == fixture.rate)
        #expect(audio.channels == fixture.channels)
        let errorMs = abs(audio.duration - masterDuration) * 1000
        #expect(errorMs <= fixture.durationToleranceMs + 1000.0 / Double(fixture.rate), "\(fixture): \(errorMs) ms off")
        let level = Loudness.measure(audio.samples, sampleRate: audio.sampleRate).activeLevelDbm0
        let reference = Loudness.measure(master.samples, sampleRate: master.sampleRate).activeLevelDbm0
        print(
            "\(fixture.file): \(audio.container) / \(audio.encoding), \(formatted(audio.duration, 4)) s, active level \(formatted(level)) dBm0 (master \(formatted(reference)))"
        )
        #expect(abs(level - reference) <= fixture.levelToleranceDb + 0.05, "\(fixture)")
    }

    @Test(arguments: fixtures)
    func memoryAndFileDecodingAgreeSampleForSample(fixture: Fixture) throws {
        let path = testAudioPath("formats/" + fixture.file)
        let fromFile = try AudioFile.read(path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let fromMemory = try AudioFile.decode(bytes, name: fixture.file)
        #expect(fromMemory.sampleRate == fromFile.sampleRate && fromMemory.channels == fromFile.channels)
        #expect(fromMemory.samples == fromFile.samples)
    }

    @Test(arguments: fixtures)
    func everyFormatPlaysOnAnEightKilohertzMuLawCall(fixture: Fixture) throws {
        let audio = try AudioFile.read(testAudioPath("formats/" + fixture.file))
        let prepared = try PreparedRecording(audio, name: fixture.file, sampleRate: 8000, encoding: .ulaw)
        #expect(abs(Double(prepared.count) / 8000 - audio.duration) < 0.001)
        #expect(prepared.encoded == ReferenceG711.muLaw(prepared.pcm))
        #expect(
            abs(
                prepared.loudness.activeLevelDbm0
                    - Loudness.measure(audio.samples, sampleRate: audio.sampleRate).activeLevelDbm0) < 0.5)
    }
}

@Suite("Damaged and hostile uploads")
struct DamagedFileTests {
    func error(_ file: String) -> String {
        do {
            _ = try AudioFile.read(testAudioPath("damaged/" + file))
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test(arguments: [
        ("zero-length.wav", "holds no audio"),
        ("truncated.flac", "flac decoder lost sync"),
        ("truncated.wav", "truncated: the header announces 396304 bytes of audio, the file holds 29956"),
        ("garbage-header.wav", "not a readable audio file"),
        ("text-named.mp3", "not a readable audio file (the data is not audio"),
        ("absurd-rate.wav", "sample rate 2147483647 Hz is outside 4000...192000 Hz"),
        ("absurd-channels.wav", "1000 channels, more than the limit of 8"),
        ("absurd-size.wav", "truncated: the header announces 4294967280 bytes"),
    ])
    func eachDamagedFileGivesItsOwnOneLineError(file: String, expected: String) {
        let message = error(file)
        #expect(message.contains(expected), "\(file): \(message)")
        #expect(message.contains(file))
        #expect(!message.contains("\n"))
    }

    @Test func aFlacFileNamedWavIsReadByItsContent() throws {
        let audio = try AudioFile.read(testAudioPath("damaged/flac-named.wav"))
        #expect(audio.container.hasPrefix("FLAC"))
        #expect(abs(audio.duration - masterDuration) < 0.001)
    }

    @Test func damagedBytesInMemoryGiveTheSameErrors() throws {
        // The same bytes give the same one-line error from memory as from the file (named by its name there).
        for file in [
            "truncated.wav", "garbage-header.wav", "absurd-rate.wav", "absurd-channels.wav", "truncated.flac",
            "zero-length.wav", "text-named.mp3", "absurd-size.wav",
        ] {
            let path = testAudioPath("damaged/" + file)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let fromMemory = #expect(throws: RecordingError.self) { try AudioFile.decode(bytes, name: file) }
            let fromFile = #expect(throws: RecordingError.self) { try AudioFile.read(path) }
            #expect(
                fromMemory?.description == fromFile?.description.replacingOccurrences(of: path, with: file), "\(file)")
            #expect(fromMemory?.description.contains(file) == true)
        }
        let empty = #expect(throws: RecordingError.self) { try AudioFile.decode([], name: "empty.wav") }
        #expect(
            empty?.description
                == error("zero-length.wav").replacingOccurrences(of: "zero-length.wav", with: "empty.wav")
                .replacingOccurrences(of: testAudioPath("damaged/empty.wav"), with: "empty.wav"))
    }
}
