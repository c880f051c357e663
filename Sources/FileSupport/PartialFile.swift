// The file being written, so that a command-line tool interrupted by SIGINT or SIGTERM can remove it
// from its signal handler. The handler may only make async-signal-safe calls (POSIX.1-2017 §2.4.3):
// the path is kept as a C string allocated before the write starts, and the handler only reads the
// pointer and calls unlink(2). A library never installs handlers itself: hosts that want this call
// ``PartialFile/installSignalHandlers()`` (the callseq CLI does).

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary file an ``AudioFile`` write is filling, removable from a signal handler.
package enum PartialFile {
    // The C string of the current temporary path, or 0. An atomic word: read by the handler without locks.
    private static let current = Atomic<Int>(0)

    package static func begin(_ path: String) {
        let copy = PathBytes.withCString(path) { strdup($0) }
        let old = current.exchange(Int(bitPattern: copy), ordering: .sequentiallyConsistent)
        if old != 0 { free(UnsafeMutableRawPointer(bitPattern: old)) }
    }

    package static func end() {
        let old = current.exchange(0, ordering: .sequentiallyConsistent)
        if old != 0 { free(UnsafeMutableRawPointer(bitPattern: old)) }
    }

    /// Removes the file being written, if any (async-signal-safe: one atomic load and unlink(2)).
    package static func removeFromSignalHandler() {
        let pointer = current.load(ordering: .sequentiallyConsistent)
        if let path = UnsafePointer<CChar>(bitPattern: pointer) { unlink(path) }
    }

    /// Installs SIGINT and SIGTERM handlers that remove the partial file, then die of the signal as
    /// before (exit status 128 + signal).
    /// The two signals are also unblocked: a parent may have started the process with them blocked.
    package static func installSignalHandlers() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                PartialFile.removeFromSignalHandler()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}
