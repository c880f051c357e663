import CallSequenceModel
import Recordings
import SMSText
import TelephonyDSP

/// One line of a compiled sequence's cue sheet.
public struct Cue: Sendable, Hashable {
    /// The step's index.
    public var step: Int
    /// For a digit line, its index within the step; `nil` for the step's own line.
    public var digit: Int?
    /// First sample.
    public var startSample: Int
    /// The sample after the last one.
    public var endSample: Int
    /// What happens.
    public var text: String
}

extension CompiledSequence {
    /// The cue sheet: one line per step, and one per digit of each DTMF step, with exact sample times.
    public var cueSheet: [Cue] {
        var cues: [Cue] = []
        for scheduled in steps {
            let step = sequence.steps[scheduled.index]
            var text: String
            switch step {
            case .dtmf(let dtmf):
                let t = scheduled.timing ?? format.dtmfDefaults
                text =
                    "dtmf \"\(dtmf.digits)\": \(t.toneMilliseconds) ms tones, \(t.gapMilliseconds) ms gaps, "
                    + "\(formatLevel(t.levelDbm0)) dBm0, twist \(formatSigned(t.twistDb)) dB, \(format.dtmfOutput.rawValue)"
            case .recording(let recording):
                if let prepared = scheduled.recording {
                    let s = prepared.source
                    text =
                        "recording \"\(recording.recording)\": \(s.container), \(s.sampleRate) Hz, \(s.channels) ch, "
                        + "active level \(formatLevel(prepared.loudness.activeLevelDbm0)) dBm0"
                } else {
                    text = "recording \"none\": nothing to play"
                }
            case .sms(let sms):
                text = "sms from \(sms.from) to \(sms.to): \"\(sms.message)\" (\(SMSLength(of: sms.message)))"
            }
            cues.append(
                Cue(
                    step: scheduled.index, digit: nil, startSample: scheduled.startSample,
                    endSample: scheduled.endSample, text: text))
            for (i, d) in digits.filter({ $0.step == scheduled.index }).enumerated() {
                cues.append(
                    Cue(
                        step: scheduled.index, digit: i, startSample: d.startSample, endSample: d.endSample,
                        text: "digit \(d.digit) (\(Int(d.digit.lowFrequency)) + \(Int(d.digit.highFrequency)) Hz)"))
            }
        }
        return cues
    }

    private func formatLevel(_ x: Double) -> String {
        x.isFinite ? String((x * 10).rounded() / 10) : "-inf"
    }

    private func formatSigned(_ x: Double) -> String {
        (x >= 0 ? "+" : "") + String((x * 10).rounded() / 10)
    }
}
