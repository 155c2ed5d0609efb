//! Login sessions and refresh tokens.
//!
//! A session is one refresh-token family. Refresh tokens are opaque random strings stored as SHA-256
//! hashes; every use rotates to a child token. The child of a token is derived from it with an HMAC
//! under the server's key, so a reply lost on a bad 3G link can be answered again with the *same* new
//! token within a short grace window, without ever storing a token in clear. A rotated token presented
//! after the grace window (or when its child was already used) means it leaked: the whole family is
//! revoked.

use base64::Engine;
use chrono::{NaiveDateTime, TimeDelta};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::db::{self, sessions, DbConnection};
use crate::error::ApiError;

/// Seconds a rotated refresh token may be replayed for the same answer.
pub const GRACE_SECS: i64 = 60;

pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token that replaces `token` at rotation.
pub fn successor(key: &[u8], token: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"tungnha refresh rotation\0");
    mac.update(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A session and its first refresh token.
pub struct NewLogin {
    pub session_id: String,
    pub refresh_token: String,
}

/// Opens a session for `user_id`.
pub fn open(
    conn: &mut DbConnection,
    user_id: &str,
    client_addr: Option<&str>,
    idle: TimeDelta,
) -> Result<NewLogin, ApiError> {
    let now = db::now();
    let session_id = db::new_id();
    let refresh_token = super::random_token(32);
    sessions::insert_session(
        conn,
        &sessions::NewSession {
            id: &session_id,
            user_id,
            created_at: now,
            last_used_at: now,
            client_addr,
        },
    )?;
    sessions::insert_token(
        conn,
        &sessions::NewRefreshToken {
            id: &db::new_id(),
            session_id: &session_id,
            token_hash: &hash_token(&refresh_token),
            parent_id: None,
            created_at: now,
            expires_at: now + idle,
        },
    )?;
    Ok(NewLogin {
        session_id,
        refresh_token,
    })
}

/// What a refresh request comes to.
pub enum Refreshed {
    /// A new refresh token (fresh rotation, or the same one again within the grace window).
    Rotated {
        user_id: String,
        session_id: String,
        refresh_token: String,
    },
    /// A rotated token came back too late: the family is now revoked.
    ReuseDetected { user_id: String, session_id: String },
}

fn refused(code: &'static str, detail: &str) -> ApiError {
    ApiError::Unauthorized {
        code,
        detail: detail.to_owned(),
    }
}

/// Rotates `token`; call inside [`db::write_tx`].
pub fn refresh(
    conn: &mut DbConnection,
    key: &[u8],
    token: &str,
    idle: TimeDelta,
    now: NaiveDateTime,
) -> Result<Refreshed, ApiError> {
    let invalid = || {
        refused(
            "invalid_refresh_token",
            "The refresh token is not valid; sign in again.",
        )
    };
    let Some(current) = sessions::find_token_by_hash(conn, &hash_token(token))? else {
        return Err(invalid());
    };
    let session = sessions::find_session(conn, &current.session_id)?.ok_or_else(invalid)?;
    if session.revoked_at.is_some() {
        return Err(refused(
            "session_revoked",
            "This session has ended; sign in again.",
        ));
    }
    let next = successor(key, token);
    match current.rotated_at {
        None => {
            if current.expires_at <= now {
                return Err(refused(
                    "refresh_token_expired",
                    "The session expired; sign in again.",
                ));
            }
            if !sessions::mark_rotated(conn, &current.id, now)? {
                // Another request rotated it between our read and write; the caller retries.
                return Err(ApiError::Conflict {
                    code: "retry",
                    detail: "concurrent refresh".into(),
                });
            }
            sessions::insert_token(
                conn,
                &sessions::NewRefreshToken {
                    id: &db::new_id(),
                    session_id: &session.id,
                    token_hash: &hash_token(&next),
                    parent_id: Some(&current.id),
                    created_at: now,
                    expires_at: now + idle,
                },
            )?;
            sessions::touch_session(conn, &session.id, now)?;
            Ok(Refreshed::Rotated {
                user_id: session.user_id,
                session_id: session.id,
                refresh_token: next,
            })
        }
        Some(rotated_at) => {
            let child = sessions::find_child(conn, &current.id)?;
            let within_grace = now - rotated_at <= TimeDelta::seconds(GRACE_SECS);
            let child_unused = child.as_ref().is_some_and(|c| c.rotated_at.is_none());
            if within_grace && child_unused {
                Ok(Refreshed::Rotated {
                    user_id: session.user_id,
                    session_id: session.id,
                    refresh_token: next,
                })
            } else {
                sessions::revoke_session(conn, &session.id, "refresh_token_reuse", now)?;
                Ok(Refreshed::ReuseDetected {
                    user_id: session.user_id,
                    session_id: session.id,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_are_deterministic_per_key_and_token() {
        let a = successor(b"key-one", "token");
        assert_eq!(a, successor(b"key-one", "token"));
        assert_ne!(a, successor(b"key-two", "token"));
        assert_ne!(a, successor(b"key-one", "token2"));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn token_hashes_are_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
