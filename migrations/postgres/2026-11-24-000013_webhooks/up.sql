-- Signed webhooks for integrations. Deliveries are an outbox written in the same transaction as the
-- change they announce; a worker on any server instance claims due ones with a lease, posts them,
-- retries with exponential backoff and moves them to `dead` after the last try; an administrator
-- can replay a dead (or delivered) one.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    -- The HMAC key deliveries are signed with (shown once at creation; needed to sign, so kept).
    secret TEXT NOT NULL,
    -- Space-separated event names.
    events TEXT NOT NULL,
    -- Only events of this commune; NULL: every commune.
    commune_id TEXT REFERENCES communes (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at);
