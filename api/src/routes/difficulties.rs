//! The difficulty inbox (khó khăn, vướng mắc). A team raises a difficulty (offline too, through sync);
//! the culture-social office answers it or assigns it to a department; both sides write in a thread
//! of replies; the office side's first reply fixes the response time; a coordinator or the author
//! closes it (and may reopen it). Every change reaches the author's phone through pull.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, PageQuery};
use super::records::{create_through_push, in_scope, read_scope, CreateRecord};
pub use crate::app::teamwork::{threads, ReplyResponse};
use crate::auth::AuthUser;
use crate::db::sync::{self as store, Difficulty};
use crate::db::teamwork::{self as tw, DifficultyFilter, Reply};
use crate::db::{self, DbConnection};
use crate::domain::{optional_text, Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_difficulties)
        .service(create_difficulty)
        .service(get_difficulty)
        .service(update_difficulty)
        .service(reply_to_difficulty);
}

#[derive(Serialize, ToSchema)]
pub struct DifficultyResponse {
    pub id: String,
    pub commune_id: String,
    pub village_id: Option<String>,
    pub author_id: String,
    /// Who raised it, by their display name.
    pub author_name: Option<String>,
    pub raised_at: chrono::DateTime<chrono::Utc>,
    /// When it reached the server (the response time starts here).
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub title: String,
    pub description: String,
    pub service_codes: Vec<String>,
    /// `open` (waiting for the office), `answered` or `closed`.
    pub status: String,
    /// The department it was assigned to, if any.
    pub assigned_department: Option<String>,
    /// The office side's first reply.
    pub first_answered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds from `received_at` to the first answer.
    pub response_seconds: Option<i64>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct DifficultyPage {
    pub items: Vec<DifficultyResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DifficultyDetail {
    #[serde(flatten)]
    pub difficulty: DifficultyResponse,
    /// The thread, oldest first.
    pub replies: Vec<ReplyResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DifficultyQuery {
    /// `open`, `answered` or `closed`.
    pub status: Option<String>,
    /// A department key, or `mine` for the caller's department.
    pub assigned: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// The reply (at most 4,000 characters).
    #[schema(
        example = "Đã chuyển Công an xã; cán bộ sẽ đến thôn vào thứ Năm để kích hoạt VNeID mức 2."
    )]
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDifficulty {
    /// Assign to a department (the culture-social office, the chairman); `null` takes it back.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, example = "police")]
    pub assigned_department: Option<Option<String>>,
    /// `closed` closes it, `open` reopens it (a coordinator or the author).
    pub status: Option<String>,
}

pub fn response(d: Difficulty, author_name: Option<String>) -> DifficultyResponse {
    DifficultyResponse {
        author_name,
        service_codes: serde_json::from_str(&d.service_codes).unwrap_or_default(),
        raised_at: paging::utc(d.raised_at),
        received_at: paging::utc(d.received_at),
        first_answered_at: d.first_answered_at.map(paging::utc),
        response_seconds: d
            .first_answered_at
            .map(|a| (a - d.received_at).num_seconds().max(0)),
        closed_at: d.closed_at.map(paging::utc),
        updated_at: paging::utc(d.updated_at),
        id: d.id,
        commune_id: d.commune_id,
        village_id: d.village_id,
        author_id: d.author_id,
        title: d.title,
        description: d.description,
        status: d.status,
        assigned_department: d.assigned_department,
    }
}

/// The difficulties as the API answers them, each with its author's name.
fn responses(
    conn: &mut DbConnection,
    rows: Vec<Difficulty>,
) -> Result<Vec<DifficultyResponse>, ApiError> {
    let mut ids: Vec<String> = rows.iter().map(|d| d.author_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let names: std::collections::HashMap<String, String> =
        db::users::display_names(conn, &ids)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|d| {
            let name = names.get(&d.author_id).cloned();
            response(d, name)
        })
        .collect())
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "difficulty_not_found",
        detail: "No such difficulty in your scope.".into(),
    }
}

fn same_commune(auth: &AuthUser, d: &Difficulty) -> bool {
    auth.commune_id.as_deref() == Some(d.commune_id.as_str())
}

/// The culture-social office, the chairman and administrators coordinate the inbox.
fn coordinator(auth: &AuthUser, d: &Difficulty) -> bool {
    auth.is_admin() || (auth.is_commune_manager() && same_commune(auth, d))
}

/// The side the caller writes on, or why it may not.
fn side(auth: &AuthUser, d: &Difficulty) -> Result<&'static str, ApiError> {
    if coordinator(auth, d) {
        return Ok("office");
    }
    match auth.role {
        Role::Department
            if same_commune(auth, d)
                && auth.department.map(|x| x.as_str()) == d.assigned_department.as_deref() =>
        {
            Ok("office")
        }
        Role::VillageLeader | Role::Volunteer => Ok("team"),
        _ => Err(ApiError::Forbidden {
            code: "not_assigned",
            detail: "This difficulty is not assigned to your department.".into(),
        }),
    }
}

fn load(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Difficulty, ApiError> {
    let d = store::find_difficulty(conn, id)?.ok_or_else(not_found)?;
    if auth.role == Role::City || !in_scope(auth, &d.commune_id, d.village_id.as_deref()) {
        return Err(not_found());
    }
    Ok(d)
}

fn detail(conn: &mut DbConnection, d: Difficulty) -> Result<DifficultyDetail, ApiError> {
    let mut threads = threads(conn, std::slice::from_ref(&d.id))?;
    let replies = threads.remove(&d.id).unwrap_or_default();
    let difficulty = responses(conn, vec![d])?.remove(0);
    Ok(DifficultyDetail {
        difficulty,
        replies,
    })
}

/// Tells the author's phone (which pulls its own difficulties) that the thread changed.
fn touch(conn: &mut DbConnection, d: &Difficulty) -> Result<(), ApiError> {
    crate::db::registry::record_change_by(
        conn,
        "difficulty",
        &d.id,
        Some(&d.commune_id),
        d.village_id.as_deref(),
        "upsert",
        Some(&d.author_id),
    )?;
    Ok(())
}

/// The inbox: difficulties in the caller's scope, filtered by status or assignment.
#[utoipa::path(tag = "difficulties", params(PageQuery, DifficultyQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of difficulties (ordered by id)", body = DifficultyPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The city sees no field records", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/difficulties")]
pub async fn list_difficulties(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
    query: web::Query<DifficultyQuery>,
) -> Result<HttpResponse, ApiError> {
    let (commune_id, villages) = read_scope(&auth)?;
    let limit = page.limit()?;
    let after = page.after()?;
    let q = query.into_inner();
    let mut errors = vec![];
    if let Some(s) = &q.status {
        if crate::domain::codes::DifficultyStatus::parse(s).is_none() {
            errors.push(FieldError::new(
                "status",
                "unknown_status",
                "open, answered or closed",
            ));
        }
    }
    let assigned = match q.assigned.as_deref() {
        None => None,
        Some("mine") => match auth.department {
            Some(d) => Some(d.as_str().to_owned()),
            None => {
                errors.push(FieldError::new(
                    "assigned",
                    "no_department",
                    "`mine` is for department accounts",
                ));
                None
            }
        },
        Some(d) => match Department::parse(d) {
            Ok(d) => Some(d.as_str().to_owned()),
            Err(mut e) => {
                e.field = "assigned".into();
                errors.push(e);
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = DifficultyFilter {
        commune_id,
        villages,
        status: q.status,
        assigned_department: assigned,
    };
    let items = db::run(&state.pool, move |conn| {
        let rows = tw::list_difficulties(conn, &filter, after.as_deref(), limit)?;
        responses(conn, rows)
    })
    .await?;
    let next_cursor = paging::next_cursor(&items, limit, |d| d.id.clone());
    Ok(HttpResponse::Ok().json(DifficultyPage { items, next_cursor }))
}

/// Raises a difficulty from an online client (offline clients push it through sync).
#[utoipa::path(tag = "difficulties", request_body = CreateRecord, security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = DifficultyResponse),
        (status = 200, description = "Stored before (a retry)", body = DifficultyResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id was used for another record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The record is invalid; nothing was stored", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/difficulties")]
pub async fn create_difficulty(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateRecord>,
) -> Result<HttpResponse, ApiError> {
    let (id, created) = create_through_push(&state, auth, "difficulty", body.into_inner()).await?;
    let d = db::run(&state.pool, move |conn| {
        let d = store::find_difficulty(conn, &id)?.ok_or_else(not_found)?;
        Ok(responses(conn, vec![d])?.remove(0))
    })
    .await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(d))
}

/// One difficulty with its thread of replies.
#[utoipa::path(tag = "difficulties", params(("id" = String, Path, description = "Difficulty id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The difficulty and its replies", body = DifficultyDetail),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such difficulty in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/difficulties/{id}")]
pub async fn get_difficulty(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let d = load(conn, &auth, &id)?;
        detail(conn, d)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Adds a reply to the thread. A reply from the office side (the culture-social office, the chairman,
/// or the department it is assigned to) answers the difficulty; a reply from the team puts it back in
/// the office's queue. A closed difficulty takes no replies (409); reopen it first.
#[utoipa::path(tag = "difficulties", params(("id" = String, Path, description = "Difficulty id")), request_body = NewReply, security(("bearer" = [])),
    responses(
        (status = 201, description = "Reply added; the difficulty as it is now", body = DifficultyDetail),
        (status = 400, description = "Empty or too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not assigned to your department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such difficulty in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/difficulties/{id}/replies")]
pub async fn reply_to_difficulty(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<NewReply>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let text = match optional_text(Some(&body.body), "body", 4000) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "body",
                "required",
                "write the reply",
            )]))
        }
        Err(e) => return Err(ApiError::validation(vec![e])),
    };
    let out = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let d = load(conn, &auth, &id)?;
            let side = side(&auth, &d)?;
            let closed = || ApiError::Conflict {
                code: "difficulty_closed",
                detail: "This difficulty is closed; reopen it to write again.".into(),
            };
            if d.status == "closed" {
                return Err(closed());
            }
            let now = db::now();
            tw::insert_reply(
                conn,
                &Reply {
                    id: db::new_id(),
                    difficulty_id: d.id.clone(),
                    commune_id: d.commune_id.clone(),
                    author_id: auth.id.clone(),
                    side: side.into(),
                    body: text,
                    created_at: now,
                },
            )?;
            let first = (side == "office").then(|| d.first_answered_at.unwrap_or(now));
            if tw::after_reply(conn, &d.id, first, now)? != 1 {
                return Err(closed());
            }
            touch(conn, &d)?;
            db::audit::by_user(
                conn,
                &auth,
                "difficulty_replied",
                "difficulty",
                &d.id,
                Some(&d.commune_id),
                serde_json::json!({ "side": side }),
            )?;
            let d = store::find_difficulty(conn, &d.id)?.ok_or_else(not_found)?;
            detail(conn, d)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Assigns a difficulty to a department (or takes it back), closes or reopens it. Assignment is for
/// coordinators (the culture-social office, the chairman); closing and reopening also for the author.
#[utoipa::path(tag = "difficulties", params(("id" = String, Path, description = "Difficulty id")), request_body = UpdateDifficulty, security(("bearer" = [])),
    responses(
        (status = 200, description = "The difficulty as it is now", body = DifficultyDetail),
        (status = 400, description = "Unknown department or status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such difficulty in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/difficulties/{id}")]
pub async fn update_difficulty(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateDifficulty>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let mut errors = vec![];
    let assign = match b.assigned_department {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => match Department::parse(&d) {
            Ok(d) => Some(Some(d.as_str())),
            Err(mut e) => {
                e.field = "assigned_department".into();
                errors.push(e);
                None
            }
        },
    };
    let close = match b.status.as_deref() {
        None => None,
        Some("closed") => Some(true),
        Some("open") => Some(false),
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                "unknown_status",
                "`closed` closes, `open` reopens; answers come through replies",
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let out = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let d = load(conn, &auth, &id)?;
            let coordinating = coordinator(&auth, &d);
            if assign.is_some() && !coordinating {
                return Err(crate::access::role_not_allowed(
                    "The culture-social office or the chairman assigns difficulties.",
                ));
            }
            if close.is_some() && !coordinating && d.author_id != auth.id {
                return Err(crate::access::role_not_allowed(
                    "A coordinator or the author closes and reopens a difficulty.",
                ));
            }
            let now = db::now();
            let mut changed = false;
            if let Some(dept) = assign {
                if d.assigned_department.as_deref() != dept {
                    tw::set_assignment(conn, &d.id, dept, now)?;
                    db::audit::by_user(
                        conn,
                        &auth,
                        "difficulty_assigned",
                        "difficulty",
                        &d.id,
                        Some(&d.commune_id),
                        serde_json::json!({ "from": d.assigned_department, "to": dept }),
                    )?;
                    changed = true;
                }
            }
            if let Some(close) = close {
                let by = close.then_some(auth.id.as_str());
                if tw::set_closed(conn, &d.id, by, now)? == 1 {
                    let action = if close {
                        "difficulty_closed"
                    } else {
                        "difficulty_reopened"
                    };
                    db::audit::by_user(
                        conn,
                        &auth,
                        action,
                        "difficulty",
                        &d.id,
                        Some(&d.commune_id),
                        serde_json::json!({}),
                    )?;
                    changed = true;
                }
            }
            if changed {
                touch(conn, &d)?;
            }
            let d = store::find_difficulty(conn, &d.id)?.ok_or_else(not_found)?;
            detail(conn, d)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}
