// The little the engine needs from the file system, on POSIX calls (stat, opendir/readdir, open/read)
// rather than Foundation: the engine is embedded in C hosts (libcallsequence.so), and Foundation would
// bring ICU (about 30 MB) into their processes. Paths are plain strings with "/" separators, converted to
// the name's own bytes at every system call (PathBytes: a name that is not UTF-8 is kept as given).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths, directory listings and whole-file reads without Foundation.
package enum FileSystem {
    /// What a path names.
    package enum Kind: Sendable, Hashable {
        /// Nothing (or something that cannot be reached).
        case missing
        /// A regular file of this many bytes.
        case file(bytes: Int)
        /// A directory.
        case directory
        /// Anything else (device, socket, FIFO).
        case other
    }

    /// What `path` names, following symbolic links (`stat(2)`).
    package static func kind(of path: String) -> Kind {
        var info = stat()
        guard PathBytes.withCString(path, { stat($0, &info) }) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file(bytes: Int(info.st_size))
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// The names in a directory, without "." and "..", unsorted; `nil` if it cannot be read.
    package static func entries(of directory: String) -> [String]? {
        guard let handle = PathBytes.withCString(directory, { opendir($0) }) else { return nil }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            // d_name is read in place up to its NUL: the record may be shorter than struct dirent.
            let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
            let name = UnsafeMutableRawPointer(entry).advanced(by: nameOffset)
                .withMemoryRebound(to: UInt8.self, capacity: 256) { start in
                    PathBytes.string(
                        UnsafeBufferPointer(
                            start: start,
                            count: strnlen(
                                UnsafeRawPointer(start)
                                    .assumingMemoryBound(to: CChar.self), 256)))
                }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Why a whole-file read failed: a struct with a ``Kind`` to switch on, one static member per kind and a
    /// one-phrase ``description``, like every error of the package.
    package struct ReadError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Why the read failed.
        package enum Kind: Sendable, Hashable {
            /// No such file.
            case notFound
            /// A directory, or another kind of non-file.
            case notAFile
            /// A directory.
            case directory
            /// The caller may not read it.
            case permissionDenied
            /// Larger than the limit (its size in bytes).
            case tooLarge(Int)
            /// `open` or `read` failed (the system's message).
            case failed(String)
        }

        /// Why the read failed.
        package let kind: Kind

        package init(_ kind: Kind) { self.kind = kind }

        /// No such file.
        package static let notFound = ReadError(.notFound)
        /// Not a regular file.
        package static let notAFile = ReadError(.notAFile)
        /// A directory.
        package static let directory = ReadError(.directory)
        /// The caller may not read it.
        package static let permissionDenied = ReadError(.permissionDenied)
        /// Larger than the limit (its size in bytes).
        package static func tooLarge(_ bytes: Int) -> ReadError { ReadError(.tooLarge(bytes)) }
        /// `open` or `read` failed (the system's message).
        package static func failed(_ reason: String) -> ReadError { ReadError(.failed(reason)) }

        /// The cause as one phrase: "no such file", "is a directory", "is not a regular file",
        /// "permission denied".
        package var description: String {
            switch kind {
            case .notFound: return "no such file"
            case .notAFile: return "is not a regular file"
            case .directory: return "is a directory"
            case .permissionDenied: return "permission denied"
            case .tooLarge(let bytes): return "\(bytes) bytes is too large"
            case .failed(let reason): return "cannot be read: \(reason)"
            }
        }
    }

    /// Opens `path` for reading if it is a regular file, checked on the opened descriptor (`fstat(2)`),
    /// so that nothing can swap the file between the check and the read. The open itself never blocks
    /// (O_NONBLOCK: a FIFO would wait for a writer; it is refused once open) and never makes a terminal
    /// the controlling one (O_NOCTTY).
    ///
    /// - Returns: the descriptor (blocking again) and the file's size; the caller closes it.
    package static func openRegularFile(_ path: String) throws(ReadError) -> (descriptor: Int32, bytes: Int) {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .notFound
            case EACCES, EPERM: throw .permissionDenied
            case let code: throw .failed(String(cString: strerror(code)))
            }
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .failed(reason)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            let flags = fcntl(fd, F_GETFL)
            if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
            return (fd, Int(info.st_size))
        case S_IFDIR:
            close(fd)
            throw .directory
        default:
            close(fd)
            throw .notAFile
        }
    }

    /// The canonical absolute path of `path` with every symbolic link resolved (`realpath(3)`), or `nil`.
    package static func resolved(_ path: String) -> String? {
        guard let pointer = PathBytes.withCString(path.isEmpty ? "." : path, { realpath($0, nil) }) else { return nil }
        defer { free(pointer) }
        return PathBytes.string(cString: pointer)
    }

    /// Whether the canonical path `path` is `root` or inside it (both from ``resolved(_:)``).
    package static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }

    /// Reads a whole regular file.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - limit: the largest size accepted, in bytes.
    /// - Returns: its bytes.
    /// - Throws: ``ReadError``.
    package static func contents(of path: String, limit: Int) throws(ReadError) -> [UInt8] {
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        if size > limit { throw .tooLarge(size) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw .failed(String(cString: strerror(errno)))
            }
            if got == 0 { break }
            // The file may grow after stat: bound what is kept, not only what was announced.
            guard bytes.count + got <= limit else { throw .tooLarge(bytes.count + got) }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return bytes
    }

    // MARK: - Paths

    /// The last component: `"a/b.wav"` → `"b.wav"`.
    package static func lastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.last == "/" { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/"), trimmed != "/" else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// The path without its last component: `"a/b.wav"` → `"a"`, `"b.wav"` → `""`, `"/b"` → `"/"`.
    package static func deletingLastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.last == "/" { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        var parent = trimmed[..<slash]
        while parent.count > 1, parent.last == "/" { parent.removeLast() }
        return parent.isEmpty ? "/" : String(parent)
    }

    /// `directory` and `name` joined by one "/" (`name` alone when `directory` is empty).
    package static func appending(_ name: String, to directory: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The extension of the last component, without the dot: `"a/b.WAV"` → `"WAV"`; `""` if none
    /// (a leading dot, as in `".hidden"`, does not start an extension).
    package static func pathExtension(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// The last component without its extension: `"a/b.wav"` → `"b"`.
    package static func deletingExtension(_ name: String) -> String {
        let ext = pathExtension(name)
        return ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
    }
}
