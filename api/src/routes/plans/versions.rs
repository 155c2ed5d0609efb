//! The commune's plan itself (number, date, signer, tasks per department and village) and its
//! amendments, every version kept.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::plans::{self as store, Plan, PlanVersion};
use crate::db::{self, DbConnection};
use crate::domain::{Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::routes::paging;
use crate::routes::stats::{period_response, PeriodResponse};
use crate::state::AppState;
use crate::stats::{Period, PeriodKind};

use super::targets::period_kind_str;
use super::{planner_commune, require_planner};

pub(super) const TASK_STATUSES: [&str; 4] = ["not_started", "in_progress", "done", "cancelled"];

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

pub(super) fn plan_period(p: &Plan) -> Period {
    let kind = if p.period_kind == "year" {
        PeriodKind::Year
    } else {
        PeriodKind::Quarter
    };
    Period::containing(kind, p.period_start)
}

pub(super) fn version_response(v: &PlanVersion) -> Result<PlanVersionResponse, ApiError> {
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

pub(super) fn plan_response(conn: &mut DbConnection, p: &Plan) -> Result<PlanResponse, ApiError> {
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
pub(super) fn checked_content(
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

pub(super) fn new_version(
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

pub(super) fn plan_not_found() -> ApiError {
    ApiError::NotFound {
        code: "plan_not_found",
        detail: "No such plan in your scope.".into(),
    }
}

/// Whose plans the caller reads: offices and village leaders their commune's, the city every
/// commune's (or its one), administrators all.
pub(super) fn plan_reader_commune(auth: &AuthUser) -> Result<Option<String>, ApiError> {
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

pub(super) fn readable_plan(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<Plan, ApiError> {
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
    use crate::db::plans::FundingEntry;
    use crate::stats::report::funding_totals;
    use crate::stats::{gap, Figure};

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
