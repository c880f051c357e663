// The per-handle queue of events not yet handed to the host: a fixed ring of cs_event allocated with the
// handle. Events that do not fit in the host's `events` array wait here for the next call; none is dropped.
// Its capacity is the most events one call can produce plus CS_EVENTS_PENDING_LIMIT, and a call starts only
// while at most that many wait, so it never overflows. Only raw pointers: copying the queue into a closure
// allocates and retains nothing.

/// A fixed-size FIFO of events: one pointer to its state and slots, so that the render paths load one word
/// for it and their event closures capture one word.
struct EventQueue {
    /// The most events that may wait before a real-time call (CS_EVENTS_PENDING_LIMIT).
    static let pendingLimit = 64

    /// The queue's state; the slots are an allocation of their own.
    private struct Storage {
        var first = 0
        var count = 0
        /// Events that could not be queued (never, by construction).
        var lost = 0
        /// Whether a finished event was queued.
        var finished = false
        let capacity: Int
        let slots: UnsafeMutablePointer<cs_event>
    }

    private let storage: UnsafeMutablePointer<Storage>

    /// A queue for calls that produce at most `perCall` events each.
    init(perCall: Int) {
        let capacity = max(1, perCall) + EventQueue.pendingLimit
        let slots = UnsafeMutablePointer<cs_event>.allocate(capacity: capacity)
        slots.initialize(repeating: cs_event(), count: capacity)
        storage = .allocate(capacity: 1)
        storage.initialize(to: Storage(capacity: capacity, slots: slots))
    }

    /// Frees the storage (the owner's deinit).
    func deallocate() {
        storage.pointee.slots.deallocate()
        storage.deallocate()
    }

    /// Room for this many events.
    var capacity: Int { storage.pointee.capacity }

    /// Events waiting.
    var count: Int {
        @inline(__always) get { storage.pointee.count }
    }

    /// Whether a call may start: at most ``pendingLimit`` events wait.
    var acceptsCall: Bool { storage.pointee.count <= EventQueue.pendingLimit }

    /// Events that could not be queued (zero unless an event bound is wrong).
    var lost: Int { storage.pointee.lost }

    /// Whether an event of kind CS_EVENT_FINISHED has been queued or handed out (the owner's end).
    var queuedFinish: Bool { storage.pointee.finished }

    /// Whether the owner's end has been handed to the host: its finished event out, nothing waiting.
    var deliveredFinish: Bool {
        @inline(__always) get { storage.pointee.finished && storage.pointee.count == 0 }
    }

    /// Appends an event.
    @inline(__always)
    func push(_ event: cs_event) {
        if event.kind == CS_EVENT_FINISHED { storage.pointee.finished = true }
        let capacity = storage.pointee.capacity
        guard storage.pointee.count < capacity else {
            storage.pointee.lost &+= 1
            return
        }
        var index = storage.pointee.first + storage.pointee.count
        if index >= capacity { index -= capacity }
        storage.pointee.slots[index] = event
        storage.pointee.count += 1
    }

    /// Records that the owner's finished event went to the host directly (see ``deliveredFinish``).
    @inline(__always)
    func noteFinished() { storage.pointee.finished = true }

    /// Marks the waiting events as from an earlier frame (offset 0), before a new frame's events follow them.
    func ageWaiting() {
        let capacity = storage.pointee.capacity
        let slots = storage.pointee.slots
        var index = storage.pointee.first
        for _ in 0..<storage.pointee.count {
            slots[index].offset = 0
            index += 1
            if index == capacity { index = 0 }
        }
    }

    /// Moves up to `maximum` events, oldest first, into `events`; returns how many.
    @inline(__always)
    func drain(into events: UnsafeMutablePointer<cs_event>, maximum: Int) -> Int {
        storage.pointee.count == 0 ? 0 : drainSlowly(into: events, maximum: maximum)
    }

    private func drainSlowly(into events: UnsafeMutablePointer<cs_event>, maximum: Int) -> Int {
        let capacity = storage.pointee.capacity
        let slots = storage.pointee.slots
        let n = min(maximum, storage.pointee.count)
        var index = storage.pointee.first
        for i in 0..<n {
            events[i] = slots[index]
            index += 1
            if index == capacity { index = 0 }
        }
        storage.pointee.first = index
        storage.pointee.count -= n
        if storage.pointee.count == 0 { storage.pointee.first = 0 }
        return n
    }

    /// Forgets every waiting event, and the end (a detector's reset).
    func clear() {
        storage.pointee.first = 0
        storage.pointee.count = 0
        storage.pointee.finished = false
    }
}

extension cs_event {
    /// An event of `kind` with every other field at its neutral value (sequence and ivr -1).
    @inline(__always)
    init(_ kind: cs_event_kind, sample: Int, offset: Int) {
        self.init()
        self.kind = kind
        self.sample = Int64(sample)
        self.offset = Int32(truncatingIfNeeded: offset)
        sequence = -1
        ivr = -1
    }
}

/// The character of a DTMF event code (RFC 4733: 0-9, 10 = *, 11 = #, 12-15 = A-D).
@inline(__always)
func digitCharacter(_ code: UInt8) -> CChar {
    switch code {
    case 0...9: return CChar(48 + Int(code))  // '0'...'9'
    case 10: return 42  // '*'
    case 11: return 35  // '#'
    default: return CChar(65 + Int(code & 15) - 12)  // 'A'...'D'
    }
}
