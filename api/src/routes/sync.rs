//! The sync endpoints (see `crate::sync` for the protocol), the devices view and the conflict review.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::app::registry as hh;
use crate::auth::AuthUser;
use crate::db::sync as store;
use crate::db::{self, users};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::sync::pull::{PullQuery, PullResponse};
use crate::sync::{self, PushRequest, PushResponse, PushStatus};

/// Uploads records from a phone's outbox. Each record gets its own result; valid records are stored
/// even when others fail, and everything stored is on disk before the answer.
///
/// Record kinds and their `data`:
/// - `assistance_record` (create): `{household_id, resident_ids, occurred_at, channel:
///   house_visit|community_meeting|commune_office|phone_online, items:[{service_code, outcome:
///   done|assisted|declined|needs_follow_up, note?}], notes?, follow_up_on?, supersedes?}`
/// - `communication` (create): `{village_id?, occurred_at, channel: loudspeaker|zalo|facebook|meeting|
///   community_event|leaflet|other, topics:[service codes], reach, title?, link?, notes?}`
/// - `difficulty` (create): `{village_id?, raised_at, title, description, service_codes}`
/// - `household` (create, update with `base_version`, delete): the fields of `POST /households`
/// - `resident` (create with `household_id`, update with `base_version`, delete)
#[utoipa::path(tag = "sync", request_body = PushRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "One result per record", body = PushResponse),
        (status = 400, description = "Malformed batch (bad device id)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in: keep the outbox and sign in again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too many records in one batch", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/sync/push")]
pub async fn push(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<PushRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    if b.device_id.trim().is_empty() || b.device_id.len() > 64 {
        return Err(ApiError::validation(vec![FieldError::new(
            "device_id",
            "invalid_length",
            "1 to 64 characters",
        )]));
    }
    if b.records.len() > sync::MAX_BATCH {
        return Err(ApiError::PayloadTooLarge {
            detail: format!("Send at most {} records per batch.", sync::MAX_BATCH),
        });
    }
    let (records, results) = db::run_write(&state.pool, move |conn| {
        let results = db::write_tx(conn, |conn| {
            let results = sync::push(conn, &auth, &b.device_id, &b.records)?;
            let applied = results
                .iter()
                .filter(|r| r.status == PushStatus::Applied)
                .count() as i64;
            let failed: Vec<&sync::PushResult> = results
                .iter()
                .filter(|r| r.status == PushStatus::Rejected)
                .collect();
            let last_error = failed
                .last()
                .and_then(|r| r.error.as_ref())
                .map(|e| e.code.clone());
            store::touch_device(
                conn,
                &b.device_id,
                &auth.id,
                auth.commune_id.as_deref(),
                Some((applied, failed.len() as i64, last_error.as_deref())),
            )?;
            Ok::<_, ApiError>(results)
        })?;
        Ok((b.records, results))
    })
    .await?;
    // Counted once committed: a batch that failed as a whole stored nothing.
    state.metrics.count_records(&records, &results);
    Ok(HttpResponse::Ok().json(PushResponse { results }))
}

/// Downloads everything in the caller's scope changed since `cursor`: households, residents, adoption,
/// the service catalogue, and the caller's own field records; deletions as `op: delete`.
#[utoipa::path(tag = "sync", params(PullQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Changes, the next cursor, and whether more are waiting", body = PullResponse),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role does not sync households", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/sync/pull")]
pub async fn pull(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<PullQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let res = db::run(&state.pool, move |conn| sync::pull::pull(conn, &auth, &q)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(res))
}

#[derive(Serialize, ToSchema)]
pub struct DeviceResponse {
    /// The device's id.
    pub device_id: String,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub first_seen_at: chrono::DateTime<chrono::Utc>,
    pub last_push_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The last pull, to the minute: pulls within a minute of the one noted leave it as it was.
    pub last_pull_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Records stored from this device.
    pub records_applied: i64,
    /// Records refused from this device.
    pub records_rejected: i64,
    /// Code of the last refusal.
    pub last_error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceList {
    pub items: Vec<DeviceResponse>,
}

/// Who manages sync health where: a village leader its villages' users, the chairman and the
/// culture-social office their commune, an administrator everything.
fn ensure_sync_manager(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.may_review_sync() {
        Ok(())
    } else {
        Err(crate::access::role_not_allowed(
            "Leaders see sync health and conflicts.",
        ))
    }
}

/// Devices that synced, per user, in the caller's area: who has not synced lately, what failed.
#[utoipa::path(tag = "sync", security(("bearer" = [])),
    responses(
        (status = 200, description = "Devices", body = DeviceList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a leader", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/devices")]
pub async fn list_devices(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    ensure_sync_manager(&auth)?;
    let items = db::run(&state.pool, move |conn| {
        let devices = match auth.role {
            Role::Admin => store::list_devices(conn, None, None)?,
            Role::VillageLeader => {
                let scope = users::UserScope::Villages(auth.village_ids.clone());
                let ids: Vec<String> =
                    users::list(conn, &scope, &users::UserFilter::default(), None, 10_000)?
                        .into_iter()
                        .map(|u| u.id)
                        .collect();
                store::list_devices(conn, Some(&ids), None)?
            }
            _ => store::list_devices(conn, None, auth.commune_id.as_deref())?,
        };
        let mut out = vec![];
        for d in devices {
            let Some(u) = users::find(conn, &d.user_id)? else {
                continue;
            };
            out.push(DeviceResponse {
                device_id: d.id,
                user_id: u.id,
                username: u.username,
                display_name: u.display_name,
                first_seen_at: paging::utc(d.first_seen_at),
                last_push_at: d.last_push_at.map(paging::utc),
                last_pull_at: d.last_pull_at.map(paging::utc),
                records_applied: d.records_applied,
                records_rejected: d.records_rejected,
                last_error: d.last_error,
            });
        }
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeviceList { items }))
}

#[derive(Serialize, ToSchema)]
pub struct ConflictResponse {
    pub id: String,
    /// `household` or `resident`.
    pub kind: String,
    pub object_id: String,
    pub village_id: String,
    /// Who made the stale edit, on which device.
    pub user_id: String,
    pub device_id: String,
    /// The version the edit was made on, and the server's version then.
    pub base_version: i64,
    pub server_version: i64,
    /// The edit as sent: `{op, data}`.
    #[schema(value_type = Object)]
    pub client: serde_json::Value,
    /// The object as the server had it.
    #[schema(value_type = Object)]
    pub server: serde_json::Value,
    /// `open` or `resolved`.
    pub status: String,
    /// `keep_server` or `apply_client`, once resolved.
    pub resolution: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ConflictList {
    pub items: Vec<ConflictResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConflictQuery {
    /// `open` (default), `resolved` or `all`.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveConflict {
    /// `keep_server` drops the stale edit; `apply_client` applies it on top of the current version.
    #[schema(example = "apply_client")]
    pub resolution: String,
}

fn conflict_response(c: store::Conflict) -> ConflictResponse {
    ConflictResponse {
        client: serde_json::from_str(&c.client_data).unwrap_or_default(),
        server: serde_json::from_str(&c.server_data).unwrap_or_default(),
        id: c.id,
        kind: c.kind,
        object_id: c.object_id,
        village_id: c.village_id,
        user_id: c.user_id,
        device_id: c.device_id,
        base_version: c.base_version,
        server_version: c.server_version,
        status: c.status,
        resolution: c.resolution,
        created_at: paging::utc(c.created_at),
    }
}

/// Stale offline edits awaiting review.
#[utoipa::path(tag = "sync", params(ConflictQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Conflicts, newest first", body = ConflictList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a leader", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/conflicts")]
pub async fn list_conflicts(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ConflictQuery>,
) -> Result<HttpResponse, ApiError> {
    ensure_sync_manager(&auth)?;
    let status = match query.into_inner().status.as_deref() {
        None | Some("open") => Some("open"),
        Some("resolved") => Some("resolved"),
        Some("all") => None,
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                "unknown_status",
                "open, resolved or all",
            )]))
        }
    };
    let items = db::run(&state.pool, move |conn| {
        let rows = match auth.role {
            Role::Admin => store::list_conflicts(conn, None, None, status)?,
            Role::VillageLeader => {
                store::list_conflicts(conn, Some(&auth.village_ids), None, status)?
            }
            _ => store::list_conflicts(conn, None, auth.commune_id.as_deref(), status)?,
        };
        Ok(rows.into_iter().map(conflict_response).collect())
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConflictList { items }))
}

/// Resolves a conflict: keep the server's version, or apply the stale edit on top of it.
#[utoipa::path(tag = "sync", params(("id" = String, Path, description = "Conflict id")), request_body = ResolveConflict, security(("bearer" = [])),
    responses(
        (status = 200, description = "The resolved conflict", body = ConflictResponse),
        (status = 400, description = "Unknown resolution, or the edit is invalid now", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a leader", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conflict in scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already resolved", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/conflicts/{id}/resolve")]
pub async fn resolve_conflict(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<ResolveConflict>,
) -> Result<HttpResponse, ApiError> {
    ensure_sync_manager(&auth)?;
    let id = path.into_inner();
    let resolution = body.into_inner().resolution;
    if resolution != "keep_server" && resolution != "apply_client" {
        return Err(ApiError::validation(vec![FieldError::new(
            "resolution",
            "unknown_resolution",
            "keep_server or apply_client",
        )]));
    }
    let resolved = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let c = store::find_conflict(conn, &id)?
                .filter(|c| {
                    auth.can_read_in(&c.commune_id, &c.village_id)
                        && (auth.role != Role::VillageLeader
                            || auth.village_ids.contains(&c.village_id))
                })
                .ok_or_else(|| ApiError::NotFound {
                    code: "conflict_not_found",
                    detail: "No such conflict.".into(),
                })?;
            if c.status != "open" {
                return Err(ApiError::Conflict {
                    code: "already_resolved",
                    detail: "This conflict was resolved already.".into(),
                });
            }
            if resolution == "apply_client" {
                let client: serde_json::Value =
                    serde_json::from_str(&c.client_data).unwrap_or_default();
                let data = client.get("data").cloned().unwrap_or_default();
                let op = client
                    .get("op")
                    .and_then(|o| o.as_str())
                    .unwrap_or("update");
                let invalid = |e: serde_json::Error| {
                    ApiError::validation(vec![FieldError::new(
                        "client",
                        "invalid_data",
                        e.to_string(),
                    )])
                };
                match (c.kind.as_str(), op) {
                    ("household", "delete") => {
                        hh::delete_household_in(conn, &auth, &c.object_id, None)?
                    }
                    ("resident", "delete") => {
                        hh::delete_resident_in(conn, &auth, &c.object_id, None)?
                    }
                    ("household", _) => {
                        let edit: hh::UpdateHousehold =
                            serde_json::from_value(data).map_err(invalid)?;
                        let current = crate::db::registry::find_household(conn, &c.object_id)?
                            .ok_or_else(|| ApiError::not_found("household"))?;
                        hh::update_household_in(conn, &auth, &c.object_id, current.version, &edit)?;
                    }
                    _ => {
                        let edit: hh::UpdateResident =
                            serde_json::from_value(data).map_err(invalid)?;
                        let current = crate::db::registry::find_resident(conn, &c.object_id)?
                            .ok_or_else(|| ApiError::not_found("resident"))?;
                        hh::update_resident_in(conn, &auth, &c.object_id, current.version, &edit)?;
                    }
                }
            }
            store::resolve_conflict(conn, &c.id, &resolution, &auth.id)?;
            db::audit::by_user(
                conn,
                &auth,
                "conflict_resolved",
                &c.kind,
                &c.object_id,
                Some(&c.commune_id),
                serde_json::json!({"conflict_id": c.id, "resolution": resolution}),
            )?;
            store::find_conflict(conn, &c.id)?.ok_or_else(|| ApiError::not_found("conflict"))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(conflict_response(resolved)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(push)
        .service(pull)
        .service(list_devices)
        .service(list_conflicts)
        .service(resolve_conflict);
}
