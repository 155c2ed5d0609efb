use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{password, AuthUser};
use crate::db::{self, audit::NewAuditEvent};
use crate::domain::{Department, Role};
use crate::error::{ApiError, Problem};
use crate::startup::AppState;

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

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    #[schema(example = 900)]
    pub expires_in: i64,
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
    /// True when the user must choose a new password before anything else.
    pub must_change_password: bool,
}

impl From<AuthUser> for MeResponse {
    fn from(u: AuthUser) -> Self {
        MeResponse {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            department: u.department,
            commune_id: u.commune_id,
            village_ids: u.village_ids,
            must_change_password: u.must_change_password,
        }
    }
}

fn client_addr(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_credentials",
        detail: "The username or password is wrong.".into(),
    }
}

/// Signs in with a username and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password, or account disabled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
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

    let lookup = username.clone();
    let user = db::run(&state.pool, move |conn| {
        Ok(db::users::find_by_username(conn, &lookup)?)
    })
    .await?;

    // Unknown users are checked against a dummy hash so the answer takes as long as a wrong password.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let _permit = state
        .hash_permits
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let verified = web::block(move || {
        let hash = stored.as_deref().unwrap_or_else(|| password::dummy_hash());
        password::verify(&candidate, hash) && stored.is_some()
    })
    .await?;
    drop(_permit);

    let user = match user {
        Some(u) if verified && u.active => u,
        other => {
            let (actor, reason) = match &other {
                Some(u) if !u.active => (Some(u.id.clone()), "account_disabled"),
                Some(u) => (Some(u.id.clone()), "wrong_password"),
                None => (None, "unknown_user"),
            };
            let label = username.clone();
            db::run(&state.pool, move |conn| {
                db::audit::record(
                    conn,
                    &NewAuditEvent {
                        occurred_at: db::now(),
                        actor_user_id: actor.as_deref(),
                        actor_label: &label,
                        action: "login_failed",
                        object_type: Some("user"),
                        object_id: actor.as_deref(),
                        commune_id: None,
                        client_addr: addr.as_deref(),
                        details: serde_json::json!({ "reason": reason }).to_string(),
                    },
                )?;
                Ok(())
            })
            .await?;
            return Err(invalid_credentials());
        }
    };

    let access_token = state.jwt.issue(&user.id, None)?;
    let uid = user.id.clone();
    let (villages, user) = db::run(&state.pool, move |conn| {
        db::audit::record(
            conn,
            &NewAuditEvent {
                occurred_at: db::now(),
                actor_user_id: Some(&uid),
                actor_label: &user.username,
                action: "login",
                object_type: Some("user"),
                object_id: Some(&uid),
                commune_id: user.commune_id.as_deref(),
                client_addr: addr.as_deref(),
                details: "{}".into(),
            },
        )?;
        Ok((db::users::village_ids(conn, &uid)?, user))
    })
    .await?;
    let profile = MeResponse {
        role: Role::parse(&user.role).map_err(|e| ApiError::internal(anyhow::anyhow!("{e:?}")))?,
        department: user
            .department
            .as_deref()
            .and_then(|d| Department::parse(d).ok()),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        commune_id: user.commune_id,
        village_ids: villages,
        must_change_password: user.must_change_password,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(LoginResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.jwt.ttl_secs,
            user: profile,
        }))
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
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(MeResponse::from(user))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(me);
}
