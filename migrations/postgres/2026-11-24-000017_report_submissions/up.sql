-- An approved report sent by the commune to the city, and the city's acknowledgement.
CREATE TABLE report_submissions (
    report_id TEXT PRIMARY KEY NOT NULL REFERENCES reports (id),
    commune_id TEXT NOT NULL REFERENCES communes (id),
    submitted_by TEXT NOT NULL REFERENCES users (id),
    submitted_at TIMESTAMP NOT NULL,
    acknowledged_by TEXT REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    acknowledgement TEXT
);
CREATE INDEX report_submissions_commune_idx ON report_submissions (commune_id, submitted_at);
