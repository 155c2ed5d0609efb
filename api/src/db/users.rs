use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{user_villages, users};
use super::DbConnection;

#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub department: Option<String>,
    pub commune_id: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub department: Option<&'a str>,
    pub commune_id: Option<&'a str>,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

pub fn village_ids(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    user_villages::table
        .filter(user_villages::user_id.eq(user_id))
        .select(user_villages::village_id)
        .order(user_villages::village_id)
        .load(conn)
}

pub fn set_password(
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
    must_change: bool,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(hash),
            users::must_change_password.eq(must_change),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Which accounts a caller may list.
#[derive(Clone, Debug)]
pub enum UserScope {
    All,
    Commune(String),
    /// Accounts attached to any of these villages.
    Villages(Vec<String>),
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub active: Option<bool>,
    pub village_id: Option<String>,
}

/// `(id, display name)` of the given users.
pub fn display_names(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)
}

/// One page of accounts ordered by username, starting after `after`.
pub fn list(
    conn: &mut DbConnection,
    scope: &UserScope,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut q = users::table.select(User::as_select()).into_boxed();
    match scope {
        UserScope::All => {}
        UserScope::Commune(c) => q = q.filter(users::commune_id.eq(c.clone())),
        UserScope::Villages(v) => {
            q = q.filter(
                users::id.eq_any(
                    user_villages::table
                        .filter(user_villages::village_id.eq_any(v.clone()))
                        .select(user_villages::user_id),
                ),
            )
        }
    }
    if let Some(role) = &filter.role {
        q = q.filter(users::role.eq(role.clone()));
    }
    if let Some(active) = filter.active {
        q = q.filter(users::active.eq(active));
    }
    if let Some(v) = &filter.village_id {
        q = q.filter(
            users::id.eq_any(
                user_villages::table
                    .filter(user_villages::village_id.eq(v.clone()))
                    .select(user_villages::user_id),
            ),
        );
    }
    if let Some(after) = after {
        q = q.filter(users::username.gt(after.to_owned()));
    }
    q.order(users::username).limit(limit).load(conn)
}

/// Village ids of many users at once, as `(user_id, village_id)` pairs.
pub fn village_ids_of(
    conn: &mut DbConnection,
    user_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    user_villages::table
        .filter(user_villages::user_id.eq_any(user_ids))
        .select((user_villages::user_id, user_villages::village_id))
        .order((user_villages::user_id, user_villages::village_id))
        .load(conn)
}

pub fn set_villages(
    conn: &mut DbConnection,
    user_id: &str,
    village_ids: &[String],
) -> QueryResult<()> {
    diesel::delete(user_villages::table.filter(user_villages::user_id.eq(user_id)))
        .execute(conn)?;
    for v in village_ids {
        diesel::insert_into(user_villages::table)
            .values((
                user_villages::user_id.eq(user_id),
                user_villages::village_id.eq(v),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChangeset {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub department: Option<Option<String>>,
    pub commune_id: Option<Option<String>>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update(
    conn: &mut DbConnection,
    user_id: &str,
    changes: &UserChangeset,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(changes)
        .execute(conn)
}
