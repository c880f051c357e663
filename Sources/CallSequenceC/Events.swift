// Swift events (player, IVR session, receiver) as cs_event values for the host. Pure value conversions,
// inlined into the render paths: no allocation.

import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

extension cs_event {
    /// A player's event; `sequence` is the account's sequence index in a call, -1 for a bare player.
    @inline(__always)
    init(_ event: PlayerEvent.Kind, sample: Int, offset: Int, sequence: Int) {
        switch event {
        case .stepStarted(let step):
            self.init(CS_EVENT_STEP_STARTED, sample: sample, offset: offset)
            self.step = Int32(truncatingIfNeeded: step)
        case .stepFinished(let step):
            self.init(CS_EVENT_STEP_FINISHED, sample: sample, offset: offset)
            self.step = Int32(truncatingIfNeeded: step)
        case .smsRequested(let step):
            self.init(CS_EVENT_SMS_REQUESTED, sample: sample, offset: offset)
            self.step = Int32(truncatingIfNeeded: step)
        case .telephoneEvent(let state):
            self.init(CS_EVENT_TELEPHONE_EVENT, sample: sample, offset: offset)
            digit = digitCharacter(state.digit.rawValue)
            duration = Int32(clamping: state.duration)
            ended = state.ended ? 1 : 0
            volume = Int32(state.volume)
        case .finished(let cancelled):
            self.init(sequence >= 0 ? CS_EVENT_SEQUENCE_FINISHED : CS_EVENT_FINISHED, sample: sample, offset: offset)
            self.cancelled = cancelled ? 1 : 0
        }
        self.sequence = Int32(truncatingIfNeeded: sequence)
    }

    /// An IVR session's event, `offset` samples into the frame.
    @inline(__always)
    init(_ event: IVRSession.Event, offset: Int) {
        switch event.kind {
        case .menuStarted(let ivr, let play):
            self.init(CS_EVENT_MENU_STARTED, sample: event.sample, offset: offset)
            self.ivr = Int32(truncatingIfNeeded: ivr)
            self.play = Int32(truncatingIfNeeded: play)
        case .digit(let digit):
            self.init(CS_EVENT_DIGIT, sample: event.sample, offset: offset)
            self.digit = digitCharacter(digit.rawValue)
        case .invalidOption(let ivr, let digit):
            self.init(CS_EVENT_INVALID_OPTION, sample: event.sample, offset: offset)
            self.ivr = Int32(truncatingIfNeeded: ivr)
            self.digit = digitCharacter(digit.rawValue)
        case .timedOut(let ivr):
            self.init(CS_EVENT_TIMED_OUT, sample: event.sample, offset: offset)
            self.ivr = Int32(truncatingIfNeeded: ivr)
        case .sequenceStarted(let sequence):
            self.init(CS_EVENT_SEQUENCE_STARTED, sample: event.sample, offset: offset)
            self.sequence = Int32(truncatingIfNeeded: sequence)
        case .sequence(let sequence, let kind):
            self.init(kind, sample: event.sample, offset: offset, sequence: sequence)
        case .ended(let reason):
            self.init(CS_EVENT_FINISHED, sample: event.sample, offset: offset)
            switch reason {
            case .routeHangup: self.reason = Int32(bitPattern: CS_END_ROUTE_HANGUP.rawValue)
            case .hangupOption: self.reason = Int32(bitPattern: CS_END_HANGUP_OPTION.rawValue)
            case .noChoice: self.reason = Int32(bitPattern: CS_END_NO_CHOICE.rawValue)
            case .sequenceFinished: self.reason = Int32(bitPattern: CS_END_SEQUENCE_FINISHED.rawValue)
            case .callerHungUp:
                self.reason = Int32(bitPattern: CS_END_CALLER_HUNG_UP.rawValue)
                cancelled = 1
            }
        }
    }

    /// A receiver's event: a digit began, or ended (with its duration and the low tone's level).
    @inline(__always)
    init(_ event: DTMFDetector.Event, offsetFrom frameStart: Int) {
        switch event {
        case .began(let digit, let start):
            self.init(CS_EVENT_DIGIT, sample: start, offset: max(0, start - frameStart))
            self.digit = digitCharacter(digit.rawValue)
        case .ended(let found):
            self.init(CS_EVENT_DIGIT, sample: found.startSample, offset: max(0, found.endSample - frameStart))
            digit = digitCharacter(found.digit.rawValue)
            duration = Int32(clamping: found.endSample - found.startSample)
            ended = 1
            let level = -found.lowLevelDbm0
            volume = level.isFinite ? Int32(min(63, max(0, level.rounded()))) : 63
        }
    }
}
