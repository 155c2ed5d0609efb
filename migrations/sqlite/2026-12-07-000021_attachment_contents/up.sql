-- The bytes of each attachment live in the database, beside its row, so every server instance
-- serves the same files and a database backup holds them. Files written by earlier versions under
-- data_dir/attachments/ are copied in at start (startup.rs); nothing here reads the disk.
CREATE TABLE attachment_contents (
    attachment_id TEXT PRIMARY KEY NOT NULL REFERENCES attachments (id),
    content BLOB NOT NULL
);
