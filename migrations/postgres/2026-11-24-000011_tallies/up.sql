-- Tallies: the counts the dashboards read, kept current by triggers in the same transaction as every
-- write (sync, online forms, imports, corrections, direct SQL), so a dashboard reads a few hundred
-- rows instead of a commune's raw records. `tungnha rebuild-tallies` recomputes them from the rows.
--
-- Field-record tallies are per reporting period (Asia/Ho_Chi_Minh, UTC+7, week from Monday) of each
-- grain. Registry tallies hold the current state; the figures of a past period start from them and
-- correct for the few rows that changed since (see api/src/stats/mod.rs).

CREATE TABLE tally_grains (grain TEXT PRIMARY KEY NOT NULL);
INSERT INTO tally_grains (grain) VALUES ('week'), ('month'), ('quarter'), ('year');

-- The first local day of the period of `grain` that holds the UTC time `at`.
CREATE FUNCTION tally_period_start(grain TEXT, at TIMESTAMP) RETURNS DATE
LANGUAGE sql IMMUTABLE AS $$ SELECT date_trunc(grain, at + interval '7 hours')::date $$;

-- Each field record once per grain, with the local period it falls in.
CREATE VIEW record_periods AS
SELECT r.id AS record_id, r.commune_id, r.village_id, r.household_id, r.author_id, r.channel,
       r.superseded_by, g.grain, tally_period_start(g.grain, r.occurred_at) AS period_start
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
);

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
);

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
);

-- Residents not deleted, per village and birth year (0: unknown).
CREATE TABLE resident_tallies (
    commune_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    residents INTEGER NOT NULL,
    PRIMARY KEY (commune_id, village_id, birth_year)
);

-- Households not deleted, per village.
CREATE TABLE household_tallies (
    commune_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    households INTEGER NOT NULL,
    PRIMARY KEY (commune_id, village_id)
);

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
);

-- Ledger rows with the month their status was set in.
CREATE VIEW adoption_rows AS
SELECT subject_id, service_code, status, status_on, date_trunc('month', status_on)::date AS status_month
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

CREATE FUNCTION assistance_records_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign INTEGER;
    rec assistance_records;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.superseded_by IS NULL THEN
        sign := 1;
        rec := NEW;
    ELSIF TG_OP = 'UPDATE' AND OLD.superseded_by IS NULL AND NEW.superseded_by IS NOT NULL THEN
        -- A correction supersedes a record: it leaves every tally it was in.
        sign := -1;
        rec := OLD;
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO visit_tallies AS t (commune_id, grain, period_start, village_id, household_id, records, house_visits)
    SELECT rec.commune_id, g.grain, tally_period_start(g.grain, rec.occurred_at), rec.village_id,
           rec.household_id, sign, CASE WHEN rec.channel = 'house_visit' THEN sign ELSE 0 END
    FROM tally_grains g
    ON CONFLICT (commune_id, grain, period_start, village_id, household_id) DO UPDATE
    SET records = t.records + EXCLUDED.records, house_visits = t.house_visits + EXCLUDED.house_visits;
    INSERT INTO author_tallies AS t (commune_id, grain, period_start, village_id, author_id, records, house_visits)
    SELECT rec.commune_id, g.grain, tally_period_start(g.grain, rec.occurred_at), rec.village_id,
           rec.author_id, sign, CASE WHEN rec.channel = 'house_visit' THEN sign ELSE 0 END
    FROM tally_grains g
    ON CONFLICT (commune_id, grain, period_start, village_id, author_id) DO UPDATE
    SET records = t.records + EXCLUDED.records, house_visits = t.house_visits + EXCLUDED.house_visits;
    IF sign < 0 THEN
        INSERT INTO item_tallies AS t (commune_id, grain, period_start, service_code, village_id, author_id, outcome, items)
        SELECT rec.commune_id, g.grain, tally_period_start(g.grain, rec.occurred_at), i.service_code,
               rec.village_id, rec.author_id, i.outcome, -count(*)
        FROM assistance_items i CROSS JOIN tally_grains g
        WHERE i.record_id = rec.id
        GROUP BY g.grain, i.service_code, i.outcome
        ON CONFLICT (commune_id, grain, period_start, service_code, village_id, author_id, outcome) DO UPDATE
        SET items = t.items + EXCLUDED.items;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER assistance_records_tally AFTER INSERT OR UPDATE OF superseded_by ON assistance_records
FOR EACH ROW EXECUTE FUNCTION assistance_records_tally();

CREATE FUNCTION assistance_items_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO item_tallies AS t (commune_id, grain, period_start, service_code, village_id, author_id, outcome, items)
    SELECT commune_id, grain, period_start, NEW.service_code, village_id, author_id, NEW.outcome, 1
    FROM record_periods WHERE record_id = NEW.record_id AND superseded_by IS NULL
    ON CONFLICT (commune_id, grain, period_start, service_code, village_id, author_id, outcome) DO UPDATE
    SET items = t.items + EXCLUDED.items;
    RETURN NULL;
END $$;

CREATE TRIGGER assistance_items_tally AFTER INSERT ON assistance_items
FOR EACH ROW EXECUTE FUNCTION assistance_items_tally();

-- ---------------------------------------------------------------- registry

-- Adds `sign` to the tallies of one subject (resident or household) and of its ledger rows.
CREATE FUNCTION tally_subject(subject TEXT, commune TEXT, village TEXT, born INTEGER,
                              is_resident BOOLEAN, sign INTEGER) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF is_resident THEN
        INSERT INTO resident_tallies AS t (commune_id, village_id, birth_year, residents)
        VALUES (commune, village, born, sign)
        ON CONFLICT (commune_id, village_id, birth_year) DO UPDATE SET residents = t.residents + EXCLUDED.residents;
    ELSE
        INSERT INTO household_tallies AS t (commune_id, village_id, households)
        VALUES (commune, village, sign)
        ON CONFLICT (commune_id, village_id) DO UPDATE SET households = t.households + EXCLUDED.households;
    END IF;
    INSERT INTO adoption_tallies AS t (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
    SELECT commune, a.service_code, village, born, a.status, a.status_month, sign
    FROM adoption_rows a WHERE a.subject_id = subject
    ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
    SET subjects = t.subjects + EXCLUDED.subjects;
END $$;

-- Creating, moving, re-dating or deleting a resident moves it and its ledger rows between tallies.
CREATE FUNCTION residents_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        PERFORM tally_subject(OLD.id, OLD.commune_id, OLD.village_id, coalesce(OLD.birth_year, 0), TRUE, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        PERFORM tally_subject(NEW.id, NEW.commune_id, NEW.village_id, coalesce(NEW.birth_year, 0), TRUE, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER residents_tally_insert_delete AFTER INSERT OR DELETE ON residents
FOR EACH ROW EXECUTE FUNCTION residents_tally();
CREATE TRIGGER residents_tally_update AFTER UPDATE OF commune_id, village_id, birth_year, deleted_at ON residents
FOR EACH ROW
WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.village_id <> NEW.village_id
      OR OLD.commune_id <> NEW.commune_id OR OLD.birth_year IS DISTINCT FROM NEW.birth_year)
EXECUTE FUNCTION residents_tally();

CREATE FUNCTION households_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        PERFORM tally_subject(OLD.id, OLD.commune_id, OLD.village_id, 0, FALSE, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        PERFORM tally_subject(NEW.id, NEW.commune_id, NEW.village_id, 0, FALSE, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER households_tally_insert_delete AFTER INSERT OR DELETE ON households
FOR EACH ROW EXECUTE FUNCTION households_tally();
CREATE TRIGGER households_tally_update AFTER UPDATE OF commune_id, village_id, deleted_at ON households
FOR EACH ROW
WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.village_id <> NEW.village_id
      OR OLD.commune_id <> NEW.commune_id)
EXECUTE FUNCTION households_tally();

CREATE FUNCTION adoptions_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO adoption_tallies AS t (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
        SELECT s.commune_id, OLD.service_code, s.village_id, s.birth_year, OLD.status,
               date_trunc('month', OLD.status_on)::date, -1
        FROM adoption_subjects s WHERE s.subject_id = OLD.subject_id AND s.deleted_at IS NULL
        ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
        SET subjects = t.subjects + EXCLUDED.subjects;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO adoption_tallies AS t (commune_id, service_code, village_id, birth_year, status, status_month, subjects)
        SELECT s.commune_id, NEW.service_code, s.village_id, s.birth_year, NEW.status,
               date_trunc('month', NEW.status_on)::date, 1
        FROM adoption_subjects s WHERE s.subject_id = NEW.subject_id AND s.deleted_at IS NULL
        ON CONFLICT (commune_id, service_code, village_id, birth_year, status, status_month) DO UPDATE
        SET subjects = t.subjects + EXCLUDED.subjects;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER adoptions_tally_insert_delete AFTER INSERT OR DELETE ON adoptions
FOR EACH ROW EXECUTE FUNCTION adoptions_tally();
CREATE TRIGGER adoptions_tally_update AFTER UPDATE OF status, status_on, service_code, subject_id ON adoptions
FOR EACH ROW
WHEN (OLD.status <> NEW.status OR OLD.service_code <> NEW.service_code OR OLD.subject_id <> NEW.subject_id
      OR date_trunc('month', OLD.status_on) <> date_trunc('month', NEW.status_on))
EXECUTE FUNCTION adoptions_tally();
