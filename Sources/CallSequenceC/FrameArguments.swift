// The host's arguments of a real-time call on a frame, the checks made on them before anything is touched,
// and the call itself, which cs_player_render, cs_call_render and cs_detector_process share: check, let the
// events of earlier calls out first, work, hand out the events.

/// What the host passed to a frame call (`samples`, `count`, `events`, `max_events`, `event_count`).
struct FrameArguments {
    /// The largest frame of a player call, in samples.
    static let maximumCount = 1 << 24

    let samples: UnsafeMutableRawPointer?
    /// size_t as Int: a count above Int.max arrives negative, and is refused as too large.
    let count: Int
    let events: UnsafeMutablePointer<cs_event>?
    /// size_t as Int: a huge max_events arrives negative.
    let maxEvents: Int
    let eventCount: UnsafeMutablePointer<Int>?

    @inline(__always)
    init(
        _ samples: UnsafeMutableRawPointer?, _ count: Int, _ events: UnsafeMutablePointer<cs_event>?,
        _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
    ) {
        self.samples = samples
        self.count = count
        self.events = events
        self.maxEvents = maxEvents
        self.eventCount = eventCount
    }

    /// The failure of these arguments for frames of at most `maximumCount` samples (`int16`: samples must be
    /// 2-byte aligned), or `.none`: for the out-of-line call, which says what is wrong.
    func check(maximumCount: Int, int16: Bool) -> CallFailure {
        guard samples != nil else { return .samplesNull }
        guard events != nil else { return .eventsNull }
        guard eventCount != nil else { return .eventCountNull }
        guard count != 0 else { return .countZero }
        guard count > 0, count <= maximumCount else { return .countTooLarge }
        guard maxEvents != 0 else { return .maxEventsZero }
        if int16, let samples, Int(bitPattern: samples) & 1 != 0 { return .misaligned }
        return .none
    }

    /// How many events fit: max_events as a positive bound.
    var room: Int { maxEvents < 0 ? Int.max : maxEvents }

    /// The call, inline for the common case: good arguments and no event waiting. `body` works on the frame
    /// (`samples`, `count`) and puts its events into the sink, which hands them straight to the host. Anything
    /// else goes to `otherwise`: the handle's out-of-line ``run(maximumCount:int16:refusal:queue:failure:_:)``,
    /// as a tail call, so that the common path keeps only `count` across `body` (fewer registers saved and
    /// restored on every frame). `refusal` is a check of the caller's own, after the common ones.
    @inline(__always)
    func runCommonly(
        maximumCount: Int, int16: Bool, refusal: CallFailure = .none, queue: EventQueue,
        failure: inout CallFailure, otherwise: () -> Int, _ body: (UnsafeMutableRawPointer, Int, EventSink) -> Void
    ) -> Int {
        // The common case in a few tests: every pointer set, 1 <= count <= maximum, room for an event, aligned,
        // nothing waiting.
        guard let samples, let events, let eventCount, UInt(bitPattern: count &- 1) < UInt(maximumCount),
            maxEvents != 0, !int16 || Int(bitPattern: samples) & 1 == 0, refusal == .none, queue.count == 0
        else {
            return otherwise()
        }
        eventCount.pointee = 0
        failure = .none
        body(
            samples, count,
            EventSink(events: events, room: UInt(bitPattern: maxEvents), eventCount: eventCount, queue: queue))
        return count
    }

    /// The whole call: checks (`failure` records why nothing was done), hands out the events waiting from
    /// earlier calls first, at offset 0 of this frame (and only them while more than
    /// ``EventQueue/pendingLimit`` wait), then runs `body`. Returns `count`, or 0 when `body` did not run;
    /// `*eventCount` is set whenever it is not NULL.
    @inline(__always)
    func run(
        maximumCount: Int, int16: Bool, refusal: CallFailure = .none, queue: EventQueue,
        failure: inout CallFailure, _ body: (UnsafeMutableRawPointer, Int, EventSink) -> Void
    ) -> Int {
        var check = check(maximumCount: maximumCount, int16: int16)
        if check == .none { check = refusal }
        guard check == .none, let samples, let events, let eventCount else {
            failure = check
            eventCount?.pointee = 0
            return 0
        }
        eventCount.pointee = 0
        if queue.count != 0 {
            queue.ageWaiting()
            let accepted = queue.acceptsCall
            eventCount.pointee = queue.drain(into: events, maximum: room)
            guard accepted else {
                failure = .eventsPending
                return 0
            }
        }
        failure = .none
        body(
            samples, count,
            EventSink(events: events, room: UInt(bitPattern: maxEvents), eventCount: eventCount, queue: queue))
        return count
    }
}
