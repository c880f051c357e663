// cs_format from C, checked field by field: a C enum field can hold any int.

import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

extension CallFormat {
    /// The format a host passed, or an error naming the bad field.
    ///
    /// - Parameters:
    ///   - format: the host's `cs_format *`.
    ///   - function: the C function, for the message.
    init(_ format: UnsafePointer<cs_format>?, in function: String) throws(APIError) {
        guard let format else { throw APIError(CS_ERR_NULL, "\(function): format is NULL") }
        let value = format.pointee
        let rate = Int(value.sample_rate)
        guard ToneSynthesizer.supportedSampleRates.contains(rate) else {
            throw APIError(
                CS_ERR_ARGUMENT,
                "\(function): format.sample_rate \(rate) Hz is not supported (8000...48000)")
        }
        let encoding: SampleEncoding
        switch value.encoding {
        case CS_PCM16: encoding = .pcm16
        case CS_ULAW: encoding = .ulaw
        case CS_ALAW: encoding = .alaw
        default:
            let raw = Int32(bitPattern: value.encoding.rawValue)
            throw APIError(
                CS_ERR_ARGUMENT,
                "\(function): format.encoding \(raw) "
                    + "is not CS_PCM16 (0), CS_ULAW (1) or CS_ALAW (2)")
        }
        let mode: DTMFOutput
        switch value.dtmf_mode {
        case CS_DTMF_INBAND: mode = .inband
        case CS_DTMF_RFC4733: mode = .rfc4733
        case CS_DTMF_BOTH: mode = .both
        default:
            let raw = Int32(bitPattern: value.dtmf_mode.rawValue)
            throw APIError(
                CS_ERR_ARGUMENT,
                "\(function): format.dtmf_mode \(raw) "
                    + "is not CS_DTMF_INBAND (0), CS_DTMF_RFC4733 (1) or CS_DTMF_BOTH (2)")
        }
        self.init(sampleRate: rate, encoding: encoding, dtmfOutput: mode)
    }
}
