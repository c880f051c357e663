import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

@Suite("Recording library, cache and normalisation")
struct RecordingLibraryTests {
    @Test func aDirectoryNamesRecordingsByFileNameWithoutExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["welcome.wav", "door-code.mp3", ".hidden.wav", "notes.txt"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([1]))
        }
        let library = try RecordingLibrary(directory: dir.path)
        #expect(library.names == ["door-code", "welcome"])
        #expect(try library.path(for: .named("welcome")) == dir.appendingPathComponent("welcome.wav").path)
        #expect(try library.path(for: .none) == nil)
    }

    @Test func twoFilesWithTheSameNameAreAnError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["welcome.wav", "welcome.mp3"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([1]))
        }
        #expect {
            try RecordingLibrary(directory: dir.path)
        } throws: {
            ($0 as? RecordingError)?.description.contains(
                "'welcome.mp3' and 'welcome.wav' have the same recording name") ?? false
        }
    }

    @Test func anUnknownNameListsTheKnownOnes() throws {
        let library = RecordingLibrary(files: ["welcome": "/x/welcome.wav", "bye": "/x/bye.wav"])
        #expect {
            try library.path(for: .named("welcom"))
        } throws: {
            ($0 as? RecordingError)?.description.contains("no recording named 'welcom' (known: bye, welcome") ?? false
        }
    }

    @Test func choicesReadFromJSONText() {
        #expect(RecordingChoice("none") == .none)
        #expect(RecordingChoice("default") == .systemDefault)
        #expect(RecordingChoice("welcome") == .named("welcome"))
    }

    @Test func theSystemDefaultPromptShipsWithTheLibrary() throws {
        let cache = RecordingCache(library: .empty)
        let prompt = try #require(try cache.recording(.systemDefault, sampleRate: 8000, encoding: .alaw))
        #expect(abs(Double(prompt.count) / 8000 - 2.121) < 0.01)
        #expect(prompt.loudness.activeLevelDbm0 > -25 && prompt.loudness.activeLevelDbm0 < -5)
        #expect(prompt.encoded == ReferenceG711.aLaw(prompt.pcm))
        #expect(try cache.recording(.none, sampleRate: 8000, encoding: .alaw) == nil)
    }

    @Test func concurrentFirstRequestsDecodeOnceAndShareTheResult() throws {
        let library = RecordingLibrary(files: ["prompt-44k-stereo": testAudioPath("formats/prompt-44k-stereo.flac")])
        let cache = RecordingCache(library: library)
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let prepared = try? cache.recording(.named("prompt-44k-stereo"), sampleRate: 8000, encoding: .ulaw)
            results.append(prepared.map(ObjectIdentifier.init))
        }
        #expect(cache.decodeCount == 1)
        #expect(Set(results.values.compactMap { $0 }).count == 1)
        #expect(results.values.count == 16 && results.values.allSatisfy { $0 != nil })
        // Another rate or encoding is another preparation.
        _ = try cache.recording(.named("prompt-44k-stereo"), sampleRate: 16000, encoding: .pcm16)
        _ = try cache.recording(.named("prompt-44k-stereo"), sampleRate: 8000, encoding: .ulaw)
        #expect(cache.decodeCount == 2)
    }

    @Test func aFailedDecodeIsNotCached() throws {
        let cache = RecordingCache(library: RecordingLibrary(files: ["bad": testAudioPath("damaged/truncated.wav")]))
        #expect(throws: RecordingError.self) { try cache.recording(.named("bad"), sampleRate: 8000, encoding: .pcm16) }
        #expect(throws: RecordingError.self) { try cache.recording(.named("bad"), sampleRate: 8000, encoding: .pcm16) }
        #expect(cache.decodeCount == 2)
    }

    @Test func normalisationSetsTheActiveLevel() throws {
        let audio = try AudioFile.read(testAudioPath("formats/prompt-8k-ulaw.wav"))
        for target in [-26.0, -20, -16] {
            let prepared = try PreparedRecording(
                audio, name: "p", sampleRate: 8000, encoding: .pcm16, normalizeToDbm0: target)
            #expect(abs(prepared.loudness.activeLevelDbm0 - target) < 0.1, "target \(target)")
            #expect(prepared.normalization?.limitedByPeak == false)
        }
    }

    @Test func normalisationStopsAtThePeak() throws {
        // The prompt peaks at 0 dBm0 with an active level of -13.7: reaching -3 would clip.
        let audio = try AudioFile.read(testAudioPath("formats/prompt-8k-ulaw.wav"))
        let prepared = try PreparedRecording(audio, name: "p", sampleRate: 8000, encoding: .pcm16, normalizeToDbm0: -3)
        #expect(prepared.normalization?.limitedByPeak == true)
        #expect(prepared.pcm.map { abs(Int($0)) }.max() ?? 0 <= 32767)
        #expect(prepared.loudness.peak >= 32700)
    }

    @Test func silenceIsMeasuredAsSilentAndLeftAlone() throws {
        var samples = [Float](repeating: 0, count: 8000)
        let measured = Loudness.measure(samples, sampleRate: 8000)
        #expect(measured.rmsDbm0 == -.infinity && measured.activeLevelDbm0 == -.infinity)
        let result = Loudness.normalize(&samples, sampleRate: 8000, toDbm0: -20)
        #expect(result.gainDb == 0 && samples.allSatisfy { $0 == 0 })
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [ObjectIdentifier?] = []
    func append(_ value: ObjectIdentifier?) {
        lock.lock()
        storage.append(value)
        lock.unlock()
    }
    var values: [ObjectIdentifier?] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
