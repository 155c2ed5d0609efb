//! Community digital technology teams (commune level and village level) and their members. The
//! culture-social office manages the commune's teams; a village leader manages the own village's.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::auth::AuthUser;
use crate::db::{
    self,
    registry::{self, Team, TeamMember},
    DbConnection,
};
use crate::domain::{DisplayName, Origin, PhoneNumber, Position, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TeamResponse {
    /// Team id (UUID).
    pub id: String,
    /// Commune of the team.
    pub commune_id: String,
    /// Village of a village team; absent for the commune team.
    pub village_id: Option<String>,
    /// Name.
    #[schema(example = "Tổ Công nghệ số cộng đồng thôn Phú Lộc")]
    pub name: String,
    /// Number of the founding decision.
    #[schema(example = "125/QĐ-UBND")]
    pub decision_number: String,
    /// Date of the founding decision.
    pub decision_date: NaiveDate,
    /// False once dissolved.
    pub active: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamList {
    pub items: Vec<TeamResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberResponse {
    /// Member id (UUID).
    pub id: String,
    /// Team id.
    pub team_id: String,
    /// Full name.
    pub full_name: String,
    /// Position in the team.
    pub position: Position,
    /// Organisation the member comes from.
    pub origin: Origin,
    /// Phone number.
    pub phone: Option<String>,
    /// The member's user account, if any.
    pub user_id: Option<String>,
    /// First day in the team.
    pub active_from: NaiveDate,
    /// Last day in the team, if it ended.
    pub active_until: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TeamQuery {
    /// Only the team of this village.
    pub village_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Commune (defaults to the caller's).
    pub commune_id: Option<String>,
    /// Village for a village team; omit for the commune team.
    pub village_id: Option<String>,
    /// Name.
    pub name: String,
    /// Number of the founding decision.
    pub decision_number: String,
    /// Date of the founding decision.
    pub decision_date: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    pub name: Option<String>,
    pub decision_number: Option<String>,
    pub decision_date: Option<NaiveDate>,
    /// `false` dissolves the team.
    pub active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    pub full_name: String,
    pub position: Position,
    pub origin: Origin,
    pub phone: Option<String>,
    /// Link to the member's user account (same commune).
    pub user_id: Option<String>,
    pub active_from: NaiveDate,
    pub active_until: Option<NaiveDate>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    pub full_name: Option<String>,
    pub position: Option<Position>,
    pub origin: Option<Origin>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub user_id: Option<Option<String>>,
    pub active_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub active_until: Option<Option<NaiveDate>>,
}

fn team_response(t: Team) -> TeamResponse {
    TeamResponse {
        id: t.id,
        commune_id: t.commune_id,
        village_id: t.village_id,
        name: t.name,
        decision_number: t.decision_number,
        decision_date: t.decision_date,
        active: t.active,
        updated_at: paging::utc(t.updated_at),
    }
}

fn member_response(m: TeamMember) -> MemberResponse {
    MemberResponse {
        position: Position::from_db(&m.position),
        origin: Origin::from_db(&m.origin),
        id: m.id,
        team_id: m.team_id,
        full_name: m.full_name,
        phone: m.phone,
        user_id: m.user_id,
        active_from: m.active_from,
        active_until: m.active_until,
    }
}

fn team_not_found() -> ApiError {
    ApiError::NotFound {
        code: "team_not_found",
        detail: "No such team.".into(),
    }
}

/// May the caller see this team? Commune roles see their commune's teams; village roles the commune
/// team and their villages' teams; the city none (members are people).
fn can_see(auth: &AuthUser, t: &Team) -> bool {
    match auth.role {
        Role::Admin => true,
        Role::Chairman | Role::Department => {
            auth.commune_id.as_deref() == Some(t.commune_id.as_str())
        }
        Role::VillageLeader | Role::Volunteer => {
            auth.commune_id.as_deref() == Some(t.commune_id.as_str())
                && t.village_id
                    .as_ref()
                    .is_none_or(|v| auth.village_ids.contains(v))
        }
        Role::City => false,
    }
}

/// May the caller manage this team (or create one like it)?
fn ensure_manager(
    auth: &AuthUser,
    commune_id: &str,
    village_id: Option<&str>,
) -> Result<(), ApiError> {
    let ok = match auth.role {
        Role::Admin => true,
        Role::Department => {
            auth.is_culture_social() && auth.commune_id.as_deref() == Some(commune_id)
        }
        Role::VillageLeader => {
            village_id.is_some_and(|v| auth.village_ids.iter().any(|own| own == v))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(crate::access::role_not_allowed("Only the culture-social office, or a village leader for the own village's team, manages teams."))
    }
}

pub(crate) fn load_team(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<Team, ApiError> {
    match registry::find_team(conn, id)? {
        Some(t) if can_see(auth, &t) => Ok(t),
        _ => Err(team_not_found()),
    }
}

fn text(raw: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    DisplayName::parse(raw, field)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| errors.push(e))
        .ok()
}

/// Teams the caller can see.
#[utoipa::path(tag = "teams", params(TeamQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Teams", body = TeamList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The city sees no team members", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams")]
pub async fn list_teams(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<TeamQuery>,
) -> Result<HttpResponse, ApiError> {
    if auth.role == Role::City {
        return Err(ApiError::Forbidden {
            code: "personal_data_not_allowed",
            detail: "City oversight sees indicators and reports.".into(),
        });
    }
    let village = query.into_inner().village_id;
    let commune = if auth.role == Role::Admin {
        None
    } else {
        auth.commune_id.clone()
    };
    let rows = db::run(&state.pool, move |conn| {
        Ok(registry::list_teams(conn, commune.as_deref(), None)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .filter(|t| can_see(&auth, t))
        .filter(|t| {
            village
                .as_ref()
                .is_none_or(|v| t.village_id.as_ref() == Some(v))
        })
        .map(team_response)
        .collect();
    Ok(HttpResponse::Ok().json(TeamList { items }))
}

/// Creates a team from its founding decision.
#[utoipa::path(tag = "teams", request_body = CreateTeam, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TeamResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams")]
pub async fn create_team(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateTeam>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let mut errors = vec![];
    let name = text(&b.name, "name", &mut errors);
    let number = text(&b.decision_number, "decision_number", &mut errors);
    let team = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let commune_id = match (&b.village_id, &b.commune_id) {
                (Some(v), _) => match registry::find_village(conn, v)? {
                    Some(village) => village.commune_id,
                    None => {
                        errors.push(FieldError::new(
                            "village_id",
                            "unknown_village",
                            "no such village",
                        ));
                        String::new()
                    }
                },
                (None, Some(c)) => c.clone(),
                (None, None) => auth.commune_id.clone().unwrap_or_default(),
            };
            if b.commune_id.as_ref().is_some_and(|c| *c != commune_id) && !commune_id.is_empty() {
                errors.push(FieldError::new(
                    "commune_id",
                    "village_of_another_commune",
                    "the village belongs to another commune",
                ));
            }
            if errors.is_empty() && !db::geo::commune_exists(conn, &commune_id)? {
                errors.push(FieldError::new(
                    "commune_id",
                    "unknown_commune",
                    "no such commune",
                ));
            }
            ensure_manager(&auth, &commune_id, b.village_id.as_deref())?;
            let (Some(name), Some(number), true) = (name, number, errors.is_empty()) else {
                return Err(ApiError::validation(errors));
            };
            let id = db::new_id();
            let now = db::now();
            registry::insert_team(
                conn,
                &registry::NewTeam {
                    id: &id,
                    commune_id: &commune_id,
                    village_id: b.village_id.as_deref(),
                    name: &name,
                    decision_number: &number,
                    decision_date: b.decision_date,
                    active: true,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            db::audit::by_user(
                conn,
                &auth,
                "team_created",
                "team",
                &id,
                Some(&commune_id),
                serde_json::json!({"name": name, "decision_number": number}),
            )?;
            registry::find_team(conn, &id)?.ok_or_else(team_not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(team_response(team)))
}

/// One team.
#[utoipa::path(tag = "teams", params(("id" = String, Path, description = "Team id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The team", body = TeamResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}")]
pub async fn get_team(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let team = db::run(&state.pool, move |conn| load_team(conn, &auth, &id)).await?;
    Ok(HttpResponse::Ok().json(team_response(team)))
}

/// Changes a team.
#[utoipa::path(tag = "teams", params(("id" = String, Path, description = "Team id")), request_body = UpdateTeam, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed team", body = TeamResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/teams/{id}")]
pub async fn update_team(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateTeam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let mut errors = vec![];
    let name = b.name.as_deref().and_then(|n| text(n, "name", &mut errors));
    let number = b
        .decision_number
        .as_deref()
        .and_then(|n| text(n, "decision_number", &mut errors));
    let team = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let team = load_team(conn, &auth, &id)?;
            ensure_manager(&auth, &team.commune_id, team.village_id.as_deref())?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            registry::update_team(
                conn,
                &id,
                &registry::TeamChangeset {
                    name,
                    decision_number: number,
                    decision_date: b.decision_date,
                    active: b.active,
                    updated_at: Some(db::now()),
                },
            )?;
            db::audit::by_user(
                conn,
                &auth,
                "team_updated",
                "team",
                &id,
                Some(&team.commune_id),
                serde_json::json!({"before": {"name": team.name, "active": team.active}}),
            )?;
            registry::find_team(conn, &id)?.ok_or_else(team_not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(team_response(team)))
}

/// Members of a team.
#[utoipa::path(tag = "teams", params(("id" = String, Path, description = "Team id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Members", body = MemberList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = db::run(&state.pool, move |conn| {
        load_team(conn, &auth, &id)?;
        Ok(registry::list_members(conn, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MemberList {
        items: rows.into_iter().map(member_response).collect(),
    }))
}

fn member_fields(
    conn: &mut DbConnection,
    team: &Team,
    phone: Option<&str>,
    user_id: Option<&str>,
    from: NaiveDate,
    until: Option<NaiveDate>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<String>, ApiError> {
    let phone = phone
        .filter(|p| !p.trim().is_empty())
        .map(|p| PhoneNumber::parse(p, "phone"))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .map(|p| p.as_str().to_owned());
    if let Some(u) = user_id {
        // An account outside the team's commune, or for a village team outside its village,
        // answers as one that does not exist.
        let linkable = match db::users::find(conn, u)? {
            Some(user) if user.commune_id.as_deref() == Some(team.commune_id.as_str()) => {
                match &team.village_id {
                    None => true,
                    Some(v) => db::users::village_ids(conn, &user.id)?.contains(v),
                }
            }
            _ => false,
        };
        if !linkable {
            errors.push(FieldError::new(
                "user_id",
                "unknown_user",
                "no such user in this team's commune or village",
            ));
        }
    }
    if until.is_some_and(|u| u < from) {
        errors.push(FieldError::new(
            "active_until",
            "before_start",
            "the end is before the start",
        ));
    }
    Ok(phone)
}

/// Adds a member to a team.
#[utoipa::path(tag = "teams", params(("id" = String, Path, description = "Team id")), request_body = CreateMember, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = MemberResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams/{id}/members")]
pub async fn create_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<CreateMember>,
) -> Result<HttpResponse, ApiError> {
    let team_id = path.into_inner();
    let b = body.into_inner();
    let member = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let team = load_team(conn, &auth, &team_id)?;
            ensure_manager(&auth, &team.commune_id, team.village_id.as_deref())?;
            let mut errors = vec![];
            let name = text(&b.full_name, "full_name", &mut errors);
            let phone = member_fields(
                conn,
                &team,
                b.phone.as_deref(),
                b.user_id.as_deref(),
                b.active_from,
                b.active_until,
                &mut errors,
            )?;
            let (Some(name), true) = (name, errors.is_empty()) else {
                return Err(ApiError::validation(errors));
            };
            let id = db::new_id();
            let now = db::now();
            registry::insert_member(
                conn,
                &registry::NewTeamMember {
                    id: &id,
                    team_id: &team.id,
                    commune_id: &team.commune_id,
                    full_name: &name,
                    position: b.position.as_str(),
                    origin: b.origin.as_str(),
                    phone: phone.as_deref(),
                    user_id: b.user_id.as_deref(),
                    active_from: b.active_from,
                    active_until: b.active_until,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            db::audit::by_user(
                conn,
                &auth,
                "team_member_added",
                "team_member",
                &id,
                Some(&team.commune_id),
                serde_json::json!({"team_id": team.id, "position": b.position.as_str()}),
            )?;
            registry::find_member(conn, &id)?.ok_or_else(|| ApiError::not_found("member"))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(member_response(member)))
}

/// Changes a member (position, period, account link…).
#[utoipa::path(tag = "teams", params(("id" = String, Path, description = "Team id"), ("member_id" = String, Path, description = "Member id")),
    request_body = UpdateMember, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed member", body = MemberResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team or member in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/teams/{id}/members/{member_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateMember>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, member_id) = path.into_inner();
    let b = body.into_inner();
    let member = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let team = load_team(conn, &auth, &team_id)?;
            let current = registry::find_member(conn, &member_id)?
                .filter(|m| m.team_id == team.id)
                .ok_or_else(|| ApiError::NotFound { code: "member_not_found", detail: "No such member.".into() })?;
            ensure_manager(&auth, &team.commune_id, team.village_id.as_deref())?;
            let mut errors = vec![];
            let name = b.full_name.as_deref().and_then(|n| text(n, "full_name", &mut errors));
            let from = b.active_from.unwrap_or(current.active_from);
            let until = b.active_until.unwrap_or(current.active_until);
            let phone_raw = match &b.phone { Some(p) => p.clone(), None => current.phone.clone() };
            let user_raw = match &b.user_id { Some(u) => u.clone(), None => current.user_id.clone() };
            // Only a link the request changes is checked: an account linked before keeps its link.
            let new_link = b.user_id.as_ref().and_then(|u| u.as_deref());
            let phone = member_fields(conn, &team, phone_raw.as_deref(), new_link, from, until, &mut errors)?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            registry::update_member(conn, &member_id, &registry::TeamMemberChangeset {
                full_name: name, position: b.position.map(|p| p.as_str().to_owned()), origin: b.origin.map(|o| o.as_str().to_owned()),
                phone: Some(phone), user_id: Some(user_raw), active_from: Some(from), active_until: Some(until), updated_at: Some(db::now()),
            })?;
            db::audit::by_user(conn, &auth, "team_member_updated", "team_member", &member_id, Some(&team.commune_id),
                serde_json::json!({"before": {"position": current.position, "active_until": current.active_until}}))?;
            registry::find_member(conn, &member_id)?.ok_or_else(|| ApiError::not_found("member"))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(member_response(member)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_teams)
        .service(create_team)
        .service(get_team)
        .service(update_team)
        .service(list_members)
        .service(create_member)
        .service(update_member);
}
