//! Emulation campaigns with leaderboards of members, teams and villages, and award proposals that the
//! chairman approves or rejects.
//!
//! Points come from outcomes, not activity: a campaign rule gives points for each person (or household)
//! whose ledger entry for a service became `done` during the campaign through a member's visit. Each
//! subject counts once per service, however many visits it took.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::auth::AuthUser;
use crate::db::emulation::{self as store, AwardProposal, Campaign, CampaignChangeset};
use crate::db::{self, DbConnection};
use crate::domain::{optional_text, Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::stats::period::local_midnight_utc;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_campaigns)
        .service(create_campaign)
        .service(get_campaign)
        .service(update_campaign)
        .service(leaderboard)
        .service(list_proposals)
        .service(create_proposal)
        .service(get_proposal)
        .service(decide_proposal);
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A service of the catalogue.
    #[schema(example = "vneid_level2")]
    pub service_code: String,
    /// Points for each person or household brought to `done` (1–100).
    pub points: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignResponse {
    pub id: String,
    pub commune_id: String,
    /// The organising department's key, or `chairman`.
    pub organiser: String,
    #[schema(example = "Tháng cao điểm VNeID mức 2")]
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub rules: Vec<Rule>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignList {
    pub items: Vec<CampaignResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaign {
    /// Administrators name the commune.
    pub commune_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// At least one rule, one per service.
    pub rules: Vec<Rule>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCampaign {
    pub name: Option<String>,
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub rules: Option<Vec<Rule>>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BoardBy {
    Member,
    Team,
    Village,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// `member` (default), `team` or `village`.
    pub by: Option<BoardBy>,
}

#[derive(Serialize, ToSchema)]
pub struct BoardRow {
    /// 1 for the most points; equal points share a rank.
    pub rank: usize,
    /// User id (members), team id or village id.
    pub id: String,
    pub name: String,
    pub points: i64,
    /// People and households brought to `done`.
    pub outcomes_done: i64,
    /// Outcomes per service.
    pub per_service: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Leaderboard {
    pub campaign_id: String,
    pub by: BoardBy,
    pub rows: Vec<BoardRow>,
}

fn rules_of(c: &Campaign) -> Vec<Rule> {
    serde_json::from_str(&c.rules).unwrap_or_default()
}

fn campaign_response(c: Campaign) -> CampaignResponse {
    CampaignResponse {
        rules: rules_of(&c),
        updated_at: paging::utc(c.updated_at),
        id: c.id,
        commune_id: c.commune_id,
        organiser: c.organiser,
        name: c.name,
        description: c.description,
        starts_on: c.starts_on,
        ends_on: c.ends_on,
    }
}

fn campaign_not_found() -> ApiError {
    ApiError::NotFound {
        code: "campaign_not_found",
        detail: "No such campaign in your commune.".into(),
    }
}

/// The commune the caller works in, or the one an administrator names.
fn commune_of(auth: &AuthUser, named: Option<String>) -> Result<String, ApiError> {
    match (auth.role, named) {
        (Role::City, _) => Err(crate::access::role_not_allowed(
            "City oversight sees indicators and reports.",
        )),
        (Role::Admin, Some(c)) => Ok(c),
        (Role::Admin, None) => Err(ApiError::validation(vec![FieldError::new(
            "commune_id",
            "required",
            "which commune",
        )])),
        (_, named) => {
            let own = auth.commune_id.clone().unwrap_or_default();
            if named.is_some_and(|c| c != own) {
                return Err(ApiError::NotFound {
                    code: "commune_not_found",
                    detail: "No such commune.".into(),
                });
            }
            Ok(own)
        }
    }
}

fn load_campaign(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Campaign, ApiError> {
    let c = store::find_campaign(conn, id)?.ok_or_else(campaign_not_found)?;
    let ok = match auth.role {
        Role::Admin => true,
        Role::City => false,
        _ => auth.commune_id.as_deref() == Some(c.commune_id.as_str()),
    };
    if ok {
        Ok(c)
    } else {
        Err(campaign_not_found())
    }
}

/// The youth union, the culture-social office, the chairman and administrators run campaigns.
fn campaign_organiser(auth: &AuthUser) -> Result<&'static str, ApiError> {
    match (auth.role, auth.department) {
        (Role::Admin, _) => Ok("admin"),
        (Role::Chairman, _) => Ok("chairman"),
        (Role::Department, Some(d @ (Department::YouthUnion | Department::CultureSocial))) => {
            Ok(d.as_str())
        }
        _ => Err(crate::access::role_not_allowed(
            "The youth union, the culture-social office or the chairman runs campaigns.",
        )),
    }
}

fn check_campaign(
    conn: &mut DbConnection,
    name: Option<&str>,
    dates: (NaiveDate, NaiveDate),
    rules: Option<&[Rule]>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if let Some(n) = name {
        match optional_text(Some(n), "name", 200) {
            Ok(Some(_)) => {}
            Ok(None) => errors.push(FieldError::new("name", "required", "name the campaign")),
            Err(e) => errors.push(e),
        }
    }
    let (from, to) = dates;
    if to < from {
        errors.push(FieldError::new(
            "ends_on",
            "before_start",
            "the end is before the start",
        ));
    }
    if from.year() < 2020 || (to - from).num_days() > 3 * 366 {
        errors.push(FieldError::new(
            "starts_on",
            "out_of_range",
            "from 2020, at most three years long",
        ));
    }
    if let Some(rules) = rules {
        if rules.is_empty() || rules.len() > 20 {
            errors.push(FieldError::new("rules", "count", "1 to 20 rules"));
        }
        let mut seen = HashSet::new();
        for (i, r) in rules.iter().enumerate() {
            if crate::db::registry::find_service_by_code(conn, &r.service_code)?.is_none() {
                errors.push(FieldError::new(
                    format!("rules[{i}].service_code"),
                    "unknown_service",
                    "no such service",
                ));
            }
            if !seen.insert(r.service_code.clone()) {
                errors.push(FieldError::new(
                    format!("rules[{i}].service_code"),
                    "duplicate",
                    "one rule per service",
                ));
            }
            if !(1..=100).contains(&r.points) {
                errors.push(FieldError::new(
                    format!("rules[{i}].points"),
                    "out_of_range",
                    "1 to 100 points",
                ));
            }
        }
    }
    Ok(())
}

/// Campaigns of the commune, newest first (every commune role).
#[utoipa::path(tag = "emulation", params(("commune_id" = Option<String>, Query, description = "Administrators name the commune")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Campaigns", body = CampaignList),
        (status = 400, description = "Which commune", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for city oversight", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let commune = commune_of(&auth, query.get("commune_id").cloned())?;
    let items = db::run(&state.pool, move |conn| {
        Ok(store::list_campaigns(conn, &commune)?
            .into_iter()
            .map(campaign_response)
            .collect())
    })
    .await?;
    Ok(HttpResponse::Ok().json(CampaignList { items }))
}

/// Starts a campaign: a period and points per service brought to `done`.
#[utoipa::path(tag = "emulation", request_body = CreateCampaign, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CampaignResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an organiser", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let organiser = campaign_organiser(&auth)?;
    let b = body.into_inner();
    let commune = commune_of(&auth, b.commune_id.clone())?;
    let c = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let mut errors = vec![];
            check_campaign(
                conn,
                Some(&b.name),
                (b.starts_on, b.ends_on),
                Some(&b.rules),
                &mut errors,
            )?;
            let description = optional_text(Some(&b.description), "description", 4000)
                .map_err(|e| errors.push(e))
                .ok()
                .flatten()
                .unwrap_or_default();
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            if db::geo::find_commune(conn, &commune)?.is_none() {
                return Err(ApiError::NotFound {
                    code: "commune_not_found",
                    detail: "No such commune.".into(),
                });
            }
            let now = db::now();
            let c = Campaign {
                id: db::new_id(),
                commune_id: commune,
                organiser: organiser.into(),
                name: b.name.trim().to_owned(),
                description,
                starts_on: b.starts_on,
                ends_on: b.ends_on,
                rules: serde_json::to_string(&b.rules).unwrap_or_else(|_| "[]".into()),
                created_by: auth.id.clone(),
                created_at: now,
                updated_at: now,
            };
            store::insert_campaign(conn, &c)?;
            db::audit::by_user(
                conn,
                &auth,
                "campaign_created",
                "campaign",
                &c.id,
                Some(&c.commune_id),
                serde_json::json!({ "rules": b.rules }),
            )?;
            Ok(c)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(campaign_response(c)))
}

/// One campaign.
#[utoipa::path(tag = "emulation", params(("id" = String, Path, description = "Campaign id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The campaign", body = CampaignResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in your commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/campaigns/{id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let c = db::run(&state.pool, move |conn| load_campaign(conn, &auth, &id)).await?;
    Ok(HttpResponse::Ok().json(campaign_response(c)))
}

/// Changes a campaign (name, dates, rules); the leaderboard follows at once.
#[utoipa::path(tag = "emulation", params(("id" = String, Path, description = "Campaign id")), request_body = UpdateCampaign, security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = CampaignResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an organiser", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in your commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/campaigns/{id}")]
pub async fn update_campaign(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let c = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let c = load_campaign(conn, &auth, &id)?;
            campaign_organiser(&auth)?;
            let mut errors = vec![];
            let dates = (
                b.starts_on.unwrap_or(c.starts_on),
                b.ends_on.unwrap_or(c.ends_on),
            );
            check_campaign(
                conn,
                b.name.as_deref(),
                dates,
                b.rules.as_deref(),
                &mut errors,
            )?;
            let description = b.description.as_ref().map(|d| {
                optional_text(Some(d), "description", 4000)
                    .map_err(|e| errors.push(e))
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            });
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let change = CampaignChangeset {
                name: b.name.as_ref().map(|n| n.trim().to_owned()),
                description,
                starts_on: b.starts_on,
                ends_on: b.ends_on,
                rules: b
                    .rules
                    .as_ref()
                    .map(|r| serde_json::to_string(r).unwrap_or_else(|_| "[]".into())),
                updated_at: Some(db::now()),
            };
            store::update_campaign(conn, &c.id, &change)?;
            db::audit::by_user(
                conn,
                &auth,
                "campaign_updated",
                "campaign",
                &c.id,
                Some(&c.commune_id),
                serde_json::json!({ "rules": b.rules }),
            )?;
            store::find_campaign(conn, &c.id)?.ok_or_else(campaign_not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(campaign_response(c)))
}

/// The rows of a campaign's board, ranked.
fn board(conn: &mut DbConnection, c: &Campaign, by: BoardBy) -> Result<Vec<BoardRow>, ApiError> {
    let rules = rules_of(c);
    let points: HashMap<&str, i64> = rules
        .iter()
        .map(|r| (r.service_code.as_str(), r.points))
        .collect();
    let codes: Vec<String> = rules.iter().map(|r| r.service_code.clone()).collect();
    let outcomes = store::done_outcomes(conn, &c.commune_id, Some(&codes), c.starts_on, c.ends_on)?;
    let villages = crate::db::registry::villages_of_commune(conn, &c.commune_id)?;
    let teams = crate::db::registry::list_teams(conn, Some(&c.commune_id), None)?;
    let team_of_village: HashMap<String, (String, String)> = teams
        .iter()
        .filter(|t| t.active)
        .filter_map(|t| {
            t.village_id
                .clone()
                .map(|v| (v, (t.id.clone(), t.name.clone())))
        })
        .collect();
    let mut rows: HashMap<String, BoardRow> = HashMap::new();
    let mut add = |id: String, service: &str| {
        let row = rows.entry(id.clone()).or_insert_with(|| BoardRow {
            rank: 0,
            id,
            name: String::new(),
            points: 0,
            outcomes_done: 0,
            per_service: BTreeMap::new(),
        });
        row.points += points.get(service).copied().unwrap_or(0);
        row.outcomes_done += 1;
        *row.per_service.entry(service.to_owned()).or_default() += 1;
    };
    for (service, author, village, _) in &outcomes {
        match by {
            BoardBy::Member => add(author.clone(), service),
            BoardBy::Village => add(village.clone(), service),
            BoardBy::Team => {
                if let Some((team, _)) = team_of_village.get(village) {
                    add(team.clone(), service);
                }
            }
        }
    }
    // Everyone who could score is listed, with zero points if need be.
    let names: HashMap<String, String> = match by {
        BoardBy::Member => {
            let ids: Vec<String> = rows.keys().cloned().collect();
            db::users::display_names(conn, &ids)?.into_iter().collect()
        }
        BoardBy::Village => villages.into_iter().map(|v| (v.id, v.name)).collect(),
        BoardBy::Team => team_of_village.into_values().collect(),
    };
    for (id, name) in &names {
        rows.entry(id.clone()).or_insert_with(|| BoardRow {
            rank: 0,
            id: id.clone(),
            name: String::new(),
            points: 0,
            outcomes_done: 0,
            per_service: BTreeMap::new(),
        });
        if let Some(row) = rows.get_mut(id) {
            row.name = name.clone();
        }
    }
    let mut rows: Vec<BoardRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        b.points
            .cmp(&a.points)
            .then(b.outcomes_done.cmp(&a.outcomes_done))
            .then(a.name.cmp(&b.name))
            .then(a.id.cmp(&b.id))
    });
    let mut rank = 0;
    let mut last = None;
    for (i, row) in rows.iter_mut().enumerate() {
        if last != Some(row.points) {
            rank = i + 1;
            last = Some(row.points);
        }
        row.rank = rank;
    }
    Ok(rows)
}

/// The leaderboard of a campaign by member, team or village (every commune role; the city sees none).
#[utoipa::path(tag = "emulation", params(("id" = String, Path, description = "Campaign id"), BoardQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Ranked rows", body = Leaderboard),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in your commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/campaigns/{id}/leaderboard")]
pub async fn leaderboard(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let by = query.by.unwrap_or(BoardBy::Member);
    let out = db::run(&state.pool, move |conn| {
        let c = load_campaign(conn, &auth, &id)?;
        Ok(Leaderboard {
            rows: board(conn, &c, by)?,
            campaign_id: c.id,
            by,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

// ---------------------------------------------------------------- award proposals

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Team,
    Member,
}

/// What the data says about the subject over the period, kept as it was when proposed.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct AwardEvidence {
    /// Live field records by the member (or the team's members).
    pub records: i64,
    pub households_reached: i64,
    /// People and households brought to `done` by those records.
    pub outcomes_done: i64,
    /// Trainings attended.
    pub trainings_attended: i64,
    /// Team only: members serving, and those who logged at least one record.
    pub members: Option<i64>,
    pub active_members: Option<i64>,
    /// Points in the named campaign.
    pub campaign_points: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalResponse {
    pub id: String,
    pub commune_id: String,
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub subject_name: String,
    #[schema(example = "Giấy khen của Chủ tịch UBND xã")]
    pub award: String,
    pub reason: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub campaign_id: Option<String>,
    pub evidence: AwardEvidence,
    /// `proposed`, `approved` or `rejected`.
    pub status: String,
    pub proposed_by: String,
    pub proposed_at: chrono::DateTime<chrono::Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decision_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalList {
    pub items: Vec<ProposalResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProposal {
    pub subject_kind: SubjectKind,
    /// A team id, or a team member id.
    pub subject_id: String,
    /// The award proposed.
    pub award: String,
    pub reason: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// A campaign whose points go into the evidence.
    pub campaign_id: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideProposal {
    pub decision: Decision,
    /// Why (required to reject).
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProposalQuery {
    /// `proposed`, `approved` or `rejected`.
    pub status: Option<String>,
    /// Administrators name the commune.
    pub commune_id: Option<String>,
}

fn proposal_not_found() -> ApiError {
    ApiError::NotFound {
        code: "proposal_not_found",
        detail: "No such award proposal in your commune.".into(),
    }
}

fn proposal_response(p: AwardProposal) -> Result<ProposalResponse, ApiError> {
    let evidence = serde_json::from_str(&p.evidence)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("evidence of {}: {e}", p.id)))?;
    Ok(ProposalResponse {
        subject_kind: if p.subject_kind == "team" {
            SubjectKind::Team
        } else {
            SubjectKind::Member
        },
        evidence,
        proposed_at: paging::utc(p.proposed_at),
        decided_at: p.decided_at.map(paging::utc),
        id: p.id,
        commune_id: p.commune_id,
        subject_id: p.subject_id,
        subject_name: p.subject_name,
        award: p.award,
        reason: p.reason,
        period_start: p.period_start,
        period_end: p.period_end,
        campaign_id: p.campaign_id,
        status: p.status,
        proposed_by: p.proposed_by,
        decided_by: p.decided_by,
        decision_note: p.decision_note,
    })
}

/// Commune office roles read proposals; village users and the city do not.
fn load_proposal(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<AwardProposal, ApiError> {
    let p = store::find_proposal(conn, id)?.ok_or_else(proposal_not_found)?;
    let ok = match auth.role {
        Role::Admin => true,
        Role::Chairman | Role::Department => {
            auth.commune_id.as_deref() == Some(p.commune_id.as_str())
        }
        _ => false,
    };
    if ok {
        Ok(p)
    } else {
        Err(proposal_not_found())
    }
}

/// The evidence for a team or member over `[from, to]`; also the subject's name and commune.
fn evidence(
    conn: &mut DbConnection,
    kind: SubjectKind,
    subject: &str,
    (from, to): (NaiveDate, NaiveDate),
    campaign: Option<&Campaign>,
) -> Result<Option<(String, String, AwardEvidence)>, ApiError> {
    use crate::db::registry as reg;
    // (name, commune, team village if a village team, members as (member id, user id))
    let (name, commune, village, members) = match kind {
        SubjectKind::Member => {
            let Some(m) = reg::find_member(conn, subject)? else {
                return Ok(None);
            };
            (m.full_name, m.commune_id, None, vec![(m.id, m.user_id)])
        }
        SubjectKind::Team => {
            let Some(t) = reg::find_team(conn, subject)? else {
                return Ok(None);
            };
            let members = reg::list_members(conn, &t.id)?
                .into_iter()
                .filter(|m| m.active_from <= to && m.active_until.is_none_or(|u| u >= from))
                .map(|m| (m.id, m.user_id))
                .collect();
            (t.name, t.commune_id, t.village_id, members)
        }
    };
    let users: HashSet<String> = members.iter().filter_map(|(_, u)| u.clone()).collect();
    let in_scope =
        |author: &str, v: &str| users.contains(author) && village.as_deref().is_none_or(|x| x == v);
    let end = to + chrono::Days::new(1);
    let records: Vec<(String, String, String)> = store::records_between(
        conn,
        &commune,
        local_midnight_utc(from),
        local_midnight_utc(end),
    )?
    .into_iter()
    .filter(|(a, v, _)| in_scope(a, v))
    .collect();
    let households: HashSet<&String> = records.iter().map(|(_, _, h)| h).collect();
    let active: HashSet<&String> = records.iter().map(|(a, _, _)| a).collect();
    let outcomes = store::done_outcomes(conn, &commune, None, from, to)?
        .into_iter()
        .filter(|(_, a, v, _)| in_scope(a, v))
        .count() as i64;
    let member_ids: Vec<String> = members.iter().map(|(m, _)| m.clone()).collect();
    let mut trainings_attended = 0;
    for m in &member_ids {
        trainings_attended += crate::db::teamwork::member_history(conn, m)?
            .into_iter()
            .filter(|(t, attended, _)| {
                *attended && t.cancelled_at.is_none() && t.held_on >= from && t.held_on <= to
            })
            .count() as i64;
    }
    let campaign_points = match campaign {
        None => None,
        Some(c) => {
            let by = if kind == SubjectKind::Team {
                BoardBy::Team
            } else {
                BoardBy::Member
            };
            let key = match kind {
                SubjectKind::Team => subject.to_owned(),
                SubjectKind::Member => members
                    .first()
                    .and_then(|(_, u)| u.clone())
                    .unwrap_or_default(),
            };
            Some(
                board(conn, c, by)?
                    .into_iter()
                    .find(|r| r.id == key)
                    .map(|r| r.points)
                    .unwrap_or(0),
            )
        }
    };
    let team = kind == SubjectKind::Team;
    Ok(Some((
        name,
        commune,
        AwardEvidence {
            records: records.len() as i64,
            households_reached: households.len() as i64,
            outcomes_done: outcomes,
            trainings_attended,
            members: team.then_some(members.len() as i64),
            active_members: team.then_some(active.len() as i64),
            campaign_points,
        },
    )))
}

/// Award proposals of the commune, newest first (the chairman, departments, administrators).
#[utoipa::path(tag = "emulation", params(ProposalQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Proposals", body = ProposalList),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for village users or the city", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/award-proposals")]
pub async fn list_proposals(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ProposalQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::Chairman, Role::Department])?;
    let q = query.into_inner();
    if q.status
        .as_deref()
        .is_some_and(|s| !["proposed", "approved", "rejected"].contains(&s))
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "status",
            "unknown_status",
            "proposed, approved or rejected",
        )]));
    }
    let commune = commune_of(&auth, q.commune_id)?;
    let items = db::run(&state.pool, move |conn| {
        store::list_proposals(conn, &commune, q.status.as_deref())?
            .into_iter()
            .map(proposal_response)
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(ProposalList { items }))
}

/// Proposes a team or member for an award (the culture-social office); the evidence is computed from
/// the data over the period and kept with the proposal.
#[utoipa::path(tag = "emulation", request_body = CreateProposal, security(("bearer" = [])),
    responses(
        (status = 201, description = "Proposed", body = ProposalResponse),
        (status = 400, description = "Invalid fields or unknown subject", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the culture-social office proposes awards", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/award-proposals")]
pub async fn create_proposal(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateProposal>,
) -> Result<HttpResponse, ApiError> {
    if !auth.may_prepare_for_chairman() {
        return Err(crate::access::role_not_allowed(
            "The culture-social office proposes awards.",
        ));
    }
    let b = body.into_inner();
    let mut errors = vec![];
    let mut required = |raw: &str, field: &str, max: usize| -> String {
        match optional_text(Some(raw), field, max) {
            Ok(Some(v)) => v,
            Ok(None) => {
                errors.push(FieldError::new(field, "required", "required"));
                String::new()
            }
            Err(e) => {
                errors.push(e);
                String::new()
            }
        }
    };
    let award = required(&b.award, "award", 300);
    let reason = required(&b.reason, "reason", 4000);
    if b.period_end < b.period_start {
        errors.push(FieldError::new(
            "period_end",
            "before_start",
            "the end is before the start",
        ));
    }
    let p = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let campaign = match &b.campaign_id {
                Some(id) => match load_campaign(conn, &auth, id) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        errors.push(FieldError::new(
                            "campaign_id",
                            "unknown_campaign",
                            "no such campaign in your commune",
                        ));
                        None
                    }
                },
                None => None,
            };
            let found = evidence(
                conn,
                b.subject_kind,
                &b.subject_id,
                (b.period_start, b.period_end),
                campaign.as_ref(),
            )?;
            let own = |commune: &str| {
                auth.role == Role::Admin || auth.commune_id.as_deref() == Some(commune)
            };
            let Some((name, commune, evidence)) = found.filter(|(_, c, _)| own(c)) else {
                errors.push(FieldError::new(
                    "subject_id",
                    "unknown_subject",
                    "no such team or member in your commune",
                ));
                return Err(ApiError::validation(errors));
            };
            if campaign.as_ref().is_some_and(|c| c.commune_id != commune) {
                errors.push(FieldError::new(
                    "campaign_id",
                    "unknown_campaign",
                    "the campaign is of another commune",
                ));
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let p = AwardProposal {
                id: db::new_id(),
                commune_id: commune,
                subject_kind: match b.subject_kind {
                    SubjectKind::Team => "team".into(),
                    SubjectKind::Member => "member".into(),
                },
                subject_id: b.subject_id.clone(),
                subject_name: name,
                award,
                reason,
                period_start: b.period_start,
                period_end: b.period_end,
                campaign_id: campaign.map(|c| c.id),
                evidence: serde_json::to_string(&evidence)
                    .map_err(|e| ApiError::Internal(anyhow::anyhow!("evidence: {e}")))?,
                status: "proposed".into(),
                proposed_by: auth.id.clone(),
                proposed_at: db::now(),
                decided_by: None,
                decided_at: None,
                decision_note: None,
            };
            store::insert_proposal(conn, &p)?;
            db::audit::by_user(
                conn,
                &auth,
                "award_proposed",
                "award_proposal",
                &p.id,
                Some(&p.commune_id),
                serde_json::json!({ "subject": p.subject_id, "award": p.award }),
            )?;
            Ok(p)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(proposal_response(p)?))
}

/// One award proposal with its evidence and decision.
#[utoipa::path(tag = "emulation", params(("id" = String, Path, description = "Proposal id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The proposal", body = ProposalResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such proposal in your commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/award-proposals/{id}")]
pub async fn get_proposal(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let p = db::run(&state.pool, move |conn| load_proposal(conn, &auth, &id)).await?;
    Ok(HttpResponse::Ok().json(proposal_response(p)?))
}

/// The chairman approves or rejects a proposal (a rejection says why); the decision is final.
#[utoipa::path(tag = "emulation", params(("id" = String, Path, description = "Proposal id")), request_body = DecideProposal, security(("bearer" = [])),
    responses(
        (status = 200, description = "Decided", body = ProposalResponse),
        (status = 400, description = "A rejection needs a note", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the chairman decides", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such proposal in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/award-proposals/{id}/decision")]
pub async fn decide_proposal(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<DecideProposal>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let note = optional_text(b.note.as_deref(), "note", 2000)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let p = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let p = load_proposal(conn, &auth, &id)?;
            auth.require_role(&[Role::Chairman])?;
            if b.decision == Decision::Reject && note.is_none() {
                return Err(ApiError::validation(vec![FieldError::new(
                    "note",
                    "required",
                    "say why the proposal is rejected",
                )]));
            }
            let status = match b.decision {
                Decision::Approve => "approved",
                Decision::Reject => "rejected",
            };
            if store::decide(conn, &p.id, status, &auth.id, note.as_deref(), db::now())? != 1 {
                return Err(ApiError::Conflict {
                    code: "already_decided",
                    detail: "This proposal was decided already.".into(),
                });
            }
            db::audit::by_user(
                conn,
                &auth,
                if status == "approved" {
                    "award_approved"
                } else {
                    "award_rejected"
                },
                "award_proposal",
                &p.id,
                Some(&p.commune_id),
                serde_json::json!({ "note": note }),
            )?;
            store::find_proposal(conn, &p.id)?.ok_or_else(proposal_not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(proposal_response(p)?))
}
