// cs_detector: the DTMF receiver on its own (TelephonyDSP's Goertzel receiver, Q.24 figures). Its history
// buffer is made with the handle (and again by reset), so processing allocates nothing.

import TelephonyDSP

/// What a `cs_detector *` points at.
final class DetectorHandle {
    @exclusivity(unchecked) var detector: DTMFDetector
    let queue: EventQueue
    /// The largest call: one second of samples.
    let maximumCount: Int
    @exclusivity(unchecked) var failure: CallFailure = .none

    init(_ detector: DTMFDetector) {
        self.detector = detector
        self.detector.reset()
        maximumCount = detector.sampleRate
        // A window is judged every `hop` samples and yields at most two events (one digit ends, the next
        // begins): a second of audio holds at most sampleRate / hop + 2 windows.
        queue = EventQueue(perCall: 2 * (detector.sampleRate / max(1, detector.hop) + 2))
    }

    deinit { queue.deallocate() }

    @inline(__always)
    static func from(_ pointer: OpaquePointer) -> Unmanaged<DetectorHandle> {
        Unmanaged.fromOpaque(UnsafeRawPointer(pointer))
    }

    @inline(__always)
    func process(_ frame: FrameArguments) -> Int {
        frame.runCommonly(
            maximumCount: maximumCount, int16: true, queue: queue, failure: &failure,
            otherwise: { processSlowly(frame) }, listen)
    }

    /// ``process(_:)`` with every check's status, and events of earlier calls waiting.
    @inline(never)
    func processSlowly(_ frame: FrameArguments) -> Int {
        frame.run(maximumCount: maximumCount, int16: true, queue: queue, failure: &failure, listen)
    }

    /// Listens to `count` samples, events into `sink`.
    @inline(__always)
    func listen(_ samples: UnsafeMutableRawPointer, _ count: Int, _ sink: EventSink) {
        let frameStart = detector.samplesProcessed
        detector.process(UnsafeBufferPointer(start: samples.assumingMemoryBound(to: Int16.self), count: count)) {
            sink.put(cs_event($0, offsetFrom: frameStart))
        }
    }
}

@c @implementation
public func cs_detector_new(_ sampleRate: Int32, _ error: UnsafeMutablePointer<OpaquePointer?>?) -> OpaquePointer? {
    CallFailure.prepare()
    return ErrorObject.catching(error) { () throws(APIError) -> OpaquePointer in
        let detector: DTMFDetector
        do {
            detector = try DTMFDetector(sampleRate: Int(sampleRate))
        } catch {
            throw APIError(
                CS_ERR_ARGUMENT,
                "cs_detector_new: sample_rate \(sampleRate) Hz is not supported (8000...48000)")
        }
        return OpaquePointer(Unmanaged.passRetained(DetectorHandle(detector)).toOpaque())
    }
}

@c @implementation
public func cs_detector_process(
    _ d: OpaquePointer?, _ samples: UnsafePointer<Int16>?, _ count: Int, _ events: UnsafeMutablePointer<cs_event>?,
    _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
) -> Int {
    guard let d else {
        eventCount?.pointee = 0
        return 0
    }
    return DetectorHandle.from(d)._withUnsafeGuaranteedRef {
        $0.process(FrameArguments(UnsafeMutableRawPointer(mutating: samples), count, events, maxEvents, eventCount))
    }
}

@c @implementation
public func cs_detector_status(_ d: OpaquePointer?, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    guard let d else { return nullHandleStatus(message) }
    return DetectorHandle.from(d)._withUnsafeGuaranteedRef { statusResult($0.failure, message) }
}

@c @implementation
public func cs_detector_reset(_ d: OpaquePointer?) {
    guard let d else { return }
    DetectorHandle.from(d)._withUnsafeGuaranteedRef { handle in
        handle.detector.reset()
        handle.queue.clear()
        handle.failure = .none
    }
}

@c @implementation
public func cs_detector_free(_ d: OpaquePointer?) {
    guard let d else { return }
    DetectorHandle.from(d).release()
}
