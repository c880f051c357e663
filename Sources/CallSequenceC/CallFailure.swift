// Statuses of the real-time calls (render, press, process): they cannot allocate an error object, so each
// handle records why its last call did nothing, with a static text. Also cs_status_string.

/// Why a real-time call (render, press, process) did nothing. The texts are made once, before any handle
/// exists, so reporting a failure on the audio thread allocates nothing.
enum CallFailure: Int, CaseIterable {
    case none
    case samplesNull
    case eventsNull
    case eventCountNull
    case countZero
    case countTooLarge
    case maxEventsZero
    case misaligned
    case callerAudioMisaligned
    case eventsPending
    case notADigit

    var status: cs_status {
        switch self {
        case .none: return CS_OK
        case .samplesNull, .eventsNull, .eventCountNull: return CS_ERR_NULL
        case .countZero, .countTooLarge, .maxEventsZero, .misaligned, .callerAudioMisaligned, .notADigit:
            return CS_ERR_ARGUMENT
        case .eventsPending: return CS_ERR_EVENTS_PENDING
        }
    }

    var text: String {
        switch self {
        case .none: return "ok"
        case .samplesNull: return "samples is NULL"
        case .eventsNull: return "events is NULL"
        case .eventCountNull: return "event_count is NULL"
        case .countZero: return "count is 0: a frame has at least one sample"
        case .countTooLarge:
            return "count is too large (a player: 16777216 samples; a call or detector: one second of samples)"
        case .maxEventsZero: return "max_events is 0: room for at least one event is needed"
        case .misaligned: return "samples is not 2-byte aligned for int16_t"
        case .callerAudioMisaligned: return "caller_audio is not 2-byte aligned for int16_t"
        case .eventsPending:
            return "nothing rendered: more than CS_EVENTS_PENDING_LIMIT (64) events wait to be collected"
        case .notADigit: return "not a DTMF digit (0-9, *, #, A-D, a-d)"
        }
    }

    /// The texts, indexed by raw value, made once (nonisolated(unsafe): never written after).
    nonisolated(unsafe) static let texts: [UnsafePointer<CChar>] = allCases.map { CString.permanent($0.text) }

    /// The static text, from the table (``prepare()`` has made it).
    var cText: UnsafePointer<CChar> { CallFailure.texts[rawValue] }

    /// Makes the table; constructors call it so that the audio thread never does.
    static func prepare() {
        _ = texts.count
        _ = nullHandleText
    }
}

/// Status of a handle's last real-time call, for `cs_player_status` and friends.
func statusResult(_ failure: CallFailure, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    message?.pointee = failure.cText
    return Int32(bitPattern: failure.status.rawValue)
}

/// Status of a NULL handle.
func nullHandleStatus(_ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    message?.pointee = nullHandleText
    return Int32(bitPattern: CS_ERR_NULL.rawValue)
}

nonisolated(unsafe) let nullHandleText = CString.permanent("the handle is NULL")

nonisolated(unsafe) let statusTexts: [UnsafePointer<CChar>] = [
    "ok", "a required pointer is NULL", "invalid argument", "not found", "malformed JSON",
    "invalid document", "recording cannot be prepared", "cannot read file", "events pending",
].map(CString.permanent)

nonisolated(unsafe) let unknownStatusText = CString.permanent("unknown status")
nonisolated(unsafe) let successText = CString.permanent("success")

@c @implementation
public func cs_status_string(_ status: Int32) -> UnsafePointer<CChar>! {
    statusTexts.indices.contains(Int(status)) ? statusTexts[Int(status)] : unknownStatusText
}
