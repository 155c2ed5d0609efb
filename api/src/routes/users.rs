use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, PageQuery};
use crate::access::accounts::{self as policy, AccountShape};
use crate::auth::{password, AuthUser};
use crate::db::users::{User, UserChangeset, UserFilter};
use crate::db::{self, audit::NewAuditEvent, DbConnection};
use crate::domain::{Department, DisplayName, Password, Role, Username};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name: 3–64 of `a-z 0-9 . _ -`, case-insensitive.
    #[schema(example = "lan.nt")]
    pub username: String,
    /// Initial password, 8–128 characters; the user is asked to change it at first sign-in.
    pub password: String,
    /// Name shown in the app.
    #[schema(example = "Nguyễn Thị Lan")]
    pub display_name: String,
    /// Role key.
    pub role: Role,
    /// Department key; required for (and only for) the `department` role.
    pub department: Option<Department>,
    /// The user's commune; defaults to the creator's. Required for every role but `admin` and `city`.
    pub commune_id: Option<String>,
    /// Villages in scope; required for `village_leader` and `volunteer`.
    #[serde(default)]
    pub village_ids: Vec<String>,
    /// Ask for a new password at first sign-in (default true).
    pub must_change_password: Option<bool>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New department (`null` to clear).
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Department>)]
    pub department: Option<Option<Department>>,
    /// New village set.
    pub village_ids: Option<Vec<String>>,
    /// `false` deactivates the account and ends its sessions at once.
    pub active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password; required when changing one's own password.
    pub current_password: Option<String>,
    /// The new password, 8–128 characters.
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    /// User id (UUID).
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown in the app.
    pub display_name: String,
    /// Role key.
    pub role: Role,
    /// Department key for `department` users.
    pub department: Option<Department>,
    /// Commune of the user.
    pub commune_id: Option<String>,
    /// Villages in the user's scope.
    pub village_ids: Vec<String>,
    /// False once deactivated.
    pub active: bool,
    /// True until the user chooses a new password.
    pub must_change_password: bool,
    /// Creation time (UTC).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change (UTC).
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    /// Accounts ordered by username.
    pub items: Vec<UserResponse>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UserListQuery {
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (`true`) or deactivated (`false`) accounts.
    pub active: Option<bool>,
    /// Only accounts attached to this village.
    pub village_id: Option<String>,
}

fn to_response(user: User, village_ids: Vec<String>) -> Result<UserResponse, ApiError> {
    Ok(UserResponse {
        role: Role::parse(&user.role).map_err(|e| ApiError::internal(anyhow::anyhow!("{e:?}")))?,
        department: user
            .department
            .as_deref()
            .and_then(|d| Department::parse(d).ok()),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        commune_id: user.commune_id,
        village_ids,
        active: user.active,
        must_change_password: user.must_change_password,
        created_at: paging::utc(user.created_at),
        updated_at: paging::utc(user.updated_at),
    })
}

/// A strong validator of the representation: it changes whenever any field does.
fn etag(user: &UserResponse) -> String {
    let bytes = serde_json::to_vec(user).unwrap_or_default();
    let digest = sha2::Sha256::digest(&bytes);
    format!(
        "\"{}\"",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn with_etag(mut res: HttpResponse, user: &UserResponse) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&etag(user)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// The stored role; a value the server does not know is a fault, never a default.
fn role_of(user: &User) -> Result<Role, ApiError> {
    Role::parse(&user.role).map_err(|e| ApiError::internal(anyhow::anyhow!("{e:?}")))
}

/// Loads an account the caller may see (itself, or one it manages); anything else is 404.
fn load_visible(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<(User, Vec<String>), ApiError> {
    let not_found = || ApiError::NotFound {
        code: "user_not_found",
        detail: "No such user.".into(),
    };
    let user = db::users::find(conn, id)?.ok_or_else(not_found)?;
    let villages = db::users::village_ids(conn, id)?;
    if user.id == auth.id
        || policy::may_manage(auth, role_of(&user)?, user.commune_id.as_deref(), &villages)
    {
        Ok((user, villages))
    } else {
        Err(not_found())
    }
}

/// Structural rules of an account, whoever creates it: department only for `department`, a commune
/// for commune roles, villages for village roles, all of them existing and consistent.
fn validate_shape(
    conn: &mut DbConnection,
    role: Role,
    department: Option<Department>,
    commune_id: Option<&str>,
    village_ids: &[String],
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = vec![];
    match (role, department) {
        (Role::Department, None) => errors.push(FieldError::new(
            "department",
            "required",
            "a department user needs a department",
        )),
        (Role::Department, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(FieldError::new(
            "department",
            "not_allowed",
            "only the `department` role has a department",
        )),
    }
    let commune_role = !matches!(role, Role::Admin | Role::City);
    match commune_id {
        None if commune_role => errors.push(FieldError::new(
            "commune_id",
            "required",
            "this role belongs to a commune",
        )),
        Some(_) if !commune_role => errors.push(FieldError::new(
            "commune_id",
            "not_allowed",
            "this role is not tied to one commune",
        )),
        Some(c) if !db::geo::commune_exists(conn, c)? => errors.push(FieldError::new(
            "commune_id",
            "unknown_commune",
            "no such commune",
        )),
        _ => {}
    }
    let village_role = matches!(role, Role::VillageLeader | Role::Volunteer);
    if village_role && village_ids.is_empty() {
        errors.push(FieldError::new(
            "village_ids",
            "required",
            "village leaders and volunteers need at least one village",
        ));
    }
    if !village_role && !village_ids.is_empty() {
        errors.push(FieldError::new(
            "village_ids",
            "not_allowed",
            "only village roles have villages",
        ));
    }
    if !village_ids.is_empty() {
        let known: HashMap<String, String> = db::geo::village_communes(conn, village_ids)?
            .into_iter()
            .collect();
        for (i, v) in village_ids.iter().enumerate() {
            match known.get(v) {
                None => errors.push(FieldError::new(
                    format!("village_ids[{i}]"),
                    "unknown_village",
                    "no such village",
                )),
                Some(c) if Some(c.as_str()) != commune_id => errors.push(FieldError::new(
                    format!("village_ids[{i}]"),
                    "village_of_another_commune",
                    "the village belongs to another commune",
                )),
                Some(_) => {}
            }
        }
    }
    Ok(errors)
}

fn dedup(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids.dedup();
    ids
}

async fn hash_password(state: &AppState, password: Password) -> Result<String, ApiError> {
    state
        .hasher
        .run(move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)
}

/// Lists the accounts the caller manages.
#[utoipa::path(
    tag = "users",
    params(PageQuery, UserListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts", body = UserPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role does not manage accounts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
    query: web::Query<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = policy::manageable_scope(&auth)
        .ok_or_else(|| crate::access::role_not_allowed("This role does not manage accounts."))?;
    let limit = page.limit()?;
    let after = page.after()?;
    let q = query.into_inner();
    let filter = UserFilter {
        role: q.role.map(|r| r.as_str().to_owned()),
        active: q.active,
        village_id: q.village_id,
    };
    let (users, villages) = db::run(&state.pool, move |conn| {
        let users = db::users::list(conn, &scope, &filter, after.as_deref(), limit)?;
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        let villages = db::users::village_ids_of(conn, &ids)?;
        Ok((users, villages))
    })
    .await?;
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    for (u, v) in villages {
        by_user.entry(u).or_default().push(v);
    }
    let next_cursor = paging::next_cursor(&users, limit, |u| u.username.clone());
    let items = users
        .into_iter()
        .map(|u| {
            let v = by_user.remove(&u.id).unwrap_or_default();
            to_response(u, v)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(UserPage { items, next_cursor }))
}

/// Creates an account.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to create this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = vec![];
    let username = Username::parse(&body.username)
        .map_err(|e| errors.push(e))
        .ok();
    let password = Password::parse(&body.password, "password")
        .map_err(|e| errors.push(e))
        .ok();
    let display_name = DisplayName::parse(&body.display_name, "display_name")
        .map_err(|e| errors.push(e))
        .ok();
    let commune_id = match (&body.commune_id, body.role) {
        (Some(c), _) => Some(c.clone()),
        (None, Role::Admin | Role::City) => None,
        (None, _) => auth.commune_id.clone(),
    };
    let village_ids = dedup(body.village_ids);
    if village_ids.len() > 100 {
        errors.push(FieldError::new(
            "village_ids",
            "too_many",
            "at most 100 villages",
        ));
    }
    policy::ensure_may_assign(
        &auth,
        &AccountShape {
            role: body.role,
            commune_id: commune_id.as_deref(),
            village_ids: &village_ids,
        },
    )?;
    let (Some(username), Some(password), Some(display_name)) = (username, password, display_name)
    else {
        return Err(ApiError::validation(errors));
    };
    let hash = hash_password(&state, password).await?;
    let addr = super::auth::client_addr(&req);
    let role = body.role;
    let department = body.department;
    let must_change = body.must_change_password.unwrap_or(true);
    let (user, villages) = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let mut errors = errors;
            errors.extend(validate_shape(
                conn,
                role,
                department,
                commune_id.as_deref(),
                &village_ids,
            )?);
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            if db::users::find_by_username(conn, username.as_str())?.is_some() {
                return Err(ApiError::Conflict {
                    code: "username_taken",
                    detail: "This username is taken.".into(),
                });
            }
            let id = db::new_id();
            let now = db::now();
            db::users::insert(
                conn,
                &db::users::NewUser {
                    id: &id,
                    username: username.as_str(),
                    password_hash: &hash,
                    display_name: display_name.as_str(),
                    role: role.as_str(),
                    department: department.map(|d| d.as_str()),
                    commune_id: commune_id.as_deref(),
                    active: true,
                    must_change_password: must_change,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            db::users::set_villages(conn, &id, &village_ids)?;
            db::audit::record(
                conn,
                &NewAuditEvent {
                    object_type: Some("user"),
                    object_id: Some(&id),
                    commune_id: commune_id.as_deref(),
                    client_addr: Some(&addr),
                    details: serde_json::json!({
                        "username": username.as_str(), "role": role.as_str(),
                        "department": department.map(|d| d.as_str()), "village_ids": village_ids,
                    })
                    .to_string(),
                    ..NewAuditEvent::new("user_created", Some(&auth.id), &auth.username)
                },
            )?;
            let user = db::users::find(conn, &id)?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("lost insert")))?;
            Ok((user, village_ids))
        })
    })
    .await?;
    let response = to_response(user, villages)?;
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", response.id)))
        .json(&response);
    Ok(with_etag(res, &response))
}

/// One account: oneself, or one the caller manages.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserResponse, headers(("ETag" = String))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account in the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (user, villages) = db::run(&state.pool, move |conn| load_visible(conn, &auth, &id)).await?;
    let response = to_response(user, villages)?;
    Ok(with_etag(HttpResponse::Ok().json(&response), &response))
}

/// Changes an account. Send `If-Match` with the ETag you read to refuse silent overwrites (412).
#[utoipa::path(
    tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed account", body = UserResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to make this change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The account changed since it was read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let if_match = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let addr = super::auth::client_addr(&req);
    let display_name = body
        .display_name
        .as_deref()
        .map(|n| DisplayName::parse(n, "display_name"))
        .transpose()
        .map_err(|e| ApiError::validation(vec![e]))?;
    let (user, villages) = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let (current, current_villages) = load_visible(conn, &auth, &id)?;
            if let Some(expected) = &if_match {
                let now = to_response(current.clone(), current_villages.clone())?;
                if expected.trim() != "*" && expected.trim() != etag(&now) {
                    return Err(ApiError::PreconditionFailed {
                        code: "edit_conflict",
                        detail: "The account changed since you read it; reload and try again.".into(),
                    });
                }
            }
            let is_self = current.id == auth.id;
            let current_role = role_of(&current)?;
            let role = body.role.unwrap_or(current_role);
            let department = match body.department {
                Some(d) => d,
                None => current.department.as_deref().and_then(|d| Department::parse(d).ok()),
            };
            let village_ids = body.village_ids.clone().map(dedup).unwrap_or_else(|| current_villages.clone());
            let structural = body.role.is_some() || body.department.is_some() || body.village_ids.is_some();
            if is_self && (structural || body.active.is_some()) {
                return Err(ApiError::Forbidden {
                    code: "cannot_change_own_access",
                    detail: "Your own role, villages and status are changed by another manager.".into(),
                });
            }
            if !is_self {
                policy::ensure_may_act_on(&auth, current_role)?;
                policy::ensure_may_assign(
                    &auth,
                    &AccountShape { role, commune_id: current.commune_id.as_deref(), village_ids: &village_ids },
                )?;
            }
            if structural {
                let errors = validate_shape(conn, role, department, current.commune_id.as_deref(), &village_ids)?;
                if !errors.is_empty() {
                    return Err(ApiError::validation(errors));
                }
            }
            let now = db::now();
            let changes = UserChangeset {
                display_name: display_name.as_ref().map(|n| n.as_str().to_owned()),
                role: body.role.map(|r| r.as_str().to_owned()),
                department: body.department.map(|d| d.map(|d| d.as_str().to_owned())),
                commune_id: None,
                active: body.active,
                updated_at: Some(now),
            };
            db::users::update(conn, &current.id, &changes)?;
            if body.village_ids.is_some() {
                db::users::set_villages(conn, &current.id, &village_ids)?;
            }
            let deactivated = body.active == Some(false) && current.active;
            if deactivated {
                db::sessions::revoke_user_sessions(conn, &current.id, "deactivated", now)?;
            }
            let action = if deactivated {
                "user_deactivated"
            } else if body.role.is_some_and(|r| r != current_role) || body.department.is_some() {
                "role_changed"
            } else {
                "user_updated"
            };
            db::audit::record(
                conn,
                &NewAuditEvent {
                    object_type: Some("user"),
                    object_id: Some(&current.id),
                    commune_id: current.commune_id.as_deref(),
                    client_addr: Some(&addr),
                    details: serde_json::json!({
                        "before": { "role": current.role, "department": current.department,
                                    "village_ids": current_villages, "active": current.active,
                                    "display_name": current.display_name },
                        "after": { "role": role.as_str(), "department": department.map(|d| d.as_str()),
                                   "village_ids": village_ids, "active": body.active.unwrap_or(current.active),
                                   "display_name": display_name.as_ref().map(|n| n.as_str()).unwrap_or(&current.display_name) },
                    })
                    .to_string(),
                    ..NewAuditEvent::new(action, Some(&auth.id), &auth.username)
                },
            )?;
            let user = db::users::find(conn, &current.id)?.ok_or_else(|| ApiError::not_found("user"))?;
            Ok((user, village_ids))
        })
    })
    .await?;
    let response = to_response(user, villages)?;
    Ok(with_etag(HttpResponse::Ok().json(&response), &response))
}

/// Changes one's own password (with the current one), or resets a managed account's password (the
/// user must then choose a new one; every session of that account ends).
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    request_body = ChangePassword,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Invalid new password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account in the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let new_password = Password::parse(&body.new_password, "new_password")
        .map_err(|e| ApiError::validation(vec![e]))?;
    let lookup_auth = auth.clone();
    let lookup_id = id.clone();
    let (target, _) = db::run(&state.pool, move |conn| {
        load_visible(conn, &lookup_auth, &lookup_id)
    })
    .await?;
    let is_self = target.id == auth.id;
    if !is_self {
        policy::ensure_may_act_on(&auth, role_of(&target)?)?;
    }
    if is_self {
        let current = body.current_password.unwrap_or_default();
        let stored = target.password_hash.clone();
        let ok = state
            .hasher
            .run(move || password::verify(&current, &stored))
            .await?;
        if !ok {
            return Err(ApiError::Forbidden {
                code: "wrong_current_password",
                detail: "The current password is wrong.".into(),
            });
        }
    }
    let hash = hash_password(&state, new_password).await?;
    let addr = super::auth::client_addr(&req);
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let now = db::now();
            // Own change: other devices sign in again. Reset by a manager: every session ends and the
            // user must choose a new password.
            db::users::set_password(conn, &target.id, &hash, !is_self, now)?;
            let sessions = db::schema::sessions::table;
            use diesel::prelude::*;
            let mut q = diesel::update(sessions)
                .filter(db::schema::sessions::user_id.eq(&target.id))
                .filter(db::schema::sessions::revoked_at.is_null())
                .into_boxed();
            if let (true, Some(current)) = (is_self, &auth.session_id) {
                q = q.filter(db::schema::sessions::id.ne(current.clone()));
            }
            q.set((
                db::schema::sessions::revoked_at.eq(now),
                db::schema::sessions::revoked_reason.eq("password_changed"),
            ))
            .execute(conn)?;
            db::audit::record(
                conn,
                &NewAuditEvent {
                    object_type: Some("user"),
                    object_id: Some(&target.id),
                    commune_id: target.commune_id.as_deref(),
                    client_addr: Some(&addr),
                    ..NewAuditEvent::new(
                        if is_self {
                            "password_changed"
                        } else {
                            "password_reset"
                        },
                        Some(&auth.id),
                        &auth.username,
                    )
                },
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct SessionsRevoked {
    /// Sessions that were live and are now ended.
    pub revoked: usize,
}

/// Signs an account out everywhere, for a lost or stolen phone (an administrator, or the manager
/// of the account, e.g. the village leader of a volunteer). The account stays active. Each phone
/// learns it at its next contact (`401 session_revoked`) and then deletes the households and
/// residents it had pulled, keeping only the records it has not sent yet.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sessions ended", body = SessionsRevoked),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of this account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account in the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/sessions/revoke")]
pub async fn revoke_sessions(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let addr = super::auth::client_addr(&req);
    let revoked = db::run(&state.pool, move |conn| {
        let (target, _) = load_visible(conn, &auth, &id)?;
        policy::ensure_may_act_on(&auth, role_of(&target)?)?;
        if target.id == auth.id {
            return Err(ApiError::Forbidden {
                code: "own_account",
                detail: "Sign out of your own sessions with /auth/logout.".into(),
            });
        }
        db::write_tx(conn, |conn| {
            let n =
                db::sessions::revoke_user_sessions(conn, &target.id, "remote_revoke", db::now())?;
            db::audit::record(
                conn,
                &NewAuditEvent {
                    object_type: Some("user"),
                    object_id: Some(&target.id),
                    commune_id: target.commune_id.as_deref(),
                    client_addr: Some(&addr),
                    details: serde_json::json!({ "sessions": n }).to_string(),
                    ..NewAuditEvent::new("sessions_revoked", Some(&auth.id), &auth.username)
                },
            )?;
            Ok(n)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(SessionsRevoked { revoked }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(change_password)
        .service(revoke_sessions);
}
