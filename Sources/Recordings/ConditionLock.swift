// A mutex with a condition variable on pthreads (Foundation's NSCondition without Foundation), for the
// recording cache: compile-time code only, never the audio thread.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex and condition variable, allocated once so that their addresses never move.
final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are made for sharing between threads.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        // Timed waits measure CLOCK_MONOTONIC, so that setting the wall clock neither shortens nor stretches them.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }

    func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits for ``broadcast()``; the lock must be held, and is held again on return.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for ``broadcast()`` or until `deadline` (``now()`` seconds); returns `false` once the deadline
    /// has passed. The lock must be held, and is held again on return.
    func wait(until deadline: Double) -> Bool {
        guard deadline > Self.now() else { return false }
        #if canImport(Darwin)
        // Darwin's condition variables measure the wall clock: wait the time left, fraction of a second included
        // (a wait under 1 s would otherwise return at once and its caller would spin).
        var relative = Self.timeSpec(seconds: max(deadline - Self.now(), 0))
        pthread_cond_timedwait_relative_np(condition, mutex, &relative)
        #else
        var time = Self.timeSpec(seconds: deadline)
        pthread_cond_timedwait(condition, mutex, &time)
        #endif
        return true
    }

    /// `seconds` as a timespec: whole seconds and nanoseconds in 0...999_999_999.
    private static func timeSpec(seconds: Double) -> timespec {
        var time = timespec()
        // Clamped so that no conversion traps, even for an infinite deadline (a NaN one fails the guard in wait).
        let whole = min(max(seconds.rounded(.down), 0), Double(Int32.max))
        time.tv_sec = Int(whole)
        time.tv_nsec = Int(min(max((seconds - whole) * 1e9, 0), 999_999_999))
        return time
    }

    /// Seconds on CLOCK_MONOTONIC.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }
}
