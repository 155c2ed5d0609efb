-- The (service_code, outcome) index on items misled SQLite's planner, which has no statistics: it
-- looked items up by service for every record of the period, walking every item of that service each
-- time (an indicator over a quarter of 125,000 records took over a minute). Items are always reached
-- from their record (primary key record_id, position), which the planner then uses.
DROP INDEX assistance_items_service_idx;
