use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, PageQuery};
use crate::auth::AuthUser;
use crate::db::{self, audit::AuditFilter};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this action, e.g. `login_failed`, `user_created`, `role_changed`.
    pub action: Option<String>,
    /// Only events by this user id.
    pub actor_user_id: Option<String>,
    /// Only events about this object id.
    pub object_id: Option<String>,
    /// Only events of this commune.
    pub commune_id: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Events before this time (RFC 3339).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventResponse {
    /// Sequence number; higher is newer.
    pub id: i64,
    /// When it happened (UTC).
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// The acting user, when there was one.
    pub actor_user_id: Option<String>,
    /// Who acted: a username, `cli` or `system`.
    pub actor_label: String,
    /// What happened.
    #[schema(example = "login_failed")]
    pub action: String,
    /// Kind of object acted on.
    pub object_type: Option<String>,
    /// Id of the object acted on.
    pub object_id: Option<String>,
    /// Commune concerned.
    pub commune_id: Option<String>,
    /// Client IP address.
    pub client_addr: Option<String>,
    /// Specifics of the event.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEventResponse>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The append-only audit log (administrators only), newest first.
#[utoipa::path(
    tag = "admin",
    params(PageQuery, AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let limit = page.limit()?;
    let before = match page.after()? {
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "cursor",
                "invalid_cursor",
                "the cursor is not one this server gave",
            )])
        })?),
        None => None,
    };
    let q = query.into_inner();
    let filter = AuditFilter {
        action: q.action,
        actor_user_id: q.actor_user_id,
        object_id: q.object_id,
        commune_id: q.commune_id,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    let rows = db::run(&state.pool, move |conn| {
        Ok(db::audit::list(conn, &filter, before, limit)?)
    })
    .await?;
    let next_cursor = paging::next_cursor(&rows, limit, |e| e.id.to_string());
    let items = rows
        .into_iter()
        .map(|e| AuditEventResponse {
            id: e.id,
            occurred_at: paging::utc(e.occurred_at),
            actor_user_id: e.actor_user_id,
            actor_label: e.actor_label,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            commune_id: e.commune_id,
            client_addr: e.client_addr,
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(AuditPage { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_events);
}
