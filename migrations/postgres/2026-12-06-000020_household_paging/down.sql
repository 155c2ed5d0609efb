CREATE INDEX households_commune_idx ON households (commune_id);
DROP INDEX households_commune_page_idx;
DROP INDEX households_village_page_idx;
