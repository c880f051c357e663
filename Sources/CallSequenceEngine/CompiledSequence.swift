// The compiler: a validated sequence plus a call format become an immutable program that any number
// of calls play at once. Everything that does not depend on the call is done here, and nothing is
// rendered twice: a DTMF digit's burst comes from the process-wide ToneBurstCache (one per digit,
// duration, level, twist, rate and encoding), a recording from the RecordingCache (once per recording,
// rate and encoding). The program itself is only a schedule, O(steps + digits): a list of segments
// (a pointer into a shared burst or recording, or silence) and a table of events, both sorted by
// sample. A Player then only copies bytes or writes silence and moves a cursor.
import CallSequenceModel
import Recordings
import TelephonyDSP

/// What a compiled program emits for its DTMF steps. One vocabulary with an account's `Account.DTMFDelivery`
/// (auto, inband, rfc4733: what a DID asks for): a live call resolves `auto` to ``inband`` or ``rfc4733`` from the
/// caller's offer; ``both`` is for files and embedding hosts (`callseq render --dtmf-mode both`).
public enum DTMFOutput: String, Sendable, CaseIterable, Hashable {
    /// As audio tones in the call's audio.
    case inband
    /// As RFC 4733 telephone-events only; the audio is silent while a digit is sent.
    case rfc4733
    /// Both: tones in the audio and telephone-events.
    case both
}

/// The format of the call a sequence plays on.
public struct CallFormat: Sendable, Hashable {
    /// Samples per second (8000...48000).
    public var sampleRate: Int
    /// The audio's encoding.
    public var encoding: SampleEncoding
    /// How DTMF steps are sent.
    public var dtmfOutput: DTMFOutput
    /// The timing of DTMF steps that do not set their own.
    public var dtmfDefaults: DTMFTiming

    /// Creates a format; the defaults are a narrowband PCM16 call with in-band DTMF.
    public init(
        sampleRate: Int = 8000, encoding: SampleEncoding = .pcm16, dtmfOutput: DTMFOutput = .inband,
        dtmfDefaults: DTMFTiming = .default
    ) {
        self.sampleRate = sampleRate
        self.encoding = encoding
        self.dtmfOutput = dtmfOutput
        self.dtmfDefaults = dtmfDefaults
    }
}

/// A step that could not be compiled, with its JSON path.
public struct CompileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where (`steps[0].recording`).
    public var path: String
    /// What went wrong.
    public var message: String

    /// The problem as a person reads it: what the command line prints after "error:".
    public var description: String { "\(path): \(message)" }
}

/// One digit's tone in a compiled sequence.
public struct ScheduledDigit: Sendable, Hashable {
    /// The step it belongs to.
    public var step: Int
    /// The digit.
    public var digit: DTMFDigit
    /// First sample of the tone.
    public var startSample: Int
    /// The sample after the tone.
    public var endSample: Int
    /// The RFC 4733 volume (the low-group level in -dBm0, 0...63).
    public var volume: UInt8
}

/// Where a step sits in a compiled sequence.
public struct ScheduledStep: Sendable {
    /// The step's index.
    public var index: Int
    /// Its first sample.
    public var startSample: Int
    /// The sample after its last one (equal to the start for SMS steps and "none" recordings).
    public var endSample: Int
    /// For recordings, what was prepared.
    public var recording: PreparedRecording?
    /// For DTMF steps, the timing used.
    public var timing: DTMFTiming?
}

@usableFromInline
struct Segment {
    @usableFromInline var start: Int
    @usableFromInline var length: Int
    /// The audio as PCM16, or `nil` for silence (points into a ToneBurst or PreparedRecording the program keeps).
    @usableFromInline var pcm: UnsafePointer<Int16>?
    /// The same audio as G.711 (`nil` for silence or PCM16 programs).
    @usableFromInline var encoded: UnsafePointer<UInt8>?
}

@usableFromInline
struct ScheduledEvent {
    @usableFromInline enum Kind: UInt8 { case stepStarted, stepFinished, smsRequested }
    @usableFromInline var sample: Int
    @usableFromInline var kind: Kind
    @usableFromInline var step: Int
}

/// A sequence compiled for one call format: immutable, and shared by every call that plays it.
public final class CompiledSequence: @unchecked Sendable {
    // @unchecked: the raw buffers are written only by init and freed only by deinit.

    /// The sequence.
    public let sequence: SequenceDefinition
    /// The call format.
    public let format: CallFormat
    /// The length in samples.
    public let totalSamples: Int
    /// Every step with its place.
    public let steps: [ScheduledStep]
    /// Every DTMF tone with its place, in order.
    public let digits: [ScheduledDigit]
    /// Whether DTMF audio was left out (``init(_:format:recordings:limits:schedulesOnly:)``).
    public let schedulesOnly: Bool

    @usableFromInline let segments: UnsafeMutableBufferPointer<Segment>
    @usableFromInline let events: UnsafeMutableBufferPointer<ScheduledEvent>
    @usableFromInline let tones: UnsafeMutableBufferPointer<ScheduledDigit>
    /// The shared audio the segments point into, kept alive by the program.
    private let bursts: [ToneBurst]
    private let recordings: [PreparedRecording]

    /// Compiles `sequence` for calls of `format`.
    ///
    /// - Parameters:
    ///   - sequence: a sequence (see `SequenceDefinition/parse(_:source:recordings:)`).
    ///   - format: rate, encoding, DTMF mode and default DTMF timing.
    ///   - recordings: where recordings come from; prepared once per (recording, rate, encoding).
    ///   - limits: the timing ranges and the duration cap (TelephonyDSP's `Limits.maximumSequenceMilliseconds`).
    ///   - schedulesOnly: `true` to leave DTMF audio out (a player then sends silence for the tones): for
    ///     `timeline` and `validate`, which need every place and duration but no tone.
    /// - Throws: ``CompileError`` naming the step, for an unknown or unreadable recording, a bad format or
    ///   timing, or a sequence longer than the cap.
    public init(
        _ sequence: SequenceDefinition, format: CallFormat, recordings: RecordingCache,
        limits: Limits = .default, schedulesOnly: Bool = false
    ) throws(CompileError) {
        guard ToneSynthesizer.supportedSampleRates.contains(format.sampleRate) else {
            throw CompileError(path: "", message: "sample rate \(format.sampleRate) Hz is not supported (8000...48000)")
        }
        let rate = format.sampleRate
        let maximumSamples =
            limits.maximumSequenceMilliseconds / 1000 * rate
            + (limits.maximumSequenceMilliseconds % 1000 * rate + 999) / 1000
        var segments: [Segment] = []
        var events: [ScheduledEvent] = []
        var digits: [ScheduledDigit] = []
        var steps: [ScheduledStep] = []
        var bursts: [ToneBurstCache.Key: ToneBurst] = [:]
        var prepared: [ObjectIdentifier: PreparedRecording] = [:]
        var cursor = 0

        func addAudio(_ pcm: UnsafePointer<Int16>?, _ encoded: UnsafePointer<UInt8>?, count: Int) {
            guard count > 0 else { return }
            segments.append(Segment(start: cursor, length: count, pcm: pcm, encoded: encoded))
            cursor += count
        }
        func addSilence(_ count: Int) {
            guard count > 0 else { return }
            if let last = segments.last, last.pcm == nil, last.start + last.length == cursor {
                segments[segments.count - 1].length += count
            } else {
                segments.append(Segment(start: cursor, length: count, pcm: nil, encoded: nil))
            }
            cursor += count
        }
        func checkDuration(_ path: String) throws(CompileError) {
            guard cursor <= maximumSamples else {
                let ms = Int((Double(cursor) * 1000 / Double(rate)).rounded(.up))
                throw CompileError(
                    path: path,
                    message: "the sequence lasts at least \(Limits.describe(milliseconds: ms)); "
                        + "at most \(Limits.describe(milliseconds: limits.maximumSequenceMilliseconds)) (\(Limits.durationReason))"
                )
            }
        }

        for (index, step) in sequence.steps.enumerated() {
            let path = "steps[\(index)]"
            let start = cursor
            events.append(ScheduledEvent(sample: start, kind: .stepStarted, step: index))
            var scheduled = ScheduledStep(index: index, startSample: start, endSample: start)
            switch step {
            case .dtmf(let dtmf):
                let timing = dtmf.timing(defaults: format.dtmfDefaults)
                do {
                    try timing.validate(limits)
                } catch {
                    throw CompileError(path: path, message: error.description)
                }
                guard timing.milliseconds(of: dtmf.digits) <= limits.maximumSequenceMilliseconds else {
                    cursor = maximumSamples + 1
                    try checkDuration(path)
                    break
                }
                let toneSamples = samples(milliseconds: timing.toneMilliseconds, sampleRate: rate)
                let gapSamples = samples(milliseconds: timing.gapMilliseconds, sampleRate: rate)
                let volume = UInt8(clamping: max(0, min(63, Int((-timing.levelDbm0).rounded()))))
                // G.711: a digit's gap is in its burst, after the tone (one segment: a frame across the two is
                // one copy, not a copy and a fill). PCM16 keeps the gap as silence: a fill of 16-bit samples
                // costs fewer instructions than a copy, most at 48 kHz.
                let burstGap = format.encoding == .pcm16 ? 0 : gapSamples
                for element in dtmf.digits.elements {
                    switch element {
                    case .digit(let digit):
                        let toneStart = cursor
                        if format.dtmfOutput == .rfc4733 || schedulesOnly {
                            addSilence(toneSamples)
                        } else {
                            let key = ToneBurstCache.Key(
                                digit: digit, samples: toneSamples, gapSamples: burstGap,
                                levelDbm0: timing.levelDbm0, twistDb: timing.twistDb,
                                sampleRate: rate, encoding: format.encoding)
                            let burst: ToneBurst
                            if let known = bursts[key] {
                                burst = known
                            } else {
                                do { burst = try ToneBurstCache.shared.burst(key) } catch {
                                    throw CompileError(path: path, message: error.description)
                                }
                                bursts[key] = burst
                            }
                            addAudio(
                                UnsafePointer(burst.pcm.baseAddress),
                                format.encoding == .pcm16 ? nil : UnsafePointer(burst.encoded.baseAddress),
                                count: toneSamples + burstGap)
                        }
                        digits.append(
                            ScheduledDigit(
                                step: index, digit: digit, startSample: toneStart,
                                endSample: toneStart + toneSamples, volume: volume))
                        if format.dtmfOutput == .rfc4733 || schedulesOnly || burstGap == 0 { addSilence(gapSamples) }
                    case .pause(let ms):
                        addSilence(samples(milliseconds: ms, sampleRate: rate))
                    }
                }
                try checkDuration(path)
                scheduled.timing = timing
            case .recording(let recording):
                let result: PreparedRecording?
                do {
                    result = try recordings.recording(recording.recording, sampleRate: rate, encoding: format.encoding)
                } catch {
                    throw CompileError(path: "\(path).recording", message: error.description)
                }
                if let result, !result.pcm.isEmpty {
                    prepared[ObjectIdentifier(result)] = result
                    // The arrays are immutable `let`s of a final class the program keeps alive: their
                    // contiguous storage never moves or is freed while the program exists.
                    let pcm = result.pcm.withUnsafeBufferPointer { $0.baseAddress }
                    let encoded =
                        format.encoding == .pcm16 || result.encoded.count != result.pcm.count
                        ? nil : result.encoded.withUnsafeBufferPointer { $0.baseAddress }
                    if format.encoding != .pcm16 && encoded == nil {
                        throw CompileError(
                            path: "\(path).recording", message: "the recording was not prepared as G.711")
                    }
                    addAudio(pcm, encoded, count: result.pcm.count)
                }
                scheduled.recording = result
                try checkDuration("\(path).recording")
            case .sms:
                events.append(ScheduledEvent(sample: start, kind: .smsRequested, step: index))
            }
            scheduled.endSample = cursor
            steps.append(scheduled)
            events.append(ScheduledEvent(sample: cursor, kind: .stepFinished, step: index))
        }

        self.sequence = sequence
        self.format = format
        self.schedulesOnly = schedulesOnly
        self.totalSamples = cursor
        self.steps = steps
        self.digits = digits
        self.segments = .allocate(copying: segments)
        self.events = .allocate(copying: events)
        self.tones = .allocate(copying: digits)
        self.bursts = Array(bursts.values)
        self.recordings = Array(prepared.values)
    }

    deinit {
        segments.deallocate()
        events.deallocate()
        tones.deallocate()
    }

    /// The duration in seconds.
    public var duration: Double { Double(totalSamples) / Double(format.sampleRate) }

    /// The SMS to send for step `index`, or `nil` if it is not an SMS step. Hosts call this off the audio
    /// thread when the player reports ``PlayerEvent/Kind/smsRequested(step:)``.
    public func smsRequest(step index: Int) -> SMSStep? {
        guard sequence.steps.indices.contains(index), case .sms(let sms) = sequence.steps[index] else { return nil }
        return sms
    }

    /// A new player for one call. Its state is a few hundred bytes; the audio stays shared.
    public func makePlayer() -> Player { Player(self) }

    /// The bytes of audio the program refers to (each distinct DTMF burst and prepared recording once).
    /// That audio is shared with every other program of the process that uses it.
    public var sharedAudioBytes: Int {
        bursts.reduce(0) { $0 + $1.bytes } + recordings.reduce(0) { $0 + $1.pcm.count * 2 + $1.encoded.count }
    }

    /// The bytes of the program's own schedule (segments, events and tones).
    public var scheduleBytes: Int {
        segments.count * MemoryLayout<Segment>.stride + events.count * MemoryLayout<ScheduledEvent>.stride
            + tones.count * MemoryLayout<ScheduledDigit>.stride
    }
}

extension UnsafeMutableBufferPointer {
    static func allocate(copying array: [Element]) -> UnsafeMutableBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: array.count)
        _ = buffer.initialize(from: array)
        return buffer
    }
}
