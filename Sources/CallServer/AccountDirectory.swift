// The accounts a server answers for: every DID of every account file, each account compiled for the live
// call formats (G.711 mu-law and A-law at 8 kHz, DTMF in-band or as RFC 4733 events). Built off the SIP
// event loop (at start-up and on reload); a call keeps the compiled account it started with, so a reload
// never changes a call in progress.

import CallSequenceEngine
import CallSequenceModel
import Recordings
import TelephonyDSP

/// Every DID of a set of account files, with their accounts compiled for live calls.
package struct AccountDirectory: Sendable {
    /// One account file, loaded and compiled.
    package struct Entry: Sendable {
        /// The file it was read from; for an account from the management store, its id.
        package let path: String
        /// The management store's account id, for an account served from the store (nil: an account file).
        package let storeAccount: String?
        /// The account.
        package let account: Account
        /// Compiled per (encoding, DTMF mode): mu-law and A-law, in-band and RFC 4733.
        let compiled: [Key: CompiledAccount]

        struct Key: Hashable, Sendable {
            var encoding: SampleEncoding
            var dtmfOutput: DTMFOutput
        }

        init(path: String, storeAccount: String? = nil, account: Account, compiled: [Key: CompiledAccount]) {
            self.path = path
            self.storeAccount = storeAccount
            self.account = account
            self.compiled = compiled
        }

        /// An account of the management store, prepared for the four live call formats; nothing is compiled
        /// until a call needs it (`CompiledAccount.makeSession(calling:)` at the call's set-up).
        ///
        /// - Parameters:
        ///   - storeAccount: its id in the store.
        ///   - account: the account, as the store's content reads.
        ///   - recordings: its recordings (the store's converted audio, decoded from memory).
        package init(storeAccount: String, account: Account, recordings: RecordingCache) throws(CompileError) {
            var compiled: [Key: CompiledAccount] = [:]
            for encoding in [SampleEncoding.ulaw, .alaw] {
                for mode in [DTMFOutput.inband, .rfc4733] {
                    let format = CallFormat(sampleRate: 8000, encoding: encoding, dtmfOutput: mode)
                    compiled[Key(encoding: encoding, dtmfOutput: mode)] = try CompiledAccount(
                        account, recordings: recordings,
                        format: format)
                }
            }
            self.init(path: storeAccount, storeAccount: storeAccount, account: account, compiled: compiled)
        }

        /// The account compiled for a live call in `encoding` sending DTMF as `dtmfOutput`.
        package func compiled(_ encoding: SampleEncoding, _ dtmfOutput: DTMFOutput) -> CompiledAccount? {
            compiled[Key(encoding: encoding, dtmfOutput: dtmfOutput)]
        }
    }

    /// A DID and the account it belongs to.
    package struct CalledNumber: Sendable {
        /// The account.
        package let entry: Entry
        /// The DID.
        package let did: Account.DID

        /// A DID of `entry`'s account.
        package init(entry: Entry, did: Account.DID) {
            self.entry = entry
            self.did = did
        }
    }

    /// The account files, in the order given.
    package let entries: [Entry]
    private let calledNumbers: [PhoneNumber: CalledNumber]
    /// A folder accounts' recordings folders may be in besides their own folder (`--recordings-root`).
    package let recordingsRoot: String?

    /// Loads, validates and compiles `paths`.
    ///
    /// - Throws: ``AccountLoadError`` naming the file and its problems (every problem with its JSON path),
    ///   or a number that two files both claim.
    /// - Parameters:
    ///   - paths: the account files.
    ///   - recordingsRoot: a folder the accounts' recordings folders may be in, besides the
    ///     folder of each account file (which they are otherwise confined to).
    ///   - progress: called before each file is loaded with the count loaded so far, the count of files and
    ///     the file's path (start-up progress; called on the loading thread, never from a media thread).
    package init(
        paths: [String], recordingsRoot: String? = nil,
        progress: (_ loaded: Int, _ total: Int, _ path: String) -> Void = { _, _, _ in }
    ) throws(AccountLoadError) {
        var entries: [Entry] = []
        var calledNumbers: [PhoneNumber: CalledNumber] = [:]
        self.recordingsRoot = recordingsRoot
        for (index, path) in paths.enumerated() {
            progress(index, paths.count, path)
            let entry = try AccountDirectory.load(path, recordingsRoot: recordingsRoot)
            for did in entry.account.dids {
                if let other = calledNumbers[did.number] {
                    throw AccountLoadError(
                        path: path, problems: ["dids: \(did.number) is also a number of \(other.entry.path)"])
                }
                calledNumbers[did.number] = CalledNumber(entry: entry, did: did)
            }
            entries.append(entry)
        }
        self.entries = entries
        self.calledNumbers = calledNumbers
    }

    private init(entries: [Entry], recordingsRoot: String?) {
        self.entries = entries
        self.recordingsRoot = recordingsRoot
        var calledNumbers: [PhoneNumber: CalledNumber] = [:]
        for entry in entries {
            for did in entry.account.dids { calledNumbers[did.number] = CalledNumber(entry: entry, did: did) }
        }
        self.calledNumbers = calledNumbers
    }

    /// The DID that `user` (a Request-URI's user part, any NANP form) names, if any account has it.
    package func calledNumber(user: String) -> CalledNumber? {
        guard let number = try? PhoneNumber(user) else { return nil }
        return calledNumbers[number]
    }

    /// Every number answered for.
    package var numberCount: Int { calledNumbers.count }

    /// Reloads every file; a file that no longer loads keeps its previous version (and is reported).
    ///
    /// - Returns: the new directory and one error per file that was refused.
    package func reloaded() -> (AccountDirectory, [AccountLoadError]) {
        var entries: [Entry] = []
        var errors: [AccountLoadError] = []
        var claimed: [PhoneNumber: String] = [:]
        for old in self.entries {
            var entry = old
            do {
                entry = try AccountDirectory.load(old.path, recordingsRoot: recordingsRoot)
            } catch {
                errors.append(error)
            }
            if let clash = entry.account.dids.first(where: { claimed[$0.number] != nil }) {
                errors.append(
                    AccountLoadError(
                        path: old.path,
                        problems: ["dids: \(clash.number) is also a number of \(claimed[clash.number] ?? "")"]))
                entry = old
            }
            for did in entry.account.dids { claimed[did.number] = entry.path }
            entries.append(entry)
        }
        return (AccountDirectory(entries: entries, recordingsRoot: recordingsRoot), errors)
    }

    static func load(_ path: String, recordingsRoot: String?) throws(AccountLoadError) -> Entry {
        let account: Account
        let library: RecordingLibrary
        do {
            (account, library) = try Account.load(path, recordingsRoot: recordingsRoot)
        } catch {
            throw AccountLoadError(path: path, problems: error.problems.map(\.description))
        }
        let cache = RecordingCache(library: library)
        var compiled: [Entry.Key: CompiledAccount] = [:]
        for encoding in [SampleEncoding.ulaw, .alaw] {
            for mode in [DTMFOutput.inband, .rfc4733] {
                do {
                    let format = CallFormat(sampleRate: 8000, encoding: encoding, dtmfOutput: mode)
                    let account = try CompiledAccount(account, recordings: cache, format: format)
                    // A file whose recordings cannot be played is refused at load (or reload), not on a
                    // caller: one format is compiled now (every recording decoded and prepared); the others
                    // compile what a call reaches when it first does.
                    if encoding == .ulaw, mode == .rfc4733 { try account.compileReachable() }
                    compiled[Entry.Key(encoding: encoding, dtmfOutput: mode)] = account
                } catch {
                    throw AccountLoadError(path: path, problems: [error.description])
                }
            }
        }
        return Entry(path: path, account: account, compiled: compiled)
    }
}

/// An account file that cannot be served, with its problems (each with its JSON path).
package struct AccountLoadError: Error, Sendable, CustomStringConvertible {
    /// The file.
    package let path: String
    /// Its problems, one line each.
    package let problems: [String]

    /// One line per problem: `FILE: PATH: MESSAGE`.
    package var lines: [String] { problems.map { "\(path): \($0)" } }

    /// The problem as a person reads it: what the command line prints after "error:".
    package var description: String { lines.joined(separator: "\n") }
}
