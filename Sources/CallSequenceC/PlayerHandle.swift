// cs_player: one call's playback of a cs_sequence. The render path checks the host's arguments, lets the
// Swift Player copy from the shared program into the host's buffer, and queues the frame's events in the
// player's fixed ring: no allocation, lock, I/O or reference counting (the handle is reached through an
// unmanaged reference, the queue through raw pointers).

import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

/// What a `cs_player *` points at.
final class PlayerHandle {
    /// The sequence, kept alive by the player whatever the host releases.
    let sequence: SequenceHandle
    let player: Player
    let int16: Bool
    let queue: EventQueue
    /// Why the last render did nothing (or `.none`).
    @exclusivity(unchecked) var failure: CallFailure = .none

    init(_ sequence: SequenceHandle) {
        self.sequence = sequence
        player = sequence.program.makePlayer()
        int16 = sequence.program.format.encoding == .pcm16
        queue = EventQueue(perCall: sequence.eventsPerRender)
    }

    deinit { queue.deallocate() }

    @inline(__always)
    static func from(_ pointer: OpaquePointer) -> Unmanaged<PlayerHandle> {
        Unmanaged.fromOpaque(UnsafeRawPointer(pointer))
    }

    /// A frame of a G.711 player, from cs_player_render (see ``renderCommonly(_:_:int16:)``).
    @inline(never)
    static func renderBytes(
        _ handle: PlayerHandle, _ samples: UnsafeMutableRawPointer?, _ count: Int,
        _ events: UnsafeMutablePointer<cs_event>?, _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
    ) -> Int {
        renderCommonly(handle, FrameArguments(samples, count, events, maxEvents, eventCount), int16: false)
    }

    /// A frame of a PCM16 player, from cs_player_render: `samples` must also be 2-byte aligned.
    @inline(never)
    static func renderLinear(
        _ handle: PlayerHandle, _ samples: UnsafeMutableRawPointer?, _ count: Int,
        _ events: UnsafeMutablePointer<cs_event>?, _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
    ) -> Int {
        renderCommonly(handle, FrameArguments(samples, count, events, maxEvents, eventCount), int16: true)
    }

    /// The body of both frame functions: the shared common-case call (``FrameArguments``), with the player's
    /// own frame code inlined for the one encoding (`int16` is a constant in each) and the host's event array
    /// as its sink. The frame functions are static with the handle as first argument, so that the host's six
    /// arguments arrive in the registers the C call left them in and cs_player_render only jumps to them.
    @inline(__always)
    static func renderCommonly(_ handle: PlayerHandle, _ frame: FrameArguments, int16: Bool) -> Int {
        frame.runCommonly(
            maximumCount: FrameArguments.maximumCount, int16: int16, queue: handle.queue, failure: &handle.failure,
            otherwise: {
                handle.renderSlowly(
                    frame.samples, frame.count, frame.events, frame.maxEvents,
                    frame.eventCount)
            }
        ) { samples, count, sink in
            handle.play(samples, count, sink, int16: int16)
        }
    }

    /// A frame with every check's status, and events of earlier calls waiting.
    @inline(never)
    func renderSlowly(
        _ samples: UnsafeMutableRawPointer?, _ count: Int, _ events: UnsafeMutablePointer<cs_event>?,
        _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
    ) -> Int {
        FrameArguments(samples, count, events, maxEvents, eventCount)
            .run(maximumCount: FrameArguments.maximumCount, int16: int16, queue: queue, failure: &failure) {
                play($0, $1, $2, int16: int16)
            }
    }

    /// Plays `count` samples into `samples`, events into `sink`: the player's frame code inlined here
    /// (``Player/renderFrame(bytes:count:_:)``), the event conversion with it.
    @inline(__always)
    func play(_ samples: UnsafeMutableRawPointer, _ count: Int, _ sink: EventSink, int16: Bool) {
        // The closures are written at each call, not kept in a local: a closure in a local is escaping, and the
        // frame loop (out of line) would get a heap-allocated context for it on every frame.
        if int16 {
            _ = player.renderFrame(linear: samples.assumingMemoryBound(to: Int16.self), count: count) { event in
                sink.put(cs_event(event.kind, sample: event.sample, offset: event.offset, sequence: -1))
            }
        } else {
            _ = player.renderFrame(bytes: samples.assumingMemoryBound(to: UInt8.self), count: count) { event in
                sink.put(cs_event(event.kind, sample: event.sample, offset: event.offset, sequence: -1))
            }
        }
    }
}

@c @implementation
public func cs_player_new(_ s: OpaquePointer?) -> OpaquePointer? {
    guard let s else { return nil }
    CallFailure.prepare()
    let sequence = SequenceHandle.from(s).takeUnretainedValue()
    return OpaquePointer(Unmanaged.passRetained(PlayerHandle(sequence)).toOpaque())
}

@c @implementation
public func cs_player_render(
    _ p: OpaquePointer?, _ samples: UnsafeMutableRawPointer?, _ count: Int, _ events: UnsafeMutablePointer<cs_event>?,
    _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
) -> Int {
    guard let p else {
        eventCount?.pointee = 0
        return 0
    }
    return PlayerHandle.from(p)._withUnsafeGuaranteedRef {
        $0.int16
            ? PlayerHandle.renderLinear($0, samples, count, events, maxEvents, eventCount)
            : PlayerHandle.renderBytes($0, samples, count, events, maxEvents, eventCount)
    }
}

@c @implementation
public func cs_player_status(_ p: OpaquePointer?, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    guard let p else { return nullHandleStatus(message) }
    return PlayerHandle.from(p)._withUnsafeGuaranteedRef { statusResult($0.failure, message) }
}

@c @implementation
public func cs_player_is_finished(_ p: OpaquePointer?) -> Int32 {
    guard let p else { return 1 }
    // The queue knows: reading Player.isFinished from this module costs a dynamic exclusivity check.
    return PlayerHandle.from(p)._withUnsafeGuaranteedRef { $0.queue.deliveredFinish ? 1 : 0 }
}

@c @implementation
public func cs_player_cancel(_ p: OpaquePointer?) {
    guard let p else { return }
    PlayerHandle.from(p)._withUnsafeGuaranteedRef { $0.player.cancel() }
}

@c @implementation
public func cs_player_free(_ p: OpaquePointer?) {
    guard let p else { return }
    PlayerHandle.from(p).release()
}
