// Incoming RFC 4733 telephone-events turned into key presses, once per event (RFC 4733 §2.5.2):
// - an event is identified by its RTP timestamp (all its packets carry its start); the digit is reported
//   on the first packet seen with a new timestamp, so a lost first packet reports on the next one, and
//   updates, retransmitted end packets and reordered packets of the same event report nothing;
// - a timestamp older than the current event's (serial-number arithmetic, RFC 3550 §5.1 wraps) is a late
//   packet of an earlier event and is ignored; a new timestamp is a new event even when the previous
//   event's end packets were all lost (pjproject#1582: stuck or doubled digits);
// - a long event continues in a new segment at timestamp + 0xFFFF (RFC 4733 §2.5.1.3): same key;
// - sequence numbers are not used, so their wrap does not matter; a new SSRC starts afresh;
// - events 16 and above are not DTMF (RFC 4733 §3.2; flash, tones) and are ignored.
// Changing timestamps within one key press is what turns "2" into "222222" (rtpengine#1929): a sender
// that keeps the timestamp, as RFC 4733 requires, gives one press however many updates it sends.

/// Turns the telephone-event packets of one RTP stream into key presses, each reported once.
///
/// A pure value: no allocation, no clock.
public struct TelephoneEventReceiver: Sendable, Hashable {
    private var hasCurrent = false
    private var ssrc: UInt32 = 0
    private var timestamp: UInt32 = 0
    private var event: UInt8 = 0
    private var ended = false

    /// A receiver that has seen no event.
    public init() {}

    /// Takes one received telephone-event packet.
    ///
    /// - Parameters:
    ///   - header: the packet's RTP header.
    ///   - payload: its telephone-event payload.
    /// - Returns: the event code (0...15) when this packet starts a new key press, otherwise `nil`.
    public mutating func receive(_ header: RTPHeader, _ payload: TelephoneEvent) -> UInt8? {
        guard payload.event < 16 else { return nil }
        if hasCurrent, header.ssrc == ssrc {
            let delta = Int32(bitPattern: header.timestamp &- timestamp)
            if delta == 0 {
                ended = ended || payload.end
                return nil
            }
            if delta < 0 { return nil }
            if delta == 0xFFFF, payload.event == event, !ended {
                // The next segment of a long event.
                timestamp = header.timestamp
                ended = payload.end
                return nil
            }
        }
        hasCurrent = true
        ssrc = header.ssrc
        timestamp = header.timestamp
        event = payload.event
        ended = payload.end
        return payload.event
    }

    /// Forgets the current event.
    public mutating func reset() { self = TelephoneEventReceiver() }
}
