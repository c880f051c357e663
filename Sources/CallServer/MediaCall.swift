// One call's state on a media thread: a plain struct in the thread's call table (no class reference
// counted per tick: the IVR session is held unmanaged, retained once when the call starts and released by
// the event thread when it ends).

import CallSequenceEngine
import CallSequenceModel
import RTP

/// The per-call media state, owned by one media thread.
struct MediaCall {
    enum Phase {
        /// Receiving, rendering and sending.
        case running
        /// The call has ended; final telephone-event packets are still being retransmitted.
        case closing
        /// Done: waiting for room in the event ring to report the end.
        case finished
    }

    var id: UInt64
    var socket: UDPSocket
    /// Which RTP is the caller's, and where RTP goes: the SDP's address, then the caller's accepted RTP source
    /// (symmetric RTP).
    var sources: RTPSourceFilter
    var sender: RTPSender
    var receiver = TelephoneEventReceiver()
    var session: Unmanaged<IVRSession>
    var audioPayloadType: UInt8
    /// The telephone-event payload type, or -1 when none was negotiated.
    var eventPayloadType: Int16
    /// The audio's encoding on the wire (A-law or mu-law).
    var alaw: Bool
    /// The session renders the other G.711 law than the wire's: each frame is converted before it is sent.
    var transcodes: Bool
    var sendsEvents: Bool
    /// Digits come from the caller's audio (in-band), not from RFC 4733 events.
    var digitsInBand: Bool
    /// RTP is sent (false on hold).
    var sends: Bool
    /// The caller sends RTP (false: the hold limit applies instead of the RTP timeout).
    var receives: Bool
    var samplesPerFrame: Int
    var periodTicks: Int64
    var nextDueTick: Int64 = 0
    var lastReceiveTick: Int64 = 0
    /// The caller's audio received since the last frame, decoded (16-bit linear).
    var callerAudio: UnsafeMutablePointer<Int16>
    var callerAudioCount = 0
    var callerAudioCapacity: Int
    /// The packets for the next deadline, in the same allocation as `callerAudio` (after its samples).
    var outbox: MediaOutbox
    /// The thread's readiness poll watches the socket (otherwise it is read at every frame).
    var watched = false
    /// The poll reported data that has not been read yet (or the socket is not watched).
    var readable = true
    var phase = Phase.running
    var endReason = MediaEndReason.rtpTimeout
    /// Whether the end has been posted (the `released` record may still be waiting for room).
    var endPosted = false
}

/// A command for a media thread, queued under a lock and taken once per tick.
enum MediaCommand {
    case add(MediaCall)
    case remove(UInt64)
    case update(UInt64, MediaCallChange)
}

/// A ``MediaUpdate`` resolved by the engine into what the media thread applies.
struct MediaCallChange {
    var remote: UDPAddress
    var audioPayloadType: UInt8
    var eventPayloadType: Int16
    var alaw: Bool
    var sends: Bool
    var receives: Bool
}

// The session is only touched by the media thread that owns the call; the command carries it there.
extension MediaCommand: @unchecked Sendable {}
