-- The analysts' change feed starts from a time (updated_since): find the first change at or after it.
CREATE INDEX changes_changed_at_idx ON changes (changed_at);
