// What the media engine reports about its calls, out of the media thread(s). Everything here is a plain
// value (no reference, no string) so that the media thread can post it into a fixed ring without
// allocation or reference counting; the engine's event thread adds the call id.

import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

/// A call on the media engine.
public struct MediaCallHandle: Sendable, Hashable, CustomStringConvertible {
    /// The engine's number for the call.
    public let id: UInt64

    /// The text form, for logs and messages.
    public var description: String { "media call \(id)" }
}

/// Why the media engine ended a call.
public enum MediaEndReason: Sendable, Hashable {
    /// The IVR session ended it (the sequence finished, a hangup option, no choice, the route hangs up).
    case ivr(IVRSession.EndReason)
    /// No RTP from the caller for the configured timeout.
    case rtpTimeout
}

/// Something that happened on a call.
public struct MediaEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// An IVR's menu began to play (`play` counts from 1).
        case menuStarted(ivr: Int, play: Int)
        /// The caller pressed a digit (in-band, or as an RFC 4733 event).
        case digit(DTMFDigit)
        /// A digit with no option in this IVR.
        case invalidOption(ivr: Int, digit: DTMFDigit)
        /// No digit within the menu's timeout.
        case timedOut(ivr: Int)
        /// A sequence began (its index in the account's sequences).
        case sequenceStarted(Int)
        /// A sequence reached an SMS step: hand `CompiledSequence.smsRequest(step:)` to the dispatcher.
        case smsRequested(sequence: Int, step: Int)
        /// The call is over on the media side: send BYE. Its port is released.
        case ended(MediaEndReason)
    }

    /// The call.
    public var call: MediaCallHandle
    /// The call id given to ``MediaEngine/startCall(_:)`` (the SIP Call-ID).
    public var callID: String
    /// What happened.
    public var kind: Kind
}
