DROP TABLE plan_versions;
DROP TABLE plans;
