// The one bridge from what the player reports to what goes on the wire: a player's telephone-event state
// becomes the RFC 4733 update that RTP's `RTPSender` (the only writer of telephone-event packets, used by
// `callseq serve` and `callseq render` alike) turns into packets.

import RTP

extension TelephoneEventUpdate {
    /// The RFC 4733 update for a telephone-event state the player reported at `sample`.
    ///
    /// - Parameters:
    ///   - state: the state, as in ``PlayerEvent/Kind/telephoneEvent(_:)``.
    ///   - sample: the event's ``PlayerEvent/sample``, in the samples of the stream that carries it (an
    ///     ``IVRSession`` reports the call's sample; the state's own start is relative to its sequence).
    public init(_ state: TelephoneEventState, reportedAt sample: Int) {
        self.init(
            event: state.digit.eventCode, startSample: sample - state.duration, duration: state.duration,
            ended: state.ended, volume: state.volume)
    }
}
