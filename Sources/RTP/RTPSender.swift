// The sending side of one RTP stream (RFC 3550) carrying G.711 audio and RFC 4733 telephone-events:
// - SSRC, first sequence number and timestamp base random (RFC 3550 §5.1, §8); the sequence number
//   advances on every packet sent, retransmissions included; the audio timestamp advances by the samples
//   of every packet interval, sent or muted, so it always names the sampling instant;
// - an event (RFC 4733 §2.5.1): every packet carries the event's start as its timestamp, the duration grows
//   with each update (one per packet interval), the marker is set on the first packet only;
// - its final packet (E bit) is sent three times, one per packet interval (§2.5.1.4), each with its own
//   sequence number: now, then at the next two intervals;
// - an event longer than 0xFFFF timestamp units is split (§2.5.1.3): the segment's final packet, duration
//   0xFFFF without E, is sent three times like an event's end, and the next segment starts at the previous
//   start + 0xFFFF, without the marker;
// - audio is muted (no audio packet) in every interval that carries an event packet or a retransmission,
//   and while an event is in progress; a new event while the previous one's end is still being
//   retransmitted sends both.
//
// Use per packet interval: ``sendTelephoneEvent(_:into:_:)`` for each event state of the interval (0, 1
// or 2 of them), then ``finishInterval(audio:samples:into:_:)``. Packets are written into the caller's
// buffer and handed to the `send` closure one by one. No allocation.

/// The state of an RFC 4733 event at the end of a packet interval, in samples of the stream.
public struct TelephoneEventUpdate: Sendable, Hashable {
    /// The event code (0-15 for DTMF).
    public var event: UInt8
    /// The sample of the stream where the event began (sample 0 is the stream's first sample).
    public var startSample: Int
    /// The event's duration so far, in samples.
    public var duration: Int
    /// Whether the event ended in this interval.
    public var ended: Bool
    /// The volume, 0...63 (0 to -63 dBm0).
    public var volume: UInt8

    /// Creates an update.
    public init(event: UInt8, startSample: Int, duration: Int, ended: Bool, volume: UInt8) {
        self.event = event
        self.startSample = startSample
        self.duration = duration
        self.ended = ended
        self.volume = volume
    }
}

/// The sending state of one RTP stream: audio packets and RFC 4733 telephone-event packets.
public struct RTPSender: Sendable {
    /// A final packet still to be retransmitted.
    struct Final: Sendable {
        var timestamp: UInt32 = 0
        var payload = TelephoneEvent(event: 0, end: false, volume: 0, duration: 0)
        var remaining = 0
    }

    /// The synchronization source.
    public let ssrc: UInt32
    /// The RTP timestamp of the stream's sample 0.
    public let timestampBase: UInt32
    /// The sequence number of the next packet.
    public private(set) var nextSequenceNumber: UInt16
    /// Samples of the stream so far (sent or muted).
    public private(set) var samples = 0
    /// The audio payload type (0 PCMU, 8 PCMA, or a dynamic one).
    public private(set) var audioPayloadType: UInt8
    /// The telephone-event payload type (dynamic, often 101).
    public private(set) var eventPayloadType: UInt8
    /// Packets sent so far.
    public private(set) var packetsSent = 0

    // The event in progress.
    private var active = false
    private var activeEvent: UInt8 = 0
    private var activeVolume: UInt8 = 0
    private var eventStart = 0
    private var segmentStart = 0
    private var segmentDuration = 0
    /// The end (start + duration) of the active event's last update.
    private var activeEnd = 0
    private var markerPending = false
    private var updatedThisInterval = false
    // Finals awaiting retransmission (at most an event end, a segment end and a previous event's end).
    private var finals: (Final, Final, Final, Final) = (Final(), Final(), Final(), Final())
    private var finalsFlushed = false
    private var eventPacketThisInterval = false

    /// Creates the state of a new stream.
    ///
    /// - Parameters:
    ///   - audioPayloadType: the audio payload type.
    ///   - eventPayloadType: the telephone-event payload type.
    ///   - ssrc: the SSRC; random by default.
    ///   - firstSequenceNumber: the first packet's sequence number; random by default.
    ///   - timestampBase: the timestamp of sample 0; random by default.
    public init(
        audioPayloadType: UInt8, eventPayloadType: UInt8,
        ssrc: UInt32 = .random(in: .min ... .max),
        firstSequenceNumber: UInt16 = .random(in: .min ... .max),
        timestampBase: UInt32 = .random(in: .min ... .max)
    ) {
        self.audioPayloadType = audioPayloadType & 0x7F
        self.eventPayloadType = eventPayloadType & 0x7F
        self.ssrc = ssrc
        self.nextSequenceNumber = firstSequenceNumber
        self.timestampBase = timestampBase
    }

    /// Changes the payload types from the next packet (a new offer/answer in the dialog, RFC 3264 §8.3.2);
    /// the SSRC, sequence numbers and timestamps go on.
    public mutating func setPayloadTypes(audio: UInt8, event: UInt8) {
        audioPayloadType = audio & 0x7F
        eventPayloadType = event & 0x7F
    }

    /// Whether an event is in progress or its final packets are still being retransmitted (audio muted).
    public var isSendingEvent: Bool { active || pendingFinals > 0 }

    /// The RTP timestamp of a sample of the stream.
    public func timestamp(ofSample sample: Int) -> UInt32 { timestampBase &+ UInt32(truncatingIfNeeded: sample) }

    /// Sends the packets for an event's state at the end of this packet interval.
    ///
    /// - Parameters:
    ///   - update: the event's state.
    ///   - buffer: scratch space for one packet (at least 16 bytes).
    ///   - send: called with each packet's bytes, in order.
    public mutating func sendTelephoneEvent(
        _ update: TelephoneEventUpdate, into buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        flushFinals(buffer, send)
        let end = update.startSample + max(update.duration, 0)
        // A new start or event, or a state that goes backwards (a restarted player): the previous event
        // never reported its end.
        if active, update.startSample != eventStart || update.event != activeEvent || end < activeEnd {
            endActiveEvent(buffer, send)
        }
        if !active {
            active = true
            activeEvent = update.event
            activeVolume = update.volume & 0x3F
            eventStart = update.startSample
            segmentStart = update.startSample
            markerPending = true
        }
        updatedThisInterval = true
        eventPacketThisInterval = true
        activeEnd = end
        while end - segmentStart > 0xFFFF {
            // RFC 4733 §2.5.1.3: the segment's final packet, without E, then a new segment.
            emitFinal(
                TelephoneEvent(event: activeEvent, end: false, volume: activeVolume, duration: 0xFFFF),
                buffer, send)
            segmentStart += 0xFFFF
        }
        segmentDuration = end - segmentStart
        let payload = TelephoneEvent(
            event: activeEvent, end: update.ended, volume: activeVolume,
            duration: UInt16(clamping: segmentDuration))
        if update.ended {
            emitFinal(payload, buffer, send)
            active = false
        } else {
            emit(payload, timestamp: timestamp(ofSample: segmentStart), buffer, send)
        }
    }

    /// Ends the packet interval: retransmits pending final packets, sends the audio unless muted, and
    /// advances the stream by `samples`.
    ///
    /// - Parameters:
    ///   - audio: the interval's encoded audio (the payload), or `nil` to send no audio.
    ///   - count: the samples of the interval (160 for 20 ms at 8 kHz).
    ///   - buffer: scratch space for one packet (at least 12 bytes + the audio).
    ///   - send: called with each packet's bytes, in order.
    public mutating func finishInterval(
        audio: UnsafeRawBufferPointer?, samples count: Int,
        into buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        flushFinals(buffer, send)
        if active, !updatedThisInterval {
            // The event stopped without an end (the sequence was cancelled): end it with its last duration.
            endActiveEvent(buffer, send)
            eventPacketThisInterval = true
        }
        if let audio, !active, !eventPacketThisInterval {
            let header = RTPHeader(
                marker: false, payloadType: audioPayloadType, sequenceNumber: nextSequenceNumber,
                timestamp: timestamp(ofSample: samples), ssrc: ssrc)
            let total = RTPHeader.fixedSize + audio.count
            if total <= buffer.count, let base = buffer.baseAddress {
                header.write(into: buffer)
                if let source = audio.baseAddress {
                    (base + RTPHeader.fixedSize).copyMemory(from: source, byteCount: audio.count)
                }
                transmit(UnsafeRawBufferPointer(start: base, count: total), send)
            }
        }
        samples += max(count, 0)
        updatedThisInterval = false
        finalsFlushed = false
        eventPacketThisInterval = false
    }

    // MARK: - Packets

    private var pendingFinals: Int {
        (finals.0.remaining > 0 ? 1 : 0) + (finals.1.remaining > 0 ? 1 : 0)
            + (finals.2.remaining > 0 ? 1 : 0) + (finals.3.remaining > 0 ? 1 : 0)
    }

    private mutating func endActiveEvent(
        _ buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        emitFinal(
            TelephoneEvent(
                event: activeEvent, end: true, volume: activeVolume,
                duration: UInt16(clamping: segmentDuration)), buffer, send)
        active = false
    }

    /// Sends a final packet now and keeps it for two retransmissions at the next two intervals.
    private mutating func emitFinal(
        _ payload: TelephoneEvent, _ buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        let timestamp = timestamp(ofSample: segmentStart)
        emit(payload, timestamp: timestamp, buffer, send)
        let final = Final(timestamp: timestamp, payload: payload, remaining: 2)
        if finals.0.remaining == 0 {
            finals.0 = final
        } else if finals.1.remaining == 0 {
            finals.1 = final
        } else if finals.2.remaining == 0 {
            finals.2 = final
        } else {
            finals.3 = final
        }
    }

    /// Retransmits each pending final packet once, at most once per interval, oldest first.
    private mutating func flushFinals(
        _ buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        guard !finalsFlushed else { return }
        finalsFlushed = true
        finals.0 = retransmit(finals.0, buffer, send)
        finals.1 = retransmit(finals.1, buffer, send)
        finals.2 = retransmit(finals.2, buffer, send)
        finals.3 = retransmit(finals.3, buffer, send)
    }

    private mutating func retransmit(
        _ final: Final, _ buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) -> Final {
        guard final.remaining > 0 else { return final }
        var final = final
        final.remaining -= 1
        eventPacketThisInterval = true
        writeEvent(final.payload, timestamp: final.timestamp, marker: false, buffer, send)
        return final
    }

    private mutating func emit(
        _ payload: TelephoneEvent, timestamp: UInt32, _ buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        writeEvent(payload, timestamp: timestamp, marker: markerPending, buffer, send)
        markerPending = false
    }

    private mutating func writeEvent(
        _ payload: TelephoneEvent, timestamp: UInt32, marker: Bool,
        _ buffer: UnsafeMutableRawBufferPointer,
        _ send: (UnsafeRawBufferPointer) -> Void
    ) {
        let total = RTPHeader.fixedSize + TelephoneEvent.size
        guard total <= buffer.count, let base = buffer.baseAddress else { return }
        RTPHeader(
            marker: marker, payloadType: eventPayloadType, sequenceNumber: nextSequenceNumber,
            timestamp: timestamp, ssrc: ssrc
        ).write(into: buffer)
        let payloadBytes = UnsafeMutableRawBufferPointer(start: base + RTPHeader.fixedSize, count: TelephoneEvent.size)
        payload.write(into: payloadBytes)
        transmit(UnsafeRawBufferPointer(start: base, count: total), send)
    }

    private mutating func transmit(_ packet: UnsafeRawBufferPointer, _ send: (UnsafeRawBufferPointer) -> Void) {
        send(packet)
        nextSequenceNumber &+= 1
        packetsSent += 1
    }
}
