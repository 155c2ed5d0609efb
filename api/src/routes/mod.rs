//! HTTP handlers, one module per resource; each exposes `configure` so `startup.rs` only mounts them.

pub mod audit;
pub mod auth;
pub mod health;
pub mod paging;
pub mod users;

/// Mounts every `/api/v1` resource.
pub fn configure_api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::configure(cfg);
    users::configure(cfg);
    audit::configure(cfg);
}
