DROP INDEX assistance_records_commune_idx;
DROP INDEX adoptions_service_subject_idx;
DROP TABLE indicators;
