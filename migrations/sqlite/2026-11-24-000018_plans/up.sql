-- The commune's plan for a quarter or a year; every amendment is a new version, none is lost.
CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    period_kind TEXT NOT NULL,
    period_start DATE NOT NULL,
    version INTEGER NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX plans_period_idx ON plans (commune_id, period_kind, period_start);

CREATE TABLE plan_versions (
    plan_id TEXT NOT NULL REFERENCES plans (id),
    version INTEGER NOT NULL,
    number TEXT NOT NULL,
    issued_on DATE NOT NULL,
    signer TEXT NOT NULL,
    purpose TEXT NOT NULL,
    tasks TEXT NOT NULL,
    change_note TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, version)
);
