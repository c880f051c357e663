// RFC 4733 telephone-event packets (obsoletes RFC 2833) from the player's telephone-event states:
// - payload: event (8 bits) | E (1) | R (1, zero) | volume (6) | duration (16), network byte order;
// - every packet of an event carries the event's start timestamp and a growing duration; the first one
//   has the RTP marker bit; one update per packet interval;
// - the final packet (E set) is sent three times, each with its own sequence number;
// - an event longer than 0xFFFF timestamp units is split: the segment ends with a packet of duration
//   0xFFFF without E, and a new segment starts at the previous one's end, without the marker.
// Timestamps and durations are in samples of the call's clock (telephone-event/8000 on a narrowband call).
// A state that goes backwards (a restarted player, a new call) starts a new event: it never traps.

import CallSequenceModel
import TelephonyDSP

/// One RTP packet of payload type telephone-event.
public struct TelephoneEventPacket: Sendable, Hashable, CustomStringConvertible {
    /// The RTP sequence number.
    public var sequenceNumber: UInt16
    /// The RTP timestamp: the start of the event (or of its current segment).
    public var timestamp: UInt32
    /// The RTP marker bit: set on the first packet of an event.
    public var marker: Bool
    /// The event code (0-15 for DTMF).
    public var event: UInt8
    /// The E bit: the event has ended.
    public var end: Bool
    /// Volume, 0...63 (0 to -63 dBm0).
    public var volume: UInt8
    /// Duration so far, in timestamp units.
    public var duration: UInt16

    /// The 4-byte payload.
    public var payload: (UInt8, UInt8, UInt8, UInt8) {
        (event, (end ? 0x80 : 0) | (volume & 0x3F), UInt8(duration >> 8), UInt8(duration & 0xFF))
    }

    /// The text form, for logs and messages.
    public var description: String {
        "seq \(sequenceNumber) ts \(timestamp)\(marker ? " M" : "") event \(event)\(end ? " E" : "") vol \(volume) dur \(duration)"
    }
}

/// Turns the telephone-event states a ``Player`` reports into RFC 4733 packets.
///
/// Call ``update(_:emit:)`` with each ``PlayerEvent/Kind/telephoneEvent(_:)`` state, rendering in frames of
/// the packet interval (20 ms, or 50 ms at most per RFC 4733). No allocation.
public struct TelephoneEventSender: Sendable {
    /// The RTP timestamp of the call's first sample.
    public let timestampBase: UInt32
    /// The next RTP sequence number.
    public private(set) var nextSequenceNumber: UInt16

    private var current: (startSample: Int, digit: DTMFDigit)?
    private var segmentStart = 0
    /// The end (start + duration) of the last state of the current event.
    private var lastEnd = 0

    /// Creates a sender.
    ///
    /// - Parameters:
    ///   - timestampBase: the RTP timestamp of sample 0 of the call.
    ///   - firstSequenceNumber: the RTP sequence number of the first packet.
    public init(timestampBase: UInt32 = 0, firstSequenceNumber: UInt16 = 0) {
        self.timestampBase = timestampBase
        self.nextSequenceNumber = firstSequenceNumber
    }

    /// Emits the packets for the state at the end of a packet interval.
    public mutating func update(_ state: TelephoneEventState, emit: (TelephoneEventPacket) -> Void) {
        var marker = false
        let end = state.startSample + max(0, state.duration)
        if current == nil || current?.startSample != state.startSample || current?.digit != state.digit
            || end < lastEnd {
            current = (state.startSample, state.digit)
            segmentStart = state.startSample
            marker = true
        }
        lastEnd = end
        // Close full segments first.
        while end - segmentStart > 0xFFFF {
            emit(packet(marker: marker, state: state, duration: 0xFFFF, end: false))
            marker = false
            segmentStart += 0xFFFF
        }
        let duration = UInt16(clamping: max(0, end - segmentStart))
        if state.ended {
            for i in 0..<3 { emit(packet(marker: marker && i == 0, state: state, duration: duration, end: true)) }
            current = nil
        } else {
            emit(packet(marker: marker, state: state, duration: duration, end: false))
        }
    }

    private mutating func packet(marker: Bool, state: TelephoneEventState, duration: UInt16, end: Bool) -> TelephoneEventPacket {
        let p = TelephoneEventPacket(
            sequenceNumber: nextSequenceNumber,
            timestamp: timestampBase &+ UInt32(truncatingIfNeeded: segmentStart),
            marker: marker, event: state.digit.eventCode, end: end, volume: state.volume, duration: duration)
        nextSequenceNumber &+= 1
        return p
    }
}
