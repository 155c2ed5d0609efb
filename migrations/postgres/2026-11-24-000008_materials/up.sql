-- Guides (tài liệu) a department publishes for its services. Every edit is a new version; phones get
-- the published version through sync and read it offline. `commune_id` NULL: a guide for every
-- commune (written by an administrator).
CREATE TABLE materials (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT REFERENCES communes (id),
    department TEXT NOT NULL,
    -- `draft` (never published), `published`, or `withdrawn`.
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn')),
    latest_version INTEGER NOT NULL,
    published_version INTEGER,
    published_at TIMESTAMP,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX materials_commune_idx ON materials (commune_id, status);

CREATE TABLE material_versions (
    material_id TEXT NOT NULL REFERENCES materials (id),
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- Markdown.
    body TEXT NOT NULL,
    -- JSON arrays: the services it explains, and the attachments it shows.
    service_codes TEXT NOT NULL,
    attachment_ids TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (material_id, version)
);

-- Files of a guide (images, PDF), stored under the data directory; the type is checked by content.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    material_id TEXT NOT NULL REFERENCES materials (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_material_idx ON attachments (material_id);

-- The guides a training used.
CREATE TABLE training_materials (
    training_id TEXT NOT NULL REFERENCES trainings (id),
    material_id TEXT NOT NULL REFERENCES materials (id),
    PRIMARY KEY (training_id, material_id)
);
