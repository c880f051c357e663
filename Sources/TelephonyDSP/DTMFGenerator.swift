// DTMF sending (ITU-T Q.23 transmitter) of a whole dial string, streamed in chunks of any size.
// Timing follows Asterisk's SendDTMF: every digit is a tone followed by the inter-digit gap (also
// after the last digit, so that consecutive dial strings never run into each other); `w` and `W`
// add 0.5 s and 1 s of silence.

/// How DTMF digits are sent: tone and gap durations, level and twist.
public struct DTMFTiming: Sendable, Hashable, Codable {
    /// Tone duration in milliseconds (default 100).
    public var toneMilliseconds: Int
    /// Silence after each tone in milliseconds (default 100).
    public var gapMilliseconds: Int
    /// Level of the low-group tone in dBm0 (default -10).
    public var levelDbm0: Double
    /// Level of the high-group tone relative to the low-group tone, in dB (default +2).
    public var twistDb: Double

    /// Creates a timing; every parameter has the default a door controller expects.
    public init(toneMilliseconds: Int = 100, gapMilliseconds: Int = 100, levelDbm0: Double = -10, twistDb: Double = 2) {
        self.toneMilliseconds = toneMilliseconds
        self.gapMilliseconds = gapMilliseconds
        self.levelDbm0 = levelDbm0
        self.twistDb = twistDb
    }

    /// The defaults: 100 ms tones, 100 ms gaps, -10 dBm0 low group, +2 dB twist.
    public static let `default` = DTMFTiming()

    /// Checks every field against `limits` (Q.24 durations and level floor) and that the two tones
    /// together stay within the 16-bit scale.
    ///
    /// - Throws: ``TelephonyDSPError`` naming the first field out of range, with the reason.
    public func validate(_ limits: Limits = .default) throws(TelephonyDSPError) {
        let tones = Double(limits.toneMilliseconds.lowerBound)...Double(limits.toneMilliseconds.upperBound)
        guard tones.contains(Double(toneMilliseconds)) else {
            throw .outOfRange("tone duration", Double(toneMilliseconds), tones, unit: "ms", reason: Limits.toneReason)
        }
        let gaps = Double(limits.gapMilliseconds.lowerBound)...Double(limits.gapMilliseconds.upperBound)
        guard gaps.contains(Double(gapMilliseconds)) else {
            throw .outOfRange("gap duration", Double(gapMilliseconds), gaps, unit: "ms", reason: Limits.gapReason)
        }
        guard levelDbm0.isFinite, limits.levelDbm0.contains(levelDbm0) else {
            throw .outOfRange("level", levelDbm0, limits.levelDbm0, unit: "dBm0", reason: Limits.levelReason)
        }
        guard twistDb.isFinite, limits.twistDb.contains(twistDb) else {
            throw .outOfRange("twist", twistDb, limits.twistDb, unit: "dB")
        }
        guard limits.levelDbm0.contains(levelDbm0 + twistDb) else {
            throw .outOfRange(
                "high-group level (level + twist)", levelDbm0 + twistDb, limits.levelDbm0, unit: "dBm0",
                reason: Limits.levelReason)
        }
        let peak = DualTone(digit: .one, levelDbm0: levelDbm0, twistDb: twistDb).peak
        guard peak <= 32767 else { throw .wouldClip(peak: peak) }
    }

    /// The duration in ms of `dialString` sent with this timing (every digit a tone and a gap).
    public func milliseconds(of dialString: DialString) -> Int {
        var total = 0
        for element in dialString.elements {
            switch element {
            case .digit: total += toneMilliseconds + gapMilliseconds
            case .pause(let ms): total += ms
            }
        }
        return total
    }
}

/// Converts milliseconds to samples at `sampleRate`, rounding to the nearest sample.
@inlinable
public func samples(milliseconds: Int, sampleRate: Int) -> Int {
    (milliseconds * sampleRate + 500) / 1000
}

/// Streams a dial string as DTMF audio.
///
/// All storage (the schedule) is allocated by the initializer; ``render(into:)-(UnsafeMutableBufferPointer<Int16>)``
/// allocates nothing and gives the same samples whatever the chunk sizes.
public struct DTMFGenerator: Sendable {
    /// One digit's tone in the generated audio.
    public struct ScheduledTone: Sendable, Hashable {
        /// The digit.
        public let digit: DTMFDigit
        /// The first sample of the tone.
        public let startSample: Int
        /// The sample after the tone's last one.
        public let endSample: Int
    }

    @usableFromInline
    enum Segment: Sendable {
        case tone(Int)  // index into `schedule`
        case silence(Int)  // samples
    }

    /// The samples per second.
    public let sampleRate: Int
    /// The timing used.
    public let timing: DTMFTiming
    /// Every tone with its exact place, in order.
    public let schedule: [ScheduledTone]
    /// The total length in samples.
    public let totalSamples: Int
    /// Samples rendered so far.
    public var position: Int { _position }
    @usableFromInline var _position: Int = 0

    @usableFromInline let segments: [Segment]
    /// One ready synthesizer per digit of the string (all tones of a digit are the same burst).
    @usableFromInline let templates: [ToneSynthesizer?]
    @usableFromInline var segmentIndex = 0
    @usableFromInline var segmentPosition = 0
    /// The current tone's synthesizer while `sounding`. Not an optional: reading an optional's case took a call
    /// (its spare bits are inside the struct), several times a frame.
    @usableFromInline var synthesizer: ToneSynthesizer
    @usableFromInline var sounding = false

    /// Creates a generator for `dialString`.
    ///
    /// - Parameters:
    ///   - dialString: the digits and pauses to send.
    ///   - timing: tone and gap durations, level and twist.
    ///   - sampleRate: 8000...48000.
    ///   - limits: the timing's ranges, the dial string's length and the duration cap.
    /// - Throws: ``TelephonyDSPError`` for an unsupported rate or timing, or a dial string over the limits.
    public init(
        dialString: DialString, timing: DTMFTiming = .default, sampleRate: Int,
        limits: Limits = .default
    ) throws(TelephonyDSPError) {
        guard ToneSynthesizer.supportedSampleRates.contains(sampleRate) else {
            throw .unsupportedSampleRate(sampleRate, supported: ToneSynthesizer.supportedSampleRates)
        }
        try timing.validate(limits)
        guard dialString.elements.count <= limits.maximumDialStringLength else {
            throw .tooLong(
                "the dial string", "\(dialString.elements.count) characters",
                limit: "\(limits.maximumDialStringLength)", reason: "Limits.maximumDialStringLength")
        }
        let milliseconds = timing.milliseconds(of: dialString)
        guard milliseconds <= limits.maximumSequenceMilliseconds else {
            throw .tooLong(
                "the dial string's duration", Limits.describe(milliseconds: milliseconds),
                limit: Limits.describe(milliseconds: limits.maximumSequenceMilliseconds),
                reason: Limits.durationReason)
        }
        self.sampleRate = sampleRate
        self.timing = timing
        let tone = samples(milliseconds: timing.toneMilliseconds, sampleRate: sampleRate)
        let gap = samples(milliseconds: timing.gapMilliseconds, sampleRate: sampleRate)
        var schedule: [ScheduledTone] = []
        var segments: [Segment] = []
        var cursor = 0
        for element in dialString.elements {
            switch element {
            case .digit(let digit):
                schedule.append(ScheduledTone(digit: digit, startSample: cursor, endSample: cursor + tone))
                segments.append(.tone(schedule.count - 1))
                cursor += tone
                if gap > 0 { segments.append(.silence(gap)) }
                cursor += gap
            case .pause(let ms):
                let n = samples(milliseconds: ms, sampleRate: sampleRate)
                segments.append(.silence(n))
                cursor += n
            }
        }
        var templates = [ToneSynthesizer?](repeating: nil, count: 16)
        for digit in dialString.digits where templates[Int(digit.rawValue)] == nil {
            templates[Int(digit.rawValue)] = try ToneSynthesizer(
                tone: DualTone(digit: digit, levelDbm0: timing.levelDbm0, twistDb: timing.twistDb),
                sampleRate: sampleRate, durationSamples: tone)
        }
        self.templates = templates
        // A placeholder until the first tone (any digit's, the same timing): a dial string may have only pauses.
        if let first = templates.first(where: { $0 != nil }) ?? nil {
            synthesizer = first
        } else {
            synthesizer = try ToneSynthesizer(
                tone: DualTone(digit: .one, levelDbm0: timing.levelDbm0, twistDb: timing.twistDb),
                sampleRate: sampleRate, durationSamples: tone)
        }
        self.schedule = schedule
        self.segments = segments
        self.totalSamples = cursor
    }

    /// Whether every sample has been rendered.
    public var isFinished: Bool { position >= totalSamples }

    /// Renders the next samples as 16-bit linear PCM.
    ///
    /// - Parameter buffer: where the samples go, from its start.
    /// - Returns: the number of samples written; less than `buffer.count` only at the end.
    @inlinable
    public mutating func render(into buffer: UnsafeMutableBufferPointer<Int16>) -> Int {
        var written = 0
        while written < buffer.count, segmentIndex < segments.count {
            let rest = UnsafeMutableBufferPointer(rebasing: buffer[written...])
            switch segments[segmentIndex] {
            case .silence(let length):
                let n = min(rest.count, length - segmentPosition)
                rest.baseAddress!.update(repeating: 0, count: n)
                segmentPosition += n
                written += n
                if segmentPosition == length { advance() }
            case .tone(let index):
                // The synthesizer is used in place (a copy of it is 0.7 KB): one copy of its template per tone.
                if !sounding {
                    guard let template = templates[Int(schedule[index].digit.rawValue)] else {
                        preconditionFailure("no template for \(schedule[index].digit)")
                    }
                    synthesizer = template
                    sounding = true
                }
                let n = synthesizer.render(into: rest)
                written += n
                if synthesizer.remaining == 0 {
                    sounding = false
                    advance()
                }
            }
        }
        _position += written
        return written
    }

    @usableFromInline
    mutating func advance() {
        segmentIndex += 1
        segmentPosition = 0
    }

    /// Renders the whole dial string into a new array (convenience for offline use).
    public static func render(
        _ dialString: DialString, timing: DTMFTiming = .default, sampleRate: Int, limits: Limits = .default
    ) throws(TelephonyDSPError) -> [Int16] {
        var generator = try DTMFGenerator(
            dialString: dialString, timing: timing, sampleRate: sampleRate, limits: limits)
        return [Int16](unsafeUninitializedCapacity: generator.totalSamples) { buffer, count in
            count = generator.render(into: buffer)
        }
    }
}
