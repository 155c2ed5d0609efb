//! The rights of the people in the registry (Personal Data Protection Law): a household's copy of
//! everything held about it, and its erasure. Erasure removes what identifies the people (names,
//! phones, address, free-text notes) and keeps the rows, their birth years and the services they
//! use, so every indicator still counts them.

use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::records::{record_responses, AssistanceRecordResponse};
use crate::app::registry::{
    entry_response, full_household, household_not_found, load_household, resident_response,
    AdoptionEntryResponse, HouseholdResponse, ResidentResponse,
};
/// Retention lives in the application layer; named here too for the callers that knew it here.
pub use crate::app::retention::{purge_expired, retention_cutoff, Purged};
use crate::auth::AuthUser;
use crate::db::registry::{self as reg, HouseholdChangeset, ResidentChangeset};
use crate::db::schema::{adoptions, assistance_items, assistance_records, residents};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// What an erased household's head and residents are called from then on.
pub const ERASED_NAME: &str = "(đã xóa)";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(personal_data).service(erase_household);
}

/// The data controller's people: an administrator, the commune's chairman, and (for the copy only)
/// the village's leader, who answers the household in person.
fn ensure_controller(
    auth: &AuthUser,
    commune: &str,
    village: &str,
    erase: bool,
) -> Result<(), ApiError> {
    let allowed = match auth.role {
        Role::Admin => true,
        Role::Chairman => auth.commune_id.as_deref() == Some(commune),
        Role::VillageLeader => !erase && auth.village_ids.iter().any(|v| v == village),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(crate::access::role_not_allowed(if erase {
            "Only the commune's chairman or an administrator erases a household."
        } else {
            "Only the chairman, the village leader or an administrator gives a household its data."
        }))
    }
}

#[derive(Serialize, ToSchema)]
pub struct PersonalDataExport {
    /// When this copy was made.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The household with its living residents.
    pub household: HouseholdResponse,
    /// Every resident ever recorded in it, removed ones included.
    pub all_residents: Vec<ResidentResponse>,
    /// The services each person (or the household) uses, and since when.
    pub adoption: Vec<AdoptionEntryResponse>,
    /// Every visit and help recorded for the household, with notes.
    pub assistance_records: Vec<AssistanceRecordResponse>,
}

/// Everything held about one household, for the household itself (a data-subject access request):
/// its address, people, services and every record of help, with notes. Audited.
#[utoipa::path(tag = "households", params(("id" = String, Path, description = "Household id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The household's data", body = PersonalDataExport),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the chairman, the village leader or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/households/{id}/personal-data")]
pub async fn personal_data(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let export = db::run(&state.pool, move |conn| {
        let h = load_household(conn, &auth, &id)?;
        ensure_controller(&auth, &h.commune_id, &h.village_id, false)?;
        let all: Vec<reg::Resident> = residents::table
            .filter(residents::household_id.eq(&h.id))
            .order((residents::created_at, residents::id))
            .select(reg::Resident::as_select())
            .load(conn)?;
        let adoption = reg::adoptions_of(conn, &h.id)?
            .into_iter()
            .map(entry_response)
            .collect();
        let rows: Vec<db::sync::AssistanceRecord> = assistance_records::table
            .filter(assistance_records::household_id.eq(&h.id))
            .order((assistance_records::occurred_at, assistance_records::id))
            .select(db::sync::AssistanceRecord::as_select())
            .load(conn)?;
        let records = record_responses(conn, rows, crate::access::Visibility::ALL)?;
        db::audit::by_user(
            conn,
            &auth,
            "personal_data_exported",
            "household",
            &h.id,
            Some(&h.commune_id),
            serde_json::json!({ "residents": all.len(), "records": records.len() }),
        )?;
        Ok(PersonalDataExport {
            exported_at: chrono::Utc::now(),
            all_residents: all
                .into_iter()
                .map(|r| resident_response(r, true))
                .collect(),
            household: full_household(conn, h, true)?,
            adoption,
            assistance_records: records,
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(export))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseHousehold {
    /// Why (the household's request, its date): kept in the audit log.
    #[schema(example = "Yêu cầu của chủ hộ ngày 20/11/2026")]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Erased {
    pub household_id: String,
    pub residents: usize,
    /// Records of help whose free-text notes were removed.
    pub records: usize,
}

/// Erases what identifies a household's people: the head's and residents' names and phones, the
/// address, who gave consent, and every free-text note on its records and adoption entries. The
/// rows stay (birth years, sex, services used) so the commune's figures do not change; phones get
/// the erased version at their next pull. Irreversible and audited.
#[utoipa::path(tag = "households", request_body = EraseHousehold, params(("id" = String, Path, description = "Household id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Erased", body = Erased),
        (status = 400, description = "No reason given", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the chairman or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Erased already", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/households/{id}/erase")]
pub async fn erase_household(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<EraseHousehold>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let reason = super::required_reason(&body.into_inner().reason)?;
    let erased = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| erase_in(conn, &auth, &id, &reason))
    })
    .await?;
    Ok(HttpResponse::Ok().json(erased))
}

fn erase_in(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: &str,
    reason: &str,
) -> Result<Erased, ApiError> {
    let h = reg::find_household(conn, id)?
        .filter(|h| auth.can_read_in(&h.commune_id, &h.village_id))
        .ok_or_else(household_not_found)?;
    ensure_controller(auth, &h.commune_id, &h.village_id, true)?;
    if h.head_name == ERASED_NAME {
        return Err(ApiError::Conflict {
            code: "household_erased",
            detail: "This household was erased already.".into(),
        });
    }
    let changes = HouseholdChangeset {
        hamlet: Some(None),
        lane: Some(None),
        house_number: Some(None),
        head_name: Some(ERASED_NAME.into()),
        phone: Some(None),
        consent_by: Some(None),
        ..Default::default()
    };
    reg::update_household(conn, &h, h.version, &changes)?.ok_or_else(|| ApiError::Conflict {
        code: "household_changed",
        detail: "The household changed meanwhile; try again.".into(),
    })?;
    let people: Vec<reg::Resident> = residents::table
        .filter(residents::household_id.eq(&h.id))
        .select(reg::Resident::as_select())
        .load(conn)?;
    for r in &people {
        let changes = ResidentChangeset {
            full_name: Some(ERASED_NAME.into()),
            phone: Some(None),
            relation_to_head: Some(None),
            ..Default::default()
        };
        reg::update_resident(conn, r, r.version, &changes)?.ok_or_else(|| ApiError::Conflict {
            code: "household_changed",
            detail: "A resident changed meanwhile; try again.".into(),
        })?;
    }
    reg::refresh_search_key(conn, &h.id)?;
    let records: Vec<(String, String)> = assistance_records::table
        .filter(assistance_records::household_id.eq(&h.id))
        .select((assistance_records::id, assistance_records::author_id))
        .load(conn)?;
    let ids: Vec<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
    diesel::update(assistance_records::table.filter(assistance_records::id.eq_any(&ids)))
        .set(assistance_records::notes.eq(None::<String>))
        .execute(conn)?;
    diesel::update(assistance_items::table.filter(assistance_items::record_id.eq_any(&ids)))
        .set(assistance_items::note.eq(None::<String>))
        .execute(conn)?;
    diesel::update(adoptions::table.filter(adoptions::household_id.eq(&h.id)))
        .set(adoptions::note.eq(None::<String>))
        .execute(conn)?;
    // The authors' phones hold these records: they pull the note-less version.
    for (record, author) in &records {
        reg::record_change_by(
            conn,
            "assistance_record",
            record,
            Some(&h.commune_id),
            Some(&h.village_id),
            "upsert",
            Some(author),
        )?;
    }
    db::audit::by_user(
        conn,
        auth,
        "household_erased",
        "household",
        &h.id,
        Some(&h.commune_id),
        serde_json::json!({ "reason": reason, "residents": people.len(), "records": records.len() }),
    )?;
    Ok(Erased {
        household_id: h.id,
        residents: people.len(),
        records: records.len(),
    })
}
