-- The difficulty inbox: a thread of replies, who answered first (the response time), who closed it.
ALTER TABLE difficulties ADD COLUMN first_answered_at TIMESTAMP;
ALTER TABLE difficulties ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE difficulties ADD COLUMN closed_by TEXT;
CREATE INDEX difficulties_assigned_idx ON difficulties (commune_id, assigned_department, status);
CREATE INDEX difficulties_received_idx ON difficulties (commune_id, received_at);

CREATE TABLE difficulty_replies (
    id TEXT PRIMARY KEY NOT NULL,
    difficulty_id TEXT NOT NULL REFERENCES difficulties (id),
    commune_id TEXT NOT NULL REFERENCES communes (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    -- `office` (the culture-social office, a department, the chairman) or `team` (the village team).
    side TEXT NOT NULL CHECK (side IN ('office', 'team')),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX difficulty_replies_thread_idx ON difficulty_replies (difficulty_id, created_at);

-- Trainings run by a department (or the chairman's office) for the teams, and who attended.
CREATE TABLE trainings (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    organiser TEXT NOT NULL,
    topic TEXT NOT NULL,
    held_on DATE NOT NULL,
    place TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('in_person', 'online', 'mixed')),
    -- JSON array of the service codes it covered.
    service_codes TEXT NOT NULL,
    notes TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    cancelled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX trainings_commune_idx ON trainings (commune_id, held_on);

CREATE TABLE training_attendance (
    training_id TEXT NOT NULL REFERENCES trainings (id),
    member_id TEXT NOT NULL REFERENCES team_members (id),
    attended BOOLEAN NOT NULL,
    note TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (training_id, member_id)
);
CREATE INDEX training_attendance_member_idx ON training_attendance (member_id);
