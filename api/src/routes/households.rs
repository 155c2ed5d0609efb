//! Households, their residents and the adoption ledger.
//!
//! Scope: a village user reads its villages, commune roles their commune, the city nothing; an object
//! outside the scope is 404. Personal fields (names, phones) go only to roles whose work needs them
//! (see `auth::scope`); office roles' reads of them are audited. Updates need `If-Match` with the
//! version's ETag, so two people never silently overwrite each other (412 when stale).

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, PageQuery};
use crate::auth::AuthUser;
use crate::db::registry::{
    self as reg, Household, HouseholdChangeset, HouseholdFilter, Resident, ResidentChangeset,
};
use crate::db::{self, DbConnection};
use crate::domain::{
    optional_text, search, AdoptionStatus, BirthYear, DisplayName, PhoneNumber, Role, ServiceLevel,
    Sex,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::startup::AppState;

/// Who collected a household's consent to keep its data, when, and under which notice.
#[derive(Serialize, ToSchema)]
pub struct ConsentResponse {
    /// User who collected it.
    pub collected_by: Option<String>,
    /// When (UTC).
    pub collected_at: chrono::DateTime<chrono::Utc>,
    /// Version of the privacy notice shown.
    #[schema(example = "2026-10")]
    pub notice_version: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResidentResponse {
    /// Resident id (UUID).
    pub id: String,
    /// Household id.
    pub household_id: String,
    /// Full name; `null` when the caller may not see personal data.
    #[schema(example = "Nguyễn Văn Đức")]
    pub full_name: Option<String>,
    /// Year of birth.
    #[schema(example = 1958)]
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    /// Phone; `null` when unknown or hidden.
    pub phone: Option<String>,
    /// Relation to the head of household, e.g. "Chủ hộ", "Vợ", "Con".
    pub relation_to_head: Option<String>,
    /// Version for `If-Match`.
    pub version: i64,
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdResponse {
    /// Household id (UUID).
    pub id: String,
    pub commune_id: String,
    pub village_id: String,
    /// Hamlet (xóm).
    pub hamlet: Option<String>,
    /// Lane (ngõ).
    pub lane: Option<String>,
    /// House number (số nhà).
    pub house_number: Option<String>,
    /// Head of household; `null` when the caller may not see personal data.
    #[schema(example = "Nguyễn Văn Đức")]
    pub head_name: Option<String>,
    /// Contact phone; `null` when unknown or hidden.
    pub phone: Option<String>,
    /// Consent record, if collected.
    pub consent: Option<ConsentResponse>,
    /// Last assistance visit (UTC).
    pub last_visited_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Version for `If-Match` (also the ETag).
    pub version: i64,
    /// True when names and phones were withheld from this caller.
    pub personal_data_redacted: bool,
    /// Living residents.
    pub residents_count: usize,
    /// Number of adoption entries per status, e.g. `{"done": 3, "assisted": 1}`.
    pub adoption_summary: BTreeMap<String, i64>,
    /// The residents (single-household reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residents: Option<Vec<ResidentResponse>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdPage {
    pub items: Vec<HouseholdResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HouseholdQuery {
    /// Only this village.
    pub village_id: Option<String>,
    /// Only this hamlet (xóm), exactly as stored.
    pub hamlet: Option<String>,
    /// Search names, address and phone, ignoring diacritics and case ("nguyen van duc").
    pub q: Option<String>,
    /// Only households where someone (of the service's target age) has not adopted this service.
    pub missing_service: Option<String>,
    /// Only households not visited since this date (never-visited included).
    pub not_visited_since: Option<NaiveDate>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Version of the privacy notice the household was shown.
    #[schema(example = "2026-10")]
    pub notice_version: String,
    /// When consent was given (default: now).
    pub collected_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResident {
    #[schema(example = "Nguyễn Thị Hoa")]
    pub full_name: String,
    #[schema(example = 1962)]
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    pub phone: Option<String>,
    #[schema(example = "Vợ")]
    pub relation_to_head: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHousehold {
    /// Village of the household.
    pub village_id: String,
    pub hamlet: Option<String>,
    pub lane: Option<String>,
    pub house_number: Option<String>,
    #[schema(example = "Nguyễn Văn Đức")]
    pub head_name: String,
    pub phone: Option<String>,
    pub consent: Option<ConsentInput>,
    /// Residents to register with the household (up to 30).
    #[serde(default)]
    pub residents: Vec<CreateResident>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateHousehold {
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub hamlet: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub lane: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub house_number: Option<Option<String>>,
    pub head_name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub consent: Option<ConsentInput>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateResident {
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub birth_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Sex>)]
    pub sex: Option<Option<Sex>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub relation_to_head: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct AdoptionEntryResponse {
    /// Resident for person-level services; absent for household-level ones.
    pub resident_id: Option<String>,
    #[schema(example = "vneid_level2")]
    pub service_code: String,
    pub status: AdoptionStatus,
    /// Date the status was reached.
    pub status_on: NaiveDate,
    /// User who set it.
    pub set_by: Option<String>,
    /// `record` (from a field record), `correction` (by a leader) or `import`.
    pub source: String,
    /// The assistance record that set it.
    pub source_record_id: Option<String>,
    pub note: Option<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AdoptionLedger {
    pub household_id: String,
    /// Entries by service, then subject.
    pub items: Vec<AdoptionEntryResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptionCorrection {
    #[schema(example = "vneid_level2")]
    pub service_code: String,
    /// Required for person-level services; must be absent for household-level ones.
    pub resident_id: Option<String>,
    pub status: AdoptionStatus,
    /// Why the status was corrected.
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectAdoption {
    /// Corrections, applied together or not at all (at most 100).
    pub items: Vec<AdoptionCorrection>,
}

// ------------------------------------------------------------------ helpers

pub(crate) fn household_not_found() -> ApiError {
    ApiError::NotFound {
        code: "household_not_found",
        detail: "No such household.".into(),
    }
}

fn resident_not_found() -> ApiError {
    ApiError::NotFound {
        code: "resident_not_found",
        detail: "No such resident.".into(),
    }
}

pub(crate) fn load_household(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<Household, ApiError> {
    match reg::find_household(conn, id)? {
        Some(h) if auth.can_read_in(&h.commune_id, &h.village_id) => Ok(h),
        _ => Err(household_not_found()),
    }
}

fn load_resident(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Resident, ApiError> {
    match reg::find_resident(conn, id)? {
        Some(r) if auth.can_read_in(&r.commune_id, &r.village_id) => Ok(r),
        _ => Err(resident_not_found()),
    }
}

fn current_year() -> i32 {
    chrono::Utc::now().with_timezone(&chrono_tz_offset()).year()
}

/// Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving).
fn chrono_tz_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"))
}

pub(crate) fn resident_response(r: Resident, personal: bool) -> ResidentResponse {
    ResidentResponse {
        id: r.id,
        household_id: r.household_id,
        full_name: personal.then_some(r.full_name),
        birth_year: r.birth_year,
        sex: r.sex.as_deref().and_then(Sex::from_db),
        phone: if personal { r.phone } else { None },
        relation_to_head: r.relation_to_head,
        version: r.version,
    }
}

fn household_response(
    h: Household,
    personal: bool,
    residents_count: usize,
    adoption_summary: BTreeMap<String, i64>,
    residents: Option<Vec<ResidentResponse>>,
) -> HouseholdResponse {
    let consent = match (h.consent_at, h.consent_notice_version) {
        (Some(at), Some(version)) => Some(ConsentResponse {
            collected_by: h.consent_by,
            collected_at: paging::utc(at),
            notice_version: version,
        }),
        _ => None,
    };
    HouseholdResponse {
        id: h.id,
        commune_id: h.commune_id,
        village_id: h.village_id,
        hamlet: h.hamlet,
        lane: h.lane,
        house_number: h.house_number,
        head_name: personal.then_some(h.head_name),
        phone: if personal { h.phone } else { None },
        consent,
        last_visited_at: h.last_visited_at.map(paging::utc),
        version: h.version,
        personal_data_redacted: !personal,
        residents_count,
        adoption_summary,
        residents,
        created_at: paging::utc(h.created_at),
        updated_at: paging::utc(h.updated_at),
    }
}

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

fn stale() -> ApiError {
    ApiError::PreconditionFailed {
        code: "edit_conflict",
        detail: "It changed since you read it; reload and try again.".into(),
    }
}

/// A full household read with residents and adoption summary, for responses.
pub(crate) fn full_household(
    conn: &mut DbConnection,
    h: Household,
    personal: bool,
) -> Result<HouseholdResponse, ApiError> {
    let ids = vec![h.id.clone()];
    let residents = reg::residents_of(conn, &ids)?;
    let mut summary = BTreeMap::new();
    for (_, status, n) in reg::adoption_counts(conn, &ids)? {
        summary.insert(status, n);
    }
    let count = residents.len();
    let residents = residents
        .into_iter()
        .map(|r| resident_response(r, personal))
        .collect();
    Ok(household_response(
        h,
        personal,
        count,
        summary,
        Some(residents),
    ))
}

fn audit_personal_read(
    conn: &mut DbConnection,
    auth: &AuthUser,
    object_type: &str,
    ids: &[String],
    commune: Option<&str>,
) -> Result<(), ApiError> {
    if auth.personal_reads_are_audited() && !ids.is_empty() {
        let object_id = if ids.len() == 1 {
            ids[0].as_str()
        } else {
            "many"
        };
        db::audit::by_user(
            conn,
            auth,
            "personal_data_read",
            object_type,
            object_id,
            commune,
            serde_json::json!({ "ids": ids }),
        )?;
    }
    Ok(())
}

struct ValidResident {
    full_name: String,
    birth_year: Option<i32>,
    sex: Option<Sex>,
    phone: Option<String>,
    relation: Option<String>,
}

fn validate_resident(
    r: &CreateResident,
    prefix: &str,
    year: i32,
    errors: &mut Vec<FieldError>,
) -> Option<ValidResident> {
    let f = |name: &str| format!("{prefix}{name}");
    let full_name = DisplayName::parse(&r.full_name, &f("full_name"))
        .map_err(|e| errors.push(e))
        .ok();
    let birth_year = r
        .birth_year
        .map(|y| BirthYear::parse(y, &f("birth_year"), year))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let phone = phone(r.phone.as_deref(), &f("phone"), errors);
    let relation = optional_text(r.relation_to_head.as_deref(), &f("relation_to_head"), 60)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    Some(ValidResident {
        full_name: full_name?.as_str().to_owned(),
        birth_year: birth_year.map(BirthYear::get),
        sex: r.sex,
        phone,
        relation,
    })
}

fn phone(raw: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    raw.filter(|p| !p.trim().is_empty())
        .map(|p| PhoneNumber::parse(p, field))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .map(|p| p.as_str().to_owned())
}

fn address_part(raw: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    optional_text(raw, field, 60)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
}

fn insert_resident(
    conn: &mut DbConnection,
    h: &Household,
    id: Option<&str>,
    r: &ValidResident,
) -> Result<String, ApiError> {
    let id = id.map(str::to_owned).unwrap_or_else(db::new_id);
    let now = db::now();
    reg::insert_resident(
        conn,
        &reg::NewResident {
            id: &id,
            household_id: &h.id,
            commune_id: &h.commune_id,
            village_id: &h.village_id,
            full_name: &r.full_name,
            birth_year: r.birth_year,
            sex: r.sex.map(Sex::as_str),
            phone: r.phone.as_deref(),
            relation_to_head: r.relation.as_deref(),
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(id)
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

/// Validates and creates a household with its residents (REST and sync); `id` is the phone's id for
/// one created offline.
pub(crate) fn create_household_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: Option<&str>,
    b: &CreateHousehold,
) -> Result<Household, ApiError> {
    let year = current_year();
    let mut errors = vec![];
    let head = DisplayName::parse(&b.head_name, "head_name")
        .map_err(|e| errors.push(e))
        .ok();
    let hamlet = address_part(b.hamlet.as_deref(), "hamlet", &mut errors);
    let lane = address_part(b.lane.as_deref(), "lane", &mut errors);
    let house_number = address_part(b.house_number.as_deref(), "house_number", &mut errors);
    let phone = phone(b.phone.as_deref(), "phone", &mut errors);
    let (consent_at, notice) = consent(b.consent.as_ref(), &mut errors);
    if b.residents.len() > 30 {
        errors.push(FieldError::new(
            "residents",
            "too_many",
            "at most 30 residents per household",
        ));
    }
    let residents: Vec<ValidResident> = b
        .residents
        .iter()
        .enumerate()
        .filter_map(|(i, r)| validate_resident(r, &format!("residents[{i}]."), year, &mut errors))
        .collect();
    let village = reg::find_village(conn, &b.village_id)?
        .filter(|v| auth.can_read_in(&v.commune_id, &v.id))
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "village_id",
                "unknown_village",
                "no such village in your scope",
            )])
        })?;
    auth.ensure_registry_writer(&village.commune_id, &village.id)?;
    let (Some(head), true) = (head, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let (id, _) = reg::create_household(
        conn,
        &reg::HouseholdDraft {
            id,
            commune_id: &village.commune_id,
            village_id: &village.id,
            hamlet: hamlet.as_deref(),
            lane: lane.as_deref(),
            house_number: house_number.as_deref(),
            head_name: head.as_str(),
            phone: phone.as_deref(),
            consent: consent_at
                .zip(notice.as_deref())
                .map(|(at, v)| (auth.id.as_str(), at, v)),
            created_by: Some(&auth.id),
            residents: residents
                .iter()
                .map(|r| reg::ResidentDraft {
                    full_name: &r.full_name,
                    birth_year: r.birth_year,
                    sex: r.sex.map(Sex::as_str),
                    phone: r.phone.as_deref(),
                    relation_to_head: r.relation.as_deref(),
                })
                .collect(),
        },
    )?;
    let h = reg::find_household(conn, &id)?.ok_or_else(household_not_found)?;
    db::audit::by_user(
        conn,
        auth,
        "household_created",
        "household",
        &id,
        Some(&h.commune_id),
        serde_json::json!({"village_id": h.village_id, "residents": residents.len()}),
    )?;
    Ok(h)
}

/// A consent record from a request: (when, notice version).
fn consent(
    c: Option<&ConsentInput>,
    errors: &mut Vec<FieldError>,
) -> (Option<chrono::NaiveDateTime>, Option<String>) {
    let Some(c) = c else { return (None, None) };
    let notice = optional_text(Some(&c.notice_version), "consent.notice_version", 40)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if notice.is_none() && errors.iter().all(|e| e.field != "consent.notice_version") {
        errors.push(FieldError::new(
            "consent.notice_version",
            "required",
            "say which notice the household was shown",
        ));
    }
    (
        Some(
            c.collected_at
                .map(|t| t.naive_utc())
                .unwrap_or_else(db::now),
        ),
        notice,
    )
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

/// Validates and applies an edit made on version `expected` (REST and sync); 412 when stale.
pub(crate) fn update_household_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    expected: i64,
    b: &UpdateHousehold,
) -> Result<Household, ApiError> {
    let mut errors = vec![];
    let head = super::optional_name(b.head_name.as_deref(), "head_name", &mut errors);
    let hamlet = b
        .hamlet
        .as_ref()
        .map(|v| address_part(v.as_deref(), "hamlet", &mut errors));
    let lane = b
        .lane
        .as_ref()
        .map(|v| address_part(v.as_deref(), "lane", &mut errors));
    let house_number = b
        .house_number
        .as_ref()
        .map(|v| address_part(v.as_deref(), "house_number", &mut errors));
    let new_phone = b
        .phone
        .as_ref()
        .map(|v| phone(v.as_deref(), "phone", &mut errors));
    let (consent_at, notice) = consent(b.consent.as_ref(), &mut errors);
    let current = load_household(conn, auth, id)?;
    auth.ensure_registry_writer(&current.commune_id, &current.village_id)?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let changes = HouseholdChangeset {
        hamlet,
        lane,
        house_number,
        head_name: head.map(|h| h.as_str().to_owned()),
        phone: new_phone,
        consent_by: consent_at.map(|_| Some(auth.id.clone())),
        consent_at: consent_at.map(Some),
        consent_notice_version: notice.map(Some),
        deleted_at: None,
    };
    reg::update_household(conn, &current, expected, &changes)?.ok_or_else(stale)?;
    reg::refresh_search_key(conn, &current.id)?;
    db::audit::by_user(
        conn,
        auth,
        "household_updated",
        "household",
        &current.id,
        Some(&current.commune_id),
        serde_json::json!({"version": expected + 1}),
    )?;
    reg::find_household(conn, &current.id)?.ok_or_else(household_not_found)
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

/// Removes a household and its residents, leaving tombstones (leaders only; REST and sync).
pub(crate) fn delete_household_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let current = load_household(conn, auth, id)?;
    auth.ensure_registry_leader(&current.commune_id, &current.village_id)?;
    let version = expected.unwrap_or(current.version);
    let changes = HouseholdChangeset {
        deleted_at: Some(Some(db::now())),
        ..Default::default()
    };
    reg::update_household(conn, &current, version, &changes)?.ok_or_else(stale)?;
    reg::delete_residents_of(conn, &current)?;
    db::audit::by_user(
        conn,
        auth,
        "household_deleted",
        "household",
        &current.id,
        Some(&current.commune_id),
        serde_json::json!({"village_id": current.village_id}),
    )?;
    Ok(())
}

// ------------------------------------------------------------------ residents

#[derive(Serialize, ToSchema)]
pub struct ResidentList {
    pub items: Vec<ResidentResponse>,
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

/// Validates and adds a resident to a household (REST and sync).
pub(crate) fn create_resident_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    household_id: &str,
    id: Option<&str>,
    b: &CreateResident,
) -> Result<Resident, ApiError> {
    let mut errors = vec![];
    let valid = validate_resident(b, "", current_year(), &mut errors);
    let h = load_household(conn, auth, household_id)?;
    auth.ensure_registry_writer(&h.commune_id, &h.village_id)?;
    let (Some(valid), true) = (valid, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let rid = insert_resident(conn, &h, id, &valid)?;
    reg::refresh_search_key(conn, &h.id)?;
    db::audit::by_user(
        conn,
        auth,
        "resident_created",
        "resident",
        &rid,
        Some(&h.commune_id),
        serde_json::json!({"household_id": h.id}),
    )?;
    reg::find_resident(conn, &rid)?.ok_or_else(resident_not_found)
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

/// Validates and applies an edit of a resident made on version `expected` (REST and sync).
pub(crate) fn update_resident_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    expected: i64,
    b: &UpdateResident,
) -> Result<Resident, ApiError> {
    let year = current_year();
    let mut errors = vec![];
    let name = super::optional_name(b.full_name.as_deref(), "full_name", &mut errors);
    let birth_year = b.birth_year.map(|y| {
        y.map(|y| BirthYear::parse(y, "birth_year", year))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
            .map(BirthYear::get)
    });
    let new_phone = b
        .phone
        .as_ref()
        .map(|v| phone(v.as_deref(), "phone", &mut errors));
    let relation = b.relation_to_head.as_ref().map(|v| {
        optional_text(v.as_deref(), "relation_to_head", 60)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
    });
    let current = load_resident(conn, auth, id)?;
    auth.ensure_registry_writer(&current.commune_id, &current.village_id)?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let changes = ResidentChangeset {
        full_name: name.map(|n| n.as_str().to_owned()),
        birth_year,
        sex: b.sex.map(|s| s.map(|s| s.as_str().to_owned())),
        phone: new_phone,
        relation_to_head: relation,
        deleted_at: None,
    };
    reg::update_resident(conn, &current, expected, &changes)?.ok_or_else(stale)?;
    reg::refresh_search_key(conn, &current.household_id)?;
    db::audit::by_user(
        conn,
        auth,
        "resident_updated",
        "resident",
        &current.id,
        Some(&current.commune_id),
        serde_json::json!({"version": expected + 1}),
    )?;
    reg::find_resident(conn, &current.id)?.ok_or_else(resident_not_found)
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

/// Removes a resident, leaving a tombstone (leaders only; REST and sync).
pub(crate) fn delete_resident_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let current = load_resident(conn, auth, id)?;
    auth.ensure_registry_leader(&current.commune_id, &current.village_id)?;
    let changes = ResidentChangeset {
        deleted_at: Some(Some(db::now())),
        ..Default::default()
    };
    reg::update_resident(
        conn,
        &current,
        expected.unwrap_or(current.version),
        &changes,
    )?
    .ok_or_else(stale)?;
    reg::refresh_search_key(conn, &current.household_id)?;
    db::audit::by_user(
        conn,
        auth,
        "resident_deleted",
        "resident",
        &current.id,
        Some(&current.commune_id),
        serde_json::json!({"household_id": current.household_id}),
    )?;
    Ok(())
}

// ------------------------------------------------------------------ adoption

pub(crate) fn entry_response(a: reg::Adoption) -> AdoptionEntryResponse {
    AdoptionEntryResponse {
        resident_id: a.resident_id,
        status: AdoptionStatus::from_db(&a.status),
        service_code: a.service_code,
        status_on: a.status_on,
        set_by: a.set_by,
        source: a.source,
        source_record_id: a.source_record_id,
        note: a.note,
        updated_at: paging::utc(a.updated_at),
    }
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
