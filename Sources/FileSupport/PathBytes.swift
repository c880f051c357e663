// File names are bytes on POSIX systems (POSIX.1-2017 §3.170: any bytes but "/" and NUL), not UTF-8 text,
// while Swift strings hold Unicode. A name that is not valid UTF-8 (a Latin-1 upload, "\xff.wav") would be
// repaired to U+FFFD by String(cString:) and then name another file, or none. Here each byte of an
// invalid UTF-8 sequence is kept as one private-use scalar (U+10FF80...U+10FFFF for bytes 0x80...0xFF,
// the way Python's "surrogateescape" keeps them), so the string converts back to the very same bytes at
// every system call, and errors show it escaped as `\xFF`.

import TelephonyDSP

/// Lossless conversion between file-name bytes and strings.
package enum PathBytes {
    /// The first scalar standing for a raw byte (U+10FF00 + byte, for bytes 0x80...0xFF).
    static let base: UInt32 = 0x10_FF00

    /// The string for a file name's bytes: valid UTF-8 as text, every other byte kept as a private-use scalar.
    package static func string<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let bytes = Array(bytes)
        if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: isRawByte) {
            return text
        }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length =
                lead < 0x80
                ? 1
                : lead >= 0xC2 && lead <= 0xDF
                    ? 2
                    : lead >= 0xE0 && lead <= 0xEF
                        ? 3
                        : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0
            if length > 0, index + length <= bytes.count,
                let text = String(validating: bytes[index..<(index + length)], as: UTF8.self),
                let scalar = text.unicodeScalars.first, !isRawByte(scalar)
            {
                scalars.append(scalar)
                index += length
            } else {
                // An escape scalar is itself escaped byte by byte, so that it round-trips too.
                scalars.append(Unicode.Scalar(base + UInt32(lead)) ?? "?")
                index += 1
            }
        }
        return String(scalars)
    }

    /// The string for a NUL-terminated C file name (`readdir`, `realpath`, `argv`).
    package static func string(cString: UnsafePointer<CChar>) -> String {
        var length = 0
        while cString[length] != 0 { length += 1 }
        return cString.withMemoryRebound(to: UInt8.self, capacity: length) {
            string(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The bytes a string stands for (its UTF-8, with every kept byte back in place).
    package static func bytes(_ path: String) -> [UInt8] {
        guard path.unicodeScalars.contains(where: isRawByte) else { return Array(path.utf8) }
        var out: [UInt8] = []
        for scalar in path.unicodeScalars {
            if isRawByte(scalar) {
                out.append(UInt8(truncatingIfNeeded: scalar.value - base))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// Calls `body` with the path as the C string of its bytes.
    package static func withCString<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        guard path.unicodeScalars.contains(where: isRawByte) else { return try path.withCString(body) }
        let raw = bytes(path).map { CChar(bitPattern: $0) } + [0]
        return try raw.withUnsafeBufferPointer { try body($0.baseAddress!) }  // never empty: it holds the NUL
    }

    /// The path as it may be shown in a message: kept bytes as `\xFF`, control and bidirectional-override
    /// characters as `\u{1B}`; everything else as it is.
    package static func display(_ path: String) -> String {
        var out = ""
        for scalar in path.unicodeScalars {
            if isRawByte(scalar) {
                let byte = String(scalar.value - base, radix: 16, uppercase: true)
                out += "\\x" + (byte.count < 2 ? "0" : "") + byte
            } else if InputText.isForbidden(scalar) || scalar.properties.generalCategory == .format {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func isRawByte(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= base + 0x80 && scalar.value <= base + 0xFF
    }
}
