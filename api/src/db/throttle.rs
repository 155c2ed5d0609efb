use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::login_failures;
use super::DbConnection;

pub fn record_failure(
    conn: &mut DbConnection,
    username: &str,
    client_addr: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::client_addr.eq(client_addr),
            login_failures::occurred_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Failure times since `since`, oldest first: for one username from one address, and for one
/// address whatever the username.
pub fn recent_failures(
    conn: &mut DbConnection,
    username: &str,
    client_addr: &str,
    since: NaiveDateTime,
) -> QueryResult<(Vec<NaiveDateTime>, Vec<NaiveDateTime>)> {
    let by_user = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::client_addr.eq(client_addr))
        .filter(login_failures::occurred_at.gt(since))
        .select(login_failures::occurred_at)
        .order(login_failures::occurred_at)
        .load(conn)?;
    let by_addr = login_failures::table
        .filter(login_failures::client_addr.eq(client_addr))
        .filter(login_failures::occurred_at.gt(since))
        .select(login_failures::occurred_at)
        .order(login_failures::occurred_at)
        .load(conn)?;
    Ok((by_user, by_addr))
}

/// A successful login clears the account's failures from that address (never another address's:
/// they still count against that address).
pub fn clear_for(conn: &mut DbConnection, username: &str, client_addr: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::username.eq(username))
            .filter(login_failures::client_addr.eq(client_addr)),
    )
    .execute(conn)
    .map(|_| ())
}

/// Drops failures older than `before` (they no longer count).
pub fn purge_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::occurred_at.lt(before)))
        .execute(conn)
}
