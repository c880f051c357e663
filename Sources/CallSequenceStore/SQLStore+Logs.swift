// The audit log, the SMS ledger and call records: appended by calls and changes, read newest first. None of
// them bumps the change version (they are not configuration: `callseq serve` has nothing to reload).

import CallSequenceModel
import Foundation

extension SQLStore {
    // MARK: - Audit log

    public func audit(account: AccountID?, page: PageRequest) async throws(StoreError) -> Page<AuditEntry> {
        let before = try Self.integerCursor(page)
        return try await database.read { tx throws(StoreError) in
            let columns = "id, time, account, key_id, address, action, target, revision FROM audit"
            let rows: [SQLRow]
            if let account {
                rows = try await tx.query(
                    "SELECT \(columns) WHERE account = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                    [.text(account), .integer(before), Self.limit(page)])
            } else {
                rows = try await tx.query(
                    "SELECT \(columns) WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    [.integer(before), Self.limit(page)])
            }
            return try Self.page(rows, page, cursor: { row throws(StoreError) in String(try row.int(0)) }) {
                row throws(StoreError) in
                AuditEntry(
                    id: try row.int(0), time: StoreRules.date(try row.int(1)), account: try row.optionalText(2),
                    keyID: try row.optionalText(3), address: try row.text(4), action: try row.text(5),
                    target: try row.text(6), revision: try row.optionalInt(7).map { Int(truncatingIfNeeded: $0) })
            }
        }
    }

    // MARK: - SMS ledger

    public func reserveSMS(_ request: SMSRequest) async throws(StoreError) -> SMSReservation {
        try StoreRules.text(request.callID, "the call id", limit: 256)
        try StoreRules.text(request.from, "the sender", limit: 32)
        try StoreRules.text(request.to, "the recipient", limit: 32)
        try StoreRules.text(request.message, "the message")
        guard request.step >= 0, request.dailyLimit >= 0 else { throw .invalid("negative step or daily limit") }
        let day = StoreRules.day(request.time)
        let time = StoreRules.milliseconds(request.time)
        let dialect = self.dialect
        return try await database.transaction { tx throws(StoreError) in
            let ledger = """
                INSERT INTO sms_ledger (call_id, step, account, day, sender, recipient, message, state, created, updated)
                VALUES ($4, $5, $1, $2, $6, $7, $8, 'reserved', $9, $9) ON CONFLICT (call_id, step) DO NOTHING RETURNING id
                """
            let binds: [SQLValue] = [
                .text(request.account), .text(day), .int(request.dailyLimit), .text(request.callID),
                .int(request.step), .text(request.from), .text(request.to), .text(request.message),
                .integer(time),
            ]
            var inserted: Int64?
            var counted = false
            switch dialect {
            case .postgres:
                // One statement, the whole reservation (several nodes, one database): the ledger row at most once
                // per (call, step) (ON CONFLICT DO NOTHING), and the day's count taken only when that row is new
                // and the count is below the limit — the day's row created at 1, or incremented under the
                // limit; ON CONFLICT DO UPDATE locks the row and READ COMMITTED re-checks `used < $3` against the
                // latest committed count, so concurrent nodes queue on that one row for the statement's length
                // only. Nothing else happens in the transaction when the slot is taken: no lock is held across
                // the provider's HTTP request, which comes after the commit.
                let row = try await tx.first(
                    """
                    WITH ins AS (\(ledger)),
                    q AS (INSERT INTO sms_quota (account, day, used) SELECT $1, $2, 1 FROM ins WHERE $3 > 0
                          ON CONFLICT (account, day) DO UPDATE SET used = sms_quota.used + 1 WHERE sms_quota.used < $3
                          RETURNING used)
                    SELECT (SELECT id FROM ins), (SELECT used FROM q)
                    """, binds)
                inserted = try row?.optionalInt(0)
                counted = try row?.optionalInt(1) != nil
            case .sqlite:
                // SQLite has no data-modifying WITH; the transaction holds the write lock (BEGIN IMMEDIATE), so
                // the statements are as one.
                try await tx.run(
                    "INSERT INTO sms_quota (account, day, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                    [.text(request.account), .text(day)])
                inserted = try await tx.first(ledger, binds)?.int(0)
                if inserted != nil {
                    counted =
                        try await tx.first(
                            "UPDATE sms_quota SET used = used + 1 WHERE account = $1 AND day = $2 AND used < $3 RETURNING used",
                            [.text(request.account), .text(day), .int(request.dailyLimit)]) != nil
                }
            }
            guard let id = inserted else {
                guard
                    let row = try await tx.first(
                        "SELECT id, state FROM sms_ledger WHERE call_id = $1 AND step = $2",
                        [.text(request.callID), .int(request.step)])
                else {
                    throw .unavailable("the SMS ledger row for this call and step is missing")
                }
                return .alreadyReserved(id: try row.int(0), state: SMSState(rawValue: try row.text(1)) ?? .unknown)
            }
            if counted { return .reserved(id: id) }
            try await tx.run(
                "UPDATE sms_ledger SET state = 'failed', detail = $2 WHERE id = $1",
                [.integer(id), .text("daily limit of \(request.dailyLimit) reached: not sent")])
            let used =
                try await tx.first(
                    "SELECT used FROM sms_quota WHERE account = $1 AND day = $2",
                    [.text(request.account), .text(day)])?.intValue(0) ?? 0
            return .limitReached(used: used)
        }
    }

    public func finishSMS(id: Int64, state: SMSState, providerID: String?, detail: String?) async throws(StoreError) {
        guard state != .reserved else { throw .invalid("a text is finished as sent, failed or unknown") }
        try StoreRules.text(providerID ?? "", "the provider id", limit: 256)
        try StoreRules.text(detail ?? "", "the detail")
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            // Only a text still open (reserved, or unknown after a node's death) takes an outcome; a finished one
            // keeps its first.
            let row = try await tx.first(
                """
                UPDATE sms_ledger SET state = $2, provider_id = $3, detail = $4, updated = $5
                WHERE id = $1 AND state IN ('reserved', 'unknown') RETURNING account, day
                """,
                [.integer(id), .text(state.rawValue), .optionalText(providerID), .optionalText(detail), .integer(time)])
            guard let row else {
                guard try await tx.first("SELECT 1 FROM sms_ledger WHERE id = $1", [.integer(id)]) != nil else {
                    throw .notFound("text \(id)")
                }
                return
            }
            if state == .failed {  // a failed text frees its place under the limit
                try await tx.run(
                    "UPDATE sms_quota SET used = used - 1 WHERE account = $1 AND day = $2 AND used > 0",
                    [.text(try row.text(0)), .text(try row.text(1))])
            }
        }
    }

    public func expireSMSReservations(before: Date) async throws(StoreError) -> Int {
        try await database.transaction { tx throws(StoreError) in
            try await tx.query(
                """
                UPDATE sms_ledger SET state = 'unknown', updated = $2,
                    detail = 'still reserved after its sender stopped: may have been sent; not sent again'
                WHERE state = 'reserved' AND created < $1 RETURNING id
                """, [.integer(StoreRules.milliseconds(before)), .integer(Self.now())]
            ).count
        }
    }

    public func smsEntries(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<SMSEntry> {
        let before = try Self.integerCursor(page)
        return try await database.read { tx throws(StoreError) in
            let rows = try await tx.query(
                """
                SELECT id, account, call_id, step, day, sender, recipient, message, state, provider_id, detail, created,
                    updated FROM sms_ledger WHERE account = $1 AND id < $2 ORDER BY id DESC LIMIT $3
                """, [.text(account), .integer(before), Self.limit(page)])
            return try Self.page(rows, page, cursor: { row throws(StoreError) in String(try row.int(0)) }) {
                row throws(StoreError) in
                SMSEntry(
                    id: try row.int(0), account: try row.text(1), callID: try row.text(2), step: try row.intValue(3),
                    day: try row.text(4), from: try row.text(5), to: try row.text(6), message: try row.text(7),
                    state: SMSState(rawValue: try row.text(8)) ?? .unknown, providerID: try row.optionalText(9),
                    detail: try row.optionalText(10), created: StoreRules.date(try row.int(11)),
                    updated: StoreRules.date(try row.int(12)))
            }
        }
    }

    // MARK: - Call records

    public func appendCallRecord(_ record: CallRecord) async throws(StoreError) -> Int64 {
        for (text, what) in [
            (record.caller, "the caller"), (record.did, "the number"), (record.keys, "the keys"),
            (record.outcome, "the outcome"), (record.sequence ?? "", "the sequence"),
        ] {
            try StoreRules.text(text, what, limit: 512)
        }
        guard record.ivrPath.count <= 100, record.smsOutcomes.count <= 100 else {
            throw .invalid("a call record holds at most 100 IVRs and 100 SMS outcomes")
        }
        for text in record.ivrPath + record.smsOutcomes {
            try StoreRules.text(text, "an IVR or SMS outcome", limit: 512)
        }
        return try await database.transaction { tx throws(StoreError) in
            guard
                let row = try await tx.first(
                    """
                    INSERT INTO call_records (time, account, caller, did, ivr_path, keys, sequence, steps_done, steps_total,
                        sms_outcomes, outcome, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                    RETURNING id
                    """,
                    [
                        .integer(StoreRules.milliseconds(record.time)), .text(record.account), .text(record.caller),
                        .text(record.did), .text(StoreRules.jsonStrings(record.ivrPath)), .text(record.keys),
                        .optionalText(record.sequence), .int(record.stepsDone), .int(record.stepsTotal),
                        .text(StoreRules.jsonStrings(record.smsOutcomes)), .text(record.outcome),
                        .int(record.durationMs),
                    ])
            else { throw .unavailable("the call record was not written") }
            return try row.int(0)
        }
    }

    public func callRecords(
        account: AccountID, filter: CallFilter,
        page: PageRequest
    ) async throws(StoreError) -> Page<CallRecord> {
        let before = try Self.integerCursor(page)
        var sql = """
            SELECT id, time, account, caller, did, ivr_path, keys, sequence, steps_done, steps_total, sms_outcomes,
                outcome, duration_ms FROM call_records WHERE account = $1 AND id < $2
            """
        var binds: [SQLValue] = [.text(account), .integer(before)]
        if let did = filter.did {
            binds.append(.text(did))
            sql += " AND did = $\(binds.count)"
        }
        if let from = filter.from {
            binds.append(.integer(StoreRules.milliseconds(from)))
            sql += " AND time >= $\(binds.count)"
        }
        if let until = filter.until {
            binds.append(.integer(StoreRules.milliseconds(until)))
            sql += " AND time < $\(binds.count)"
        }
        binds.append(Self.limit(page))
        sql += " ORDER BY id DESC LIMIT $\(binds.count)"
        return try await database.read { [sql, binds] tx throws(StoreError) in
            let rows = try await tx.query(sql, binds)
            return try Self.page(rows, page, cursor: { row throws(StoreError) in String(try row.int(0)) }) {
                row throws(StoreError) in
                CallRecord(
                    id: try row.int(0), time: StoreRules.date(try row.int(1)), account: try row.text(2),
                    caller: try row.text(3), did: try row.text(4),
                    ivrPath: StoreRules.strings(fromJSON: try row.text(5)), keys: try row.text(6),
                    sequence: try row.optionalText(7), stepsDone: try row.intValue(8),
                    stepsTotal: try row.intValue(9), smsOutcomes: StoreRules.strings(fromJSON: try row.text(10)),
                    outcome: try row.text(11), durationMs: try row.intValue(12))
            }
        }
    }

    public func deleteCallRecords(before: Date) async throws(StoreError) -> Int {
        try await database.transaction { tx throws(StoreError) in
            try await tx.query(
                "DELETE FROM call_records WHERE time < $1 RETURNING id",
                [.integer(StoreRules.milliseconds(before))]
            ).count
        }
    }
}
