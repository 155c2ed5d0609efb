ALTER TABLE reports DROP COLUMN return_note;
ALTER TABLE reports DROP COLUMN returned_at;
ALTER TABLE reports DROP COLUMN returned_by;
