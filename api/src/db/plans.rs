//! Targets per indicator and period, and the commune's funding ledger (migration
//! `000016_targets_funding`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    funding_entries as fe, plan_versions as pv, plans as pl, report_submissions as rs, targets as t,
};
use super::DbConnection;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = t)]
#[diesel(treat_none_as_default_value = false)]
pub struct Target {
    pub id: String,
    pub commune_id: String,
    pub village_id: Option<String>,
    pub indicator_id: String,
    pub period_kind: String,
    pub period_start: NaiveDate,
    pub target_percent: f64,
    pub set_by: String,
    pub updated_at: NaiveDateTime,
}

/// The targets of a commune (and its villages) for one period.
pub fn targets_of(
    conn: &mut DbConnection,
    commune_id: &str,
    period_kind: &str,
    period_start: NaiveDate,
) -> QueryResult<Vec<Target>> {
    t::table
        .filter(t::commune_id.eq(commune_id))
        .filter(t::period_kind.eq(period_kind))
        .filter(t::period_start.eq(period_start))
        .select(Target::as_select())
        .load(conn)
}

/// Sets a target (a new one or a new value for the same commune, village, indicator and period).
pub fn upsert_target(conn: &mut DbConnection, target: &Target) -> QueryResult<()> {
    let mut existing = t::table
        .filter(t::commune_id.eq(&target.commune_id))
        .filter(t::indicator_id.eq(&target.indicator_id))
        .filter(t::period_kind.eq(&target.period_kind))
        .filter(t::period_start.eq(target.period_start))
        .into_boxed();
    existing = match &target.village_id {
        Some(v) => existing.filter(t::village_id.eq(v.clone())),
        None => existing.filter(t::village_id.is_null()),
    };
    let found: Option<String> = existing.select(t::id).get_result(conn).optional()?;
    match found {
        Some(id) => diesel::update(t::table.find(id))
            .set((
                t::target_percent.eq(target.target_percent),
                t::set_by.eq(&target.set_by),
                t::updated_at.eq(target.updated_at),
            ))
            .execute(conn)
            .map(|_| ()),
        None => diesel::insert_into(t::table)
            .values(target)
            .execute(conn)
            .map(|_| ()),
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = fe)]
#[diesel(treat_none_as_default_value = false)]
pub struct FundingEntry {
    pub id: String,
    pub commune_id: String,
    pub direction: String,
    pub source: String,
    pub category: String,
    pub party: String,
    pub description: Option<String>,
    pub amount_vnd: i64,
    pub occurred_on: NaiveDate,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub voided_at: Option<NaiveDateTime>,
    pub voided_by: Option<String>,
    pub void_reason: Option<String>,
}

pub fn insert_funding(conn: &mut DbConnection, entry: &FundingEntry) -> QueryResult<()> {
    diesel::insert_into(fe::table)
        .values(entry)
        .execute(conn)
        .map(|_| ())
}

pub fn find_funding(conn: &mut DbConnection, id: &str) -> QueryResult<Option<FundingEntry>> {
    fe::table
        .find(id)
        .select(FundingEntry::as_select())
        .get_result(conn)
        .optional()
}

/// Entries of a commune dated `from..to` (inclusive first day, exclusive last), oldest first.
pub fn funding_between(
    conn: &mut DbConnection,
    commune_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<FundingEntry>> {
    fe::table
        .filter(fe::commune_id.eq(commune_id))
        .filter(fe::occurred_on.ge(from))
        .filter(fe::occurred_on.lt(to))
        .order((fe::occurred_on, fe::created_at, fe::id))
        .select(FundingEntry::as_select())
        .load(conn)
}

/// Voids an entry once; false when it was voided already.
pub fn void_funding(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(fe::table.find(id).filter(fe::voided_at.is_null()))
        .set((
            fe::voided_at.eq(at),
            fe::voided_by.eq(by),
            fe::void_reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = rs)]
#[diesel(treat_none_as_default_value = false)]
pub struct Submission {
    pub report_id: String,
    pub commune_id: String,
    pub submitted_by: String,
    pub submitted_at: NaiveDateTime,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledgement: Option<String>,
}

pub fn find_submission(
    conn: &mut DbConnection,
    report_id: &str,
) -> QueryResult<Option<Submission>> {
    rs::table
        .find(report_id)
        .select(Submission::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_submission(conn: &mut DbConnection, s: &Submission) -> QueryResult<()> {
    diesel::insert_into(rs::table)
        .values(s)
        .execute(conn)
        .map(|_| ())
}

/// Acknowledges once; false when it was acknowledged already.
pub fn acknowledge(
    conn: &mut DbConnection,
    report_id: &str,
    by: &str,
    note: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        rs::table
            .find(report_id)
            .filter(rs::acknowledged_at.is_null()),
    )
    .set((
        rs::acknowledged_by.eq(by),
        rs::acknowledged_at.eq(at),
        rs::acknowledgement.eq(note),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Submissions, newest first: of one commune, or of all.
pub fn submissions(
    conn: &mut DbConnection,
    commune_id: Option<&str>,
) -> QueryResult<Vec<Submission>> {
    let mut q = rs::table.select(Submission::as_select()).into_boxed();
    if let Some(c) = commune_id {
        q = q.filter(rs::commune_id.eq(c.to_owned()));
    }
    q.order((rs::submitted_at.desc(), rs::report_id)).load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pl)]
#[diesel(treat_none_as_default_value = false)]
pub struct Plan {
    pub id: String,
    pub commune_id: String,
    pub period_kind: String,
    pub period_start: NaiveDate,
    pub version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pv)]
#[diesel(treat_none_as_default_value = false)]
pub struct PlanVersion {
    pub plan_id: String,
    pub version: i32,
    pub number: String,
    pub issued_on: NaiveDate,
    pub signer: String,
    pub purpose: String,
    /// JSON array of tasks.
    pub tasks: String,
    pub change_note: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn find_plan(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Plan>> {
    pl::table
        .find(id)
        .select(Plan::as_select())
        .get_result(conn)
        .optional()
}

pub fn plan_for(
    conn: &mut DbConnection,
    commune_id: &str,
    kind: &str,
    start: NaiveDate,
) -> QueryResult<Option<Plan>> {
    pl::table
        .filter(pl::commune_id.eq(commune_id))
        .filter(pl::period_kind.eq(kind))
        .filter(pl::period_start.eq(start))
        .select(Plan::as_select())
        .get_result(conn)
        .optional()
}

/// Plans of one commune, or of all, the latest period first.
pub fn list_plans(conn: &mut DbConnection, commune_id: Option<&str>) -> QueryResult<Vec<Plan>> {
    let mut q = pl::table.select(Plan::as_select()).into_boxed();
    if let Some(c) = commune_id {
        q = q.filter(pl::commune_id.eq(c.to_owned()));
    }
    q.order((pl::period_start.desc(), pl::commune_id, pl::id))
        .load(conn)
}

pub fn insert_plan(conn: &mut DbConnection, plan: &Plan, first: &PlanVersion) -> QueryResult<()> {
    diesel::insert_into(pl::table).values(plan).execute(conn)?;
    diesel::insert_into(pv::table).values(first).execute(conn)?;
    Ok(())
}

/// Adds version `v.version` if the plan is still at the version before it; false otherwise.
pub fn amend_plan(conn: &mut DbConnection, v: &PlanVersion) -> QueryResult<bool> {
    let moved = diesel::update(
        pl::table
            .find(&v.plan_id)
            .filter(pl::version.eq(v.version - 1)),
    )
    .set((pl::version.eq(v.version), pl::updated_at.eq(v.created_at)))
    .execute(conn)?;
    if moved != 1 {
        return Ok(false);
    }
    diesel::insert_into(pv::table).values(v).execute(conn)?;
    Ok(true)
}

pub fn plan_versions(conn: &mut DbConnection, plan_id: &str) -> QueryResult<Vec<PlanVersion>> {
    pv::table
        .filter(pv::plan_id.eq(plan_id))
        .order(pv::version)
        .select(PlanVersion::as_select())
        .load(conn)
}
