// The management store: one interface, two implementations (SQLiteStore, the embedded default; PostgresStore in
// CallSequenceStorePostgres, for several nodes), both held to the same conformance suite.
//
// What the store guarantees and what it leaves to its caller (the HTTP API, the command line, `callseq serve`):
//
// - Tenancy: every method about an account's resources takes the account id, and only ever reads or changes
//   that account's rows. A resource of another account is `StoreError.notFound`, never its data. Which accounts
//   a key may act for (its own, a reseller's clients, everything for an operator) is the caller's decision,
//   from `authenticate(key:)` and `account(_:)`.
// - Validation: the store checks structure (bodies are JSON objects with a string `name`, sizes and counts are
//   bounded, names have no control characters) and uniqueness; the rules of `callseq validate` (steps, SMS
//   senders, what an IVR option names...) are the caller's, with the model, before it calls the store.
// - Concurrency: every mutable record has a `revision` (1 on create, +1 on each change). Changes name the
//   revision they expect; a stale one fails with `StoreError.conflict(current:)`. Creating what exists
//   fails with `StoreError.conflict(current:)` too (the existing revision), so `PUT` without `If-Match` on an
//   existing resource can answer 428 and with a stale one 412.
// - Audit: every change is written to the audit log in the same transaction as the change, from the
//   `ChangeOrigin` the caller passes (which key, from which address).
// - Change feed: every committed change raises `currentVersion()`; a reader that saw version v and now reads
//   a larger one reloads.
// - Paging: every list takes a `PageRequest` (limit 1...1000, an opaque cursor) and answers a `Page` whose
//   `next` cursor is nil on the last page. Lists of named things are in id order; logs (audit, SMS, calls)
//   newest first.

import Foundation

// MARK: - Identifiers and paging

/// An account's id: `acc_` and 20 lowercase hex digits, made by the store.
public typealias AccountID = String
/// A sequence's id: `seq_` and 20 hex digits.
public typealias SequenceID = String
/// An IVR's id: `ivr_` and 20 hex digits.
public typealias IVRID = String
/// An API key's id (not the secret): `key_` and 20 hex digits.
public typealias KeyID = String

/// Which page of a list to read.
public struct PageRequest: Sendable, Hashable {
    /// The most items to answer (clamped to 1...``PageRequest/maximumLimit``).
    public var limit: Int
    /// The `next` of the previous page; nil for the first page.
    public var cursor: String?

    /// The largest page.
    public static let maximumLimit = 1000
    /// The first page of at most 100 items.
    public static let first = PageRequest()

    /// A page request; `limit` is clamped to 1...1000.
    public init(limit: Int = 100, cursor: String? = nil) {
        self.limit = min(max(limit, 1), Self.maximumLimit)
        self.cursor = cursor
    }
}

/// One page of a list.
public struct Page<Item: Sendable>: Sendable {
    /// The items, in the list's order.
    public var items: [Item]
    /// The cursor of the next page, nil when this is the last one. Opaque: pass it back as is.
    public var next: String?

    /// A page.
    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }
}

extension Page: Equatable where Item: Equatable {}

// MARK: - Errors

/// Why a store operation failed: a struct with a ``Kind`` to switch on, one static function per kind, and a
/// one-line `description` safe to show a client, like every error of the package.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed, and the HTTP status each kind means to the API.
    public enum Kind: Sendable, Hashable {
        /// No such resource for this account (or no such account): HTTP 404.
        case notFound(String)
        /// The revision expected is not the current one, or the resource to create exists: HTTP 412 (or 428
        /// when the client sent no `If-Match`). `current` is the resource's revision now.
        case conflict(current: Int)
        /// A name or number already used (another sequence with that name, a DID of another account): HTTP 409.
        case duplicate(String)
        /// The resource is used by others (named, e.g. `ivr "Lobby"`, `sequence "Front door"`): HTTP 409.
        case inUse(users: [String])
        /// The input breaks a structural rule (bad JSON body, too long, control characters): HTTP 422.
        case invalid(String)
        /// The database failed or is unreachable (the message names the store and the reason): HTTP 503.
        case unavailable(String)
    }

    /// What failed.
    public let kind: Kind

    /// Creates the error of a kind.
    public init(_ kind: Kind) { self.kind = kind }

    /// No such resource for this account (or no such account).
    public static func notFound(_ what: String) -> StoreError { StoreError(.notFound(what)) }
    /// The revision expected is not the current one (`current` is).
    public static func conflict(current: Int) -> StoreError { StoreError(.conflict(current: current)) }
    /// A name or number already used.
    public static func duplicate(_ what: String) -> StoreError { StoreError(.duplicate(what)) }
    /// The resource is used by others.
    public static func inUse(users: [String]) -> StoreError { StoreError(.inUse(users: users)) }
    /// The input breaks a structural rule.
    public static func invalid(_ why: String) -> StoreError { StoreError(.invalid(why)) }
    /// The database failed or is unreachable.
    public static func unavailable(_ why: String) -> StoreError { StoreError(.unavailable(why)) }

    public var description: String {
        switch kind {
        case .notFound(let what): return "not found: \(what)"
        case .conflict(let current): return "revision conflict: the current revision is \(current)"
        case .duplicate(let what): return "already exists: \(what)"
        case .inUse(let users): return "in use by \(users.joined(separator: ", "))"
        case .invalid(let why): return why
        case .unavailable(let why): return "store unavailable: \(why)"
        }
    }
}

// MARK: - Who made a change

/// Who made a change and from where, for the audit log.
public struct ChangeOrigin: Sendable, Hashable {
    /// The API key used, nil for the command line.
    public var keyID: KeyID?
    /// The client's address (`203.0.113.5`), or `cli` for the command line.
    public var address: String

    /// An origin.
    public init(keyID: KeyID?, address: String) {
        self.keyID = keyID
        self.address = address
    }

    /// The command line on this machine.
    public static let commandLine = ChangeOrigin(keyID: nil, address: "cli")
}

// MARK: - Accounts

/// What an account may do (the same three switches as the account file's `capabilities`).
public struct StoreCapabilities: Sendable, Hashable, Codable {
    /// Sequences are enabled (IVR options may run them).
    public var sequences: Bool
    /// SMS steps are allowed (always false for a reseller's client).
    public var sms: Bool
    /// Texts a UTC day (0...100,000).
    public var smsDailyLimit: Int

    /// Capabilities; the defaults are a full account with the provider's daily limit of 100.
    public init(sequences: Bool = true, sms: Bool = true, smsDailyLimit: Int = 100) {
        self.sequences = sequences
        self.sms = sms
        self.smsDailyLimit = smsDailyLimit
    }
}

/// The kind of an account.
public enum AccountKind: Sendable, Hashable {
    /// A customer of the operator.
    case direct
    /// A reseller: has packages and client accounts.
    case reseller
    /// A reseller's client, on one of its packages. Its capabilities come from the package: sequences as the
    /// package says, never SMS.
    case client(parent: AccountID, package: String)

    /// `direct`, `reseller` or `client`.
    public var name: String {
        switch self {
        case .direct: return "direct"
        case .reseller: return "reseller"
        case .client: return "client"
        }
    }

    /// The reseller of a client, nil otherwise.
    public var parent: AccountID? {
        if case .client(let parent, _) = self { return parent }
        return nil
    }
}

/// An account.
public struct AccountRecord: Sendable, Hashable {
    /// Its id.
    public var id: AccountID
    /// Its display name (1...200 characters, no control characters).
    public var name: String
    /// Direct, reseller or a reseller's client.
    public var kind: AccountKind
    /// What it may do. For a client, derived from its package when read: `sms` false, `smsDailyLimit` 0,
    /// `sequences` the package's switch.
    public var capabilities: StoreCapabilities
    /// 1 on create, +1 per change.
    public var revision: Int
    /// When it was created and last changed.
    public var created: Date
    public var updated: Date

    public init(
        id: AccountID, name: String, kind: AccountKind, capabilities: StoreCapabilities, revision: Int,
        created: Date, updated: Date
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.capabilities = capabilities
        self.revision = revision
        self.created = created
        self.updated = updated
    }
}

/// What to create an account with.
public struct NewAccount: Sendable, Hashable {
    public var name: String
    /// For `.client`, the parent must be a reseller and the package one of its packages.
    public var kind: AccountKind
    /// Ignored for clients (their package decides).
    public var capabilities: StoreCapabilities

    public init(name: String, kind: AccountKind = .direct, capabilities: StoreCapabilities = StoreCapabilities()) {
        self.name = name
        self.kind = kind
        self.capabilities = capabilities
    }
}

/// A change to an account; nil fields are kept. The kind does not change.
public struct AccountChange: Sendable, Hashable {
    public var name: String?
    /// Ignored for clients.
    public var capabilities: StoreCapabilities?
    /// For a client: move to another package of the same reseller.
    public var package: String?

    public init(name: String? = nil, capabilities: StoreCapabilities? = nil, package: String? = nil) {
        self.name = name
        self.capabilities = capabilities
        self.package = package
    }
}

/// A reseller's package: what its clients on it may do.
public struct PackageRecord: Sendable, Hashable {
    /// The reseller.
    public var reseller: AccountID
    /// Its name, unique per reseller (1...200 characters).
    public var name: String
    /// The "sequences" feature switch: clients on it may use sequences. (Clients never get SMS.)
    public var sequences: Bool

    public init(reseller: AccountID, name: String, sequences: Bool) {
        self.reseller = reseller
        self.name = name
        self.sequences = sequences
    }
}

// MARK: - API keys

/// An API key as listed: never the secret.
public struct APIKeyRecord: Sendable, Hashable {
    public var id: KeyID
    /// The account it acts for; nil for an operator key made without an account.
    public var account: AccountID?
    /// An operator key sees and changes everything.
    public var isOperator: Bool
    /// A label for people (0...200 characters).
    public var label: String
    /// The secret's first 8 characters (`csk_1a2b`), to tell keys apart.
    public var prefix: String
    public var created: Date
    /// Set once revoked; a revoked key no longer authenticates.
    public var revoked: Date?

    public init(
        id: KeyID, account: AccountID?, isOperator: Bool, label: String, prefix: String, created: Date,
        revoked: Date?
    ) {
        self.id = id
        self.account = account
        self.isOperator = isOperator
        self.label = label
        self.prefix = prefix
        self.created = created
        self.revoked = revoked
    }
}

/// A key just created: its record and its secret, shown this once (the store keeps only its SHA-256).
public struct CreatedAPIKey: Sendable, Hashable {
    public var record: APIKeyRecord
    /// `csk_` and 43 characters of base64url (256 random bits).
    public var secret: String
}

/// Who a presented key is.
public struct KeyIdentity: Sendable, Hashable {
    public var keyID: KeyID
    /// The key's account (nil for an operator key without one).
    public var account: AccountID?
    public var isOperator: Bool

    public init(keyID: KeyID, account: AccountID?, isOperator: Bool) {
        self.keyID = keyID
        self.account = account
        self.isOperator = isOperator
    }
}

// MARK: - Numbers (DIDs)

/// Where a call to a number goes.
public enum NumberRoute: Sendable, Hashable {
    /// To the account's IVR of this name.
    case ivr(String)
    /// The call is ended.
    case hangup
}

/// How live calls to a number send DTMF (as the account file's `dtmf`).
public enum DTMFMode: String, Sendable, Hashable, CaseIterable {
    case auto, inband, rfc4733
}

/// One of an account's numbers. A number belongs to at most one account.
public struct NumberRecord: Sendable, Hashable {
    /// The digits (as `PhoneNumber` normalizes them; the caller validates).
    public var number: String
    /// It can send texts.
    public var sms: Bool
    public var route: NumberRoute
    public var dtmf: DTMFMode
    /// Ringing before answer, 0...10,000 ms.
    public var answerAfterMs: Int
    /// 1 on create, +1 per change (set by the store; ignored in `putNumber`'s input).
    public var revision: Int

    public init(
        number: String, sms: Bool, route: NumberRoute, dtmf: DTMFMode = .auto, answerAfterMs: Int = 0,
        revision: Int = 0
    ) {
        self.number = number
        self.sms = sms
        self.route = route
        self.dtmf = dtmf
        self.answerAfterMs = answerAfterMs
        self.revision = revision
    }
}

// MARK: - IVRs and sequences

/// An IVR: its body is the account file's IVR object (`{"name", "prompt", "timeoutSeconds", "attempts",
/// "options"}`) as canonical JSON (``CanonicalJSON``).
public struct IVRRecord: Sendable, Hashable {
    public var id: IVRID
    /// The body's `name`, unique in the account.
    public var name: String
    /// Canonical JSON text of the IVR object.
    public var body: String
    public var revision: Int
    public var updated: Date

    public init(id: IVRID, name: String, body: String, revision: Int, updated: Date) {
        self.id = id
        self.name = name
        self.body = body
        self.revision = revision
        self.updated = updated
    }
}

/// A sequence at its current revision: the body is the sequence file's JSON (`{"name", "steps"}`),
/// canonical.
/// A named JSON document of an account as the store keeps it: an IVR or a sequence (one code path for both).
protocol StoredDocument: Sendable {
    var id: String { get }
    var name: String { get }
    var revision: Int { get }
    init(id: String, name: String, body: String, revision: Int, updated: Date)
}

extension IVRRecord: StoredDocument {}
extension SequenceRecord: StoredDocument {}

public struct SequenceRecord: Sendable, Hashable {
    public var id: SequenceID
    /// The body's `name`, unique in the account.
    public var name: String
    /// Canonical JSON text of `{name, steps}`.
    public var body: String
    /// The current revision's number (the ETag).
    public var revision: Int
    public var updated: Date

    public init(id: SequenceID, name: String, body: String, revision: Int, updated: Date) {
        self.id = id
        self.name = name
        self.body = body
        self.revision = revision
        self.updated = updated
    }
}

/// One immutable revision of a sequence. Every save, and every restore, adds one.
public struct SequenceRevision: Sendable, Hashable {
    public var sequence: SequenceID
    /// 1, 2, 3... per sequence.
    public var number: Int
    public var created: Date
    /// The key that saved it (nil: the command line).
    public var keyID: KeyID?
    /// The body saved (canonical JSON, one line per step: diff-able).
    public var body: String

    public init(sequence: SequenceID, number: Int, created: Date, keyID: KeyID?, body: String) {
        self.sequence = sequence
        self.number = number
        self.created = created
        self.keyID = keyID
        self.body = body
    }
}

// MARK: - Recordings

/// A recording's description (no audio bytes).
public struct RecordingInfo: Sendable, Hashable {
    /// The name sequences and IVR prompts use (1...200 characters, no `/`, no control characters, not `none`
    /// or `default`).
    public var name: String
    /// The upload's media type as sniffed (`audio/mpeg`, `audio/wav`...).
    public var contentType: String
    /// Bytes of the original and of the conversion.
    public var originalBytes: Int
    public var convertedBytes: Int
    /// The converted audio's length in milliseconds.
    public var durationMs: Int
    /// Free-form facts about the conversion (e.g. `{"sampleRate":8000,"peakDbfs":-3.1}`), canonical JSON;
    /// `{}` when none.
    public var metadata: String
    public var revision: Int
    public var updated: Date

    public init(
        name: String, contentType: String, originalBytes: Int, convertedBytes: Int, durationMs: Int,
        metadata: String, revision: Int, updated: Date
    ) {
        self.name = name
        self.contentType = contentType
        self.originalBytes = originalBytes
        self.convertedBytes = convertedBytes
        self.durationMs = durationMs
        self.metadata = metadata
        self.revision = revision
        self.updated = updated
    }
}

/// A recording to store.
public struct RecordingUpload: Sendable, Hashable {
    public var name: String
    public var contentType: String
    /// The upload as received.
    public var original: [UInt8]
    /// The telephony conversion (as `callseq convert` writes it: a WAV file).
    public var converted: [UInt8]
    public var durationMs: Int
    /// A JSON object (canonicalized by the store), or `{}`.
    public var metadata: String

    public init(
        name: String, contentType: String, original: [UInt8], converted: [UInt8], durationMs: Int,
        metadata: String = "{}"
    ) {
        self.name = name
        self.contentType = contentType
        self.original = original
        self.converted = converted
        self.durationMs = durationMs
        self.metadata = metadata
    }
}

/// Which bytes of a recording to read.
public enum RecordingVariant: String, Sendable, Hashable {
    /// The upload as received.
    case original
    /// The telephony conversion.
    case converted
}

// MARK: - Audit log

/// One change in the audit log.
public struct AuditEntry: Sendable, Hashable {
    /// Increasing.
    public var id: Int64
    public var time: Date
    /// The account changed (nil for changes outside accounts, such as operator keys).
    public var account: AccountID?
    /// Who: the key (nil: the command line), and from which address.
    public var keyID: KeyID?
    public var address: String
    /// What: `account.create`, `account.update`, `package.put`, `key.create`, `key.revoke`, `number.put`,
    /// `number.delete`, `ivr.create`, `ivr.update`, `ivr.delete`, `sequence.create`, `sequence.update`,
    /// `sequence.restore`, `sequence.delete`, `recording.put`, `recording.delete`, `account.import`.
    public var action: String
    /// The resource: an id, a number or a recording name.
    public var target: String
    /// The revision the change made, when the resource has revisions.
    public var revision: Int?

    public init(
        id: Int64, time: Date, account: AccountID?, keyID: KeyID?, address: String, action: String,
        target: String, revision: Int?
    ) {
        self.id = id
        self.time = time
        self.account = account
        self.keyID = keyID
        self.address = address
        self.action = action
        self.target = target
        self.revision = revision
    }
}

// MARK: - SMS ledger

/// A text's state in the ledger.
public enum SMSState: String, Sendable, Hashable, CaseIterable {
    /// Reserved before the request left; no answer yet.
    case reserved
    /// The provider accepted it.
    case sent
    /// Certainly not sent (does not count against the limit).
    case failed
    /// Maybe sent (a node died mid-request): never sent again.
    case unknown
}

/// A text to reserve a slot for: at most once per (call, step), and only under the account's daily limit.
public struct SMSRequest: Sendable, Hashable {
    public var account: AccountID
    /// The live call's id (its SIP Call-ID, or any id unique per call).
    public var callID: String
    /// The step's index in the sequence.
    public var step: Int
    public var from: String
    public var to: String
    public var message: String
    /// The account's daily limit (its capabilities' `smsDailyLimit`).
    public var dailyLimit: Int
    /// When (its UTC day is the day it counts on).
    public var time: Date

    public init(
        account: AccountID, callID: String, step: Int, from: String, to: String, message: String,
        dailyLimit: Int, time: Date
    ) {
        self.account = account
        self.callID = callID
        self.step = step
        self.from = from
        self.to = to
        self.message = message
        self.dailyLimit = dailyLimit
        self.time = time
    }
}

/// The answer to ``Store/reserveSMS(_:)``.
public enum SMSReservation: Sendable, Hashable {
    /// Reserved: send it, then ``Store/finishSMS(id:state:providerID:detail:)``.
    case reserved(id: Int64)
    /// This (call, step) already has a text: never send it again.
    case alreadyReserved(id: Int64, state: SMSState)
    /// The day's limit is reached (`used` texts count): not sent; recorded as failed.
    case limitReached(used: Int)
}

/// A text in the ledger.
public struct SMSEntry: Sendable, Hashable {
    public var id: Int64
    public var account: AccountID
    public var callID: String
    public var step: Int
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    public var from: String
    public var to: String
    public var message: String
    public var state: SMSState
    public var providerID: String?
    public var detail: String?
    public var created: Date
    public var updated: Date

    public init(
        id: Int64, account: AccountID, callID: String, step: Int, day: String, from: String, to: String,
        message: String, state: SMSState, providerID: String?, detail: String?, created: Date,
        updated: Date
    ) {
        self.id = id
        self.account = account
        self.callID = callID
        self.step = step
        self.day = day
        self.from = from
        self.to = to
        self.message = message
        self.state = state
        self.providerID = providerID
        self.detail = detail
        self.created = created
        self.updated = updated
    }
}

// MARK: - Call records

/// What happened on one live call.
public struct CallRecord: Sendable, Hashable {
    /// Set by the store on append.
    public var id: Int64
    /// When the call arrived.
    public var time: Date
    public var account: AccountID
    /// The caller (From user part, as received, escaped by the caller of the store).
    public var caller: String
    /// The number called.
    public var did: String
    /// IVRs visited, in order.
    public var ivrPath: [String]
    /// Keys pressed, in order (`"1"`, `"#"`...), as one string.
    public var keys: String
    /// The sequence run, if any, and how many of its steps completed out of how many.
    public var sequence: String?
    public var stepsDone: Int
    public var stepsTotal: Int
    /// SMS outcomes (`sent`, `failed: daily limit`...), one per SMS step reached.
    public var smsOutcomes: [String]
    /// How it ended (`caller hung up`, `completed`, `timeout`...).
    public var outcome: String
    public var durationMs: Int

    public init(
        id: Int64 = 0, time: Date, account: AccountID, caller: String, did: String, ivrPath: [String],
        keys: String, sequence: String?, stepsDone: Int, stepsTotal: Int, smsOutcomes: [String],
        outcome: String, durationMs: Int
    ) {
        self.id = id
        self.time = time
        self.account = account
        self.caller = caller
        self.did = did
        self.ivrPath = ivrPath
        self.keys = keys
        self.sequence = sequence
        self.stepsDone = stepsDone
        self.stepsTotal = stepsTotal
        self.smsOutcomes = smsOutcomes
        self.outcome = outcome
        self.durationMs = durationMs
    }
}

/// Which call records to list.
public struct CallFilter: Sendable, Hashable {
    /// Only calls to this number.
    public var did: String?
    /// Only calls at or after `from` and before `until`.
    public var from: Date?
    public var until: Date?

    public init(did: String? = nil, from: Date? = nil, until: Date? = nil) {
        self.did = did
        self.from = from
        self.until = until
    }
}

// MARK: - Whole accounts (import and export)

/// Everything an account holds that its account file says, in the store's terms: what `callseq import` and
/// `PUT .../import` write in one transaction, and what `callseq export` reads. ``AccountExchange`` turns it
/// into the account file's canonical JSON and back.
public struct AccountSnapshot: Sendable, Hashable {
    public var capabilities: StoreCapabilities
    /// Numbers in number order (revisions ignored on import).
    public var numbers: [NumberRecord]
    /// IVR bodies (canonical JSON objects), in name order on export.
    public var ivrs: [String]
    /// Sequence bodies (canonical JSON `{name, steps}`), in name order on export.
    public var sequences: [String]
    /// Recordings, by name. On export their bytes are included only when asked for.
    public var recordings: [RecordingUpload]

    public init(
        capabilities: StoreCapabilities, numbers: [NumberRecord], ivrs: [String], sequences: [String],
        recordings: [RecordingUpload]
    ) {
        self.capabilities = capabilities
        self.numbers = numbers
        self.ivrs = ivrs
        self.sequences = sequences
        self.recordings = recordings
    }
}

// MARK: - The store

/// The management store. All methods are safe to call concurrently from any task.
public protocol Store: Sendable {
    // Change feed.

    /// A number that grows with every committed change (of any account). Starts at 0 for an empty store.
    func currentVersion() async throws(StoreError) -> Int64

    // Accounts.

    /// Creates an account. Client: `.notFound` when the parent is not a reseller or has no such package.
    func createAccount(_ account: NewAccount, origin: ChangeOrigin) async throws(StoreError) -> AccountRecord
    /// An account.
    func account(_ id: AccountID) async throws(StoreError) -> AccountRecord
    /// Accounts in id order: every account when `parent` is nil (operator), else that reseller's clients.
    func accounts(parent: AccountID?, page: PageRequest) async throws(StoreError) -> Page<AccountRecord>
    /// Changes an account at `expectedRevision`.
    func updateAccount(
        _ id: AccountID, _ change: AccountChange, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> AccountRecord
    /// Deletes an account and everything it has (its numbers, IVRs, sequences, recordings, keys; its SMS
    /// ledger and call records stay). A reseller with clients: `.inUse` naming them.
    func deleteAccount(_ id: AccountID, expectedRevision: Int, origin: ChangeOrigin) async throws(StoreError)

    /// Creates or replaces a reseller's package (`.notFound` when `reseller` is not a reseller).
    func putPackage(_ package: PackageRecord, origin: ChangeOrigin) async throws(StoreError)
    /// A reseller's packages, by name.
    func packages(reseller: AccountID, page: PageRequest) async throws(StoreError) -> Page<PackageRecord>

    /// Creates an account holding `snapshot` (numbers, IVRs, sequences at revision 1, recordings), all or
    /// nothing. A number another account has: `.duplicate`.
    func importAccount(
        _ snapshot: AccountSnapshot, as account: NewAccount,
        origin: ChangeOrigin
    ) async throws(StoreError) -> AccountRecord
    /// Replaces an account's numbers, IVRs, sequences and recordings by `snapshot`'s, all or nothing; a
    /// sequence whose name stays keeps its id and gets a new revision when its body changed. Capabilities are
    /// replaced too (not for clients). At `expectedRevision` of the account.
    func replaceAccountContents(
        _ id: AccountID, with snapshot: AccountSnapshot, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> AccountRecord
    /// Everything the account holds, as of one moment. Recording bytes only `withAudio` (converted and
    /// original); otherwise their `original` and `converted` are empty.
    func snapshot(of id: AccountID, withAudio: Bool) async throws(StoreError) -> AccountSnapshot

    // API keys.

    /// Makes a key for `account` (nil only with `isOperator`). The secret is in the answer only.
    func createKey(
        account: AccountID?, isOperator: Bool, label: String,
        origin: ChangeOrigin
    ) async throws(StoreError) -> CreatedAPIKey
    /// An account's keys (revoked ones too), in id order; with `account` nil, the operator keys without account.
    func keys(account: AccountID?, page: PageRequest) async throws(StoreError) -> Page<APIKeyRecord>
    /// Revokes a key of `account` (nil: an operator key without account). Revoking twice is fine.
    func revokeKey(_ id: KeyID, account: AccountID?, origin: ChangeOrigin) async throws(StoreError)
    /// Who a presented secret is; nil for an unknown or revoked key. Compares SHA-256 hashes.
    func authenticate(key secret: String) async throws(StoreError) -> KeyIdentity?

    // Numbers.

    /// Creates (`expectedRevision` nil) or replaces (at that revision) a number of the account. A number of
    /// another account: `.duplicate`. A route to an IVR the account lacks: `.invalid`.
    func putNumber(
        _ number: NumberRecord, account: AccountID, expectedRevision: Int?,
        origin: ChangeOrigin
    ) async throws(StoreError) -> NumberRecord
    func number(_ number: String, account: AccountID) async throws(StoreError) -> NumberRecord
    /// The account's numbers in number order.
    func numbers(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<NumberRecord>
    func deleteNumber(
        _ number: String, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin) async throws(StoreError)
    /// Which account has this number, for routing a call (nil: nobody).
    func numberOwner(_ number: String) async throws(StoreError) -> (account: AccountID, number: NumberRecord)?

    // IVRs.

    /// Creates an IVR from its JSON object (the account file's IVR). A name in use: `.duplicate`.
    func createIVR(account: AccountID, body: String, origin: ChangeOrigin) async throws(StoreError) -> IVRRecord
    func ivr(_ id: IVRID, account: AccountID) async throws(StoreError) -> IVRRecord
    func ivrs(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<IVRRecord>
    /// Replaces an IVR. A rename updates the numbers routed to it and the IVR options that go to it.
    func updateIVR(
        _ id: IVRID, account: AccountID, body: String, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> IVRRecord
    /// Deletes an IVR; used by numbers or other IVRs' options: `.inUse` naming them.
    func deleteIVR(
        _ id: IVRID, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin) async throws(StoreError)

    // Sequences.

    /// Creates a sequence (revision 1) from `{name, steps}`. A name in use: `.duplicate`.
    func createSequence(
        account: AccountID, body: String,
        origin: ChangeOrigin
    ) async throws(StoreError) -> SequenceRecord
    func sequence(_ id: SequenceID, account: AccountID) async throws(StoreError) -> SequenceRecord
    /// The account's sequences, in id order.
    func sequences(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<SequenceRecord>
    /// Saves a new revision at `expectedRevision` (stale: `.conflict(current:)`). A rename updates the IVR
    /// options that run it.
    func updateSequence(
        _ id: SequenceID, account: AccountID, body: String, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> SequenceRecord
    /// Deletes a sequence and its revisions; run by an IVR option: `.inUse` naming the IVRs.
    func deleteSequence(
        _ id: SequenceID, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin) async throws(StoreError)
    /// The revisions, newest first.
    func revisions(
        of id: SequenceID, account: AccountID,
        page: PageRequest
    ) async throws(StoreError) -> Page<SequenceRevision>
    func revision(_ number: Int, of id: SequenceID, account: AccountID) async throws(StoreError) -> SequenceRevision
    /// Makes revision `number`'s body the current one, as a new revision (at `expectedRevision`).
    func restoreRevision(
        _ number: Int, of id: SequenceID, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> SequenceRecord

    // Recordings.

    /// Creates (`expectedRevision` nil) or replaces a recording.
    func putRecording(
        _ upload: RecordingUpload, account: AccountID, expectedRevision: Int?,
        origin: ChangeOrigin
    ) async throws(StoreError) -> RecordingInfo
    func recording(_ name: String, account: AccountID) async throws(StoreError) -> RecordingInfo
    /// Recordings by name.
    func recordings(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<RecordingInfo>
    /// A recording's bytes.
    func recordingAudio(
        _ name: String, account: AccountID,
        variant: RecordingVariant
    ) async throws(StoreError) -> [UInt8]
    /// Deletes a recording; used by a sequence step or an IVR prompt: `.inUse` naming them.
    func deleteRecording(
        _ name: String, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin) async throws(StoreError)

    // Audit log.

    /// The account's audit entries, newest first (`account` nil: all entries, for the operator).
    func audit(account: AccountID?, page: PageRequest) async throws(StoreError) -> Page<AuditEntry>

    // SMS ledger.

    /// Reserves a text's slot: at most once per (call, step), and only while the account's texts of the UTC day
    /// (reserved, sent, unknown) are under `dailyLimit`; one atomic step, safe across processes and nodes.
    func reserveSMS(_ request: SMSRequest) async throws(StoreError) -> SMSReservation
    /// Records a reserved text's outcome (`failed` frees its place under the limit).
    func finishSMS(
        id: Int64, state: SMSState, providerID: String?,
        detail: String?) async throws(StoreError)
    /// Reservations older than `before` still `reserved` (their node died mid-request) become `unknown`;
    /// answers how many.
    func expireSMSReservations(before: Date) async throws(StoreError) -> Int
    /// The account's texts, newest first.
    func smsEntries(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<SMSEntry>

    // Call records.

    /// Appends a call record; answers its id.
    func appendCallRecord(_ record: CallRecord) async throws(StoreError) -> Int64
    /// The account's call records matching `filter`, newest first.
    func callRecords(
        account: AccountID, filter: CallFilter,
        page: PageRequest
    ) async throws(StoreError) -> Page<CallRecord>
    /// Deletes call records older than `before` (retention); answers how many.
    func deleteCallRecords(before: Date) async throws(StoreError) -> Int
}
