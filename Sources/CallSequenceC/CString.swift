// C strings in and out of the C API: arguments read with a bound on their length and checked as UTF-8,
// results copied into storage that a handle owns (or that lives as long as the process).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and making NUL-terminated UTF-8 strings.
enum CString {
    /// The longest string argument read (paths, numbers), in bytes.
    static let maximumArgumentBytes = 4096

    /// A string argument, checked: not NULL, NUL-terminated within ``maximumArgumentBytes``, UTF-8.
    ///
    /// - Parameters:
    ///   - pointer: the C string.
    ///   - name: the argument's name in the error message.
    ///   - function: the C function, for the message.
    static func argument(
        _ pointer: UnsafePointer<CChar>?, _ name: String, in function: String
    ) throws(APIError) -> String {
        guard let pointer else { throw APIError(CS_ERR_NULL, "\(function): \(name) is NULL") }
        let length = strnlen(pointer, maximumArgumentBytes + 1)
        guard length <= maximumArgumentBytes else {
            throw APIError(CS_ERR_ARGUMENT, "\(function): \(name) is longer than \(maximumArgumentBytes) bytes")
        }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw APIError(CS_ERR_ARGUMENT, "\(function): \(name) is not valid UTF-8")
        }
        return text
    }

    /// A copy of `text` that the caller frees with `deallocate()` (a NUL byte inside ends it there).
    static func owned(_ text: String) -> UnsafeMutablePointer<CChar> {
        let bytes = text.utf8.prefix { $0 != 0 }
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        var i = 0
        for byte in bytes {
            copy[i] = CChar(bitPattern: byte)
            i += 1
        }
        copy[i] = 0
        return copy
    }

    /// A copy of `text` that is never freed (static texts of the library).
    static func permanent(_ text: String) -> UnsafePointer<CChar> { UnsafePointer(owned(text)) }

    /// `text` on one line: line breaks become "; ".
    static func oneLine(_ text: String) -> String {
        text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" })
            .joined(separator: "; ")
    }
}
