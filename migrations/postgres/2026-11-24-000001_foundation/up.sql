CREATE TABLE communes (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    province TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE villages (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (commune_id, code)
);
CREATE INDEX villages_commune_idx ON villages (commune_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL
        CHECK (role IN ('admin', 'city', 'chairman', 'department', 'village_leader', 'volunteer')),
    department TEXT,
    commune_id TEXT REFERENCES communes (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_commune_idx ON users (commune_id);

CREATE TABLE user_villages (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    village_id TEXT NOT NULL REFERENCES villages (id),
    PRIMARY KEY (user_id, village_id)
);
CREATE INDEX user_villages_village_idx ON user_villages (village_id);

-- Append-only: nothing in the application updates or deletes a row.
CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    actor_user_id TEXT,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT,
    object_id TEXT,
    commune_id TEXT,
    client_addr TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id);
