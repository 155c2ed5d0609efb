//! The rights of the people in the registry (Personal Data Protection Law): a household's copy of
//! everything held about it, and its erasure. Erasure removes what identifies the people (names,
//! phones, address, free-text notes) and keeps the rows, their birth years and the services they
//! use, so every indicator still counts them.

use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::households::{
    entry_response, full_household, household_not_found, load_household, resident_response,
    AdoptionEntryResponse, HouseholdResponse, ResidentResponse,
};
use super::records::{record_responses, AssistanceRecordResponse};
use crate::auth::AuthUser;
use crate::db::registry::{self as reg, HouseholdChangeset, ResidentChangeset};
use crate::db::schema::{adoptions, assistance_items, assistance_records, residents};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, Problem};
use crate::startup::AppState;

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
        Err(ApiError::Forbidden {
            code: "role_not_allowed",
            detail: if erase {
                "Only the commune's chairman or an administrator erases a household.".into()
            } else {
                "Only the chairman, the village leader or an administrator gives a household its data."
                    .into()
            },
        })
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
        let records = record_responses(conn, rows, true)?;
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

// ------------------------------------------------------------------ retention

/// What a retention purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Records of help whose notes (or whose items' notes) were removed.
    pub records: usize,
    pub adoptions: usize,
    pub communications: usize,
}

/// The first moment that is still kept when `years` of data are kept (0 keeps everything).
pub fn retention_cutoff(years: u32, now: chrono::NaiveDateTime) -> Option<chrono::NaiveDateTime> {
    (years > 0).then(|| {
        now.checked_sub_months(chrono::Months::new(12 * years))
            .unwrap_or(chrono::NaiveDateTime::MIN)
    })
}

/// Removes the free text (where people's details end up: notes on records of help, their items,
/// adoption entries and communications) from everything that happened before `before`. Counts and
/// statuses stay, so the figures do not change. Phones pull the cleaned records. Audited.
pub fn purge_expired(
    conn: &mut DbConnection,
    before: chrono::NaiveDateTime,
) -> diesel::QueryResult<Purged> {
    use crate::db::schema::communications;
    db::write_tx(conn, |conn| {
        let old = assistance_records::table.filter(assistance_records::occurred_at.lt(before));
        let mut ids: Vec<String> = old
            .filter(assistance_records::notes.is_not_null())
            .select(assistance_records::id)
            .load(conn)?;
        let old_ids = old.select(assistance_records::id);
        let with_item_notes: Vec<String> = assistance_items::table
            .filter(assistance_items::note.is_not_null())
            .filter(assistance_items::record_id.eq_any(old_ids))
            .select(assistance_items::record_id)
            .distinct()
            .load(conn)?;
        ids.extend(with_item_notes);
        ids.sort();
        ids.dedup();
        let mut purged = Purged::default();
        for chunk in ids.chunks(500) {
            diesel::update(assistance_records::table.filter(assistance_records::id.eq_any(chunk)))
                .set(assistance_records::notes.eq(None::<String>))
                .execute(conn)?;
            diesel::update(
                assistance_items::table.filter(assistance_items::record_id.eq_any(chunk)),
            )
            .set(assistance_items::note.eq(None::<String>))
            .execute(conn)?;
            let owners: Vec<(String, String, String, String)> = assistance_records::table
                .filter(assistance_records::id.eq_any(chunk))
                .select((
                    assistance_records::id,
                    assistance_records::commune_id,
                    assistance_records::village_id,
                    assistance_records::author_id,
                ))
                .load(conn)?;
            for (id, commune, village, author) in &owners {
                reg::record_change_by(
                    conn,
                    "assistance_record",
                    id,
                    Some(commune),
                    Some(village),
                    "upsert",
                    Some(author),
                )?;
            }
        }
        purged.records = ids.len();
        let adoption_rows: Vec<(String, String, String)> = adoptions::table
            .filter(adoptions::note.is_not_null())
            .filter(adoptions::status_on.lt(before.date()))
            .select((adoptions::id, adoptions::commune_id, adoptions::village_id))
            .load(conn)?;
        for (id, commune, village) in &adoption_rows {
            diesel::update(adoptions::table.find(id))
                .set(adoptions::note.eq(None::<String>))
                .execute(conn)?;
            reg::record_change(conn, "adoption", id, Some(commune), Some(village), "upsert")?;
        }
        purged.adoptions = adoption_rows.len();
        let talks: Vec<(String, String, Option<String>, String)> = communications::table
            .filter(communications::notes.is_not_null())
            .filter(communications::occurred_at.lt(before))
            .select((
                communications::id,
                communications::commune_id,
                communications::village_id,
                communications::author_id,
            ))
            .load(conn)?;
        for (id, commune, village, author) in &talks {
            diesel::update(communications::table.find(id))
                .set(communications::notes.eq(None::<String>))
                .execute(conn)?;
            reg::record_change_by(
                conn,
                "communication",
                id,
                Some(commune),
                village.as_deref(),
                "upsert",
                Some(author),
            )?;
        }
        purged.communications = talks.len();
        if purged != Purged::default() {
            db::audit::record(
                conn,
                &db::audit::NewAuditEvent {
                    details: serde_json::json!({
                        "before": before.to_string(),
                        "records": purged.records,
                        "adoptions": purged.adoptions,
                        "communications": purged.communications,
                    })
                    .to_string(),
                    ..db::audit::NewAuditEvent::new("retention_purge", None, "system")
                },
            )?;
        }
        Ok(purged)
    })
}
