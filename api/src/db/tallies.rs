//! The tallies the dashboards read (migration `000011_tallies`). Triggers keep them current on every
//! write; this module recomputes them from the rows (`tungnha rebuild-tallies`, and once when the
//! migration first runs on a database that already holds data) and checks them against the rows.
//!
//! The SQL is the same on both databases: the per-backend part (local periods) lives in the
//! `record_periods` and `adoption_subjects` views.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::DbConnection;

/// One tally table: its key and count columns, the condition of a row that counts, and the rows it
/// must equal.
struct Tally {
    table: &'static str,
    columns: &'static str,
    nonzero: &'static str,
    from_rows: &'static str,
}

const TALLIES: [Tally; 6] = [
    Tally {
        table: "visit_tallies",
        columns: "commune_id, grain, period_start, village_id, household_id, records, house_visits",
        nonzero: "records <> 0 OR house_visits <> 0",
        from_rows: "SELECT commune_id, grain, period_start, village_id, household_id, count(*), \
            sum(CASE WHEN channel = 'house_visit' THEN 1 ELSE 0 END) \
            FROM record_periods WHERE superseded_by IS NULL \
            GROUP BY commune_id, grain, period_start, village_id, household_id",
    },
    Tally {
        table: "author_tallies",
        columns: "commune_id, grain, period_start, village_id, author_id, records, house_visits",
        nonzero: "records <> 0 OR house_visits <> 0",
        from_rows: "SELECT commune_id, grain, period_start, village_id, author_id, count(*), \
            sum(CASE WHEN channel = 'house_visit' THEN 1 ELSE 0 END) \
            FROM record_periods WHERE superseded_by IS NULL \
            GROUP BY commune_id, grain, period_start, village_id, author_id",
    },
    Tally {
        table: "item_tallies",
        columns:
            "commune_id, grain, period_start, service_code, village_id, author_id, outcome, items",
        nonzero: "items <> 0",
        from_rows: "SELECT p.commune_id, p.grain, p.period_start, i.service_code, p.village_id, \
            p.author_id, i.outcome, count(*) \
            FROM record_periods p JOIN assistance_items i ON i.record_id = p.record_id \
            WHERE p.superseded_by IS NULL \
            GROUP BY p.commune_id, p.grain, p.period_start, i.service_code, p.village_id, \
            p.author_id, i.outcome",
    },
    Tally {
        table: "resident_tallies",
        columns: "commune_id, village_id, birth_year, residents",
        nonzero: "residents <> 0",
        from_rows: "SELECT commune_id, village_id, coalesce(birth_year, 0), count(*) \
            FROM residents WHERE deleted_at IS NULL \
            GROUP BY commune_id, village_id, coalesce(birth_year, 0)",
    },
    Tally {
        table: "household_tallies",
        columns: "commune_id, village_id, households",
        nonzero: "households <> 0",
        from_rows: "SELECT commune_id, village_id, count(*) FROM households \
            WHERE deleted_at IS NULL GROUP BY commune_id, village_id",
    },
    Tally {
        table: "adoption_tallies",
        columns: "commune_id, service_code, village_id, birth_year, status, status_month, subjects",
        nonzero: "subjects <> 0",
        from_rows: "SELECT s.commune_id, a.service_code, s.village_id, s.birth_year, a.status, \
            a.status_month, count(*) \
            FROM adoption_rows a JOIN adoption_subjects s ON s.subject_id = a.subject_id \
            WHERE s.deleted_at IS NULL \
            GROUP BY s.commune_id, a.service_code, s.village_id, s.birth_year, a.status, \
            a.status_month",
    },
];

/// Recomputes every tally from the rows, in one transaction.
pub fn rebuild(conn: &mut DbConnection) -> QueryResult<()> {
    conn.transaction(|conn| {
        for t in &TALLIES {
            diesel::sql_query(format!("DELETE FROM {}", t.table)).execute(conn)?;
            diesel::sql_query(format!(
                "INSERT INTO {} ({}) {}",
                t.table, t.columns, t.from_rows
            ))
            .execute(conn)?;
        }
        Ok(())
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The tallies that differ from the rows they count, with how many rows differ (empty when all
/// agree). Zero rows left behind by triggers count as absent.
pub fn verify(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    let mut out = vec![];
    for t in &TALLIES {
        let stored = format!("SELECT {} FROM {} WHERE {}", t.columns, t.table, t.nonzero);
        let sql = format!(
            "SELECT count(*) AS n FROM ({stored} EXCEPT {rows}) AS extra \
             UNION ALL SELECT count(*) AS n FROM ({rows} EXCEPT {stored}) AS missing",
            rows = t.from_rows
        );
        let diff: i64 = diesel::sql_query(sql)
            .load::<Count>(conn)?
            .iter()
            .map(|c| c.n)
            .sum();
        if diff != 0 {
            out.push((t.table, diff));
        }
    }
    Ok(out)
}
