//! Login throttling, kept in the database so every server instance sees the same counts: per
//! (account, client address), so that nobody can lock a user out by failing from elsewhere — the
//! right password from an address with no recent failures for that account still signs in — and
//! per address, which bounds guessing across accounts (OWASP's authentication guidance).

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::{throttle, DbConnection};
use crate::error::ApiError;

/// Failures counted over this window.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failed logins allowed per account from one address in the window before it is throttled there.
pub const MAX_PER_ACCOUNT: usize = 10;
/// Failed logins allowed per client address in the window (a commune office shares one address).
pub const MAX_PER_ADDRESS: usize = 50;

/// Refuses with 429 and a `Retry-After` when the account or the address failed too often lately.
pub fn check(
    conn: &mut DbConnection,
    username: &str,
    addr: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (by_user, by_addr) = throttle::recent_failures(conn, username, addr, now - WINDOW)?;
    let retry_after = |times: &[NaiveDateTime], max: usize| {
        // The oldest failure that keeps the count at the limit must leave the window first.
        let pivot = times[times.len() - max];
        ((pivot + WINDOW) - now).num_seconds().max(1) as u64
    };
    if by_user.len() >= MAX_PER_ACCOUNT {
        return Err(ApiError::TooManyRequests {
            detail:
                "Too many failed sign-ins for this account from here; wait before trying again."
                    .into(),
            retry_after_secs: retry_after(&by_user, MAX_PER_ACCOUNT),
        });
    }
    if by_addr.len() >= MAX_PER_ADDRESS {
        return Err(ApiError::TooManyRequests {
            detail: "Too many failed sign-ins from this address; wait before trying again.".into(),
            retry_after_secs: retry_after(&by_addr, MAX_PER_ADDRESS),
        });
    }
    Ok(())
}

/// Records a failure and drops those that no longer count.
pub fn record_failure(
    conn: &mut DbConnection,
    username: &str,
    addr: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    throttle::record_failure(conn, username, addr, now)?;
    throttle::purge_before(conn, now - WINDOW)?;
    Ok(())
}
