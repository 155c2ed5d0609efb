//! Field records over plain REST: lists and reads in scope, and creation for online clients. Creation
//! goes through the sync push path, so a client that retries a POST with the same `id` gets the
//! record once (201 the first time, 200 after), and another body under that id is a 409.

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, PageQuery};
use crate::access::Visibility;
use crate::auth::AuthUser;
use crate::db::sync::{self as store, RecordFilter};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::sync::{self, PushRecord, PushStatus};

#[derive(Serialize, ToSchema)]
pub struct ItemResponse {
    #[schema(example = "vneid_level2")]
    pub service_code: String,
    /// `done`, `assisted`, `declined` or `needs_follow_up`.
    pub outcome: String,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AssistanceRecordResponse {
    pub id: String,
    pub household_id: String,
    pub village_id: String,
    pub author_id: String,
    pub device_id: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub channel: String,
    /// Residents helped.
    pub resident_ids: Vec<String>,
    pub items: Vec<ItemResponse>,
    /// Free notes; `null` for roles that see no personal data.
    pub notes: Option<String>,
    pub follow_up_on: Option<chrono::NaiveDate>,
    /// The record this one corrects.
    pub supersedes: Option<String>,
    /// The record that corrected this one.
    pub superseded_by: Option<String>,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AssistanceRecordPage {
    pub items: Vec<AssistanceRecordResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RecordQuery {
    /// Only records of this household.
    pub household_id: Option<String>,
    /// Only records of this village.
    pub village_id: Option<String>,
    /// `me` for the caller's own records.
    pub author: Option<String>,
    /// Include records that were corrected (default false).
    pub include_superseded: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct CommunicationResponse {
    pub id: String,
    pub commune_id: String,
    pub village_id: Option<String>,
    pub author_id: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// `loudspeaker`, `zalo`, `facebook`, `meeting`, `community_event`, `leaflet` or `other`.
    pub channel: String,
    /// Services the communication was about.
    pub topics: Vec<String>,
    /// People reached (estimate).
    pub reach: i32,
    pub title: Option<String>,
    pub link: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CommunicationPage {
    pub items: Vec<CommunicationResponse>,
    pub next_cursor: Option<String>,
}

/// A field record from an online client: the client's UUID (optional) and the record's data as in
/// `POST /sync/push`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRecord {
    /// The record's UUID; a retry with the same id is recognised. Made by the server when absent.
    pub id: Option<String>,
    /// The record, as in a sync push of this kind.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// (commune limit, village limit) of what the caller may read.
pub(crate) fn read_scope(
    auth: &AuthUser,
) -> Result<(Option<String>, Option<Vec<String>>), ApiError> {
    match auth.role {
        Role::Admin => Ok((None, None)),
        Role::Chairman | Role::Department => Ok((auth.commune_id.clone(), None)),
        Role::VillageLeader | Role::Volunteer => {
            Ok((auth.commune_id.clone(), Some(auth.village_ids.clone())))
        }
        Role::City => Err(ApiError::Forbidden {
            code: "personal_data_not_allowed",
            detail: "City oversight sees indicators and reports.".into(),
        }),
    }
}

pub(crate) fn record_responses(
    conn: &mut DbConnection,
    rows: Vec<store::AssistanceRecord>,
    vis: Visibility,
) -> Result<Vec<AssistanceRecordResponse>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut items: HashMap<String, Vec<ItemResponse>> = HashMap::new();
    for i in store::items_of(conn, &ids)? {
        items.entry(i.record_id).or_default().push(ItemResponse {
            service_code: i.service_code,
            outcome: i.outcome,
            note: vis.note(i.note),
        });
    }
    let mut helped: HashMap<String, Vec<String>> = HashMap::new();
    for (r, resident) in store::residents_of_records(conn, &ids)? {
        helped.entry(r).or_default().push(resident);
    }
    Ok(rows
        .into_iter()
        .map(|r| AssistanceRecordResponse {
            resident_ids: helped.remove(&r.id).unwrap_or_default(),
            items: items.remove(&r.id).unwrap_or_default(),
            occurred_at: paging::utc(r.occurred_at),
            received_at: paging::utc(r.received_at),
            notes: vis.note(r.notes),
            id: r.id,
            household_id: r.household_id,
            village_id: r.village_id,
            author_id: r.author_id,
            device_id: r.device_id,
            channel: r.channel,
            follow_up_on: r.follow_up_on,
            supersedes: r.supersedes,
            superseded_by: r.superseded_by,
        })
        .collect())
}

pub(crate) fn in_scope(auth: &AuthUser, commune: &str, village: Option<&str>) -> bool {
    match (auth.role, village) {
        (Role::VillageLeader | Role::Volunteer, Some(v)) => auth.village_ids.iter().any(|x| x == v),
        (Role::VillageLeader | Role::Volunteer, None) => {
            auth.commune_id.as_deref() == Some(commune)
        }
        (Role::Admin, _) => true,
        (Role::City, _) => false,
        _ => auth.commune_id.as_deref() == Some(commune),
    }
}

/// Stores one field record through the sync path; 201 when new, 200 for a replay.
pub(crate) async fn create_through_push(
    state: &AppState,
    auth: AuthUser,
    kind: &'static str,
    body: CreateRecord,
) -> Result<(String, bool), ApiError> {
    let id = body.id.unwrap_or_else(db::new_id);
    let record = PushRecord {
        kind: kind.to_owned(),
        id: id.clone(),
        op: "create".into(),
        base_version: None,
        data: body.data,
    };
    let (record, result) = db::run_write(&state.pool, move |conn| {
        let result = db::write_tx(conn, |conn| {
            Ok::<_, ApiError>(
                sync::push(conn, &auth, "web", std::slice::from_ref(&record))?.remove(0),
            )
        })?;
        Ok((record, result))
    })
    .await?;
    state
        .metrics
        .count_records(std::slice::from_ref(&record), std::slice::from_ref(&result));
    match result.status {
        PushStatus::Applied => Ok((result.id, true)),
        PushStatus::Duplicate => Ok((result.id, false)),
        PushStatus::Conflict => Err(ApiError::Conflict {
            code: "id_reused",
            detail: "Another record was stored with this id.".into(),
        }),
        PushStatus::Rejected => {
            let e = result
                .error
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("rejected without a reason")))?;
            Err(ApiError::Unprocessable {
                code: if e.fields.is_empty() {
                    "record_rejected"
                } else {
                    "validation_failed"
                },
                detail: e.message,
                errors: e.fields,
            })
        }
    }
}

/// Assistance records in the caller's scope (village users: their villages).
#[utoipa::path(tag = "records", params(PageQuery, RecordQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of records", body = AssistanceRecordPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no field records", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/assistance-records")]
pub async fn list_assistance_records(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
    query: web::Query<RecordQuery>,
) -> Result<HttpResponse, ApiError> {
    let (commune, villages) = read_scope(&auth)?;
    let limit = page.limit()?;
    let after = page.after()?;
    let q = query.into_inner();
    let villages = match (villages, q.village_id) {
        (Some(own), Some(v)) => Some(own.into_iter().filter(|x| *x == v).collect()),
        (None, Some(v)) => Some(vec![v]),
        (own, None) => own,
    };
    let filter = RecordFilter {
        household_id: q.household_id,
        village_ids: villages,
        commune_id: commune,
        author_id: (q.author.as_deref() == Some("me")).then(|| auth.id.clone()),
        include_superseded: q.include_superseded.unwrap_or(false),
    };
    let vis = auth.visibility();
    let items = db::run(&state.pool, move |conn| {
        let rows = store::list_records(conn, &filter, after.as_deref(), limit)?;
        record_responses(conn, rows, vis)
    })
    .await?;
    let next_cursor = paging::next_cursor(&items, limit, |r| r.id.clone());
    Ok(HttpResponse::Ok().json(AssistanceRecordPage { items, next_cursor }))
}

/// One assistance record.
#[utoipa::path(tag = "records", params(("id" = String, Path, description = "Record id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The record", body = AssistanceRecordResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/assistance-records/{id}")]
pub async fn get_assistance_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let vis = auth.visibility();
    let record = db::run(&state.pool, move |conn| {
        let r = store::find_record(conn, &id)?
            .filter(|r| in_scope(&auth, &r.commune_id, Some(&r.village_id)))
            .ok_or_else(|| ApiError::NotFound {
                code: "record_not_found",
                detail: "No such record.".into(),
            })?;
        Ok(record_responses(conn, vec![r], vis)?.remove(0))
    })
    .await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Logs an assistance record from an online client (same data as a sync push).
#[utoipa::path(tag = "records", request_body = CreateRecord, security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = AssistanceRecordResponse),
        (status = 200, description = "Stored before (a retry)", body = AssistanceRecordResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id was used for another record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The record is invalid; nothing was stored", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/assistance-records")]
pub async fn create_assistance_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateRecord>,
) -> Result<HttpResponse, ApiError> {
    let reader = auth.clone();
    let (id, created) =
        create_through_push(&state, auth, "assistance_record", body.into_inner()).await?;
    let vis = reader.visibility();
    let record = db::run(&state.pool, move |conn| {
        let r = store::find_record(conn, &id)?.ok_or_else(|| ApiError::not_found("record"))?;
        Ok(record_responses(conn, vec![r], vis)?.remove(0))
    })
    .await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(record))
}

fn communication_response(c: store::Communication, vis: Visibility) -> CommunicationResponse {
    CommunicationResponse {
        topics: serde_json::from_str(&c.topics).unwrap_or_default(),
        occurred_at: paging::utc(c.occurred_at),
        id: c.id,
        commune_id: c.commune_id,
        village_id: c.village_id,
        author_id: c.author_id,
        channel: c.channel,
        reach: c.reach,
        title: c.title,
        link: c.link,
        notes: vis.note(c.notes),
    }
}

/// Communication activities (loudspeaker, Zalo, meetings…) in the caller's scope.
#[utoipa::path(tag = "records", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of activities", body = CommunicationPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role sees no field records", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/communications")]
pub async fn list_communications(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (commune, villages) = read_scope(&auth)?;
    let vis = auth.visibility();
    let limit = page.limit()?;
    let after = page.after()?;
    let rows = db::run(&state.pool, move |conn| {
        Ok(store::list_communications(
            conn,
            commune.as_deref(),
            villages.as_deref(),
            after.as_deref(),
            limit,
        )?)
    })
    .await?;
    let next_cursor = paging::next_cursor(&rows, limit, |c| c.id.clone());
    Ok(HttpResponse::Ok().json(CommunicationPage {
        items: rows
            .into_iter()
            .map(|c| communication_response(c, vis))
            .collect(),
        next_cursor,
    }))
}

/// Logs a communication activity from an online client.
#[utoipa::path(tag = "records", request_body = CreateRecord, security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = CommunicationResponse),
        (status = 200, description = "Stored before (a retry)", body = CommunicationResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id was used for another record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The record is invalid; nothing was stored", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/communications")]
pub async fn create_communication(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateRecord>,
) -> Result<HttpResponse, ApiError> {
    let vis = auth.visibility();
    let (id, created) =
        create_through_push(&state, auth, "communication", body.into_inner()).await?;
    let c = db::run(&state.pool, move |conn| {
        store::find_communication(conn, &id)?.ok_or_else(|| ApiError::not_found("communication"))
    })
    .await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(communication_response(c, vis)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_assistance_records)
        .service(get_assistance_record)
        .service(create_assistance_record)
        .service(list_communications)
        .service(create_communication);
}
