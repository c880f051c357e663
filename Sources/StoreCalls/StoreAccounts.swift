// `callseq serve --store`: calls to the store's numbers. A called number is looked up in the store
// (`numberOwner`) on the first call, its account read (one snapshot), parsed with the model, its recordings
// fetched (the store's telephony conversion) and decoded in memory (the call server then compiles what the
// number reaches in the call's format, before it answers);
// the account then stays in a bounded cache (least recently called out first), so a store of 100,000
// accounts costs what its callers reach, not what it holds. Decoded recordings are shared between accounts
// by content hash (SHA-256). A change feed (`StoreChangeFeed`) says when the store changed; the audit log
// since the last change names the accounts and numbers to drop, so the next call reads them again. A call
// keeps the compiled account it started with.

import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import CallServer
import Crypto
import Foundation
import Logging
import Recordings
import Synchronization

/// The store's accounts for live calls, loaded on first use into a bounded cache.
package final class StoreAccounts: CalledNumberSource, Sendable {
    /// Bounds of the cache.
    package struct Limits: Sendable {
        /// Accounts kept compiled.
        package var accounts = 4_000
        /// Decoded recording audio kept (bytes of samples), shared by content.
        package var audioBytes = 128 << 20
        /// Numbers remembered as nobody's (a flood of calls to unknown numbers does not reach the store).
        package var unknownNumbers = 10_000

        package init() {}
    }

    private struct Cached {
        var entry: AccountDirectory.Entry
        var lastUse: UInt64
    }

    private struct State {
        /// digits → the account that has it (nil: nobody, as of the last look).
        var owners: [String: AccountID?] = [:]
        var unknownCount = 0
        var accounts: [AccountID: Cached] = [:]
        /// Bumped by every invalidation: a load that saw one meanwhile is used for its call but not kept.
        var epoch: UInt64 = 0
        var clock: UInt64 = 0

        /// The cached entry of `account`, marked as used now; nil when it is not cached.
        mutating func touch(_ account: AccountID) -> AccountDirectory.Entry? {
            guard var cached = accounts[account] else { return nil }
            cached.lastUse = clock
            accounts[account] = cached
            return cached.entry
        }
    }

    private let store: any Store
    private let logger: Logger
    private let limits: Limits
    private let state = Mutex(State())
    private let audio: DecodedAudioCache

    package init(store: any Store, logger: Logger, limits: Limits = Limits()) {
        self.store = store
        self.logger = logger
        self.limits = limits
        audio = DecodedAudioCache(limitBytes: limits.audioBytes)
    }

    /// How many accounts are compiled now.
    package var cachedAccounts: Int { state.withLock { $0.accounts.count } }

    package func calledNumber(_ number: PhoneNumber) async throws -> AccountDirectory.CalledNumber? {
        let digits = number.digits
        enum Look {
            case hit(AccountDirectory.Entry)
            case nobody
            case unknown(UInt64)
        }
        let look = state.withLock { s -> Look in
            s.clock &+= 1
            switch s.owners[digits] {
            case .some(.none): return .nobody
            case .some(.some(let account)):
                return s.touch(account).map { .hit($0) } ?? .unknown(s.epoch)
            case .none: return .unknown(s.epoch)
            }
        }
        switch look {
        case .nobody:
            return nil
        case .hit(let entry):
            return entry.account.did(number).map { AccountDirectory.CalledNumber(entry: entry, did: $0) }
        case .unknown(let epoch):
            guard let (account, _) = try await store.numberOwner(digits) else {
                state.withLock { s in
                    guard s.epoch == epoch else { return }
                    if s.unknownCount >= limits.unknownNumbers {
                        s.owners = s.owners.filter { $0.value != nil }
                        s.unknownCount = 0
                    }
                    if s.owners.updateValue(AccountID?.none, forKey: digits) == nil { s.unknownCount += 1 }
                }
                return nil
            }
            let cached = state.withLock { s -> AccountDirectory.Entry? in
                s.touch(account)
            }
            let entry: AccountDirectory.Entry
            if let cached { entry = cached } else { entry = try await load(account) }
            // Compiled by the call server for the call's negotiated format, still off the event loop.
            guard let did = entry.account.did(number) else { return nil }  // moved meanwhile
            state.withLock { s in
                guard s.epoch == epoch else { return }
                s.owners[digits] = .some(account)
                s.accounts[account] = Cached(entry: entry, lastUse: s.clock)
                if s.accounts.count > limits.accounts {
                    // Least recently called out (an eighth at once, so that eviction is rare).
                    let out = s.accounts.sorted { $0.value.lastUse < $1.value.lastUse }
                        .prefix(max(1, limits.accounts / 8)).map(\.key)
                    for id in out { s.accounts[id] = nil }
                    s.owners = s.owners.filter { $0.value.map { s.accounts[$0] != nil } ?? true }
                }
            }
            return AccountDirectory.CalledNumber(entry: entry, did: did)
        }
    }

    /// Reads, parses and prepares one account (its recordings fetched and decoded; nothing compiled yet).
    private func load(_ id: AccountID) async throws -> AccountDirectory.Entry {
        let started = ContinuousClock.now
        let snapshot = try await store.snapshot(of: id, withAudio: false)
        let names = snapshot.recordings.map(\.name)
        let library = RecordingLibrary(
            files: Dictionary(names.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }),
            origin: "the account's recordings")
        let account: Account
        do {
            account = try Account.parse(AccountExchange.accountFile(snapshot), source: id, catalog: library)
        } catch {
            throw StoreAccountError(error.problems.map(\.description).joined(separator: "; "))
        }
        // The recordings its IVRs and sequences name: the store's conversion, decoded once per content.
        var used = Set<String>()
        for ivr in account.ivrs { if case .named(let name) = ivr.prompt { used.insert(name) } }
        for sequence in account.sequences {
            for step in sequence.steps {
                if case .recording(let r) = step, case .named(let name) = r.recording { used.insert(name) }
            }
        }
        var decoded: [String: DecodedAudio] = [:]
        for name in used.sorted() where library.contains(name) {
            var bytes = try await store.recordingAudio(name, account: id, variant: .converted)
            // Stores imported before `callseq import` converted recordings hold the original only: decode that.
            if bytes.isEmpty { bytes = try await store.recordingAudio(name, account: id, variant: .original) }
            decoded[name] = try audio.decoded(bytes, name: name)
        }
        let fetched = decoded
        let cache = RecordingCache(library: library) { path, _ throws(RecordingError) in
            guard let audio = fetched[path] else { throw RecordingError.notFound(path) }
            return audio
        }
        let entry: AccountDirectory.Entry
        do {
            entry = try AccountDirectory.Entry(storeAccount: id, account: account, recordings: cache)
        } catch {
            throw StoreAccountError("\(id): \(error.description)")
        }
        logger.info(
            "store account \(id) loaded in \((ContinuousClock.now - started).formatted(.units(allowed: [.milliseconds]))) (\(account.dids.count) numbers, \(account.ivrs.count) IVRs, \(account.sequences.count) sequences, \(decoded.count) recordings)"
        )
        return entry
    }

    /// Drops what `changes` touched: the accounts named, and the numbers of `number.*` entries (and every
    /// "nobody's" number, since an import or a move may have given it an owner).
    package func invalidate(_ changes: [AuditEntry]) {
        guard !changes.isEmpty else { return }
        state.withLock { s in
            s.epoch &+= 1
            var accounts = Set<AccountID>()
            for change in changes {
                if let account = change.account { accounts.insert(account) }
                if change.action.hasPrefix("number.") { s.owners[change.target] = nil }
            }
            for account in accounts { s.accounts[account] = nil }
            s.owners = s.owners.filter { owner in owner.value.map { !accounts.contains($0) } ?? false }
            s.unknownCount = 0
        }
    }

    /// Drops everything (the change feed lost track).
    package func invalidateAll() {
        state.withLock { s in
            s.epoch &+= 1
            s.owners = [:]
            s.accounts = [:]
            s.unknownCount = 0
        }
    }

    /// Follows `feed`: after each change, reads the audit log since the last one and drops what it names, then
    /// tells `observe` the entries (nil: the feed lost track, anything may have changed). Ends at cancellation.
    package func follow(
        _ feed: any StoreChangeFeed,
        observe: @Sendable ([AuditEntry]?) -> Void = { _ in }
    ) async {
        var version: Int64 = -1
        var mark: Int64 = -1
        while !Task.isCancelled {
            do {
                if mark < 0 {
                    mark = try await store.audit(account: nil, page: PageRequest(limit: 1)).items.first?.id ?? 0
                    version = try await store.currentVersion()
                }
                let next = try await feed.nextVersion(after: version)
                var changes: [AuditEntry] = []
                var page = PageRequest(limit: 500)
                var complete = false
                reading: for _ in 0..<20 {
                    let found = try await store.audit(account: nil, page: page)
                    for entry in found.items {
                        if entry.id <= mark {
                            complete = true
                            break reading
                        }
                        changes.append(entry)
                    }
                    guard let cursor = found.next else {
                        complete = true
                        break
                    }
                    page = PageRequest(limit: 500, cursor: cursor)
                }
                if complete { invalidate(changes) } else { invalidateAll() }
                observe(complete ? changes : nil)
                mark = max(mark, changes.first?.id ?? mark)
                version = next
                if !changes.isEmpty {
                    logger.info(
                        "store changed (version \(next)): \(Set(changes.compactMap(\.account)).count) accounts reloaded on their next call"
                    )
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("store change feed: \(error); trying again in 1 s")
                invalidateAll()
                observe(nil)
                mark = -1
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// An account of the store that cannot be served (its call gets 503).
package struct StoreAccountError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Decoded recordings by the SHA-256 of their bytes, bounded by their samples' size (oldest use out first).
final class DecodedAudioCache: Sendable {
    private struct Item: Sendable {
        var audio: DecodedAudio
        var bytes: Int
        var lastUse: UInt64
    }
    private struct State {
        var items: [[UInt8]: Item] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }
    private let state = Mutex(State())
    let limitBytes: Int

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// `bytes` decoded (from the cache when the same content was decoded before).
    func decoded(_ bytes: [UInt8], name: String) throws(RecordingError) -> DecodedAudio {
        let key = Array(SHA256.hash(data: bytes))
        if let hit = state.withLock({ s -> DecodedAudio? in
            s.clock &+= 1
            guard var item = s.items[key] else { return nil }
            item.lastUse = s.clock
            s.items[key] = item
            return item.audio
        }) {
            return hit
        }
        let audio = try AudioFile.decode(bytes, name: name)
        let size = audio.samples.count * MemoryLayout<Float>.stride
        state.withLock { s in
            guard s.items[key] == nil else { return }
            s.items[key] = Item(audio: audio, bytes: size, lastUse: s.clock)
            s.bytes += size
            while s.bytes > limitBytes, s.items.count > 1,
                let oldest = s.items.min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                s.bytes -= oldest.value.bytes
                s.items[oldest.key] = nil
            }
        }
        return audio
    }
}
