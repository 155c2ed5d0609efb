//! Emulation campaigns, the outcomes their leaderboards count, and award proposals.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{adoptions, assistance_records, award_proposals, campaigns};
use super::DbConnection;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
#[diesel(treat_none_as_default_value = false)]
pub struct Campaign {
    pub id: String,
    pub commune_id: String,
    pub organiser: String,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// JSON array of `{"service_code", "points"}`.
    pub rules: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = campaigns)]
pub struct CampaignChangeset {
    pub name: Option<String>,
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub rules: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert_campaign(conn: &mut DbConnection, c: &Campaign) -> QueryResult<()> {
    diesel::insert_into(campaigns::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn find_campaign(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Campaign>> {
    campaigns::table
        .find(id)
        .select(Campaign::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_campaign(
    conn: &mut DbConnection,
    id: &str,
    c: &CampaignChangeset,
) -> QueryResult<usize> {
    diesel::update(campaigns::table.find(id))
        .set(c)
        .execute(conn)
}

pub fn list_campaigns(conn: &mut DbConnection, commune_id: &str) -> QueryResult<Vec<Campaign>> {
    campaigns::table
        .filter(campaigns::commune_id.eq(commune_id))
        .order((campaigns::starts_on.desc(), campaigns::id))
        .select(Campaign::as_select())
        .load(conn)
}

/// One service brought to `done` by a visit: `(service, record author, record village, household)`.
pub type Outcome = (String, String, String, String);

/// Ledger entries of the commune that became `done` on a day in `[from, to]` through a field record,
/// with the record's author and village: each person or household counts once per service.
pub fn done_outcomes(
    conn: &mut DbConnection,
    commune_id: &str,
    services: Option<&[String]>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Outcome>> {
    let mut q = adoptions::table
        .inner_join(
            assistance_records::table
                .on(adoptions::source_record_id.eq(assistance_records::id.nullable())),
        )
        .filter(adoptions::commune_id.eq(commune_id))
        .filter(adoptions::status.eq("done"))
        .filter(adoptions::status_on.ge(from))
        .filter(adoptions::status_on.le(to))
        .select((
            adoptions::service_code,
            assistance_records::author_id,
            assistance_records::village_id,
            adoptions::household_id,
        ))
        .into_boxed();
    if let Some(s) = services {
        q = q.filter(adoptions::service_code.eq_any(s.to_vec()));
    }
    q.load(conn)
}

/// Live records of the commune in `[start, end)`: `(author, village, household)` each.
pub fn records_between(
    conn: &mut DbConnection,
    commune_id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, String, String)>> {
    assistance_records::table
        .filter(assistance_records::commune_id.eq(commune_id))
        .filter(assistance_records::occurred_at.ge(start))
        .filter(assistance_records::occurred_at.lt(end))
        .filter(assistance_records::superseded_by.is_null())
        .select((
            assistance_records::author_id,
            assistance_records::village_id,
            assistance_records::household_id,
        ))
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = award_proposals)]
#[diesel(treat_none_as_default_value = false)]
pub struct AwardProposal {
    pub id: String,
    pub commune_id: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub subject_name: String,
    pub award: String,
    pub reason: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub campaign_id: Option<String>,
    pub evidence: String,
    pub status: String,
    pub proposed_by: String,
    pub proposed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_note: Option<String>,
}

pub fn insert_proposal(conn: &mut DbConnection, p: &AwardProposal) -> QueryResult<()> {
    diesel::insert_into(award_proposals::table)
        .values(p)
        .execute(conn)
        .map(|_| ())
}

pub fn find_proposal(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AwardProposal>> {
    award_proposals::table
        .find(id)
        .select(AwardProposal::as_select())
        .get_result(conn)
        .optional()
}

pub fn list_proposals(
    conn: &mut DbConnection,
    commune_id: &str,
    status: Option<&str>,
) -> QueryResult<Vec<AwardProposal>> {
    let mut q = award_proposals::table
        .filter(award_proposals::commune_id.eq(commune_id))
        .select(AwardProposal::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(award_proposals::status.eq(s.to_owned()));
    }
    q.order((award_proposals::proposed_at.desc(), award_proposals::id))
        .load(conn)
}

/// Records the chairman's decision on a proposal still open; 0 rows when it was decided already.
pub fn decide(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    by: &str,
    note: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        award_proposals::table
            .filter(award_proposals::id.eq(id))
            .filter(award_proposals::status.eq("proposed")),
    )
    .set((
        award_proposals::status.eq(status),
        award_proposals::decided_by.eq(Some(by)),
        award_proposals::decided_at.eq(Some(now)),
        award_proposals::decision_note.eq(note),
    ))
    .execute(conn)
}
