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

/// What a key may be granted. Which operations each opens is declared on the operation itself,
/// `security(("api_key" = ["stats:read"]))` in its `#[utoipa::path]`, and read back from the spec
/// into [`KeyScopes`]: the contract a client reads and the check the server makes are one list.
pub const SCOPES: [(&str, &str); 3] = [
    (
        "stats:read",
        "indicators, their figures and missing lists, approved reports, the catalogue",
    ),
    ("materials:read", "published guides and their attachments"),
    // The change feed only: a key reads as city oversight, without personal data.
    (
        "exports:read",
        "the change feed, as city oversight (no personal data)",
    ),
];

pub const PREFIX: &str = "tn_";

/// The scope each operation an API key may call needs, by (method, route pattern as mounted, e.g.
/// `/api/v1/reports/{id}`). Keys only read: an operation that is not a GET never appears.
#[derive(Debug, Default)]
pub struct KeyScopes(std::collections::HashMap<(Method, String), &'static str>);

impl KeyScopes {
    /// From the `security` requirements of the spec's operations.
    pub fn from_spec(spec: &serde_json::Value) -> anyhow::Result<Self> {
        let mut table = std::collections::HashMap::new();
        let paths = spec["paths"].as_object().into_iter().flatten();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let needs = op["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|req| req["api_key"].as_array())
                    .flatten()
                    .filter_map(|s| s.as_str());
                for scope in needs {
                    let Some((known, _)) = SCOPES.iter().find(|(s, _)| *s == scope) else {
                        anyhow::bail!("{method} {path} names an unknown key scope {scope:?}");
                    };
                    if method != "get" {
                        anyhow::bail!("{method} {path}: API keys only read");
                    }
                    table.insert((Method::GET, path.clone()), *known);
                }
            }
        }
        Ok(KeyScopes(table))
    }

    /// The scope a request to this route needs, if a key may make it at all.
    pub fn scope_for(&self, method: &Method, pattern: Option<&str>) -> Option<&'static str> {
        self.0.get(&(method.clone(), pattern?.to_owned())).copied()
    }
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
    pattern: Option<String>,
    client: Option<String>,
) -> Result<AuthUser, ApiError> {
    // Keys carry 256 random bits: a plain SHA-256, as for refresh tokens, is enough.
    let digest = super::session::hash_token(key);
    let wanted = state.key_scopes.scope_for(&method, pattern.as_deref());
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
    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            crate::auth::session::hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
