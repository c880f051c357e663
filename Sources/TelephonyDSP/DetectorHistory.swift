/// The receiver's sample history (the previous half-window, then the current one), held in memory of its own so
/// that a frame reaches it through a plain pointer: no array is made or released per frame, so processing does
/// no reference counting. A detector copied from another shares it until either processes audio or resets: then
/// the first one to do so takes a copy, as an array would (``DTMFDetector/reset()`` gives each call its own once).
@usableFromInline
final class DetectorHistory: @unchecked Sendable {
    /// The first of `count` samples.
    @usableFromInline let base: UnsafeMutablePointer<Float>
    /// The number of samples.
    @usableFromInline let count: Int

    /// `count` zero samples.
    @usableFromInline
    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    /// A copy of these samples in new memory.
    @usableFromInline
    func copy() -> DetectorHistory {
        let other = DetectorHistory(count: count)
        other.base.update(from: base, count: count)
        return other
    }

    deinit { base.deallocate() }
}
