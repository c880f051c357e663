import TelephonyDSP

/// An account: its phone numbers (DIDs) and where they route, its IVRs, its sequences, its recordings
/// and what it may do. A sequence runs only as an IVR option; a DID never routes to one directly.
public struct Account: Sendable, Hashable {
    /// What the account may do.
    public struct Capabilities: Sendable, Hashable {
        /// Sequences are enabled (IVR options may run them).
        public var sequences = true
        /// SMS steps are allowed (false for a reseller's client accounts).
        public var sms = true
        /// Texts the account may send a day (UTC), by default the provider's 100.
        public var smsDailyLimit = ProductLimits.default.defaultSMSDailyLimit

        /// Creates capabilities; the defaults are a full account with the provider's daily limit.
        public init(
            sequences: Bool = true, sms: Bool = true, smsDailyLimit: Int = ProductLimits.default.defaultSMSDailyLimit
        ) {
            self.sequences = sequences
            self.sms = sms
            self.smsDailyLimit = smsDailyLimit
        }
    }

    /// Where a call to a DID goes.
    public enum Route: Sendable, Hashable {
        /// To an IVR.
        case ivr(String)
        /// Nowhere: the call is ended.
        case hangup
    }

    /// How a live call to a DID sends the DTMF of its sequences (the engine's `DTMFOutput` is what a compiled
    /// program then emits: `auto` becomes `inband` or `rfc4733`).
    public enum DTMFDelivery: String, Sendable, Hashable, CaseIterable {
        /// RFC 4733 telephone-events when the caller's offer has telephone-event, otherwise in-band tones.
        case auto
        /// In-band tones only (door controllers behind analog adapters hear only audio).
        case inband
        /// RFC 4733 telephone-events only (the call is refused with 488 if the caller cannot receive them).
        case rfc4733
    }

    /// One of the account's phone numbers.
    public struct DID: Sendable, Hashable {
        /// The number.
        public var number: PhoneNumber
        /// Whether it can send texts.
        public var sms: Bool
        /// Where calls to it go.
        public var route: Route
        /// How live calls send DTMF (never in-band and RFC 4733 at once: a receiver would hear every
        /// digit twice).
        public var dtmf: DTMFDelivery = .auto
        /// Milliseconds of ringing (180 Ringing) before a live call is answered (0...10000).
        public var answerAfterMs: Int = 0
    }

    /// What pressing a digit in an IVR does.
    public enum Action: Sendable, Hashable {
        /// Run a sequence (then the call ends).
        case sequence(String)
        /// Go to another IVR.
        case ivr(String)
        /// Play the menu again.
        case repeatMenu
        /// End the call.
        case hangup
    }

    /// An IVR menu.
    public struct IVR: Sendable, Hashable {
        /// Its name.
        public var name: String
        /// The prompt it plays (a recording name, "none" or "default").
        public var prompt: RecordingChoice
        /// How long it waits for a digit after the prompt, in seconds.
        public var timeoutSeconds: Int
        /// How many times the menu plays (after a timeout or an invalid digit) before the call ends.
        public var attempts: Int
        /// Digit → action.
        public var options: [DTMFDigit: Action]
    }

    /// What the account may do.
    public var capabilities: Capabilities
    /// The account's recordings folder as its file names it (relative to the file), or `nil`.
    public var recordings: String?
    /// The phone numbers.
    public var dids: [DID]
    /// The IVRs.
    public var ivrs: [IVR]
    /// The sequences.
    public var sequences: [SequenceDefinition]

    /// Creates an account.
    public init(
        capabilities: Capabilities = Capabilities(), recordings: String? = nil, dids: [DID] = [],
        ivrs: [IVR] = [], sequences: [SequenceDefinition] = []
    ) {
        self.capabilities = capabilities
        self.recordings = recordings
        self.dids = dids
        self.ivrs = ivrs
        self.sequences = sequences
    }

    /// The DID with this number.
    public func did(_ number: PhoneNumber) -> DID? { dids.first { $0.number == number } }
    /// The IVR with this name.
    public func ivr(named name: String) -> IVR? { ivrs.first { $0.name == name } }
    /// The sequence with this name.
    public func sequence(named name: String) -> SequenceDefinition? { sequences.first { $0.name == name } }
}

// MARK: - Reading and cross-checking

extension Account {
    /// Reads an account from JSON text and checks everything, each problem with its JSON path: unknown keys,
    /// types and ranges; routes (a DID routed to a sequence is refused); IVR options that name missing IVRs or
    /// sequences; recordings the catalog lacks; SMS steps on an account that may not send SMS, from a number
    /// that is not one of its SMS-enabled DIDs.
    ///
    /// - Parameters:
    ///   - text: the JSON document.
    ///   - source: the file name to put in front of each problem.
    ///   - recordings: what the account's `recordings` folder (its value, `nil` when absent) holds, as the host
    ///     resolves it (the engine reads the folder); called once, where the key is checked.
    /// - Returns: the account.
    /// - Throws: ``InvalidDocumentError`` listing every problem.
    public static func parse(
        _ text: String, source: String, recordings: (_ folder: String?) -> RecordingsResolution
    ) throws(InvalidDocumentError) -> Account {
        try ProblemCollector.validate(text, source: source) { read($0, $1, recordings: recordings) }
    }

    /// Reads an account from JSON text, checking recording names against `catalog` (`nil`: not checked).
    public static func parse(
        _ text: String, source: String,
        catalog: (any RecordingCatalog)?
    ) throws(InvalidDocumentError) -> Account {
        try parse(text, source: source) { _ in RecordingsResolution(catalog: catalog) }
    }

    package static func read(
        _ json: JSONValue, _ c: ProblemCollector,
        recordings resolve: (_ folder: String?) -> RecordingsResolution
    ) -> Account? {
        guard let members = c.object(json, at: "", what: "an account") else { return nil }
        c.rejectUnknownKeys(members, allowed: ["capabilities", "recordings", "dids", "ivrs", "sequences"], at: "")

        let limits = c.limits
        // Capabilities.
        var capabilities = Capabilities()
        if let value = c.value(members, "capabilities"),
            let caps = c.object(value, at: "capabilities", what: "the capabilities")
        {
            c.rejectUnknownKeys(caps, allowed: ["sequences", "sms", "smsDailyLimit"], at: "capabilities")
            for key in ["sequences", "sms"] {
                guard let v = c.value(caps, key) else { continue }
                guard case .bool(let b) = v else {
                    c.add("capabilities.\(key)", "expected true or false, found \(v.typeName)")
                    continue
                }
                if key == "sms" { capabilities.sms = b } else { capabilities.sequences = b }
            }
            if let limit = c.integer(
                caps, "smsDailyLimit", at: "capabilities", range: limits.smsDailyLimit, unit: "texts")
            {
                capabilities.smsDailyLimit = limit
            }
        }

        // Recordings folder: resolved by the host; without a catalog (the cause reported once) names are not checked.
        let folder = c.string(members, "recordings", at: "", required: false)
        let resolution = resolve(folder)
        if let problem = resolution.problem { c.add(problem.path, problem.message) }
        let library = resolution.catalog

        // Sequences (checked like sequence files, then for SMS against the account).
        var sequences: [SequenceDefinition] = []
        var sequenceNames = Set<String>()
        let sequenceItems = array(members, "sequences", c, atMost: limits.maximumSequencesPerAccount)
        for (i, item) in sequenceItems.enumerated() {
            let path = "sequences[\(i)]"
            guard let sequence = SequenceDefinition.read(item, at: path, c, recordings: library)
            else { continue }
            if !sequenceNames.insert(sequence.name).inserted {
                c.add("\(path).name", "another sequence is already named \"\(InputText.escaped(sequence.name))\"")
            }
            sequences.append(sequence)
        }

        // DIDs.
        var dids: [DID] = []
        var routesToCheck: [(path: String, ivr: String)] = []
        var smsNumbers = Set<PhoneNumber>()  // from every DID with a valid number, whatever its route
        var didNumbers = Set<PhoneNumber>()
        for (i, item) in array(members, "dids", c, atMost: limits.maximumDIDsPerAccount).enumerated() {
            let path = "dids[\(i)]"
            guard let did = c.object(item, at: path, what: "a DID") else { continue }
            c.rejectUnknownKeys(did, allowed: ["number", "sms", "route", "dtmf", "answerAfterMs"], at: path)
            var number: PhoneNumber?
            if let text = c.string(did, "number", at: path) {
                do { number = try PhoneNumber(text) } catch {
                    c.add("\(path).number", "'\(InputText.escaped(text))' \(error)")
                }
            }
            var sms = false
            if let v = c.value(did, "sms") {
                if case .bool(let b) = v {
                    sms = b
                } else {
                    c.add("\(path).sms", "expected true or false, found \(v.typeName)")
                }
            }
            var dtmf = DTMFDelivery.auto
            if let text = c.string(did, "dtmf", at: path, required: false) {
                if let mode = DTMFDelivery(rawValue: text) {
                    dtmf = mode
                } else {
                    c.add(
                        "\(path).dtmf", "'\(InputText.escaped(text))' is not a DTMF delivery (auto, inband or rfc4733)")
                }
            }
            let answerAfterMs =
                c.integer(did, "answerAfterMs", at: path, range: limits.answerAfterMilliseconds, unit: "ms") ?? 0
            var route: Route?
            if let r = c.value(did, "route") {
                route = readRoute(r, at: "\(path).route", c)
                if case .ivr(let name)? = route { routesToCheck.append(("\(path).route.ivr", name)) }
            } else {
                c.add("\(path).route", "missing (an object such as { \"ivr\": \"Lobby\" } is required)")
            }
            if let number, sms { smsNumbers.insert(number) }
            if let number, !didNumbers.insert(number).inserted {
                c.add("\(path).number", "\(number) is listed twice")
            }
            if let number, let route {
                dids.append(DID(number: number, sms: sms, route: route, dtmf: dtmf, answerAfterMs: answerAfterMs))
            }
        }

        // IVRs.
        var ivrs: [IVR] = []
        var ivrNames = Set<String>()
        var optionTargets: [(path: String, action: Action)] = []
        for (i, item) in array(members, "ivrs", c, atMost: limits.maximumIVRsPerAccount).enumerated() {
            let path = "ivrs[\(i)]"
            guard let ivr = c.object(item, at: path, what: "an IVR") else { continue }
            c.rejectUnknownKeys(ivr, allowed: ["name", "prompt", "timeoutSeconds", "attempts", "options"], at: path)
            let name = c.string(ivr, "name", at: path)?.trimmingWhitespace
            if name?.isEmpty == true { c.add("\(path).name", "the name cannot be empty") }
            if let name, name.count > limits.maximumNameLength {
                c.add("\(path).name", "the name has \(name.count) characters; at most \(limits.maximumNameLength)")
            }
            var prompt = RecordingChoice.systemDefault
            if let p = c.string(ivr, "prompt", at: path, required: false) {
                prompt = RecordingChoice(p)
                if case .named(let n) = prompt, let library, !library.contains(n) {
                    let known = library.names.prefix(8).map { InputText.escaped($0) }.joined(separator: ", ")
                    c.add(
                        "\(path).prompt",
                        "no recording named '\(InputText.escaped(n))' in \(InputText.escaped(library.origin))"
                            + (library.names.isEmpty ? "" : " (known: \(known))"))
                }
            }
            let timeout =
                c.integer(ivr, "timeoutSeconds", at: path, range: limits.ivrTimeoutSeconds, unit: "s")
                ?? limits.defaultIVRTimeoutSeconds
            let attempts =
                c.integer(ivr, "attempts", at: path, range: limits.ivrAttempts, unit: "plays")
                ?? limits.defaultIVRAttempts
            var options: [DTMFDigit: Action] = [:]
            if let o = c.value(ivr, "options"), let entries = c.object(o, at: "\(path).options", what: "the options") {
                if entries.isEmpty { c.add("\(path).options", "an IVR needs at least one option") }
                var optionKeys: [DTMFDigit: String] = [:]
                for entry in entries {
                    let optionPath = "\(path).options.\(InputText.escaped(entry.key))"
                    guard InputText.firstForbidden(in: entry.key) == nil else { continue }  // reported by object()
                    guard entry.key.count == 1, let digit = DTMFDigit(Character(entry.key)) else {
                        c.add(optionPath, "an option is a single DTMF digit (0-9, *, #, A-D)")
                        continue
                    }
                    if let other = optionKeys[digit] {
                        c.add(
                            optionPath,
                            "the option \"\(entry.key)\" is the same digit as \"\(other)\" "
                                + "(A-D and a-d are the same keys); give it once")
                        continue
                    }
                    optionKeys[digit] = entry.key
                    guard let action = readAction(entry.value, at: optionPath, c) else { continue }
                    options[digit] = action
                    optionTargets.append((optionPath, action))
                }
            } else if c.value(ivr, "options") == nil {
                c.add("\(path).options", "missing (an object of digit: action is required)")
            }
            if let name, !name.isEmpty {
                if !ivrNames.insert(name).inserted {
                    c.add("\(path).name", "another IVR is already named \"\(InputText.escaped(name))\"")
                }
                ivrs.append(
                    IVR(name: name, prompt: prompt, timeoutSeconds: timeout, attempts: attempts, options: options))
            }
        }

        // Cross-checks: routes and options point at things that exist; SMS rules.
        for (path, name) in routesToCheck where !ivrNames.contains(name) {
            c.add(path, "no IVR named \"\(InputText.escaped(name))\"")
        }
        for (path, action) in optionTargets {
            switch action {
            case .sequence(let name):
                if !capabilities.sequences {
                    c.add(path, "sequences are not enabled for this account")
                } else if !sequenceNames.contains(name) {
                    let known = sequences.prefix(8).map { "\"\(InputText.escaped($0.name))\"" }.joined(separator: ", ")
                    c.add(
                        "\(path).sequence",
                        "no sequence named \"\(InputText.escaped(name))\""
                            + (sequences.isEmpty ? "" : " (known: \(known)\(sequences.count > 8 ? ", ..." : ""))"))
                }
            case .ivr(let name):
                if !ivrNames.contains(name) { c.add("\(path).ivr", "no IVR named \"\(InputText.escaped(name))\"") }
            case .repeatMenu, .hangup:
                break
            }
        }
        for (i, sequence) in sequences.enumerated() {
            for (j, step) in sequence.steps.enumerated() {
                guard case .sms(let sms) = step else { continue }
                let path = "sequences[\(i)].steps[\(j)]"
                switch smsSenderProblem(sms, smsAllowed: capabilities.sms, smsNumbers: smsNumbers) {
                case .cannotSendSMS?:
                    c.add(
                        path, SMSSenderProblem.cannotSendSMS.message(account: "this account") + ": remove the SMS step")
                case let problem?:
                    c.add("\(path).from", problem.message(account: "this account"))
                case nil:
                    break
                }
            }
        }
        return Account(capabilities: capabilities, recordings: folder, dids: dids, ivrs: ivrs, sequences: sequences)
    }

    static func array(
        _ members: [(key: String, value: JSONValue)], _ key: String, _ c: ProblemCollector,
        atMost most: Int
    ) -> ArraySlice<JSONValue> {
        guard let v = c.value(members, key) else { return [] }
        guard case .array(let items) = v else {
            c.add(key, "expected an array, found \(v.typeName)")
            return []
        }
        if items.count > most {
            c.add(key, "\(items.count) entries; at most \(most) per account")
        }
        return items.prefix(most)
    }

    static func readRoute(_ json: JSONValue, at path: String, _ c: ProblemCollector) -> Route? {
        guard let m = c.object(json, at: path, what: "a route") else { return nil }
        if c.value(m, "sequence") != nil {
            c.add(
                path, "a sequence can only be used as an IVR option; route this number to an IVR whose option runs it")
            return nil
        }
        c.rejectUnknownKeys(m, allowed: ["ivr", "hangup"], at: path)
        guard m.count == 1 else {
            c.add(path, "a route is exactly one of { \"ivr\": NAME } or { \"hangup\": true }")
            return nil
        }
        if let name = c.string(m, "ivr", at: path, required: false) { return .ivr(name) }
        if c.value(m, "hangup") == .bool(true) { return .hangup }
        if c.value(m, "hangup") != nil { c.add("\(path).hangup", "expected true") }
        return nil
    }

    static func readAction(_ json: JSONValue, at path: String, _ c: ProblemCollector) -> Action? {
        guard let m = c.object(json, at: path, what: "an action") else { return nil }
        c.rejectUnknownKeys(m, allowed: ["sequence", "ivr", "repeat", "hangup"], at: path)
        guard m.count == 1 else {
            c.add(
                path,
                "an option is exactly one of { \"sequence\": NAME }, { \"ivr\": NAME }, { \"repeat\": true } or { \"hangup\": true }"
            )
            return nil
        }
        if let name = c.string(m, "sequence", at: path, required: false) { return .sequence(name) }
        if let name = c.string(m, "ivr", at: path, required: false) { return .ivr(name) }
        for (key, action) in [("repeat", Action.repeatMenu), ("hangup", .hangup)] where c.value(m, key) != nil {
            if c.value(m, key) == .bool(true) { return action }
            c.add("\(path).\(key)", "expected true")
        }
        return nil
    }
}

// MARK: - The SMS sender rule

/// Why an account may not send an SMS step: the one rule validation, `callseq render --account` and the C API's
/// hosts apply.
public enum SMSSenderProblem: Sendable, Hashable {
    /// The account may not send SMS (a reseller's client account).
    case cannotSendSMS
    /// The sending number is not one of the account's SMS-enabled numbers (those listed, sorted).
    case notSMSEnabled(PhoneNumber, enabled: [PhoneNumber])

    /// The problem as a person reads it, naming the account as `account` ("this account", "the account a.json").
    public func message(account: String) -> String {
        switch self {
        case .cannotSendSMS:
            return "\(account) cannot send SMS (a reseller's client account)"
        case .notSMSEnabled(let from, let enabled):
            return "\(from) is not an SMS-enabled number of \(account)"
                + (enabled.isEmpty
                    ? " (it has none)" : " (SMS-enabled: \(enabled.map(\.digits).joined(separator: ", ")))")
        }
    }
}

extension Account {
    /// Why this account may not send `sms`, or `nil` when it may.
    public func smsSenderProblem(_ sms: SMSStep) -> SMSSenderProblem? {
        Account.smsSenderProblem(
            sms, smsAllowed: capabilities.sms,
            smsNumbers: Set(dids.filter(\.sms).map(\.number)))
    }

    static func smsSenderProblem(_ sms: SMSStep, smsAllowed: Bool, smsNumbers: Set<PhoneNumber>) -> SMSSenderProblem? {
        if !smsAllowed { return .cannotSendSMS }
        if !smsNumbers.contains(sms.from) { return .notSMSEnabled(sms.from, enabled: smsNumbers.sorted()) }
        return nil
    }
}

/// What an account's `recordings` folder resolves to for validation.
public struct RecordingsResolution {
    /// The recordings names are checked against, or `nil` when they cannot be (see ``problem``).
    public var catalog: (any RecordingCatalog)?
    /// Why the folder cannot be used, reported at its JSON path.
    public var problem: ValidationProblem?

    /// Creates a resolution.
    public init(catalog: (any RecordingCatalog)?, problem: ValidationProblem? = nil) {
        self.catalog = catalog
        self.problem = problem
    }
}
