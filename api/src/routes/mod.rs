//! HTTP handlers, one module per resource; each exposes `configure` so `startup.rs` only mounts them.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod difficulties;
pub mod emulation;
pub mod exports;
pub mod geo;
pub mod health;
pub mod households;
pub mod imports;
pub mod materials;
pub mod metrics;
pub use crate::paging;
pub mod plans;
pub mod privacy;
pub mod records;
pub mod reports;
pub mod services;
pub mod stats;
pub mod sync;
pub mod teams;
pub mod trainings;
pub mod users;
pub mod webhooks;

/// Mounts every `/api/v1` resource.
pub fn configure_api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::configure(cfg);
    users::configure(cfg);
    geo::configure(cfg);
    services::configure(cfg);
    teams::configure(cfg);
    households::configure(cfg);
    privacy::configure(cfg);
    imports::configure(cfg);
    sync::configure(cfg);
    records::configure(cfg);
    difficulties::configure(cfg);
    trainings::configure(cfg);
    materials::configure(cfg);
    emulation::configure(cfg);
    exports::configure(cfg);
    stats::configure(cfg);
    plans::configure(cfg);
    reports::configure(cfg);
    audit::configure(cfg);
    api_keys::configure(cfg);
    webhooks::configure(cfg);
}

pub use crate::domain::{double_option, optional_name, required_reason};

/// Reads a raw request body of at most `max` bytes; a larger one is refused with 413 and `too_large`.
pub async fn read_body(
    mut payload: actix_web::web::Payload,
    max: usize,
    too_large: &str,
) -> Result<Vec<u8>, crate::error::ApiError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| crate::error::ApiError::BadRequest {
            code: "unreadable_body",
            detail: e.to_string(),
            errors: vec![],
        })?;
        if body.len() + chunk.len() > max {
            return Err(crate::error::ApiError::PayloadTooLarge {
                detail: too_large.to_owned(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
