//! API keys for third-party systems (administrators): created with scopes, a commune (or none: the
//! commune each request names) and a per-minute limit; the key is shown once; revocable.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::paging;
use crate::auth::{api_key, AuthUser};
use crate::db::{self, api_keys::ApiKey};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key);
}

const DEFAULT_RATE: i32 = 120;
const MAX_RATE: i32 = 6000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewApiKey {
    /// Who uses it, e.g. `Trung tâm IOC Hải Phòng`.
    pub name: String,
    /// Any of `stats:read` (indicators, activity, approved reports, the catalogue),
    /// `materials:read` (published guides and their attachments) and `exports:read` (the change
    /// feed `GET /exports/changes`, without personal data).
    pub scopes: Vec<String>,
    /// The only commune the key reads; without it, each request names its commune.
    pub commune_id: Option<String>,
    /// Requests a minute before 429 (default 120, at most 6000).
    pub rate_per_minute: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    #[schema(example = "tn_Xb3k9")]
    pub prefix: String,
    pub scopes: Vec<String>,
    pub commune_id: Option<String>,
    pub rate_per_minute: i32,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key, shown this once: send it as `Authorization: Bearer <key>`.
    #[schema(example = "tn_Xb3k9…")]
    pub key: String,
    pub api_key: ApiKeyResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyResponse>,
}

fn response(k: &ApiKey) -> ApiKeyResponse {
    ApiKeyResponse {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        scopes: k.scope_list(),
        commune_id: k.commune_id.clone(),
        rate_per_minute: k.rate_per_minute,
        created_by: k.created_by.clone(),
        created_at: paging::utc(k.created_at),
        last_used_at: k.last_used_at.map(paging::utc),
        revoked_at: k.revoked_at.map(paging::utc),
    }
}

/// The integrations' keys, newest first (administrators).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Keys (never the keys themselves)", body = ApiKeyList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let keys = db::run(&state.pool, |conn| Ok(db::api_keys::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(ApiKeyList {
        items: keys.iter().map(response).collect(),
    }))
}

/// Creates a key for an integration (administrators); the answer holds the key, which is never
/// shown again.
#[utoipa::path(tag = "admin", request_body = NewApiKey, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `key` is shown this once", body = CreatedApiKey),
        (status = 400, description = "Invalid name, scope, commune or rate", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<NewApiKey>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let name = b.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "length", "1 to 100 characters"));
    }
    let mut scopes: Vec<String> = b.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let known: Vec<&str> = api_key::SCOPES.iter().map(|(s, _)| *s).collect();
    if scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "required",
            format!("one or more of {}", known.join(", ")),
        ));
    }
    for s in &scopes {
        if !known.contains(&s.as_str()) {
            errors.push(FieldError::new(
                "scopes",
                "unknown_scope",
                format!("`{s}` is not one of {}", known.join(", ")),
            ));
        }
    }
    let rate = b.rate_per_minute.unwrap_or(DEFAULT_RATE);
    if !(1..=MAX_RATE).contains(&rate) {
        errors.push(FieldError::new(
            "rate_per_minute",
            "out_of_range",
            format!("1 to {MAX_RATE}"),
        ));
    }
    let key = format!("{}{}", api_key::PREFIX, crate::auth::random_token(32));
    let created = db::run(&state.pool, move |conn| {
        if let Some(c) = &b.commune_id {
            if !db::geo::commune_exists(conn, c)? {
                errors.push(FieldError::new("commune_id", "unknown", "an existing commune"));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let now = db::now();
        let k = ApiKey {
            id: db::new_id(),
            name,
            prefix: key.chars().take(8).collect(),
            key_hash: crate::auth::session::hash_token(&key),
            scopes: scopes.join(" "),
            commune_id: b.commune_id.clone(),
            rate_per_minute: rate,
            window_start: None,
            window_count: 0,
            created_by: auth.id.clone(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        db::write_tx(conn, |conn| {
            db::api_keys::insert(conn, &k)?;
            db::audit::by_user(
                conn,
                &auth,
                "api_key_created",
                "api_key",
                &k.id,
                k.commune_id.as_deref(),
                serde_json::json!({"name": k.name, "scopes": k.scopes, "rate_per_minute": k.rate_per_minute}),
            )?;
            Ok::<_, ApiError>(())
        })?;
        Ok(CreatedApiKey {
            key,
            api_key: response(&k),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Revokes a key at once (administrators); its next request gets 401.
#[utoipa::path(tag = "admin", params(("id" = String, Path, description = "Key id")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let k = db::api_keys::find(conn, &id)?.ok_or_else(|| ApiError::NotFound {
                code: "api_key_not_found",
                detail: "No such API key.".into(),
            })?;
            if db::api_keys::revoke(conn, &k.id, &auth.id, db::now())? == 0 {
                return Err(ApiError::Conflict {
                    code: "api_key_revoked",
                    detail: "This key was revoked already.".into(),
                });
            }
            db::audit::by_user(
                conn,
                &auth,
                "api_key_revoked",
                "api_key",
                &k.id,
                k.commune_id.as_deref(),
                serde_json::json!({"name": k.name}),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
