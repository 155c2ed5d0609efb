-- The change log's order for readers: on SQLite writers are serialised, so seq is commit order and tx
-- stays 0.
ALTER TABLE changes ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN user_id TEXT;
CREATE INDEX changes_tx_idx ON changes (tx, seq);

-- Every device that pushed or pulled, per user: who has not synced, and what failed.
CREATE TABLE devices (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    commune_id TEXT,
    first_seen_at TIMESTAMP NOT NULL,
    last_push_at TIMESTAMP,
    last_pull_at TIMESTAMP,
    records_applied BIGINT NOT NULL DEFAULT 0,
    records_rejected BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (id, user_id)
);

-- One row per applied client record id, forever: a replay is recognised however late it comes.
CREATE TABLE sync_receipts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

-- Field records: append-only; a correction is a new record that supersedes the old one.
CREATE TABLE assistance_records (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT NOT NULL REFERENCES villages (id),
    household_id TEXT NOT NULL REFERENCES households (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    channel TEXT NOT NULL
        CHECK (channel IN ('house_visit', 'community_meeting', 'commune_office', 'phone_online')),
    notes TEXT,
    follow_up_on DATE,
    supersedes TEXT,
    superseded_by TEXT,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX assistance_records_household_idx ON assistance_records (household_id, occurred_at);
CREATE INDEX assistance_records_village_idx ON assistance_records (village_id, occurred_at);
CREATE INDEX assistance_records_author_idx ON assistance_records (author_id, occurred_at);

CREATE TABLE assistance_items (
    record_id TEXT NOT NULL REFERENCES assistance_records (id),
    position INTEGER NOT NULL,
    service_code TEXT NOT NULL REFERENCES services (code),
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'assisted', 'declined', 'needs_follow_up')),
    note TEXT,
    PRIMARY KEY (record_id, position)
);
CREATE INDEX assistance_items_service_idx ON assistance_items (service_code, outcome);

CREATE TABLE assistance_residents (
    record_id TEXT NOT NULL REFERENCES assistance_records (id),
    resident_id TEXT NOT NULL REFERENCES residents (id),
    PRIMARY KEY (record_id, resident_id)
);
CREATE INDEX assistance_residents_resident_idx ON assistance_residents (resident_id);

CREATE TABLE communications (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT REFERENCES villages (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    channel TEXT NOT NULL,
    topics TEXT NOT NULL,
    reach INTEGER NOT NULL,
    title TEXT,
    link TEXT,
    notes TEXT,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX communications_commune_idx ON communications (commune_id, occurred_at);

CREATE TABLE difficulties (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT REFERENCES villages (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL,
    raised_at TIMESTAMP NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    service_codes TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    assigned_department TEXT,
    received_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX difficulties_commune_idx ON difficulties (commune_id, status);

-- A stale offline edit never overwrites: it waits here for a village leader.
CREATE TABLE sync_conflicts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    commune_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    base_version BIGINT NOT NULL,
    server_version BIGINT NOT NULL,
    client_data TEXT NOT NULL,
    server_data TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution TEXT,
    resolved_by TEXT,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE INDEX sync_conflicts_village_idx ON sync_conflicts (village_id, status);

-- The seeded catalogue reaches phones through the change log like any later edit of it.
INSERT INTO changes (kind, object_id, commune_id, village_id, op, changed_at)
SELECT 'service', id, NULL, NULL, 'upsert', updated_at FROM services;
