use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when the process is up; `ready` when the database is reachable and migrated.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up and answering.
#[utoipa::path(tag = "health", responses((status = 200, description = "The process is up", body = HealthResponse)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// Readiness: the database is reachable and every migration is applied.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = HealthResponse),
        (status = 503, description = "Database unreachable or migrations pending", body = Problem,
         content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let current = crate::db::run(&state.pool, |conn| {
        crate::db::migrations_are_current(conn).map_err(ApiError::internal)
    })
    .await?;
    if !current {
        return Err(ApiError::Unavailable {
            code: "migrations_pending",
            detail: "The database schema is older than this server; run `tungnha migrate`.".into(),
        });
    }
    Ok(HttpResponse::Ok().json(HealthResponse { status: "ready" }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
