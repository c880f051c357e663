// The host's log handler (cs_set_log_handler): the library's messages go into the host's own logger. Only
// compiling and loading log, never a real-time call. The handler is process-wide, behind a mutex.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The log handler and its user pointer.
final class Log: @unchecked Sendable {
    // @unchecked: every access to the handler goes through the mutex.
    typealias Handler = @convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var handler: Handler?
    private var user: UnsafeMutableRawPointer?

    private init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    static let shared = Log()

    func set(_ handler: Handler?, user: UnsafeMutableRawPointer?) {
        pthread_mutex_lock(mutex)
        self.handler = handler
        self.user = user
        pthread_mutex_unlock(mutex)
    }

    /// Hands `message` (made one line) to the host's handler, if there is one.
    static func write(_ level: cs_log_level, _ message: @autoclosure () -> String) {
        pthread_mutex_lock(shared.mutex)
        let handler = shared.handler
        let user = shared.user
        pthread_mutex_unlock(shared.mutex)
        guard let handler else { return }
        CString.oneLine(message()).withCString { handler(Int32(bitPattern: level.rawValue), $0, user) }
    }
}

@c @implementation
public func cs_set_log_handler(
    _ handler: (@convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void)?,
    _ user: UnsafeMutableRawPointer?
) {
    Log.shared.set(handler, user: user)
}
