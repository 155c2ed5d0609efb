//! Indicators and the grouped counts behind the figures. Every count is per village of one commune;
//! the caller's scope picks villages afterwards, so one query serves a village leader and the
//! chairman alike.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::schema::{
    adoption_tallies, adoptions, assistance_records, household_tallies, households, indicators,
    item_tallies, resident_tallies, residents, visit_tallies,
};
use super::DbConnection;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = indicators)]
pub struct Indicator {
    pub id: String,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub department: String,
    pub kind: String,
    pub service_code: Option<String>,
    pub level: String,
    pub min_age: Option<i32>,
    pub target_percent: Option<f64>,
    pub sort_order: i32,
    pub retired_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = indicators)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewIndicator<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub name_vi: &'a str,
    pub name_en: &'a str,
    pub department: &'a str,
    pub kind: &'a str,
    pub service_code: Option<&'a str>,
    pub level: &'a str,
    pub min_age: Option<i32>,
    pub target_percent: Option<f64>,
    pub sort_order: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = indicators)]
pub struct IndicatorChangeset {
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub department: Option<String>,
    pub min_age: Option<Option<i32>>,
    pub target_percent: Option<Option<f64>>,
    pub sort_order: Option<i32>,
    pub retired_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn list_indicators(
    conn: &mut DbConnection,
    include_retired: bool,
) -> QueryResult<Vec<Indicator>> {
    let mut q = indicators::table
        .select(Indicator::as_select())
        .into_boxed();
    if !include_retired {
        q = q.filter(indicators::retired_at.is_null());
    }
    q.order((indicators::sort_order, indicators::code))
        .load(conn)
}

pub fn find_indicator(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Indicator>> {
    indicators::table
        .find(id)
        .select(Indicator::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_indicator_by_code(
    conn: &mut DbConnection,
    code: &str,
) -> QueryResult<Option<Indicator>> {
    indicators::table
        .filter(indicators::code.eq(code))
        .select(Indicator::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_indicator(conn: &mut DbConnection, i: &NewIndicator<'_>) -> QueryResult<()> {
    diesel::insert_into(indicators::table)
        .values(i)
        .execute(conn)
        .map(|_| ())
}

pub fn update_indicator(
    conn: &mut DbConnection,
    id: &str,
    c: &IndicatorChangeset,
) -> QueryResult<usize> {
    diesel::update(indicators::table.find(id))
        .set(c)
        .execute(conn)
}

/// Subjects of a commune living at a period's end (not deleted before it), per village and birth year
/// (0: unknown; always 0 for households): the tallies of today plus those deleted since.
pub fn living_subjects(
    conn: &mut DbConnection,
    commune_id: &str,
    person: bool,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, i32, i64)>> {
    if person {
        let mut rows: Vec<(String, i32, i64)> = resident_tallies::table
            .filter(resident_tallies::commune_id.eq(commune_id))
            .filter(resident_tallies::residents.ne(0))
            .select((
                resident_tallies::village_id,
                resident_tallies::birth_year,
                resident_tallies::residents,
            ))
            .load::<(String, i32, i32)>(conn)?
            .into_iter()
            .map(|(v, b, n)| (v, b, i64::from(n)))
            .collect();
        let gone: Vec<(String, Option<i32>, i64)> = residents::table
            .filter(residents::commune_id.eq(commune_id))
            .filter(residents::deleted_at.ge(end))
            .group_by((residents::village_id, residents::birth_year))
            .select((residents::village_id, residents::birth_year, count_star()))
            .load(conn)?;
        rows.extend(gone.into_iter().map(|(v, b, n)| (v, b.unwrap_or(0), n)));
        Ok(rows)
    } else {
        let mut rows: Vec<(String, i32, i64)> = household_tallies::table
            .filter(household_tallies::commune_id.eq(commune_id))
            .filter(household_tallies::households.ne(0))
            .select((household_tallies::village_id, household_tallies::households))
            .load::<(String, i32)>(conn)?
            .into_iter()
            .map(|(v, n)| (v, 0, i64::from(n)))
            .collect();
        let gone: Vec<(String, i64)> = households::table
            .filter(households::commune_id.eq(commune_id))
            .filter(households::deleted_at.ge(end))
            .group_by(households::village_id)
            .select((households::village_id, count_star()))
            .load(conn)?;
        rows.extend(gone.into_iter().map(|(v, n)| (v, 0, n)));
        Ok(rows)
    }
}

/// The statuses an indicator needs besides "in the denominator".
const COUNTED_STATUSES: [&str; 2] = ["done", "not_applicable"];

/// Subjects living at a period's end whose ledger said `done` or `not_applicable` for `service`
/// before `end_day`, per village, birth year (as in [`living_subjects`]) and status. The tallies give
/// the living subjects' entries by the month they were set in, so whole months before `end_day` come
/// from them; the days of a partial last month (weeks) and the subjects deleted since the end come
/// from the rows, and both are few.
pub fn ledger_at(
    conn: &mut DbConnection,
    commune_id: &str,
    service: &str,
    person: bool,
    end_day: NaiveDate,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, i32, String, i64)>> {
    use chrono::Datelike;
    let month = end_day.with_day(1).unwrap_or(end_day);
    let mut rows: Vec<(String, i32, String, i64)> = adoption_tallies::table
        .filter(adoption_tallies::commune_id.eq(commune_id))
        .filter(adoption_tallies::service_code.eq(service))
        .filter(adoption_tallies::status.eq_any(COUNTED_STATUSES))
        .filter(adoption_tallies::status_month.lt(month))
        .filter(adoption_tallies::subjects.ne(0))
        .select((
            adoption_tallies::village_id,
            adoption_tallies::birth_year,
            adoption_tallies::status,
            adoption_tallies::subjects,
        ))
        .load::<(String, i32, String, i32)>(conn)?
        .into_iter()
        .map(|(v, b, st, n)| (v, b, st, i64::from(n)))
        .collect();
    let counted = || {
        adoptions::table
            .filter(adoptions::commune_id.eq(commune_id))
            .filter(adoptions::service_code.eq(service))
            .filter(adoptions::status.eq_any(COUNTED_STATUSES))
    };
    let partial = month < end_day;
    if person {
        let by_resident =
            || counted().inner_join(residents::table.on(residents::id.eq(adoptions::subject_id)));
        // Deleted since the end: not in today's tallies, but in the period's figures. Found from
        // the few deleted residents (an index), not from every entry of the service.
        let gone: Vec<String> = residents::table
            .filter(residents::commune_id.eq(commune_id))
            .filter(residents::deleted_at.ge(end))
            .select(residents::id)
            .load(conn)?;
        let mut extra: Vec<(String, Option<i32>, String, i64)> = vec![];
        for ids in gone.chunks(500) {
            extra.extend(
                by_resident()
                    .filter(adoptions::subject_id.eq_any(ids))
                    .filter(adoptions::status_on.lt(end_day))
                    .group_by((
                        residents::village_id,
                        residents::birth_year,
                        adoptions::status,
                    ))
                    .select((
                        residents::village_id,
                        residents::birth_year,
                        adoptions::status,
                        count_star(),
                    ))
                    .load::<(String, Option<i32>, String, i64)>(conn)?,
            );
        }
        if partial {
            extra.extend(
                by_resident()
                    .filter(residents::deleted_at.is_null())
                    .filter(adoptions::status_on.ge(month))
                    .filter(adoptions::status_on.lt(end_day))
                    .group_by((
                        residents::village_id,
                        residents::birth_year,
                        adoptions::status,
                    ))
                    .select((
                        residents::village_id,
                        residents::birth_year,
                        adoptions::status,
                        count_star(),
                    ))
                    .load::<(String, Option<i32>, String, i64)>(conn)?,
            );
        }
        rows.extend(
            extra
                .into_iter()
                .map(|(v, b, st, n)| (v, b.unwrap_or(0), st, n)),
        );
    } else {
        let by_household =
            || counted().inner_join(households::table.on(households::id.eq(adoptions::subject_id)));
        let gone: Vec<String> = households::table
            .filter(households::commune_id.eq(commune_id))
            .filter(households::deleted_at.ge(end))
            .select(households::id)
            .load(conn)?;
        let mut extra: Vec<(String, String, i64)> = vec![];
        for ids in gone.chunks(500) {
            extra.extend(
                by_household()
                    .filter(adoptions::subject_id.eq_any(ids))
                    .filter(adoptions::status_on.lt(end_day))
                    .group_by((households::village_id, adoptions::status))
                    .select((households::village_id, adoptions::status, count_star()))
                    .load::<(String, String, i64)>(conn)?,
            );
        }
        if partial {
            extra.extend(
                by_household()
                    .filter(households::deleted_at.is_null())
                    .filter(adoptions::status_on.ge(month))
                    .filter(adoptions::status_on.lt(end_day))
                    .group_by((households::village_id, adoptions::status))
                    .select((households::village_id, adoptions::status, count_star()))
                    .load::<(String, String, i64)>(conn)?,
            );
        }
        rows.extend(extra.into_iter().map(|(v, st, n)| (v, 0, st, n)));
    }
    Ok(rows)
}

/// Households living at the period's end with at least one live house visit in the period, per
/// village (from the tallies; households deleted before the end are taken back out).
pub fn visited_per_village(
    conn: &mut DbConnection,
    commune_id: &str,
    period: (&str, NaiveDate),
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    let (grain, period_start) = period;
    let visited = || {
        visit_tallies::table
            .filter(visit_tallies::commune_id.eq(commune_id))
            .filter(visit_tallies::grain.eq(grain))
            .filter(visit_tallies::period_start.eq(period_start))
            .filter(visit_tallies::house_visits.gt(0))
    };
    let mut rows: Vec<(String, i64)> = visited()
        .group_by(visit_tallies::village_id)
        .select((visit_tallies::village_id, count_star()))
        .load(conn)?;
    let gone: Vec<String> = households::table
        .filter(households::commune_id.eq(commune_id))
        .filter(households::deleted_at.lt(end))
        .select(households::id)
        .load(conn)?;
    for ids in gone.chunks(500) {
        let gone: Vec<(String, i64)> = visited()
            .filter(visit_tallies::household_id.eq_any(ids))
            .group_by(visit_tallies::village_id)
            .select((visit_tallies::village_id, count_star()))
            .load(conn)?;
        rows.extend(gone.into_iter().map(|(v, n)| (v, -n)));
    }
    Ok(rows)
}

/// `COUNT(DISTINCT household_id)`. diesel's replacement (`aggregate_distinct`) does not build for
/// MultiConnection's backend, so the older function stays.
#[allow(deprecated)]
fn distinct_households() -> diesel::dsl::count_distinct<assistance_records::household_id> {
    diesel::dsl::count_distinct(assistance_records::household_id)
}

/// Households each author visited (live house visits) in `[start, end)`, per village and author.
pub fn visited_by_author(
    conn: &mut DbConnection,
    commune_id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, Option<String>, i64)>> {
    assistance_records::table
        .filter(assistance_records::commune_id.eq(commune_id))
        .filter(assistance_records::occurred_at.ge(start))
        .filter(assistance_records::occurred_at.lt(end))
        .filter(assistance_records::channel.eq("house_visit"))
        .filter(assistance_records::superseded_by.is_null())
        .group_by((
            assistance_records::village_id,
            assistance_records::author_id,
        ))
        .select((
            assistance_records::village_id,
            assistance_records::author_id.nullable(),
            distinct_households(),
        ))
        .load(conn)
}

/// Live assistance items for `service` with outcome done or assisted in the period, per village and
/// author (from the tallies).
pub fn assisted_items(
    conn: &mut DbConnection,
    commune_id: &str,
    service: &str,
    grain: &str,
    period_start: NaiveDate,
) -> QueryResult<Vec<(String, String, i64)>> {
    let rows: Vec<(String, String, i32)> = item_tallies::table
        .filter(item_tallies::commune_id.eq(commune_id))
        .filter(item_tallies::grain.eq(grain))
        .filter(item_tallies::period_start.eq(period_start))
        .filter(item_tallies::service_code.eq(service))
        .filter(item_tallies::outcome.eq_any(["done", "assisted"]))
        .filter(item_tallies::items.ne(0))
        .select((
            item_tallies::village_id,
            item_tallies::author_id,
            item_tallies::items,
        ))
        .load(conn)?;
    let mut per: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for (village, author, n) in rows {
        *per.entry((village, author)).or_default() += i64::from(n);
    }
    Ok(per.into_iter().map(|((v, a), n)| (v, a, n)).collect())
}

/// Subjects the field records marked done for `service` during `[start_day, end_day)`, per village
/// and the volunteer whose record did it.
pub fn done_by_volunteer(
    conn: &mut DbConnection,
    commune_id: &str,
    service: &str,
    start_day: NaiveDate,
    end_day: NaiveDate,
) -> QueryResult<Vec<(String, Option<String>, i64)>> {
    adoptions::table
        .filter(adoptions::commune_id.eq(commune_id))
        .filter(adoptions::service_code.eq(service))
        .filter(adoptions::status.eq("done"))
        .filter(adoptions::source.eq("record"))
        .filter(adoptions::status_on.ge(start_day))
        .filter(adoptions::status_on.lt(end_day))
        .group_by((adoptions::village_id, adoptions::set_by))
        .select((adoptions::village_id, adoptions::set_by, count_star()))
        .load(conn)
}

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    residents::village_id,
    residents::birth_year,
    adoptions::status,
    households::village_id,
);

/// Who is still missing behind an adoption or visit figure.
pub struct MissingQuery<'a> {
    pub commune_id: &'a str,
    pub villages: &'a [String],
    pub end_day: NaiveDate,
    pub end: NaiveDateTime,
    /// The last row of the previous page.
    pub after: Option<MissingKey>,
    pub limit: i64,
}

/// Where a row stands in a missing list: by address (village, hamlet, lane, house number), then
/// household and resident, so a leader can walk the list lane by lane. Missing parts of an
/// address sort first, as empty text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MissingKey {
    pub village_id: String,
    pub hamlet: String,
    pub lane: String,
    pub house_number: String,
    pub household_id: String,
    /// The resident's id; the household's again for a household row.
    pub id: String,
}

impl MissingKey {
    pub fn of(h: &super::registry::Household, id: &str) -> Self {
        MissingKey {
            village_id: h.village_id.clone(),
            hamlet: h.hamlet.clone().unwrap_or_default(),
            lane: h.lane.clone().unwrap_or_default(),
            house_number: h.house_number.clone().unwrap_or_default(),
            household_id: h.id.clone(),
            id: id.to_owned(),
        }
    }
}

/// The columns of [`MissingKey`], in order; `$subject` is the column of the row's own id.
macro_rules! address_columns {
    ($subject:literal) => {
        concat!(
            "households.village_id, COALESCE(households.hamlet, ''), ",
            "COALESCE(households.lane, ''), COALESCE(households.house_number, ''), ",
            "households.id, ",
            $subject
        )
    };
}

/// Filters `$q` to the rows after `$after` in address order and sorts it so: a row-value
/// comparison, which SQLite and PostgreSQL share.
macro_rules! in_address_order {
    ($q:expr, $after:expr, $subject:literal) => {{
        use diesel::sql_types::{Bool, Text};
        let mut q = $q.order(diesel::dsl::sql::<Text>(address_columns!($subject)));
        if let Some(k) = $after.clone() {
            q = q.filter(
                diesel::dsl::sql::<Bool>(concat!("(", address_columns!($subject), ") > ("))
                    .bind::<Text, _>(k.village_id)
                    .sql(", ")
                    .bind::<Text, _>(k.hamlet)
                    .sql(", ")
                    .bind::<Text, _>(k.lane)
                    .sql(", ")
                    .bind::<Text, _>(k.house_number)
                    .sql(", ")
                    .bind::<Text, _>(k.household_id)
                    .sql(", ")
                    .bind::<Text, _>(k.id)
                    .sql(")"),
            );
        }
        q
    }};
}

/// Residents in the denominator of a person-level adoption indicator whose ledger did not say
/// `done` before the period's end, with their household, in address order. `born_by`: the latest
/// birth year that is old enough (residents without a birth year are left out when an age is
/// required).
pub fn missing_people(
    conn: &mut DbConnection,
    m: &MissingQuery<'_>,
    service: &str,
    born_by: i32,
    age_required: bool,
) -> QueryResult<
    Vec<(
        super::registry::Resident,
        super::registry::Household,
        Option<String>,
    )>,
> {
    let q = residents::table
        .inner_join(households::table)
        .left_join(
            adoptions::table.on(adoptions::subject_id
                .eq(residents::id)
                .and(adoptions::service_code.eq(service))
                .and(adoptions::status_on.lt(m.end_day))),
        )
        .filter(residents::commune_id.eq(m.commune_id))
        .filter(residents::village_id.eq_any(m.villages))
        .filter(
            residents::deleted_at
                .is_null()
                .or(residents::deleted_at.ge(m.end)),
        )
        .filter(
            adoptions::status
                .is_null()
                .or(adoptions::status.ne_all(["done", "not_applicable"])),
        )
        .select((
            super::registry::Resident::as_select(),
            super::registry::Household::as_select(),
            adoptions::status.nullable(),
        ))
        .limit(m.limit)
        .into_boxed();
    let mut q = in_address_order!(q, m.after, "residents.id");
    if age_required {
        q = q.filter(residents::birth_year.le(born_by));
    } else {
        q = q.filter(
            residents::birth_year
                .is_null()
                .or(residents::birth_year.le(born_by)),
        );
    }
    q.load(conn)
}

/// Households in the denominator of a household-level adoption indicator without `done`, in
/// address order.
pub fn missing_households(
    conn: &mut DbConnection,
    m: &MissingQuery<'_>,
    service: &str,
) -> QueryResult<Vec<(super::registry::Household, Option<String>)>> {
    let q = households::table
        .left_join(
            adoptions::table.on(adoptions::subject_id
                .eq(households::id)
                .and(adoptions::service_code.eq(service))
                .and(adoptions::status_on.lt(m.end_day))),
        )
        .filter(households::commune_id.eq(m.commune_id))
        .filter(households::village_id.eq_any(m.villages))
        .filter(
            households::deleted_at
                .is_null()
                .or(households::deleted_at.ge(m.end)),
        )
        .filter(
            adoptions::status
                .is_null()
                .or(adoptions::status.ne_all(["done", "not_applicable"])),
        )
        .select((
            super::registry::Household::as_select(),
            adoptions::status.nullable(),
        ))
        .limit(m.limit)
        .into_boxed();
    in_address_order!(q, m.after, "households.id").load(conn)
}

/// Households with no live house visit in `[start, end)`, in address order.
pub fn unvisited_households(
    conn: &mut DbConnection,
    m: &MissingQuery<'_>,
    start: NaiveDateTime,
) -> QueryResult<Vec<super::registry::Household>> {
    let visits = assistance_records::table
        .filter(assistance_records::household_id.eq(households::id))
        .filter(assistance_records::occurred_at.ge(start))
        .filter(assistance_records::occurred_at.lt(m.end))
        .filter(assistance_records::channel.eq("house_visit"))
        .filter(assistance_records::superseded_by.is_null());
    let q = households::table
        .filter(households::commune_id.eq(m.commune_id))
        .filter(households::village_id.eq_any(m.villages))
        .filter(
            households::deleted_at
                .is_null()
                .or(households::deleted_at.ge(m.end)),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(visits)))
        .select(super::registry::Household::as_select())
        .limit(m.limit)
        .into_boxed();
    in_address_order!(q, m.after, "households.id").load(conn)
}

// ---------------------------------------------------------------- activity figures

/// `(house visits, households reached by any channel, live assistance items)` in the period, for
/// the commune or only `villages` (from the tallies).
pub fn visit_activity(
    conn: &mut DbConnection,
    commune_id: &str,
    villages: Option<&[String]>,
    grain: &str,
    period_start: NaiveDate,
) -> QueryResult<(i64, i64, i64)> {
    let mut q = visit_tallies::table
        .filter(visit_tallies::commune_id.eq(commune_id))
        .filter(visit_tallies::grain.eq(grain))
        .filter(visit_tallies::period_start.eq(period_start))
        .filter(visit_tallies::records.gt(0))
        .select((count_star(), diesel::dsl::sum(visit_tallies::house_visits)))
        .into_boxed();
    if let Some(v) = villages {
        q = q.filter(visit_tallies::village_id.eq_any(v.to_vec()));
    }
    let (reached, visits): (i64, Option<i64>) = q.get_result(conn)?;
    let visits = visits.unwrap_or(0);
    let mut q = item_tallies::table
        .filter(item_tallies::commune_id.eq(commune_id))
        .filter(item_tallies::grain.eq(grain))
        .filter(item_tallies::period_start.eq(period_start))
        .select(diesel::dsl::sum(item_tallies::items))
        .into_boxed();
    if let Some(v) = villages {
        q = q.filter(item_tallies::village_id.eq_any(v.to_vec()));
    }
    let items: i64 = q.get_result::<Option<i64>>(conn)?.unwrap_or(0);
    Ok((visits, reached, items))
}

/// Communications in `[start, end)` per channel: `(channel, activities, people reached)`. With
/// `villages`, only those villages' (commune-wide ones are left out).
pub fn communications_by_channel(
    conn: &mut DbConnection,
    commune_id: &str,
    villages: Option<&[String]>,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, i64, i64)>> {
    use super::schema::communications as c;
    let mut q = c::table
        .filter(c::commune_id.eq(commune_id))
        .filter(c::occurred_at.ge(start))
        .filter(c::occurred_at.lt(end))
        .select((c::channel, c::reach))
        .into_boxed();
    if let Some(v) = villages {
        q = q.filter(c::village_id.eq_any(v.to_vec()));
    }
    let rows: Vec<(String, i32)> = q.load(conn)?;
    let mut per: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for (channel, reach) in rows {
        let e = per.entry(channel).or_default();
        e.0 += 1;
        e.1 += i64::from(reach);
    }
    Ok(per.into_iter().map(|(ch, (n, r))| (ch, n, r)).collect())
}

/// Difficulties raised in `[start, end)`: `(status, received_at, first_answered_at)` each.
pub fn difficulties_raised(
    conn: &mut DbConnection,
    commune_id: &str,
    villages: Option<&[String]>,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime, Option<NaiveDateTime>)>> {
    use super::schema::difficulties as d;
    let mut q = d::table
        .filter(d::commune_id.eq(commune_id))
        .filter(d::raised_at.ge(start))
        .filter(d::raised_at.lt(end))
        .select((d::status, d::received_at, d::first_answered_at))
        .into_boxed();
    if let Some(v) = villages {
        q = q.filter(d::village_id.eq_any(v.to_vec()));
    }
    q.load(conn)
}

/// Teams of the commune (or of `villages`) with their members serving during the period and how
/// many of those logged at least one record in it: `(team id, name, members, active members)`.
pub fn team_activity(
    conn: &mut DbConnection,
    commune_id: &str,
    villages: Option<&[String]>,
    period: (&str, NaiveDate),
    days: (NaiveDate, NaiveDate),
) -> QueryResult<Vec<(String, String, i64, i64)>> {
    use super::schema::{author_tallies as at, team_members as m, teams as t};
    let ((grain, period_start), (start_day, end_day)) = (period, days);
    let authors: std::collections::HashSet<String> = at::table
        .filter(at::commune_id.eq(commune_id))
        .filter(at::grain.eq(grain))
        .filter(at::period_start.eq(period_start))
        .filter(at::records.gt(0))
        .select(at::author_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut teams = t::table
        .filter(t::commune_id.eq(commune_id))
        .filter(t::active.eq(true))
        .order(t::name)
        .select((t::id, t::name))
        .into_boxed();
    if let Some(v) = villages {
        teams = teams.filter(t::village_id.eq_any(v.to_vec()));
    }
    let teams: Vec<(String, String)> = teams.load(conn)?;
    let members: Vec<(String, Option<String>)> = m::table
        .filter(m::commune_id.eq(commune_id))
        .filter(m::active_from.lt(end_day))
        .filter(m::active_until.is_null().or(m::active_until.ge(start_day)))
        .select((m::team_id, m::user_id))
        .load(conn)?;
    Ok(teams
        .into_iter()
        .map(|(id, name)| {
            let mine: Vec<&Option<String>> = members
                .iter()
                .filter(|(t, _)| *t == id)
                .map(|(_, u)| u)
                .collect();
            let active = mine
                .iter()
                .filter(|u| u.as_ref().is_some_and(|u| authors.contains(u)))
                .count() as i64;
            (id, name, mine.len() as i64, active)
        })
        .collect())
}

/// Trainings held in `[from, to]` and not cancelled, and attendance by members of the commune's
/// teams (or of `villages`' teams): `(trainings held, attendances, distinct members trained)`.
pub fn training_activity(
    conn: &mut DbConnection,
    commune_id: &str,
    villages: Option<&[String]>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<(i64, i64, i64)> {
    use super::schema::{team_members as m, teams as t, training_attendance as a, trainings as tr};
    let held: i64 = tr::table
        .filter(tr::commune_id.eq(commune_id))
        .filter(tr::held_on.ge(from))
        .filter(tr::held_on.le(to))
        .filter(tr::cancelled_at.is_null())
        .count()
        .get_result(conn)?;
    let mut q = a::table
        .inner_join(tr::table)
        .inner_join(m::table.inner_join(t::table))
        .filter(tr::commune_id.eq(commune_id))
        .filter(tr::held_on.ge(from))
        .filter(tr::held_on.le(to))
        .filter(tr::cancelled_at.is_null())
        .filter(a::attended.eq(true))
        .select(a::member_id)
        .into_boxed();
    if let Some(v) = villages {
        q = q.filter(t::village_id.eq_any(v.to_vec()));
    }
    let members: Vec<String> = q.load(conn)?;
    let attendances = members.len() as i64;
    let distinct: std::collections::HashSet<String> = members.into_iter().collect();
    Ok((held, attendances, distinct.len() as i64))
}

// ---------------------------------------------------------------- reports

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = super::schema::reports)]
pub struct Report {
    pub id: String,
    pub commune_id: String,
    pub period_kind: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: String,
    pub content: String,
    pub prepared_by: String,
    pub prepared_at: NaiveDateTime,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub returned_by: Option<String>,
    pub returned_at: Option<NaiveDateTime>,
    pub return_note: Option<String>,
}

impl Report {
    /// Returned by the chairman and not prepared again since.
    pub fn is_returned(&self) -> bool {
        self.status == "draft" && self.returned_at.is_some_and(|at| at >= self.prepared_at)
    }
}

pub fn find_report(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Report>> {
    use super::schema::reports as r;
    r::table
        .find(id)
        .select(Report::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_report_for(
    conn: &mut DbConnection,
    commune_id: &str,
    kind: &str,
    start: NaiveDate,
) -> QueryResult<Option<Report>> {
    use super::schema::reports as r;
    r::table
        .filter(r::commune_id.eq(commune_id))
        .filter(r::period_kind.eq(kind))
        .filter(r::period_start.eq(start))
        .select(Report::as_select())
        .get_result(conn)
        .optional()
}

pub fn list_reports(conn: &mut DbConnection, commune_id: &str) -> QueryResult<Vec<Report>> {
    use super::schema::reports as r;
    r::table
        .filter(r::commune_id.eq(commune_id))
        .order((r::period_start.desc(), r::period_kind))
        .select(Report::as_select())
        .load(conn)
}

pub fn insert_report(conn: &mut DbConnection, report: &Report) -> QueryResult<()> {
    use super::schema::reports as r;
    diesel::insert_into(r::table)
        .values((
            r::id.eq(&report.id),
            r::commune_id.eq(&report.commune_id),
            r::period_kind.eq(&report.period_kind),
            r::period_start.eq(report.period_start),
            r::period_end.eq(report.period_end),
            r::status.eq(&report.status),
            r::content.eq(&report.content),
            r::prepared_by.eq(&report.prepared_by),
            r::prepared_at.eq(report.prepared_at),
            r::created_at.eq(report.created_at),
            r::updated_at.eq(report.updated_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Replaces a draft's content; returns 0 when the report is no longer a draft.
pub fn refresh_draft(
    conn: &mut DbConnection,
    id: &str,
    content: &str,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use super::schema::reports as r;
    diesel::update(r::table.find(id).filter(r::status.eq("draft")))
        .set((
            r::content.eq(content),
            r::prepared_by.eq(by),
            r::prepared_at.eq(at),
            r::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Freezes a draft; returns 0 when it was approved already.
pub fn approve_report(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use super::schema::reports as r;
    diesel::update(r::table.find(id).filter(r::status.eq("draft")))
        .set((
            r::status.eq("approved"),
            r::approved_by.eq(by),
            r::approved_at.eq(at),
            r::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Sends a draft back to its preparer with a note; returns 0 when it was approved already.
pub fn return_report(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    note: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use super::schema::reports as r;
    diesel::update(r::table.find(id).filter(r::status.eq("draft")))
        .set((
            r::returned_by.eq(by),
            r::returned_at.eq(at),
            r::return_note.eq(note),
            r::updated_at.eq(at),
        ))
        .execute(conn)
}
