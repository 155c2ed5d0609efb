-- Household lists page by id within a village or a commune (keyset paging, ORDER BY id LIMIT n).
-- With an index on the village alone the database read every household of the village and sorted
-- them to return one page; with the id second in the index it reads the page's rows in order.
CREATE INDEX households_village_page_idx ON households (village_id, id);
CREATE INDEX households_commune_page_idx ON households (commune_id, id);
DROP INDEX households_commune_idx;
