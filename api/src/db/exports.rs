//! Whole tables for CSV and XLSX exports, in the caller's scope and a date range.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{assistance_records, communications, difficulties, trainings, villages};
use super::sync::{AssistanceRecord, Communication, Difficulty};
use super::teamwork::Training;
use super::DbConnection;

/// Where an export reads: a commune (none: every commune, for administrators), only some villages
/// (village users), and `[start, end)`.
pub struct Window {
    pub commune_id: Option<String>,
    pub villages: Option<Vec<String>>,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// Live records (corrections replace what they correct), oldest first, at most `limit`.
pub fn records(
    conn: &mut DbConnection,
    w: &Window,
    limit: i64,
) -> QueryResult<Vec<AssistanceRecord>> {
    let mut q = assistance_records::table
        .filter(assistance_records::occurred_at.ge(w.start))
        .filter(assistance_records::occurred_at.lt(w.end))
        .filter(assistance_records::superseded_by.is_null())
        .select(AssistanceRecord::as_select())
        .into_boxed();
    if let Some(c) = &w.commune_id {
        q = q.filter(assistance_records::commune_id.eq(c.clone()));
    }
    if let Some(v) = &w.villages {
        q = q.filter(assistance_records::village_id.eq_any(v.clone()));
    }
    q.order((assistance_records::occurred_at, assistance_records::id))
        .limit(limit)
        .load(conn)
}

pub fn communications(
    conn: &mut DbConnection,
    w: &Window,
    limit: i64,
) -> QueryResult<Vec<Communication>> {
    let mut q = communications::table
        .filter(communications::occurred_at.ge(w.start))
        .filter(communications::occurred_at.lt(w.end))
        .select(Communication::as_select())
        .into_boxed();
    if let Some(c) = &w.commune_id {
        q = q.filter(communications::commune_id.eq(c.clone()));
    }
    if let Some(v) = &w.villages {
        q = q.filter(
            communications::village_id
                .eq_any(v.clone())
                .or(communications::village_id.is_null()),
        );
    }
    q.order((communications::occurred_at, communications::id))
        .limit(limit)
        .load(conn)
}

pub fn difficulties(
    conn: &mut DbConnection,
    w: &Window,
    limit: i64,
) -> QueryResult<Vec<Difficulty>> {
    let mut q = difficulties::table
        .filter(difficulties::raised_at.ge(w.start))
        .filter(difficulties::raised_at.lt(w.end))
        .select(Difficulty::as_select())
        .into_boxed();
    if let Some(c) = &w.commune_id {
        q = q.filter(difficulties::commune_id.eq(c.clone()));
    }
    if let Some(v) = &w.villages {
        q = q.filter(
            difficulties::village_id
                .eq_any(v.clone())
                .or(difficulties::village_id.is_null()),
        );
    }
    q.order((difficulties::raised_at, difficulties::id))
        .limit(limit)
        .load(conn)
}

pub fn trainings(
    conn: &mut DbConnection,
    commune_id: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<Training>> {
    let mut q = trainings::table
        .filter(trainings::held_on.ge(from))
        .filter(trainings::held_on.le(to))
        .select(Training::as_select())
        .into_boxed();
    if let Some(c) = commune_id {
        q = q.filter(trainings::commune_id.eq(c.to_owned()));
    }
    q.order((trainings::held_on, trainings::id))
        .limit(limit)
        .load(conn)
}

/// Names of these villages.
pub fn village_names(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    villages::table
        .filter(villages::id.eq_any(ids))
        .select((villages::id, villages::name))
        .load(conn)
}
