// `callseq serve --store`: the services of calls served from the management store. Texts go through the store's
// ledger (reserved before the provider is asked, finished after; no transaction is held across the send),
// and every call of a store account leaves one call record, written by its own task (never by the media
// thread), with the outcomes of its texts; records older than the retention are deleted every hour.

import CallSequenceModel
import CallSequenceStore
import CallSequenceStorePostgres
import CallServer
import Foundation
import Logging
import SMSGateway
import ServiceLifecycle
import StoreCalls
import Synchronization
import TelephonyDSP

/// Sends the texts of store accounts' calls, counted in the store's ledger.
struct StoreTexts: Sendable {
    let store: any Store
    /// The provider (nil: dry run, nothing is sent).
    let transport: (any SMSTransport)?
    let logger: Logger
    /// Attempts for a text that certainly did not leave (connection refused, 500/503).
    var maximumAttempts = 4

    /// Sends one SMS step; answers its outcome as the call record shows it.
    func send(_ request: LiveSMSRequest, account: AccountID) async -> String {
        let message = SMSMessage(request.sms)
        let to = request.sms.to.digits
        if let problem = message.problem {
            logger.error("call \(request.callID): SMS to \(to) refused: \(problem)")
            return "failed: \(problem)"
        }
        guard let transport else {
            logger.info(
                "call \(request.callID): would send SMS from \(message.from) to \(to): \"\(InputText.escaped(message.message, limit: 200))\" (dry run)"
            )
            return "dry run"
        }
        let id: Int64
        do {
            let reservation = try await store.reserveSMS(
                SMSRequest(
                    account: account, callID: request.callID, step: request.step, from: message.from, to: message.to,
                    message: message.message, dailyLimit: request.dailyLimit, time: Date()))
            switch reservation {
            case .reserved(let reserved):
                id = reserved
            case .alreadyReserved(_, let state):
                logger.warning("call \(request.callID): SMS to \(to) already \(state.rawValue): not sent again")
                return "already \(state.rawValue)"
            case .limitReached(let used):
                logger.warning(
                    "call \(request.callID): SMS to \(to) not sent: the daily limit is reached (\(used) of \(request.dailyLimit))"
                )
                return "failed: daily limit reached (\(request.dailyLimit))"
            }
        } catch {
            logger.error("call \(request.callID): SMS to \(to) not sent: the ledger cannot record it: \(error)")
            return "failed: ledger unavailable"
        }
        var delay = Duration.milliseconds(200)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let providerID = try await transport.send(message)
                await finish(id, .sent, providerID: providerID, detail: nil)
                logger.info(
                    "call \(request.callID): SMS to \(to): sent (provider id \(InputText.escaped(providerID, limit: 64)), \(attempt) attempts)"
                )
                return "sent"
            } catch {
                if error.mayHaveBeenSent {
                    await finish(id, .unknown, providerID: nil, detail: error.description)
                    logger.error("call \(request.callID): SMS to \(to): outcome unknown (\(error)); not retried")
                    return "unknown: \(error.description)"
                }
                guard error.isRetryable, attempt < maximumAttempts else {
                    await finish(id, .failed, providerID: nil, detail: error.description)
                    logger.error("call \(request.callID): SMS to \(to) failed: \(error)")
                    return "failed: \(error.description)"
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// The `outcome` label of `callseq_sms_total` for what ``send(_:account:)`` answered: nil for a text not
    /// attempted here (another node's, or this call's retransmitted step: `already ...`).
    static func metricOutcome(_ outcome: String) -> String? {
        if outcome == "sent" { return "sent" }
        if outcome == "dry run" { return "dry_run" }
        if outcome.hasPrefix("unknown") { return "unknown" }
        if outcome.hasPrefix("failed") { return "failed" }
        return nil
    }

    /// The longest a living node keeps a text `reserved`: every attempt waiting out the provider's timeout, the
    /// backoffs between them (0.2 s doubling, at most 5 s), and 2 s for the ledger's writes. A reservation older
    /// than that belongs to a node that stopped between the reservation and the provider's answer.
    static func longestSend(timeout: Duration, attempts: Int) -> Duration {
        var total = timeout * attempts + .seconds(2)
        var delay = Duration.milliseconds(200)
        for _ in 1..<max(1, attempts) {
            total += delay
            delay = min(delay * 2, .seconds(5))
        }
        return total
    }

    private func finish(_ id: Int64, _ state: SMSState, providerID: String?, detail: String?) async {
        do {
            try await store.finishSMS(
                id: id, state: state, providerID: providerID, detail: detail.map { String($0.prefix(500)) })
        } catch {
            // Stays `reserved`: expired to `unknown` later, never sent again.
            logger.error("SMS ledger entry \(id) not updated: \(error)")
        }
    }
}

/// Gathers what store accounts' calls did and writes one call record per call, once the call has ended and
/// its texts have their outcomes; deletes records past the retention every hour. Bounded: beyond
/// `queueLimit` records waiting for the store, new ones are logged and dropped.
///
/// At graceful shutdown (after the calls drained) it waits, `shutdownWait` at most, for the texts still being
/// sent, so that their calls' records are written with their outcomes; a call whose text is still out after
/// that is written with the outcome `unknown: still sending at shutdown`. Then it writes every record queued
/// and ends: no call that ended is left without its record.
final class CallRecordService: Service, Sendable {
    static let queueLimit = 10_000
    /// The longest a record waits for its texts' outcomes after the call ended.
    static let smsWait: Duration = .seconds(120)

    private struct Pending {
        var summary: CallSummary?
        var outcomes: [String] = []
        var inFlight = 0
    }

    private struct Book {
        var calls: [String: Pending] = [:]
        /// Texts started and not finished, over every call.
        var textsInFlight = 0
        /// Shutdown's wait for `textsInFlight == 0`.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelledWaiters: Set<UInt64> = []
        var nextWaiter: UInt64 = 0

        /// The waiters to resume once no text is in flight.
        mutating func settledWaiters() -> [CheckedContinuation<Void, Never>] {
            guard textsInFlight <= 0, !waiters.isEmpty else { return [] }
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    private let store: any Store
    private let logger: Logger
    private let retentionDays: Int
    /// The longest graceful shutdown waits for texts still being sent.
    private let shutdownWait: Duration
    private let book = Mutex(Book())
    private let records: AsyncStream<CallRecord>
    private let continuation: AsyncStream<CallRecord>.Continuation

    init(store: any Store, retentionDays: Int, logger: Logger, shutdownWait: Duration = .seconds(30)) {
        self.store = store
        self.retentionDays = retentionDays
        self.logger = logger
        self.shutdownWait = shutdownWait
        (records, continuation) = AsyncStream.makeStream(
            of: CallRecord.self,
            bufferingPolicy: .bufferingOldest(Self.queueLimit))
    }

    /// A text of `callID` is being sent (told before the call's end).
    func textStarted(_ callID: String) {
        book.withLock { b in
            b.calls[callID, default: Pending()].inFlight += 1
            b.textsInFlight += 1
        }
    }

    /// A text of `callID` has its outcome.
    func textFinished(_ callID: String, outcome: String) {
        let (done, settled) = book.withLock { b -> ((CallSummary, [String])?, [CheckedContinuation<Void, Never>]) in
            guard var entry = b.calls[callID] else { return (nil, []) }
            b.textsInFlight -= 1
            let settled = b.settledWaiters()
            entry.outcomes.append(outcome)
            entry.inFlight -= 1
            guard entry.inFlight <= 0, let summary = entry.summary else {
                b.calls[callID] = entry
                return (nil, settled)
            }
            b.calls[callID] = nil
            return ((summary, entry.outcomes), settled)
        }
        if let (summary, outcomes) = done { write(summary, outcomes: outcomes) }
        for waiter in settled { waiter.resume() }
    }

    /// A store account's call ended.
    func callEnded(_ summary: CallSummary) {
        guard summary.storeAccount != nil else { return }
        let ready = book.withLock { b -> (CallSummary, [String])? in
            guard var waiting = b.calls[summary.callID], waiting.inFlight > 0 else {
                let outcomes = b.calls.removeValue(forKey: summary.callID)?.outcomes ?? []
                return (summary, outcomes)
            }
            waiting.summary = summary
            b.calls[summary.callID] = waiting
            return nil
        }
        if let (summary, outcomes) = ready {
            write(summary, outcomes: outcomes)
        } else {
            // Texts still being sent: the record waits for them, but not forever.
            let callID = summary.callID
            Task {
                try? await Task.sleep(for: Self.smsWait)
                self.writeLate(callID, reason: "still sending")
            }
        }
    }

    /// Writes the record of `callID` if it is still waiting for texts, with `unknown: REASON` for each of them.
    private func writeLate(_ callID: String, reason: String) {
        let (late, settled) = book.withLock { b -> (Pending?, [CheckedContinuation<Void, Never>]) in
            guard let late = b.calls.removeValue(forKey: callID) else { return (nil, []) }
            b.textsInFlight -= max(0, late.inFlight)
            return (late, b.settledWaiters())
        }
        if let late, let summary = late.summary {
            write(
                summary, outcomes: late.outcomes + Array(repeating: "unknown: \(reason)", count: max(0, late.inFlight)))
        }
        for waiter in settled { waiter.resume() }
    }

    private func write(_ summary: CallSummary, outcomes: [String]) {
        guard let account = summary.storeAccount else { return }
        let record = CallRecord(
            time: Date(timeIntervalSince1970: Double(summary.startedMs) / 1000), account: account,
            caller: summary.caller, did: summary.did, ivrPath: summary.ivrPath, keys: summary.keys,
            sequence: summary.sequence, stepsDone: summary.stepsDone, stepsTotal: summary.stepsTotal,
            smsOutcomes: outcomes, outcome: summary.outcome, durationMs: summary.durationMs)
        switch continuation.yield(record) {
        case .dropped:
            logger.error("call \(summary.callID): call record not written: \(Self.queueLimit) waiting for the store")
        case .terminated:
            logger.error("call \(summary.callID): call record not written: the text outlived the shutdown")
        default:
            break
        }
    }

    /// Returns once no text is being sent, or at cancellation.
    private func untilNoTextInFlight() async {
        let id = book.withLock { b -> UInt64 in
            b.nextWaiter &+= 1
            return b.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let resumeNow = book.withLock { b -> Bool in
                    if b.textsInFlight <= 0 || b.cancelledWaiters.remove(id) != nil { return true }
                    b.waiters[id] = waiter
                    return false
                }
                if resumeNow { waiter.resume() }
            }
        } onCancel: {
            let waiter = book.withLock { b -> CheckedContinuation<Void, Never>? in
                guard let waiter = b.waiters.removeValue(forKey: id) else {
                    b.cancelledWaiters.insert(id)
                    return nil
                }
                return waiter
            }
            waiter?.resume()
        }
        book.withLock { _ = $0.cancelledWaiters.remove(id) }
    }

    /// Graceful shutdown: the texts still being sent get `shutdownWait` to finish (their records are written
    /// as they do); the records of calls whose texts are still out after that are written without them.
    private func settle() async {
        let inFlight = book.withLock { $0.textsInFlight }
        if inFlight > 0 {
            logger.info("call records: waiting up to \(shutdownWait) for \(inFlight) texts still being sent")
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.untilNoTextInFlight() }
                group.addTask { [shutdownWait] in try? await Task.sleep(for: shutdownWait) }
                await group.next()
                group.cancelAll()
            }
        }
        let waiting = book.withLock { Array($0.calls.keys) }
        for callID in waiting { writeLate(callID, reason: "still sending at shutdown") }
    }

    func run() async {
        let retention = Task { [store, retentionDays, logger] in
            while !Task.isCancelled {
                do {
                    let before = Date().addingTimeInterval(-Double(retentionDays) * 86_400)
                    let deleted = try await store.deleteCallRecords(before: before)
                    if deleted > 0 { logger.info("call records: \(deleted) older than \(retentionDays) days deleted") }
                } catch {
                    logger.error("call records: retention: \(error)")
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        await withDiscardingTaskGroup { group in
            group.addTask { [records, store, logger] in
                // Until the stream is finished and every record queued is written.
                for await record in records {
                    do {
                        _ = try await store.appendCallRecord(record)
                    } catch {
                        logger.error("call record of \(record.did) at \(record.time) not written: \(error)")
                    }
                }
            }
            // Throws at cancellation (a forced shutdown): then nothing is waited for.
            if (try? await gracefulShutdown()) != nil { await settle() }
            continuation.finish()
        }
        retention.cancel()
    }
}

/// Follows the store's change feed for the call side; ends at graceful shutdown.
struct StoreChangeService: Service {
    let accounts: StoreAccounts
    let feed: any StoreChangeFeed
    /// Told each batch of changes after the accounts' cache (the management API's keys; nil: lost track).
    var observe: @Sendable ([AuditEntry]?) -> Void = { _ in }

    func run() async {
        await cancelWhenGracefulShutdown { await accounts.follow(feed, observe: observe) }
    }
}

/// Keeps the PostgreSQL change feed LISTENing (reconnecting as needed) until graceful shutdown.
struct PostgresFeedService: Service {
    let feed: PostgresChangeFeed

    func run() async {
        await cancelWhenGracefulShutdown { await feed.run() }
    }
}

/// Marks `unknown` the texts still `reserved` after ``StoreTexts/longestSend(timeout:attempts:)``: their node
/// stopped (killed, lost power) between the reservation and the provider's answer, so the text may have gone out.
/// They keep their place under the daily limit and are never sent again (the ledger row of the call and step
/// exists). Every node runs it (the update is idempotent); a node that was only slow still records its outcome
/// over `unknown` when it finishes.
struct SMSReservationExpiry: Service {
    let store: any Store
    let logger: Logger
    let horizon: Duration

    func run() async {
        let interval = max(.seconds(1), min(.seconds(60), horizon / 4))
        let seconds = Double(horizon.components.seconds) + Double(horizon.components.attoseconds) / 1e18
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let expired = try await store.expireSMSReservations(before: Date().addingTimeInterval(-seconds))
                    if expired > 0 {
                        logger.warning(
                            "SMS ledger: \(expired) texts still reserved after \(horizon) (their node stopped mid-send) are now unknown; never sent again"
                        )
                    }
                } catch {
                    logger.error("SMS ledger: expiring stale reservations: \(error)")
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
