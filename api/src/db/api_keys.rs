//! API keys of third-party systems (migration `000012_api_keys`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use super::schema::api_keys;
use super::DbConnection;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
#[diesel(treat_none_as_default_value = false)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: String,
    pub commune_id: Option<String>,
    pub rate_per_minute: i32,
    pub window_start: Option<NaiveDateTime>,
    pub window_count: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

impl ApiKey {
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes.split_whitespace().map(str::to_owned).collect()
    }
}

pub fn insert(conn: &mut DbConnection, key: &ApiKey) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values(key)
        .execute(conn)
        .map(|_| ())
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .order(api_keys::created_at.desc())
        .select(ApiKey::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .select(ApiKey::as_select())
        .get_result(conn)
        .optional()
}

/// Revokes a live key; 0 when it was revoked already.
pub fn revoke(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set((api_keys::revoked_at.eq(at), api_keys::revoked_by.eq(by)))
    .execute(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Integer)]
    window_count: i32,
}

/// Counts one use of a live key in the minute starting at `window` and notes the time; returns the
/// uses of that minute so far, or `None` when the key is revoked. One statement, so concurrent
/// requests on any number of server instances count each use once (PostgreSQL locks the row).
pub fn count_use(
    conn: &mut DbConnection,
    id: &str,
    window: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    let set = "SET window_count = CASE WHEN window_start = {w} THEN window_count + 1 ELSE 1 END, \
               window_start = {w}, last_used_at = {now} \
               WHERE id = {id} AND revoked_at IS NULL RETURNING window_count";
    let (w, n, i) = match conn {
        DbConnection::Sqlite(_) => ("?1", "?2", "?3"),
        DbConnection::Postgresql(_) => ("$1", "$2", "$3"),
    };
    let sql = format!(
        "UPDATE api_keys {}",
        set.replace("{w}", w).replace("{now}", n).replace("{id}", i)
    );
    let rows: Vec<Count> = crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(window)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(id)
        .load(c))?;
    Ok(rows.first().map(|r| r.window_count))
}
