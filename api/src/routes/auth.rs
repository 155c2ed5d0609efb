use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::{self, Refreshed};
use crate::auth::{password, throttle, AuthUser};
use crate::db::{self, audit::NewAuditEvent};
use crate::domain::{Department, Role};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name (case-insensitive).
    #[schema(example = "admin")]
    pub username: String,
    /// Password.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The session's refresh token; needed when the access token has already expired.
    pub refresh_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque token for `POST /api/v1/auth/refresh`; rotated on every use. Keep only the newest.
    pub refresh_token: String,
    /// The signed-in user.
    pub user: MeResponse,
}

/// The signed-in user and their scope.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// User id (UUID).
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown in the app.
    pub display_name: String,
    /// Role key.
    pub role: Role,
    /// Department key, for `department` users.
    pub department: Option<Department>,
    /// Commune the user belongs to (none for `admin`).
    pub commune_id: Option<String>,
    /// Villages in the user's scope.
    pub village_ids: Vec<String>,
    /// The same villages with their names, in `village_ids` order, for showing them.
    pub villages: Vec<VillageRef>,
    /// True when the user must choose a new password before anything else.
    pub must_change_password: bool,
}

/// A village as a person reads it.
#[derive(Serialize, ToSchema)]
pub struct VillageRef {
    pub id: String,
    #[schema(example = "Thôn Phú Lộc")]
    pub name: String,
}

impl MeResponse {
    /// The caller's profile, with the names of its villages.
    pub async fn load(state: &AppState, u: AuthUser) -> Result<Self, ApiError> {
        let ids = u.village_ids.clone();
        let names: std::collections::HashMap<String, String> = if ids.is_empty() {
            Default::default()
        } else {
            db::run(&state.pool, move |conn| {
                Ok(
                    db::geo::list_villages(conn, None, Some(&ids), None, ids.len() as i64)?
                        .into_iter()
                        .map(|v| (v.id, v.name))
                        .collect(),
                )
            })
            .await?
        };
        let villages = u
            .village_ids
            .iter()
            .map(|id| VillageRef {
                name: names.get(id).cloned().unwrap_or_default(),
                id: id.clone(),
            })
            .collect();
        Ok(MeResponse {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            department: u.department,
            commune_id: u.commune_id,
            village_ids: u.village_ids,
            villages,
            must_change_password: u.must_change_password,
        })
    }
}

/// The client's address as throttling and audit record it (through trusted proxies; `client.rs`).
pub fn client_addr(req: &HttpRequest) -> String {
    crate::client::Client::of(req).addr_text()
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_credentials",
        detail: "The username or password is wrong.".into(),
    }
}

fn idle(state: &AppState) -> TimeDelta {
    TimeDelta::days(i64::from(state.settings.refresh_idle_days))
}

/// Loads the profile and issues an access token for an open session.
async fn token_response(
    state: &AppState,
    user_id: String,
    session_id: &str,
    refresh_token: String,
) -> Result<HttpResponse, ApiError> {
    let access_token = state.jwt.issue(&user_id, Some(session_id))?;
    let user = crate::auth::load_auth_user(state, user_id, Some(session_id.to_owned())).await?;
    let user = MeResponse::load(state, user).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.jwt.ttl_secs,
            refresh_token,
            user,
        }))
}

/// Signs in with a username and password and opens a session.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password, or account disabled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        username,
        password: candidate,
    } = body.into_inner();
    if username.len() > 256 || candidate.len() > 1024 {
        return Err(invalid_credentials());
    }
    let username = username.trim().to_lowercase();
    let addr = client_addr(&req);

    let (lookup, at) = (username.clone(), addr.clone());
    let user = db::run(&state.pool, move |conn| {
        throttle::check(conn, &lookup, &at, db::now())?;
        Ok(db::users::find_by_username(conn, &lookup)?)
    })
    .await?;

    // Unknown users are checked against a dummy hash so the answer takes as long as a wrong password.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = {
        state
            .hasher
            .run(move || {
                let hash = stored.as_deref().unwrap_or_else(|| password::dummy_hash());
                let ok = password::verify(&candidate, hash) && stored.is_some();
                // Re-hash with today's parameters while the plain password is at hand.
                let rehash = (ok && password::needs_rehash(hash))
                    .then(|| crate::domain::Password::parse(&candidate, "password").ok())
                    .flatten()
                    .and_then(|p| password::hash(&p).ok());
                (ok, rehash)
            })
            .await?
    };

    let (ok, rehash) = verified;
    let user = match user {
        Some(u) if ok && u.active => u,
        other => {
            let reason = match &other {
                Some(u) if !u.active => "account_disabled",
                Some(_) => "wrong_password",
                None => "unknown_user",
            };
            let actor = other.map(|u| u.id);
            db::run(&state.pool, move |conn| {
                db::write_tx(conn, |conn| {
                    throttle::record_failure(conn, &username, &addr, db::now())?;
                    db::audit::record(
                        conn,
                        &NewAuditEvent {
                            object_type: Some("user"),
                            object_id: actor.as_deref(),
                            client_addr: Some(&addr),
                            details: serde_json::json!({ "reason": reason }).to_string(),
                            ..NewAuditEvent::new("login_failed", actor.as_deref(), &username)
                        },
                    )?;
                    Ok::<_, ApiError>(())
                })
            })
            .await?;
            return Err(invalid_credentials());
        }
    };

    let idle = idle(&state);
    let uid = user.id.clone();
    let opened = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            throttle_clear(conn, &user.username, &addr)?;
            if let Some(hash) = &rehash {
                db::users::set_password(
                    conn,
                    &user.id,
                    hash,
                    user.must_change_password,
                    db::now(),
                )?;
            }
            let opened = session::open(conn, &user.id, Some(&addr), idle)?;
            db::audit::record(
                conn,
                &NewAuditEvent {
                    object_type: Some("session"),
                    object_id: Some(&opened.session_id),
                    commune_id: user.commune_id.as_deref(),
                    client_addr: Some(&addr),
                    ..NewAuditEvent::new("login", Some(&user.id), &user.username)
                },
            )?;
            Ok::<_, ApiError>(opened)
        })
    })
    .await?;
    token_response(&state, uid, &opened.session_id, opened.refresh_token).await
}

fn throttle_clear(conn: &mut db::DbConnection, username: &str, addr: &str) -> Result<(), ApiError> {
    db::throttle::clear_for(conn, username, addr)?;
    Ok(())
}

/// Exchanges a refresh token for a new access token and a new refresh token.
///
/// The old refresh token stops working, except that the same request repeated within 60 seconds (a
/// reply lost on a bad connection) gets the same new refresh token again. A rotated token used later
/// ends the whole session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid, expired, reused or revoked refresh token, or account disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.into_inner().refresh_token;
    if token.len() > 256 {
        return Err(ApiError::Unauthorized {
            code: "invalid_refresh_token",
            detail: "The refresh token is not valid.".into(),
        });
    }
    let idle = idle(&state);
    let addr = client_addr(&req);
    let key = state.rotation_key;
    let mut attempt = 0;
    let outcome = loop {
        let token = token.clone();
        let result = db::run(&state.pool, move |conn| {
            db::write_tx(conn, |conn| {
                session::refresh(conn, &key, &token, idle, db::now())
            })
        })
        .await;
        match result {
            // A concurrent refresh of the same token won the race; the retry takes the grace path.
            Err(ApiError::Conflict { .. }) if attempt < 2 => attempt += 1,
            other => break other?,
        }
    };
    match outcome {
        Refreshed::Rotated {
            user_id,
            session_id,
            refresh_token,
        } => token_response(&state, user_id, &session_id, refresh_token).await,
        Refreshed::ReuseDetected {
            user_id,
            session_id,
        } => {
            db::run(&state.pool, move |conn| {
                db::audit::record(
                    conn,
                    &NewAuditEvent {
                        object_type: Some("session"),
                        object_id: Some(&session_id),
                        client_addr: Some(&addr),
                        ..NewAuditEvent::new("refresh_token_reuse", Some(&user_id), "system")
                    },
                )?;
                Ok(())
            })
            .await?;
            Err(ApiError::Unauthorized {
                code: "refresh_token_reused",
                detail: "This refresh token was already used; the session has been ended. Sign in again.".into(),
            })
        }
    }
}

/// Ends the session: by the refresh token in the body, or else the session of the access token.
#[utoipa::path(
    tag = "auth",
    request_body(content = LogoutRequest, description = "Optional; `{}` or no body ends the access token's session"),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Session ended (also when it had already ended)"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Neither a valid access token nor a refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Option<AuthUser>,
    body: Option<web::Json<LogoutRequest>>,
) -> Result<HttpResponse, ApiError> {
    let refresh_token = body.and_then(|b| b.into_inner().refresh_token);
    let session_from_token = user.as_ref().and_then(|u| u.session_id.clone());
    if refresh_token.is_none() && session_from_token.is_none() {
        return Err(ApiError::Unauthorized {
            code: "missing_token",
            detail: "Send the access token or the refresh token of the session to end.".into(),
        });
    }
    let addr = client_addr(&req);
    db::run(&state.pool, move |conn| {
        let session_id = match refresh_token {
            Some(t) => db::sessions::find_token_by_hash(conn, &session::hash_token(&t))?
                .map(|t| t.session_id),
            None => session_from_token,
        };
        if let Some(id) = session_id {
            if let Some(s) = db::sessions::find_session(conn, &id)? {
                if db::sessions::revoke_session(conn, &id, "logout", db::now())? > 0 {
                    db::audit::record(
                        conn,
                        &NewAuditEvent {
                            object_type: Some("session"),
                            object_id: Some(&id),
                            client_addr: Some(&addr),
                            ..NewAuditEvent::new("logout", Some(&s.user_id), "user")
                        },
                    )?;
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user and their scope.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = MeResponse),
        (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(MeResponse::load(&state, user).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me);
}
