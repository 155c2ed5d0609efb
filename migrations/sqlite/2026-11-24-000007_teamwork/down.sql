DROP TABLE training_attendance;
DROP TABLE trainings;
DROP TABLE difficulty_replies;
DROP INDEX difficulties_received_idx;
DROP INDEX difficulties_assigned_idx;
ALTER TABLE difficulties DROP COLUMN closed_by;
ALTER TABLE difficulties DROP COLUMN closed_at;
ALTER TABLE difficulties DROP COLUMN first_answered_at;
