-- The quarterly and annual report of the commune's CDT teams. The culture-social office prepares a
-- draft (recomputed from the data each time it is prepared again); the chairman approves it, and an
-- approved report is frozen: `content` is the snapshot that later data can no longer change.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    period_kind TEXT NOT NULL CHECK (period_kind IN ('quarter', 'year')),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    content TEXT NOT NULL,
    prepared_by TEXT NOT NULL REFERENCES users (id),
    prepared_at TIMESTAMP NOT NULL,
    approved_by TEXT REFERENCES users (id),
    approved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (commune_id, period_kind, period_start)
);
