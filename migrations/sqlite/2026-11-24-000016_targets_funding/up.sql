-- Targets per indicator and period for a commune (village_id NULL) or one of its villages.
CREATE TABLE targets (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT REFERENCES villages (id),
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    period_kind TEXT NOT NULL,
    period_start DATE NOT NULL,
    target_percent DOUBLE PRECISION NOT NULL,
    set_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX targets_key_idx
    ON targets (commune_id, COALESCE(village_id, ''), indicator_id, period_kind, period_start);

-- Money received (sponsorships, state budget) and spent, in whole đồng. Entries are never edited:
-- a mistake is voided (kept, not counted) and entered again.
CREATE TABLE funding_entries (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    direction TEXT NOT NULL,
    source TEXT NOT NULL,
    category TEXT NOT NULL,
    party TEXT NOT NULL,
    description TEXT,
    amount_vnd BIGINT NOT NULL,
    occurred_on DATE NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    voided_by TEXT REFERENCES users (id),
    void_reason TEXT
);
CREATE INDEX funding_entries_commune_idx ON funding_entries (commune_id, occurred_on);
