//! `GET /metrics` for Prometheus (see `crate::metrics`). An operator's endpoint, outside the public
//! contract: it has no `utoipa::path`, and `startup.rs` mounts it only when `metrics_token` is set,
//! so until then `/metrics` answers 404 like any unknown path.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(token) = state.settings.metrics_token.as_ref() else {
        return Err(ApiError::NotFound {
            code: "route_not_found",
            detail: "No resource at this path.".into(),
        });
    };
    authorize(&req, token)?;
    // Read before the backlog query below, which holds the gate itself while it runs.
    let gate = state.pool.gate_use();
    let connections = state.pool.connection_use();
    // A server too busy to count its outbox still reports the rest.
    let backlog = match db::run(&state.pool, |conn| Ok(db::webhooks::backlog(conn)?)).await {
        Ok(counts) => Some(counts),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the webhook backlog was not counted");
            None
        }
    };
    let body = state
        .metrics
        .render(gate, &connections, backlog)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// `Authorization: Bearer <metrics_token>`, compared in constant time. Both sides are hashed first,
/// so the comparison does not reveal the token's length either.
fn authorize(req: &HttpRequest, token: &SecretString) -> Result<(), ApiError> {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| ApiError::Unauthorized {
            code: "missing_token",
            detail: "This endpoint needs `Authorization: Bearer <metrics token>`.".into(),
        })?;
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(token.expose_secret().as_bytes());
    if bool::from(given.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized {
            code: "invalid_token",
            detail: "This is not the metrics token.".into(),
        })
    }
}
