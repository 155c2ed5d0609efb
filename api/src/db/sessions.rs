use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{refresh_tokens, sessions};
use super::DbConnection;

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub client_addr: Option<&'a str>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewRefreshToken<'a> {
    pub id: &'a str,
    pub session_id: &'a str,
    pub token_hash: &'a str,
    pub parent_id: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: String,
    pub session_id: String,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
}

pub fn insert_session(conn: &mut DbConnection, s: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(s)
        .execute(conn)
        .map(|_| ())
}

pub fn find_session(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Session>> {
    sessions::table
        .find(id)
        .select(Session::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_token(conn: &mut DbConnection, t: &NewRefreshToken<'_>) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(t)
        .execute(conn)
        .map(|_| ())
}

pub fn find_token_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .get_result(conn)
        .optional()
}

/// Marks a token used; returns false when another request rotated it first.
pub fn mark_rotated(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::rotated_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// The token that replaced `parent_id`, if any.
pub fn find_child(conn: &mut DbConnection, parent_id: &str) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::parent_id.eq(parent_id))
        .select(RefreshToken::as_select())
        .get_result(conn)
        .optional()
}

pub fn touch_session(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_used_at.eq(at))
        .execute(conn)
        .map(|_| ())
}

pub fn revoke_session(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

/// Revokes every live session of a user (deactivation, password reset); returns how many.
pub fn revoke_user_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}
