DROP INDEX changes_changed_at_idx;
