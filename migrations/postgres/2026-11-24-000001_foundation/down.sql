DROP TABLE audit_events;
DROP TABLE user_villages;
DROP TABLE users;
DROP TABLE villages;
DROP TABLE communes;
