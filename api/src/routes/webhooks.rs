//! Webhook subscriptions of integrations and their deliveries (administrators).

use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::auth::AuthUser;
use crate::db::{self, webhooks as store};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(replay_delivery);
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWebhook {
    /// Who receives, e.g. `Bảng điều khiển chuyển đổi số thành phố`.
    pub name: String,
    /// `https://…` or `http://…` of a public host; loopback, private, link-local and other internal
    /// addresses are refused (at creation and again when sending) unless the operator lists them in
    /// `webhook_allowed_targets`, and so are credentials in the URL.
    pub url: String,
    /// Any of `report.approved`, `difficulty.opened`, `records.synced`, `indicator.threshold_crossed`.
    pub events: Vec<String>,
    /// Only events of this commune; without it, every commune's.
    pub commune_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub commune_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The HMAC key of the `X-TungNha-Signature` header, shown this once.
    pub secret: String,
    pub webhook: WebhookResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: String,
    pub event: String,
    /// `pending`, `delivered` or `dead` (after the last try; replayable).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The JSON body that is (or was) posted.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first, at most 500.
    pub items: Vec<DeliveryResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// Only `pending`, `delivered` or `dead` ones.
    pub status: Option<String>,
}

fn response(h: &store::Webhook) -> WebhookResponse {
    WebhookResponse {
        id: h.id.clone(),
        name: h.name.clone(),
        url: h.url.clone(),
        events: h.event_list(),
        commune_id: h.commune_id.clone(),
        created_at: paging::utc(h.created_at),
    }
}

fn delivery(d: store::Delivery) -> DeliveryResponse {
    DeliveryResponse {
        payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        id: d.id,
        event: d.event,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: paging::utc(d.next_attempt_at),
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: paging::utc(d.created_at),
        delivered_at: d.delivered_at.map(paging::utc),
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "webhook_not_found",
        detail: "No such webhook.".into(),
    }
}

/// The webhooks, newest first (administrators); secrets are never shown again.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Webhooks", body = WebhookList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let hooks = db::run(&state.pool, |conn| Ok(store::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: hooks.iter().map(response).collect(),
    }))
}

/// Subscribes an integration to events (administrators); the answer holds the signing secret, which
/// is never shown again.
#[utoipa::path(tag = "admin", request_body = NewWebhook, security(("bearer" = [])),
    responses(
        (status = 201, description = "Subscribed; `secret` is shown this once", body = CreatedWebhook),
        (status = 400, description = "Invalid name, URL, event or commune", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let name = b.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "length", "1 to 100 characters"));
    }
    // Loopback, private and other internal targets are refused, names by what they resolve to
    // now (and again at each delivery); see webhooks/target.rs.
    if let Err(r) = state.settings.webhook_targets.vet(&b.url).await {
        errors.push(FieldError::new("url", r.code(), r.message()));
    }
    let mut events = b.events.clone();
    events.sort();
    events.dedup();
    if events.is_empty() {
        errors.push(FieldError::new(
            "events",
            "required",
            format!("one or more of {}", store::EVENTS.join(", ")),
        ));
    }
    for e in &events {
        if !store::EVENTS.contains(&e.as_str()) {
            errors.push(FieldError::new(
                "events",
                "unknown_event",
                format!("`{e}` is not one of {}", store::EVENTS.join(", ")),
            ));
        }
    }
    let secret = crate::auth::random_token(32);
    let created = db::run(&state.pool, move |conn| {
        if let Some(c) = &b.commune_id {
            if !db::geo::commune_exists(conn, c)? {
                errors.push(FieldError::new(
                    "commune_id",
                    "unknown",
                    "an existing commune",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let hook = store::Webhook {
            id: db::new_id(),
            name,
            url: b.url.trim().to_owned(),
            secret: secret.clone(),
            events: events.join(" "),
            commune_id: b.commune_id.clone(),
            created_by: auth.id.clone(),
            created_at: db::now(),
            deleted_at: None,
        };
        db::write_tx(conn, |conn| {
            store::insert(conn, &hook)?;
            db::audit::by_user(
                conn,
                &auth,
                "webhook_created",
                "webhook",
                &hook.id,
                hook.commune_id.as_deref(),
                serde_json::json!({"name": hook.name, "url": hook.url, "events": hook.events}),
            )?;
            Ok::<_, ApiError>(())
        })?;
        Ok(CreatedWebhook {
            secret,
            webhook: response(&hook),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Unsubscribes (administrators): nothing more is sent; pending deliveries are given up.
#[utoipa::path(tag = "admin", params(("id" = String, Path, description = "Webhook id")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let hook = store::find(conn, &id)?.ok_or_else(not_found)?;
            store::delete(conn, &hook.id, db::now())?;
            db::audit::by_user(
                conn,
                &auth,
                "webhook_deleted",
                "webhook",
                &hook.id,
                hook.commune_id.as_deref(),
                serde_json::json!({"name": hook.name}),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook's deliveries, newest first (administrators): the dead-letter list is `?status=dead`.
#[utoipa::path(tag = "admin", params(("id" = String, Path, description = "Webhook id"), DeliveryQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Deliveries", body = DeliveryList),
        (status = 400, description = "Unknown status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    let status = query.into_inner().status;
    if status
        .as_deref()
        .is_some_and(|s| !["pending", "delivered", "dead"].contains(&s))
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "status",
            "unknown_status",
            "pending, delivered or dead",
        )]));
    }
    let rows = db::run(&state.pool, move |conn| {
        let hook = store::find(conn, &id)?.ok_or_else(not_found)?;
        Ok(store::deliveries(conn, &hook.id, status.as_deref())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: rows.into_iter().map(delivery).collect(),
    }))
}

/// Sends a dead (or delivered) delivery again (administrators): pending at once, with fresh tries.
#[utoipa::path(tag = "admin", params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")), security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again", body = DeliveryResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still pending", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let (id, delivery_id) = path.into_inner();
    let row = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let hook = store::find(conn, &id)?.ok_or_else(not_found)?;
            let d = store::find_delivery(conn, &delivery_id)?
                .filter(|d| d.webhook_id == hook.id)
                .ok_or_else(|| ApiError::NotFound {
                    code: "delivery_not_found",
                    detail: "No such delivery of this webhook.".into(),
                })?;
            if store::replay(conn, &d.id, db::now())? == 0 {
                return Err(ApiError::Conflict {
                    code: "delivery_pending",
                    detail: "This delivery is still being tried.".into(),
                });
            }
            db::audit::by_user(
                conn,
                &auth,
                "webhook_delivery_replayed",
                "webhook_delivery",
                &d.id,
                hook.commune_id.as_deref(),
                serde_json::json!({"webhook_id": hook.id, "event": d.event}),
            )?;
            store::find_delivery(conn, &d.id)?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("replayed delivery vanished")))
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(delivery(row)))
}
