//! The household registry's use cases: households, residents and the adoption ledger, shared by
//! the HTTP handlers and the sync push. Scope and personal fields as `access` decides.

use crate::auth::AuthUser;
use crate::db::registry::{
    self as reg, Household, HouseholdChangeset, Resident, ResidentChangeset,
};
use crate::db::{self, DbConnection};
use crate::domain::{optional_text, AdoptionStatus, BirthYear, DisplayName, PhoneNumber, Sex};
use crate::error::{ApiError, FieldError};
use crate::paging::{self};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

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
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>)]
    pub hamlet: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>)]
    pub lane: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>)]
    pub house_number: Option<Option<String>>,
    pub head_name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub consent: Option<ConsentInput>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateResident {
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<i32>)]
    pub birth_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<Sex>)]
    pub sex: Option<Option<Sex>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
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

pub fn household_not_found() -> ApiError {
    ApiError::NotFound {
        code: "household_not_found",
        detail: "No such household.".into(),
    }
}

pub fn resident_not_found() -> ApiError {
    ApiError::NotFound {
        code: "resident_not_found",
        detail: "No such resident.".into(),
    }
}

pub fn load_household(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<Household, ApiError> {
    match reg::find_household(conn, id)? {
        Some(h) if auth.can_read_in(&h.commune_id, &h.village_id) => Ok(h),
        _ => Err(household_not_found()),
    }
}

pub fn load_resident(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
) -> Result<Resident, ApiError> {
    match reg::find_resident(conn, id)? {
        Some(r) if auth.can_read_in(&r.commune_id, &r.village_id) => Ok(r),
        _ => Err(resident_not_found()),
    }
}

pub fn current_year() -> i32 {
    chrono::Utc::now().with_timezone(&chrono_tz_offset()).year()
}

/// Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving).
pub fn chrono_tz_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"))
}

pub fn resident_response(r: Resident, personal: bool) -> ResidentResponse {
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

pub fn household_response(
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

pub fn stale() -> ApiError {
    ApiError::PreconditionFailed {
        code: "edit_conflict",
        detail: "It changed since you read it; reload and try again.".into(),
    }
}

/// A full household read with residents and adoption summary, for responses.
pub fn full_household(
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

pub fn audit_personal_read(
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

pub struct ValidResident {
    full_name: String,
    birth_year: Option<i32>,
    sex: Option<Sex>,
    phone: Option<String>,
    relation: Option<String>,
}

pub fn validate_resident(
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

pub fn phone(raw: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    raw.filter(|p| !p.trim().is_empty())
        .map(|p| PhoneNumber::parse(p, field))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .map(|p| p.as_str().to_owned())
}

pub fn address_part(
    raw: Option<&str>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    optional_text(raw, field, 60)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
}

pub fn insert_resident(
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

/// Validates and creates a household with its residents (REST and sync); `id` is the phone's id for
/// one created offline.
pub fn create_household_in(
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
pub fn consent(
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

/// Validates and applies an edit made on version `expected` (REST and sync); 412 when stale.
pub fn update_household_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    expected: i64,
    b: &UpdateHousehold,
) -> Result<Household, ApiError> {
    let mut errors = vec![];
    let head = crate::domain::optional_name(b.head_name.as_deref(), "head_name", &mut errors);
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

/// Removes a household and its residents, leaving tombstones (leaders only; REST and sync).
pub fn delete_household_in(
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

/// Validates and adds a resident to a household (REST and sync).
pub fn create_resident_in(
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

/// Validates and applies an edit of a resident made on version `expected` (REST and sync).
pub fn update_resident_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    expected: i64,
    b: &UpdateResident,
) -> Result<Resident, ApiError> {
    let year = current_year();
    let mut errors = vec![];
    let name = crate::domain::optional_name(b.full_name.as_deref(), "full_name", &mut errors);
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

/// Removes a resident, leaving a tombstone (leaders only; REST and sync).
pub fn delete_resident_in(
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

pub fn entry_response(a: reg::Adoption) -> AdoptionEntryResponse {
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
