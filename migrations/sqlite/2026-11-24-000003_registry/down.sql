DROP TABLE changes;
DROP TABLE adoptions;
DROP TABLE residents;
DROP TABLE households;
DROP TABLE services;
DROP TABLE team_members;
DROP TABLE teams;
