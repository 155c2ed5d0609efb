//! Targets and funding (plan §III): targets per indicator for the commune and each village, the
//! progress against them with the gap in people and the villages furthest behind; sponsorships and
//! contributions received and money spent, in whole đồng, with totals per period.

use std::collections::HashMap;

use actix_web::{get, post, put, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use super::stats::{
    figure_response, figure_scope, period_response, FigureResponse, PeriodResponse,
};
use crate::auth::AuthUser;
use crate::db::plans::{self as store, FundingEntry, Plan, PlanVersion, Submission, Target};
use crate::db::{self, stats as q, DbConnection};
use crate::domain::{Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::stats::report::{funding_totals, FundingTotals};
use crate::stats::{self, gap, Figure, Period, PeriodKind};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(set_targets)
        .service(progress)
        .service(list_funding)
        .service(add_funding)
        .service(void_funding)
        .service(submit_report)
        .service(acknowledge_report)
        .service(list_submissions)
        .service(compare_communes)
        .service(create_plan)
        .service(list_plans)
        .service(get_plan)
        .service(amend_plan);
}

/// The commune's plan keepers: the chairman and the culture-social office (an administrator for
/// any commune).
fn require_planner(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.may_keep_plan() {
        Ok(())
    } else {
        Err(crate::access::role_not_allowed(
            "The chairman and the culture-social office keep the plan's targets and funds.",
        ))
    }
}

/// The commune a planner writes to: their own, or the one an administrator names.
fn planner_commune(
    conn: &mut DbConnection,
    auth: &AuthUser,
    named: Option<&str>,
) -> Result<String, ApiError> {
    let commune = match (auth.role, auth.commune_id.as_deref(), named) {
        (Role::Admin, _, Some(c)) => c.to_owned(),
        (Role::Admin, _, None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "commune_id",
                "required",
                "which commune",
            )]))
        }
        (_, Some(own), Some(c)) if c != own => {
            return Err(ApiError::NotFound {
                code: "commune_not_found",
                detail: "No such commune.".into(),
            })
        }
        (_, Some(own), _) => own.to_owned(),
        (_, None, _) => {
            return Err(ApiError::Forbidden {
                code: "no_scope",
                detail: "No commune.".into(),
            })
        }
    };
    if !db::geo::commune_exists(conn, &commune)? {
        return Err(ApiError::NotFound {
            code: "commune_not_found",
            detail: "No such commune.".into(),
        });
    }
    Ok(commune)
}

// ---------------------------------------------------------------- targets

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    #[schema(example = "adults_vneid_level2")]
    pub indicator_code: String,
    /// A village of the commune; absent for the commune's own target.
    pub village_id: Option<String>,
    /// 0–100, e.g. 80 for 80 % by the end of the period.
    #[schema(example = 80.0)]
    pub target_percent: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTargets {
    /// `month`, `quarter` or `year`.
    pub period: PeriodKind,
    /// A day inside the period.
    pub date: NaiveDate,
    /// Administrators: the commune.
    pub commune_id: Option<String>,
    /// At most 500 targets, set together or not at all.
    pub items: Vec<TargetInput>,
}

#[derive(Serialize, ToSchema)]
pub struct TargetsSet {
    pub commune_id: String,
    pub period: PeriodResponse,
    /// How many targets were set.
    pub set: usize,
}

/// Sets targets for a period (the chairman and the culture-social office): per indicator, for the
/// commune and for villages. Setting one again replaces its value.
#[utoipa::path(tag = "plans", request_body = SetTargets, security(("bearer" = [])),
    responses(
        (status = 200, description = "Targets set", body = TargetsSet),
        (status = 400, description = "Unknown indicator or village, a count-only indicator, a percentage outside 0–100, a week", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a plan keeper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune outside your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/targets")]
pub async fn set_targets(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<SetTargets>,
) -> Result<HttpResponse, ApiError> {
    require_planner(&auth)?;
    let b = body.into_inner();
    if b.period == PeriodKind::Week {
        return Err(ApiError::validation(vec![FieldError::new(
            "period",
            "unsupported",
            "targets are set for a month, a quarter or a year",
        )]));
    }
    if b.items.is_empty() || b.items.len() > 500 {
        return Err(ApiError::validation(vec![FieldError::new(
            "items",
            "length",
            "1 to 500 targets",
        )]));
    }
    let period = Period::containing(b.period, b.date);
    let res = db::run(&state.pool, move |conn| {
        let commune = planner_commune(conn, &auth, b.commune_id.as_deref())?;
        let villages: Vec<String> = db::registry::villages_of_commune(conn, &commune)?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let indicators: HashMap<String, q::Indicator> = q::list_indicators(conn, false)?
            .into_iter()
            .map(|i| (i.code.clone(), i))
            .collect();
        let mut errors = vec![];
        for (n, item) in b.items.iter().enumerate() {
            match indicators.get(&item.indicator_code) {
                None => errors.push(FieldError::new(
                    format!("items[{n}].indicator_code"),
                    "unknown",
                    "an indicator in use",
                )),
                Some(i) if i.kind == "assisted" => errors.push(FieldError::new(
                    format!("items[{n}].indicator_code"),
                    "count_only",
                    "a count has no percentage to aim at",
                )),
                Some(_) => {}
            }
            if item
                .village_id
                .as_ref()
                .is_some_and(|v| !villages.contains(v))
            {
                errors.push(FieldError::new(
                    format!("items[{n}].village_id"),
                    "unknown",
                    "a village of the commune",
                ));
            }
            if !(0.0..=100.0).contains(&item.target_percent) || item.target_percent.is_nan() {
                errors.push(FieldError::new(
                    format!("items[{n}].target_percent"),
                    "out_of_range",
                    "0 to 100",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let now = db::now();
        db::write_tx(conn, |conn| {
            for item in &b.items {
                let indicator = &indicators[&item.indicator_code];
                store::upsert_target(
                    conn,
                    &Target {
                        id: db::new_id(),
                        commune_id: commune.clone(),
                        village_id: item.village_id.clone(),
                        indicator_id: indicator.id.clone(),
                        period_kind: period_kind_str(period.kind).to_owned(),
                        period_start: period.start,
                        target_percent: (item.target_percent * 10.0).round() / 10.0,
                        set_by: auth.id.clone(),
                        updated_at: now,
                    },
                )?;
            }
            db::audit::by_user(
                conn,
                &auth,
                "targets_set",
                "commune",
                &commune,
                Some(&commune),
                serde_json::json!({"period": period.label(), "targets": b.items.len()}),
            )?;
            Ok::<_, ApiError>(())
        })?;
        Ok(TargetsSet {
            commune_id: commune,
            period: period_response(&period),
            set: b.items.len(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(res))
}

/// The period a query names: a quarter by default, around today (Vietnam time) by default.
fn chosen_period(kind: Option<PeriodKind>, date: Option<NaiveDate>) -> Period {
    Period::containing(
        kind.unwrap_or(PeriodKind::Quarter),
        date.unwrap_or_else(stats::period::local_today),
    )
}

fn period_kind_str(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProgressQuery {
    /// `month`, `quarter` (default) or `year`.
    pub period: Option<PeriodKind>,
    /// A day inside the period (default today, Vietnam time).
    pub date: Option<NaiveDate>,
    /// Administrators and city oversight: the commune.
    pub commune_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VillageProgress {
    pub village_id: String,
    pub name: String,
    /// The village's own target, or else the commune's.
    pub target_percent: Option<f64>,
    pub current: FigureResponse,
    /// People (households for household-level indicators) still to reach for the target.
    pub gap: i64,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorProgress {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub department: String,
    /// The commune's target for the period, if one was set.
    pub target_percent: Option<f64>,
    pub current: FigureResponse,
    pub gap: i64,
    /// Villages in scope, the furthest behind (largest gap) first.
    pub villages: Vec<VillageProgress>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressResponse {
    pub commune_id: String,
    pub period: PeriodResponse,
    /// Indicators with a target for the commune or one of its villages in this period.
    pub items: Vec<IndicatorProgress>,
}

/// Progress against the period's targets: each targeted indicator's figure, the gap in people and
/// the villages furthest behind. Scoped like the figures (a village leader sees the village).
#[utoipa::path(tag = "plans", params(ProgressQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Progress against targets", body = ProgressResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune outside your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/stats/progress")]
pub async fn progress(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ProgressQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let period = chosen_period(q.period, q.date);
    let res = db::run(&state.pool, move |conn| {
        let (commune, villages) = figure_scope(conn, &auth, q.commune_id.as_deref(), None)?;
        let targets =
            store::targets_of(conn, &commune, period_kind_str(period.kind), period.start)?;
        let mut items = vec![];
        let mut shared = stats::Shared::default();
        for indicator in q::list_indicators(conn, false)? {
            let mine: Vec<&Target> = targets
                .iter()
                .filter(|t| t.indicator_id == indicator.id)
                .collect();
            if mine.is_empty() || indicator.kind == "assisted" {
                continue;
            }
            let commune_target = mine
                .iter()
                .find(|t| t.village_id.is_none())
                .map(|t| t.target_percent);
            let per_village = stats::per_village(conn, &mut shared, &indicator, &commune, &period)?;
            let current = super::stats::total(&per_village, &villages, true);
            let mut rows: Vec<VillageProgress> = villages
                .iter()
                .map(|(id, name)| {
                    let figure = per_village.get(id).copied().unwrap_or(Figure {
                        denominator: Some(0),
                        ..Figure::default()
                    });
                    let target = mine
                        .iter()
                        .find(|t| t.village_id.as_deref() == Some(id))
                        .map(|t| t.target_percent)
                        .or(commune_target);
                    VillageProgress {
                        village_id: id.clone(),
                        name: name.clone(),
                        target_percent: target,
                        current: figure_response(&figure),
                        gap: target.map_or(0, |t| gap(&figure, t)),
                    }
                })
                .collect();
            rows.sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.name.cmp(&b.name)));
            items.push(IndicatorProgress {
                code: indicator.code.clone(),
                name_vi: indicator.name_vi.clone(),
                name_en: indicator.name_en.clone(),
                department: indicator.department.clone(),
                target_percent: commune_target,
                gap: commune_target.map_or(0, |t| gap(&current, t)),
                current: figure_response(&current),
                villages: rows,
            });
        }
        Ok(ProgressResponse {
            commune_id: commune,
            period: period_response(&period),
            items,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(res))
}

// ---------------------------------------------------------------- funding

const DIRECTIONS: [&str; 2] = ["received", "spent"];
const SOURCES: [&str; 3] = ["sponsorship", "state_budget", "other"];
const RECEIVED_CATEGORIES: [&str; 2] = ["cash", "in_kind"];
const SPENT_CATEGORIES: [&str; 4] = ["training", "materials", "member_support", "other"];
/// One thousand billion đồng: far above any commune's entry, far below i64's limits on sums.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFundingEntry {
    /// `received` or `spent`.
    pub direction: String,
    /// `sponsorship`, `state_budget` or `other`.
    pub source: String,
    /// Received: `cash` or `in_kind` (valued in đồng); spent: `training`, `materials`,
    /// `member_support` or `other`.
    pub category: String,
    /// Who gave it, or who was paid.
    #[schema(example = "Viettel Hải Phòng")]
    pub party: String,
    pub description: Option<String>,
    /// Whole đồng, 1 to 1,000,000,000,000 (an integer: never a fraction).
    #[schema(example = 15000000)]
    pub amount_vnd: i64,
    pub occurred_on: NaiveDate,
    /// Administrators: the commune.
    pub commune_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FundingEntryResponse {
    pub id: String,
    pub commune_id: String,
    pub direction: String,
    pub source: String,
    pub category: String,
    pub party: String,
    pub description: Option<String>,
    pub amount_vnd: i64,
    pub occurred_on: NaiveDate,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Voided entries are kept and shown, and not counted.
    pub voided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub void_reason: Option<String>,
}

fn funding_response(e: &FundingEntry) -> FundingEntryResponse {
    FundingEntryResponse {
        id: e.id.clone(),
        commune_id: e.commune_id.clone(),
        direction: e.direction.clone(),
        source: e.source.clone(),
        category: e.category.clone(),
        party: e.party.clone(),
        description: e.description.clone(),
        amount_vnd: e.amount_vnd,
        occurred_on: e.occurred_on,
        created_by: e.created_by.clone(),
        created_at: paging::utc(e.created_at),
        voided_at: e.voided_at.map(paging::utc),
        void_reason: e.void_reason.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct FundingResponse {
    pub commune_id: String,
    pub period: PeriodResponse,
    pub totals: FundingTotals,
    /// The period's entries, oldest first, voided ones included.
    pub items: Vec<FundingEntryResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FundingQuery {
    /// `month`, `quarter` (default) or `year`.
    pub period: Option<PeriodKind>,
    /// A day inside the period (default today, Vietnam time).
    pub date: Option<NaiveDate>,
    /// Administrators: the commune.
    pub commune_id: Option<String>,
}

/// The commune's offices: the chairman and every department; an administrator names the commune.
fn funding_reader_commune(
    conn: &mut DbConnection,
    auth: &AuthUser,
    named: Option<&str>,
) -> Result<String, ApiError> {
    auth.require_role(&[Role::Admin, Role::Chairman, Role::Department])?;
    planner_commune(conn, auth, named)
}

/// The funds of a period: entries and totals per source and category (the commune's offices).
#[utoipa::path(tag = "plans", params(FundingQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Entries and totals", body = FundingResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a commune office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune outside your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/funding")]
pub async fn list_funding(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<FundingQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let period = chosen_period(q.period, q.date);
    let res = db::run(&state.pool, move |conn| {
        let commune = funding_reader_commune(conn, &auth, q.commune_id.as_deref())?;
        let entries = store::funding_between(conn, &commune, period.start, period.end)?;
        Ok(FundingResponse {
            commune_id: commune,
            period: period_response(&period),
            totals: funding_totals(&entries),
            items: entries.iter().map(funding_response).collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Records money received or spent (the chairman and the culture-social office).
#[utoipa::path(tag = "plans", request_body = NewFundingEntry, security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = FundingEntryResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a plan keeper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Invalid fields (an amount with a fraction is not JSON of the right shape)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/funding")]
pub async fn add_funding(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<NewFundingEntry>,
) -> Result<HttpResponse, ApiError> {
    require_planner(&auth)?;
    let b = body.into_inner();
    let mut errors = vec![];
    if !DIRECTIONS.contains(&b.direction.as_str()) {
        errors.push(FieldError::new("direction", "unknown", "received or spent"));
    }
    if !SOURCES.contains(&b.source.as_str()) {
        errors.push(FieldError::new(
            "source",
            "unknown",
            "sponsorship, state_budget or other",
        ));
    }
    let categories: &[&str] = if b.direction == "spent" {
        &SPENT_CATEGORIES
    } else {
        &RECEIVED_CATEGORIES
    };
    if !categories.contains(&b.category.as_str()) {
        errors.push(FieldError::new(
            "category",
            "unknown",
            format!("one of {}", categories.join(", ")),
        ));
    }
    let party = b.party.trim().to_owned();
    if party.is_empty() || party.chars().count() > 200 {
        errors.push(FieldError::new("party", "length", "1 to 200 characters"));
    }
    let description = b
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        errors.push(FieldError::new(
            "description",
            "length",
            "at most 1000 characters",
        ));
    }
    if !(1..=MAX_AMOUNT).contains(&b.amount_vnd) {
        errors.push(FieldError::new(
            "amount_vnd",
            "out_of_range",
            "1 to 1,000,000,000,000 đồng",
        ));
    }
    let entry = db::run(&state.pool, move |conn| {
        let commune = planner_commune(conn, &auth, b.commune_id.as_deref())?;
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let entry = FundingEntry {
            id: db::new_id(),
            commune_id: commune,
            direction: b.direction,
            source: b.source,
            category: b.category,
            party,
            description,
            amount_vnd: b.amount_vnd,
            occurred_on: b.occurred_on,
            created_by: auth.id.clone(),
            created_at: db::now(),
            voided_at: None,
            voided_by: None,
            void_reason: None,
        };
        db::write_tx(conn, |conn| {
            store::insert_funding(conn, &entry)?;
            db::audit::by_user(
                conn,
                &auth,
                "funding_recorded",
                "funding_entry",
                &entry.id,
                Some(&entry.commune_id),
                serde_json::json!({"direction": entry.direction, "source": entry.source, "amount_vnd": entry.amount_vnd}),
            )?;
            Ok::<_, ApiError>(())
        })?;
        Ok(entry)
    })
    .await?;
    Ok(HttpResponse::Created().json(funding_response(&entry)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidFunding {
    /// Why the entry is wrong.
    pub reason: String,
}

/// Voids a mistaken entry (kept and shown, no longer counted); enter the right one anew.
#[utoipa::path(tag = "plans", request_body = VoidFunding, params(("id" = String, Path, description = "Entry id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Voided", body = FundingEntryResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a plan keeper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Voided already", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "No reason", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/funding/{id}/void")]
pub async fn void_funding(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<VoidFunding>,
) -> Result<HttpResponse, ApiError> {
    require_planner(&auth)?;
    let id = path.into_inner();
    let reason = super::required_reason(&body.into_inner().reason)?;
    let entry = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let not_found = || ApiError::NotFound {
                code: "funding_entry_not_found",
                detail: "No such entry.".into(),
            };
            let entry = store::find_funding(conn, &id)?.ok_or_else(not_found)?;
            if auth.role != Role::Admin && auth.commune_id.as_deref() != Some(&entry.commune_id) {
                return Err(not_found());
            }
            if !store::void_funding(conn, &id, &auth.id, &reason, db::now())? {
                return Err(ApiError::Conflict {
                    code: "funding_entry_voided",
                    detail: "This entry was voided already.".into(),
                });
            }
            db::audit::by_user(
                conn,
                &auth,
                "funding_voided",
                "funding_entry",
                &id,
                Some(&entry.commune_id),
                serde_json::json!({"reason": reason, "amount_vnd": entry.amount_vnd}),
            )?;
            store::find_funding(conn, &id)?.ok_or_else(not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(funding_response(&entry)))
}

// ---------------------------------------------------------------- the city

#[derive(Serialize, ToSchema)]
pub struct SubmissionResponse {
    pub report_id: String,
    pub commune_id: String,
    pub submitted_by: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The city's words on receipt.
    pub acknowledgement: Option<String>,
}

fn submission_response(s: &Submission) -> SubmissionResponse {
    SubmissionResponse {
        report_id: s.report_id.clone(),
        commune_id: s.commune_id.clone(),
        submitted_by: s.submitted_by.clone(),
        submitted_at: paging::utc(s.submitted_at),
        acknowledged_by: s.acknowledged_by.clone(),
        acknowledged_at: s.acknowledged_at.map(paging::utc),
        acknowledgement: s.acknowledgement.clone(),
    }
}

fn report_not_found() -> ApiError {
    ApiError::NotFound {
        code: "report_not_found",
        detail: "No such report in your scope.".into(),
    }
}

/// Sends the commune's approved report to the city (the chairman), once.
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id")), security(("bearer" = [])),
    responses(
        (status = 201, description = "Submitted", body = SubmissionResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the chairman submits", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved yet, or submitted already", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/reports/{id}/submit")]
pub async fn submit_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Chairman])?;
    let id = path.into_inner();
    let s = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let r = q::find_report(conn, &id)?
                .filter(|r| auth.commune_id.as_deref() == Some(&r.commune_id))
                .ok_or_else(report_not_found)?;
            if r.status != "approved" {
                return Err(ApiError::Conflict {
                    code: "report_not_approved",
                    detail: "Approve the report before sending it to the city.".into(),
                });
            }
            if store::find_submission(conn, &r.id)?.is_some() {
                return Err(ApiError::Conflict {
                    code: "report_submitted",
                    detail: "This report was sent to the city already.".into(),
                });
            }
            let s = Submission {
                report_id: r.id.clone(),
                commune_id: r.commune_id.clone(),
                submitted_by: auth.id.clone(),
                submitted_at: db::now(),
                acknowledged_by: None,
                acknowledged_at: None,
                acknowledgement: None,
            };
            store::insert_submission(conn, &s)?;
            db::audit::by_user(
                conn,
                &auth,
                "report_submitted",
                "report",
                &r.id,
                Some(&r.commune_id),
                serde_json::json!({}),
            )?;
            Ok(s)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(submission_response(&s)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// A word back to the commune, e.g. `Đã nhận báo cáo quý IV`.
    pub note: Option<String>,
}

/// Acknowledges a submitted report (city oversight), once.
#[utoipa::path(tag = "reports", request_body = Acknowledge, params(("id" = String, Path, description = "Report id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Acknowledged", body = SubmissionResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only city oversight acknowledges", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such submitted report in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Acknowledged already", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/reports/{id}/acknowledge")]
pub async fn acknowledge_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<Acknowledge>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::City])?;
    let id = path.into_inner();
    let note = body
        .into_inner()
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::validation(vec![FieldError::new(
            "note",
            "length",
            "at most 1000 characters",
        )]));
    }
    let s = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let s = store::find_submission(conn, &id)?
                .filter(|s| auth.commune_id.as_ref().is_none_or(|c| *c == s.commune_id))
                .ok_or_else(report_not_found)?;
            if !store::acknowledge(conn, &id, &auth.id, note.as_deref(), db::now())? {
                return Err(ApiError::Conflict {
                    code: "report_acknowledged",
                    detail: "This report was acknowledged already.".into(),
                });
            }
            db::audit::by_user(
                conn,
                &auth,
                "report_acknowledged",
                "report",
                &id,
                Some(&s.commune_id),
                serde_json::json!({}),
            )?;
            store::find_submission(conn, &id)?.ok_or_else(report_not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(submission_response(&s)))
}

#[derive(Serialize, ToSchema)]
pub struct SubmissionList {
    pub items: Vec<SubmissionResponse>,
}

/// Reports sent to the city, newest first: every commune's for city oversight and administrators,
/// the commune's own for its chairman and offices.
#[utoipa::path(tag = "reports", security(("bearer" = [])),
    responses(
        (status = 200, description = "Submissions", body = SubmissionList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Village users do not read reports", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/report-submissions")]
pub async fn list_submissions(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::City, Role::Chairman, Role::Department])?;
    let commune = match auth.role {
        Role::Admin => None,
        Role::City => auth.commune_id.clone(),
        _ => Some(auth.commune_id.clone().ok_or(ApiError::Forbidden {
            code: "no_scope",
            detail: "No commune.".into(),
        })?),
    };
    let items = db::run(&state.pool, move |conn| {
        Ok(store::submissions(conn, commune.as_deref())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SubmissionList {
        items: items.iter().map(submission_response).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CompareQuery {
    /// `month`, `quarter` (default) or `year`.
    pub period: Option<PeriodKind>,
    /// A day inside the period (default today, Vietnam time).
    pub date: Option<NaiveDate>,
    /// Only these indicators (comma-separated codes).
    pub codes: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CommuneIndicator {
    pub code: String,
    pub current: FigureResponse,
    /// The commune's target for the period, if set.
    pub target_percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct CommuneFigures {
    pub commune_id: String,
    pub name: String,
    pub indicators: Vec<CommuneIndicator>,
}

#[derive(Serialize, ToSchema)]
pub struct CompareResponse {
    pub period: PeriodResponse,
    /// Every commune covered, by name; totals only, never a person.
    pub items: Vec<CommuneFigures>,
}

/// Commune by commune (city oversight and administrators): each indicator's commune total and target.
#[utoipa::path(tag = "stats", params(CompareQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Figures per commune", body = CompareResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not city oversight", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/stats/communes")]
pub async fn compare_communes(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<CompareQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::City])?;
    let q = query.into_inner();
    let period = chosen_period(q.period, q.date);
    let codes: Option<Vec<String>> = q
        .codes
        .as_deref()
        .map(|c| c.split(',').map(|s| s.trim().to_owned()).collect());
    let res = db::run(&state.pool, move |conn| {
        let communes = db::geo::list_communes(conn, auth.commune_id.as_deref(), None, i64::MAX)?;
        let indicators: Vec<q::Indicator> = q::list_indicators(conn, false)?
            .into_iter()
            .filter(|i| codes.as_ref().is_none_or(|c| c.contains(&i.code)))
            .collect();
        let mut items = vec![];
        for c in communes {
            let targets =
                store::targets_of(conn, &c.id, period_kind_str(period.kind), period.start)?;
            let mut shared = stats::Shared::default();
            let mut figures = vec![];
            for indicator in &indicators {
                let counted = indicator.kind != "assisted";
                let mut total = Figure {
                    denominator: counted.then_some(0),
                    ..Figure::default()
                };
                for f in stats::per_village(conn, &mut shared, indicator, &c.id, &period)?.values()
                {
                    total.add(f);
                }
                figures.push(CommuneIndicator {
                    code: indicator.code.clone(),
                    current: figure_response(&total),
                    target_percent: targets
                        .iter()
                        .find(|t| t.indicator_id == indicator.id && t.village_id.is_none())
                        .map(|t| t.target_percent),
                });
            }
            items.push(CommuneFigures {
                commune_id: c.id,
                name: c.name,
                indicators: figures,
            });
        }
        items.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.commune_id.cmp(&b.commune_id))
        });
        Ok(CompareResponse {
            period: period_response(&period),
            items,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(res))
}

// ---------------------------------------------------------------- plans

const TASK_STATUSES: [&str; 4] = ["not_started", "in_progress", "done", "cancelled"];

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTask {
    /// Given by the server to a new task; send it back in an amendment to keep the task.
    pub id: Option<String>,
    #[schema(example = "Tập huấn kỹ năng số cho thành viên Tổ")]
    pub title: String,
    /// The department in charge (`police`, `health`, `education`, `economy`, `culture_social`,
    /// `service_center`, `youth_union`).
    pub department: Option<String>,
    /// A village of the commune in charge.
    pub village_id: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// `not_started` (default), `in_progress`, `done` or `cancelled`.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanContent {
    /// The plan's document number, e.g. `125/KH-UBND`.
    #[schema(example = "125/KH-UBND")]
    pub number: String,
    pub issued_on: NaiveDate,
    /// Who signed it, e.g. `Chủ tịch UBND xã Nguyễn Văn A`.
    pub signer: String,
    /// Purpose and requirements (Markdown).
    pub purpose: String,
    /// At most 200 tasks.
    pub tasks: Vec<PlanTask>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPlan {
    /// `quarter` or `year`.
    pub period: PeriodKind,
    /// A day inside the period.
    pub date: NaiveDate,
    /// Administrators: the commune.
    pub commune_id: Option<String>,
    #[serde(flatten)]
    pub content: PlanContent,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AmendPlan {
    /// The version this amendment was made from; another amendment since then is a 409.
    pub base_version: i32,
    /// What changed and why.
    pub change_note: String,
    #[serde(flatten)]
    pub content: PlanContent,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct PlanVersionResponse {
    pub version: i32,
    pub number: String,
    pub issued_on: NaiveDate,
    pub signer: String,
    pub purpose: String,
    pub tasks: Vec<PlanTask>,
    pub change_note: Option<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct PlanResponse {
    pub id: String,
    pub commune_id: String,
    pub period: PeriodResponse,
    /// The current version.
    pub version: i32,
    pub current: PlanVersionResponse,
    /// Every version, the first first (the current one included).
    pub versions: Vec<PlanVersionResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct PlanSummary {
    pub id: String,
    pub commune_id: String,
    pub period: PeriodResponse,
    pub version: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanSummary>,
}

fn plan_period(p: &Plan) -> Period {
    let kind = if p.period_kind == "year" {
        PeriodKind::Year
    } else {
        PeriodKind::Quarter
    };
    Period::containing(kind, p.period_start)
}

fn version_response(v: &PlanVersion) -> Result<PlanVersionResponse, ApiError> {
    Ok(PlanVersionResponse {
        version: v.version,
        number: v.number.clone(),
        issued_on: v.issued_on,
        signer: v.signer.clone(),
        purpose: v.purpose.clone(),
        tasks: serde_json::from_str(&v.tasks).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("stored plan {} unreadable: {e}", v.plan_id))
        })?,
        change_note: v.change_note.clone(),
        created_by: v.created_by.clone(),
        created_at: paging::utc(v.created_at),
    })
}

fn plan_response(conn: &mut DbConnection, p: &Plan) -> Result<PlanResponse, ApiError> {
    let versions = store::plan_versions(conn, &p.id)?
        .iter()
        .map(version_response)
        .collect::<Result<Vec<_>, _>>()?;
    let current = versions
        .iter()
        .find(|v| v.version == p.version)
        .cloned()
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("plan {} lost its current version", p.id))
        })?;
    Ok(PlanResponse {
        id: p.id.clone(),
        commune_id: p.commune_id.clone(),
        period: period_response(&plan_period(p)),
        version: p.version,
        current,
        versions,
    })
}

/// Checks a plan's content and gives new tasks their ids; returns the tasks as stored.
fn checked_content(
    c: &PlanContent,
    villages: &[String],
    errors: &mut Vec<FieldError>,
) -> Vec<PlanTask> {
    let text = |field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>| {
        let n = value.trim().chars().count();
        if n == 0 || n > max {
            errors.push(FieldError::new(
                field,
                "length",
                format!("1 to {max} characters"),
            ));
        }
    };
    text("number", &c.number, 50, errors);
    text("signer", &c.signer, 200, errors);
    text("purpose", &c.purpose, 20_000, errors);
    if c.tasks.len() > 200 {
        errors.push(FieldError::new("tasks", "length", "at most 200 tasks"));
    }
    let departments: Vec<&str> = Department::ALL.iter().map(|d| d.as_str()).collect();
    c.tasks
        .iter()
        .enumerate()
        .map(|(n, t)| {
            text(&format!("tasks[{n}].title"), &t.title, 500, errors);
            if t.department
                .as_deref()
                .is_some_and(|d| !departments.contains(&d))
            {
                errors.push(FieldError::new(
                    format!("tasks[{n}].department"),
                    "unknown",
                    format!("one of {}", departments.join(", ")),
                ));
            }
            if t.village_id.as_ref().is_some_and(|v| !villages.contains(v)) {
                errors.push(FieldError::new(
                    format!("tasks[{n}].village_id"),
                    "unknown",
                    "a village of the commune",
                ));
            }
            let status = t.status.clone().unwrap_or_else(|| "not_started".into());
            if !TASK_STATUSES.contains(&status.as_str()) {
                errors.push(FieldError::new(
                    format!("tasks[{n}].status"),
                    "unknown",
                    TASK_STATUSES.join(", "),
                ));
            }
            PlanTask {
                id: Some(t.id.clone().unwrap_or_else(db::new_id)),
                title: t.title.trim().to_owned(),
                department: t.department.clone(),
                village_id: t.village_id.clone(),
                due_on: t.due_on,
                status: Some(status),
            }
        })
        .collect()
}

fn new_version(
    plan_id: &str,
    version: i32,
    c: &PlanContent,
    tasks: &[PlanTask],
    change_note: Option<String>,
    by: &str,
) -> Result<PlanVersion, ApiError> {
    Ok(PlanVersion {
        plan_id: plan_id.to_owned(),
        version,
        number: c.number.trim().to_owned(),
        issued_on: c.issued_on,
        signer: c.signer.trim().to_owned(),
        purpose: c.purpose.trim().to_owned(),
        tasks: serde_json::to_string(tasks).map_err(ApiError::internal)?,
        change_note,
        created_by: by.to_owned(),
        created_at: db::now(),
    })
}

fn plan_not_found() -> ApiError {
    ApiError::NotFound {
        code: "plan_not_found",
        detail: "No such plan in your scope.".into(),
    }
}

/// Whose plans the caller reads: offices and village leaders their commune's, the city every
/// commune's (or its one), administrators all.
fn plan_reader_commune(auth: &AuthUser) -> Result<Option<String>, ApiError> {
    match auth.role {
        Role::Admin => Ok(None),
        Role::City => Ok(auth.commune_id.clone()),
        Role::Chairman | Role::Department | Role::VillageLeader => auth
            .commune_id
            .clone()
            .map(Some)
            .ok_or(ApiError::Forbidden {
                code: "no_scope",
                detail: "No commune.".into(),
            }),
        Role::Volunteer => Err(crate::access::role_not_allowed(
            "Volunteers see their tasks through their village leader.",
        )),
    }
}

fn readable_plan(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Plan, ApiError> {
    let scope = plan_reader_commune(auth)?;
    store::find_plan(conn, id)?
        .filter(|p| scope.as_ref().is_none_or(|c| *c == p.commune_id))
        .ok_or_else(plan_not_found)
}

/// Issues the commune's plan for a quarter or a year (the chairman and the culture-social office).
#[utoipa::path(tag = "plans", request_body = NewPlan, security(("bearer" = [])),
    responses(
        (status = 201, description = "Issued as version 1", body = PlanResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a plan keeper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The period has a plan: amend it", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/plans")]
pub async fn create_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<NewPlan>,
) -> Result<HttpResponse, ApiError> {
    require_planner(&auth)?;
    let b = body.into_inner();
    let mut errors = vec![];
    if !matches!(b.period, PeriodKind::Quarter | PeriodKind::Year) {
        errors.push(FieldError::new("period", "unsupported", "quarter or year"));
    }
    let period = Period::containing(b.period, b.date);
    let res = db::run(&state.pool, move |conn| {
        let commune = planner_commune(conn, &auth, b.commune_id.as_deref())?;
        let villages: Vec<String> = db::registry::villages_of_commune(conn, &commune)?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let tasks = checked_content(&b.content, &villages, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let kind = period_kind_str(period.kind);
        db::write_tx(conn, |conn| {
            if store::plan_for(conn, &commune, kind, period.start)?.is_some() {
                return Err(ApiError::Conflict {
                    code: "plan_exists",
                    detail: "This period has a plan already: amend it.".into(),
                });
            }
            let now = db::now();
            let plan = Plan {
                id: db::new_id(),
                commune_id: commune.clone(),
                period_kind: kind.to_owned(),
                period_start: period.start,
                version: 1,
                created_by: auth.id.clone(),
                created_at: now,
                updated_at: now,
            };
            let first = new_version(&plan.id, 1, &b.content, &tasks, None, &auth.id)?;
            store::insert_plan(conn, &plan, &first)?;
            db::audit::by_user(
                conn,
                &auth,
                "plan_issued",
                "plan",
                &plan.id,
                Some(&commune),
                serde_json::json!({"number": first.number, "period": period.label()}),
            )?;
            plan_response(conn, &plan)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(res))
}

/// The plans in the caller's scope, the latest period first.
#[utoipa::path(tag = "plans", security(("bearer" = [])),
    responses(
        (status = 200, description = "Plans", body = PlanList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Volunteers do not read plans", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let scope = plan_reader_commune(&auth)?;
    let plans = db::run(&state.pool, move |conn| {
        Ok(store::list_plans(conn, scope.as_deref())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PlanList {
        items: plans
            .iter()
            .map(|p| PlanSummary {
                id: p.id.clone(),
                commune_id: p.commune_id.clone(),
                period: period_response(&plan_period(p)),
                version: p.version,
                updated_at: paging::utc(p.updated_at),
            })
            .collect(),
    }))
}

/// A plan: its current version and every earlier one.
#[utoipa::path(tag = "plans", params(("id" = String, Path, description = "Plan id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The plan with all its versions", body = PlanResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Volunteers do not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/plans/{id}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let res = db::run(&state.pool, move |conn| {
        let p = readable_plan(conn, &auth, &id)?;
        plan_response(conn, &p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Amends a plan (the chairman and the culture-social office): the new content becomes the next
/// version; every earlier version is kept as it was.
#[utoipa::path(tag = "plans", request_body = AmendPlan, params(("id" = String, Path, description = "Plan id")), security(("bearer" = [])),
    responses(
        (status = 201, description = "Amended: the new version is current", body = PlanResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a plan keeper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Amended by someone else since `base_version`", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/plans/{id}/versions")]
pub async fn amend_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<AmendPlan>,
) -> Result<HttpResponse, ApiError> {
    require_planner(&auth)?;
    let id = path.into_inner();
    let b = body.into_inner();
    let res = db::run(&state.pool, move |conn| {
        let p = store::find_plan(conn, &id)?
            .filter(|p| {
                auth.role == Role::Admin || auth.commune_id.as_deref() == Some(&p.commune_id)
            })
            .ok_or_else(plan_not_found)?;
        let villages: Vec<String> = db::registry::villages_of_commune(conn, &p.commune_id)?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let mut errors = vec![];
        let tasks = checked_content(&b.content, &villages, &mut errors);
        let note = b.change_note.trim().to_owned();
        if note.is_empty() || note.chars().count() > 2000 {
            errors.push(FieldError::new(
                "change_note",
                "length",
                "1 to 2000 characters",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        db::write_tx(conn, |conn| {
            let stale = || ApiError::Conflict {
                code: "plan_changed",
                detail: "The plan was amended since the version you started from: reload it."
                    .into(),
            };
            if b.base_version != p.version {
                return Err(stale());
            }
            let v = new_version(
                &p.id,
                p.version + 1,
                &b.content,
                &tasks,
                Some(note.clone()),
                &auth.id,
            )?;
            if !store::amend_plan(conn, &v)? {
                return Err(stale());
            }
            db::audit::by_user(
                conn,
                &auth,
                "plan_amended",
                "plan",
                &p.id,
                Some(&p.commune_id),
                serde_json::json!({"version": v.version, "change_note": note}),
            )?;
            let p = store::find_plan(conn, &p.id)?.ok_or_else(plan_not_found)?;
            plan_response(conn, &p)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(res))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(numerator: i64, denominator: i64) -> Figure {
        Figure {
            numerator,
            denominator: Some(denominator),
            unknown_age: 0,
        }
    }

    #[test]
    fn the_gap_is_the_people_still_needed_rounded_up() {
        assert_eq!(gap(&figure(1, 2), 80.0), 1); // 80 % of 2 is 1.6: 2 needed
        assert_eq!(gap(&figure(2, 2), 80.0), 0);
        assert_eq!(gap(&figure(0, 3), 66.7), 3); // 2.001: 3 needed
        assert_eq!(gap(&figure(0, 3), 66.6), 2); // 1.998: 2 needed
        assert_eq!(gap(&figure(0, 1000), 80.0), 800);
        assert_eq!(gap(&figure(900, 1000), 80.0), 0);
        assert_eq!(gap(&figure(0, 0), 80.0), 0);
    }

    #[test]
    fn totals_are_exact_sums_of_whole_dong_without_voided_entries() {
        let entry = |direction: &str, source: &str, category: &str, amount: i64, voided: bool| {
            FundingEntry {
                id: db::new_id(),
                commune_id: "c".into(),
                direction: direction.into(),
                source: source.into(),
                category: category.into(),
                party: "p".into(),
                description: None,
                amount_vnd: amount,
                occurred_on: NaiveDate::from_ymd_opt(2026, 10, 1).expect("date"),
                created_by: "u".into(),
                created_at: db::now(),
                voided_at: voided.then(db::now),
                voided_by: None,
                void_reason: None,
            }
        };
        let entries = [
            entry("received", "sponsorship", "cash", 999_999_999_999, false),
            entry("received", "state_budget", "cash", 1, false),
            entry("received", "sponsorship", "cash", 5_000_000, true),
            entry("spent", "state_budget", "training", 3_333_333, false),
            entry("spent", "sponsorship", "materials", 1_000_001, false),
        ];
        let t = funding_totals(&entries);
        assert_eq!(t.received_vnd, 1_000_000_000_000);
        assert_eq!(t.spent_vnd, 4_333_334);
        assert_eq!(t.balance_vnd, 999_995_666_666);
        assert_eq!(t.received_by_source["sponsorship"], 999_999_999_999);
        assert_eq!(t.spent_by_category["training"], 3_333_333);
        assert_eq!(t.spent_by_source["sponsorship"], 1_000_001);
    }
}
