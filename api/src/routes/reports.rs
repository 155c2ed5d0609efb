//! The quarterly and annual report of the commune's CDT teams: the culture-social office prepares it
//! (again and again while it is a draft), the chairman approves it or returns it with a note (the
//! office prepares it again), and an approved report is frozen.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::auth::AuthUser;
use crate::db::stats::{self as store, Report};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::stats::report::{self, ReportContent};
use crate::stats::{Period, PeriodKind};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(prepare_report)
        .service(list_reports)
        .service(get_report)
        .service(approve_report)
        .service(return_report)
        .service(report_xlsx)
        .service(report_print)
        .service(report_pdf);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    Quarter,
    Year,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareReport {
    pub period: ReportPeriod,
    /// A day inside the period (Vietnam time).
    pub date: NaiveDate,
    /// Administrators name the commune; others prepare their own.
    pub commune_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportSummary {
    pub id: String,
    pub commune_id: String,
    pub period_kind: ReportPeriod,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// `draft`, `returned` (the chairman sent it back; preparing it again makes it a draft) or
    /// `approved`.
    pub status: String,
    pub prepared_by: String,
    pub prepared_at: chrono::DateTime<chrono::Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The chairman's last return, kept after the report is prepared again.
    pub returned_by: Option<String>,
    pub returned_at: Option<chrono::DateTime<chrono::Utc>>,
    pub return_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportResponse {
    #[serde(flatten)]
    pub summary: ReportSummary,
    pub content: ReportContent,
}

#[derive(Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportSummary>,
}

fn summary(r: &Report) -> ReportSummary {
    ReportSummary {
        id: r.id.clone(),
        commune_id: r.commune_id.clone(),
        period_kind: if r.period_kind == "year" {
            ReportPeriod::Year
        } else {
            ReportPeriod::Quarter
        },
        period_start: r.period_start,
        period_end: r.period_end,
        status: if r.is_returned() {
            "returned".into()
        } else {
            r.status.clone()
        },
        prepared_by: r.prepared_by.clone(),
        prepared_at: paging::utc(r.prepared_at),
        approved_by: r.approved_by.clone(),
        approved_at: r.approved_at.map(paging::utc),
        returned_by: r.returned_by.clone(),
        returned_at: r.returned_at.map(paging::utc),
        return_note: r.return_note.clone(),
    }
}

fn content(r: &Report) -> Result<ReportContent, ApiError> {
    serde_json::from_str(&r.content)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored report {} unreadable: {e}", r.id)))
}

/// The report with its figures, as the JSON answers give it.
fn full(r: &Report) -> Result<ReportResponse, ApiError> {
    Ok(ReportResponse {
        summary: summary(r),
        content: content(r)?,
    })
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "report_not_found",
        detail: "No such report in your commune.".into(),
    }
}

/// Commune roles and the city read reports; village users do not.
fn readable(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Report, ApiError> {
    let r = store::find_report(conn, id)?.ok_or_else(not_found)?;
    let ok = match auth.role {
        Role::Admin => true,
        // A city view limited to one commune (an API key) reads that commune's only.
        Role::City => {
            r.status == "approved" && auth.commune_id.as_ref().is_none_or(|c| *c == r.commune_id)
        }
        Role::Chairman | Role::Department => auth.commune_id.as_deref() == Some(&r.commune_id),
        Role::VillageLeader | Role::Volunteer => false,
    };
    if ok {
        Ok(r)
    } else {
        Err(not_found())
    }
}

/// Prepares the report of a quarter or year from the data as it is now (the culture-social office,
/// or an administrator): a new draft (201), or the existing draft recomputed (200). An approved
/// report is frozen (409).
#[utoipa::path(tag = "reports", request_body = PrepareReport, security(("bearer" = [])),
    responses(
        (status = 201, description = "Draft created", body = ReportResponse),
        (status = 200, description = "Draft recomputed", body = ReportResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the culture-social office prepares reports", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Approved already: frozen", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/reports")]
pub async fn prepare_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<PrepareReport>,
) -> Result<HttpResponse, ApiError> {
    if !auth.may_prepare_for_chairman() {
        return Err(crate::access::role_not_allowed(
            "The culture-social office prepares the commune's reports.",
        ));
    }
    let b = body.into_inner();
    let commune_id = match (auth.role, b.commune_id.clone(), auth.commune_id.clone()) {
        (Role::Admin, Some(c), _) => c,
        (Role::Admin, None, _) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "commune_id",
                "required",
                "which commune",
            )]))
        }
        (_, Some(c), Some(own)) if c != own => return Err(not_found()),
        (_, _, Some(own)) => own,
        (_, _, None) => return Err(not_found()),
    };
    let kind = match b.period {
        ReportPeriod::Quarter => PeriodKind::Quarter,
        ReportPeriod::Year => PeriodKind::Year,
    };
    let period = Period::containing(kind, b.date);
    let (created, report) = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let commune = db::geo::find_commune(conn, &commune_id)?.ok_or_else(not_found)?;
            let snapshot = report::compute(conn, &commune.id, &commune.name, &period)?;
            let text = serde_json::to_string(&snapshot)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("report json: {e}")))?;
            let now = db::now();
            let kind = if kind == PeriodKind::Year {
                "year"
            } else {
                "quarter"
            };
            let existing = store::find_report_for(conn, &commune.id, kind, period.start)?;
            let created = match existing {
                Some(r) if r.status == "approved" => {
                    return Err(ApiError::Conflict {
                        code: "report_frozen",
                        detail: "This report was approved; it no longer changes.".into(),
                    })
                }
                Some(r) => {
                    if store::refresh_draft(conn, &r.id, &text, &auth.id, now)? != 1 {
                        return Err(ApiError::Conflict {
                            code: "report_frozen",
                            detail: "This report was approved meanwhile.".into(),
                        });
                    }
                    None
                }
                None => {
                    let r = Report {
                        id: db::new_id(),
                        commune_id: commune.id.clone(),
                        period_kind: kind.into(),
                        period_start: period.start,
                        period_end: period.last_day(),
                        status: "draft".into(),
                        content: text,
                        prepared_by: auth.id.clone(),
                        prepared_at: now,
                        approved_by: None,
                        approved_at: None,
                        created_at: now,
                        updated_at: now,
                        returned_by: None,
                        returned_at: None,
                        return_note: None,
                    };
                    store::insert_report(conn, &r)?;
                    Some(r.id)
                }
            };
            let r = store::find_report_for(conn, &commune.id, kind, period.start)?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("report just stored is gone")))?;
            db::audit::by_user(
                conn,
                &auth,
                "report_prepared",
                "report",
                &r.id,
                Some(&r.commune_id),
                serde_json::json!({ "period": period.label() }),
            )?;
            Ok::<_, ApiError>((created.is_some(), r))
        })
    })
    .await?;
    let body = full(&report)?;
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// Administrators and the city name the commune.
    pub commune_id: Option<String>,
}

/// The commune's reports, newest period first (commune roles; the city sees approved ones).
#[utoipa::path(tag = "reports", params(ReportQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Reports", body = ReportList),
        (status = 400, description = "Which commune", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Village users do not read commune reports", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::City, Role::Chairman, Role::Department])?;
    let commune = match (auth.role, query.into_inner().commune_id) {
        (Role::City, named) if auth.commune_id.is_some() => {
            let own = auth.commune_id.clone().unwrap_or_default();
            if named.is_some_and(|c| c != own) {
                return Err(not_found());
            }
            own
        }
        (Role::Admin | Role::City, Some(c)) => c,
        (Role::Admin | Role::City, None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "commune_id",
                "required",
                "which commune",
            )]))
        }
        _ => auth.commune_id.clone().unwrap_or_default(),
    };
    let city = auth.role == Role::City;
    let rows = db::run(&state.pool, move |conn| {
        Ok(store::list_reports(conn, &commune)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReportList {
        items: rows
            .iter()
            .filter(|r| !city || r.status == "approved")
            .map(summary)
            .collect(),
    }))
}

/// `?format=` of `GET /reports/{id}` (DESIGN §4): the same files as the `/xlsx`, `/print` and `/pdf`
/// paths.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Xlsx,
    Html,
    Pdf,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFormatQuery {
    /// `json` (the default), `xlsx`, `html` (the printable page) or `pdf`.
    pub format: Option<ReportFormat>,
}

/// One report with its figures, or one of its files with `?format=`.
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id"), ReportFormatQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "The report (or the file `format` asks for)", content((ReportResponse = "application/json"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("text/html"), ("application/pdf"))),
        (status = 400, description = "Unknown format", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/reports/{id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    query: web::Query<ReportFormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let r = db::run(&state.pool, move |conn| readable(conn, &auth, &id)).await?;
    match query.format.unwrap_or(ReportFormat::Json) {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(full(&r)?)),
        ReportFormat::Xlsx => xlsx_file(&r),
        ReportFormat::Html => print_page(&r),
        ReportFormat::Pdf => pdf_file(&r).await,
    }
}

/// Approves a draft (the commune's chairman): from now on it never changes. A returned report is
/// prepared again first (409 `report_returned`).
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Approved", body = ReportResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the chairman approves", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Approved already, or returned and not prepared again", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/reports/{id}/approve")]
pub async fn approve_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let r = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let r = readable(conn, &auth, &id)?;
            auth.require_role(&[Role::Chairman])?;
            if r.is_returned() {
                return Err(returned());
            }
            if store::approve_report(conn, &r.id, &auth.id, db::now())? != 1 {
                return Err(ApiError::Conflict {
                    code: "report_frozen",
                    detail: "This report was approved already.".into(),
                });
            }
            db::webhooks::enqueue(
                conn,
                "report.approved",
                Some(&r.commune_id),
                serde_json::json!({
                    "report_id": r.id,
                    "period_kind": r.period_kind,
                    "period_start": r.period_start,
                    "period_end": r.period_end,
                }),
            )?;
            db::audit::by_user(
                conn,
                &auth,
                "report_approved",
                "report",
                &r.id,
                Some(&r.commune_id),
                serde_json::json!({}),
            )?;
            store::find_report(conn, &r.id)?.ok_or_else(not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(full(&r)?))
}

fn returned() -> ApiError {
    ApiError::Conflict {
        code: "report_returned",
        detail: "This report was returned to the culture-social office; it is approved once prepared again.".into(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnReport {
    /// What the office should change (1 to 500 characters), shown on the report until it is
    /// approved and kept in the audit log.
    pub reason: String,
}

/// Returns a draft to the culture-social office with a note (the commune's chairman). It cannot be
/// approved until the office prepares it again.
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id")), request_body = ReturnReport, security(("bearer" = [])),
    responses(
        (status = 200, description = "Returned", body = ReportResponse),
        (status = 400, description = "No reason given", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the chairman returns reports", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your commune", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Approved already, or returned already", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/reports/{id}/return")]
pub async fn return_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<ReturnReport>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let reason = super::required_reason(&body.into_inner().reason)?;
    let r = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let r = readable(conn, &auth, &id)?;
            auth.require_role(&[Role::Chairman])?;
            if r.is_returned() {
                return Err(returned());
            }
            if store::return_report(conn, &r.id, &auth.id, &reason, db::now())? != 1 {
                return Err(ApiError::Conflict {
                    code: "report_frozen",
                    detail: "This report was approved already.".into(),
                });
            }
            db::audit::by_user(
                conn,
                &auth,
                "report_returned",
                "report",
                &r.id,
                Some(&r.commune_id),
                serde_json::json!({ "reason": reason }),
            )?;
            store::find_report(conn, &r.id)?.ok_or_else(not_found)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(full(&r)?))
}

fn file_name(r: &Report, ext: &str) -> String {
    format!("bao-cao-cds-{}-{}.{ext}", r.period_kind, r.period_start)
}

/// The report as an XLSX workbook (indicators per village, activity).
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id")), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/reports/{id}/xlsx")]
pub async fn report_xlsx(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let r = db::run(&state.pool, move |conn| readable(conn, &auth, &id)).await?;
    xlsx_file(&r)
}

fn xlsx_file(r: &Report) -> Result<HttpResponse, ApiError> {
    let bytes = report::xlsx(&content(r)?, r.status == "approved")
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("report xlsx: {e}")))?;
    Ok(download(
        r,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        bytes,
    ))
}

/// A report file as a download named after its period.
fn download(r: &Report, content_type: &str, ext: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file_name(r, ext)),
        ))
        .body(bytes)
}

/// The report as an A4 PDF laid out like an administrative report, with the fonts embedded.
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id")), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "PDF document", content_type = "application/pdf"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/reports/{id}/pdf")]
pub async fn report_pdf(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let r = db::run(&state.pool, move |conn| readable(conn, &auth, &id)).await?;
    pdf_file(&r).await
}

async fn pdf_file(r: &Report) -> Result<HttpResponse, ApiError> {
    let content = content(r)?;
    let dated = report::dated(r.prepared_at, r.approved_at);
    let approved = r.status == "approved";
    // Shaping and subsetting take a few milliseconds of CPU: off the async workers.
    let bytes = web::block(move || crate::stats::report_pdf::pdf(&content, approved, dated))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("report pdf: {e}")))?
        .map_err(ApiError::Internal)?;
    Ok(download(r, "application/pdf", "pdf", bytes))
}

/// The report as a printable A4 page (print it, or save it as PDF from the browser).
#[utoipa::path(tag = "reports", params(("id" = String, Path, description = "Report id")), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "HTML page", content_type = "text/html"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/reports/{id}/print")]
pub async fn report_print(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let r = db::run(&state.pool, move |conn| readable(conn, &auth, &id)).await?;
    print_page(&r)
}

fn print_page(r: &Report) -> Result<HttpResponse, ApiError> {
    let page = report::html(
        &content(r)?,
        r.status == "approved",
        report::dated(r.prepared_at, r.approved_at),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page))
}
