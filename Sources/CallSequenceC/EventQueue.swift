// The per-handle queue of events not yet handed to the host: a fixed ring of cs_event allocated with the
// handle. Events that do not fit in the host's `events` array wait here for the next call; none is dropped.
// Its capacity is the most events one call can produce plus CS_EVENTS_PENDING_LIMIT, and a call starts only
// while at most that many wait, so it never overflows. Only raw pointers: copying the queue into a closure
// allocates and retains nothing.

/// A fixed-size FIFO of events.
struct EventQueue {
    /// The most events that may wait before a real-time call (CS_EVENTS_PENDING_LIMIT).
    static let pendingLimit = 64

    private let slots: UnsafeMutablePointer<cs_event>
    // [0] first, [1] count, [2] lost (never, by construction), [3] a finished event was queued
    private let state: UnsafeMutablePointer<Int>
    /// Room for this many events.
    let capacity: Int

    /// A queue for calls that produce at most `perCall` events each.
    init(perCall: Int) {
        capacity = max(1, perCall) + EventQueue.pendingLimit
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: cs_event(), count: capacity)
        state = .allocate(capacity: 4)
        state.initialize(repeating: 0, count: 4)
    }

    /// Frees the storage (the owner's deinit).
    func deallocate() {
        slots.deallocate()
        state.deallocate()
    }

    /// Events waiting.
    var count: Int { state[1] }

    /// Whether a call may start: at most ``pendingLimit`` events wait.
    var acceptsCall: Bool { state[1] <= EventQueue.pendingLimit }

    /// Events that could not be queued (zero unless an event bound is wrong).
    var lost: Int { state[2] }

    /// Whether an event of kind CS_EVENT_FINISHED has been queued (the owner's end).
    var queuedFinish: Bool { state[3] != 0 }

    /// Whether the owner's end has been handed to the host: its finished event queued, nothing waiting.
    var deliveredFinish: Bool { state[3] != 0 && state[1] == 0 }

    /// Appends an event.
    @inline(__always)
    func push(_ event: cs_event) {
        if event.kind == CS_EVENT_FINISHED { state[3] = 1 }
        guard state[1] < capacity else {
            state[2] &+= 1
            return
        }
        var index = state[0] + state[1]
        if index >= capacity { index -= capacity }
        slots[index] = event
        state[1] += 1
    }

    /// Marks the waiting events as from an earlier frame (offset 0), before a new frame's events follow them.
    @inline(__always)
    func ageWaiting() {
        if state[1] != 0 { ageWaitingSlowly() }
    }

    private func ageWaitingSlowly() {
        var index = state[0]
        for _ in 0..<state[1] {
            slots[index].offset = 0
            index += 1
            if index == capacity { index = 0 }
        }
    }

    /// Moves up to `maximum` events, oldest first, into `events`; returns how many.
    @inline(__always)
    func drain(into events: UnsafeMutablePointer<cs_event>, maximum: Int) -> Int {
        state[1] == 0 ? 0 : drainSlowly(into: events, maximum: maximum)
    }

    private func drainSlowly(into events: UnsafeMutablePointer<cs_event>, maximum: Int) -> Int {
        let n = min(maximum, state[1])
        var index = state[0]
        for i in 0..<n {
            events[i] = slots[index]
            index += 1
            if index == capacity { index = 0 }
        }
        state[0] = index
        state[1] -= n
        if state[1] == 0 { state[0] = 0 }
        return n
    }

    /// Forgets every waiting event, and the end (a detector's reset).
    func clear() {
        state[0] = 0
        state[1] = 0
        state[3] = 0
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
    case 0...9: return CChar(48 + Int(code))          // '0'...'9'
    case 10: return 42                                  // '*'
    case 11: return 35                                  // '#'
    default: return CChar(65 + Int(code & 15) - 12)     // 'A'...'D'
    }
}
