// The per-call player: renders the next N samples of a compiled sequence into the caller's buffer,
// from a media server's real-time thread. No allocation, lock, I/O, logging or reference counting per
// frame: the state is a handful of integers and raw pointers into the shared compiled program, which
// the player keeps alive. Any N works, step boundaries fall anywhere inside a frame, and the output is
// identical whatever the frame sizes. Events are handed to a non-escaping closure with their offset in
// the frame.

import CallSequenceModel
import TelephonyDSP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Something that happened in a frame.
public struct PlayerEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// Step `index` began.
        case stepStarted(Int)
        /// Step `index` ended.
        case stepFinished(Int)
        /// Step `step` is an SMS step: hand ``CompiledSequence/smsRequest(step:)`` to a dispatcher.
        case smsRequested(step: Int)
        /// The RFC 4733 telephone-event state at the end of this frame (only in `rfc4733` and `both` modes).
        case telephoneEvent(TelephoneEventState)
        /// The sequence is over (or was cancelled); the player renders silence from now on.
        case finished(cancelled: Bool)
    }

    /// What happened.
    public var kind: Kind
    /// The sample of the call at which it happened.
    public var sample: Int
    /// Its offset in this frame (0...frame size).
    public var offset: Int

    @inlinable
    init(kind: Kind, sample: Int, offset: Int) {
        self.kind = kind
        self.sample = sample
        self.offset = offset
    }
}

/// The state of a DTMF digit being sent as an RFC 4733 telephone-event.
public struct TelephoneEventState: Sendable, Hashable {
    /// The digit.
    public var digit: DTMFDigit
    /// The sample where the tone began (the event's RTP timestamp, relative to the call's start).
    public var startSample: Int
    /// Samples of the event so far.
    public var duration: Int
    /// Whether the event ended in this frame.
    public var ended: Bool
    /// Its volume (0...63, meaning 0 to -63 dBm0).
    public var volume: UInt8

    @inlinable
    init(digit: DTMFDigit, startSample: Int, duration: Int, ended: Bool, volume: UInt8) {
        self.digit = digit
        self.startSample = startSample
        self.duration = duration
        self.ended = ended
        self.volume = volume
    }
}

/// Plays one compiled sequence into one call's audio.
public final class Player {
    /// The program being played.
    public let program: CompiledSequence

    // Copies of the program's buffers and sizes: reading them needs no retain of the program.
    // (@usableFromInline: the package's C API inlines the frame code, ``renderFrame(bytes:count:_:)``.)
    @usableFromInline let segments: UnsafeMutableBufferPointer<Segment>
    @usableFromInline let events: UnsafeMutableBufferPointer<ScheduledEvent>
    @usableFromInline let tones: UnsafeMutableBufferPointer<ScheduledDigit>
    @usableFromInline let total: Int
    @usableFromInline let reportsTelephoneEvents: Bool
    @usableFromInline let silenceByte: UInt8
    @usableFromInline let isG711: Bool

    // The per-call state. Only the thread that renders this call touches it (a player belongs to one
    // call), so Swift's dynamic exclusivity checks, a thread-local lookup on every access of a class's
    // stored property, are turned off for it: they were a third of the render path's instructions.
    // (The two flags sit beside the three above: one 8-byte word for the five.)

    @exclusivity(unchecked) @usableFromInline var cancelled = false
    @exclusivity(unchecked) @usableFromInline var finished = false
    @exclusivity(unchecked) @usableFromInline var samplesRendered = 0
    @exclusivity(unchecked) @usableFromInline var segmentIndex = 0
    @exclusivity(unchecked) @usableFromInline var eventIndex = 0
    @exclusivity(unchecked) @usableFromInline var toneIndex = 0

    // The plain run: from the current sample up to the next thing that needs the frame loop's bookkeeping (the
    // next event, the next telephone-event, the end of the sequence or of its last segment, a cancel). A frame
    // that ends by `plainUntil` has nothing to report: it is copies only. A frame that ends inside the current
    // segment (`segmentIndex`) and inside the run is one copy (`…CopyUntil`)
    // or one fill (`…FillUntil`) in the renderer of the program's own encoding: `linear…` for PCM16, `byte…`
    // for G.711, the other pair stays `Int.min` (a PCM16 program rendered as bytes reaches the precondition of
    // `renderPastCopy(bytes:count:_:)`, a G.711 one rendered as PCM16 the frame loop). The copy's source is
    // `copyFrom`, the address of the segment's audio less its first sample's offset, plus the frame's first
    // sample's. A frame that crosses the segment's end into a next segment long enough to finish it is two
    // copies (or fills) and a step (`renderCrossing`); one that crosses more, `renderAcrossSegments`. Every other
    // frame takes the full loop, which then finds the next run (`preparePlainRun()`). All give the same bytes
    // and events.
    @exclusivity(unchecked) @usableFromInline var plainUntil = Int.min
    @exclusivity(unchecked) @usableFromInline var linearCopyUntil = Int.min
    @exclusivity(unchecked) @usableFromInline var linearFillUntil = Int.min
    @exclusivity(unchecked) @usableFromInline var byteCopyUntil = Int.min
    @exclusivity(unchecked) @usableFromInline var byteFillUntil = Int.min
    @exclusivity(unchecked) @usableFromInline var copyFrom: UInt = 0

    /// Samples rendered so far (including silence after the end).
    @inlinable public var position: Int { samplesRendered }
    /// Whether the player has reported ``PlayerEvent/Kind/finished(cancelled:)``.
    @inlinable public var isFinished: Bool { finished }

    init(_ program: CompiledSequence) {
        self.program = program
        segments = program.segments
        events = program.events
        tones = program.tones
        total = program.totalSamples
        reportsTelephoneEvents = program.format.dtmfOutput != .inband
        silenceByte = program.format.encoding == .alaw ? ALaw.silence : MuLaw.silence
        isG711 = program.format.encoding != .pcm16
        preparePlainRun()
    }

    /// Finds the plain run that starts at the current sample (see `plainUntil`); none when the player is
    /// cancelled or past its last segment.
    @usableFromInline
    func preparePlainRun() {
        guard !cancelled && segmentIndex < segments.count else {
            clearPlainRun()
            return
        }
        // A frame ending at `total` reports `finished` (and every event left); one ending after an event's or a
        // telephone-event's start reports it; past the last segment the frame loop fills silence.
        let last = segments[segments.count - 1]
        var until = min(last.start + last.length, total - 1)
        if eventIndex < events.count { until = min(until, events[eventIndex].sample) }
        if reportsTelephoneEvents && toneIndex < tones.count { until = min(until, tones[toneIndex].startSample) }
        plainUntil = until
        loadPlainSegment(segments[segmentIndex])
    }

    /// No plain run: every frame takes the full loop.
    @usableFromInline
    func clearPlainRun() {
        plainUntil = Int.min
        linearCopyUntil = Int.min
        linearFillUntil = Int.min
        byteCopyUntil = Int.min
        byteFillUntil = Int.min
    }

    /// Makes `segment` (the one at `segmentIndex`) the current segment of the plain run, and sets the limits of
    /// the one-copy and one-fill frames in the renderer of the program's encoding.
    @usableFromInline @inline(__always)
    func loadPlainSegment(_ segment: Segment) {
        // A frame in one piece ends before the segment does (one that reaches its end steps to the next).
        let until = min(plainUntil, segment.start &+ segment.length &- 1)
        var copyUntil = Int.min
        var fillUntil = Int.min
        if isG711 {
            if let audio = segment.encoded {
                copyUntil = until
                copyFrom = UInt(bitPattern: audio) &- UInt(bitPattern: segment.start)
            } else {
                fillUntil = until
            }
            byteCopyUntil = copyUntil
            byteFillUntil = fillUntil
        } else {
            if let audio = segment.pcm {
                copyUntil = until
                copyFrom = UInt(bitPattern: audio) &- UInt(bitPattern: segment.start) &* 2
            } else {
                fillUntil = until
            }
            linearCopyUntil = copyUntil
            linearFillUntil = fillUntil
        }
    }

    /// A frame of the plain run that reaches the end of the current segment, `current`: `end <= plainUntil`, in
    /// the renderer of the program's encoding (`stride` is 2 for PCM16, 1 for G.711). The common one, which ends
    /// inside the next segment, is two copies (or fills) and a step; one that crosses more boundaries goes to
    /// `renderAcrossSegments(into:count:stride:)`.
    @inline(__always)
    func renderCrossing(
        into base: UnsafeMutableRawPointer, count: Int, current: Segment, stride: Int, silence: UInt8
    ) -> Int {
        let start = samplesRendered
        let end = start &+ count
        let index = segmentIndex &+ 1
        // The run ends by the last segment's end and this frame reaches the current one's: a next one is there.
        let next = segments[index]
        guard end < next.start &+ next.length else {
            return renderAcrossSegments(into: base, count: count, stride: stride)
        }
        // The step first, the copies after: less to keep across the calls.
        let first = next.start &- start
        let second = end &- next.start
        let currentAudio = stride == 2 ? UnsafeRawPointer(current.pcm) : UnsafeRawPointer(current.encoded)
        let from = currentAudio.map { $0 + (start &- current.start) &* stride }
        let nextAudio = stride == 2 ? UnsafeRawPointer(next.pcm) : UnsafeRawPointer(next.encoded)
        segmentIndex = index
        loadPlainSegment(next)
        samplesRendered = end
        // memcpy and memset: the lengths are positive, the source is the program's and the destination the
        // caller's frame (no overlap).
        if let from {
            memcpy(base, from, first &* stride)
        } else {
            memset(base, Int32(silence), first &* stride)
        }
        if second > 0 {
            let destination = base + first &* stride
            if let nextAudio {
                memcpy(destination, nextAudio, second &* stride)
            } else {
                memset(destination, Int32(silence), second &* stride)
            }
        }
        return count
    }

    /// A frame of the plain run that crosses more than one segment boundary: copies (or fills) up to each
    /// segment's end and steps to the next. `stride` is 2 (PCM16) or 1 (G.711).
    @usableFromInline @inline(never)
    func renderAcrossSegments(into base: UnsafeMutableRawPointer, count: Int, stride: Int) -> Int {
        var at = samplesRendered
        var written = 0
        while written < count {
            // The run ends by the last segment's end: a segment is there.
            let segment = segments[segmentIndex]
            let segmentEnd = segment.start + segment.length
            let n = min(count - written, segmentEnd - at)
            let destination = base + written &* stride
            let source = stride == 2 ? UnsafeRawPointer(segment.pcm) : UnsafeRawPointer(segment.encoded)
            if let source {
                destination.copyMemory(from: source + (at - segment.start) &* stride, byteCount: n &* stride)
            } else {
                destination.initializeMemory(
                    as: UInt8.self, repeating: stride == 2 ? 0 : silenceByte,
                    count: n &* stride)
            }
            written += n
            at += n
            if at == segmentEnd {
                segmentIndex += 1
                if segmentIndex < segments.count {
                    loadPlainSegment(segments[segmentIndex])
                } else {
                    clearPlainRun()
                }
            }
        }
        samplesRendered = at
        return count
    }

    /// Starts the sequence again from its first sample (an IVR replaying its prompt). No allocation.
    public func restart() {
        samplesRendered = 0
        segmentIndex = 0
        eventIndex = 0
        toneIndex = 0
        cancelled = false
        finished = false
        preparePlainRun()
    }

    /// Stops the sequence (the caller hung up). The next render produces silence and reports `finished`.
    /// Call it from the thread that renders (or between renders): the player is not shared between threads.
    public func cancel() {
        cancelled = true
        clearPlainRun()
    }

    /// Renders the next `buffer.count` samples as 16-bit linear PCM.
    ///
    /// - Parameters:
    ///   - buffer: the frame to fill; all of it is written (silence after the end).
    ///   - onEvent: called for each event of this frame, in order.
    /// - Returns: the number of samples of sequence audio in the frame (less than `buffer.count` at the end).
    @discardableResult
    public func render(
        into buffer: UnsafeMutableBufferPointer<Int16>, _ onEvent: (PlayerEvent) -> Void = { _ in }
    ) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return renderFrame(linear: base, count: buffer.count, onEvent)
    }

    /// Renders the next `buffer.count` samples as G.711 bytes, in the program's encoding.
    ///
    /// - Precondition: the program was compiled for mu-law or A-law.
    @discardableResult
    public func render(
        into buffer: UnsafeMutableBufferPointer<UInt8>, _ onEvent: (PlayerEvent) -> Void = { _ in }
    ) -> Int {
        guard let base = buffer.baseAddress else {
            precondition(isG711, "this program was compiled for PCM16; render into Int16 samples")
            return 0
        }
        // A PCM16 program has no byte copies or fills: its frames reach `renderPastCopy(bytes:count:_:)`, which
        // checks the encoding.
        return renderFrame(bytes: base, count: buffer.count, onEvent)
    }

    /// ``render(into:_:)-(UnsafeMutableBufferPointer<Int16>,_)`` on `count` samples at `base`, for this package's
    /// C API: inlined there, event closure and all, so that the C entry's argument checks take the place of a
    /// call into this module and its closure instead of adding to them. The program is PCM16.
    @inlinable @inline(__always)
    package func renderFrame(
        linear base: UnsafeMutablePointer<Int16>, count: Int,
        _ onEvent: (PlayerEvent) -> Void
    ) -> Int {
        let start = samplesRendered
        let end = start &+ count
        if end <= linearCopyUntil {
            // The source is the program's, the destination the caller's frame: they never overlap, so memcpy
            // (update(from:count:) would first test for an overlap, copyMemory for a negative count: `count` is
            // a buffer's). `copyFrom` plus the frame's first sample is inside the segment's audio: never null.
            memcpy(
                base, UnsafeRawPointer(bitPattern: copyFrom &+ UInt(bitPattern: start) &* 2).unsafelyUnwrapped,
                count &* MemoryLayout<Int16>.stride)
            samplesRendered = end
            return count
        }
        if end <= linearFillUntil {
            memset(base, 0, count &* MemoryLayout<Int16>.stride)
            samplesRendered = end
            return count
        }
        return renderPastCopy(linear: base, count: count, onEvent)
    }

    /// A frame that is not one copy or fill: across a segment boundary inside the plain run, or outside it.
    @usableFromInline @inline(never)
    func renderPastCopy(
        linear base: UnsafeMutablePointer<Int16>, count: Int,
        _ onEvent: (PlayerEvent) -> Void
    ) -> Int {
        let end = samplesRendered &+ count
        // Inside the run there is a current segment; a frame of the run that is not one copy or fill reaches
        // its end.
        if !isG711 && end <= plainUntil {
            let current = segments[segmentIndex]
            if end >= current.start &+ current.length {
                return renderCrossing(into: base, count: count, current: current, stride: 2, silence: 0)
            }
        }
        return renderFrameWithBookkeeping(linear: base, count: count, onEvent)
    }

    /// The frames outside a plain run: out of line, so that the plain copy keeps a short prologue.
    @usableFromInline @inline(never)
    func renderFrameWithBookkeeping(
        linear base: UnsafeMutablePointer<Int16>, count: Int,
        _ onEvent: (PlayerEvent) -> Void
    ) -> Int {
        frame(count: count, onEvent) { at, segment, into, count in
            let destination = base + at
            if let source = segment?.pcm {
                UnsafeMutableRawPointer(destination).copyMemory(
                    from: source + into,
                    byteCount: count &* MemoryLayout<Int16>.stride)
            } else {
                destination.update(repeating: 0, count: count)
            }
        }
    }

    /// The G.711 twin of ``renderFrame(linear:count:_:)``: the program is mu-law or A-law.
    @inlinable @inline(__always)
    package func renderFrame(
        bytes base: UnsafeMutablePointer<UInt8>, count: Int,
        _ onEvent: (PlayerEvent) -> Void
    ) -> Int {
        let start = samplesRendered
        let end = start &+ count
        if end <= byteCopyUntil {
            memcpy(base, UnsafeRawPointer(bitPattern: copyFrom &+ UInt(bitPattern: start)).unsafelyUnwrapped, count)
            samplesRendered = end
            return count
        }
        if end <= byteFillUntil {
            memset(base, Int32(silenceByte), count)
            samplesRendered = end
            return count
        }
        return renderPastCopy(bytes: base, count: count, onEvent)
    }

    /// The G.711 twin of `renderPastCopy(linear:count:_:)`; it checks that the program is G.711.
    @usableFromInline @inline(never)
    func renderPastCopy(
        bytes base: UnsafeMutablePointer<UInt8>, count: Int,
        _ onEvent: (PlayerEvent) -> Void
    ) -> Int {
        precondition(isG711, "this program was compiled for PCM16; render into Int16 samples")
        let end = samplesRendered &+ count
        if end <= plainUntil {
            let current = segments[segmentIndex]
            if end >= current.start &+ current.length {
                return renderCrossing(into: base, count: count, current: current, stride: 1, silence: silenceByte)
            }
        }
        return renderFrameWithBookkeeping(bytes: base, count: count, onEvent)
    }

    /// The G.711 twin of `renderFrameWithBookkeeping(linear:count:_:)`.
    @usableFromInline @inline(never)
    func renderFrameWithBookkeeping(
        bytes base: UnsafeMutablePointer<UInt8>, count: Int,
        _ onEvent: (PlayerEvent) -> Void
    ) -> Int {
        let silence = silenceByte
        return frame(count: count, onEvent) { at, segment, into, count in
            let destination = base + at
            if let source = segment?.encoded {
                UnsafeMutableRawPointer(destination).copyMemory(from: source + into, byteCount: count)
            } else {
                destination.update(repeating: silence, count: count)
            }
        }
    }

    @inlinable @inline(__always)
    func frame(
        count: Int, _ onEvent: (PlayerEvent) -> Void,
        _ copy: (_ at: Int, _ segment: Segment?, _ into: Int, _ count: Int) -> Void
    ) -> Int {
        guard count > 0 else { return 0 }
        let frameStart = samplesRendered
        let frameEnd = frameStart + count
        if cancelled {
            copy(0, nil, 0, count)
            samplesRendered = frameEnd
            if !finished {
                finished = true
                onEvent(PlayerEvent(kind: .finished(cancelled: true), sample: frameStart, offset: 0))
            }
            return 0
        }
        var written = 0
        while written < count && segmentIndex < segments.count {
            let segment = segments[segmentIndex]
            let into = samplesRendered + written - segment.start
            let n = min(count - written, segment.length - into)
            copy(written, segment, into, n)
            written += n
            if into + n == segment.length { segmentIndex += 1 }
        }
        let audio = written
        if written < count { copy(written, nil, 0, count - written) }
        samplesRendered = frameEnd

        // Events of this frame; those at the very end of the sequence go out with its last audio.
        while eventIndex < events.count {
            let event = events[eventIndex]
            guard event.sample < frameEnd || total <= frameEnd else { break }
            let kind: PlayerEvent.Kind
            switch event.kind {
            case .stepStarted: kind = .stepStarted(event.step)
            case .stepFinished: kind = .stepFinished(event.step)
            case .smsRequested: kind = .smsRequested(step: event.step)
            }
            onEvent(PlayerEvent(kind: kind, sample: event.sample, offset: event.sample - frameStart))
            eventIndex += 1
        }
        if reportsTelephoneEvents {
            while toneIndex < tones.count {
                let tone = tones[toneIndex]
                guard tone.startSample < frameEnd else { break }
                let ended = tone.endSample <= frameEnd
                let until = min(tone.endSample, frameEnd)
                let state = TelephoneEventState(
                    digit: tone.digit, startSample: tone.startSample,
                    duration: until - tone.startSample, ended: ended, volume: tone.volume)
                onEvent(PlayerEvent(kind: .telephoneEvent(state), sample: until, offset: until - frameStart))
                guard ended else { break }
                toneIndex += 1
            }
        }
        if !finished && total <= frameEnd {
            finished = true
            onEvent(PlayerEvent(kind: .finished(cancelled: false), sample: total, offset: total - frameStart))
        }
        preparePlainRun()
        return audio
    }
}
