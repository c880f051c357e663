// Where a frame's events go: straight into the host's `events` array while it has room and nothing older
// waits, else into the handle's queue, which hands them out on the next call (never dropped). Delivering
// directly leaves nothing to do after the render in the common case: no drain, no count to store.

/// The events of one real-time call.
struct EventSink {
    /// The host's array, `room` entries.
    let events: UnsafeMutablePointer<cs_event>
    /// max_events, the size_t it is in C.
    let room: UInt
    /// The host's count of the events written to `events`.
    let eventCount: UnsafeMutablePointer<Int>
    /// The handle's queue: events that do not fit, and the events of earlier calls still waiting.
    let queue: EventQueue

    /// Hands `event` to the host, or queues it behind those already waiting.
    @inline(__always)
    func put(_ event: cs_event) {
        let n = eventCount.pointee
        if UInt(bitPattern: n) < room && queue.count == 0 {
            if event.kind == CS_EVENT_FINISHED { queue.noteFinished() }
            events[n] = event
            eventCount.pointee = n + 1
        } else {
            queue.push(event)
        }
    }
}
