-- The chairman can return a draft report to the culture-social office with a note. A report is
-- "returned" while returned_at is later than prepared_at; preparing it again makes it a draft that
-- still shows the last note. (returned_by has no foreign key so the down migration can drop it.)
ALTER TABLE reports ADD COLUMN returned_by TEXT;
ALTER TABLE reports ADD COLUMN returned_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN return_note TEXT;
