//! Authentication and scope.
//!
//! [`AuthUser`] is extracted from the `Authorization: Bearer` header on every protected request: it
//! verifies the JWT, then reloads the account so a deactivated user is refused at once. What the
//! caller may then see and do is decided in [`crate::access`], the one access policy.

pub mod api_key;
pub mod hasher;
pub mod jwt;
pub mod password;
pub mod session;
pub mod throttle;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use futures_util::future::LocalBoxFuture;

pub use crate::access::Caller as AuthUser;
use crate::db;
use crate::domain::{Department, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// `n` random bytes from the OS, URL-safe base64 without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The OS RNG failing is not recoverable; refusing to start is right.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || ApiError::Unauthorized {
        code: "missing_token",
        detail: "This endpoint needs `Authorization: Bearer <access token>`.".into(),
    };
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(missing)?;
    Ok(token.trim().to_owned())
}

/// Loads the account behind a token: refused when it no longer exists, is deactivated, or its session
/// was ended (logout, reuse detection, deactivation, password reset).
pub async fn load_auth_user(
    state: &AppState,
    user_id: String,
    session_id: Option<String>,
) -> Result<AuthUser, ApiError> {
    let sid = session_id.clone();
    let loaded = db::run(&state.pool, move |conn| {
        let Some(user) = db::users::find(conn, &user_id)? else {
            return Ok(None);
        };
        let session_live = match &sid {
            Some(sid) => db::sessions::find_session(conn, sid)?
                .is_some_and(|s| s.revoked_at.is_none() && s.user_id == user.id),
            None => true,
        };
        let villages = db::users::village_ids(conn, &user.id)?;
        Ok(Some((user, villages, session_live)))
    })
    .await?;
    let Some((user, village_ids, session_live)) = loaded else {
        return Err(ApiError::Unauthorized {
            code: "invalid_token",
            detail: "The account of this token no longer exists.".into(),
        });
    };
    if !user.active {
        return Err(ApiError::Unauthorized {
            code: "account_disabled",
            detail: "This account has been deactivated.".into(),
        });
    }
    if !session_live {
        return Err(ApiError::Unauthorized {
            code: "session_revoked",
            detail: "This session has ended; sign in again.".into(),
        });
    }
    Ok(AuthUser {
        role: Role::parse(&user.role).map_err(|e| ApiError::internal(anyhow::anyhow!("{e:?}")))?,
        department: user
            .department
            .as_deref()
            .map(Department::parse)
            .transpose()
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e:?}")))?,
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        commune_id: user.commune_id,
        village_ids,
        must_change_password: user.must_change_password,
        session_id,
        api_key: None,
    })
}

/// While a password change is forced, only these requests are allowed.
fn allowed_before_password_change(
    req_path: &str,
    method: &actix_web::http::Method,
    user_id: &str,
) -> bool {
    req_path == "/api/v1/me"
        || req_path == "/api/v1/auth/logout"
        || (method == actix_web::http::Method::POST
            && req_path == format!("/api/v1/users/{user_id}/password"))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let path = req.path().to_owned();
        let method = req.method().clone();
        let pattern = req.match_pattern();
        let client = crate::client::Client::of(req).addr.map(|a| a.to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let token = token?;
            if token.starts_with(api_key::PREFIX) {
                return api_key::authenticate(&state, &token, method, path, pattern, client).await;
            }
            let claims = state.jwt.verify(&token)?;
            let user = load_auth_user(&state, claims.sub, claims.sid).await?;
            if user.must_change_password
                && !allowed_before_password_change(&path, &method, &user.id)
            {
                return Err(ApiError::Forbidden {
                    code: "password_change_required",
                    detail: "Choose a new password first (POST /api/v1/users/{id}/password)."
                        .into(),
                });
            }
            Ok(user)
        })
    }
}
