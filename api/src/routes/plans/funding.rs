//! Funding: sponsorships and contributions received and money spent, in whole đồng, with totals per
//! period; a wrong entry is voided with a reason, never deleted.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::plans::{self as store, FundingEntry};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Problem};
use crate::routes::paging;
use crate::routes::stats::{period_response, PeriodResponse};
use crate::state::AppState;
use crate::stats::report::{funding_totals, FundingTotals};
use crate::stats::PeriodKind;

use super::targets::chosen_period;
use super::{planner_commune, require_planner};

pub(super) const DIRECTIONS: [&str; 2] = ["received", "spent"];
pub(super) const SOURCES: [&str; 3] = ["sponsorship", "state_budget", "other"];
pub(super) const RECEIVED_CATEGORIES: [&str; 2] = ["cash", "in_kind"];
pub(super) const SPENT_CATEGORIES: [&str; 4] = ["training", "materials", "member_support", "other"];
/// One thousand billion đồng: far above any commune's entry, far below i64's limits on sums.
pub(super) const MAX_AMOUNT: i64 = 1_000_000_000_000;

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

pub(super) fn funding_response(e: &FundingEntry) -> FundingEntryResponse {
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
pub(super) fn funding_reader_commune(
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
    let reason = crate::routes::required_reason(&body.into_inner().reason)?;
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
