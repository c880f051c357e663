// What a compressed file's own bytes say about its end, where libsndfile does not tell: libsndfile 1.2
// plays what is left of a cut Ogg or MP3 file and reports no error. Two containers carry enough to know:
// - Ogg (RFC 3533 §6): every page states its length (27-byte header, segment table, lacing values), and
//   the last page of a logical stream has the end-of-stream flag (header type 0x04). A file whose last
//   page runs past the end of the file, or whose last page lacks that flag, was cut.
// - MPEG audio (ISO/IEC 11172-3 §2.4.2.3, 13818-3): every frame's header gives its length, so a file
//   whose last frame runs past the end was cut inside that frame. The first frame may be a Xing/Info
//   (LAME) or VBRI (Fraunhofer) frame holding the stream's frame count; only then is libsndfile's frame
//   count exact (mpg123 otherwise estimates it from the file size), and only then can a file cut on a
//   frame boundary be told from a shorter file.
// Everything here reads untrusted bytes: every offset is checked against the size, nothing traps.

/// Bytes of a file or of memory, read through a 64 KiB window.
final class ByteReader {
    /// The data's size in bytes.
    let size: Int
    private let fill: (_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) -> Int
    private var window: [UInt8] = []
    private var windowStart = 0

    /// `fill` copies bytes from `offset` into the buffer and returns how many it copied.
    init(size: Int, fill: @escaping (_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) -> Int) {
        self.size = max(size, 0)
        self.fill = fill
    }

    /// The byte at `offset`, or `nil` past the end.
    func byte(_ offset: Int) -> UInt8? {
        guard offset >= 0, offset < size else { return nil }
        if offset < windowStart || offset >= windowStart + window.count {
            windowStart = offset
            window = [UInt8](repeating: 0, count: min(65536, size - offset))
            let got = window.withUnsafeMutableBytes { fill(offset, $0) }
            window.removeLast(window.count - min(max(got, 0), window.count))
            guard !window.isEmpty else { return nil }
        }
        return window[offset - windowStart]
    }

    /// `count` bytes from `offset` as a big-endian number, or `nil` if they run past the end.
    func bigEndian(_ offset: Int, _ count: Int) -> Int? {
        var value = 0
        for index in 0..<count {
            guard let byte = byte(offset + index) else { return nil }
            value = value << 8 | Int(byte)
        }
        return value
    }

    /// Whether the bytes at `offset` are `text` (ASCII).
    func matches(_ offset: Int, _ text: String) -> Bool {
        for (index, expected) in text.utf8.enumerated() where byte(offset + index) != expected { return false }
        return true
    }
}

/// Truncation found in a container's own structure.
enum ContainerEnding {
    /// An Ogg page's capture pattern, "OggS" (RFC 3533 §6).
    static let oggCapture: [UInt8] = Array("OggS".utf8)

    /// How an Ogg file ends: `nil` if its last page is whole and ends the stream, else what was found.
    static func ogg(_ data: ByteReader) -> String? {
        var offset = 0
        var lastFlags = 0
        var pages = 0
        while offset < data.size {
            guard data.matches(offset, "OggS") else {
                // Not a page: bytes libsndfile skipped. Only a cut header is ours to report: fewer than 4 bytes
                // left that begin "OggS" (a remainder that does begin "OggS" is checked above). Anything else
                // after the last page (padding, a tag) is not a page at all.
                let left = data.size - offset
                let cutCapture = left < 4 && (0..<left).allSatisfy { data.byte(offset + $0) == oggCapture[$0] }
                return cutCapture && pages > 0 ? "the last Ogg page is cut short" : nil
            }
            guard let flags = data.byte(offset + 5), let segments = data.byte(offset + 26),
                offset + 27 + Int(segments) <= data.size
            else { return "the last Ogg page is cut short" }
            var body = 0
            for index in 0..<Int(segments) { body += Int(data.byte(offset + 27 + index) ?? 0) }
            let end = offset + 27 + Int(segments) + body
            guard end <= data.size else { return "the last Ogg page is cut short" }
            lastFlags = Int(flags)
            pages += 1
            offset = end
        }
        return pages > 0 && lastFlags & 0x04 == 0 ? "the Ogg stream has no end-of-stream page" : nil
    }

    /// What an MPEG audio file's frames say about its end.
    struct MPEG {
        /// The first frame is a Xing/Info or VBRI frame with the stream's frame count.
        var hasFrameCount = false
        /// What was found, if the last frame is cut.
        var cut: String?
        /// Samples per frame (1152 for MPEG-1 Layer III).
        var samplesPerFrame = 1152
    }

    /// Walks an MPEG audio file's frames (after an ID3v2 tag) to its end.
    static func mpeg(_ data: ByteReader) -> MPEG {
        var result = MPEG()
        var offset = 0
        if data.matches(0, "ID3"), let sizes = data.bigEndian(6, 4), let flags = data.byte(5) {
            // ID3v2 §3.1: a synchsafe size (7 bits a byte) after the 10-byte header, and a footer if flagged.
            let size =
                (sizes >> 3 & 0x0FE0_0000) | (sizes >> 2 & 0x001F_C000) | (sizes >> 1 & 0x3F80)
                | (sizes & 0x7F)
            offset = 10 + size + (flags & 0x10 != 0 ? 10 : 0)
        }
        var first = true
        while offset < data.size {
            guard let header = data.bigEndian(offset, 4), let frame = Frame(header) else {
                // Fewer than 4 bytes left count as a cut frame only if they begin with a frame sync (11 set
                // bits: FF, then a byte with its top 3 bits set, if there is one); else they are not a frame.
                let second = data.byte(offset + 1)
                if data.size - offset < 4, data.byte(offset) == 0xFF, second.map({ $0 & 0xE0 == 0xE0 }) ?? true,
                    !first
                {
                    result.cut = "the last MPEG frame is cut short"
                }
                return result  // an ID3v1/APE tag, or bytes mpg123 skips: nothing to say
            }
            if first {
                result.samplesPerFrame = frame.samples
                result.hasFrameCount = hasFrameCount(data, at: offset, frame)
                first = false
            }
            guard offset + frame.bytes <= data.size else {
                result.cut = "the last MPEG frame is cut short (\(data.size - offset) of its \(frame.bytes) bytes)"
                return result
            }
            offset += frame.bytes
        }
        return result
    }

    /// Whether the frame at `offset` is a Xing/Info frame with its frame-count flag, or a VBRI frame.
    static func hasFrameCount(_ data: ByteReader, at offset: Int, _ frame: Frame) -> Bool {
        // Xing follows the side information: 32/17 bytes (MPEG-1 stereo/mono), 17/9 (MPEG-2 and 2.5).
        let side = frame.version == 3 ? (frame.mono ? 17 : 32) : (frame.mono ? 9 : 17)
        let xing = offset + 4 + side
        if frame.layer == 1, data.matches(xing, "Xing") || data.matches(xing, "Info") {
            return (data.bigEndian(xing + 4, 4) ?? 0) & 1 != 0 && (data.bigEndian(xing + 8, 4) ?? 0) > 0
        }
        // VBRI is always 32 bytes after the header; its frame count is at +14.
        return data.matches(offset + 36, "VBRI") && (data.bigEndian(offset + 36 + 14, 4) ?? 0) > 0
    }

    /// An MPEG audio frame header (ISO/IEC 11172-3 §2.4.2.3).
    struct Frame {
        /// 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5.
        let version: Int
        /// 1: Layer III, 2: Layer II, 3: Layer I (the header's coding).
        let layer: Int
        let mono: Bool
        /// The frame's length in bytes, header included.
        let bytes: Int
        /// Samples per channel in the frame.
        let samples: Int

        init?(_ header: Int) {
            guard header >> 21 & 0x7FF == 0x7FF else { return nil }
            let version = header >> 19 & 3
            let layer = header >> 17 & 3
            let bitrateIndex = header >> 12 & 15
            let rateIndex = header >> 10 & 3
            guard version != 1, layer != 0, bitrateIndex != 0, bitrateIndex != 15, rateIndex != 3 else { return nil }
            let mpeg1 = version == 3
            let kbps: [Int]
            switch (mpeg1, layer) {
            case (true, 3): kbps = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448]
            case (true, 2): kbps = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384]
            case (true, _): kbps = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
            case (false, 3): kbps = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256]
            case (false, _): kbps = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
            }
            let rates = [44100, 48000, 32000]
            let rate = rates[rateIndex] >> (version == 3 ? 0 : version == 2 ? 1 : 2)
            let bitrate = kbps[bitrateIndex] * 1000
            let padding = header >> 9 & 1
            self.version = version
            self.layer = layer
            self.mono = header >> 6 & 3 == 3
            switch layer {
            case 3:
                bytes = (12 * bitrate / rate + padding) * 4
                samples = 384
            case 2:
                bytes = 144 * bitrate / rate + padding
                samples = 1152
            default:
                bytes = (mpeg1 ? 144 : 72) * bitrate / rate + padding
                samples = mpeg1 ? 1152 : 576
            }
        }
    }
}
