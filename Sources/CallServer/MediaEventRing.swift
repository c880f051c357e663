// A single-producer single-consumer ring of plain values: the media thread posts events (and calls whose
// resources are to be freed), the engine's event thread takes them. Fixed capacity, two atomic indices,
// no lock and no allocation; when full, `push` fails and the producer decides (drop a notice, or retry a
// call's end at the next tick).

import CallSequenceEngine
import CallSequenceModel
import Synchronization

/// One record of the ring.
struct MediaRecord {
    enum Kind {
        /// An event for the handler.
        case event(MediaEvent.Kind)
        /// The media thread has let go of the call: release its port, session and buffer.
        case released(session: Unmanaged<IVRSession>, callerAudio: UnsafeMutablePointer<Int16>)
    }
    var call: UInt64
    var kind: Kind
}

final class MediaEventRing: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<MediaRecord>
    private let mask: Int
    private let head = Atomic<Int>(0)  // next to pop (consumer)
    private let tail = Atomic<Int>(0)  // next to push (producer)

    /// A ring of at least `minimumCapacity` records (a power of two).
    init(minimumCapacity: Int) {
        var capacity = 16
        while capacity < minimumCapacity { capacity *= 2 }
        storage = .allocate(capacity: capacity)
        mask = capacity - 1
    }

    deinit { storage.deallocate() }

    /// Posts a record (producer thread only). Returns false when the ring is full.
    @inline(__always)
    func push(_ record: MediaRecord) -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t - head.load(ordering: .acquiring) <= mask else { return false }
        (storage + (t & mask)).initialize(to: record)
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// Takes the oldest record (consumer thread only).
    func pop() -> MediaRecord? {
        let h = head.load(ordering: .relaxed)
        guard h != tail.load(ordering: .acquiring) else { return nil }
        let record = (storage + (h & mask)).move()
        head.store(h + 1, ordering: .releasing)
        return record
    }
}
