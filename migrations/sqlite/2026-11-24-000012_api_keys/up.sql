-- API keys for third-party systems (DESIGN §1, §4): read-only, with scopes and an optional commune,
-- stored as a SHA-256 of the key (the key itself is shown once), revocable, rate-limited per key by a
-- counter of the current minute kept on the row, so every server instance shares it.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- The key's first characters, to recognise it in lists.
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    -- Space-separated: stats:read, exports:read, materials:read.
    scopes TEXT NOT NULL,
    commune_id TEXT REFERENCES communes (id),
    rate_per_minute INTEGER NOT NULL,
    window_start TIMESTAMP,
    window_count INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id)
);
