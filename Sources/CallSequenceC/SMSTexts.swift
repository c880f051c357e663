// The texts of a sequence's SMS steps as C strings, made once when it is compiled: the host fetches them
// (cs_sequence_sms, cs_account_sms) when a player reports CS_EVENT_SMS_REQUESTED.

import CallSequenceEngine
import CallSequenceModel

/// From, to and message of each SMS step, by step index (NULL entries for other steps).
struct SMSTexts {
    private struct Text {
        let from: UnsafeMutablePointer<CChar>
        let to: UnsafeMutablePointer<CChar>
        let message: UnsafeMutablePointer<CChar>
    }

    private let steps: [Text?]

    init(_ sequence: SequenceDefinition) {
        steps = sequence.steps.map { step in
            guard case .sms(let sms) = step else { return nil }
            return Text(
                from: CString.owned(sms.from.digits), to: CString.owned(sms.to.digits),
                message: CString.owned(sms.message))
        }
    }

    /// Frees the strings (the owner's deinit).
    func deallocate() {
        for case let text? in steps {
            text.from.deallocate()
            text.to.deallocate()
            text.message.deallocate()
        }
    }

    /// Stores step `index`'s strings; CS_OK, or CS_ERR_ARGUMENT if it is not an SMS step.
    func lookup(
        _ index: Int, _ from: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
        _ to: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) -> Int32 {
        guard steps.indices.contains(index), let text = steps[index] else {
            from?.pointee = nil
            to?.pointee = nil
            message?.pointee = nil
            return Int32(bitPattern: CS_ERR_ARGUMENT.rawValue)
        }
        from?.pointee = UnsafePointer(text.from)
        to?.pointee = UnsafePointer(text.to)
        message?.pointee = UnsafePointer(text.message)
        return Int32(bitPattern: CS_OK.rawValue)
    }
}
