//! Trainings the departments run for the teams (tập huấn, bồi dưỡng): organiser, topic, date, place,
//! mode, the services covered, and which team members attended; each member's training history.

use actix_web::{get, patch, post, put, web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::auth::AuthUser;
use crate::db::teamwork::{self as tw, Attendance, Training, TrainingChangeset};
use crate::db::{self, DbConnection};
use crate::domain::{optional_text, Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::stats::period::local_today;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_trainings)
        .service(create_training)
        .service(get_training)
        .service(update_training)
        .service(record_attendance)
        .service(member_trainings);
}

/// Most attendance entries in one request.
pub const MAX_ATTENDANCE: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrainingMode {
    InPerson,
    Online,
    Mixed,
}

impl TrainingMode {
    fn as_str(self) -> &'static str {
        match self {
            TrainingMode::InPerson => "in_person",
            TrainingMode::Online => "online",
            TrainingMode::Mixed => "mixed",
        }
    }

    fn from_db(raw: &str) -> Self {
        match raw {
            "online" => TrainingMode::Online,
            "mixed" => TrainingMode::Mixed,
            _ => TrainingMode::InPerson,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TrainingResponse {
    pub id: String,
    pub commune_id: String,
    /// The organising department's key, or `chairman` for the commune's office.
    #[schema(example = "police")]
    pub organiser: String,
    #[schema(example = "Hướng dẫn kích hoạt tài khoản định danh điện tử mức 2")]
    pub topic: String,
    pub held_on: NaiveDate,
    #[schema(example = "Hội trường UBND xã Mao Điền")]
    pub place: String,
    pub mode: TrainingMode,
    pub service_codes: Vec<String>,
    pub notes: Option<String>,
    pub cancelled: bool,
    /// Guides used in the training.
    pub material_ids: Vec<String>,
    /// Members who attended.
    pub attended: i64,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TrainingList {
    pub items: Vec<TrainingResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceResponse {
    pub member_id: String,
    pub member_name: String,
    pub team_id: String,
    pub attended: bool,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TrainingDetail {
    #[serde(flatten)]
    pub training: TrainingResponse,
    /// Attendance of the members the caller can see (village users: their villages' teams and the
    /// commune team).
    pub attendance: Vec<AttendanceResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrainingQuery {
    /// Held on or after this day.
    pub from: Option<NaiveDate>,
    /// Held on or before this day.
    pub to: Option<NaiveDate>,
    /// Administrators name the commune.
    pub commune_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTraining {
    /// Administrators name the commune; others plan for their own.
    pub commune_id: Option<String>,
    /// Administrators name the organiser (a department key or `chairman`); others organise as
    /// their own department (or `chairman`).
    pub organiser: Option<String>,
    pub topic: String,
    pub held_on: NaiveDate,
    pub place: String,
    pub mode: TrainingMode,
    #[serde(default)]
    pub service_codes: Vec<String>,
    pub notes: Option<String>,
    /// Guides used (readable by the commune).
    #[serde(default)]
    pub material_ids: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTraining {
    pub topic: Option<String>,
    pub held_on: Option<NaiveDate>,
    pub place: Option<String>,
    pub mode: Option<TrainingMode>,
    pub service_codes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// `true` cancels it, `false` restores it.
    pub cancelled: Option<bool>,
    /// Replaces the guides used.
    pub material_ids: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceEntry {
    pub member_id: String,
    pub attended: bool,
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    /// Members and whether each attended (at most 500); members not listed keep what they had.
    pub entries: Vec<AttendanceEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberTraining {
    #[serde(flatten)]
    pub training: TrainingResponse,
    /// Whether this member attended.
    pub member_attended: bool,
    pub member_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberTrainingList {
    pub items: Vec<MemberTraining>,
}

fn response(t: Training, attended: i64, material_ids: Vec<String>) -> TrainingResponse {
    TrainingResponse {
        material_ids,
        service_codes: serde_json::from_str(&t.service_codes).unwrap_or_default(),
        mode: TrainingMode::from_db(&t.mode),
        cancelled: t.cancelled_at.is_some(),
        updated_at: paging::utc(t.updated_at),
        id: t.id,
        commune_id: t.commune_id,
        organiser: t.organiser,
        topic: t.topic,
        held_on: t.held_on,
        place: t.place,
        notes: t.notes,
        attended,
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "training_not_found",
        detail: "No such training in your commune.".into(),
    }
}

fn load(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Training, ApiError> {
    let t = tw::find_training(conn, id)?.ok_or_else(not_found)?;
    let ok = match auth.role {
        Role::Admin => true,
        Role::City => false,
        _ => auth.commune_id.as_deref() == Some(t.commune_id.as_str()),
    };
    if ok {
        Ok(t)
    } else {
        Err(not_found())
    }
}

/// The organiser a caller plans as: its department, or `chairman`.
fn own_organiser(auth: &AuthUser) -> Option<&'static str> {
    match auth.role {
        Role::Chairman => Some("chairman"),
        Role::Department => auth.department.map(Department::as_str),
        _ => None,
    }
}

/// The organiser, the culture-social office (which runs the teams), the chairman and administrators
/// manage a training.
fn ensure_manager(auth: &AuthUser, t: &Training) -> Result<(), ApiError> {
    let ok = auth.is_admin()
        || auth.is_commune_manager()
        || own_organiser(auth) == Some(t.organiser.as_str());
    if ok {
        Ok(())
    } else {
        Err(crate::access::role_not_allowed(
            "Only the organiser, the culture-social office or the chairman manages this training.",
        ))
    }
}

fn required(raw: &str, field: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    match optional_text(Some(raw), field, max) {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            errors.push(FieldError::new(field, "required", "required"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn check_day(day: NaiveDate, errors: &mut Vec<FieldError>) {
    let today = local_today();
    if day.year() < 2020 || day > today + chrono::Days::new(730) {
        errors.push(FieldError::new(
            "held_on",
            "out_of_range",
            "from 2020 to two years ahead",
        ));
    }
}

/// Guides a training may link: ones the commune reads (published there or nationally) or its own.
fn check_materials(
    conn: &mut DbConnection,
    commune_id: &str,
    ids: &[String],
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if ids.len() > 20 {
        errors.push(FieldError::new(
            "material_ids",
            "too_many",
            "at most 20 guides",
        ));
    }
    let found = crate::db::materials::by_ids(conn, ids)?;
    for (i, id) in ids.iter().enumerate() {
        let ok = found
            .iter()
            .any(|m| m.id == *id && m.commune_id.as_deref().is_none_or(|c| c == commune_id))
            && ids[..i].iter().all(|x| x != id);
        if !ok {
            errors.push(FieldError::new(
                format!("material_ids[{i}]"),
                "unknown_material",
                "no such guide for this commune (or listed twice)",
            ));
        }
    }
    Ok(())
}

/// Each training with its attendance count, in one query.
fn with_counts(
    conn: &mut DbConnection,
    rows: Vec<Training>,
) -> Result<Vec<TrainingResponse>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|t| t.id.clone()).collect();
    let counts = tw::attended_counts(conn, &ids)?;
    let mut guides: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (training, material) in crate::db::materials::materials_of_trainings(conn, &ids)? {
        guides.entry(training).or_default().push(material);
    }
    Ok(rows
        .into_iter()
        .map(|t| {
            let n = counts.get(&t.id).copied().unwrap_or(0);
            let m = guides.remove(&t.id).unwrap_or_default();
            response(t, n, m)
        })
        .collect())
}

fn detail(
    conn: &mut DbConnection,
    auth: &AuthUser,
    t: Training,
) -> Result<TrainingDetail, ApiError> {
    let rows = tw::attendance_of(conn, &t.id)?;
    let attended = rows.iter().filter(|(a, ..)| a.attended).count() as i64;
    let village_user = matches!(auth.role, Role::VillageLeader | Role::Volunteer);
    let attendance = rows
        .into_iter()
        .filter(|(_, _, _, village)| {
            !village_user
                || village
                    .as_ref()
                    .is_none_or(|v| auth.village_ids.contains(v))
        })
        .map(|(a, name, team, _)| AttendanceResponse {
            member_id: a.member_id,
            member_name: name,
            team_id: team,
            attended: a.attended,
            note: a.note,
        })
        .collect();
    let guides = crate::db::materials::materials_of_trainings(conn, std::slice::from_ref(&t.id))?
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    Ok(TrainingDetail {
        training: response(t, attended, guides),
        attendance,
    })
}

/// Trainings of the commune, newest first (every commune role, village users included).
#[utoipa::path(tag = "trainings", params(TrainingQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Trainings", body = TrainingList),
        (status = 400, description = "Which commune", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The city sees no team members", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/trainings")]
pub async fn list_trainings(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<TrainingQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let commune = match (auth.role, q.commune_id.clone()) {
        (Role::City, _) => {
            return Err(ApiError::Forbidden {
                code: "personal_data_not_allowed",
                detail: "City oversight sees indicators and reports.".into(),
            })
        }
        (Role::Admin, Some(c)) => c,
        (Role::Admin, None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "commune_id",
                "required",
                "which commune",
            )]))
        }
        _ => auth.commune_id.clone().unwrap_or_default(),
    };
    let items = db::run(&state.pool, move |conn| {
        let rows = tw::list_trainings(conn, &commune, q.from, q.to)?;
        with_counts(conn, rows)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TrainingList { items }))
}

/// Plans a training (a department as organiser, the chairman's office, or an administrator).
#[utoipa::path(tag = "trainings", request_body = CreateTraining, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TrainingResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Departments, the chairman and administrators organise trainings", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/trainings")]
pub async fn create_training(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateTraining>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::Chairman, Role::Department])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let (commune_id, organiser) = if auth.role == Role::Admin {
        let commune = b.commune_id.clone().unwrap_or_else(|| {
            errors.push(FieldError::new("commune_id", "required", "which commune"));
            String::new()
        });
        let organiser = match b.organiser.as_deref() {
            Some("chairman") => "chairman".to_owned(),
            Some(d) => Department::parse(d)
                .map(|d| d.as_str().to_owned())
                .unwrap_or_else(|mut e| {
                    e.field = "organiser".into();
                    errors.push(e);
                    String::new()
                }),
            None => {
                errors.push(FieldError::new("organiser", "required", "who organises"));
                String::new()
            }
        };
        (commune, organiser)
    } else {
        let own = auth.commune_id.clone().unwrap_or_default();
        if b.commune_id.as_deref().is_some_and(|c| c != own) {
            return Err(ApiError::NotFound {
                code: "commune_not_found",
                detail: "No such commune.".into(),
            });
        }
        let mine = own_organiser(&auth).unwrap_or_default().to_owned();
        if b.organiser.as_deref().is_some_and(|o| o != mine) {
            errors.push(FieldError::new(
                "organiser",
                "not_yours",
                "you organise as your own department",
            ));
        }
        (own, mine)
    };
    let topic = required(&b.topic, "topic", 300, &mut errors);
    let place = required(&b.place, "place", 300, &mut errors);
    let notes = optional_text(b.notes.as_deref(), "notes", 4000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    check_day(b.held_on, &mut errors);
    let t = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let services = crate::db::registry::check_service_codes(
                conn,
                &b.service_codes,
                "service_codes",
                &mut errors,
            )?;
            check_materials(conn, &commune_id, &b.material_ids, &mut errors)?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            if db::geo::find_commune(conn, &commune_id)?.is_none() {
                return Err(ApiError::NotFound {
                    code: "commune_not_found",
                    detail: "No such commune.".into(),
                });
            }
            let now = db::now();
            let t = Training {
                id: db::new_id(),
                commune_id,
                organiser,
                topic: topic.unwrap_or_default(),
                held_on: b.held_on,
                place: place.unwrap_or_default(),
                mode: b.mode.as_str().into(),
                service_codes: services,
                notes,
                created_by: auth.id.clone(),
                cancelled_at: None,
                created_at: now,
                updated_at: now,
            };
            tw::insert_training(conn, &t)?;
            crate::db::materials::set_training_materials(conn, &t.id, &b.material_ids)?;
            db::audit::by_user(
                conn,
                &auth,
                "training_created",
                "training",
                &t.id,
                Some(&t.commune_id),
                serde_json::json!({ "held_on": t.held_on, "organiser": t.organiser }),
            )?;
            Ok((t, b.material_ids))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(response(t.0, 0, t.1)))
}

/// One training with its attendance.
#[utoipa::path(tag = "trainings", params(("id" = String, Path, description = "Training id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The training", body = TrainingDetail),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such training in your commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/trainings/{id}")]
pub async fn get_training(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let t = load(conn, &auth, &id)?;
        detail(conn, &auth, t)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Changes, cancels or restores a training.
#[utoipa::path(tag = "trainings", params(("id" = String, Path, description = "Training id")), request_body = UpdateTraining, security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = TrainingDetail),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the organiser", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such training in your commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/trainings/{id}")]
pub async fn update_training(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateTraining>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let body = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let t = load(conn, &auth, &id)?;
            ensure_manager(&auth, &t)?;
            let mut errors = vec![];
            let mut c = TrainingChangeset {
                topic: b
                    .topic
                    .as_deref()
                    .and_then(|v| required(v, "topic", 300, &mut errors)),
                place: b
                    .place
                    .as_deref()
                    .and_then(|v| required(v, "place", 300, &mut errors)),
                held_on: b.held_on,
                mode: b.mode.map(|m| m.as_str().to_owned()),
                ..Default::default()
            };
            if let Some(day) = b.held_on {
                check_day(day, &mut errors);
            }
            if let Some(codes) = &b.service_codes {
                c.service_codes = Some(crate::db::registry::check_service_codes(
                    conn,
                    codes,
                    "service_codes",
                    &mut errors,
                )?);
            }
            if let Some(ids) = &b.material_ids {
                check_materials(conn, &t.commune_id, ids, &mut errors)?;
            }
            if let Some(notes) = &b.notes {
                c.notes = Some(
                    optional_text(notes.as_deref(), "notes", 4000)
                        .map_err(|e| errors.push(e))
                        .ok()
                        .flatten(),
                );
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let now = db::now();
            c.cancelled_at = b
                .cancelled
                .map(|yes| yes.then(|| t.cancelled_at.unwrap_or(now)));
            c.updated_at = Some(now);
            tw::update_training(conn, &t.id, &c)?;
            if let Some(ids) = &b.material_ids {
                crate::db::materials::set_training_materials(conn, &t.id, ids)?;
            }
            db::audit::by_user(
                conn,
                &auth,
                "training_updated",
                "training",
                &t.id,
                Some(&t.commune_id),
                serde_json::json!({ "cancelled": b.cancelled }),
            )?;
            let t = tw::find_training(conn, &t.id)?.ok_or_else(not_found)?;
            detail(conn, &auth, t)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Records who attended (members of the commune's teams). Attendance is only taken for a training
/// that has been held and was not cancelled.
#[utoipa::path(tag = "trainings", params(("id" = String, Path, description = "Training id")), request_body = AttendanceBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "The training with its attendance", body = TrainingDetail),
        (status = 400, description = "Unknown members, too many entries, or not held yet", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the organiser", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such training in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/trainings/{id}/attendance")]
pub async fn record_attendance(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<AttendanceBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    if b.entries.len() > MAX_ATTENDANCE {
        return Err(ApiError::validation(vec![FieldError::new(
            "entries",
            "too_many",
            format!("at most {MAX_ATTENDANCE} entries"),
        )]));
    }
    let body = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let t = load(conn, &auth, &id)?;
            ensure_manager(&auth, &t)?;
            if t.cancelled_at.is_some() {
                return Err(ApiError::Conflict {
                    code: "training_cancelled",
                    detail: "This training was cancelled.".into(),
                });
            }
            let mut errors = vec![];
            if t.held_on > local_today() {
                errors.push(FieldError::new(
                    "held_on",
                    "not_held_yet",
                    "attendance is taken once the training has been held",
                ));
            }
            let now = db::now();
            let mut rows = Vec::with_capacity(b.entries.len());
            let mut seen = std::collections::HashSet::new();
            for (i, e) in b.entries.iter().enumerate() {
                match crate::db::registry::find_member(conn, &e.member_id)? {
                    Some(m) if m.commune_id == t.commune_id => {}
                    _ => errors.push(FieldError::new(
                        format!("entries[{i}].member_id"),
                        "unknown_member",
                        "no such member of this commune's teams",
                    )),
                }
                if !seen.insert(e.member_id.clone()) {
                    errors.push(FieldError::new(
                        format!("entries[{i}].member_id"),
                        "duplicate",
                        "listed twice",
                    ));
                }
                let note = optional_text(e.note.as_deref(), &format!("entries[{i}].note"), 500)
                    .map_err(|e| errors.push(e))
                    .ok()
                    .flatten();
                rows.push(Attendance {
                    training_id: t.id.clone(),
                    member_id: e.member_id.clone(),
                    attended: e.attended,
                    note,
                    recorded_by: auth.id.clone(),
                    recorded_at: now,
                });
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            tw::record_attendance(conn, &rows)?;
            db::audit::by_user(
                conn,
                &auth,
                "training_attendance",
                "training",
                &t.id,
                Some(&t.commune_id),
                serde_json::json!({
                    "entries": rows.len(),
                    "attended": rows.iter().filter(|r| r.attended).count(),
                }),
            )?;
            detail(conn, &auth, t)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// A member's training history, newest first (whoever can see the member's team).
#[utoipa::path(tag = "trainings", params(
        ("id" = String, Path, description = "Team id"),
        ("member_id" = String, Path, description = "Member id"),
    ), security(("bearer" = [])),
    responses(
        (status = 200, description = "Trainings the member was recorded at", body = MemberTrainingList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/members/{member_id}/trainings")]
pub async fn member_trainings(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, member_id) = path.into_inner();
    let items = db::run(&state.pool, move |conn| {
        super::teams::load_team(conn, &auth, &team_id)?;
        match crate::db::registry::find_member(conn, &member_id)? {
            Some(m) if m.team_id == team_id => {}
            _ => {
                return Err(ApiError::NotFound {
                    code: "member_not_found",
                    detail: "No such member in this team.".into(),
                })
            }
        }
        let history = tw::member_history(conn, &member_id)?;
        let (trainings, marks): (Vec<Training>, Vec<(bool, Option<String>)>) = history
            .into_iter()
            .map(|(t, attended, note)| (t, (attended, note)))
            .unzip();
        Ok(with_counts(conn, trainings)?
            .into_iter()
            .zip(marks)
            .map(|(training, (attended, note))| MemberTraining {
                training,
                member_attended: attended,
                member_note: note,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(MemberTrainingList { items }))
}
