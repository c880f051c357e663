import Foundation
import Recordings
import TestSupport
import Testing

/// Compressed files cut short: refused where the file says how long it is or how its last page or frame ends,
/// and the README's list of what is not detectable checked too.
@Suite("Truncated compressed files")
struct TruncationTests {
    func bytes(_ fixture: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: testAudioPath("formats/" + fixture))))
    }

    func lastIndex(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        var index = bytes.count - pattern.count
        while index >= 0 {
            if Array(bytes[index..<(index + pattern.count)]) == pattern { return index }
            index -= 1
        }
        return nil
    }

    /// The first MPEG frame header after the middle of `bytes` (FF, `second`, masked `third`, `fourth`).
    func frameStart(in bytes: [UInt8], second: UInt8, thirdMask: UInt8, third: UInt8, fourth: UInt8?) -> Int? {
        var index = bytes.count / 2
        while index + 4 < bytes.count {
            if bytes[index] == 0xFF, bytes[index + 1] == second, bytes[index + 2] & thirdMask == third,
                fourth.map({ bytes[index + 3] == $0 }) ?? true
            {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The error for `bytes` decoded from memory and from a file of the same name; both must agree.
    func error(_ bytes: [UInt8], name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("truncation-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fromFile = #expect(throws: RecordingError.self) { try AudioFile.read(path) }
        let fromMemory = #expect(throws: RecordingError.self) { try AudioFile.decode(bytes, name: name) }
        let message = fromMemory?.description ?? "no error"
        #expect(fromFile?.description == message.replacingOccurrences(of: name, with: path))
        #expect(!message.contains("\n"))
        return message
    }

    @Test func aFlacFileCutOnAFrameBoundaryIsRefusedWithBothDurations() throws {
        let whole = try bytes("prompt-44k-stereo.flac")
        // A FLAC frame starts with the sync code FF F8 (fixed block size); cut just before one.
        let boundary = try #require(frameStart(in: whole, second: 0xF8, thirdMask: 0x00, third: 0x00, fourth: nil))
        let message = try error(Array(whole.prefix(boundary)), name: "cut.flac")
        // STREAMINFO announces 99076 frames (2.25 s); libsndfile decodes what is left without an error.
        #expect(message.hasPrefix("cut.flac: truncated: 1."), "\(message)")
        #expect(message.hasSuffix(" s of 2.25 s"), "\(message)")
    }

    @Test func aFlacFileCutInsideAFrameIsRefusedAsTruncated() throws {
        let whole = try bytes("prompt-44k-stereo.flac")
        let message = try error(Array(whole.prefix(whole.count / 2)), name: "cut.flac")
        // libsndfile stops with an error here; the file's own count says what it is.
        #expect(message.hasPrefix("cut.flac: truncated: "), "\(message)")
        #expect(message.hasSuffix(" s of 2.25 s (flac decoder lost sync)"), "\(message)")
    }

    @Test(arguments: ["prompt-44k.ogg", "prompt-48k.opus"])
    func anOggFileCutInsideAPageIsRefused(fixture: String) throws {
        let whole = try bytes(fixture)
        let name = "cut." + (fixture as NSString).pathExtension
        let message = try error(Array(whole.prefix(whole.count / 2)), name: name)
        #expect(message.hasPrefix(name + ": truncated: "), "\(message)")
        #expect(message.hasSuffix(" s decoded, the last Ogg page is cut short"), "\(message)")
    }

    @Test(arguments: ["prompt-44k.ogg", "prompt-48k.opus"])
    func anOggFileCutOnAPageBoundaryIsRefusedForItsMissingLastPage(fixture: String) throws {
        let whole = try bytes(fixture)
        // Drop the last page (the one with the end-of-stream flag): every page left is whole.
        let last = try #require(lastIndex(of: Array("OggS".utf8), in: whole))
        #expect(whole[last + 5] & 0x04 != 0)
        let message = try error(Array(whole.prefix(last)), name: "cut.ogg")
        #expect(message.hasSuffix(" s decoded, the Ogg stream has no end-of-stream page"), "\(message)")
    }

    @Test func aVBRMP3WithAXingFrameCountIsRefusedWhenCutOnAFrameBoundary() throws {
        let whole = try bytes("prompt-22k-vbr.mp3")
        // Cut on the boundary of a frame near the middle (MPEG-2 Layer III, 22.05 kHz: headers FF F3 xx C4).
        let middle = try #require(frameStart(in: whole, second: 0xF3, thirdMask: 0x00, third: 0x00, fourth: 0xC4))
        let message = try error(Array(whole.prefix(middle)), name: "cut.mp3")
        #expect(message.hasPrefix("cut.mp3: truncated: "), "\(message)")
        #expect(message.hasSuffix(" of 2.25 s"), "\(message)")
    }

    @Test func aCBRMP3CutInsideAFrameIsRefused() throws {
        let whole = try bytes("prompt-44k-stereo.mp3")  // CBR 64 kbit/s, no Xing frame
        // Half is a frame boundary in this file (44 frames of 208 or 209 bytes); 100 bytes on is inside a frame.
        let message = try error(Array(whole.prefix(whole.count / 2 + 100)), name: "cut.mp3")
        #expect(message.hasPrefix("cut.mp3: truncated: "), "\(message)")
        #expect(message.contains(" s decoded, the last MPEG frame is cut short ("), "\(message)")
    }

    @Test func aCBRMP3WithoutXingCutOnAFrameBoundaryCannotBeToldFromAShorterFile() throws {
        // The README says so: nothing in such a file says how long it was.
        let whole = try bytes("prompt-44k-stereo.mp3")
        let middle = try #require(frameStart(in: whole, second: 0xFB, thirdMask: 0xFD, third: 0x50, fourth: 0x64))
        let audio = try AudioFile.decode(Array(whole.prefix(middle)), name: "cut.mp3")
        #expect(audio.duration > 1 && audio.duration < 1.3)
    }

    @Test(arguments: [("prompt-16k.caf", 1000), ("prompt-8k-ima-adpcm.wav", 4000), ("prompt-8k-gsm610.wav", 1500)])
    func aCutDataChunkIsRefusedWithBothSizes(fixture: String, cut: Int) throws {
        // The README's first row: libsndfile's log has the data chunk's declared and present sizes.
        let whole = try bytes(fixture)
        let name = "cut." + (fixture as NSString).pathExtension
        let message = try error(Array(whole.prefix(whole.count - cut)), name: name)
        #expect(message.hasPrefix(name + ": truncated: the header announces "), "\(message)")
    }

    @Test(arguments: ["prompt-44k.ogg", "prompt-48k.opus", "prompt-44k-stereo.mp3", "prompt-22k-vbr.mp3"])
    func cutsAndFlippedBytesInPageAndFrameHeadersNeverTrap(fixture: String) throws {
        // The container checks read untrusted bytes: random cuts with bytes flipped near the start and the end
        // (headers, lacing tables, Xing frames) give an error or audio, never a trap. Seeded, so repeatable.
        let whole = try bytes(fixture)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % max(bound, 1)
        }
        for _ in 0..<40 {
            var mutated = Array(whole.prefix(1 + next(whole.count)))
            for _ in 0..<4 {
                let region =
                    next(2) == 0 ? next(min(400, mutated.count)) : mutated.count - 1 - next(min(400, mutated.count))
                mutated[region] ^= UInt8(truncatingIfNeeded: 1 << next(8))
            }
            _ = try? AudioFile.decode(mutated, name: "mutated." + (fixture as NSString).pathExtension)
        }
    }

    @Test func aWholeFileWithBytesAfterItsLastOggPageOrMPEGFrameStillDecodes() throws {
        // An ID3v1 tag after the last MP3 frame is not a cut frame.
        var mp3 = try bytes("prompt-44k-stereo.mp3")
        mp3 += Array("TAG".utf8) + [UInt8](repeating: 0x20, count: 125)
        #expect(abs(try AudioFile.decode(mp3, name: "tagged.mp3").duration - 101376.0 / 44100) < 0.001)
        let vbr = try bytes("prompt-22k-vbr.mp3")
        #expect(abs(try AudioFile.decode(vbr, name: "whole.mp3").duration - masterDuration) < 0.001)
        // Fewer than 4 bytes that are no frame sync (FF, then a byte whose top 3 bits are not all set).
        let untagged = try bytes("prompt-44k-stereo.mp3")
        let padded3 = try AudioFile.decode(untagged + [0xFF, 0x00], name: "padded.mp3")
        #expect(abs(padded3.duration - 101376.0 / 44100) < 0.001)
        // Fewer than 27 bytes after a whole Ogg file's last page that do not begin "OggS": not a cut page.
        let ogg = try bytes("prompt-44k.ogg")
        let padded = ogg + [UInt8](repeating: 0, count: 10)
        #expect(abs(try AudioFile.decode(padded, name: "padded.ogg").duration - masterDuration) < 0.0001)
    }

    @Test func aCutInsideTheFirstFourBytesOfAnOggPageOrMPEGFrameIsStillRefused() throws {
        // The last page cut after "Og": the remainder begins the capture pattern, so it is a cut page.
        let ogg = try bytes("prompt-44k.ogg")
        let last = try #require(lastIndex(of: Array("OggS".utf8), in: ogg))
        let oggMessage = try error(Array(ogg.prefix(last + 2)), name: "cut.ogg")
        #expect(oggMessage.hasSuffix(" s decoded, the last Ogg page is cut short"), "\(oggMessage)")
        // A CBR MP3 cut 2 bytes into a frame (FF FB): the remainder is a frame sync, so it is a cut frame.
        let mp3 = try bytes("prompt-44k-stereo.mp3")
        let middle = try #require(frameStart(in: mp3, second: 0xFB, thirdMask: 0xFD, third: 0x50, fourth: 0x64))
        let mp3Message = try error(Array(mp3.prefix(middle + 2)), name: "cut.mp3")
        #expect(mp3Message.hasSuffix(" s decoded, the last MPEG frame is cut short"), "\(mp3Message)")
    }
}
