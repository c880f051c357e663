// Numbers, IVRs, sequences (with revisions) and recordings, and whole accounts in and out.

import CallSequenceModel
import Foundation
import TelephonyDSP

extension SQLStore {
    // MARK: - Numbers

    static var numberColumns: String { "number, sms, route_ivr, dtmf, answer_after_ms, revision FROM numbers" }

    static func numberRecord(_ row: SQLRow) throws(StoreError) -> NumberRecord {
        NumberRecord(
            number: try row.text(0), sms: try row.bool(1),
            route: try row.optionalText(2).map(NumberRoute.ivr) ?? .hangup,
            dtmf: DTMFMode(rawValue: try row.text(3)) ?? .auto, answerAfterMs: try row.intValue(4),
            revision: try row.intValue(5))
    }

    static func checkNumber(_ n: NumberRecord) throws(StoreError) {
        guard !n.number.isEmpty, n.number.count <= 32,
            n.number.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "+" })
        else {
            throw .invalid("number: '\(InputTextEscaped(n.number))' is not a phone number's digits")
        }
        guard (0...10_000).contains(n.answerAfterMs) else {
            throw .invalid("answerAfterMs \(n.answerAfterMs) is out of range (0...10000)")
        }
        if case .ivr(let name) = n.route { _ = try StoreRules.name(name, "route") }
    }

    func writeNumber(
        _ tx: any SQLTransaction, _ n: NumberRecord, account: AccountID,
        expectedRevision: Int?
    ) async throws(StoreError) -> Int {
        try Self.checkNumber(n)
        var routeIVR: String?
        if case .ivr(let name) = n.route {
            guard
                try await tx.first(
                    "SELECT 1 FROM ivrs WHERE account = $1 AND name = $2", [.text(account), .text(name)]) != nil
            else { throw .invalid("route: the account has no IVR named \"\(InputTextEscaped(name))\"") }
            routeIVR = name
        }
        let existing = try await tx.first("SELECT account, revision FROM numbers WHERE number = $1", [.text(n.number)])
        let revision: Int
        if let existing {
            guard try existing.text(0) == account else {
                throw .duplicate("number \(n.number) belongs to another account")
            }
            let current = try existing.intValue(1)
            guard expectedRevision == current else { throw .conflict(current: current) }
            revision = current + 1
        } else {
            guard expectedRevision == nil else { throw .notFound("number \(n.number)") }
            revision = 1
        }
        try await tx.run(
            """
            INSERT INTO numbers (number, account, sms, route_ivr, dtmf, answer_after_ms, revision)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (number) DO UPDATE SET sms = excluded.sms, route_ivr = excluded.route_ivr, dtmf = excluded.dtmf,
                answer_after_ms = excluded.answer_after_ms, revision = excluded.revision
            """,
            [
                .text(n.number), .text(account), .bool(n.sms), .optionalText(routeIVR), .text(n.dtmf.rawValue),
                .int(n.answerAfterMs), .int(revision),
            ])
        return revision
    }

    public func putNumber(
        _ number: NumberRecord, account: AccountID, expectedRevision: Int?,
        origin: ChangeOrigin
    ) async throws(StoreError) -> NumberRecord {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            _ = try await self.readAccount(tx, account)
            let revision = try await self.writeNumber(tx, number, account: account, expectedRevision: expectedRevision)
            try await self.changed(
                tx, origin, account: account, action: "number.put", target: number.number,
                revision: revision, time: time)
            var stored = number
            stored.revision = revision
            return stored
        }
    }

    public func number(_ number: String, account: AccountID) async throws(StoreError) -> NumberRecord {
        try await database.read { tx throws(StoreError) in
            guard
                let row = try await tx.first(
                    "SELECT \(Self.numberColumns) WHERE number = $1 AND account = $2",
                    [.text(number), .text(account)])
            else { throw .notFound("number \(InputTextEscaped(number))") }
            return try Self.numberRecord(row)
        }
    }

    public func numbers(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<NumberRecord> {
        let after = try Self.textCursor(page) ?? ""
        return try await database.read { tx throws(StoreError) in
            let rows = try await tx.query(
                "SELECT \(Self.numberColumns) WHERE account = $1 AND number > $2 ORDER BY number LIMIT $3",
                [.text(account), .text(after), Self.limit(page)])
            return try Self.page(
                rows, page, cursor: { row throws(StoreError) in try row.text(0) }, item: Self.numberRecord)
        }
    }

    public func deleteNumber(
        _ number: String, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            _ = try await self.checkRevision(
                tx, "SELECT revision FROM numbers WHERE number = $1 AND account = $2",
                [.text(number), .text(account)], expected: expectedRevision,
                what: "number \(InputTextEscaped(number))")
            try await tx.run("DELETE FROM numbers WHERE number = $1 AND account = $2", [.text(number), .text(account)])
            try await self.changed(tx, origin, account: account, action: "number.delete", target: number, time: time)
        }
    }

    public func numberOwner(_ number: String) async throws(StoreError) -> (account: AccountID, number: NumberRecord)? {
        try await database.read { tx throws(StoreError) -> OwnedNumber? in
            guard
                let row = try await tx.first(
                    "SELECT number, sms, route_ivr, dtmf, answer_after_ms, revision, account FROM numbers WHERE number = $1",
                    [.text(number)])
            else { return nil }
            return OwnedNumber(account: try row.text(6), number: try Self.numberRecord(row))
        }.map { ($0.account, $0.number) }
    }

    // MARK: - IVRs and sequences: named JSON documents of an account

    static func document<Record: StoredDocument>(_ row: SQLRow) throws(StoreError) -> Record {
        Record(
            id: try row.text(0), name: try row.text(1), body: try row.text(2), revision: try row.intValue(3),
            updated: StoreRules.date(try row.int(4)))
    }

    func readDocument<Record: StoredDocument>(
        _ tx: any SQLTransaction, _ kind: DocumentTable, _ id: String, account: AccountID
    ) async throws(StoreError) -> Record {
        guard
            let row = try await tx.first(
                "SELECT \(kind.columns) WHERE id = $1 AND account = $2", [.text(id), .text(account)])
        else { throw .notFound("\(kind.noun) \(id)") }
        return try Self.document(row)
    }

    func readIVR(_ tx: any SQLTransaction, _ id: IVRID, account: AccountID) async throws(StoreError) -> IVRRecord {
        try await readDocument(tx, .ivrs, id, account: account)
    }

    func readSequence(
        _ tx: any SQLTransaction, _ id: SequenceID, account: AccountID
    ) async throws(StoreError) -> SequenceRecord {
        try await readDocument(tx, .sequences, id, account: account)
    }

    /// Throws `duplicate` when the account has a document of that kind named `name`.
    func requireFreeName(
        _ tx: any SQLTransaction, _ kind: DocumentTable, _ name: String, account: AccountID
    ) async throws(StoreError) {
        if try await tx.first(
            "SELECT 1 FROM \(kind.table) WHERE account = $1 AND name = $2", [.text(account), .text(name)]) != nil
        {
            throw .duplicate("\(kind.article) named \"\(InputTextEscaped(name))\"")
        }
    }

    /// Inserts `body` as a new document at revision 1 (and a sequence's revision 1); answers its id.
    func insertDocument(
        _ tx: any SQLTransaction, _ kind: DocumentTable, account: AccountID, body: String, origin: ChangeOrigin,
        time: Int64
    ) async throws(StoreError) -> String {
        let (name, json) = try StoreRules.body(body, kind.noun)
        try await requireFreeName(tx, kind, name, account: account)
        let id = StoreRules.newID(kind.idPrefix)
        let canonical = CanonicalJSON.text(json)
        try await tx.run(
            "INSERT INTO \(kind.table) (id, account, name, body, revision, updated) VALUES ($1, $2, $3, $4, 1, $5)",
            [.text(id), .text(account), .text(name), .text(canonical), .integer(time)])
        if kind.keepsRevisions {
            try await tx.run(
                "INSERT INTO sequence_revisions (sequence, number, created, key_id, body) VALUES ($1, 1, $2, $3, $4)",
                [.text(id), .integer(time), .optionalText(origin.keyID), .text(canonical)])
        }
        return id
    }

    func insertIVR(
        _ tx: any SQLTransaction, account: AccountID, body: String, origin: ChangeOrigin, time: Int64
    ) async throws(StoreError) -> IVRID {
        try await insertDocument(tx, .ivrs, account: account, body: body, origin: origin, time: time)
    }

    func insertSequence(
        _ tx: any SQLTransaction, account: AccountID, body: String, origin: ChangeOrigin, time: Int64
    ) async throws(StoreError) -> SequenceID {
        try await insertDocument(tx, .sequences, account: account, body: body, origin: origin, time: time)
    }

    func createDocument<Record: StoredDocument>(
        _ kind: DocumentTable, account: AccountID, body: String, origin: ChangeOrigin
    ) async throws(StoreError) -> Record {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            _ = try await self.readAccount(tx, account)
            let id = try await self.insertDocument(tx, kind, account: account, body: body, origin: origin, time: time)
            try await self.changed(
                tx, origin, account: account, action: "\(kind.kind).create", target: id, revision: 1, time: time)
            return try await self.readDocument(tx, kind, id, account: account)
        }
    }

    func documents<Record: StoredDocument>(
        _ kind: DocumentTable, account: AccountID, page: PageRequest
    ) async throws(StoreError) -> Page<Record> {
        let after = try Self.textCursor(page) ?? ""
        return try await database.read { tx throws(StoreError) in
            let rows = try await tx.query(
                "SELECT \(kind.columns) WHERE account = $1 AND id > $2 ORDER BY id LIMIT $3",
                [.text(account), .text(after), Self.limit(page)])
            return try Self.page(
                rows, page, cursor: { row throws(StoreError) in try row.text(0) },
                item: { row throws(StoreError) -> Record in try Self.document(row) })
        }
    }

    /// Saves `body` over `current` as its next revision (the caller checked the expected revision): the name
    /// stays unique, a sequence keeps the revision, and a rename follows to what names it (IVR options; a
    /// renamed IVR's numbers).
    func saveDocument<Record: StoredDocument>(
        _ tx: any SQLTransaction, _ kind: DocumentTable, _ current: Record, account: AccountID, body: String,
        action: String, origin: ChangeOrigin, time: Int64
    ) async throws(StoreError) -> Record {
        let (name, json) = try StoreRules.body(body, kind.noun)
        if name != current.name { try await requireFreeName(tx, kind, name, account: account) }
        let canonical = CanonicalJSON.text(json)
        let revision = current.revision + 1
        try await tx.run(
            "UPDATE \(kind.table) SET name = $2, body = $3, revision = $4, updated = $5 WHERE id = $1",
            [.text(current.id), .text(name), .text(canonical), .int(revision), .integer(time)])
        if kind.keepsRevisions {
            try await tx.run(
                "INSERT INTO sequence_revisions (sequence, number, created, key_id, body) VALUES ($1, $2, $3, $4, $5)",
                [.text(current.id), .int(revision), .integer(time), .optionalText(origin.keyID), .text(canonical)])
        }
        try await changed(
            tx, origin, account: account, action: action, target: current.id, revision: revision, time: time)
        if name != current.name {
            if kind.numbersRouteHere {
                let renamed = try await tx.query(
                    """
                    UPDATE numbers SET route_ivr = $3, revision = revision + 1 WHERE account = $1 AND route_ivr = $2
                    RETURNING number, revision
                    """,
                    [.text(account), .text(current.name), .text(name)])
                for row in renamed {
                    try await changed(
                        tx, origin, account: account, action: "number.put", target: try row.text(0),
                        revision: try row.intValue(1), time: time)
                }
            }
            try await renameOptionTargets(
                tx, account: account, kind: kind.kind, from: current.name, to: name, origin: origin, time: time)
        }
        return try await readDocument(tx, kind, current.id, account: account)
    }

    func updateDocument<Record: StoredDocument>(
        _ kind: DocumentTable, _ id: String, account: AccountID, body: String, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> Record {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let current: Record = try await self.readDocument(tx, kind, id, account: account)
            guard current.revision == expectedRevision else { throw .conflict(current: current.revision) }
            return try await self.saveDocument(
                tx, kind, current, account: account, body: body, action: "\(kind.kind).update", origin: origin,
                time: time)
        }
    }

    /// Deletes a document nothing uses (`inUse` names the users: numbers routed to an IVR, IVR options).
    func deleteDocument<Record: StoredDocument>(
        _ kind: DocumentTable, _ id: String, account: AccountID, expectedRevision: Int, origin: ChangeOrigin,
        as _: Record.Type
    ) async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let current: Record = try await self.readDocument(tx, kind, id, account: account)
            guard current.revision == expectedRevision else { throw .conflict(current: current.revision) }
            var users: [String] = []
            if kind.numbersRouteHere {
                for row in try await tx.query(
                    "SELECT number FROM numbers WHERE account = $1 AND route_ivr = $2 ORDER BY number",
                    [.text(account), .text(current.name)])
                {
                    users.append("number \(try row.text(0))")
                }
            }
            for row in try await tx.query(
                "SELECT id, name, body FROM ivrs WHERE account = $1 AND id <> $2 ORDER BY name",
                [.text(account), .text(id)])
            {
                guard let json = try? JSONValue.parse(try row.text(2)) else { continue }
                if StoreRules.optionTargets(json, kind: kind.kind).contains(current.name) {
                    users.append("IVR \"\(InputTextEscaped(try row.text(1)))\"")
                }
            }
            guard users.isEmpty else { throw .inUse(users: users) }
            if kind.keepsRevisions {
                try await tx.run("DELETE FROM sequence_revisions WHERE sequence = $1", [.text(id)])
            }
            try await tx.run("DELETE FROM \(kind.table) WHERE id = $1", [.text(id)])
            try await self.changed(tx, origin, account: account, action: "\(kind.kind).delete", target: id, time: time)
        }
    }

    /// Rewrites the account's IVR options going to `old` (a `sequence` or an `ivr`) to go to `new`.
    func renameOptionTargets(
        _ tx: any SQLTransaction, account: AccountID, kind: String, from old: String, to new: String,
        origin: ChangeOrigin, time: Int64
    ) async throws(StoreError) {
        let rows = try await tx.query("SELECT id, body FROM ivrs WHERE account = $1", [.text(account)])
        for row in rows {
            let id = try row.text(0)
            guard let json = try? JSONValue.parse(try row.text(1)),
                let renamed = StoreRules.renamingOptionTargets(json, kind: kind, from: old, to: new)
            else { continue }
            let revision = try await tx.first(
                "UPDATE ivrs SET body = $2, revision = revision + 1, updated = $3 WHERE id = $1 RETURNING revision",
                [.text(id), .text(CanonicalJSON.text(renamed)), .integer(time)])?.intValue(0)
            try await self.changed(
                tx, origin, account: account, action: "ivr.update", target: id, revision: revision,
                time: time)
        }
    }

    public func createIVR(account: AccountID, body: String, origin: ChangeOrigin) async throws(StoreError) -> IVRRecord
    {
        try await createDocument(.ivrs, account: account, body: body, origin: origin)
    }

    public func ivr(_ id: IVRID, account: AccountID) async throws(StoreError) -> IVRRecord {
        try await database.read { tx throws(StoreError) in try await self.readIVR(tx, id, account: account) }
    }

    public func ivrs(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<IVRRecord> {
        try await documents(.ivrs, account: account, page: page)
    }

    public func updateIVR(
        _ id: IVRID, account: AccountID, body: String, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> IVRRecord {
        try await updateDocument(
            .ivrs, id, account: account, body: body, expectedRevision: expectedRevision, origin: origin)
    }

    public func deleteIVR(
        _ id: IVRID, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) {
        try await deleteDocument(
            .ivrs, id, account: account, expectedRevision: expectedRevision, origin: origin, as: IVRRecord.self)
    }

    public func createSequence(
        account: AccountID, body: String,
        origin: ChangeOrigin
    ) async throws(StoreError) -> SequenceRecord {
        try await createDocument(.sequences, account: account, body: body, origin: origin)
    }

    public func sequence(_ id: SequenceID, account: AccountID) async throws(StoreError) -> SequenceRecord {
        try await database.read { tx throws(StoreError) in try await self.readSequence(tx, id, account: account) }
    }

    public func sequences(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<SequenceRecord> {
        try await documents(.sequences, account: account, page: page)
    }

    public func updateSequence(
        _ id: SequenceID, account: AccountID, body: String, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> SequenceRecord {
        try await updateDocument(
            .sequences, id, account: account, body: body, expectedRevision: expectedRevision, origin: origin)
    }

    public func deleteSequence(
        _ id: SequenceID, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) {
        try await deleteDocument(
            .sequences, id, account: account, expectedRevision: expectedRevision, origin: origin,
            as: SequenceRecord.self)
    }

    static func revisionRecord(_ row: SQLRow) throws(StoreError) -> SequenceRevision {
        SequenceRevision(
            sequence: try row.text(0), number: try row.intValue(1), created: StoreRules.date(try row.int(2)),
            keyID: try row.optionalText(3), body: try row.text(4))
    }

    public func revisions(
        of id: SequenceID, account: AccountID,
        page: PageRequest
    ) async throws(StoreError) -> Page<SequenceRevision> {
        let before = try Self.integerCursor(page)
        return try await database.read { tx throws(StoreError) in
            _ = try await self.readSequence(tx, id, account: account)
            let rows = try await tx.query(
                """
                SELECT sequence, number, created, key_id, body FROM sequence_revisions
                WHERE sequence = $1 AND number < $2 ORDER BY number DESC LIMIT $3
                """, [.text(id), .integer(before), Self.limit(page)])
            return try Self.page(
                rows, page, cursor: { row throws(StoreError) in String(try row.int(1)) },
                item: Self.revisionRecord)
        }
    }

    func readRevision(
        _ tx: any SQLTransaction, _ number: Int, of id: SequenceID,
        account: AccountID
    ) async throws(StoreError) -> SequenceRevision {
        _ = try await readSequence(tx, id, account: account)
        guard
            let row = try await tx.first(
                "SELECT sequence, number, created, key_id, body FROM sequence_revisions WHERE sequence = $1 AND number = $2",
                [.text(id), .int(number)])
        else { throw .notFound("revision \(number) of sequence \(id)") }
        return try Self.revisionRecord(row)
    }

    public func revision(
        _ number: Int, of id: SequenceID,
        account: AccountID
    ) async throws(StoreError) -> SequenceRevision {
        try await database.read { tx throws(StoreError) in
            try await self.readRevision(tx, number, of: id, account: account)
        }
    }

    public func restoreRevision(
        _ number: Int, of id: SequenceID, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> SequenceRecord {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let current = try await self.readSequence(tx, id, account: account)
            guard current.revision == expectedRevision else { throw .conflict(current: current.revision) }
            let old = try await self.readRevision(tx, number, of: id, account: account)
            return try await self.saveDocument(
                tx, .sequences, current, account: account, body: old.body, action: "sequence.restore",
                origin: origin, time: time)
        }
    }

    // MARK: - Recordings

    static var recordingColumns: String {
        "name, content_type, original_bytes, converted_bytes, duration_ms, metadata, revision, updated FROM recordings"
    }

    static func recordingInfo(_ row: SQLRow) throws(StoreError) -> RecordingInfo {
        RecordingInfo(
            name: try row.text(0), contentType: try row.text(1), originalBytes: try row.intValue(2),
            convertedBytes: try row.intValue(3), durationMs: try row.intValue(4), metadata: try row.text(5),
            revision: try row.intValue(6), updated: StoreRules.date(try row.int(7)))
    }

    func writeRecording(
        _ tx: any SQLTransaction, _ upload: RecordingUpload, account: AccountID, expectedRevision: Int?,
        time: Int64
    ) async throws(StoreError) -> Int {
        _ = try StoreRules.recordingName(upload.name)
        for (bytes, what) in [(upload.original, "original"), (upload.converted, "converted")]
        where bytes.count > StoreLimits.maximumRecordingBytes {
            throw .invalid(
                "recording: the \(what) audio has \(bytes.count) bytes; at most \(StoreLimits.maximumRecordingBytes)")
        }
        try StoreRules.text(upload.contentType, "the content type", limit: 100)
        guard upload.durationMs >= 0 else { throw .invalid("recording: negative duration") }
        let metadata = try StoreRules.metadata(upload.metadata)
        let existing = try await tx.first(
            "SELECT revision FROM recordings WHERE account = $1 AND name = $2",
            [.text(account), .text(upload.name)])
        let revision: Int
        if let existing {
            let current = try existing.intValue(0)
            guard expectedRevision == current else { throw .conflict(current: current) }
            revision = current + 1
        } else {
            guard expectedRevision == nil else { throw .notFound("recording \"\(InputTextEscaped(upload.name))\"") }
            revision = 1
        }
        try await tx.run(
            """
            INSERT INTO recordings (account, name, content_type, original, converted, original_bytes, converted_bytes,
                duration_ms, metadata, revision, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (account, name) DO UPDATE SET content_type = excluded.content_type, original = excluded.original,
                converted = excluded.converted, original_bytes = excluded.original_bytes,
                converted_bytes = excluded.converted_bytes, duration_ms = excluded.duration_ms,
                metadata = excluded.metadata, revision = excluded.revision, updated = excluded.updated
            """,
            [
                .text(account), .text(upload.name), .text(upload.contentType), .blob(upload.original),
                .blob(upload.converted), .int(upload.original.count), .int(upload.converted.count),
                .int(upload.durationMs), .text(metadata), .int(revision), .integer(time),
            ])
        return revision
    }

    public func putRecording(
        _ upload: RecordingUpload, account: AccountID, expectedRevision: Int?,
        origin: ChangeOrigin
    ) async throws(StoreError) -> RecordingInfo {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            _ = try await self.readAccount(tx, account)
            let revision = try await self.writeRecording(
                tx, upload, account: account, expectedRevision: expectedRevision,
                time: time)
            try await self.changed(
                tx, origin, account: account, action: "recording.put", target: upload.name,
                revision: revision, time: time)
            return try await self.readRecording(tx, upload.name, account: account)
        }
    }

    func readRecording(
        _ tx: any SQLTransaction, _ name: String, account: AccountID
    ) async throws(StoreError) -> RecordingInfo {
        guard
            let row = try await tx.first(
                "SELECT \(Self.recordingColumns) WHERE account = $1 AND name = $2",
                [.text(account), .text(name)])
        else { throw .notFound("recording \"\(InputTextEscaped(name))\"") }
        return try Self.recordingInfo(row)
    }

    public func recording(_ name: String, account: AccountID) async throws(StoreError) -> RecordingInfo {
        try await database.read { tx throws(StoreError) in try await self.readRecording(tx, name, account: account) }
    }

    public func recordings(account: AccountID, page: PageRequest) async throws(StoreError) -> Page<RecordingInfo> {
        let after = try Self.textCursor(page) ?? ""
        return try await database.read { tx throws(StoreError) in
            let rows = try await tx.query(
                "SELECT \(Self.recordingColumns) WHERE account = $1 AND name > $2 ORDER BY name LIMIT $3",
                [.text(account), .text(after), Self.limit(page)])
            return try Self.page(
                rows, page, cursor: { row throws(StoreError) in try row.text(0) }, item: Self.recordingInfo)
        }
    }

    public func recordingAudio(
        _ name: String, account: AccountID,
        variant: RecordingVariant
    ) async throws(StoreError) -> [UInt8] {
        let column = variant == .original ? "original" : "converted"
        return try await database.read { tx throws(StoreError) in
            guard
                let row = try await tx.first(
                    "SELECT \(column) FROM recordings WHERE account = $1 AND name = $2",
                    [.text(account), .text(name)])
            else { throw .notFound("recording \"\(InputTextEscaped(name))\"") }
            return try row.blob(0)
        }
    }

    public func deleteRecording(
        _ name: String, account: AccountID, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            _ = try await self.checkRevision(
                tx, "SELECT revision FROM recordings WHERE account = $1 AND name = $2",
                [.text(account), .text(name)], expected: expectedRevision,
                what: "recording \"\(InputTextEscaped(name))\"")
            var users: [String] = []
            for row in try await tx.query(
                "SELECT name, body FROM sequences WHERE account = $1 ORDER BY name", [.text(account)])
            {
                guard let json = try? JSONValue.parse(try row.text(1)) else { continue }
                if StoreRules.recordings(inSequence: json).contains(name) {
                    users.append("sequence \"\(InputTextEscaped(try row.text(0)))\"")
                }
            }
            for row in try await tx.query(
                "SELECT name, body FROM ivrs WHERE account = $1 ORDER BY name", [.text(account)])
            {
                guard let json = try? JSONValue.parse(try row.text(1)) else { continue }
                if StoreRules.prompt(ofIVR: json) == name {
                    users.append("IVR \"\(InputTextEscaped(try row.text(0)))\"")
                }
            }
            guard users.isEmpty else { throw .inUse(users: users) }
            try await tx.run("DELETE FROM recordings WHERE account = $1 AND name = $2", [.text(account), .text(name)])
            try await self.changed(tx, origin, account: account, action: "recording.delete", target: name, time: time)
        }
    }

    // MARK: - Whole accounts

    /// Writes a snapshot's contents into an account that has none.
    func writeContents(
        _ tx: any SQLTransaction, _ snapshot: AccountSnapshot, account: AccountID,
        origin: ChangeOrigin, time: Int64
    ) async throws(StoreError) {
        for recording in snapshot.recordings {
            _ = try await writeRecording(tx, recording, account: account, expectedRevision: nil, time: time)
        }
        for body in snapshot.ivrs {
            _ = try await insertIVR(tx, account: account, body: body, origin: origin, time: time)
        }
        for number in snapshot.numbers {
            _ = try await writeNumber(tx, number, account: account, expectedRevision: nil)
        }
        for body in snapshot.sequences {
            _ = try await insertSequence(tx, account: account, body: body, origin: origin, time: time)
        }
    }

    public func importAccount(
        _ snapshot: AccountSnapshot, as account: NewAccount,
        origin: ChangeOrigin
    ) async throws(StoreError) -> AccountRecord {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            var new = account
            new.capabilities = snapshot.capabilities
            let id = try await self.insertAccount(tx, new, time: time)
            try await self.writeContents(tx, snapshot, account: id, origin: origin, time: time)
            try await self.changed(
                tx, origin, account: id, action: "account.import", target: id, revision: 1, time: time)
            return try await self.readAccount(tx, id)
        }
    }

    public func replaceAccountContents(
        _ id: AccountID, with snapshot: AccountSnapshot, expectedRevision: Int,
        origin: ChangeOrigin
    ) async throws(StoreError) -> AccountRecord {
        try await database.transaction { tx throws(StoreError) in
            let time = Self.now()
            let current = try await self.readAccount(tx, id)
            guard current.revision == expectedRevision else { throw .conflict(current: current.revision) }
            // Sequences that keep their name keep their id and history.
            var kept: [String: SequenceRecord] = [:]
            for row in try await tx.query("SELECT \(DocumentTable.sequences.columns) WHERE account = $1", [.text(id)]) {
                let record: SequenceRecord = try Self.document(row)
                kept[record.name] = record
            }
            var sequences: [(existing: SequenceRecord?, body: String)] = []
            var names = Set<String>()
            for body in snapshot.sequences {
                let (name, _) = try StoreRules.body(body, "sequence")
                guard names.insert(name).inserted else {
                    throw .duplicate("a sequence named \"\(InputTextEscaped(name))\"")
                }
                sequences.append((kept[name], body))
            }
            for (name, record) in kept where !names.contains(name) {
                try await tx.run("DELETE FROM sequence_revisions WHERE sequence = $1", [.text(record.id)])
                try await tx.run("DELETE FROM sequences WHERE id = $1", [.text(record.id)])
            }
            for table in ["numbers", "ivrs", "recordings"] {
                try await tx.run("DELETE FROM \(table) WHERE account = $1", [.text(id)])
            }
            var rest = snapshot
            rest.sequences = []
            try await self.writeContents(tx, rest, account: id, origin: origin, time: time)
            for (existing, body) in sequences {
                if let existing {
                    let (_, json) = try StoreRules.body(body, "sequence")
                    if CanonicalJSON.text(json) != existing.body {
                        // A rename is impossible here (same name), so IVR options stay as imported.
                        _ = try await self.saveDocument(
                            tx, .sequences, existing, account: id, body: body, action: "sequence.update",
                            origin: origin, time: time)
                    }
                } else {
                    _ = try await self.insertSequence(tx, account: id, body: body, origin: origin, time: time)
                }
            }
            let capabilities = current.kind.parent == nil ? snapshot.capabilities : current.capabilities
            try Self.checkCapabilities(capabilities)
            try await tx.run(
                """
                UPDATE accounts SET sequences = $2, sms = $3, sms_daily_limit = $4, revision = revision + 1, updated = $5
                WHERE id = $1
                """,
                [
                    .text(id), .bool(capabilities.sequences), .bool(current.kind.parent == nil && capabilities.sms),
                    .int(capabilities.smsDailyLimit), .integer(time),
                ])
            try await self.changed(
                tx, origin, account: id, action: "account.import", target: id,
                revision: expectedRevision + 1, time: time)
            return try await self.readAccount(tx, id)
        }
    }

    public func snapshot(of id: AccountID, withAudio: Bool) async throws(StoreError) -> AccountSnapshot {
        try await database.read { tx throws(StoreError) in
            let account = try await self.readAccount(tx, id)
            var numbers: [NumberRecord] = []
            for row in try await tx.query(
                "SELECT \(Self.numberColumns) WHERE account = $1 ORDER BY number", [.text(id)])
            {
                numbers.append(try Self.numberRecord(row))
            }
            var ivrs: [String] = []
            for row in try await tx.query("SELECT body FROM ivrs WHERE account = $1 ORDER BY name", [.text(id)]) {
                ivrs.append(try row.text(0))
            }
            var sequences: [String] = []
            for row in try await tx.query("SELECT body FROM sequences WHERE account = $1 ORDER BY name", [.text(id)]) {
                sequences.append(try row.text(0))
            }
            var recordings: [RecordingUpload] = []
            let audio = withAudio ? "original, converted" : "NULL, NULL"
            for row in try await tx.query(
                "SELECT name, content_type, duration_ms, metadata, \(audio) FROM recordings WHERE account = $1 ORDER BY name",
                [.text(id)])
            {
                recordings.append(
                    RecordingUpload(
                        name: try row.text(0), contentType: try row.text(1), original: try row.blob(4),
                        converted: try row.blob(5), durationMs: try row.intValue(2), metadata: try row.text(3)))
            }
            return AccountSnapshot(
                capabilities: account.capabilities, numbers: numbers, ivrs: ivrs,
                sequences: sequences, recordings: recordings)
        }
    }
}

/// A number and its account (a Sendable pair for a transaction's answer).
struct OwnedNumber: Sendable {
    var account: AccountID
    var number: NumberRecord
}

/// Untrusted text made safe to quote in a message.
func InputTextEscaped(_ text: String) -> String { InputText.escaped(text) }

/// What differs between the two tables of named documents: IVRs and sequences (whose every save is also
/// kept as an immutable revision).
struct DocumentTable: Sendable {
    /// The table (`ivrs`, `sequences`).
    let table: String
    /// The noun in problems (`IVR`, `sequence`) with its article (`an IVR`).
    let noun: String
    let article: String
    /// The id's prefix (`ivr_`, `seq_`).
    let idPrefix: String
    /// The audit log's action prefix and the IVR option kind that names one (`ivr`, `sequence`).
    let kind: String
    /// Every save is also a row of `sequence_revisions`.
    let keepsRevisions: Bool
    /// Numbers route to it by name (`numbers.route_ivr`): a rename follows there, a delete names them.
    let numbersRouteHere: Bool

    static let ivrs = DocumentTable(
        table: "ivrs", noun: "IVR", article: "an IVR", idPrefix: "ivr_", kind: "ivr", keepsRevisions: false,
        numbersRouteHere: true)
    static let sequences = DocumentTable(
        table: "sequences", noun: "sequence", article: "a sequence", idPrefix: "seq_", kind: "sequence",
        keepsRevisions: true, numbersRouteHere: false)

    var columns: String { "id, name, body, revision, updated FROM \(table)" }
}
