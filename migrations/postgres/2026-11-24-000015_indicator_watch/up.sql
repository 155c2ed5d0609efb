-- Whether each commune was at an indicator's target when last checked: the webhook event
-- indicator.threshold_crossed fires when that changes.
CREATE TABLE indicator_watch (
    commune_id TEXT NOT NULL REFERENCES communes (id),
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    reached BOOLEAN NOT NULL,
    percent DOUBLE PRECISION NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (commune_id, indicator_id)
);
