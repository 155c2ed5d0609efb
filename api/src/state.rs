//! What every handler can reach, apart from the router that mounts them (`startup.rs`), so the
//! layers under the handlers never import the server's start-up.

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::db::DbPool;

/// What every handler can reach. Nothing in here is state another instance would need: a second
/// server behind the same PostgreSQL works the same.
pub struct AppState {
    pub pool: DbPool,
    pub jwt: JwtKeys,
    /// The few threads that hash passwords (19 MiB each), so a login burst cannot exhaust memory.
    pub hasher: crate::auth::hasher::Hasher,
    /// HMAC key deriving each refresh token's successor (see `auth::session`).
    pub rotation_key: [u8; 32],
    pub settings: Settings,
    /// Which operations each API-key scope opens, read from the spec's operations.
    pub key_scopes: crate::auth::api_key::KeyScopes,
    /// What `/metrics` reports; this instance's own counts.
    pub metrics: crate::metrics::Metrics,
}
