import CSpanDSP
import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

/// spandsp's DTMF receiver (the reference the issue names), at 8 kHz.
func spandspReceive(_ samples: [Int16]) -> String {
    guard let receiver = dtmf_rx_init(nil, nil, nil) else { return "<spandsp init failed>" }
    defer { dtmf_rx_free(receiver) }
    var mutable = samples
    var at = 0
    while at < mutable.count {
        let n = min(160, mutable.count - at)
        mutable.withUnsafeMutableBufferPointer { _ = dtmf_rx(receiver, $0.baseAddress! + at, Int32(n)) }
        at += n
    }
    var digits = [CChar](repeating: 0, count: 256)
    let count = digits.withUnsafeMutableBufferPointer { dtmf_rx_get(receiver, $0.baseAddress, 255) }
    return String(decoding: digits.prefix(Int(count)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite("Interoperability with spandsp")
struct SpanDSPInteropTests {
    let all16 = "1234567890*#ABCD"

    @Test(arguments: ["x.wav", "x-ulaw.wav", "x-alaw.wav", "x.ul", "x.al", "x.raw"])
    func spandspDecodesEveryDigitOfCallseqDTMFExactly(file: String) throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent(file).path
        var arguments = ["dtmf", all16, "-o", path]
        if file.contains("-ulaw") { arguments += ["--encoding", "ulaw"] }
        if file.contains("-alaw") { arguments += ["--encoding", "alaw"] }
        let result = try CommandRunner.run(CommandRunner.callseqPath, arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let audio = try AudioFile.read(path)
        #expect(spandspReceive(audio.samples.map { Int16($0) }) == all16)
    }

    @Test func spandspDecodesShortFastDigitsAtSpandspsOwnTiming() throws {
        // spandsp's own transmitter timing: 50 ms tones, 55 ms gaps.
        let audio = try DTMFGenerator.render(
            DialString(all16 + all16), timing: DTMFTiming(toneMilliseconds: 50, gapMilliseconds: 55), sampleRate: 8000)
        #expect(spandspReceive(audio) == all16 + all16)
    }

    @Test func ourReceiverDecodesSpandspsTransmitter() throws {
        for (on, off) in [(50, 55), (40, 40), (100, 100)] {
            guard let transmitter = dtmf_tx_init(nil) else {
                Issue.record("dtmf_tx_init failed")
                return
            }
            defer { dtmf_tx_free(transmitter) }
            dtmf_tx_set_timing(transmitter, Int32(on), Int32(off))
            _ = dtmf_tx_put(transmitter, all16, -1)
            var audio: [Int16] = []
            var chunk = [Int16](repeating: 0, count: 160)
            while true {
                let n = chunk.withUnsafeMutableBufferPointer { dtmf_tx(transmitter, $0.baseAddress, 160) }
                if n <= 0 { break }
                audio += chunk.prefix(Int(n))
            }
            audio += [Int16](repeating: 0, count: 800)
            var detector = try DTMFDetector(sampleRate: 8000)
            let found = detector.detect(audio)
            #expect(String(found.map(\.digit.character)) == all16, "spandsp timing \(on)/\(off) ms")
        }
    }

    @Test func g711EncodersMatchSpandspForAll65536Inputs() {
        var muMismatches = 0
        var aMismatches = 0
        for value in Int16.min...Int16.max {
            if MuLaw.encode(value) != linear_to_ulaw(Int32(value)) { muMismatches += 1 }
            if ALaw.encode(value) != linear_to_alaw(Int32(value)) { aMismatches += 1 }
        }
        #expect(muMismatches == 0)
        #expect(aMismatches == 0)
        let decodeMismatches = (UInt8.min...UInt8.max).filter {
            MuLaw.decode($0) != ulaw_to_linear($0) || ALaw.decode($0) != alaw_to_linear($0)
        }
        #expect(decodeMismatches.isEmpty)
    }

    @Test func g711WavBytesAreSpandspsCodes() throws {
        // libsndfile's own mu-law encoder rounds negative samples differently; the file must carry our codes.
        let dir = try temporaryDirectory()
        let ramp = (0..<65536).map { Int16(truncatingIfNeeded: $0 - 32768) }
        for (name, encoding) in [("u.wav", SampleEncoding.ulaw), ("a.wav", .alaw)] {
            let path = dir.appendingPathComponent(name).path
            try AudioFile.write(
                ramp, sampleRate: 8000, to: path, format: AudioOutputFormat(container: .wav, encoding: encoding))
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let payload = [UInt8](data.suffix(65536))
            let expected = ramp.map { encoding == .ulaw ? linear_to_ulaw(Int32($0)) : linear_to_alaw(Int32($0)) }
            #expect(data.count > 65536)
            #expect(zip(payload, expected).filter { $0 != $1 }.count == 0, "\(encoding)")
        }
    }
}
