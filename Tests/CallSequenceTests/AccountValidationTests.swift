import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

func accountProblems(_ file: String) -> [String] {
    do {
        _ = try Account.load(testAudioPath("accounts/" + file))
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

func exampleAccount(_ format: CallFormat = CallFormat()) throws -> CompiledAccount {
    let (account, library) = try Account.load(examples + "/account.json")
    return try CompiledAccount(account, recordings: RecordingCache(library: library), format: format)
}

@Suite("Accounts: cross-checks with JSON paths")
struct AccountValidationTests {
    @Test(arguments: [
        (
            "did-routed-to-sequence.json",
            "dids[0].route: a sequence can only be used as an IVR option; route this number to an IVR whose option runs it"
        ),
        (
            "reseller-sms.json",
            "sequences[0].steps[2]: this account cannot send SMS (a reseller's client account): remove the SMS step"
        ),
        (
            "sms-from-not-enabled.json",
            "sequences[0].steps[2].from: 5145550100 is not an SMS-enabled number of this account (it has none)"
        ),
        ("unknown-ivr-route.json", "dids[1].route.ivr: no IVR named \"Lobbby\""),
        (
            "option-unknown-sequence.json",
            "ivrs[0].options.3.sequence: no sequence named \"Back door\" (known: \"Front door\", \"Parking gate\")"
        ),
        ("bad-option-key.json", "ivrs[0].options.12: an option is a single DTMF digit (0-9, *, #, A-D)"),
        ("duplicate-did.json", "dids[2].number: 5145550100 is listed twice"),
        ("bad-timeout.json", "ivrs[0].timeoutSeconds: 0 s is out of range (1...60 s)"),
        ("bad-dtmf-delivery.json", "dids[0].dtmf: 'both' is not a DTMF delivery (auto, inband or rfc4733)"),
        ("bad-answer-after.json", "dids[0].answerAfterMs: 20000 ms is out of range (0...10000 ms)"),
    ])
    func eachBadAccountNamesItsProblem(file: String, expected: String) {
        #expect(accountProblems(file) == [expected])
    }

    /// One file per remaining check of Account.read: each file is the example account with one fault.
    @Test(arguments: [
        ("account-not-an-object.json", ["expected an account (an object), found an array"]),
        ("unknown-top-key.json", ["colour: unknown key"]),
        ("capability-not-bool.json", ["capabilities.sequences: expected true or false, found a string"]),
        ("capability-unknown-key.json", ["capabilities.voicemail: unknown key"]),
        (
            "sms-limit-out-of-range.json",
            ["capabilities.smsDailyLimit: 200000 texts is out of range (0...100000 texts)"]
        ),
        (
            "missing-recordings-folder.json",
            [
                // One cause, said once: not also every recording and sequence that the folder would have held.
                "recordings: \"no-such-folder\": no such folder"
            ]
        ),
        (
            "duplicate-sequence-name.json",
            [
                "sequences[1].name: another sequence is already named \"Front door\"",
                "ivrs[0].options.2.sequence: no sequence named \"Parking gate\"",
            ]
        ),
        ("bad-did-number.json", ["dids[1].number: '555-01' "]),
        ("did-sms-not-bool.json", ["dids[1].sms: expected true or false, found a string"]),
        ("did-route-missing.json", ["dids[1].route: missing (an object such as { \"ivr\": \"Lobby\" } is required)"]),
        ("did-unknown-key.json", ["dids[0].voicemail: unknown key"]),
        (
            "dids-not-an-array.json",
            [
                "dids: expected an array, found an object",
                "sequences[0].steps[2].from: 5145550100 is not an SMS-enabled number of this account (it has none)",
            ]
        ),
        ("route-two-keys.json", ["dids[1].route: a route is exactly one of { \"ivr\": NAME } or { \"hangup\": true }"]),
        ("route-hangup-false.json", ["dids[1].route.hangup: expected true"]),
        (
            "empty-ivr-name.json",
            [
                "ivrs[0].name: the name cannot be empty", "dids[0].route.ivr: no IVR named \"Lobby\"",
            ]
        ),
        ("duplicate-ivr-name.json", ["ivrs[1].name: another IVR is already named \"Lobby\""]),
        ("no-options.json", ["ivrs[0].options: an IVR needs at least one option"]),
        ("missing-options.json", ["ivrs[0].options: missing (an object of digit: action is required)"]),
        ("bad-attempts.json", ["ivrs[0].attempts: 11 plays is out of range (1...10 plays)"]),
        ("option-unknown-ivr.json", ["ivrs[0].options.7.ivr: no IVR named \"Cellar\""]),
        (
            "option-two-actions.json",
            [
                "ivrs[0].options.7: an option is exactly one of { \"sequence\": NAME }, { \"ivr\": NAME }, { \"repeat\": true } or { \"hangup\": true }"
            ]
        ),
        ("option-repeat-false.json", ["ivrs[0].options.9.repeat: expected true"]),
    ])
    func eachOtherBadAccountNamesItsProblem(file: String, expected: [String]) {
        // Each problem in order; a message may go on past what is written here (a hint, the names known).
        let problems = accountProblems(file)
        #expect(problems.count == expected.count, "\(file): \(problems)")
        for (problem, start) in zip(problems, expected) { #expect(problem.hasPrefix(start), "\(file): \(problem)") }
    }

    @Test func sequencesDisabledRefusesEveryOptionThatRunsOne() {
        #expect(
            accountProblems("sequences-disabled.json") == [
                "ivrs[0].options.1: sequences are not enabled for this account",
                "ivrs[0].options.2: sequences are not enabled for this account",
            ])
    }

    @Test func anUnknownPromptRecordingIsNamed() {
        let problems = accountProblems("unknown-prompt.json")
        #expect(problems.count == 1 && problems[0].hasPrefix("ivrs[0].prompt: no recording named 'lobby' in "))
        #expect(problems.first?.hasSuffix("(known: lobby-greeting, welcome)") == true)
    }

    @Test func theExampleAccountReadsWithNormalisedNumbers() throws {
        let (account, library) = try Account.load(examples + "/account.json")
        #expect(account.dids.map(\.number.digits) == ["5145550100", "5145550111", "5145550122", "5145550133"])
        #expect(account.dids.map(\.route) == [.ivr("Lobby"), .hangup, .ivr("Lobby"), .ivr("Lobby")])
        #expect(account.dids.map(\.dtmf) == [.auto, .auto, .inband, .auto])
        #expect(account.dids.map(\.answerAfterMs) == [0, 0, 0, 2000])
        #expect(account.capabilities == Account.Capabilities(sequences: true, sms: true, smsDailyLimit: 100))
        #expect(account.ivr(named: "Lobby")?.options[.one] == .sequence("Front door"))
        #expect(library.names == ["lobby-greeting", "welcome"])
    }
}
