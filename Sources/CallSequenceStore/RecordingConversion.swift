// Recordings as the store keeps them: the original upload, its media type sniffed from its bytes, and its
// telephony conversion. One pipeline for every way a recording comes in (the API's upload, `callseq import`),
// so that calls play the same audio whichever way it came.

import CallSequenceModel
import Recordings

/// A recording converted for calls as `callseq convert` does: decoded from memory (libsndfile), mixed to mono,
/// resampled to 8 kHz (libsoxr), kept as a 16-bit PCM WAV.
package enum RecordingConversion {
    /// Calls play 8 kHz (G.711); the conversion is kept at that rate.
    package static let rate = 8000

    /// The conversion of `upload` (the bytes of an audio file), its duration and what the decoder found.
    ///
    /// - Throws: `RecordingError` with the decoder's reason (damaged, too long, not audio).
    package static func convert(
        _ upload: [UInt8], name: String
    ) throws(RecordingError)
        -> (wav: [UInt8], durationMs: Int, metadata: JSONValue)
    {
        var audioLimits = AudioLimits()
        audioLimits.maximumFileBytes = max(upload.count, 1)
        let audio = try AudioFile.decode(upload, name: name, limits: audioLimits)
        let prepared = try PreparedRecording(audio, name: name, sampleRate: rate, encoding: .pcm16)
        let durationMs = prepared.count * 1000 / rate
        let metadata = JSONValue.object([
            ("container", .string(audio.container)), ("encoding", .string(audio.encoding)),
            ("sourceSampleRate", .number(Double(audio.sampleRate))),
            ("sourceChannels", .number(Double(audio.channels))),
            ("sampleRate", .number(Double(rate))),
            (
                "activeLevelDbm0",
                prepared.loudness.activeLevelDbm0.isFinite
                    ? .number((prepared.loudness.activeLevelDbm0 * 10).rounded() / 10) : .null
            ),
        ])
        return (WAVFile.pcm16(prepared.pcm, sampleRate: rate), durationMs, metadata)
    }
}

/// What an upload is, from its first bytes (never from its Content-Type): the containers libsndfile decodes.
package enum AudioSniffer {
    /// The media type of the audio container `bytes` starts with, or nil when it is not one.
    package static func mediaType(of bytes: [UInt8]) -> String? {
        func ascii(_ text: String, at offset: Int = 0) -> Bool {
            let tag = Array(text.utf8)
            guard bytes.count >= offset + tag.count else { return false }
            return Array(bytes[offset..<(offset + tag.count)]) == tag
        }
        if (ascii("RIFF") || ascii("RF64") || ascii("RIFX")) && ascii("WAVE", at: 8) { return "audio/wav" }
        if ascii("FORM") && (ascii("AIFF", at: 8) || ascii("AIFC", at: 8)) { return "audio/aiff" }
        if ascii("fLaC") { return "audio/flac" }
        if ascii("OggS") { return "audio/ogg" }
        if ascii("ID3") { return "audio/mpeg" }
        if ascii(".snd") { return "audio/basic" }
        if ascii("caff") { return "audio/x-caf" }
        if ascii("riff") && bytes.count >= 24 && ascii("wave", at: 24) { return "audio/x-w64" }
        // An MPEG audio frame header: 11 sync bits, a version that exists, layer I-III (ISO/IEC 11172-3 §2.4.2.3).
        if bytes.count >= 4, bytes[0] == 0xFF, bytes[1] & 0xE0 == 0xE0, (bytes[1] >> 3) & 0x3 != 1,
            (bytes[1] >> 1) & 0x3 != 0,
            bytes[2] >> 4 != 0xF
        {
            return "audio/mpeg"
        }
        return nil
    }
}

/// A WAV file in memory: RIFF, 16-bit PCM, mono (what `callseq convert` writes for .wav).
package enum WAVFile {
    package static func pcm16(_ samples: [Int16], sampleRate: Int) -> [UInt8] {
        let dataBytes = samples.count * 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataBytes)
        func u32(_ v: Int) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        func u16(_ v: Int) { for i in 0..<2 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        out += Array("RIFF".utf8)
        u32(36 + dataBytes)
        out += Array("WAVE".utf8)
        out += Array("fmt ".utf8)
        u32(16)
        u16(1)
        u16(1)
        u32(sampleRate)
        u32(sampleRate * 2)
        u16(2)
        u16(16)
        out += Array("data".utf8)
        u32(dataBytes)
        for s in samples { u16(Int(s)) }
        return out
    }
}
