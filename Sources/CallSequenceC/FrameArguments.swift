// The checks every real-time call makes on the host's buffers before touching them, and the frame call that
// cs_player_render, cs_call_render and cs_detector_process share: check, open the event queue's gate, work,
// hand out the events.

/// Checks of a frame's arguments.
enum FrameArguments {
    /// The largest frame of a player or detector call, in samples.
    static let maximumCount = 1 << 24

    /// The failure of these arguments, or `.none`.
    @inline(__always)
    static func check(
        samples: UnsafeRawPointer?, count: Int, maximumCount: Int, int16: Bool,
        events: UnsafeMutablePointer<cs_event>?, maxEvents: Int, eventCount: UnsafeMutablePointer<Int>?
    ) -> CallFailure {
        // The common case in one test: every pointer set, 1 <= count <= maximum, room for an event, aligned.
        // (size_t arrives as Int: a count above Int.max is negative here, and refused as too large.)
        let aligned = !int16 || Int(bitPattern: samples) & 1 == 0
        if samples != nil, events != nil, eventCount != nil, UInt(bitPattern: count &- 1) < UInt(maximumCount),
           maxEvents != 0, aligned {
            return .none
        }
        guard samples != nil else { return .samplesNull }
        guard events != nil else { return .eventsNull }
        guard eventCount != nil else { return .eventCountNull }
        guard count != 0 else { return .countZero }
        guard count > 0, count <= maximumCount else { return .countTooLarge }
        guard maxEvents != 0 else { return .maxEventsZero }
        if int16, let samples, Int(bitPattern: samples) & 1 != 0 { return .misaligned }
        return .none
    }

    /// How many events fit: max_events (size_t, so a huge value arrives negative) as a positive bound.
    @inline(__always)
    static func room(_ maxEvents: Int) -> Int { maxEvents < 0 ? Int.max : maxEvents }

    /// One real-time call on a frame: checks the host's arguments (`refusal`, a check of the caller's own,
    /// comes after the common ones), hands out the events waiting from earlier calls first (and only them,
    /// when more than ``EventQueue/pendingLimit`` wait), then runs `body` on the frame with an ``EventSink``
    /// for its events. Returns `count`, or 0 when `body` did not run (`failure` says why). `*eventCount` is
    /// set whenever it is not NULL. When nothing waits, the queue costs one test, and nothing is left to do
    /// after `body`.
    @inline(__always)
    static func run(
        samples: UnsafeMutableRawPointer?, count: Int, maximumCount: Int, int16: Bool, refusal: CallFailure = .none,
        events: UnsafeMutablePointer<cs_event>?, maxEvents: Int, eventCount: UnsafeMutablePointer<Int>?,
        queue: EventQueue, failure: inout CallFailure, _ body: (UnsafeMutableRawPointer, EventSink) -> Void
    ) -> Int {
        var check = Self.check(samples: samples, count: count, maximumCount: maximumCount, int16: int16,
                               events: events, maxEvents: maxEvents, eventCount: eventCount)
        if check == .none { check = refusal }
        guard check == .none, let samples, let events, let eventCount else {
            failure = check
            eventCount?.pointee = 0
            return 0
        }
        let sink = EventSink(events: events, room: room(maxEvents), eventCount: eventCount, queue: queue)
        eventCount.pointee = 0
        if queue.count != 0 {
            // Events of earlier calls wait: they go first, at offset 0 of this frame.
            queue.ageWaiting()
            let accepted = queue.acceptsCall
            eventCount.pointee = queue.drain(into: events, maximum: sink.room)
            guard accepted else {
                failure = .eventsPending
                return 0
            }
        }
        failure = .none
        body(samples, sink)
        return count
    }
}
