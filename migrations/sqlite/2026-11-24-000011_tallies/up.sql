-- Tallies: the counts the dashboards read, kept current by triggers in the same transaction as every
-- write (sync, online forms, imports, corrections, direct SQL), so a dashboard reads a few hundred
-- rows instead of a commune's raw records. `tungnha rebuild-tallies` recomputes them from the rows.
--
-- Field-record tallies are per reporting period (Asia/Ho_Chi_Minh, UTC+7, week from Monday) of each
-- grain. Registry tallies hold the current state; the figures of a past period start from them and
-- correct for the few rows that changed since (see api/src/stats/mod.rs).

CREATE TABLE tally_grains (grain TEXT PRIMARY KEY NOT NULL);
INSERT INTO tally_grains (grain) VALUES ('week'), ('month'), ('quarter'), ('year');

-- Each field record once per grain, with the local period it falls in.
CREATE VIEW record_periods AS
SELECT r.id AS record_id, r.commune_id, r.village_id, r.household_id, r.author_id, r.channel,
       r.superseded_by, g.grain,
       CASE g.grain
           WHEN 'week' THEN date(r.occurred_at, '+7 hours', '-6 days', 'weekday 1')
           WHEN 'month' THEN date(r.occurred_at, '+7 hours', 'start of month')
           WHEN 'quarter' THEN date(r.occurred_at, '+7 hours', 'start of month',
               '-' || ((CAST(strftime('%m', r.occurred_at, '+7 hours') AS INTEGER) - 1) % 3) || ' months')
           ELSE date(r.occurred_at, '+7 hours', 'start of year')
       END AS period_start
FROM assistance_records r CROSS JOIN tally_grains g;

-- Live records per household and period: any channel, and house visits.
CREATE TABLE visit_tallies (
    commune_id TEXT NOT NULL,
    grain TEXT NOT NULL,
    period_start DATE NOT NULL,
    village_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    records INTEGER NOT NULL,
    house_visits INTEGER NOT NULL,
    PRIMARY KEY (commune_id, grain, period_start, village_id, household_id)
) WITHOUT ROWID;

-- Live records per author, village and period.
CREATE TABLE author_tallies (
    commune_id TEXT NOT NULL,
    grain TEXT NOT NULL,
    period_start DATE NOT NULL,
    village_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    records INTEGER NOT NULL,
    house_visits INTEGER NOT NULL,
    PRIMARY KEY (commune_id, grain, period_start, village_id, author_id)
) WITHOUT ROWID;

-- Items of live records per service, outcome, village, author and period.
CREATE TABLE item_tallies (
    commune_id TEXT NOT NULL,
    grain TEXT NOT NULL,
    period_start DATE NOT NULL,
    service_code TEXT NOT NULL,
    village_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    items INTEGER NOT NULL,
    PRIMARY KEY (commune_id, grain, period_start, service_code, village_id, author_id, outcome)
) WITHOUT ROWID;

-- Residents not deleted, per village and birth year (0: unknown).
CREATE TABLE resident_tallies (
    commune_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    residents INTEGER NOT NULL,
    PRIMARY KEY (commune_id, village_id, birth_year)
) WITHOUT ROWID;

-- Households not deleted, per village.
CREATE TABLE household_tallies (
    commune_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    households INTEGER NOT NULL,
    PRIMARY KEY (commune_id, village_id)
) WITHOUT ROWID;

-- Ledger rows of subjects not deleted, per service, village, birth year (0: unknown or a household),
-- status and the month the status was set in (so a period ending on a month boundary sums whole
-- months; a week adds the few entries of its last, partial month from the rows).
CREATE TABLE adoption_tallies (
    commune_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    village_id TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_month DATE NOT NULL,
    subjects INTEGER NOT NULL,
    PRIMARY KEY (commune_id, service_code, village_id, birth_year, status, status_month)
) WITHOUT ROWID;

-- Ledger rows with the month their status was set in.
CREATE VIEW adoption_rows AS
SELECT subject_id, service_code, status, status_on, date(status_on, 'start of month') AS status_month
FROM adoptions;

-- The rows a past period corrects for: residents deleted since, ledger entries set since.
CREATE INDEX residents_deleted_idx ON residents (commune_id, deleted_at);
CREATE INDEX households_deleted_idx ON households (commune_id, deleted_at);
CREATE INDEX adoptions_service_on_idx ON adoptions (commune_id, service_code, status_on);

-- Ledger subjects as the tallies key them: a resident or a household, alive or not.
CREATE VIEW adoption_subjects AS
SELECT r.id AS subject_id, r.commune_id, r.village_id, coalesce(r.birth_year, 0) AS birth_year,
       r.deleted_at
FROM residents r
UNION ALL
SELECT h.id, h.commune_id, h.village_id, 0, h.deleted_at FROM households h;

-- ---------------------------------------------------------------- field records

CREATE TRIGGER assistance_records_tally_insert AFTER INSERT ON assistance_records
WHEN NEW.superseded_by IS NULL
BEGIN
    INSERT INTO visit_tallies (commune_id, grain, period_start, village_id, household_id, records, house_visits)
    SELECT commune_id, grain, period_start, village_id, household_id, 1, channel = 'house_visit'
    FROM record_periods WHERE record_id = NEW.id
    ON CONFLICT (commune_id, grain, period_start, village_id, household_id) DO UPDATE
    SET records = records + excluded.records, house_visits = house_visits + excluded.house_visits;
    INSERT INTO author_tallies (commune_id, grain, period_start, village_id, author_id, records, house_visits)
    SELECT commune_id, grain, period_start, village_id, author_id, 1, channel = 'house_visit'
    FROM record_periods WHERE record_id = NEW.id
    ON CONFLICT (commune_id, grain, period_start, village_id, author_id) DO UPDATE
    SET records = records + excluded.records, house_visits = house_visits + excluded.house_visits;
END;

CREATE TRIGGER assistance_items_tally_insert AFTER INSERT ON assistance_items
BEGIN
    INSERT INTO item_tallies (commune_id, grain, period_start, service_code, village_id, author_id, outcome, items)
    SELECT commune_id, grain, period_start, NEW.service_code, village_id, author_id, NEW.outcome, 1
    FROM record_periods WHERE record_id = NEW.record_id AND superseded_by IS NULL
    ON CONFLICT (commune_id, grain, period_start, service_code, village_id, author_id, outcome) DO UPDATE
    SET items = items + excluded.items;
END;

-- A correction supersedes a record: it leaves every tally it was in.
CREATE TRIGGER assistance_records_tally_supersede AFTER UPDATE OF superseded_by ON assistance_records
WHEN OLD.superseded_by IS NULL AND NEW.superseded_by IS NOT NULL
BEGIN
    UPDATE visit_tallies
    SET records = records - 1, house_visits = house_visits - (OLD.channel = 'house_visit')
    WHERE commune_id = OLD.commune_id AND village_id = OLD.village_id
      AND household_id = OLD.household_id
      AND (grain, period_start) IN (SELECT grain, period_start FROM record_periods WHERE record_id = OLD.id);
    UPDATE author_tallies
    SET records = records - 1, house_visits = house_visits - (OLD.channel = 'house_visit')
    WHERE commune_id = OLD.commune_id AND village_id = OLD.village_id AND author_id = OLD.author_id
      AND (grain, period_start) IN (SELECT grain, period_start FROM record_periods WHERE record_id = OLD.id);
    UPDATE item_tallies
    SET items = items - (SELECT count(*) FROM assistance_items i
                         WHERE i.record_id = OLD.id AND i.service_code = item_tallies.service_code
                           AND i.outcome = item_tallies.outcome)
    WHERE commune_id = OLD.commune_id AND village_id = OLD.village_id AND author_id = OLD.author_id
      AND (grain, period_start) IN (SELECT grain, period_start FROM record_periods WHERE record_id = OLD.id)
      AND (service_code, outcome) IN (SELECT service_code, outcome FROM assistance_items WHERE record_id = OLD.id);
END;

-- ---------------------------------------------------------------- registry

CREATE TRIGGER residents_tally_insert AFTER INSERT ON residents
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO resident_tallies (commune_id, village_id, birth_year, residents)
    VALUES (NEW.commune_id, NEW.village_id, coalesce(NEW.birth_year, 0), 1)
    ON CONFLICT (commune_id, village_id, birth_year) DO UPDATE SET residents = residents + 1;
END;

-- Moving, re-dating or deleting a resident moves it and its ledger rows between tallies.
CREATE TRIGGER residents_tally_update AFTER UPDATE OF commune_id, village_id, birth_year, deleted_at ON residents
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.village_id <> NEW.village_id
  OR OLD.commune_id <> NEW.commune_id OR OLD.birth_year IS NOT NEW.birth_year
BEGIN
    UPDATE resident_tallies SET residents = residents - 1
    WHERE OLD.deleted_at IS NULL AND commune_id = OLD.commune_id AND village_id = OLD.village_id
      AND birth_year = coalesce(OLD.birth_year, 0);
    INSERT INTO resident_tallies (commune_id, village_id, birth_year, residents)
    SELECT NEW.commune_id, NEW.village_id, coalesce(NEW.birth_year, 0), 1 WHERE NEW.deleted_at IS NULL
    ON CONFLICT (commune_id, village_id, birth_year) DO UPDATE SET residents = residents + 1;
    UPDATE adoption_tallies SET subjects = subjects - 1
    WHERE OLD.deleted_at IS NULL AND commune_id = OLD.commune_id AND village_id = OLD.village_id
      AND birth_year = coalesce(OLD.birth_year, 0)
      AND (service_code, status, status_month) IN (
          SELECT service_code, status, status_month FROM adoption_rows WHERE subject_id = OLD.id);
    INSERT INTO adoption_tallies (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
    SELECT NEW.commune_id, service_code, NEW.village_id, coalesce(NEW.birth_year, 0), status, status_month, 1
    FROM adoption_rows WHERE subject_id = NEW.id AND NEW.deleted_at IS NULL
    ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
    SET subjects = subjects + excluded.subjects;
END;

CREATE TRIGGER residents_tally_delete AFTER DELETE ON residents
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE resident_tallies SET residents = residents - 1
    WHERE commune_id = OLD.commune_id AND village_id = OLD.village_id
      AND birth_year = coalesce(OLD.birth_year, 0);
END;

CREATE TRIGGER households_tally_insert AFTER INSERT ON households
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO household_tallies (commune_id, village_id, households)
    VALUES (NEW.commune_id, NEW.village_id, 1)
    ON CONFLICT (commune_id, village_id) DO UPDATE SET households = households + 1;
END;

CREATE TRIGGER households_tally_update AFTER UPDATE OF commune_id, village_id, deleted_at ON households
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.village_id <> NEW.village_id
  OR OLD.commune_id <> NEW.commune_id
BEGIN
    UPDATE household_tallies SET households = households - 1
    WHERE OLD.deleted_at IS NULL AND commune_id = OLD.commune_id AND village_id = OLD.village_id;
    INSERT INTO household_tallies (commune_id, village_id, households)
    SELECT NEW.commune_id, NEW.village_id, 1 WHERE NEW.deleted_at IS NULL
    ON CONFLICT (commune_id, village_id) DO UPDATE SET households = households + 1;
    UPDATE adoption_tallies SET subjects = subjects - 1
    WHERE OLD.deleted_at IS NULL AND commune_id = OLD.commune_id AND village_id = OLD.village_id
      AND birth_year = 0
      AND (service_code, status, status_month) IN (
          SELECT service_code, status, status_month FROM adoption_rows WHERE subject_id = OLD.id);
    INSERT INTO adoption_tallies (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
    SELECT NEW.commune_id, service_code, NEW.village_id, 0, status, status_month, 1
    FROM adoption_rows WHERE subject_id = NEW.id AND NEW.deleted_at IS NULL
    ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
    SET subjects = subjects + excluded.subjects;
END;

CREATE TRIGGER households_tally_delete AFTER DELETE ON households
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE household_tallies SET households = households - 1
    WHERE commune_id = OLD.commune_id AND village_id = OLD.village_id;
END;

CREATE TRIGGER adoptions_tally_insert AFTER INSERT ON adoptions
BEGIN
    INSERT INTO adoption_tallies (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
    SELECT commune_id, NEW.service_code, village_id, birth_year, NEW.status,
           date(NEW.status_on, 'start of month'), 1
    FROM adoption_subjects WHERE subject_id = NEW.subject_id AND deleted_at IS NULL
    ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
    SET subjects = subjects + excluded.subjects;
END;

CREATE TRIGGER adoptions_tally_update AFTER UPDATE OF status, status_on, service_code, subject_id ON adoptions
WHEN OLD.status <> NEW.status OR OLD.service_code <> NEW.service_code OR OLD.subject_id <> NEW.subject_id
  OR date(OLD.status_on, 'start of month') <> date(NEW.status_on, 'start of month')
BEGIN
    UPDATE adoption_tallies SET subjects = subjects - 1
    WHERE service_code = OLD.service_code AND status = OLD.status
      AND status_month = date(OLD.status_on, 'start of month')
      AND (commune_id, village_id, birth_year) IN (
          SELECT commune_id, village_id, birth_year FROM adoption_subjects
          WHERE subject_id = OLD.subject_id AND deleted_at IS NULL);
    INSERT INTO adoption_tallies (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
    SELECT commune_id, NEW.service_code, village_id, birth_year, NEW.status,
           date(NEW.status_on, 'start of month'), 1
    FROM adoption_subjects WHERE subject_id = NEW.subject_id AND deleted_at IS NULL
    ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
    SET subjects = subjects + excluded.subjects;
END;

CREATE TRIGGER adoptions_tally_delete AFTER DELETE ON adoptions
BEGIN
    UPDATE adoption_tallies SET subjects = subjects - 1
    WHERE service_code = OLD.service_code AND status = OLD.status
      AND status_month = date(OLD.status_on, 'start of month')
      AND (commune_id, village_id, birth_year) IN (
          SELECT commune_id, village_id, birth_year FROM adoption_subjects
          WHERE subject_id = OLD.subject_id AND deleted_at IS NULL);
END;
