//! Indicators (administrators add and edit them as data) and their figures: per commune, village or
//! volunteer, for a week, month, quarter or year in Vietnam time, with the previous period for the
//! trend and the list of who is still missing behind each number.

use std::collections::HashMap;

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::exports::{export_file, ExportFormat};
use super::paging::{self, PageQuery};
use crate::auth::AuthUser;
use crate::db::registry::Household;
use crate::db::stats::{self as store, Indicator, IndicatorChangeset, MissingKey, MissingQuery};
use crate::db::{self, DbConnection};
use crate::domain::{Code, Department, DisplayName, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::stats::{self, Figure, Period, PeriodKind};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_indicators)
        .service(create_indicator)
        .service(update_indicator)
        .service(indicator_figures)
        .service(activity)
        .service(missing);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// Subjects whose ledger says done, over the population (`level`, `min_age`) minus `not_applicable`.
    Adoption,
    /// Households visited at least once in the period, over all households.
    Visited,
    /// A count of items assisted (done or assisted) for the service in the period; no denominator.
    Assisted,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorResponse {
    pub id: String,
    #[schema(example = "adults_vneid_level2")]
    pub code: String,
    #[schema(example = "Người trưởng thành (từ 18 tuổi) có định danh điện tử VNeID mức 2")]
    pub name_vi: String,
    pub name_en: String,
    /// The department that owns the figure.
    pub department: Department,
    pub kind: IndicatorKind,
    /// The service counted (none for `visited`).
    pub service_code: Option<String>,
    /// `person` or `household`.
    pub level: String,
    /// Age reached during the period for a person to count (none: everyone).
    pub min_age: Option<i32>,
    /// The plan's target, in percent.
    pub target_percent: Option<f64>,
    pub sort_order: i32,
    pub retired: bool,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorList {
    pub items: Vec<IndicatorResponse>,
}

fn indicator_response(i: Indicator) -> Result<IndicatorResponse, ApiError> {
    Ok(IndicatorResponse {
        department: crate::domain::stored(Department::parse(&i.department))?,
        kind: match i.kind.as_str() {
            "adoption" => IndicatorKind::Adoption,
            "visited" => IndicatorKind::Visited,
            "assisted" => IndicatorKind::Assisted,
            other => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "unknown stored indicator kind {other:?}"
                )))
            }
        },
        retired: i.retired_at.is_some(),
        id: i.id,
        code: i.code,
        name_vi: i.name_vi,
        name_en: i.name_en,
        service_code: i.service_code,
        level: i.level,
        min_age: i.min_age,
        target_percent: i.target_percent,
        sort_order: i.sort_order,
    })
}

/// The indicators, in display order (everyone signed in).
#[utoipa::path(tag = "stats", security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Indicators", body = IndicatorList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/indicators")]
pub async fn list_indicators(
    state: web::Data<AppState>,
    _auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let rows = db::run(&state.pool, |conn| Ok(store::list_indicators(conn, true)?)).await?;
    Ok(HttpResponse::Ok().json(IndicatorList {
        items: rows
            .into_iter()
            .map(indicator_response)
            .collect::<Result<_, _>>()?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIndicator {
    #[schema(example = "adults_e_wallet")]
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub department: Department,
    pub kind: IndicatorKind,
    /// Required unless `kind` is `visited`.
    pub service_code: Option<String>,
    /// For `adoption`, taken from the service; otherwise `household` for `visited`, `person` else.
    pub min_age: Option<i32>,
    pub target_percent: Option<f64>,
    pub sort_order: Option<i32>,
}

fn check_numbers(min_age: Option<i32>, target: Option<f64>, errors: &mut Vec<FieldError>) {
    if min_age.is_some_and(|a| !(0..=120).contains(&a)) {
        errors.push(FieldError::new(
            "min_age",
            "out_of_range",
            "an age is between 0 and 120",
        ));
    }
    if target.is_some_and(|t| !(0.0..=100.0).contains(&t) || t.is_nan()) {
        errors.push(FieldError::new(
            "target_percent",
            "out_of_range",
            "a target is between 0 and 100",
        ));
    }
}

/// Adds an indicator (administrators); it is computed at once, no code change needed.
#[utoipa::path(tag = "stats", request_body = CreateIndicator, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = IndicatorResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/indicators")]
pub async fn create_indicator(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateIndicator>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let code = Code::parse(&b.code, "code")
        .map_err(|e| errors.push(e))
        .ok();
    let name_vi = DisplayName::parse(&b.name_vi, "name_vi")
        .map_err(|e| errors.push(e))
        .ok();
    let name_en = DisplayName::parse(&b.name_en, "name_en")
        .map_err(|e| errors.push(e))
        .ok();
    check_numbers(b.min_age, b.target_percent, &mut errors);
    match (b.kind, &b.service_code) {
        (IndicatorKind::Visited, Some(_)) => errors.push(FieldError::new(
            "service_code",
            "not_allowed",
            "a visit indicator counts households, not a service",
        )),
        (IndicatorKind::Adoption | IndicatorKind::Assisted, None) => errors.push(FieldError::new(
            "service_code",
            "required",
            "which service to count",
        )),
        _ => {}
    }
    let (Some(code), Some(name_vi), Some(name_en), true) =
        (code, name_vi, name_en, errors.is_empty())
    else {
        return Err(ApiError::validation(errors));
    };
    let created = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            if store::find_indicator_by_code(conn, code.as_str())?.is_some() {
                return Err(ApiError::Conflict {
                    code: "code_taken",
                    detail: "An indicator with this code exists.".into(),
                });
            }
            let service = match &b.service_code {
                None => None,
                Some(s) => Some(db::registry::find_service_by_code(conn, s)?.ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new(
                        "service_code",
                        "unknown_service",
                        "no such service",
                    )])
                })?),
            };
            let level = match (&service, b.kind) {
                (Some(s), IndicatorKind::Adoption) => s.level.clone(),
                (_, IndicatorKind::Visited) => "household".into(),
                _ => "person".into(),
            };
            if level == "household" && b.min_age.is_some() {
                return Err(ApiError::validation(vec![FieldError::new(
                    "min_age",
                    "not_allowed",
                    "households have no age",
                )]));
            }
            let id = db::new_id();
            let now = db::now();
            let kind = serde_json::to_value(b.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            store::insert_indicator(
                conn,
                &store::NewIndicator {
                    id: &id,
                    code: code.as_str(),
                    name_vi: name_vi.as_str(),
                    name_en: name_en.as_str(),
                    department: b.department.as_str(),
                    kind: &kind,
                    service_code: b.service_code.as_deref(),
                    level: &level,
                    min_age: b.min_age,
                    target_percent: b.target_percent,
                    sort_order: b.sort_order.unwrap_or(100),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            db::audit::by_user(
                conn,
                &auth,
                "indicator_created",
                "indicator",
                &id,
                None,
                serde_json::json!({ "code": code.as_str() }),
            )?;
            store::find_indicator(conn, &id)?.ok_or(ApiError::Internal(anyhow::anyhow!(
                "the indicator just stored is gone"
            )))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(indicator_response(created)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIndicator {
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub department: Option<Department>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub min_age: Option<Option<i32>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<f64>)]
    pub target_percent: Option<Option<f64>>,
    pub sort_order: Option<i32>,
    /// `true` retires the indicator, `false` brings it back.
    pub retired: Option<bool>,
}

/// Edits an indicator (administrators).
#[utoipa::path(tag = "stats", request_body = UpdateIndicator, security(("bearer" = [])),
    params(("id" = String, Path, description = "Indicator id")),
    responses(
        (status = 200, description = "Updated", body = IndicatorResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such indicator", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/indicators/{id}")]
pub async fn update_indicator(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateIndicator>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    let b = body.into_inner();
    let mut errors = vec![];
    let name_vi = super::optional_name(b.name_vi.as_deref(), "name_vi", &mut errors);
    let name_en = super::optional_name(b.name_en.as_deref(), "name_en", &mut errors);
    check_numbers(b.min_age.flatten(), b.target_percent.flatten(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let updated = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let current = store::find_indicator(conn, &id)?.ok_or_else(|| ApiError::NotFound {
                code: "indicator_not_found",
                detail: "No such indicator.".into(),
            })?;
            if current.level == "household" && b.min_age.flatten().is_some() {
                return Err(ApiError::validation(vec![FieldError::new(
                    "min_age",
                    "not_allowed",
                    "households have no age",
                )]));
            }
            let now = db::now();
            let changes = IndicatorChangeset {
                name_vi: name_vi.map(|n| n.as_str().to_owned()),
                name_en: name_en.map(|n| n.as_str().to_owned()),
                department: b.department.map(|d| d.as_str().to_owned()),
                min_age: b.min_age,
                target_percent: b.target_percent,
                sort_order: b.sort_order,
                retired_at: b.retired.map(|r| r.then_some(now)),
                updated_at: Some(now),
            };
            store::update_indicator(conn, &id, &changes)?;
            db::audit::by_user(
                conn,
                &auth,
                "indicator_updated",
                "indicator",
                &id,
                None,
                serde_json::json!({ "code": current.code }),
            )?;
            store::find_indicator(conn, &id)?.ok_or(ApiError::Internal(anyhow::anyhow!(
                "the indicator just updated is gone"
            )))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(indicator_response(updated)?))
}

// ---------------------------------------------------------------- figures

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One total for the scope.
    None,
    /// One row per village in scope.
    Village,
    /// One row per volunteer (what each did in the period).
    Volunteer,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FiguresQuery {
    /// `week`, `month`, `quarter` (default) or `year`.
    pub period: Option<PeriodKind>,
    /// A day inside the period, `YYYY-MM-DD` in Vietnam time (default today).
    pub date: Option<NaiveDate>,
    /// The commune; required for administrators and city oversight, otherwise the caller's.
    pub commune_id: Option<String>,
    /// One village of the commune.
    pub village_id: Option<String>,
    /// `none` (default), `village` or `volunteer`.
    pub group_by: Option<GroupBy>,
    /// Only these indicators (comma-separated codes).
    pub codes: Option<String>,
    /// `csv` or `xlsx`: the figures as a file (audited) instead of JSON.
    pub format: Option<ExportFormat>,
}

#[derive(Serialize, ToSchema)]
pub struct PeriodResponse {
    pub kind: PeriodKind,
    #[schema(example = "2026-Q4")]
    pub label: String,
    /// First day (Vietnam time).
    pub start: NaiveDate,
    /// Last day (Vietnam time).
    pub last_day: NaiveDate,
}

pub(crate) fn period_response(p: &Period) -> PeriodResponse {
    PeriodResponse {
        kind: p.kind,
        label: p.label(),
        start: p.start,
        last_day: p.last_day(),
    }
}

#[derive(Serialize, ToSchema, Clone)]
pub struct FigureResponse {
    pub numerator: i64,
    /// None for count-only indicators.
    pub denominator: Option<i64>,
    /// One decimal; none without a denominator.
    pub percent: Option<f64>,
    /// People left out of an age-limited figure because their birth year is not recorded.
    pub unknown_age: i64,
}

pub(crate) fn figure_response(f: &Figure) -> FigureResponse {
    FigureResponse {
        numerator: f.numerator,
        denominator: f.denominator,
        percent: f.percent(),
        unknown_age: f.unknown_age,
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupFigures {
    /// Village id or user id.
    pub id: String,
    /// Village name or the volunteer's display name.
    pub name: String,
    pub current: FigureResponse,
    /// Villages only: the previous period.
    pub previous: Option<FigureResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorFigures {
    pub indicator: IndicatorResponse,
    /// The caller's department owns it (listed first).
    pub own: bool,
    pub current: FigureResponse,
    pub previous: FigureResponse,
    /// Percentage points gained since the previous period.
    pub trend_points: Option<f64>,
    pub groups: Vec<GroupFigures>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresResponse {
    pub commune_id: String,
    pub village_ids: Vec<String>,
    pub period: PeriodResponse,
    pub previous_period: PeriodResponse,
    pub items: Vec<IndicatorFigures>,
}

/// The commune and villages whose figures the caller may read.
pub(crate) fn figure_scope(
    conn: &mut DbConnection,
    auth: &AuthUser,
    commune_id: Option<&str>,
    village_id: Option<&str>,
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let not_found = || ApiError::NotFound {
        code: "not_found",
        detail: "No such commune or village in your scope.".into(),
    };
    let commune = match (auth.role, auth.commune_id.as_deref()) {
        // A city view limited to one commune (an API key with a commune).
        (Role::City, Some(own)) => {
            if commune_id.is_some_and(|c| c != own) {
                return Err(not_found());
            }
            own.to_owned()
        }
        (Role::Admin | Role::City, _) => commune_id.map(str::to_owned).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "commune_id",
                "required",
                "which commune",
            )])
        })?,
        _ => {
            let own = auth.commune_id.clone().ok_or_else(not_found)?;
            if commune_id.is_some_and(|c| c != own) {
                return Err(not_found());
            }
            own
        }
    };
    let villages: Vec<(String, String)> = db::registry::villages_of_commune(conn, &commune)?
        .into_iter()
        .filter(|v| match auth.role {
            Role::VillageLeader | Role::Volunteer => auth.village_ids.contains(&v.id),
            _ => true,
        })
        .filter(|v| village_id.is_none_or(|id| id == v.id))
        .map(|v| (v.id, v.name))
        .collect();
    if villages.is_empty() && (village_id.is_some() || !db::geo::commune_exists(conn, &commune)?) {
        return Err(not_found());
    }
    Ok((commune, villages))
}

pub(crate) fn total(
    per_village: &std::collections::BTreeMap<String, Figure>,
    villages: &[(String, String)],
    counted: bool,
) -> Figure {
    let mut t = Figure {
        denominator: counted.then_some(0),
        ..Figure::default()
    };
    for (id, _) in villages {
        if let Some(f) = per_village.get(id) {
            t.add(f);
        }
    }
    t
}

/// Indicator figures for a period and the one before it, for the caller's commune or villages; the
/// caller's own department's indicators first.
#[utoipa::path(tag = "stats", params(FiguresQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Figures, or the table as CSV or XLSX (`format`)", content((FiguresResponse = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Volunteer figures are not for city oversight", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune or village outside your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/stats/indicators")]
pub async fn indicator_figures(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<FiguresQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let period = Period::containing(
        q.period.unwrap_or(PeriodKind::Quarter),
        q.date.unwrap_or_else(stats::period::local_today),
    );
    let previous = period.previous();
    let group_by = q.group_by.unwrap_or(GroupBy::None);
    if group_by == GroupBy::Volunteer && auth.role == Role::City {
        return Err(crate::access::role_not_allowed(
            "City oversight sees figures per commune and village, not per person.",
        ));
    }
    let codes: Option<Vec<String>> = q.codes.as_deref().map(|c| {
        c.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let format = q.format;
    let export_auth = auth.clone();
    let response = db::run(&state.pool, move |conn| {
        let (commune, villages) = figure_scope(
            conn,
            &auth,
            q.commune_id.as_deref(),
            q.village_id.as_deref(),
        )?;
        let village_ids: Vec<String> = villages.iter().map(|(id, _)| id.clone()).collect();
        let mut indicators: Vec<Indicator> = store::list_indicators(conn, false)?
            .into_iter()
            .filter(|i| codes.as_ref().is_none_or(|c| c.contains(&i.code)))
            .collect();
        let own_department = auth.department.map(|d| d.as_str());
        indicators.sort_by_key(|i| (Some(i.department.as_str()) != own_department, i.sort_order));
        let mut items = vec![];
        let mut shared = stats::Shared::default();
        for indicator in indicators {
            let counted = indicator.kind != "assisted";
            let now = stats::per_village(conn, &mut shared, &indicator, &commune, &period)?;
            let before = stats::per_village(conn, &mut shared, &indicator, &commune, &previous)?;
            let current = total(&now, &villages, counted);
            let prior = total(&before, &villages, counted);
            let groups = match group_by {
                GroupBy::None => vec![],
                GroupBy::Village => villages
                    .iter()
                    .map(|(id, name)| GroupFigures {
                        id: id.clone(),
                        name: name.clone(),
                        current: figure_response(&total(
                            &now,
                            &[(id.clone(), name.clone())],
                            counted,
                        )),
                        previous: Some(figure_response(&total(
                            &before,
                            &[(id.clone(), name.clone())],
                            counted,
                        ))),
                    })
                    .collect(),
                GroupBy::Volunteer => {
                    let counts =
                        stats::per_volunteer(conn, &indicator, &commune, &village_ids, &period)?;
                    let names = volunteer_names(conn, counts.keys().cloned().collect())?;
                    let mut rows: Vec<GroupFigures> = counts
                        .into_iter()
                        .map(|(id, n)| GroupFigures {
                            name: names.get(&id).cloned().unwrap_or_default(),
                            id,
                            current: FigureResponse {
                                numerator: n,
                                denominator: None,
                                percent: None,
                                unknown_age: 0,
                            },
                            previous: None,
                        })
                        .collect();
                    rows.sort_by(|a, b| {
                        b.current
                            .numerator
                            .cmp(&a.current.numerator)
                            .then(a.name.cmp(&b.name))
                    });
                    rows
                }
            };
            let trend_points = match (current.percent(), prior.percent()) {
                (Some(a), Some(b)) => Some(((a - b) * 10.0).round() / 10.0),
                _ => None,
            };
            items.push(IndicatorFigures {
                own: Some(indicator.department.as_str()) == own_department,
                indicator: indicator_response(indicator)?,
                current: figure_response(&current),
                previous: figure_response(&prior),
                trend_points,
                groups,
            });
        }
        Ok(FiguresResponse {
            commune_id: commune,
            village_ids,
            period: period_response(&period),
            previous_period: period_response(&previous),
            items,
        })
    })
    .await?;
    let Some(format) = format else {
        return Ok(HttpResponse::Ok().json(response));
    };
    let rows = figure_rows(&response);
    let (label, commune, count) = (
        response.period.label.clone(),
        response.commune_id.clone(),
        rows.len(),
    );
    db::run(&state.pool, move |conn| {
        Ok(db::audit::by_user(
            conn,
            &export_auth,
            "export",
            "indicator_figures",
            &commune,
            Some(&commune),
            serde_json::json!({ "rows": count, "period": label }),
        )?)
    })
    .await?;
    let name = format!("chi-tieu-{}", response.period.label);
    export_file(format, "Chỉ tiêu", &FIGURE_HEADERS, rows, &name).await
}

const FIGURE_HEADERS: [&str; 10] = [
    "STT",
    "Chỉ tiêu",
    "Đơn vị phụ trách",
    "Phạm vi",
    "Đạt",
    "Tổng số",
    "Tỷ lệ (%)",
    "Kỳ trước (%)",
    "Tăng/giảm (điểm %)",
    "Mục tiêu (%)",
];

fn number(n: Option<f64>) -> String {
    n.map(|v| format!("{v:.1}")).unwrap_or_default()
}

/// One row per indicator and scope (the whole scope first, then each group). People read the
/// file: indicators are numbered, not shown by their internal code.
fn figure_rows(r: &FiguresResponse) -> Vec<Vec<String>> {
    let mut rows = vec![];
    for (n, item) in r.items.iter().enumerate() {
        let i = &item.indicator;
        let mut push = |scope: &str, f: &FigureResponse, prev: Option<&FigureResponse>, trend| {
            rows.push(vec![
                (n + 1).to_string(),
                i.name_vi.clone(),
                i.department.name_vi().to_owned(),
                scope.to_owned(),
                f.numerator.to_string(),
                f.denominator.map(|d| d.to_string()).unwrap_or_default(),
                number(f.percent),
                number(prev.and_then(|p| p.percent)),
                number(trend),
                number(i.target_percent),
            ]);
        };
        push(
            "Toàn bộ phạm vi",
            &item.current,
            Some(&item.previous),
            item.trend_points,
        );
        for g in &item.groups {
            let trend = match (
                g.current.percent,
                g.previous.as_ref().and_then(|p| p.percent),
            ) {
                (Some(a), Some(b)) => Some(((a - b) * 10.0).round() / 10.0),
                _ => None,
            };
            push(&g.name, &g.current, g.previous.as_ref(), trend);
        }
    }
    rows
}

fn volunteer_names(
    conn: &mut DbConnection,
    ids: Vec<String>,
) -> Result<HashMap<String, String>, ApiError> {
    Ok(db::users::display_names(conn, &ids)?.into_iter().collect())
}

// ---------------------------------------------------------------- who is missing

#[derive(Debug, Deserialize, IntoParams)]
pub struct MissingParams {
    /// `week`, `month`, `quarter` (default) or `year`.
    pub period: Option<PeriodKind>,
    /// A day inside the period (default today, Vietnam time).
    pub date: Option<NaiveDate>,
    /// The commune; required for administrators.
    pub commune_id: Option<String>,
    /// One village of the commune.
    pub village_id: Option<String>,
    /// `csv` or `xlsx`: the whole list as a file (audited) instead of a JSON page.
    pub format: Option<ExportFormat>,
}

#[derive(Serialize, ToSchema)]
pub struct MissingItem {
    /// `resident` or `household`.
    pub kind: String,
    /// Resident or household id.
    pub id: String,
    pub household_id: String,
    pub village_id: String,
    /// The village's name.
    pub village_name: String,
    /// The household's hamlet (xóm), when recorded.
    pub hamlet: Option<String>,
    /// The household's lane (ngõ); null for roles without personal data.
    pub lane: Option<String>,
    /// The household's house number; null for roles without personal data.
    pub house_number: Option<String>,
    /// The head of the household; null for roles without personal data.
    pub head_name: Option<String>,
    /// The resident's or household head's name; null for roles without personal data.
    pub name: Option<String>,
    pub birth_year: Option<i32>,
    /// The ledger's status at the period's end (`unknown` when none).
    pub status: String,
    /// True when names were withheld for this role.
    pub personal_data_redacted: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MissingPage {
    /// In address order: village, hamlet, lane, house number, then household and resident.
    pub items: Vec<MissingItem>,
    pub next_cursor: Option<String>,
}

/// The most rows one export holds.
const EXPORT_MAX: i64 = 100_000;
const EXPORT_PAGE: i64 = 5_000;

/// One row of a missing list, with its place in the list's order.
struct MissingRow {
    key: MissingKey,
    item: MissingItem,
}

/// Who a row of a missing list is about, before the caller's view of it.
struct Listed {
    kind: &'static str,
    id: String,
    name: String,
    birth_year: Option<i32>,
    status: String,
}

fn missing_row(
    l: Listed,
    h: Household,
    personal: bool,
    villages: &HashMap<String, String>,
) -> MissingRow {
    let key = MissingKey::of(&h, &l.id);
    let village_name = villages.get(&h.village_id).cloned().unwrap_or_default();
    MissingRow {
        key,
        item: MissingItem {
            kind: l.kind.into(),
            id: l.id,
            household_id: h.id,
            village_id: h.village_id,
            village_name,
            hamlet: h.hamlet,
            lane: h.lane.filter(|_| personal),
            house_number: h.house_number.filter(|_| personal),
            head_name: personal.then_some(h.head_name),
            name: personal.then_some(l.name),
            birth_year: l.birth_year,
            status: l.status,
            personal_data_redacted: !personal,
        },
    }
}

/// One page of who is missing behind `indicator`.
fn missing_page(
    conn: &mut DbConnection,
    indicator: &Indicator,
    m: &MissingQuery<'_>,
    period: &Period,
    personal: bool,
    villages: &HashMap<String, String>,
) -> Result<Vec<MissingRow>, ApiError> {
    let service = indicator.service_code.as_deref().unwrap_or_default();
    let row = |l: Listed, h: Household| missing_row(l, h, personal, villages);
    let household = |h: &Household, status: String| Listed {
        kind: "household",
        id: h.id.clone(),
        name: h.head_name.clone(),
        birth_year: None,
        status,
    };
    Ok(match (indicator.kind.as_str(), indicator.level.as_str()) {
        ("adoption", "person") => {
            use chrono::Datelike;
            let born_by = period.last_day().year() - indicator.min_age.unwrap_or(0);
            store::missing_people(conn, m, service, born_by, indicator.min_age.is_some())?
                .into_iter()
                .map(|(r, h, status)| {
                    let listed = Listed {
                        kind: "resident",
                        id: r.id,
                        name: r.full_name,
                        birth_year: r.birth_year,
                        status: status.unwrap_or_else(|| "unknown".into()),
                    };
                    row(listed, h)
                })
                .collect()
        }
        ("adoption", _) => store::missing_households(conn, m, service)?
            .into_iter()
            .map(|(h, status)| row(household(&h, status.unwrap_or_else(|| "unknown".into())), h))
            .collect(),
        _ => store::unvisited_households(conn, m, period.start_utc())?
            .into_iter()
            .map(|h| row(household(&h, "not_visited".into()), h))
            .collect(),
    })
}

const EXPORT_HEADERS: [&str; 9] = [
    "Loại",
    "Thôn",
    "Xóm",
    "Ngõ",
    "Số nhà",
    "Chủ hộ",
    "Họ và tên",
    "Năm sinh",
    "Tình trạng",
];

fn status_vi(status: &str) -> &'static str {
    match status {
        "assisted" => "Đã được hỗ trợ, chưa hoàn thành",
        "declined" => "Từ chối",
        "not_yet" => "Chưa có",
        "not_visited" => "Chưa được đến hỗ trợ",
        _ => "Chưa rõ",
    }
}

/// A missing list's row as a file shows it: names, not ids.
fn missing_file_row(i: MissingItem) -> Vec<String> {
    vec![
        if i.kind == "resident" {
            "Người dân"
        } else {
            "Hộ gia đình"
        }
        .to_owned(),
        i.village_name,
        i.hamlet.unwrap_or_default(),
        i.lane.unwrap_or_default(),
        i.house_number.unwrap_or_default(),
        i.head_name.unwrap_or_default(),
        i.name.unwrap_or_default(),
        i.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        status_vi(&i.status).to_owned(),
    ]
}

/// Who is still missing behind an indicator: residents or households in its denominator that are not
/// counted in its numerator, in the caller's scope, by id. With `format=csv|xlsx`, the whole list as
/// a file (written to the audit log).
#[utoipa::path(tag = "stats", params(("code" = String, Path, description = "Indicator code"), MissingParams, PageQuery),
    security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "A page of who is missing, or the whole list as CSV or XLSX", content((MissingPage = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad query, or a count-only indicator", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "City oversight sees no households", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such indicator, or outside your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/stats/indicators/{code}/missing")]
pub async fn missing(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    params: web::Query<MissingParams>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    // The city sees aggregates only.
    auth.household_scope()?;
    let code = path.into_inner();
    // Indicator codes are [a-z0-9_]: safe in a file name.
    let file_code = code.clone();
    let limit = page.limit()?;
    let after: Option<MissingKey> = page
        .after()?
        .map(|c| serde_json::from_str(&c).map_err(|_| paging::invalid_cursor()))
        .transpose()?;
    let p = params.into_inner();
    let format = p.format;
    let period = Period::containing(
        p.period.unwrap_or(PeriodKind::Quarter),
        p.date.unwrap_or_else(stats::period::local_today),
    );
    let personal = auth.sees_personal_data();
    let rows = db::run(&state.pool, move |conn| {
        let indicator = store::find_indicator_by_code(conn, &code)?.ok_or_else(|| {
            ApiError::NotFound {
                code: "indicator_not_found",
                detail: "No such indicator.".into(),
            }
        })?;
        if indicator.kind == "assisted" {
            return Err(ApiError::validation(vec![FieldError::new(
                "code",
                "not_a_percentage",
                "this indicator is a count; nobody is missing from it",
            )]));
        }
        let (commune, villages) =
            figure_scope(conn, &auth, p.commune_id.as_deref(), p.village_id.as_deref())?;
        let village_ids: Vec<String> = villages.iter().map(|(id, _)| id.clone()).collect();
        let names: HashMap<String, String> = villages.into_iter().collect();
        let query = |after: Option<MissingKey>, limit: i64| MissingQuery {
            commune_id: &commune,
            villages: &village_ids,
            end_day: period.end,
            end: period.end_utc(),
            after,
            limit,
        };
        let rows = if format.is_some() {
            let mut all: Vec<MissingRow> = vec![];
            let mut cursor: Option<MissingKey> = None;
            loop {
                let m = query(cursor.clone(), EXPORT_PAGE);
                let page = missing_page(conn, &indicator, &m, &period, personal, &names)?;
                let full = page.len() as i64 == EXPORT_PAGE;
                cursor = page.last().map(|r| r.key.clone());
                all.extend(page);
                if !full || all.len() as i64 >= EXPORT_MAX {
                    break;
                }
            }
            db::audit::by_user(
                conn,
                &auth,
                "export",
                "indicator_missing",
                &indicator.code,
                Some(&commune),
                serde_json::json!({ "rows": all.len(), "period": period.label(), "personal": personal }),
            )?;
            all
        } else {
            let rows = missing_page(conn, &indicator, &query(after, limit), &period, personal, &names)?;
            if personal && auth.personal_reads_are_audited() && !rows.is_empty() {
                db::audit::by_user(
                    conn,
                    &auth,
                    "personal_data_read",
                    "indicator_missing",
                    &indicator.code,
                    Some(&commune),
                    serde_json::json!({ "ids": rows.iter().map(|r| r.item.id.as_str()).collect::<Vec<_>>() }),
                )?;
            }
            rows
        };
        Ok(rows)
    })
    .await?;
    let Some(format) = format else {
        let next_cursor = paging::next_cursor(&rows, limit, |r| {
            serde_json::to_string(&r.key).expect("a key serialises")
        });
        let items = rows.into_iter().map(|r| r.item).collect();
        return Ok(HttpResponse::Ok().json(MissingPage { items, next_cursor }));
    };
    let rows: Vec<Vec<String>> = rows.into_iter().map(|r| missing_file_row(r.item)).collect();
    let name = format!("con-thieu-{file_code}-{}", period.label());
    export_file(format, "Danh sách còn thiếu", &EXPORT_HEADERS, rows, &name).await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActivityQuery {
    /// `week`, `month`, `quarter` (default) or `year`.
    pub period: Option<PeriodKind>,
    /// A day inside the period, `YYYY-MM-DD` in Vietnam time (default today).
    pub date: Option<NaiveDate>,
    /// The commune; required for administrators and city oversight, otherwise the caller's.
    pub commune_id: Option<String>,
    /// One village of the commune (village users: one of theirs).
    pub village_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityResponse {
    pub commune_id: String,
    /// The villages counted; empty for the whole commune (commune-wide activities included).
    pub village_ids: Vec<String>,
    pub period: PeriodResponse,
    pub previous_period: PeriodResponse,
    pub current: stats::activity::ReportActivity,
    pub previous: stats::activity::ReportActivity,
}

/// The teams' activity in a period and the one before it: visits, households reached,
/// communications by channel and reach, trainings and attendance, difficulties with response times,
/// and active members per team. Village users get their villages.
#[utoipa::path(tag = "stats", params(ActivityQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Activity figures", body = ActivityResponse),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Commune or village outside your scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/stats/activity")]
pub async fn activity(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let period = Period::containing(
        q.period.unwrap_or(PeriodKind::Quarter),
        q.date.unwrap_or_else(stats::period::local_today),
    );
    let previous = period.previous();
    let body = db::run(&state.pool, move |conn| {
        let (commune, villages) = figure_scope(
            conn,
            &auth,
            q.commune_id.as_deref(),
            q.village_id.as_deref(),
        )?;
        let village_user = matches!(auth.role, Role::VillageLeader | Role::Volunteer);
        let ids: Vec<String> = if village_user || q.village_id.is_some() {
            villages.into_iter().map(|(id, _)| id).collect()
        } else {
            vec![]
        };
        if village_user && ids.is_empty() {
            return Err(ApiError::NotFound {
                code: "not_found",
                detail: "No village in your scope.".into(),
            });
        }
        let filter = (!ids.is_empty()).then_some(ids.as_slice());
        Ok::<_, ApiError>(ActivityResponse {
            current: stats::activity::compute(conn, &commune, filter, &period)?,
            previous: stats::activity::compute(conn, &commune, filter, &previous)?,
            period: period_response(&period),
            previous_period: period_response(&previous),
            commune_id: commune,
            village_ids: ids,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}
