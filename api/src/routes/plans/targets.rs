//! Targets per indicator for the commune and each village, and the progress against them with the
//! gap in people and the villages furthest behind.

use std::collections::HashMap;

use actix_web::{get, put, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::plans::{self as store, Target};
use crate::db::{self, stats as q};
use crate::error::{ApiError, FieldError, Problem};
use crate::routes::stats::{
    figure_response, figure_scope, period_response, FigureResponse, PeriodResponse,
};
use crate::state::AppState;
use crate::stats::{self, gap, Figure, Period, PeriodKind};

use super::{planner_commune, require_planner};

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
pub(super) fn chosen_period(kind: Option<PeriodKind>, date: Option<NaiveDate>) -> Period {
    Period::containing(
        kind.unwrap_or(PeriodKind::Quarter),
        date.unwrap_or_else(stats::period::local_today),
    )
}

pub(super) fn period_kind_str(kind: PeriodKind) -> &'static str {
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
            let current = crate::routes::stats::total(&per_village, &villages, true);
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
