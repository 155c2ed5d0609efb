//! The difficulty inbox (replies, assignment, status) and trainings with their attendance.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    difficulties, difficulty_replies, team_members, teams, training_attendance, trainings,
};
use super::sync::Difficulty;
use super::DbConnection;

// ---------------------------------------------------------------- difficulties

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = difficulty_replies)]
#[diesel(treat_none_as_default_value = false)]
pub struct Reply {
    pub id: String,
    pub difficulty_id: String,
    pub commune_id: String,
    pub author_id: String,
    /// `office` or `team`.
    pub side: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Filters of the inbox.
#[derive(Debug, Default, Clone)]
pub struct DifficultyFilter {
    pub commune_id: Option<String>,
    /// Village users: their villages (and the commune-level difficulties).
    pub villages: Option<Vec<String>>,
    pub status: Option<String>,
    pub assigned_department: Option<String>,
}

pub fn list_difficulties(
    conn: &mut DbConnection,
    f: &DifficultyFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Difficulty>> {
    let mut q = difficulties::table
        .select(Difficulty::as_select())
        .into_boxed();
    if let Some(c) = &f.commune_id {
        q = q.filter(difficulties::commune_id.eq(c.clone()));
    }
    if let Some(v) = &f.villages {
        q = q.filter(
            difficulties::village_id
                .eq_any(v.clone())
                .or(difficulties::village_id.is_null()),
        );
    }
    if let Some(s) = &f.status {
        q = q.filter(difficulties::status.eq(s.clone()));
    }
    if let Some(d) = &f.assigned_department {
        q = q.filter(difficulties::assigned_department.eq(d.clone()));
    }
    if let Some(a) = after {
        q = q.filter(difficulties::id.gt(a.to_owned()));
    }
    q.order(difficulties::id).limit(limit).load(conn)
}

pub fn replies_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Reply>> {
    difficulty_replies::table
        .filter(difficulty_replies::difficulty_id.eq_any(ids))
        .order((difficulty_replies::created_at, difficulty_replies::id))
        .select(Reply::as_select())
        .load(conn)
}

pub fn insert_reply(conn: &mut DbConnection, r: &Reply) -> QueryResult<()> {
    diesel::insert_into(difficulty_replies::table)
        .values(r)
        .execute(conn)
        .map(|_| ())
}

/// After a reply: the office side answers (`first_answer` keeps the first answer's time, which fixes
/// the response time); the team side puts the difficulty back in the office's queue. A closed
/// difficulty is left alone (0 rows).
pub fn after_reply(
    conn: &mut DbConnection,
    id: &str,
    first_answer: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = difficulties::table
        .filter(difficulties::id.eq(id))
        .filter(difficulties::status.ne("closed"));
    match first_answer {
        Some(first) => diesel::update(target)
            .set((
                difficulties::status.eq("answered"),
                difficulties::first_answered_at.eq(Some(first)),
                difficulties::updated_at.eq(now),
            ))
            .execute(conn),
        None => diesel::update(target)
            .set((
                difficulties::status.eq("open"),
                difficulties::updated_at.eq(now),
            ))
            .execute(conn),
    }
}

pub fn set_assignment(
    conn: &mut DbConnection,
    id: &str,
    department: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(difficulties::table.find(id))
        .set((
            difficulties::assigned_department.eq(department),
            difficulties::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Closes (`by` set) or reopens (`by` none) a difficulty; a reopened one waits for the office again.
pub fn set_closed(
    conn: &mut DbConnection,
    id: &str,
    by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    match by {
        Some(user) => diesel::update(
            difficulties::table
                .filter(difficulties::id.eq(id))
                .filter(difficulties::status.ne("closed")),
        )
        .set((
            difficulties::status.eq("closed"),
            difficulties::closed_at.eq(Some(now)),
            difficulties::closed_by.eq(Some(user)),
            difficulties::updated_at.eq(now),
        ))
        .execute(conn),
        None => diesel::update(
            difficulties::table
                .filter(difficulties::id.eq(id))
                .filter(difficulties::status.eq("closed")),
        )
        .set((
            difficulties::status.eq("open"),
            difficulties::closed_at.eq(None::<NaiveDateTime>),
            difficulties::closed_by.eq(None::<String>),
            difficulties::updated_at.eq(now),
        ))
        .execute(conn),
    }
}

// ---------------------------------------------------------------- trainings

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = trainings)]
#[diesel(treat_none_as_default_value = false)]
pub struct Training {
    pub id: String,
    pub commune_id: String,
    /// A department key, or `chairman` for the commune's office.
    pub organiser: String,
    pub topic: String,
    pub held_on: NaiveDate,
    pub place: String,
    pub mode: String,
    /// JSON array of service codes.
    pub service_codes: String,
    pub notes: Option<String>,
    pub created_by: String,
    pub cancelled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = trainings)]
pub struct TrainingChangeset {
    pub topic: Option<String>,
    pub held_on: Option<NaiveDate>,
    pub place: Option<String>,
    pub mode: Option<String>,
    pub service_codes: Option<String>,
    pub notes: Option<Option<String>>,
    pub cancelled_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert_training(conn: &mut DbConnection, t: &Training) -> QueryResult<()> {
    diesel::insert_into(trainings::table)
        .values(t)
        .execute(conn)
        .map(|_| ())
}

pub fn find_training(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Training>> {
    trainings::table
        .find(id)
        .select(Training::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_training(
    conn: &mut DbConnection,
    id: &str,
    c: &TrainingChangeset,
) -> QueryResult<usize> {
    diesel::update(trainings::table.find(id))
        .set(c)
        .execute(conn)
}

/// Trainings of a commune, newest first, optionally within `[from, to]`.
pub fn list_trainings(
    conn: &mut DbConnection,
    commune_id: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> QueryResult<Vec<Training>> {
    let mut q = trainings::table
        .filter(trainings::commune_id.eq(commune_id))
        .select(Training::as_select())
        .into_boxed();
    if let Some(f) = from {
        q = q.filter(trainings::held_on.ge(f));
    }
    if let Some(t) = to {
        q = q.filter(trainings::held_on.le(t));
    }
    q.order((trainings::held_on.desc(), trainings::id))
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = training_attendance)]
#[diesel(treat_none_as_default_value = false)]
pub struct Attendance {
    pub training_id: String,
    pub member_id: String,
    pub attended: bool,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// One attendance row with the member's name and team: `(attendance, member name, team id, team
/// village)`.
pub type AttendanceRow = (Attendance, String, String, Option<String>);

pub fn attendance_of(
    conn: &mut DbConnection,
    training_id: &str,
) -> QueryResult<Vec<AttendanceRow>> {
    training_attendance::table
        .inner_join(team_members::table.inner_join(teams::table))
        .filter(training_attendance::training_id.eq(training_id))
        .order(team_members::full_name)
        .select((
            Attendance::as_select(),
            team_members::full_name,
            teams::id,
            teams::village_id,
        ))
        .load(conn)
}

/// Writes the attendance of several members (insert or replace each).
pub fn record_attendance(conn: &mut DbConnection, rows: &[Attendance]) -> QueryResult<()> {
    for a in rows {
        let updated = diesel::update(
            training_attendance::table
                .filter(training_attendance::training_id.eq(&a.training_id))
                .filter(training_attendance::member_id.eq(&a.member_id)),
        )
        .set((
            training_attendance::attended.eq(a.attended),
            training_attendance::note.eq(&a.note),
            training_attendance::recorded_by.eq(&a.recorded_by),
            training_attendance::recorded_at.eq(a.recorded_at),
        ))
        .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(training_attendance::table)
                .values(a)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A member's trainings, newest first: `(training, attended, note)`.
pub fn member_history(
    conn: &mut DbConnection,
    member_id: &str,
) -> QueryResult<Vec<(Training, bool, Option<String>)>> {
    training_attendance::table
        .inner_join(trainings::table)
        .filter(training_attendance::member_id.eq(member_id))
        .order((trainings::held_on.desc(), trainings::id))
        .select((
            Training::as_select(),
            training_attendance::attended,
            training_attendance::note,
        ))
        .load(conn)
}

/// How many members attended each of these trainings (trainings nobody attended are absent).
pub fn attended_counts(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = training_attendance::table
        .filter(training_attendance::training_id.eq_any(ids))
        .filter(training_attendance::attended.eq(true))
        .group_by(training_attendance::training_id)
        .select((training_attendance::training_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
