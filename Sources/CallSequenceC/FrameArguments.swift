// The checks every real-time call makes on the host's buffers before touching them.

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
}
