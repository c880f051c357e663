// The store's conformance suite: written once, run against every implementation (SQLite in
// CallSequenceStoreTests, PostgreSQL in CallSequenceStorePostgresTests). Each check starts from an empty store
// made by the factory, and throws a `ConformanceFailure` naming what differed.

import CallSequenceModel
import CallSequenceStore
import Foundation

/// A check of the suite that did not hold.
package struct ConformanceFailure: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String, file: StaticString = #filePath, line: UInt = #line) {
        self.description = "\(description) (\(file):\(line))"
    }
}

func expect(
    _ condition: Bool, _ what: @autoclosure () -> String, file: StaticString = #filePath,
    line: UInt = #line
) throws {
    if !condition { throw ConformanceFailure(what(), file: file, line: line) }
}

func expectEqual<T: Equatable>(
    _ a: T, _ b: T, _ what: String, file: StaticString = #filePath, line: UInt = #line
) throws {
    if a != b { throw ConformanceFailure("\(what): \(a) != \(b)", file: file, line: line) }
}

/// Runs `body` and checks that it throws `expected`.
func expectError<T>(
    _ expected: StoreError, _ what: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () async throws -> T
) async throws {
    let value: T
    do {
        value = try await body()
    } catch {
        if (error as? StoreError) != expected {
            throw ConformanceFailure("\(what): expected \(expected), got \(error)", file: file, line: line)
        }
        return
    }
    throw ConformanceFailure("\(what): expected \(expected), got \(value)", file: file, line: line)
}

/// Runs `body` and checks that it throws an error of the kind `matches` accepts.
func expectErrorKind<T>(
    _ what: String, file: StaticString = #filePath, line: UInt = #line,
    _ matches: (StoreError.Kind) -> Bool, _ body: () async throws -> T
) async throws {
    let value: T
    do {
        value = try await body()
    } catch {
        guard let error = error as? StoreError, matches(error.kind) else {
            throw ConformanceFailure("\(what): unexpected \(error)", file: file, line: line)
        }
        return
    }
    throw ConformanceFailure("\(what): expected an error, got \(value)", file: file, line: line)
}

/// The suite. `make` answers a new, empty store each time.
package struct StoreConformance: Sendable {
    package let make: @Sendable () async throws -> any Store

    package init(make: @escaping @Sendable () async throws -> any Store) { self.make = make }

    /// Every check, in order; the names of the checks are the `checks` keys.
    package static let checks: [String] = [
        "version", "accounts", "packagesAndClients", "keys", "numbers", "sequencesAndRevisions", "ivrsAndRenames",
        "recordings", "audit", "smsLedger", "smsConcurrency", "callRecords", "importAndSnapshot", "tenancy", "paging",
    ]

    /// Runs the check named `name`.
    package func run(_ name: String) async throws {
        let store = try await make()
        switch name {
        case "version": try await version(store)
        case "accounts": try await accounts(store)
        case "packagesAndClients": try await packagesAndClients(store)
        case "keys": try await keys(store)
        case "numbers": try await numbers(store)
        case "sequencesAndRevisions": try await sequencesAndRevisions(store)
        case "ivrsAndRenames": try await ivrsAndRenames(store)
        case "recordings": try await recordings(store)
        case "audit": try await audit(store)
        case "smsLedger": try await smsLedger(store)
        case "smsConcurrency": try await smsConcurrency(store)
        case "callRecords": try await callRecords(store)
        case "importAndSnapshot": try await importAndSnapshot(store)
        case "tenancy": try await tenancy(store)
        case "paging": try await paging(store)
        default: throw ConformanceFailure("no check named \(name)")
        }
    }

    static let web = ChangeOrigin(keyID: "key_test", address: "203.0.113.5")

    static func sequenceBody(_ name: String, digits: String = "1234#", recording: String? = nil) -> String {
        var steps = #"{"type": "dtmf", "digits": "\#(digits)"}"#
        if let recording { steps = #"{"type": "recording", "recording": "\#(recording)"}, "# + steps }
        return #"{"name": "\#(name)", "steps": [\#(steps)]}"#
    }

    static func ivrBody(
        _ name: String, sequence: String? = nil, ivr: String? = nil, prompt: String = "default"
    ) -> String {
        var options = [#""0": {"hangup": true}"#]
        if let sequence { options.append(#""1": {"sequence": "\#(sequence)"}"#) }
        if let ivr { options.append(#""2": {"ivr": "\#(ivr)"}"#) }
        return #"{"name": "\#(name)", "prompt": "\#(prompt)", "options": {\#(options.joined(separator: ", "))}}"#
    }

    // MARK: - Checks

    func version(_ store: any Store) async throws {
        let v0 = try await store.currentVersion()
        try expectEqual(v0, 0, "an empty store's version")
        let account = try await store.createAccount(NewAccount(name: "Acme"), origin: .commandLine)
        let v1 = try await store.currentVersion()
        try expect(v1 > v0, "a change raises the version (\(v0) → \(v1))")
        _ = try await store.account(account.id)
        _ = try await store.accounts(parent: nil, page: .first)
        try expectEqual(try await store.currentVersion(), v1, "reads leave the version")
        _ = try await store.createSequence(account: account.id, body: Self.sequenceBody("Door"), origin: .commandLine)
        let v2 = try await store.currentVersion()
        try expect(v2 > v1, "creating a sequence raises the version")
        _ = try await store.putNumber(
            NumberRecord(number: "5145550100", sms: true, route: .hangup), account: account.id,
            expectedRevision: nil, origin: .commandLine)
        try expect(try await store.currentVersion() > v2, "putting a number raises the version")
        let before = try await store.currentVersion()
        await expectNoThrow {
            _ = try await store.updateAccount(
                account.id, AccountChange(name: "X"), expectedRevision: 99,
                origin: .commandLine)
        }
        try expectEqual(try await store.currentVersion(), before, "a refused change leaves the version")
    }

    func expectNoThrow(_ body: () async throws -> Void) async {
        _ = try? await body()
    }

    func accounts(_ store: any Store) async throws {
        let start = Date().addingTimeInterval(-1)
        let a = try await store.createAccount(
            NewAccount(
                name: "Acme Doors", capabilities: StoreCapabilities(sequences: true, sms: true, smsDailyLimit: 50)),
            origin: Self.web)
        try expect(a.id.hasPrefix("acc_") && a.id.count == 24, "account id \(a.id)")
        try expectEqual(a.name, "Acme Doors", "name")
        try expectEqual(a.kind, .direct, "kind")
        try expectEqual(
            a.capabilities, StoreCapabilities(sequences: true, sms: true, smsDailyLimit: 50), "capabilities")
        try expectEqual(a.revision, 1, "first revision")
        try expect(a.created >= start && a.created <= Date().addingTimeInterval(1), "created \(a.created)")
        let read = try await store.account(a.id)
        try expectEqual(read, a, "read back")

        let changed = try await store.updateAccount(
            a.id,
            AccountChange(
                name: "Acme Gates", capabilities: StoreCapabilities(sequences: false, sms: true, smsDailyLimit: 7)),
            expectedRevision: 1, origin: Self.web)
        try expectEqual(changed.revision, 2, "revision after a change")
        try expectEqual(changed.name, "Acme Gates", "renamed")
        try expectEqual(changed.capabilities.smsDailyLimit, 7, "limit changed")
        try await expectError(.conflict(current: 2), "a stale revision") {
            try await store.updateAccount(a.id, AccountChange(name: "Late"), expectedRevision: 1, origin: Self.web)
        }
        try expectEqual(try await store.account(a.id).name, "Acme Gates", "a refused change leaves the name")
        try await expectErrorKind("a control character in a name", { if case .invalid = $0 { true } else { false } }) {
            try await store.createAccount(NewAccount(name: "Bad\u{1B}[31m"), origin: Self.web)
        }
        try await expectErrorKind("an empty name", { if case .invalid = $0 { true } else { false } }) {
            try await store.createAccount(NewAccount(name: "  "), origin: Self.web)
        }
        try await expectErrorKind("a limit out of range", { if case .invalid = $0 { true } else { false } }) {
            try await store.createAccount(
                NewAccount(name: "Big", capabilities: StoreCapabilities(smsDailyLimit: 100_001)),
                origin: Self.web)
        }
        try await expectErrorKind("an unknown account", { if case .notFound = $0 { true } else { false } }) {
            try await store.account("acc_00000000000000000000")
        }
        try await store.deleteAccount(a.id, expectedRevision: 2, origin: Self.web)
        try await expectErrorKind("a deleted account", { if case .notFound = $0 { true } else { false } }) {
            try await store.account(a.id)
        }
    }

    func packagesAndClients(_ store: any Store) async throws {
        let reseller = try await store.createAccount(NewAccount(name: "Resell Co", kind: .reseller), origin: Self.web)
        let direct = try await store.createAccount(NewAccount(name: "Direct"), origin: Self.web)
        try await store.putPackage(
            PackageRecord(reseller: reseller.id, name: "Basic", sequences: false), origin: Self.web)
        try await store.putPackage(
            PackageRecord(reseller: reseller.id, name: "Doors", sequences: true), origin: Self.web)
        try await expectErrorKind("a package of a direct account", { if case .notFound = $0 { true } else { false } }) {
            try await store.putPackage(PackageRecord(reseller: direct.id, name: "X", sequences: true), origin: Self.web)
        }
        let packages = try await store.packages(reseller: reseller.id, page: .first)
        try expectEqual(packages.items.map(\.name), ["Basic", "Doors"], "packages by name")

        // A client asks for SMS: it never gets it; sequences come from the package.
        let client = try await store.createAccount(
            NewAccount(
                name: "Client", kind: .client(parent: reseller.id, package: "Doors"),
                capabilities: StoreCapabilities(sequences: false, sms: true, smsDailyLimit: 100)),
            origin: Self.web)
        try expectEqual(client.kind, .client(parent: reseller.id, package: "Doors"), "client kind")
        try expectEqual(
            client.capabilities, StoreCapabilities(sequences: true, sms: false, smsDailyLimit: 0),
            "a client's capabilities come from its package, never SMS")
        try await store.putPackage(
            PackageRecord(reseller: reseller.id, name: "Doors", sequences: false), origin: Self.web)
        try expectEqual(
            try await store.account(client.id).capabilities.sequences, false,
            "switching the package's sequences off reaches its clients")
        let moved = try await store.updateAccount(
            client.id, AccountChange(package: "Basic"), expectedRevision: 1,
            origin: Self.web)
        try expectEqual(moved.kind, .client(parent: reseller.id, package: "Basic"), "moved to another package")
        try await expectErrorKind("a missing package", { if case .notFound = $0 { true } else { false } }) {
            try await store.createAccount(
                NewAccount(name: "C2", kind: .client(parent: reseller.id, package: "Gold")),
                origin: Self.web)
        }
        try await expectErrorKind("a client of a direct account", { if case .notFound = $0 { true } else { false } }) {
            try await store.createAccount(
                NewAccount(name: "C3", kind: .client(parent: direct.id, package: "Doors")),
                origin: Self.web)
        }
        let clients = try await store.accounts(parent: reseller.id, page: .first)
        try expectEqual(clients.items.map(\.id), [client.id], "the reseller's clients")
        try await expectError(.inUse(users: ["account \(client.id)"]), "deleting a reseller with clients") {
            try await store.deleteAccount(reseller.id, expectedRevision: 1, origin: Self.web)
        }
    }

    func keys(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let b = try await store.createAccount(NewAccount(name: "B"), origin: .commandLine)
        let op = try await store.createKey(
            account: nil, isOperator: true, label: "first operator", origin: .commandLine)
        try expect(op.secret.hasPrefix("csk_") && op.secret.count == 47, "secret format \(op.secret.count)")
        try expectEqual(op.record.prefix, String(op.secret.prefix(8)), "prefix")
        try expectEqual(
            try await store.authenticate(key: op.secret),
            KeyIdentity(keyID: op.record.id, account: nil, isOperator: true), "operator identity")
        let ka = try await store.createKey(account: a.id, isOperator: false, label: "door app", origin: Self.web)
        let ka2 = try await store.createKey(account: a.id, isOperator: false, label: "backup", origin: Self.web)
        try expect(ka.secret != ka2.secret, "secrets differ")
        try expectEqual(
            try await store.authenticate(key: ka.secret),
            KeyIdentity(keyID: ka.record.id, account: a.id, isOperator: false), "account identity")
        try expectEqual(try await store.authenticate(key: ka.secret + "x"), nil, "a changed key")
        try expectEqual(
            try await store.authenticate(key: "csk_" + String(repeating: "A", count: 43)), nil, "an unknown key")
        try expectEqual(try await store.authenticate(key: String(repeating: "x", count: 100_000)), nil, "a huge key")
        try expectEqual(try await store.authenticate(key: ""), nil, "an empty key")

        let listed = try await store.keys(account: a.id, page: .first)
        try expectEqual(Set(listed.items.map(\.id)), [ka.record.id, ka2.record.id], "the account's keys")
        try expect(listed.items.allSatisfy { $0.prefix.count == 8 && $0.revoked == nil }, "listed without the secret")
        try expectEqual(
            try await store.keys(account: nil, page: .first).items.map(\.id), [op.record.id], "operator keys")
        try expectEqual(try await store.keys(account: b.id, page: .first).items, [], "another account has none")

        try await expectErrorKind(
            "revoking through another account", { if case .notFound = $0 { true } else { false } }
        ) {
            try await store.revokeKey(ka.record.id, account: b.id, origin: Self.web)
        }
        try expectEqual(try await store.authenticate(key: ka.secret)?.keyID, ka.record.id, "still valid")
        try await store.revokeKey(ka.record.id, account: a.id, origin: Self.web)
        try await store.revokeKey(ka.record.id, account: a.id, origin: Self.web)
        try expectEqual(try await store.authenticate(key: ka.secret), nil, "a revoked key")
        try expectEqual(
            try await store.authenticate(key: ka2.secret)?.keyID, ka2.record.id, "the other key still works")
        let after = try await store.keys(account: a.id, page: .first).items
        try expect(after.first { $0.id == ka.record.id }?.revoked != nil, "listed as revoked")
        try await expectErrorKind("a key for nobody", { if case .invalid = $0 { true } else { false } }) {
            try await store.createKey(account: nil, isOperator: false, label: "", origin: Self.web)
        }
        try await expectErrorKind("a key for a missing account", { if case .notFound = $0 { true } else { false } }) {
            try await store.createKey(
                account: "acc_00000000000000000000", isOperator: false, label: "", origin: Self.web)
        }
    }

    func numbers(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let b = try await store.createAccount(NewAccount(name: "B"), origin: .commandLine)
        var n = NumberRecord(number: "5145550100", sms: true, route: .hangup, dtmf: .inband, answerAfterMs: 1500)
        let created = try await store.putNumber(n, account: a.id, expectedRevision: nil, origin: Self.web)
        try expectEqual(created.revision, 1, "a new number's revision")
        try expectEqual(
            try await store.number("5145550100", account: a.id),
            NumberRecord(
                number: "5145550100", sms: true, route: .hangup, dtmf: .inband, answerAfterMs: 1500,
                revision: 1), "read back")
        try await expectError(.conflict(current: 1), "creating it again") {
            try await store.putNumber(n, account: a.id, expectedRevision: nil, origin: Self.web)
        }
        try await expectErrorKind("another account's number", { if case .duplicate = $0 { true } else { false } }) {
            try await store.putNumber(n, account: b.id, expectedRevision: nil, origin: Self.web)
        }
        try await expectErrorKind("a route to a missing IVR", { if case .invalid = $0 { true } else { false } }) {
            try await store.putNumber(
                NumberRecord(number: "5145550101", sms: false, route: .ivr("Lobby")), account: a.id,
                expectedRevision: nil, origin: Self.web)
        }
        try await expectErrorKind("letters in a number", { if case .invalid = $0 { true } else { false } }) {
            try await store.putNumber(
                NumberRecord(number: "555-CALL", sms: false, route: .hangup), account: a.id,
                expectedRevision: nil, origin: Self.web)
        }
        _ = try await store.createIVR(account: a.id, body: Self.ivrBody("Lobby"), origin: Self.web)
        n.route = .ivr("Lobby")
        n.sms = false
        let replaced = try await store.putNumber(n, account: a.id, expectedRevision: 1, origin: Self.web)
        try expectEqual(replaced.revision, 2, "replaced")
        try expectEqual(try await store.number("5145550100", account: a.id).route, .ivr("Lobby"), "routed to the IVR")
        let owner = try await store.numberOwner("5145550100")
        try expectEqual(owner?.account, a.id, "the owner")
        try expectEqual(owner?.number.route, .ivr("Lobby"), "the owner's route")
        try expect(try await store.numberOwner("5145559999") == nil, "nobody's number")
        try await expectErrorKind("another account reads it", { if case .notFound = $0 { true } else { false } }) {
            try await store.number("5145550100", account: b.id)
        }
        try await expectError(.conflict(current: 2), "a stale delete") {
            try await store.deleteNumber("5145550100", account: a.id, expectedRevision: 1, origin: Self.web)
        }
        try await expectErrorKind("another account deletes it", { if case .notFound = $0 { true } else { false } }) {
            try await store.deleteNumber("5145550100", account: b.id, expectedRevision: 2, origin: Self.web)
        }
        try await store.deleteNumber("5145550100", account: a.id, expectedRevision: 2, origin: Self.web)
        try expect(try await store.numberOwner("5145550100") == nil, "deleted")
        n.route = .hangup
        try expectEqual(
            try await store.putNumber(n, account: b.id, expectedRevision: nil, origin: Self.web).revision, 1,
            "a freed number can go to another account")
    }

    func sequencesAndRevisions(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let body1 = #"{"name":"Front door","steps":[{"type":"dtmf","digits":"1234#","toneMs":150}]}"#
        let s = try await store.createSequence(account: a.id, body: body1, origin: Self.web)
        try expect(s.id.hasPrefix("seq_"), "sequence id")
        try expectEqual(s.name, "Front door", "name from the body")
        try expectEqual(s.revision, 1, "first revision")
        try expectEqual(
            s.body,
            """
            {
              "name": "Front door",
              "steps": [
                {
                  "type": "dtmf",
                  "digits": "1234#",
                  "toneMs": 150
                }
              ]
            }

            """, "canonical body")
        try await expectErrorKind("the same name again", { if case .duplicate = $0 { true } else { false } }) {
            try await store.createSequence(account: a.id, body: Self.sequenceBody("Front door"), origin: Self.web)
        }
        for bad in ["[]", "{\"steps\": []}", "{\"name\": 5}", "{\"name\": \"x\",", "{\"name\": \"\"}"] {
            try await expectErrorKind("body \(bad)", { if case .invalid = $0 { true } else { false } }) {
                try await store.createSequence(account: a.id, body: bad, origin: Self.web)
            }
        }
        let big = #"{"name": "Big", "pad": ""# + String(repeating: "x", count: StoreLimits.maximumBodyBytes) + #""}"#
        try await expectErrorKind("a body over the limit", { if case .invalid = $0 { true } else { false } }) {
            try await store.createSequence(account: a.id, body: big, origin: Self.web)
        }

        let s2 = try await store.updateSequence(
            s.id, account: a.id, body: Self.sequenceBody("Front door", digits: "9999#"),
            expectedRevision: 1, origin: ChangeOrigin(keyID: "key_other", address: "::1"))
        try expectEqual(s2.revision, 2, "second revision")
        try await expectError(.conflict(current: 2), "a stale save") {
            try await store.updateSequence(
                s.id, account: a.id, body: Self.sequenceBody("Front door", digits: "0#"),
                expectedRevision: 1, origin: Self.web)
        }
        try expectEqual(try await store.sequence(s.id, account: a.id).body, s2.body, "a stale save changed nothing")
        let revisions = try await store.revisions(of: s.id, account: a.id, page: .first)
        try expectEqual(revisions.items.map(\.number), [2, 1], "revisions newest first")
        try expectEqual(revisions.items.map(\.keyID), ["key_other", "key_test"], "who saved each")
        try expectEqual(revisions.items[1].body, s.body, "revision 1 is immutable")
        let restored = try await store.restoreRevision(
            1, of: s.id, account: a.id, expectedRevision: 2, origin: Self.web)
        try expectEqual(restored.revision, 3, "a restore is a new revision")
        try expectEqual(restored.body, s.body, "with the old body")
        try expectEqual(try await store.revision(2, of: s.id, account: a.id).body, s2.body, "revision 2 stays")
        try await expectErrorKind("a missing revision", { if case .notFound = $0 { true } else { false } }) {
            try await store.revision(9, of: s.id, account: a.id)
        }
        try await expectError(.conflict(current: 3), "a stale restore") {
            try await store.restoreRevision(2, of: s.id, account: a.id, expectedRevision: 2, origin: Self.web)
        }
        let other = try await store.createSequence(
            account: a.id, body: Self.sequenceBody("Back door"), origin: Self.web)
        try await expectErrorKind("renaming onto another's name", { if case .duplicate = $0 { true } else { false } }) {
            try await store.updateSequence(
                other.id, account: a.id, body: Self.sequenceBody("Front door"),
                expectedRevision: 1, origin: Self.web)
        }
        try await store.deleteSequence(other.id, account: a.id, expectedRevision: 1, origin: Self.web)
        try await expectErrorKind("a deleted sequence", { if case .notFound = $0 { true } else { false } }) {
            try await store.sequence(other.id, account: a.id)
        }
        try expectEqual(try await store.sequences(account: a.id, page: .first).items.map(\.id), [s.id], "one left")
    }

    func ivrsAndRenames(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let seq = try await store.createSequence(account: a.id, body: Self.sequenceBody("Front door"), origin: Self.web)
        let sub = try await store.createIVR(account: a.id, body: Self.ivrBody("Sub"), origin: Self.web)
        let lobby = try await store.createIVR(
            account: a.id, body: Self.ivrBody("Lobby", sequence: "Front door", ivr: "Sub"),
            origin: Self.web)
        try expectEqual(lobby.name, "Lobby", "IVR name")
        try expectEqual(lobby.revision, 1, "IVR revision")
        _ = try await store.putNumber(
            NumberRecord(number: "5145550100", sms: true, route: .ivr("Sub")), account: a.id,
            expectedRevision: nil, origin: Self.web)

        try await expectError(.inUse(users: ["IVR \"Lobby\""]), "deleting a sequence an option runs") {
            try await store.deleteSequence(seq.id, account: a.id, expectedRevision: 1, origin: Self.web)
        }
        try await expectError(.inUse(users: ["number 5145550100", "IVR \"Lobby\""]), "deleting a used IVR") {
            try await store.deleteIVR(sub.id, account: a.id, expectedRevision: 1, origin: Self.web)
        }

        // Renaming a sequence keeps the IVR options that use it.
        _ = try await store.updateSequence(
            seq.id, account: a.id, body: Self.sequenceBody("Gate"), expectedRevision: 1,
            origin: Self.web)
        let afterSequenceRename = try await store.ivr(lobby.id, account: a.id)
        try expect(
            afterSequenceRename.body.contains(#""sequence": "Gate""#),
            "the option follows the rename:\n\(afterSequenceRename.body)")
        try expect(!afterSequenceRename.body.contains("Front door"), "no option runs the old name")
        try expectEqual(afterSequenceRename.revision, 2, "the IVR has a new revision")

        // Renaming an IVR keeps the numbers and options that go to it.
        let renamed = try await store.updateIVR(
            sub.id, account: a.id, body: Self.ivrBody("Menu"), expectedRevision: 1,
            origin: Self.web)
        try expectEqual(renamed.name, "Menu", "renamed")
        try expectEqual(try await store.number("5145550100", account: a.id).route, .ivr("Menu"), "the route follows")
        try expect(try await store.ivr(lobby.id, account: a.id).body.contains(#""ivr": "Menu""#), "the option follows")
        try await expectError(.conflict(current: 2), "a stale IVR save") {
            try await store.updateIVR(
                sub.id, account: a.id, body: Self.ivrBody("Menu2"), expectedRevision: 1, origin: Self.web)
        }
        try await expectErrorKind("an IVR name in use", { if case .duplicate = $0 { true } else { false } }) {
            try await store.createIVR(account: a.id, body: Self.ivrBody("Lobby"), origin: Self.web)
        }
        let lobbyNow = try await store.ivr(lobby.id, account: a.id)
        try await store.deleteIVR(lobby.id, account: a.id, expectedRevision: lobbyNow.revision, origin: Self.web)
        try await store.deleteSequence(seq.id, account: a.id, expectedRevision: 2, origin: Self.web)
        let ivrs = try await store.ivrs(account: a.id, page: .first)
        try expectEqual(ivrs.items.map(\.name), ["Menu"], "one IVR left")
    }

    func recordings(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let original = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let converted = (0..<16_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let upload = RecordingUpload(
            name: "welcome", contentType: "audio/mpeg", original: original, converted: converted,
            durationMs: 1000, metadata: #"{"sampleRate": 8000, "peakDbfs": -3.5}"#)
        let info = try await store.putRecording(upload, account: a.id, expectedRevision: nil, origin: Self.web)
        try expectEqual(info.name, "welcome", "name")
        try expectEqual(info.originalBytes, 300_000, "original size")
        try expectEqual(info.convertedBytes, 16_000, "converted size")
        try expectEqual(info.durationMs, 1000, "duration")
        try expectEqual(info.metadata, "{\n  \"sampleRate\": 8000,\n  \"peakDbfs\": -3.5\n}\n", "canonical metadata")
        try expectEqual(info.revision, 1, "revision")
        try expectEqual(
            try await store.recordingAudio("welcome", account: a.id, variant: .original), original, "original bytes")
        try expectEqual(
            try await store.recordingAudio("welcome", account: a.id, variant: .converted), converted, "converted bytes")
        try await expectError(.conflict(current: 1), "uploading over it without its revision") {
            try await store.putRecording(upload, account: a.id, expectedRevision: nil, origin: Self.web)
        }
        var second = upload
        second.converted = [1, 2, 3]
        let replaced = try await store.putRecording(second, account: a.id, expectedRevision: 1, origin: Self.web)
        try expectEqual(replaced.revision, 2, "replaced")
        try expectEqual(
            try await store.recordingAudio("welcome", account: a.id, variant: .converted), [1, 2, 3], "new bytes")
        for name in ["none", "default", "a/b", "", "x\u{7}"] {
            var bad = upload
            bad.name = name
            try await expectErrorKind("recording name \(name)", { if case .invalid = $0 { true } else { false } }) {
                try await store.putRecording(bad, account: a.id, expectedRevision: nil, origin: Self.web)
            }
        }
        _ = try await store.createSequence(
            account: a.id, body: Self.sequenceBody("Door", recording: "welcome"), origin: Self.web)
        _ = try await store.createIVR(account: a.id, body: Self.ivrBody("Lobby", prompt: "welcome"), origin: Self.web)
        try await expectError(.inUse(users: ["sequence \"Door\"", "IVR \"Lobby\""]), "deleting a used recording") {
            try await store.deleteRecording("welcome", account: a.id, expectedRevision: 2, origin: Self.web)
        }
        _ = try await store.putRecording(
            RecordingUpload(
                name: "spare", contentType: "audio/wav", original: [], converted: [],
                durationMs: 0), account: a.id, expectedRevision: nil, origin: Self.web)
        try expectEqual(
            try await store.recordings(account: a.id, page: .first).items.map(\.name), ["spare", "welcome"],
            "by name")
        try expectEqual(try await store.recordingAudio("spare", account: a.id, variant: .original), [], "empty bytes")
        try await store.deleteRecording("spare", account: a.id, expectedRevision: 1, origin: Self.web)
        try await expectErrorKind("a deleted recording", { if case .notFound = $0 { true } else { false } }) {
            try await store.recording("spare", account: a.id)
        }
    }

    func audit(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let b = try await store.createAccount(NewAccount(name: "B"), origin: .commandLine)
        let s = try await store.createSequence(account: a.id, body: Self.sequenceBody("Door"), origin: Self.web)
        let who = ChangeOrigin(keyID: "key_abc", address: "198.51.100.7")
        _ = try await store.updateSequence(
            s.id, account: a.id, body: Self.sequenceBody("Door", digits: "1#"),
            expectedRevision: 1, origin: who)
        _ = try? await store.updateSequence(
            s.id, account: a.id, body: Self.sequenceBody("Door", digits: "2#"),
            expectedRevision: 1, origin: who)  // refused: not audited
        let entries = try await store.audit(account: a.id, page: .first).items
        try expectEqual(
            entries.map(\.action), ["sequence.update", "sequence.create", "account.create"], "newest first")
        try expectEqual(entries[0].keyID, "key_abc", "which key")
        try expectEqual(entries[0].address, "198.51.100.7", "from which address")
        try expectEqual(entries[0].target, s.id, "what")
        try expectEqual(entries[0].revision, 2, "which revision")
        try expectEqual(entries[2].keyID, nil, "the command line has no key")
        try expectEqual(entries[2].address, "cli", "the command line's address")
        try expect(entries[0].id > entries[1].id, "ids increase")
        try expectEqual(
            try await store.audit(account: b.id, page: .first).items.map(\.action), ["account.create"],
            "another account's log")
        try expectEqual(try await store.audit(account: nil, page: .first).items.count, 4, "the operator sees all")
    }

    func smsLedger(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let b = try await store.createAccount(NewAccount(name: "B"), origin: .commandLine)
        let noon = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28 20:26:40 UTC
        func request(
            _ call: String, _ step: Int = 2, account: AccountID? = nil, limit: Int = 2,
            at time: Date = noon
        ) -> SMSRequest {
            SMSRequest(
                account: account ?? a.id, callID: call, step: step, from: "5145550100", to: "5145550199",
                message: "Front door opened", dailyLimit: limit, time: time)
        }
        guard case .reserved(let first) = try await store.reserveSMS(request("call-1")) else {
            throw ConformanceFailure("the first text is reserved")
        }
        try expectEqual(
            try await store.reserveSMS(request("call-1")), .alreadyReserved(id: first, state: .reserved),
            "the same call and step again")
        guard case .reserved(let second) = try await store.reserveSMS(request("call-1", 3)) else {
            throw ConformanceFailure("another step of the call")
        }
        try expectEqual(try await store.reserveSMS(request("call-2")), .limitReached(used: 2), "the third of 2 a day")
        guard case .alreadyReserved(let refused, .failed) = try await store.reserveSMS(request("call-2")),
            refused != first, refused != second
        else {
            throw ConformanceFailure("the refused text stays refused")
        }
        guard case .reserved = try await store.reserveSMS(request("call-9", account: b.id)) else {
            throw ConformanceFailure("another account's limit is its own")
        }
        guard case .reserved = try await store.reserveSMS(request("call-3", at: noon.addingTimeInterval(86_400))) else {
            throw ConformanceFailure("the next UTC day starts again")
        }
        try await store.finishSMS(id: first, state: .sent, providerID: "prov-1", detail: nil)
        try await store.finishSMS(id: second, state: .failed, providerID: nil, detail: "HTTP 500")
        guard case .reserved(let third) = try await store.reserveSMS(request("call-4")) else {
            throw ConformanceFailure("a failed text frees its place")
        }
        try await store.finishSMS(id: first, state: .failed, providerID: nil, detail: "late")  // ignored: finished
        try expectEqual(try await store.reserveSMS(request("call-5")), .limitReached(used: 2), "full again")
        try expectEqual(try await store.expireSMSReservations(before: noon.addingTimeInterval(-60)), 0, "none that old")
        let expired = try await store.expireSMSReservations(before: Date().addingTimeInterval(60))
        try expect(expired >= 1, "open reservations become unknown (\(expired))")
        let entries = try await store.smsEntries(account: a.id, page: .first).items
        try expectEqual(entries.first?.id, entries.map(\.id).max(), "newest first")
        let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
        try expectEqual(byID[first]?.state, .sent, "sent")
        try expectEqual(byID[first]?.providerID, "prov-1", "provider id")
        try expectEqual(byID[first]?.day, "2026-05-28", "UTC day")
        try expectEqual(byID[first]?.callID, "call-1", "call id")
        try expectEqual(byID[second]?.state, .failed, "failed")
        try expectEqual(byID[second]?.detail, "HTTP 500", "detail")
        try expectEqual(byID[third]?.state, .unknown, "expired")
        try expect(entries.allSatisfy { $0.account == a.id }, "only the account's texts")
        try expectEqual(entries.count, 6, "every text of A, sent, refused or open")
        try await expectErrorKind("finishing a missing text", { if case .notFound = $0 { true } else { false } }) {
            try await store.finishSMS(id: 999_999, state: .sent, providerID: nil, detail: nil)
        }
    }

    func smsConcurrency(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let now = Date()
        let results = try await withThrowingTaskGroup(of: SMSReservation.self) { group in
            for i in 0..<40 {
                group.addTask {
                    try await store.reserveSMS(
                        SMSRequest(
                            account: a.id, callID: "call-\(i % 20)", step: 0, from: "1",
                            to: "2", message: "hi", dailyLimit: 7, time: now))
                }
            }
            var all: [SMSReservation] = []
            for try await r in group { all.append(r) }
            return all
        }
        let reserved = results.filter { if case .reserved = $0 { true } else { false } }.count
        let already = results.filter { if case .alreadyReserved = $0 { true } else { false } }.count
        try expectEqual(reserved, 7, "exactly the limit is reserved under concurrency")
        try expectEqual(already, 20, "each (call, step) once")
    }

    func callRecords(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let b = try await store.createAccount(NewAccount(name: "B"), origin: .commandLine)
        let base = Date(timeIntervalSince1970: 1_780_000_000)
        for i in 0..<10 {
            let record = CallRecord(
                time: base.addingTimeInterval(Double(i) * 3600), account: a.id, caller: "51455501\(i)",
                did: i % 2 == 0 ? "5145550100" : "5145550111", ivrPath: ["Lobby", "Sub"], keys: "1#",
                sequence: "Front door", stepsDone: 2, stepsTotal: 3, smsOutcomes: ["sent"],
                outcome: "caller hung up", durationMs: 12_000 + i)
            _ = try await store.appendCallRecord(record)
        }
        _ = try await store.appendCallRecord(
            CallRecord(
                time: base, account: b.id, caller: "x", did: "5145550100", ivrPath: [],
                keys: "", sequence: nil, stepsDone: 0, stepsTotal: 0,
                smsOutcomes: [], outcome: "timeout", durationMs: 0))
        let all = try await store.callRecords(account: a.id, filter: CallFilter(), page: .first).items
        try expectEqual(all.count, 10, "the account's calls")
        try expectEqual(all.first?.caller, "514555019", "newest first")
        try expectEqual(all.first?.ivrPath, ["Lobby", "Sub"], "IVR path")
        try expectEqual(all.first?.smsOutcomes, ["sent"], "SMS outcomes")
        try expectEqual(all.first?.durationMs, 12_009, "duration")
        try expectEqual(all.first?.sequence, "Front door", "sequence")
        try expectEqual(all.first?.time, base.addingTimeInterval(9 * 3600), "time (ms precision)")
        let byDID = try await store.callRecords(account: a.id, filter: CallFilter(did: "5145550111"), page: .first)
            .items
        try expectEqual(
            byDID.map(\.caller), ["514555019", "514555017", "514555015", "514555013", "514555011"], "by DID")
        let window = try await store.callRecords(
            account: a.id,
            filter: CallFilter(
                did: "5145550100", from: base.addingTimeInterval(2 * 3600),
                until: base.addingTimeInterval(6 * 3600)), page: .first
        ).items
        try expectEqual(window.map(\.caller), ["514555014", "514555012"], "by DID and time")
        let firstPage = try await store.callRecords(account: a.id, filter: CallFilter(), page: PageRequest(limit: 4))
        try expectEqual(firstPage.items.count, 4, "a page")
        let secondPage = try await store.callRecords(
            account: a.id, filter: CallFilter(),
            page: PageRequest(limit: 4, cursor: firstPage.next))
        try expectEqual(
            secondPage.items.map(\.caller), ["514555015", "514555014", "514555013", "514555012"], "the next page")
        try expectEqual(
            try await store.deleteCallRecords(before: base.addingTimeInterval(5 * 3600)), 6,
            "retention deletes the old ones (both accounts)")
        try expectEqual(
            try await store.callRecords(account: a.id, filter: CallFilter(), page: .first).items.count, 5, "kept")
    }

    func importAndSnapshot(_ store: any Store) async throws {
        let snapshot = AccountSnapshot(
            capabilities: StoreCapabilities(sequences: true, sms: true, smsDailyLimit: 25),
            numbers: [
                NumberRecord(number: "5145550100", sms: true, route: .ivr("Lobby"), dtmf: .rfc4733, answerAfterMs: 0),
                NumberRecord(number: "5145550101", sms: false, route: .hangup),
            ],
            ivrs: [CanonicalJSON.text(try JSONParse(Self.ivrBody("Lobby", sequence: "Front door")))],
            sequences: [CanonicalJSON.text(try JSONParse(Self.sequenceBody("Front door", recording: "welcome")))],
            recordings: [
                RecordingUpload(
                    name: "welcome", contentType: "audio/wav", original: [1, 2, 3], converted: [4, 5],
                    durationMs: 20)
            ])
        let account = try await store.importAccount(snapshot, as: NewAccount(name: "Imported"), origin: .commandLine)
        try expectEqual(account.capabilities.smsDailyLimit, 25, "imported capabilities")
        var expected = snapshot
        expected.numbers = expected.numbers.map {
            var n = $0
            n.revision = 1
            return n
        }
        expected.recordings[0].metadata = "{}\n"  // canonical
        let withAudio = try await store.snapshot(of: account.id, withAudio: true)
        try expectEqual(withAudio.numbers, expected.numbers, "numbers")
        try expectEqual(withAudio.ivrs, expected.ivrs, "IVRs")
        try expectEqual(withAudio.sequences, expected.sequences, "sequences")
        try expectEqual(withAudio.recordings, expected.recordings, "recordings with audio")
        let without = try await store.snapshot(of: account.id, withAudio: false)
        try expectEqual(without.recordings.map(\.original), [[]], "no audio unless asked")

        // A failing import leaves nothing behind.
        var clash = snapshot
        clash.numbers = [NumberRecord(number: "5145550101", sms: false, route: .hangup)]  // already A's
        let before = try await store.accounts(parent: nil, page: .first).items.count
        try await expectErrorKind(
            "importing another account's number", { if case .duplicate = $0 { true } else { false } }
        ) {
            try await store.importAccount(clash, as: NewAccount(name: "Clash"), origin: .commandLine)
        }
        try expectEqual(try await store.accounts(parent: nil, page: .first).items.count, before, "all or nothing")

        // Replacing contents keeps a sequence's id and history when its name stays.
        let sequenceID = try await store.sequences(account: account.id, page: .first).items[0].id
        var next = snapshot
        next.sequences = [
            CanonicalJSON.text(try JSONParse(Self.sequenceBody("Front door", digits: "42#", recording: "welcome"))),
            CanonicalJSON.text(try JSONParse(Self.sequenceBody("Back door"))),
        ]
        next.numbers = [NumberRecord(number: "5145550100", sms: true, route: .hangup)]
        let replaced = try await store.replaceAccountContents(
            account.id, with: next, expectedRevision: 1, origin: .commandLine)
        try expectEqual(replaced.revision, 2, "the account's revision")
        let sequences = try await store.sequences(account: account.id, page: .first).items
        let front = sequences.first { $0.name == "Front door" }
        try expectEqual(front?.id, sequenceID, "same id")
        try expectEqual(front?.revision, 2, "a new revision")
        try expectEqual(sequences.count, 2, "two sequences")
        try expectEqual(
            try await store.snapshot(of: account.id, withAudio: false).numbers.map(\.number), ["5145550100"],
            "numbers replaced")
        try expect(try await store.numberOwner("5145550101") == nil, "the dropped number is free")
        try await expectError(.conflict(current: 2), "a stale import") {
            try await store.replaceAccountContents(account.id, with: next, expectedRevision: 1, origin: .commandLine)
        }
    }

    func tenancy(_ store: any Store) async throws {
        let a = try await store.createAccount(NewAccount(name: "A"), origin: .commandLine)
        let b = try await store.createAccount(NewAccount(name: "B"), origin: .commandLine)
        let s = try await store.createSequence(account: a.id, body: Self.sequenceBody("Door"), origin: Self.web)
        let i = try await store.createIVR(
            account: a.id, body: Self.ivrBody("Lobby", sequence: "Door"), origin: Self.web)
        _ = try await store.putRecording(
            RecordingUpload(
                name: "hello", contentType: "audio/wav", original: [1], converted: [2],
                durationMs: 1), account: a.id, expectedRevision: nil, origin: Self.web)
        _ = try await store.reserveSMS(
            SMSRequest(
                account: a.id, callID: "c", step: 0, from: "1", to: "2", message: "m",
                dailyLimit: 5, time: Date()))
        func isNotFound(_ e: StoreError.Kind) -> Bool { if case .notFound = e { true } else { false } }
        try await expectErrorKind("B reads A's sequence", isNotFound) { try await store.sequence(s.id, account: b.id) }
        try await expectErrorKind("B saves A's sequence", isNotFound) {
            try await store.updateSequence(
                s.id, account: b.id, body: Self.sequenceBody("Mine"), expectedRevision: 1,
                origin: Self.web)
        }
        try await expectErrorKind("B deletes A's sequence", isNotFound) {
            try await store.deleteSequence(s.id, account: b.id, expectedRevision: 1, origin: Self.web)
        }
        try await expectErrorKind("B reads A's revisions", isNotFound) {
            try await store.revisions(of: s.id, account: b.id, page: .first)
        }
        try await expectErrorKind("B reads A's revision", isNotFound) {
            try await store.revision(1, of: s.id, account: b.id)
        }
        try await expectErrorKind("B restores A's revision", isNotFound) {
            try await store.restoreRevision(1, of: s.id, account: b.id, expectedRevision: 1, origin: Self.web)
        }
        try await expectErrorKind("B reads A's IVR", isNotFound) { try await store.ivr(i.id, account: b.id) }
        try await expectErrorKind("B saves A's IVR", isNotFound) {
            try await store.updateIVR(
                i.id, account: b.id, body: Self.ivrBody("X"), expectedRevision: 1, origin: Self.web)
        }
        try await expectErrorKind("B deletes A's IVR", isNotFound) {
            try await store.deleteIVR(i.id, account: b.id, expectedRevision: 1, origin: Self.web)
        }
        try await expectErrorKind("B reads A's recording", isNotFound) {
            try await store.recording("hello", account: b.id)
        }
        try await expectErrorKind("B reads A's audio", isNotFound) {
            try await store.recordingAudio("hello", account: b.id, variant: .original)
        }
        try await expectErrorKind("B deletes A's recording", isNotFound) {
            try await store.deleteRecording("hello", account: b.id, expectedRevision: 1, origin: Self.web)
        }
        try expectEqual(try await store.sequences(account: b.id, page: .first).items.count, 0, "B lists no sequences")
        try expectEqual(try await store.ivrs(account: b.id, page: .first).items.count, 0, "B lists no IVRs")
        try expectEqual(try await store.recordings(account: b.id, page: .first).items.count, 0, "B lists no recordings")
        try expectEqual(try await store.numbers(account: b.id, page: .first).items.count, 0, "B lists no numbers")
        try expectEqual(try await store.smsEntries(account: b.id, page: .first).items.count, 0, "B lists no texts")
        // B may use the same names as A.
        _ = try await store.createSequence(account: b.id, body: Self.sequenceBody("Door"), origin: Self.web)
        _ = try await store.createIVR(account: b.id, body: Self.ivrBody("Lobby"), origin: Self.web)
        try expectEqual(try await store.sequence(s.id, account: a.id).revision, 1, "A's sequence untouched")
    }

    func paging(_ store: any Store) async throws {
        var ids: [AccountID] = []
        for i in 0..<7 {
            ids.append(try await store.createAccount(NewAccount(name: "Account \(i)"), origin: .commandLine).id)
        }
        var seen: [AccountID] = []
        var page = PageRequest(limit: 3)
        var pages = 0
        while true {
            let p = try await store.accounts(parent: nil, page: page)
            seen += p.items.map(\.id)
            pages += 1
            guard let next = p.next else { break }
            try expect(pages < 10, "paging ends")
            page = PageRequest(limit: 3, cursor: next)
        }
        try expectEqual(seen, ids.sorted(), "every account once, in id order")
        try expectEqual(pages, 3, "7 in pages of 3")
        let exact = try await store.accounts(parent: nil, page: PageRequest(limit: 7))
        try expectEqual(exact.next, nil, "no next page when the page holds the rest")
        try expectEqual(PageRequest(limit: 0).limit, 1, "limit clamped up")
        try expectEqual(PageRequest(limit: 5000).limit, 1000, "limit clamped down")

        let a = ids[0]
        for i in 0..<5 {
            _ = try await store.createSequence(account: a, body: Self.sequenceBody("S\(i)"), origin: .commandLine)
            _ = try await store.putNumber(
                NumberRecord(number: "514555010\(i)", sms: false, route: .hangup), account: a,
                expectedRevision: nil, origin: .commandLine)
        }
        let s1 = try await store.sequences(account: a, page: PageRequest(limit: 2))
        let s2 = try await store.sequences(account: a, page: PageRequest(limit: 2, cursor: s1.next))
        let s3 = try await store.sequences(account: a, page: PageRequest(limit: 2, cursor: s2.next))
        try expectEqual((s1.items + s2.items + s3.items).count, 5, "sequences paged")
        try expectEqual(Set((s1.items + s2.items + s3.items).map(\.name)).count, 5, "no repeats")
        try expectEqual(s3.next, nil, "last page")
        let n1 = try await store.numbers(account: a, page: PageRequest(limit: 4))
        let n2 = try await store.numbers(account: a, page: PageRequest(limit: 4, cursor: n1.next))
        try expectEqual((n1.items + n2.items).map(\.number), (0..<5).map { "514555010\($0)" }, "numbers in order")
        let audit1 = try await store.audit(account: a, page: PageRequest(limit: 4))
        let audit2 = try await store.audit(account: a, page: PageRequest(limit: 100, cursor: audit1.next))
        try expectEqual(audit1.items.count + audit2.items.count, 11, "audit paged")
        try expect(audit1.items.last!.id > audit2.items.first!.id, "audit pages continue downwards")
        try await expectErrorKind("a forged cursor", { if case .invalid = $0 { true } else { false } }) {
            try await store.audit(account: a, page: PageRequest(limit: 4, cursor: "'; DROP TABLE audit; --"))
        }
    }
}

/// Parses JSON text for the checks.
func JSONParse(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }
