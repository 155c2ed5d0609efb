//! Households, residents, adoption ledger, service catalogue and teams.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::schema::{
    adoptions, changes, households, residents, services, team_members, teams, villages,
};
use super::DbConnection;

// ---------------------------------------------------------------- change log

/// Appends to the change log the sync pull reads. Call in the same transaction as the change.
pub fn record_change(
    conn: &mut DbConnection,
    kind: &str,
    object_id: &str,
    commune_id: Option<&str>,
    village_id: Option<&str>,
    op: &str,
) -> QueryResult<()> {
    record_change_by(conn, kind, object_id, commune_id, village_id, op, None)
}

/// Like [`record_change`], naming the author (a phone pulls only its own difficulties; see
/// `sync::changes_after`).
pub fn record_change_by(
    conn: &mut DbConnection,
    kind: &str,
    object_id: &str,
    commune_id: Option<&str>,
    village_id: Option<&str>,
    op: &str,
    user_id: Option<&str>,
) -> QueryResult<()> {
    // `tx` keeps its default: 0 on SQLite, the writing transaction's id on PostgreSQL.
    diesel::insert_into(changes::table)
        .values((
            changes::kind.eq(kind),
            changes::object_id.eq(object_id),
            changes::commune_id.eq(commune_id),
            changes::village_id.eq(village_id),
            changes::op.eq(op),
            changes::changed_at.eq(super::now()),
            changes::user_id.eq(user_id),
        ))
        .execute(conn)
        .map(|_| ())
}

/// [`record_change_by`] for many objects of one kind at once (one multi-row statement per 500):
/// (object id, commune, village, author if only the author pulls it) each.
pub fn record_changes_by(
    conn: &mut DbConnection,
    kind: &str,
    objects: &[(&str, &str, &str, Option<&str>)],
) -> QueryResult<()> {
    let now = super::now();
    let rows: Vec<_> = objects
        .iter()
        .map(|(id, commune, village, user)| {
            (
                changes::kind.eq(kind),
                changes::object_id.eq(*id),
                changes::commune_id.eq(Some(*commune)),
                changes::village_id.eq(Some(*village)),
                changes::op.eq("upsert"),
                changes::changed_at.eq(now),
                changes::user_id.eq(*user),
            )
        })
        .collect();
    for chunk in rows.chunks(super::sync::BATCH_ROWS) {
        crate::per_backend!(conn, |c| diesel::insert_into(changes::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- villages

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = villages)]
pub struct Village {
    pub id: String,
    pub commune_id: String,
    pub code: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find_village(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Village>> {
    villages::table
        .find(id)
        .select(Village::as_select())
        .get_result(conn)
        .optional()
}

pub fn villages_of_commune(conn: &mut DbConnection, commune_id: &str) -> QueryResult<Vec<Village>> {
    villages::table
        .filter(villages::commune_id.eq(commune_id))
        .order(villages::code)
        .select(Village::as_select())
        .load(conn)
}

// ---------------------------------------------------------------- services

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: String,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub department: String,
    pub level: String,
    pub min_age: Option<i32>,
    pub sort_order: i32,
    pub retired_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = services)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewService<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub name_vi: &'a str,
    pub name_en: &'a str,
    pub department: &'a str,
    pub level: &'a str,
    pub min_age: Option<i32>,
    pub sort_order: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceChangeset {
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub department: Option<String>,
    pub min_age: Option<Option<i32>>,
    pub sort_order: Option<i32>,
    pub retired_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn list_services(conn: &mut DbConnection, include_retired: bool) -> QueryResult<Vec<Service>> {
    let mut q = services::table.select(Service::as_select()).into_boxed();
    if !include_retired {
        q = q.filter(services::retired_at.is_null());
    }
    q.order((services::sort_order, services::code)).load(conn)
}

pub fn find_service(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Service>> {
    services::table
        .find(id)
        .select(Service::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_service_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Service>> {
    services::table
        .filter(services::code.eq(code))
        .select(Service::as_select())
        .get_result(conn)
        .optional()
}

/// Checks a list of service codes sent as `field` (at most 20, each in the catalogue), adding a field
/// error for each problem; returns the list as stored (a JSON array).
pub fn check_service_codes(
    conn: &mut DbConnection,
    codes: &[String],
    field: &str,
    errors: &mut Vec<crate::error::FieldError>,
) -> QueryResult<String> {
    use crate::error::FieldError;
    if codes.len() > 20 {
        errors.push(FieldError::new(field, "too_many", "at most 20 services"));
    }
    for (i, code) in codes.iter().enumerate() {
        if find_service_by_code(conn, code)?.is_none() {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown_service",
                "no such service",
            ));
        }
    }
    Ok(serde_json::to_string(codes).unwrap_or_else(|_| "[]".into()))
}

pub fn insert_service(conn: &mut DbConnection, s: &NewService<'_>) -> QueryResult<()> {
    diesel::insert_into(services::table)
        .values(s)
        .execute(conn)
        .map(|_| ())
}

pub fn update_service(
    conn: &mut DbConnection,
    id: &str,
    c: &ServiceChangeset,
) -> QueryResult<usize> {
    diesel::update(services::table.find(id))
        .set(c)
        .execute(conn)
}

// ---------------------------------------------------------------- teams

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: String,
    pub commune_id: String,
    pub village_id: Option<String>,
    pub name: String,
    pub decision_number: String,
    pub decision_date: NaiveDate,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = teams)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewTeam<'a> {
    pub id: &'a str,
    pub commune_id: &'a str,
    pub village_id: Option<&'a str>,
    pub name: &'a str,
    pub decision_number: &'a str,
    pub decision_date: NaiveDate,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = teams)]
pub struct TeamChangeset {
    pub name: Option<String>,
    pub decision_number: Option<String>,
    pub decision_date: Option<NaiveDate>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Teams of a commune; `villages` narrows to the commune-level team plus those villages' teams.
pub fn list_teams(
    conn: &mut DbConnection,
    commune_id: Option<&str>,
    villages: Option<&[String]>,
) -> QueryResult<Vec<Team>> {
    let mut q = teams::table.select(Team::as_select()).into_boxed();
    if let Some(c) = commune_id {
        q = q.filter(teams::commune_id.eq(c.to_owned()));
    }
    if let Some(v) = villages {
        q = q.filter(
            teams::village_id
                .is_null()
                .or(teams::village_id.eq_any(v.to_vec())),
        );
    }
    q.order((teams::commune_id, teams::village_id, teams::name))
        .load(conn)
}

pub fn find_team(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Team>> {
    teams::table
        .find(id)
        .select(Team::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_team(conn: &mut DbConnection, t: &NewTeam<'_>) -> QueryResult<()> {
    diesel::insert_into(teams::table)
        .values(t)
        .execute(conn)
        .map(|_| ())
}

pub fn update_team(conn: &mut DbConnection, id: &str, c: &TeamChangeset) -> QueryResult<usize> {
    diesel::update(teams::table.find(id)).set(c).execute(conn)
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = team_members)]
pub struct TeamMember {
    pub id: String,
    pub team_id: String,
    pub commune_id: String,
    pub full_name: String,
    pub position: String,
    pub origin: String,
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub active_from: NaiveDate,
    pub active_until: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = team_members)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewTeamMember<'a> {
    pub id: &'a str,
    pub team_id: &'a str,
    pub commune_id: &'a str,
    pub full_name: &'a str,
    pub position: &'a str,
    pub origin: &'a str,
    pub phone: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub active_from: NaiveDate,
    pub active_until: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = team_members)]
pub struct TeamMemberChangeset {
    pub full_name: Option<String>,
    pub position: Option<String>,
    pub origin: Option<String>,
    pub phone: Option<Option<String>>,
    pub user_id: Option<Option<String>>,
    pub active_from: Option<NaiveDate>,
    pub active_until: Option<Option<NaiveDate>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn list_members(conn: &mut DbConnection, team_id: &str) -> QueryResult<Vec<TeamMember>> {
    team_members::table
        .filter(team_members::team_id.eq(team_id))
        .order((team_members::position, team_members::full_name))
        .select(TeamMember::as_select())
        .load(conn)
}

pub fn find_member(conn: &mut DbConnection, id: &str) -> QueryResult<Option<TeamMember>> {
    team_members::table
        .find(id)
        .select(TeamMember::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_member(conn: &mut DbConnection, m: &NewTeamMember<'_>) -> QueryResult<()> {
    diesel::insert_into(team_members::table)
        .values(m)
        .execute(conn)
        .map(|_| ())
}

pub fn update_member(
    conn: &mut DbConnection,
    id: &str,
    c: &TeamMemberChangeset,
) -> QueryResult<usize> {
    diesel::update(team_members::table.find(id))
        .set(c)
        .execute(conn)
}

// ---------------------------------------------------------------- households

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = households)]
pub struct Household {
    pub id: String,
    pub commune_id: String,
    pub village_id: String,
    pub hamlet: Option<String>,
    pub lane: Option<String>,
    pub house_number: Option<String>,
    pub head_name: String,
    pub phone: Option<String>,
    pub search_key: String,
    pub consent_by: Option<String>,
    pub consent_at: Option<NaiveDateTime>,
    pub consent_notice_version: Option<String>,
    pub last_visited_at: Option<NaiveDateTime>,
    pub version: i64,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = households)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewHousehold<'a> {
    pub id: &'a str,
    pub commune_id: &'a str,
    pub village_id: &'a str,
    pub hamlet: Option<&'a str>,
    pub lane: Option<&'a str>,
    pub house_number: Option<&'a str>,
    pub head_name: &'a str,
    pub phone: Option<&'a str>,
    pub search_key: &'a str,
    pub consent_by: Option<&'a str>,
    pub consent_at: Option<NaiveDateTime>,
    pub consent_notice_version: Option<&'a str>,
    pub version: i64,
    pub created_by: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = households)]
pub struct HouseholdChangeset {
    pub hamlet: Option<Option<String>>,
    pub lane: Option<Option<String>>,
    pub house_number: Option<Option<String>>,
    pub head_name: Option<String>,
    pub phone: Option<Option<String>>,
    pub consent_by: Option<Option<String>>,
    pub consent_at: Option<Option<NaiveDateTime>>,
    pub consent_notice_version: Option<Option<String>>,
    pub deleted_at: Option<Option<NaiveDateTime>>,
}

/// Which households a caller may read.
#[derive(Clone, Debug)]
pub enum HouseholdScope {
    All,
    Commune(String),
    Villages(Vec<String>),
}

#[derive(Clone, Debug, Default)]
pub struct HouseholdFilter {
    pub village_id: Option<String>,
    pub hamlet: Option<String>,
    /// A LIKE pattern over `search_key` (see `domain::search::like_pattern`).
    pub search: Option<String>,
    /// (service code, level, minimum age, current year): households with someone still missing it.
    pub missing_service: Option<(String, String, Option<i32>, i32)>,
    pub not_visited_since: Option<NaiveDateTime>,
}

const SETTLED: [&str; 2] = ["done", "not_applicable"];

pub fn list_households(
    conn: &mut DbConnection,
    scope: &HouseholdScope,
    filter: &HouseholdFilter,
    after_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Household>> {
    let mut q = households::table
        .select(Household::as_select())
        .filter(households::deleted_at.is_null())
        .into_boxed();
    match scope {
        HouseholdScope::All => {}
        HouseholdScope::Commune(c) => q = q.filter(households::commune_id.eq(c.clone())),
        HouseholdScope::Villages(v) => q = q.filter(households::village_id.eq_any(v.clone())),
    }
    if let Some(v) = &filter.village_id {
        q = q.filter(households::village_id.eq(v.clone()));
    }
    if let Some(h) = &filter.hamlet {
        q = q.filter(households::hamlet.eq(h.clone()));
    }
    if let Some(pattern) = &filter.search {
        q = q.filter(households::search_key.like(pattern.clone()).escape('\\'));
    }
    if let Some(since) = filter.not_visited_since {
        q = q.filter(
            households::last_visited_at
                .is_null()
                .or(households::last_visited_at.lt(since)),
        );
    }
    if let Some((code, level, min_age, year)) = &filter.missing_service {
        if level == "household" {
            q = q.filter(not(exists(
                adoptions::table
                    .filter(adoptions::subject_id.eq(households::id))
                    .filter(adoptions::service_code.eq(code.clone()))
                    .filter(adoptions::status.eq_any(SETTLED)),
            )));
        } else {
            // Boxed subqueries cannot be dispatched per backend, hence two unboxed branches.
            let unsettled = residents::table
                .filter(residents::deleted_at.is_null())
                .filter(not(exists(
                    adoptions::table
                        .filter(adoptions::subject_id.eq(residents::id))
                        .filter(adoptions::service_code.eq(code.clone()))
                        .filter(adoptions::status.eq_any(SETTLED)),
                )));
            q = match min_age {
                // An unknown birth year stays on the list: better one visit too many than one missed.
                Some(age) => q.filter(
                    households::id.eq_any(
                        unsettled
                            .filter(
                                residents::birth_year
                                    .is_null()
                                    .or(residents::birth_year.le(year - age)),
                            )
                            .select(residents::household_id),
                    ),
                ),
                None => q.filter(households::id.eq_any(unsettled.select(residents::household_id))),
            };
        }
    }
    if let Some(after) = after_id {
        q = q.filter(households::id.gt(after.to_owned()));
    }
    q.order(households::id).limit(limit).load(conn)
}

pub fn find_household(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Household>> {
    households::table
        .find(id)
        .filter(households::deleted_at.is_null())
        .select(Household::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_household(conn: &mut DbConnection, h: &NewHousehold<'_>) -> QueryResult<()> {
    diesel::insert_into(households::table)
        .values(h)
        .execute(conn)?;
    record_change(
        conn,
        "household",
        h.id,
        Some(h.commune_id),
        Some(h.village_id),
        "upsert",
    )
}

/// Applies `changes` when the stored version is still `expected_version`; returns the new version,
/// or `None` when someone else changed it first.
pub fn update_household(
    conn: &mut DbConnection,
    current: &Household,
    expected_version: i64,
    changes: &HouseholdChangeset,
) -> QueryResult<Option<i64>> {
    let now = super::now();
    let n = diesel::update(
        households::table
            .find(&current.id)
            .filter(households::version.eq(expected_version)),
    )
    .set((
        changes,
        households::version.eq(expected_version + 1),
        households::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let op = if changes.deleted_at.as_ref().is_some_and(|d| d.is_some()) {
        "delete"
    } else {
        "upsert"
    };
    record_change(
        conn,
        "household",
        &current.id,
        Some(&current.commune_id),
        Some(&current.village_id),
        op,
    )?;
    Ok(Some(expected_version + 1))
}

/// Rebuilds the search key from the head, the living residents and the address.
pub fn refresh_search_key(conn: &mut DbConnection, household_id: &str) -> QueryResult<()> {
    let Some(h) = households::table
        .find(household_id)
        .select(Household::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(());
    };
    let names: Vec<String> = residents::table
        .filter(residents::household_id.eq(household_id))
        .filter(residents::deleted_at.is_null())
        .order(residents::created_at)
        .select(residents::full_name)
        .load(conn)?;
    let key = household_search_key(
        &h.head_name,
        &names,
        h.hamlet.as_deref(),
        h.lane.as_deref(),
        h.house_number.as_deref(),
        h.phone.as_deref(),
    );
    diesel::update(households::table.find(household_id))
        .set(households::search_key.eq(key))
        .execute(conn)?;
    Ok(())
}

pub fn household_search_key(
    head: &str,
    residents: &[String],
    hamlet: Option<&str>,
    lane: Option<&str>,
    house_number: Option<&str>,
    phone: Option<&str>,
) -> String {
    let mut parts: Vec<&str> = vec![head];
    parts.extend(residents.iter().map(String::as_str));
    parts.extend([hamlet, lane, house_number, phone].into_iter().flatten());
    crate::domain::search::key(parts)
}

// ---------------------------------------------------------------- residents

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = residents)]
pub struct Resident {
    pub id: String,
    pub household_id: String,
    pub commune_id: String,
    pub village_id: String,
    pub full_name: String,
    pub birth_year: Option<i32>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub relation_to_head: Option<String>,
    pub version: i64,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = residents)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewResident<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    pub commune_id: &'a str,
    pub village_id: &'a str,
    pub full_name: &'a str,
    pub birth_year: Option<i32>,
    pub sex: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub relation_to_head: Option<&'a str>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = residents)]
pub struct ResidentChangeset {
    pub full_name: Option<String>,
    pub birth_year: Option<Option<i32>>,
    pub sex: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub relation_to_head: Option<Option<String>>,
    pub deleted_at: Option<Option<NaiveDateTime>>,
}

/// The living residents of one household (`=` rather than `IN (…)`, so the statement is cached:
/// a sync push asks it for every visit).
pub fn residents_of_household(
    conn: &mut DbConnection,
    household_id: &str,
) -> QueryResult<Vec<Resident>> {
    residents::table
        .filter(residents::household_id.eq(household_id))
        .filter(residents::deleted_at.is_null())
        .order((residents::created_at, residents::id))
        .select(Resident::as_select())
        .load(conn)
}

pub fn residents_of(
    conn: &mut DbConnection,
    household_ids: &[String],
) -> QueryResult<Vec<Resident>> {
    residents::table
        .filter(residents::household_id.eq_any(household_ids))
        .filter(residents::deleted_at.is_null())
        .order((
            residents::household_id,
            residents::created_at,
            residents::id,
        ))
        .select(Resident::as_select())
        .load(conn)
}

pub fn find_resident(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Resident>> {
    residents::table
        .find(id)
        .filter(residents::deleted_at.is_null())
        .select(Resident::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_resident(conn: &mut DbConnection, r: &NewResident<'_>) -> QueryResult<()> {
    diesel::insert_into(residents::table)
        .values(r)
        .execute(conn)?;
    record_change(
        conn,
        "resident",
        r.id,
        Some(r.commune_id),
        Some(r.village_id),
        "upsert",
    )
}

pub fn update_resident(
    conn: &mut DbConnection,
    current: &Resident,
    expected_version: i64,
    changes: &ResidentChangeset,
) -> QueryResult<Option<i64>> {
    let n = diesel::update(
        residents::table
            .find(&current.id)
            .filter(residents::version.eq(expected_version)),
    )
    .set((
        changes,
        residents::version.eq(expected_version + 1),
        residents::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let op = if changes.deleted_at.as_ref().is_some_and(|d| d.is_some()) {
        "delete"
    } else {
        "upsert"
    };
    record_change(
        conn,
        "resident",
        &current.id,
        Some(&current.commune_id),
        Some(&current.village_id),
        op,
    )?;
    Ok(Some(expected_version + 1))
}

/// Soft-deletes every living resident of a household (the household itself was deleted).
pub fn delete_residents_of(conn: &mut DbConnection, household: &Household) -> QueryResult<()> {
    let now = super::now();
    let ids: Vec<String> = residents::table
        .filter(residents::household_id.eq(&household.id))
        .filter(residents::deleted_at.is_null())
        .select(residents::id)
        .load(conn)?;
    diesel::update(residents::table.filter(residents::id.eq_any(&ids)))
        .set((
            residents::deleted_at.eq(now),
            residents::version.eq(residents::version + 1),
            residents::updated_at.eq(now),
        ))
        .execute(conn)?;
    for id in ids {
        record_change(
            conn,
            "resident",
            &id,
            Some(&household.commune_id),
            Some(&household.village_id),
            "delete",
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- adoption

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = adoptions)]
pub struct Adoption {
    pub id: String,
    pub commune_id: String,
    pub village_id: String,
    pub household_id: String,
    pub resident_id: Option<String>,
    pub subject_id: String,
    pub service_code: String,
    pub status: String,
    pub status_on: NaiveDate,
    pub set_by: Option<String>,
    pub source: String,
    pub source_record_id: Option<String>,
    pub note: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub fn adoptions_of(conn: &mut DbConnection, household_id: &str) -> QueryResult<Vec<Adoption>> {
    adoptions::table
        .filter(adoptions::household_id.eq(household_id))
        .order((adoptions::service_code, adoptions::subject_id))
        .select(Adoption::as_select())
        .load(conn)
}

/// Status counts per household for a page of households: (household id, status, count).
pub fn adoption_counts(
    conn: &mut DbConnection,
    household_ids: &[String],
) -> QueryResult<Vec<(String, String, i64)>> {
    adoptions::table
        .filter(adoptions::household_id.eq_any(household_ids))
        .group_by((adoptions::household_id, adoptions::status))
        .select((
            adoptions::household_id,
            adoptions::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// The entry of a subject for a service, to write.
pub struct AdoptionEntry<'a> {
    pub household: &'a Household,
    pub resident_id: Option<&'a str>,
    pub service_code: &'a str,
    pub status: &'a str,
    pub status_on: NaiveDate,
    pub set_by: Option<&'a str>,
    pub source: &'a str,
    pub source_record_id: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Sets a subject's status for a service; returns the previous status, if any.
pub fn set_adoption(conn: &mut DbConnection, e: &AdoptionEntry<'_>) -> QueryResult<Option<String>> {
    set_adoption_known(conn, e, None)
}

/// [`set_adoption`] when the caller has just read the subject's entry for the service (its id and
/// status): one statement fewer. With `None` the entry is looked up as usual.
pub fn set_adoption_known(
    conn: &mut DbConnection,
    e: &AdoptionEntry<'_>,
    known: Option<(&str, &str)>,
) -> QueryResult<Option<String>> {
    let subject = e.resident_id.unwrap_or(&e.household.id);
    let now = super::now();
    let existing: Option<(String, String)> = match known {
        Some((id, status)) => Some((id.to_owned(), status.to_owned())),
        None => adoptions::table
            .filter(adoptions::subject_id.eq(subject))
            .filter(adoptions::service_code.eq(e.service_code))
            .select((adoptions::id, adoptions::status))
            .get_result(conn)
            .optional()?,
    };
    let id = match &existing {
        Some((id, _)) => {
            diesel::update(adoptions::table.find(id))
                .set((
                    adoptions::status.eq(e.status),
                    adoptions::status_on.eq(e.status_on),
                    adoptions::set_by.eq(e.set_by),
                    adoptions::source.eq(e.source),
                    adoptions::source_record_id.eq(e.source_record_id),
                    adoptions::note.eq(e.note),
                    adoptions::updated_at.eq(now),
                ))
                .execute(conn)?;
            id.clone()
        }
        None => {
            let id = super::new_id();
            diesel::insert_into(adoptions::table)
                .values((
                    adoptions::id.eq(&id),
                    adoptions::commune_id.eq(&e.household.commune_id),
                    adoptions::village_id.eq(&e.household.village_id),
                    adoptions::household_id.eq(&e.household.id),
                    adoptions::resident_id.eq(e.resident_id),
                    adoptions::subject_id.eq(subject),
                    adoptions::service_code.eq(e.service_code),
                    adoptions::status.eq(e.status),
                    adoptions::status_on.eq(e.status_on),
                    adoptions::set_by.eq(e.set_by),
                    adoptions::source.eq(e.source),
                    adoptions::source_record_id.eq(e.source_record_id),
                    adoptions::note.eq(e.note),
                    adoptions::updated_at.eq(now),
                ))
                .execute(conn)?;
            id
        }
    };
    record_change(
        conn,
        "adoption",
        &id,
        Some(&e.household.commune_id),
        Some(&e.household.village_id),
        "upsert",
    )?;
    Ok(existing.map(|(_, s)| s))
}

/// A household to create, with its residents.
pub struct HouseholdDraft<'a> {
    /// The id the phone gave a household created offline; a new one otherwise.
    pub id: Option<&'a str>,
    pub commune_id: &'a str,
    pub village_id: &'a str,
    pub hamlet: Option<&'a str>,
    pub lane: Option<&'a str>,
    pub house_number: Option<&'a str>,
    pub head_name: &'a str,
    pub phone: Option<&'a str>,
    /// (collected by, at, notice version)
    pub consent: Option<(&'a str, NaiveDateTime, &'a str)>,
    pub created_by: Option<&'a str>,
    pub residents: Vec<ResidentDraft<'a>>,
}

pub struct ResidentDraft<'a> {
    pub full_name: &'a str,
    pub birth_year: Option<i32>,
    pub sex: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub relation_to_head: Option<&'a str>,
}

/// Creates a household and its residents (with their search key and change-log entries); returns
/// the household id and the resident ids in order.
pub fn create_household(
    conn: &mut DbConnection,
    d: &HouseholdDraft<'_>,
) -> QueryResult<(String, Vec<String>)> {
    let id = d.id.map(str::to_owned).unwrap_or_else(super::new_id);
    let now = super::now();
    let names: Vec<String> = d.residents.iter().map(|r| r.full_name.to_owned()).collect();
    let key = household_search_key(
        d.head_name,
        &names,
        d.hamlet,
        d.lane,
        d.house_number,
        d.phone,
    );
    insert_household(
        conn,
        &NewHousehold {
            id: &id,
            commune_id: d.commune_id,
            village_id: d.village_id,
            hamlet: d.hamlet,
            lane: d.lane,
            house_number: d.house_number,
            head_name: d.head_name,
            phone: d.phone,
            search_key: &key,
            consent_by: d.consent.map(|c| c.0),
            consent_at: d.consent.map(|c| c.1),
            consent_notice_version: d.consent.map(|c| c.2),
            version: 1,
            created_by: d.created_by,
            created_at: now,
            updated_at: now,
        },
    )?;
    let mut resident_ids = Vec::with_capacity(d.residents.len());
    for r in &d.residents {
        let rid = super::new_id();
        insert_resident(
            conn,
            &NewResident {
                id: &rid,
                household_id: &id,
                commune_id: d.commune_id,
                village_id: d.village_id,
                full_name: r.full_name,
                birth_year: r.birth_year,
                sex: r.sex,
                phone: r.phone,
                relation_to_head: r.relation_to_head,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        resident_ids.push(rid);
    }
    Ok((id, resident_ids))
}

/// What identifies a household in a village list: its head and address.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = households)]
pub struct HouseholdIdentity {
    pub id: String,
    pub village_id: String,
    pub head_name: String,
    pub hamlet: Option<String>,
    pub lane: Option<String>,
    pub house_number: Option<String>,
}

/// The living households of some villages, to recognise one an import already brought in.
pub fn household_identities(
    conn: &mut DbConnection,
    village_ids: &[String],
) -> QueryResult<Vec<HouseholdIdentity>> {
    households::table
        .filter(households::village_id.eq_any(village_ids))
        .filter(households::deleted_at.is_null())
        .select(HouseholdIdentity::as_select())
        .load(conn)
}

/// Households and their residents for an export, in id order, at most `limit` households.
pub fn households_with_residents(
    conn: &mut DbConnection,
    scope: &HouseholdScope,
    village_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(Household, Vec<Resident>)>> {
    let filter = HouseholdFilter {
        village_id: village_id.map(str::to_owned),
        ..Default::default()
    };
    let hs = list_households(conn, scope, &filter, None, limit)?;
    let ids: Vec<String> = hs.iter().map(|h| h.id.clone()).collect();
    let mut by_household: std::collections::HashMap<String, Vec<Resident>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for r in residents_of(conn, chunk)? {
            by_household
                .entry(r.household_id.clone())
                .or_default()
                .push(r);
        }
    }
    Ok(hs
        .into_iter()
        .map(|h| {
            let rs = by_household.remove(&h.id).unwrap_or_default();
            (h, rs)
        })
        .collect())
}

/// Notes a visit; the phone learns it through the household's change.
pub fn set_last_visited(
    conn: &mut DbConnection,
    h: &Household,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(households::table.find(&h.id))
        .set(households::last_visited_at.eq(at))
        .execute(conn)?;
    record_change(
        conn,
        "household",
        &h.id,
        Some(&h.commune_id),
        Some(&h.village_id),
        "upsert",
    )
}

/// [`set_last_visited`] for the households of a batch, their change-log entries in one statement.
pub fn set_last_visited_many(
    conn: &mut DbConnection,
    visits: &[(&Household, NaiveDateTime)],
) -> QueryResult<()> {
    for (h, at) in visits {
        diesel::update(households::table.find(&h.id))
            .set(households::last_visited_at.eq(at))
            .execute(conn)?;
    }
    let changed: Vec<(&str, &str, &str, Option<&str>)> = visits
        .iter()
        .map(|(h, _)| {
            (
                h.id.as_str(),
                h.commune_id.as_str(),
                h.village_id.as_str(),
                None,
            )
        })
        .collect();
    record_changes_by(conn, "household", &changed)
}

/// Every adoption entry of a household for one service.
pub fn adoptions_for(
    conn: &mut DbConnection,
    household_id: &str,
    service_code: &str,
) -> QueryResult<Vec<Adoption>> {
    adoptions::table
        .filter(adoptions::household_id.eq(household_id))
        .filter(adoptions::service_code.eq(service_code))
        .select(Adoption::as_select())
        .load(conn)
}

/// The ledger entries of many households at once (one read per 500 households).
pub fn adoptions_of_households(
    conn: &mut DbConnection,
    household_ids: &[String],
) -> QueryResult<Vec<Adoption>> {
    let mut out = vec![];
    for chunk in household_ids.chunks(super::sync::BATCH_ROWS) {
        out.extend(
            adoptions::table
                .filter(adoptions::household_id.eq_any(chunk))
                .select(Adoption::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Writes ledger entries as they are: new ones in multi-row inserts (500 a statement), the others
/// updated by id. The caller logs the changes.
pub fn write_adoptions(
    conn: &mut DbConnection,
    new: &[&Adoption],
    changed: &[&Adoption],
) -> QueryResult<()> {
    for a in changed {
        diesel::update(adoptions::table.find(&a.id))
            .set((
                adoptions::status.eq(&a.status),
                adoptions::status_on.eq(a.status_on),
                adoptions::set_by.eq(&a.set_by),
                adoptions::source.eq(&a.source),
                adoptions::source_record_id.eq(&a.source_record_id),
                adoptions::note.eq(&a.note),
                adoptions::updated_at.eq(a.updated_at),
            ))
            .execute(conn)?;
    }
    let rows: Vec<_> = new
        .iter()
        .map(|a| {
            (
                adoptions::id.eq(&a.id),
                adoptions::commune_id.eq(&a.commune_id),
                adoptions::village_id.eq(&a.village_id),
                adoptions::household_id.eq(&a.household_id),
                adoptions::resident_id.eq(&a.resident_id),
                adoptions::subject_id.eq(&a.subject_id),
                adoptions::service_code.eq(&a.service_code),
                adoptions::status.eq(&a.status),
                adoptions::status_on.eq(a.status_on),
                adoptions::set_by.eq(&a.set_by),
                adoptions::source.eq(&a.source),
                adoptions::source_record_id.eq(&a.source_record_id),
                adoptions::note.eq(&a.note),
                adoptions::updated_at.eq(a.updated_at),
            )
        })
        .collect();
    for chunk in rows.chunks(super::sync::BATCH_ROWS) {
        crate::per_backend!(conn, |c| diesel::insert_into(adoptions::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Households by id, deleted ones included (the pull sends their tombstones).
pub fn households_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Household>> {
    households::table
        .filter(households::id.eq_any(ids))
        .select(Household::as_select())
        .load(conn)
}

/// Residents by id, deleted ones included.
pub fn residents_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Resident>> {
    residents::table
        .filter(residents::id.eq_any(ids))
        .select(Resident::as_select())
        .load(conn)
}

pub fn adoptions_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Adoption>> {
    adoptions::table
        .filter(adoptions::id.eq_any(ids))
        .select(Adoption::as_select())
        .load(conn)
}

pub fn services_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Service>> {
    services::table
        .filter(services::id.eq_any(ids))
        .select(Service::as_select())
        .load(conn)
}
