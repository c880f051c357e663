import Dispatch
import Foundation
import Recordings
import Synchronization
import TestSupport
import Testing

/// A decode that hangs or fails must not hold the other requests for the same recording.
@Suite("Recording cache: slow and failing decodes")
struct RecordingCacheTimeoutTests {
    let library = RecordingLibrary(files: ["prompt": testAudioPath("formats/prompt-8k-ulaw.wav")])

    /// Runs `count` requests at once; returns each one's error text ("ok" if it succeeded) and its wait.
    func requests(_ cache: RecordingCache, count: Int) -> [(String, Double)] {
        let results = Mutex<[(String, Double)]>([])
        let group = DispatchGroup()
        // Threads of their own: all `count` requests must be waiting at once (a pool may run them in turns).
        for _ in 0..<count {
            group.enter()
            Thread {
                defer { group.leave() }
                let start = Date()
                let outcome: String
                do {
                    _ = try cache.recording(.named("prompt"), sampleRate: 8000, encoding: .ulaw)
                    outcome = "ok"
                } catch {
                    outcome = "\(error)"
                }
                results.withLock { $0.append((outcome, Date().timeIntervalSince(start))) }
            }.start()
        }
        group.wait()
        return results.withLock { $0 }
    }

    @Test func waitersOfAHungDecodeGetTheErrorAfterTheTimeoutAndTheNextRequestDecodesAgain() throws {
        let release = DispatchSemaphore(value: 0)
        let calls = Atomic<Int>(0)
        let cache = RecordingCache(library: library, decodeTimeout: 0.3) { path, limits throws(RecordingError) in
            // The first decode hangs (a stuck read) until the test releases it; later ones are normal.
            if calls.add(1, ordering: .sequentiallyConsistent).newValue == 1 { release.wait() }
            return try AudioFile.read(path, limits: limits)
        }
        // One request starts the hung decode; three others wait for it.
        let first = DispatchGroup()
        DispatchQueue.global().async(group: first) {
            _ = try? cache.recording(.named("prompt"), sampleRate: 8000, encoding: .ulaw)
        }
        while calls.load(ordering: .sequentiallyConsistent) == 0 { usleep(1000) }
        // Without a timeout the waiters would wait for this release (3 s) and then succeed: the test fails.
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) { release.signal() }
        let waiters = requests(cache, count: 3)
        #expect(waiters.count == 3)
        for (outcome, seconds) in waiters {
            #expect(
                outcome.hasSuffix(
                    "prompt-8k-ulaw.wav: decoding took longer than 0.3 s (another request is still decoding it)"),
                "\(outcome)")
            #expect(seconds >= 0.25 && seconds < 2, "waited \(seconds) s")
        }
        // The entry was released: the next request decodes again and gets the recording.
        let next = requests(cache, count: 1)
        #expect(next.first?.0 == "ok")
        #expect(cache.decodeCount == 2)
        // The hung decode, released at last, neither crashes nor replaces the newer entry.
        first.wait()
        #expect(requests(cache, count: 2).allSatisfy { $0.0 == "ok" })
        #expect(cache.decodeCount == 2)
    }

    @Test func aRequestAfterAHungDecodesDeadlineThatNobodyWaitedForDecodesAgain() throws {
        let release = DispatchSemaphore(value: 0)
        let calls = Atomic<Int>(0)
        let cache = RecordingCache(library: library, decodeTimeout: 0.3) { path, limits throws(RecordingError) in
            if calls.add(1, ordering: .sequentiallyConsistent).newValue == 1 { release.wait() }
            return try AudioFile.read(path, limits: limits)
        }
        let first = DispatchGroup()
        DispatchQueue.global().async(group: first) {
            _ = try? cache.recording(.named("prompt"), sampleRate: 8000, encoding: .ulaw)
        }
        while calls.load(ordering: .sequentiallyConsistent) == 0 { usleep(1000) }
        // Nobody waits while the deadline passes, so nobody released the entry; a request now never waited and
        // must not get the timeout: it decodes again (before the fix it failed at once).
        usleep(500_000)
        let late = requests(cache, count: 1)
        #expect(late.first?.0 == "ok", "\(late)")
        #expect(cache.decodeCount == 2)
        release.signal()
        first.wait()
        #expect(requests(cache, count: 2).allSatisfy { $0.0 == "ok" })
        #expect(cache.decodeCount == 2)
    }

    @Test func aFailingDecodeGivesEveryConcurrentRequestTheErrorWithoutHanging() throws {
        let cache = RecordingCache(library: library, decodeTimeout: 30) { path, _ throws(RecordingError) in
            usleep(50_000)
            throw .unreadable(path, reason: "injected failure")
        }
        let results = requests(cache, count: 4)
        #expect(results.count == 4)
        for (outcome, seconds) in results {
            #expect(outcome.hasSuffix("prompt-8k-ulaw.wav: not a readable audio file (injected failure)"), "\(outcome)")
            #expect(seconds < 5)
        }
        // Nothing cached: a later request tries again.
        let before = cache.decodeCount
        _ = requests(cache, count: 1)
        #expect(cache.decodeCount == before + 1)
    }
}
