import SMSText
import TelephonyDSP

/// An ordered list of steps that runs on a call when a caller picks an IVR option: DTMF digits,
/// recordings and text messages, one after another.
public struct SequenceDefinition: Hashable, Sendable {
    /// The name accounts see in their portal (and IVR options refer to).
    public var name: String
    /// The steps, in the order they run.
    public var steps: [Step]

    /// One step of a sequence.
    public enum Step: Hashable, Sendable {
        /// Send digits as DTMF (in-band tones and/or RFC 4733 telephone-events).
        case dtmf(DTMFStep)
        /// Play a recording, "none", or the system default.
        case recording(RecordingStep)
        /// Send a text message.
        case sms(SMSStep)

        /// The JSON `type` of the step.
        public var typeName: String {
            switch self {
            case .dtmf: return "dtmf"
            case .recording: return "recording"
            case .sms: return "sms"
            }
        }
    }

    /// Creates a sequence.
    public init(name: String, steps: [Step] = []) {
        self.name = name
        self.steps = steps
    }
}

/// A DTMF step: a dial string and, optionally, its own timing and level.
public struct DTMFStep: Hashable, Sendable {
    /// The digits and pauses.
    public var digits: DialString
    /// Tone duration in ms, or `nil` for the default.
    public var toneMilliseconds: Int?
    /// Gap after each tone in ms, or `nil` for the default.
    public var gapMilliseconds: Int?
    /// Low-group level in dBm0, or `nil` for the default.
    public var levelDbm0: Double?
    /// High-group level relative to the low group in dB, or `nil` for the default.
    public var twistDb: Double?

    /// Creates a DTMF step.
    public init(
        digits: DialString, toneMilliseconds: Int? = nil, gapMilliseconds: Int? = nil,
        levelDbm0: Double? = nil, twistDb: Double? = nil
    ) {
        self.digits = digits
        self.toneMilliseconds = toneMilliseconds
        self.gapMilliseconds = gapMilliseconds
        self.levelDbm0 = levelDbm0
        self.twistDb = twistDb
    }

    /// The timing this step sends with: its own fields over `defaults`.
    public func timing(defaults: DTMFTiming) -> DTMFTiming {
        DTMFTiming(
            toneMilliseconds: toneMilliseconds ?? defaults.toneMilliseconds,
            gapMilliseconds: gapMilliseconds ?? defaults.gapMilliseconds,
            levelDbm0: levelDbm0 ?? defaults.levelDbm0,
            twistDb: twistDb ?? defaults.twistDb)
    }
}

/// A Recording step.
public struct RecordingStep: Hashable, Sendable {
    /// What to play.
    public var recording: RecordingChoice

    /// Creates a recording step.
    public init(recording: RecordingChoice) { self.recording = recording }
}

/// An SMS step: a text from one of the account's SMS-enabled numbers to a US/Canada number.
public struct SMSStep: Hashable, Sendable {
    /// The sending number (an SMS-enabled DID of the account).
    public var from: PhoneNumber
    /// The receiving number.
    public var to: PhoneNumber
    /// The text: one SMS, 160 GSM-7 septets or 70 UCS-2 units (3GPP TS 23.038; see ``length``).
    public var message: String

    /// Creates an SMS step.
    public init(from: PhoneNumber, to: PhoneNumber, message: String) {
        self.from = from
        self.to = to
        self.message = message
    }

    /// The message's encoding and length as the network counts them (3GPP TS 23.038).
    public var length: SMSLength { SMSLength(of: message) }
}

// MARK: - Editing, as an account does in its portal

/// An edit that cannot be made.
public struct SequenceEditError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problem as a person reads it: what the command line prints after "error:".
    public let description: String
}

extension SequenceDefinition {
    /// Adds a step at the end.
    public mutating func append(_ step: Step) { steps.append(step) }

    /// Inserts a step before position `index` (0...count).
    ///
    /// - Throws: ``SequenceEditError`` for an index outside 0...count.
    public mutating func insert(_ step: Step, at index: Int) throws(SequenceEditError) {
        guard (0...steps.count).contains(index) else {
            throw SequenceEditError(
                description:
                    "cannot insert at position \(index): the sequence has \(steps.count) steps (0...\(steps.count))")
        }
        steps.insert(step, at: index)
    }

    /// Moves the step at `index` one place earlier.
    ///
    /// - Throws: ``SequenceEditError`` if there is no such step or it is already first.
    public mutating func moveUp(_ index: Int) throws(SequenceEditError) {
        try checkIndex(index)
        guard index > 0 else { throw SequenceEditError(description: "step \(index) is already the first") }
        steps.swapAt(index, index - 1)
    }

    /// Moves the step at `index` one place later.
    ///
    /// - Throws: ``SequenceEditError`` if there is no such step or it is already last.
    public mutating func moveDown(_ index: Int) throws(SequenceEditError) {
        try checkIndex(index)
        guard index < steps.count - 1 else { throw SequenceEditError(description: "step \(index) is already the last") }
        steps.swapAt(index, index + 1)
    }

    /// Deletes the step at `index`.
    ///
    /// - Returns: the deleted step.
    /// - Throws: ``SequenceEditError`` if there is no such step.
    @discardableResult
    public mutating func remove(_ index: Int) throws(SequenceEditError) -> Step {
        try checkIndex(index)
        return steps.remove(at: index)
    }

    /// Renames the sequence.
    ///
    /// - Throws: ``SequenceEditError`` for an empty name or one longer than ``ProductLimits/maximumNameLength``.
    public mutating func rename(_ newName: String) throws(SequenceEditError) {
        let trimmed = newName.trimmingWhitespace
        guard !trimmed.isEmpty else { throw SequenceEditError(description: "the name cannot be empty") }
        guard trimmed.count <= ProductLimits.default.maximumNameLength else {
            throw SequenceEditError(
                description:
                    "the name has \(trimmed.count) characters; at most \(ProductLimits.default.maximumNameLength)")
        }
        name = trimmed
    }

    private func checkIndex(_ index: Int) throws(SequenceEditError) {
        guard steps.indices.contains(index) else {
            throw SequenceEditError(
                description: steps.isEmpty
                    ? "there is no step \(index): the sequence is empty"
                    : "there is no step \(index): the steps are 0...\(steps.count - 1)")
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
