//! API keys as bearer credentials for third-party systems (the city's dashboard, an operations
//! centre). A key is `tn_` and 43 random characters; the server keeps only its SHA-256. It reads
//! (GET) what its scopes open, in its commune (or, without one, the commune a request names), with
//! the city's read-only view: figures, approved reports and published guides, never personal data.
//! Every use is counted against the key's per-minute limit and written to the audit log.

use super::AuthUser;
use crate::db;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::Method;

/// What a key may be granted, with what each opens.
pub const SCOPES: [(&str, &[&str]); 3] = [
    (
        "stats:read",
        &[
            "/api/v1/stats/",
            "/api/v1/indicators",
            "/api/v1/reports",
            "/api/v1/services",
        ],
    ),
    (
        "materials:read",
        &["/api/v1/materials", "/api/v1/attachments/"],
    ),
    // The change feed only: a key reads as city oversight, without personal data.
    ("exports:read", &["/api/v1/exports/changes"]),
];

pub const PREFIX: &str = "tn_";

/// The scope a request needs, if a key may make it at all.
pub fn scope_for(method: &Method, path: &str) -> Option<&'static str> {
    if method != Method::GET {
        return None;
    }
    SCOPES.iter().find_map(|(scope, prefixes)| {
        prefixes
            .iter()
            .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
            .then_some(*scope)
    })
}

fn invalid() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_api_key",
        detail: "This API key is unknown or has been revoked.".into(),
    }
}

/// The caller behind an API key, after checking its scope and counting the use.
pub async fn authenticate(
    state: &AppState,
    key: &str,
    method: Method,
    path: String,
    client: Option<String>,
) -> Result<AuthUser, ApiError> {
    // Keys carry 256 random bits: a plain SHA-256, as for refresh tokens, is enough.
    let digest = super::session::hash_token(key);
    let wanted = scope_for(&method, &path);
    let grant = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let Some(k) = db::api_keys::find_by_hash(conn, &digest)? else {
                return Err(invalid());
            };
            let Some(scope) = wanted.filter(|s| k.scope_list().iter().any(|g| g == s)) else {
                return Err(ApiError::Forbidden {
                    code: "scope_not_granted",
                    detail: format!(
                        "This key may not {method} {path}; its scopes: {}.",
                        k.scopes
                    ),
                });
            };
            let now = db::now();
            let window = {
                use chrono::{DurationRound, TimeDelta};
                now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now)
            };
            let Some(uses) = db::api_keys::count_use(conn, &k.id, window, now)? else {
                return Err(invalid());
            };
            if uses > k.rate_per_minute {
                let left = 60 - (now - window).num_seconds().clamp(0, 59);
                return Err(ApiError::TooManyRequests {
                    detail: format!(
                        "This key may make {} requests a minute; wait a moment.",
                        k.rate_per_minute
                    ),
                    retry_after_secs: left as u64,
                });
            }
            db::audit::record(
                conn,
                &db::audit::NewAuditEvent {
                    object_type: Some("api_key"),
                    object_id: Some(&k.id),
                    commune_id: k.commune_id.as_deref(),
                    client_addr: client.as_deref(),
                    details:
                        serde_json::json!({"method": method.as_str(), "path": path, "scope": scope})
                            .to_string(),
                    ..db::audit::NewAuditEvent::new(
                        "api_key_used",
                        Some(&k.id),
                        &format!("api-key:{}", k.name),
                    )
                },
            )?;
            Ok(k)
        })
    })
    .await?;
    Ok(AuthUser {
        id: grant.id.clone(),
        username: format!("api-key:{}", grant.name),
        display_name: grant.name.clone(),
        role: Role::City,
        department: None,
        commune_id: grant.commune_id.clone(),
        village_ids: vec![],
        must_change_password: false,
        session_id: None,
        api_key: Some(grant.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_map_to_scopes() {
        let get = Method::GET;
        assert_eq!(
            scope_for(&get, "/api/v1/stats/indicators"),
            Some("stats:read")
        );
        assert_eq!(scope_for(&get, "/api/v1/reports/x/pdf"), Some("stats:read"));
        assert_eq!(scope_for(&get, "/api/v1/materials"), Some("materials:read"));
        assert_eq!(
            scope_for(&get, "/api/v1/attachments/a"),
            Some("materials:read")
        );
        assert_eq!(scope_for(&get, "/api/v1/households"), None);
        assert_eq!(scope_for(&get, "/api/v1/statsx"), None);
        assert_eq!(scope_for(&Method::POST, "/api/v1/reports"), None);
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            crate::auth::session::hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
