// What the SIP side negotiated for a call, handed to the media engine when the call is answered, and what a
// later offer/answer exchange in the dialog changes (MediaUpdate).

import CallSequenceEngine
import CallSequenceModel
import RTP
import TelephonyDSP

/// Where a call's key presses come from: one source per call, as Asterisk and FreeSWITCH do it, so that a
/// press a phone sends both ways counts once.
package enum DTMFSource: String, Sendable, Hashable {
    /// RFC 4733 telephone-events; the caller's audio is not listened to.
    case rfc4733
    /// The DTMF receiver on the caller's audio; telephone-events are ignored.
    case inband
}

/// A call to start on the media engine: its port, the caller's RTP address from the SDP offer, the
/// negotiated payload types and packet time, and the IVR session to play.
package struct MediaCallParameters {
    /// The port reserved with ``MediaEngine/reservePort()`` and announced in the SDP answer.
    package var port: RTPPortReservation
    /// Where to send RTP until the caller's own RTP arrives (the offer's c= address and m= port).
    package var remote: (host: String, port: Int)
    /// The numeric IP address the call's SIP signalling came from (the INVITE's source), or nil. RTP from
    /// this address, like RTP from the offer's c= address, is the caller's (see ``MediaEngine``).
    package var signallingAddress: String?
    /// The audio payload type sent and received (0 for PCMU and 8 for PCMA when static; any dynamic type the
    /// offer's rtpmap names). The audio's encoding is the session account's (mu-law or A-law).
    package var audioPayloadType: UInt8
    /// The negotiated telephone-event payload type (often 101), or `nil` when the offer had none.
    package var telephoneEventPayloadType: UInt8?
    /// The packet time in milliseconds (`a=ptime`, 20 by default); a multiple of the engine's tick.
    package var ptimeMs: Int
    /// Whether DTMF goes out as RFC 4733 events (the session compiled with `dtmfOutput: .rfc4733`) rather
    /// than in the audio (`.inband`). Never both on a live call.
    package var sendDTMFAsEvents: Bool
    /// Where the caller's key presses are taken from.
    package var receiveDTMFFrom: DTMFSource
    /// Whether RTP is sent to the caller (false while the caller holds the call: `sendonly`/`inactive` offers,
    /// `c=0.0.0.0`).
    package var sends: Bool
    /// Whether the caller sends RTP (false for `recvonly`/`inactive` offers): when false the RTP timeout does
    /// not apply, only the engine's hold limit.
    package var receives: Bool
    /// The IVR session (`CompiledAccount.makeSession(calling:)`); the media thread owns it from now on.
    package var session: IVRSession
    /// The call's id in events and logs (the SIP Call-ID).
    package var callID: String

    /// Creates the parameters of a call.
    ///
    /// `receiveDTMFFrom` defaults to the way DTMF is sent: RFC 4733 events when `sendDTMFAsEvents`, else in-band.
    package init(
        port: RTPPortReservation, remote: (host: String, port: Int), signallingAddress: String? = nil,
        audioPayloadType: UInt8, telephoneEventPayloadType: UInt8?, ptimeMs: Int = 20,
        sendDTMFAsEvents: Bool, receiveDTMFFrom: DTMFSource? = nil, sends: Bool = true,
        receives: Bool = true, session: IVRSession, callID: String
    ) {
        self.port = port
        self.remote = remote
        self.signallingAddress = signallingAddress
        self.audioPayloadType = audioPayloadType
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.ptimeMs = ptimeMs
        self.sendDTMFAsEvents = sendDTMFAsEvents
        self.receiveDTMFFrom = receiveDTMFFrom ?? (sendDTMFAsEvents ? .rfc4733 : .inband)
        self.sends = sends
        self.receives = receives
        self.session = session
        self.callID = callID
    }
}

/// What an offer/answer exchange in the dialog changed (a re-INVITE or UPDATE, RFC 3264 §8; the ACK of a
/// late offer): applied by ``MediaEngine/updateCall(_:_:)`` from the call's next packet interval.
package struct MediaUpdate: Sendable {
    /// The offer's c= address and m= port: media moves there, and the source check is armed again for it
    /// (`0.0.0.0` or port 0 is hold: set ``sends`` false).
    package var remote: (host: String, port: Int)
    /// The audio payload type sent from now on (and expected from the caller).
    package var audioPayloadType: UInt8
    /// The audio's encoding on the wire (`.ulaw` or `.alaw`); the engine converts when it differs from the
    /// session's compiled encoding.
    package var encoding: SampleEncoding
    /// The telephone-event payload type, or nil when the new offer has none.
    package var telephoneEventPayloadType: UInt8?
    /// Whether RTP is sent to the caller.
    package var sends: Bool
    /// Whether the caller sends RTP (false: no RTP timeout, only the hold limit).
    package var receives: Bool

    /// Creates an update.
    package init(
        remote: (host: String, port: Int), audioPayloadType: UInt8, encoding: SampleEncoding,
        telephoneEventPayloadType: UInt8?, sends: Bool, receives: Bool
    ) {
        self.remote = remote
        self.audioPayloadType = audioPayloadType
        self.encoding = encoding
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.sends = sends
        self.receives = receives
    }
}
