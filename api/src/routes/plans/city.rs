//! The city's side: a chairman submits an approved report upward, the city acknowledges it, lists
//! the submissions and compares its communes.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::plans::{self as store, Submission};
use crate::db::{self, stats as q};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::routes::paging;
use crate::routes::stats::{figure_response, period_response, FigureResponse, PeriodResponse};
use crate::state::AppState;
use crate::stats::{self, Figure, PeriodKind};

use super::targets::{chosen_period, period_kind_str};

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

pub(super) fn submission_response(s: &Submission) -> SubmissionResponse {
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

pub(super) fn report_not_found() -> ApiError {
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
