//! Households, their residents and the adoption ledger.
//!
//! Scope: a village user reads its villages, commune roles their commune, the city nothing; an object
//! outside the scope is 404. Personal fields (names, phones) go only to roles whose work needs them
//! (see `access::scope`); office roles' reads of them are audited. Updates need `If-Match` with the
//! version's ETag, so two people never silently overwrite each other (412 when stale).

use super::paging::{self, PageQuery};
use crate::app::registry::*;
use crate::auth::AuthUser;
use crate::db::registry::{self as reg, HouseholdFilter};
use crate::db::{self};
use crate::domain::{optional_text, search, Role, ServiceLevel};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use std::collections::{BTreeMap, HashMap};

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an update is based on, from `If-Match`; required (428).
fn if_match_version(req: &HttpRequest) -> Result<i64, ApiError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::PreconditionRequired {
            detail: "Send If-Match with the ETag of the version you are changing.".into(),
        })?;
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map_err(|_| ApiError::PreconditionFailed {
            code: "edit_conflict",
            detail: "The If-Match value is not a version of this object; reload it.".into(),
        })
}

// ------------------------------------------------------------------ households

/// Households in the caller's scope, with filters and diacritic-insensitive search.
#[utoipa::path(tag = "households", params(PageQuery, HouseholdQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of households (ordered by id)", body = HouseholdPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no households", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/households")]
pub async fn list_households(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
    query: web::Query<HouseholdQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = auth.household_scope()?;
    let limit = page.limit()?;
    let after = page.after()?;
    let q = query.into_inner();
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::validation(vec![FieldError::new(
            "q",
            "too_long",
            "a search has at most 100 characters",
        )]));
    }
    let personal = auth.sees_personal_data();
    let items = db::run(&state.pool, move |conn| {
        let missing = match &q.missing_service {
            Some(code) => {
                let s = reg::find_service_by_code(conn, code)?.ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new(
                        "missing_service",
                        "unknown_service",
                        "no such service",
                    )])
                })?;
                Some((s.code, s.level, s.min_age, current_year()))
            }
            None => None,
        };
        let filter = HouseholdFilter {
            village_id: q.village_id,
            hamlet: q.hamlet,
            search: q
                .q
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(search::like_pattern),
            missing_service: missing,
            not_visited_since: q
                .not_visited_since
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d - chrono::TimeDelta::hours(7)),
        };
        let rows = reg::list_households(conn, &scope, &filter, after.as_deref(), limit)?;
        let ids: Vec<String> = rows.iter().map(|h| h.id.clone()).collect();
        let mut counts: HashMap<String, usize> = HashMap::new();
        for r in reg::residents_of(conn, &ids)? {
            *counts.entry(r.household_id).or_default() += 1;
        }
        let mut summaries: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
        for (h, status, n) in reg::adoption_counts(conn, &ids)? {
            summaries.entry(h).or_default().insert(status, n);
        }
        if personal {
            audit_personal_read(conn, &auth, "household", &ids, auth.commune_id.as_deref())?;
        }
        Ok(rows
            .into_iter()
            .map(|h| {
                let count = counts.get(&h.id).copied().unwrap_or(0);
                let summary = summaries.remove(&h.id).unwrap_or_default();
                household_response(h, personal, count, summary, None)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let next_cursor = paging::next_cursor(&items, limit, |h| h.id.clone());
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(HouseholdPage { items, next_cursor }))
}

/// Registers a household (and its residents).
#[utoipa::path(tag = "households", request_body = CreateHousehold, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = HouseholdResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed in this village", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/households")]
pub async fn create_household(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateHousehold>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let created = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let h = create_household_in(conn, &auth, None, &b)?;
            full_household(conn, h, true)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/households/{}", created.id),
        ))
        .insert_header((header::ETAG, etag(created.version)))
        .json(created))
}

/// One household with its residents.
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The household", body = HouseholdResponse, headers(("ETag" = String))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no households", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/households/{id}")]
pub async fn get_household(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.household_scope()?;
    let id = path.into_inner();
    let personal = auth.sees_personal_data();
    let h = db::run(&state.pool, move |conn| {
        let h = load_household(conn, &auth, &id)?;
        if personal {
            audit_personal_read(
                conn,
                &auth,
                "household",
                std::slice::from_ref(&h.id),
                Some(&h.commune_id),
            )?;
        }
        full_household(conn, h, personal)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(h.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(h))
}

/// Changes a household. `If-Match` is required.
#[utoipa::path(tag = "households", request_body = UpdateHousehold,
    params(("id" = String, Path, description = "Household id"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed household", body = HouseholdResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/households/{id}")]
pub async fn update_household(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<UpdateHousehold>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let expected = if_match_version(&req);
    let h = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            // Scope, then permission, then the precondition: an object outside the scope is 404 and a
            // reader who may not write gets 403, whatever the headers say.
            let current = load_household(conn, &auth, &id)?;
            auth.ensure_registry_writer(&current.commune_id, &current.village_id)?;
            let h = update_household_in(conn, &auth, &id, expected?, &b)?;
            full_household(conn, h, auth.sees_personal_data())
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(h.version)))
        .json(h))
}

/// Removes a household and its residents (kept as tombstones for sync; leaders only).
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id"), ("If-Match" = Option<String>, Header, description = "ETag of the version being removed")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/households/{id}")]
pub async fn delete_household(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let expected = match if_match_version(&req) {
        Ok(v) => Some(v),
        Err(ApiError::PreconditionRequired { .. }) => None,
        Err(e) => return Err(e),
    };
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| delete_household_in(conn, &auth, &id, expected))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Residents of a household.
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Residents", body = ResidentList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no households", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/households/{id}/residents")]
pub async fn list_residents(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.household_scope()?;
    let id = path.into_inner();
    let personal = auth.sees_personal_data();
    let items = db::run(&state.pool, move |conn| {
        let h = load_household(conn, &auth, &id)?;
        let rows = reg::residents_of_household(conn, &h.id)?;
        if personal {
            audit_personal_read(
                conn,
                &auth,
                "household",
                std::slice::from_ref(&h.id),
                Some(&h.commune_id),
            )?;
        }
        Ok(rows
            .into_iter()
            .map(|r| resident_response(r, personal))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ResidentList { items }))
}

/// Adds a resident to a household.
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id")), request_body = CreateResident, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ResidentResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/households/{id}/residents")]
pub async fn create_resident(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<CreateResident>,
) -> Result<HttpResponse, ApiError> {
    let household_id = path.into_inner();
    let b = body.into_inner();
    let r = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            create_resident_in(conn, &auth, &household_id, None, &b)
                .map(|r| resident_response(r, true))
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/residents/{}", r.id)))
        .insert_header((header::ETAG, etag(r.version)))
        .json(r))
}

/// One resident.
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Resident id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The resident", body = ResidentResponse, headers(("ETag" = String))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no households", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/residents/{id}")]
pub async fn get_resident(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.household_scope()?;
    let id = path.into_inner();
    let personal = auth.sees_personal_data();
    let r = db::run(&state.pool, move |conn| {
        let r = load_resident(conn, &auth, &id)?;
        if personal {
            audit_personal_read(
                conn,
                &auth,
                "resident",
                std::slice::from_ref(&r.id),
                Some(&r.commune_id),
            )?;
        }
        Ok(resident_response(r, personal))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(r.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(r))
}

/// Changes a resident. `If-Match` is required.
#[utoipa::path(tag = "households", request_body = UpdateResident,
    params(("id" = String, Path, description = "Resident id"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed resident", body = ResidentResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in scope", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/residents/{id}")]
pub async fn update_resident(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<UpdateResident>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let expected = if_match_version(&req);
    let r = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let current = load_resident(conn, &auth, &id)?;
            auth.ensure_registry_writer(&current.commune_id, &current.village_id)?;
            let r = update_resident_in(conn, &auth, &id, expected?, &b)?;
            Ok(resident_response(r, auth.sees_personal_data()))
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(r.version)))
        .json(r))
}

/// Removes a resident (moved away, died; kept as a tombstone for sync).
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Resident id")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/residents/{id}")]
pub async fn delete_resident(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| delete_resident_in(conn, &auth, &id, None))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The adoption ledger of a household: each service's status per resident (or for the household).
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The ledger", body = AdoptionLedger),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no households", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/households/{id}/adoption")]
pub async fn get_adoption(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.household_scope()?;
    let id = path.into_inner();
    let ledger = db::run(&state.pool, move |conn| {
        let h = load_household(conn, &auth, &id)?;
        let items = reg::adoptions_of(conn, &h.id)?
            .into_iter()
            .map(entry_response)
            .collect();
        Ok(AdoptionLedger {
            household_id: h.id,
            items,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ledger))
}

/// Corrects adoption statuses (village leaders, the culture-social office, or the department owning
/// the service). Every correction is audited with its previous value.
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id")), request_body = CorrectAdoption, security(("bearer" = [])),
    responses(
        (status = 200, description = "The corrected ledger", body = AdoptionLedger),
        (status = 400, description = "Invalid corrections; nothing was changed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/households/{id}/adoption")]
pub async fn correct_adoption(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<CorrectAdoption>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let items = body.into_inner().items;
    if items.is_empty() || items.len() > 100 {
        return Err(ApiError::validation(vec![FieldError::new(
            "items",
            "out_of_range",
            "send 1 to 100 corrections",
        )]));
    }
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz_offset())
        .date_naive();
    let ledger = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let h = load_household(conn, &auth, &id)?;
            db::lock_commune(conn, Some(&h.commune_id))?;
            let residents: Vec<String> = reg::residents_of_household(conn, &h.id)?.into_iter().map(|r| r.id).collect();
            let mut errors = vec![];
            let mut valid = vec![];
            for (i, c) in items.iter().enumerate() {
                let f = |n: &str| format!("items[{i}].{n}");
                let Some(service) = reg::find_service_by_code(conn, &c.service_code)?.filter(|s| s.retired_at.is_none()) else {
                    errors.push(FieldError::new(f("service_code"), "unknown_service", "no such service"));
                    continue;
                };
                let owner = crate::domain::Department::parse(&service.department).ok();
                let is_owner = auth.role == Role::Department && auth.department == owner && auth.commune_id.as_deref() == Some(h.commune_id.as_str());
                if !is_owner {
                    auth.ensure_registry_leader(&h.commune_id, &h.village_id)?;
                }
                match (ServiceLevel::from_db(&service.level), &c.resident_id) {
                    (ServiceLevel::Person, None) => errors.push(FieldError::new(f("resident_id"), "required", "this service is adopted per person")),
                    (ServiceLevel::Person, Some(r)) if !residents.contains(r) => {
                        errors.push(FieldError::new(f("resident_id"), "unknown_resident", "no such resident in this household"))
                    }
                    (ServiceLevel::Household, Some(_)) => errors.push(FieldError::new(f("resident_id"), "not_allowed", "this service is adopted per household")),
                    _ => {}
                }
                let note = optional_text(c.note.as_deref(), &f("note"), 500).map_err(|e| errors.push(e)).ok().flatten();
                valid.push((c, note));
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            for (c, note) in valid {
                let before = reg::set_adoption(conn, &reg::AdoptionEntry {
                    household: &h,
                    resident_id: c.resident_id.as_deref(),
                    service_code: &c.service_code,
                    status: c.status.as_str(),
                    status_on: today,
                    set_by: Some(&auth.id),
                    source: "correction",
                    source_record_id: None,
                    note: note.as_deref(),
                })?;
                db::audit::by_user(conn, &auth, "adoption_corrected", "household", &h.id, Some(&h.commune_id), serde_json::json!({
                    "service_code": c.service_code, "resident_id": c.resident_id, "before": before, "after": c.status.as_str(), "note": note,
                }))?;
            }
            let items = reg::adoptions_of(conn, &h.id)?.into_iter().map(entry_response).collect();
            Ok(AdoptionLedger { household_id: h.id, items })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ledger))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_households)
        .service(create_household)
        .service(get_household)
        .service(update_household)
        .service(delete_household)
        .service(list_residents)
        .service(create_resident)
        .service(get_resident)
        .service(update_resident)
        .service(delete_resident)
        .service(get_adoption)
        .service(correct_adoption);
}
