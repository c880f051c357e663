// The compiler: a validated sequence plus a call format become an immutable program that any number
// of calls play at once. Everything that does not depend on the call is done here: DTMF tones are
// synthesised (TelephonyDSP), recordings decoded, resampled and encoded (Recordings, once per
// recording, rate and encoding), all into one audio pool, PCM16 and G.711 side by side; the steps
// become a list of segments (audio from the pool, or silence) and a table of events, both sorted by
// sample. A Player then only copies bytes or writes silence and moves a cursor.

import Recordings
import TelephonyDSP

/// How DTMF steps are sent.
public enum DTMFMode: String, Sendable, CaseIterable, Hashable {
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
    public var dtmfMode: DTMFMode
    /// The timing of DTMF steps that do not set their own.
    public var dtmfDefaults: DTMFTiming

    /// Creates a format; the defaults are a narrowband PCM16 call with in-band DTMF.
    public init(sampleRate: Int = 8000, encoding: SampleEncoding = .pcm16, dtmfMode: DTMFMode = .inband,
                dtmfDefaults: DTMFTiming = .default) {
        self.sampleRate = sampleRate
        self.encoding = encoding
        self.dtmfMode = dtmfMode
        self.dtmfDefaults = dtmfDefaults
    }
}

/// A step that could not be compiled, with its JSON path.
public struct CompileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where (`steps[0].recording`).
    public var path: String
    /// What went wrong.
    public var message: String

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
    @usableFromInline var poolOffset: Int     // -1: silence
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
    public let sequence: CallSequence
    /// The call format.
    public let format: CallFormat
    /// The length in samples.
    public let totalSamples: Int
    /// Every step with its place.
    public let steps: [ScheduledStep]
    /// Every DTMF tone with its place, in order.
    public let digits: [ScheduledDigit]

    @usableFromInline let segments: UnsafeMutableBufferPointer<Segment>
    @usableFromInline let events: UnsafeMutableBufferPointer<ScheduledEvent>
    @usableFromInline let tones: UnsafeMutableBufferPointer<ScheduledDigit>
    @usableFromInline let pcm: UnsafeMutableBufferPointer<Int16>
    @usableFromInline let encoded: UnsafeMutableBufferPointer<UInt8>

    /// Compiles `sequence` for calls of `format`.
    ///
    /// - Parameters:
    ///   - sequence: a sequence (see ``CallSequence/parse(_:source:recordings:)``).
    ///   - format: rate, encoding, DTMF mode and default DTMF timing.
    ///   - recordings: where recordings come from; prepared once per (recording, rate, encoding).
    /// - Throws: ``CompileError`` naming the step, for an unknown or unreadable recording or a bad format.
    public init(_ sequence: CallSequence, format: CallFormat, recordings: RecordingCache) throws(CompileError) {
        guard ToneSynthesizer.supportedSampleRates.contains(format.sampleRate) else {
            throw CompileError(path: "", message: "sample rate \(format.sampleRate) Hz is not supported (8000...48000)")
        }
        var segments: [Segment] = []
        var events: [ScheduledEvent] = []
        var digits: [ScheduledDigit] = []
        var steps: [ScheduledStep] = []
        var pool: [Int16] = []
        var cursor = 0

        func addAudio(_ samples: ArraySlice<Int16>) {
            guard !samples.isEmpty else { return }
            segments.append(Segment(start: cursor, length: samples.count, poolOffset: pool.count))
            pool.append(contentsOf: samples)
            cursor += samples.count
        }
        func addSilence(_ count: Int) {
            guard count > 0 else { return }
            if let last = segments.last, last.poolOffset < 0, last.start + last.length == cursor {
                segments[segments.count - 1].length += count
            } else {
                segments.append(Segment(start: cursor, length: count, poolOffset: -1))
            }
            cursor += count
        }

        for (index, step) in sequence.steps.enumerated() {
            let path = "steps[\(index)]"
            let start = cursor
            events.append(ScheduledEvent(sample: start, kind: .stepStarted, step: index))
            var scheduled = ScheduledStep(index: index, startSample: start, endSample: start)
            switch step {
            case .dtmf(let dtmf):
                let timing = dtmf.timing(defaults: format.dtmfDefaults)
                let audio: [Int16]
                let generator: DTMFGenerator
                do {
                    generator = try DTMFGenerator(dialString: dtmf.digits, timing: timing, sampleRate: format.sampleRate)
                    audio = try DTMFGenerator.render(dtmf.digits, timing: timing, sampleRate: format.sampleRate)
                } catch {
                    throw CompileError(path: path, message: error.description)
                }
                var at = 0
                for tone in generator.schedule {
                    addSilence(tone.startSample - at)
                    if format.dtmfMode == .rfc4733 {
                        addSilence(tone.endSample - tone.startSample)
                    } else {
                        addAudio(audio[tone.startSample..<tone.endSample])
                    }
                    let volume = UInt8(clamping: max(0, min(63, Int((-timing.levelDbm0).rounded()))))
                    digits.append(ScheduledDigit(step: index, digit: tone.digit, startSample: start + tone.startSample,
                                                 endSample: start + tone.endSample, volume: volume))
                    at = tone.endSample
                }
                addSilence(audio.count - at)
                scheduled.timing = timing
            case .recording(let recording):
                do {
                    if let prepared = try recordings.recording(recording.recording, sampleRate: format.sampleRate, encoding: format.encoding) {
                        addAudio(prepared.pcm[...])
                        scheduled.recording = prepared
                    }
                } catch {
                    throw CompileError(path: "\(path).recording", message: error.description)
                }
            case .sms:
                events.append(ScheduledEvent(sample: start, kind: .smsRequested, step: index))
            }
            scheduled.endSample = cursor
            steps.append(scheduled)
            events.append(ScheduledEvent(sample: cursor, kind: .stepFinished, step: index))
        }

        self.sequence = sequence
        self.format = format
        self.totalSamples = cursor
        self.steps = steps
        self.digits = digits
        self.segments = .allocate(copying: segments)
        self.events = .allocate(copying: events)
        self.tones = .allocate(copying: digits)
        self.pcm = .allocate(copying: pool)
        switch format.encoding {
        case .pcm16: self.encoded = .allocate(capacity: 0)
        case .ulaw: self.encoded = .allocate(copying: pool.map(MuLaw.encode))
        case .alaw: self.encoded = .allocate(copying: pool.map(ALaw.encode))
        }
    }

    deinit {
        segments.deallocate()
        events.deallocate()
        tones.deallocate()
        pcm.deallocate()
        encoded.deallocate()
    }

    /// The duration in seconds.
    public var duration: Double { Double(totalSamples) / Double(format.sampleRate) }

    /// The SMS to send for step `index`, or `nil` if it is not an SMS step. Hosts call this off the audio
    /// thread when the player reports ``PlayerEvent/Kind/smsRequested(step:)``.
    public func smsRequest(step index: Int) -> SMSStep? {
        guard sequence.steps.indices.contains(index), case .sms(let sms) = sequence.steps[index] else { return nil }
        return sms
    }

    /// A new player for one call. Its state is a few hundred bytes; the audio stays here, shared.
    public func makePlayer() -> Player { Player(self) }

    /// The bytes of audio the program holds (PCM16 pool plus its G.711 copy), shared by every call.
    public var sharedAudioBytes: Int { pcm.count * 2 + encoded.count }
}

extension UnsafeMutableBufferPointer {
    static func allocate(copying array: [Element]) -> UnsafeMutableBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: array.count)
        _ = buffer.initialize(from: array)
        return buffer
    }
}
