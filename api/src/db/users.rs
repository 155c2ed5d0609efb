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
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
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
