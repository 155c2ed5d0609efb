DROP TABLE funding_entries;
DROP TABLE targets;
