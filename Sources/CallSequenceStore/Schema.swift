// The store's schema, as numbered migrations per dialect. `schema_version` holds the number applied; opening a
// store applies the missing ones in order, each in its own transaction (PostgreSQL: under an advisory lock, so
// nodes starting together migrate once). Text compares by code point in both (PostgreSQL: COLLATE "C"), so that
// lists, cursors and exports are in the same order whichever the database. A migration is never edited once
// released: changes are new ones.

enum Schema {
    /// The migrations for `dialect`, migration 1 first.
    static func migrations(_ dialect: SQLDialect) -> [String] {
        switch dialect {
        case .sqlite: return [version1(blob: "BLOB", serial: "INTEGER PRIMARY KEY AUTOINCREMENT", text: "TEXT")]
        case .postgres:
            return [
                version1(
                    blob: "BYTEA", serial: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                    text: "TEXT COLLATE \"C\"")
            ]
        }
    }

    static func version1(blob: String, serial: String, text: String) -> String {
        """
        CREATE TABLE change_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
        INSERT INTO change_version (id, version) VALUES (1, 0);

        CREATE TABLE accounts (
            id \(text) PRIMARY KEY,
            name \(text) NOT NULL,
            kind \(text) NOT NULL CHECK (kind IN ('direct', 'reseller', 'client')),
            parent \(text) REFERENCES accounts (id),
            package \(text),
            sequences INTEGER NOT NULL,
            sms INTEGER NOT NULL,
            sms_daily_limit BIGINT NOT NULL,
            revision BIGINT NOT NULL,
            created BIGINT NOT NULL,
            updated BIGINT NOT NULL
        );
        CREATE INDEX accounts_by_parent ON accounts (parent, id);

        CREATE TABLE packages (
            reseller \(text) NOT NULL REFERENCES accounts (id),
            name \(text) NOT NULL,
            sequences INTEGER NOT NULL,
            PRIMARY KEY (reseller, name)
        );

        CREATE TABLE api_keys (
            id \(text) PRIMARY KEY,
            account \(text) REFERENCES accounts (id),
            is_operator INTEGER NOT NULL,
            label \(text) NOT NULL,
            prefix \(text) NOT NULL,
            hash \(text) NOT NULL UNIQUE,
            created BIGINT NOT NULL,
            revoked BIGINT
        );
        CREATE INDEX api_keys_by_account ON api_keys (account, id);

        CREATE TABLE numbers (
            number \(text) PRIMARY KEY,
            account \(text) NOT NULL REFERENCES accounts (id),
            sms INTEGER NOT NULL,
            route_ivr \(text),
            dtmf \(text) NOT NULL,
            answer_after_ms BIGINT NOT NULL,
            revision BIGINT NOT NULL
        );
        CREATE INDEX numbers_by_account ON numbers (account, number);

        CREATE TABLE ivrs (
            id \(text) PRIMARY KEY,
            account \(text) NOT NULL REFERENCES accounts (id),
            name \(text) NOT NULL,
            body \(text) NOT NULL,
            revision BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            UNIQUE (account, name)
        );
        CREATE INDEX ivrs_by_account ON ivrs (account, id);

        CREATE TABLE sequences (
            id \(text) PRIMARY KEY,
            account \(text) NOT NULL REFERENCES accounts (id),
            name \(text) NOT NULL,
            body \(text) NOT NULL,
            revision BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            UNIQUE (account, name)
        );
        CREATE INDEX sequences_by_account ON sequences (account, id);

        CREATE TABLE sequence_revisions (
            sequence \(text) NOT NULL,
            number BIGINT NOT NULL,
            created BIGINT NOT NULL,
            key_id \(text),
            body \(text) NOT NULL,
            PRIMARY KEY (sequence, number)
        );

        CREATE TABLE recordings (
            account \(text) NOT NULL REFERENCES accounts (id),
            name \(text) NOT NULL,
            content_type \(text) NOT NULL,
            original \(blob) NOT NULL,
            converted \(blob) NOT NULL,
            original_bytes BIGINT NOT NULL,
            converted_bytes BIGINT NOT NULL,
            duration_ms BIGINT NOT NULL,
            metadata \(text) NOT NULL,
            revision BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            PRIMARY KEY (account, name)
        );

        CREATE TABLE audit (
            id \(serial),
            time BIGINT NOT NULL,
            account \(text),
            key_id \(text),
            address \(text) NOT NULL,
            action \(text) NOT NULL,
            target \(text) NOT NULL,
            revision BIGINT
        );
        CREATE INDEX audit_by_account ON audit (account, id);

        CREATE TABLE sms_quota (
            account \(text) NOT NULL,
            day \(text) NOT NULL,
            used BIGINT NOT NULL,
            PRIMARY KEY (account, day)
        );

        CREATE TABLE sms_ledger (
            id \(serial),
            account \(text) NOT NULL,
            call_id \(text) NOT NULL,
            step BIGINT NOT NULL,
            day \(text) NOT NULL,
            sender \(text) NOT NULL,
            recipient \(text) NOT NULL,
            message \(text) NOT NULL,
            state \(text) NOT NULL CHECK (state IN ('reserved', 'sent', 'failed', 'unknown')),
            provider_id \(text),
            detail \(text),
            created BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            UNIQUE (call_id, step)
        );
        CREATE INDEX sms_ledger_by_account ON sms_ledger (account, id);
        CREATE INDEX sms_ledger_reserved ON sms_ledger (state, created);

        CREATE TABLE call_records (
            id \(serial),
            time BIGINT NOT NULL,
            account \(text) NOT NULL,
            caller \(text) NOT NULL,
            did \(text) NOT NULL,
            ivr_path \(text) NOT NULL,
            keys \(text) NOT NULL,
            sequence \(text),
            steps_done BIGINT NOT NULL,
            steps_total BIGINT NOT NULL,
            sms_outcomes \(text) NOT NULL,
            outcome \(text) NOT NULL,
            duration_ms BIGINT NOT NULL
        );
        CREATE INDEX call_records_by_account ON call_records (account, id);
        CREATE INDEX call_records_by_did ON call_records (account, did, id);
        CREATE INDEX call_records_by_time ON call_records (time);
        """
    }
}
