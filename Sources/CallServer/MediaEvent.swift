// What the media engine reports about its calls, out of the media thread(s). Everything here is a plain
// value (no reference, no string) so that the media thread can post it into a fixed ring without
// allocation or reference counting; the engine's event thread adds the call id.

import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

/// A call on the media engine.
package struct MediaCallHandle: Sendable, Hashable, CustomStringConvertible {
    /// The engine's number for the call.
    package let id: UInt64

    /// The text form, for logs and messages.
    package var description: String { "media call \(id)" }
}

/// Why the media engine ended a call.
package enum MediaEndReason: Sendable, Hashable, CustomStringConvertible {
    /// The IVR session ended it (the sequence finished, a hangup option, no choice, the route hangs up).
    case ivr(IVRSession.EndReason)
    /// No RTP from the caller for the configured timeout.
    case rtpTimeout

    /// Why the call ended, as the server logs it and records it in the call's outcome: the IVR session's own
    /// text (`IVRSession.EndReason.description`, also what `callseq ivr` prints), or the media engine's.
    package var description: String {
        switch self {
        case .ivr(let reason): return reason.description
        case .rtpTimeout: return "no RTP from the caller"
        }
    }
}

/// Something that happened on a call.
package struct MediaEvent: Sendable, Hashable {
    /// What happened.
    package enum Kind: Sendable, Hashable {
        /// What the call's IVR session reported: a menu began to play, a digit, an invalid option, a timeout,
        /// a sequence began (never `.sequence` or `.ended`: those arrive as `smsRequested` and `ended`).
        case session(IVRSession.Event.Kind)
        /// A sequence reached an SMS step: hand `CompiledSequence.smsRequest(step:)` to the dispatcher.
        case smsRequested(sequence: Int, step: Int)
        /// The call is over on the media side: send BYE. Its port is released.
        case ended(MediaEndReason)
    }

    /// The call.
    package var call: MediaCallHandle
    /// The call id given to ``MediaEngine/startCall(_:)`` (the SIP Call-ID).
    package var callID: String
    /// What happened.
    package var kind: Kind
}
