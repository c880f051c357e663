// What the SIP side negotiated for a call, handed to the media engine when the call is answered.

import CallSequence
import RTP

/// A call to start on the media engine: its port, the caller's RTP address from the SDP offer, the
/// negotiated payload types and packet time, and the IVR session to play.
public struct MediaCallParameters {
    /// The port reserved with ``MediaEngine/reservePort()`` and announced in the SDP answer.
    public var port: RTPPortReservation
    /// Where to send RTP until the caller's own RTP arrives (the offer's c= address and m= port).
    public var remote: (host: String, port: Int)
    /// 0 (PCMU) or 8 (PCMA); the session's account must be compiled for the same encoding.
    public var audioPayloadType: UInt8
    /// The negotiated telephone-event payload type (often 101), or `nil` when the offer had none.
    public var telephoneEventPayloadType: UInt8?
    /// The packet time in milliseconds (`a=ptime`, 20 by default); a multiple of the engine's tick.
    public var ptimeMs: Int
    /// Whether DTMF goes out as RFC 4733 events (the session compiled with `dtmfMode: .rfc4733`) rather
    /// than in the audio (`.inband`). Never both on a live call.
    public var sendDTMFAsEvents: Bool
    /// The IVR session (`CompiledAccount.makeSession(calling:)`); the media thread owns it from now on.
    public var session: IVRSession
    /// The call's id in events and logs (the SIP Call-ID).
    public var callID: String

    /// Creates the parameters of a call.
    public init(port: RTPPortReservation, remote: (host: String, port: Int), audioPayloadType: UInt8,
                telephoneEventPayloadType: UInt8?, ptimeMs: Int = 20, sendDTMFAsEvents: Bool,
                session: IVRSession, callID: String) {
        self.port = port
        self.remote = remote
        self.audioPayloadType = audioPayloadType
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.ptimeMs = ptimeMs
        self.sendDTMFAsEvents = sendDTMFAsEvents
        self.session = session
        self.callID = callID
    }
}
