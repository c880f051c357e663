import Foundation
import Recordings
import TelephonyDSP
import Testing

/// A RIFF WAVE file built byte by byte, so tests can make headers libsndfile's writer never would.
func wavBytes(
    channels: Int, sampleRate: Int, bitsPerSample: Int = 16, frames: Int, sample: (Int, Int) -> Int16 = { _, _ in 0 }
) -> Data {
    var data = Data()
    func u32(_ v: Int) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) }
    }
    func u16(_ v: Int) {
        withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) }
    }
    let blockAlign = channels * bitsPerSample / 8
    let payload = frames * blockAlign
    data.append(contentsOf: Array("RIFF".utf8))
    u32(36 + payload)
    data.append(contentsOf: Array("WAVE".utf8))
    data.append(contentsOf: Array("fmt ".utf8))
    u32(16)
    u16(1)
    u16(channels)
    u32(sampleRate)
    u32(sampleRate &* blockAlign)
    u16(blockAlign)
    u16(bitsPerSample)
    data.append(contentsOf: Array("data".utf8))
    u32(payload)
    for frame in 0..<frames { for channel in 0..<channels { u16(Int(sample(frame, channel))) } }
    return data
}

@Suite("Audio files")
struct AudioFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "recordings-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    let ramp: [Int16] = (0..<8000).map { Int16(truncatingIfNeeded: $0 * 8 - 32000) }

    @Test(arguments: ["a.wav", "a.raw"])
    func sixteenBitFilesRoundTripExactly(name: String) throws {
        try AudioFile.write(
            ramp, sampleRate: 8000, to: path(name), format: AudioOutputFormat(path: path(name), encoding: nil))
        let back = try AudioFile.read(path(name))
        #expect(back.sampleRate == 8000 && back.channels == 1)
        #expect(back.samples.map { Int16($0) } == ramp)
    }

    @Test(arguments: [
        ("u.wav", SampleEncoding.ulaw), ("a.wav", .alaw), ("u.ul", .ulaw), ("a.al", .alaw), ("u.raw", .ulaw),
    ])
    func g711FilesDecodeToWhatTheCodecPasses(name: String, encoding: SampleEncoding) throws {
        let format = try AudioOutputFormat(path: path(name), encoding: encoding)
        #expect(format.encoding == encoding)
        try AudioFile.write(ramp, sampleRate: 8000, to: path(name), format: format)
        let size = try FileManager.default.attributesOfItem(atPath: path(name))[.size] as? Int ?? 0
        #expect(size >= ramp.count && size < ramp.count + 100, "one byte a sample")
        // A headerless .raw holding G.711 can only be read back through its encoding; skip reading that one.
        guard name != "u.raw" else { return }
        let back = try AudioFile.read(path(name))
        #expect(back.samples.map { Int16($0) } == ramp.map(encoding.roundTrip))
    }

    @Test func stereoIsMixedToMonoByAveraging() throws {
        try wavBytes(channels: 2, sampleRate: 16000, frames: 100) { _, channel in channel == 0 ? 1000 : 3000 }
            .write(to: URL(fileURLWithPath: path("stereo.wav")))
        let audio = try AudioFile.read(path("stereo.wav"))
        #expect(audio.channels == 2 && audio.sampleRate == 16000 && audio.samples.count == 100)
        #expect(audio.samples.allSatisfy { $0 == 2000 })
        #expect(audio.container.hasPrefix("WAV") && audio.encoding.contains("16"))
    }

    @Test func outputExtensionsSelectTheFormat() throws {
        #expect(
            try AudioOutputFormat(path: "x.wav", encoding: nil) == AudioOutputFormat(container: .wav, encoding: .pcm16))
        #expect(
            try AudioOutputFormat(path: "x.WAV", encoding: .alaw) == AudioOutputFormat(container: .wav, encoding: .alaw)
        )
        #expect(
            try AudioOutputFormat(path: "x.ul", encoding: nil) == AudioOutputFormat(container: .raw, encoding: .ulaw))
        #expect(
            try AudioOutputFormat(path: "x.al", encoding: .alaw) == AudioOutputFormat(container: .raw, encoding: .alaw))
        #expect(throws: RecordingError.self) { try AudioOutputFormat(path: "x.mp3", encoding: nil) }
        #expect(throws: RecordingError.self) { try AudioOutputFormat(path: "x", encoding: nil) }
        #expect(throws: RecordingError.self) { try AudioOutputFormat(path: "x.ul", encoding: .alaw) }
    }

    // MARK: - Damaged and hostile files: each gives its own error naming the file

    func expectError(_ file: String, contains fragment: String, limits: AudioLimits = AudioLimits()) {
        do {
            _ = try AudioFile.read(file, limits: limits)
            Issue.record("\(file) was read without error")
        } catch {
            let message = error.description
            #expect(message.contains(file), "\(message)")
            #expect(message.contains(fragment), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    @Test func aMissingFileIsNamed() {
        expectError(path("missing.wav"), contains: "no such file")
    }

    @Test func anEmptyFileHoldsNoAudio() throws {
        FileManager.default.createFile(atPath: path("empty.wav"), contents: Data())
        expectError(path("empty.wav"), contains: "holds no audio")
    }

    @Test func garbageIsNotAnAudioFile() throws {
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(
            to: URL(fileURLWithPath: path("garbage.wav")))
        expectError(path("garbage.wav"), contains: "not a readable audio file")
    }

    @Test func aTruncatedHeaderIsNotAnAudioFile() throws {
        try wavBytes(channels: 1, sampleRate: 8000, frames: 10).prefix(30).write(
            to: URL(fileURLWithPath: path("short.wav")))
        expectError(path("short.wav"), contains: "not a readable audio file")
    }

    @Test func aDirectoryIsRefused() {
        expectError(directory.path, contains: "directory")
    }

    @Test func anAbsurdSampleRateIsRefused() throws {
        try wavBytes(channels: 1, sampleRate: 2_147_483_647, frames: 100).write(
            to: URL(fileURLWithPath: path("rate.wav")))
        expectError(path("rate.wav"), contains: "sample rate 2147483647 Hz")
    }

    @Test func tooManyChannelsAreRefused() throws {
        try wavBytes(channels: 16, sampleRate: 8000, frames: 10).write(to: URL(fileURLWithPath: path("many.wav")))
        expectError(path("many.wav"), contains: "16 channels")
    }

    @Test func sizeAndDurationLimitsAreEnforced() throws {
        try wavBytes(channels: 1, sampleRate: 8000, frames: 16000).write(
            to: URL(fileURLWithPath: path("two-seconds.wav")))
        var limits = AudioLimits()
        limits.maximumDurationSeconds = 1
        expectError(path("two-seconds.wav"), contains: "longer than the limit of 1.0 s", limits: limits)
        limits = AudioLimits()
        limits.maximumFileBytes = 1000
        expectError(path("two-seconds.wav"), contains: "more than the limit of 1000 bytes", limits: limits)
    }

    @Test func aFailedWriteLeavesNoFile() {
        let target = directory.appendingPathComponent("no-such-dir/out.wav").path
        #expect(throws: RecordingError.self) {
            try AudioFile.write(
                ramp, sampleRate: 8000, to: target, format: AudioOutputFormat(container: .wav, encoding: .pcm16))
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}
