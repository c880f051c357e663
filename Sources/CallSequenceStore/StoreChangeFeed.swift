// How `callseq serve --store` learns that the store changed, so that new calls play what was saved: a feed
// that answers once the change version (``Store/currentVersion()``) has moved. The SQLite store has one
// writer per file but any process may write it, so the feed polls; in the process that saves (the
// management API in `serve --http`) a write also wakes it at once. A PostgreSQL feed can wait on
// LISTEN/NOTIFY instead and plug in here.

import Synchronization

/// Tells a waiter that the store's content changed.
public protocol StoreChangeFeed: Sendable {
    /// Waits until the store's change version is above `version` (or the task is cancelled), and answers the
    /// version then. A feed may answer a version it has not verified is above `version`; the caller checks.
    ///
    /// - Throws: ``StoreError`` when the store cannot be read (the caller retries later), or
    ///   `CancellationError`.
    func nextVersion(after version: Int64) async throws -> Int64
}

/// A ``StoreChangeFeed`` that reads ``Store/currentVersion()`` every `interval` (across processes), and at
/// once when ``changed()`` is called (a write in this process).
public final class PollingChangeFeed: StoreChangeFeed {
    private let store: any Store
    private let interval: Duration
    private struct Waiting {
        var continuation: CheckedContinuation<Void, Never>?
        /// A ``changed()`` that no waiter has taken yet.
        var pending = false
        var generation: UInt64 = 0
    }
    private let waiting = Mutex(Waiting())

    /// A feed over `store` that polls every `interval` (250...500 ms is the design: a change reaches new calls
    /// well within a second).
    public init(store: any Store, interval: Duration = .milliseconds(300)) {
        self.store = store
        self.interval = interval
    }

    /// A change was just committed in this process: wake the waiter now.
    public func changed() {
        let continuation = waiting.withLock { w -> CheckedContinuation<Void, Never>? in
            guard let c = w.continuation else {
                w.pending = true
                return nil
            }
            w.continuation = nil
            return c
        }
        continuation?.resume()
    }

    public func nextVersion(after version: Int64) async throws -> Int64 {
        while true {
            try Task.checkCancellation()
            let now = try await store.currentVersion()
            if now > version { return now }
            await pause()
        }
    }

    /// Returns after `interval`, at a ``changed()``, or at cancellation, whichever is first.
    private func pause() async {
        let generation = waiting.withLock { w -> UInt64? in
            if w.pending {
                w.pending = false
                return nil
            }
            w.generation &+= 1
            return w.generation
        }
        guard let generation else { return }
        let timer = Task { [interval] in
            try? await Task.sleep(for: interval)
            self.wake(generation)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = waiting.withLock { w -> Bool in
                    if w.pending || w.generation != generation {
                        w.pending = false
                        return true
                    }
                    w.continuation = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.wake(generation)
        }
        timer.cancel()
    }

    private func wake(_ generation: UInt64) {
        let continuation = waiting.withLock { w -> CheckedContinuation<Void, Never>? in
            // A wake before the waiter is in place bumps the generation: the waiter then returns at once.
            guard w.generation == generation else { return nil }
            w.generation &+= 1
            defer { w.continuation = nil }
            return w.continuation
        }
        continuation?.resume()
    }
}
