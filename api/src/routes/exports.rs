//! CSV (UTF-8 with BOM, for Excel) and XLSX exports of the tables a department works with: field
//! records, communications, difficulties and trainings. Scope and personal-data rules are those of the
//! lists; every export is written to the audit log.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::records::read_scope;
use crate::auth::AuthUser;
use crate::db::exports::{self as q, Window};
use crate::db::{self, DbConnection};
use crate::domain::codes::{
    Channel, CommunicationChannel, DifficultyStatus, Outcome, TrainingMode,
};
use crate::domain::{Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::stats::period::{local_midnight_utc, local_today};
use crate::sync::kinds::local_date;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_records)
        .service(export_communications)
        .service(export_difficulties)
        .service(export_trainings)
        .service(export_changes);
}

/// The change feed for warehouses: every object changed since `updated_since` (or since the
/// `cursor` of the previous page), its current state once per page, deletions as `op: delete`, in
/// an order that never skips a change committed late; follow `cursor` while `has_more`. Mirrors the
/// data without full dumps. Scoped to the caller's commune; roles without personal data get no
/// households, residents or notes. Every page is written to the audit log.
#[utoipa::path(tag = "exports", params(crate::sync::pull::FeedQuery), security(("bearer" = []), ("api_key" = ["exports:read"])),
    responses(
        (status = 200, description = "Changes, the next cursor, and whether more are waiting", body = crate::sync::pull::PullResponse),
        (status = 400, description = "Bad cursor, time, kinds or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Field roles use /sync/pull", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/exports/changes")]
pub async fn export_changes(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<crate::sync::pull::FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let res = db::run(&state.pool, move |conn| {
        crate::sync::pull::feed(conn, &auth, &q)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(res))
}

/// Most rows in one export; narrow the dates for more.
pub const MAX_ROWS: i64 = 100_000;
/// Ids per `IN (…)` list, below both backends' limits on bound parameters.
const CHUNK: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// UTF-8 with BOM, for Excel.
    Csv,
    Xlsx,
}

/// A table as a CSV (UTF-8 with BOM) or XLSX download.
pub async fn export_file(
    format: ExportFormat,
    sheet: &'static str,
    headers: &'static [&'static str],
    rows: Vec<Vec<String>>,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let (bytes, content_type, ext) = match format {
        ExportFormat::Csv => (
            crate::registry_io::table_csv(headers, &rows),
            "text/csv; charset=utf-8",
            "csv",
        ),
        ExportFormat::Xlsx => (
            web::block(move || crate::registry_io::table_xlsx(sheet, headers, &rows))
                .await?
                .map_err(ApiError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, content_type))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<ExportFormat>,
    /// First day, Vietnam time (default: 1 January of this year).
    pub from: Option<NaiveDate>,
    /// Last day, Vietnam time (default: today).
    pub to: Option<NaiveDate>,
    /// Administrators: one commune (default every commune).
    pub commune_id: Option<String>,
}

struct Scope {
    window: Window,
    from: NaiveDate,
    to: NaiveDate,
    format: ExportFormat,
    personal: bool,
}

fn scope(auth: &AuthUser, q: ExportQuery) -> Result<Scope, ApiError> {
    let (commune, villages) = read_scope(auth)?;
    let commune = match (auth.role, q.commune_id) {
        (Role::Admin, named) => named,
        (_, Some(c)) if Some(&c) != commune.as_ref() => {
            return Err(ApiError::NotFound {
                code: "commune_not_found",
                detail: "No such commune.".into(),
            })
        }
        _ => commune,
    };
    let today = local_today();
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or_else(|| {
        NaiveDate::from_ymd_opt(chrono::Datelike::year(&to), 1, 1).unwrap_or(to)
    });
    if to < from {
        return Err(ApiError::validation(vec![FieldError::new(
            "to",
            "before_start",
            "the last day is before the first",
        )]));
    }
    Ok(Scope {
        window: Window {
            commune_id: commune,
            villages,
            start: local_midnight_utc(from),
            end: local_midnight_utc(to + chrono::Days::new(1)),
        },
        from,
        to,
        format: q.format.unwrap_or(ExportFormat::Csv),
        personal: auth.sees_personal_data(),
    })
}

fn too_many() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "from",
        "too_many_rows",
        format!("more than {MAX_ROWS} rows: export a shorter period"),
    )])
}

fn local_time(t: chrono::NaiveDateTime) -> String {
    (t + chrono::Duration::hours(7))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Id → name.
type Names = HashMap<String, String>;

/// Display names of these users and names of these villages.
/// The catalogue's Vietnamese name of each service code (retired services included), so files show
/// "Định danh điện tử VNeID mức 2", not `vneid_level2`.
fn service_names(conn: &mut DbConnection) -> Result<HashMap<String, String>, ApiError> {
    Ok(crate::db::registry::list_services(conn, true)?
        .into_iter()
        .map(|s| (s.code, s.name_vi))
        .collect())
}

/// Service codes as their names, in their order.
fn named_services(codes: &[String], names: &HashMap<String, String>) -> String {
    codes
        .iter()
        .map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A department key (or `chairman`, the commune's own office) as the commune names it.
fn office_name(key: &str) -> String {
    match key {
        "chairman" => "Ủy ban nhân dân xã".to_owned(),
        k => Department::parse(k).map_or_else(|_| k.to_owned(), |d| d.name_vi().to_owned()),
    }
}

fn names(
    conn: &mut DbConnection,
    users: Vec<String>,
    villages: Vec<String>,
) -> Result<(Names, Names), ApiError> {
    let mut u = HashMap::new();
    let mut users = users;
    users.sort();
    users.dedup();
    for chunk in users.chunks(CHUNK) {
        u.extend(db::users::display_names(conn, chunk)?);
    }
    let mut villages = villages;
    villages.sort();
    villages.dedup();
    let v = q::village_names(conn, &villages)?.into_iter().collect();
    Ok((u, v))
}

fn audit(
    conn: &mut DbConnection,
    auth: &AuthUser,
    table: &str,
    s: &Scope,
    rows: usize,
) -> Result<(), ApiError> {
    db::audit::by_user(
        conn,
        auth,
        "export",
        table,
        s.window.commune_id.as_deref().unwrap_or("all"),
        s.window.commune_id.as_deref(),
        serde_json::json!({ "rows": rows, "from": s.from, "to": s.to, "personal": s.personal }),
    )?;
    Ok(())
}

const RECORD_HEADERS: [&str; 12] = [
    "Mã phiếu",
    "Thời điểm",
    "Thôn",
    "Mã hộ",
    "Chủ hộ",
    "Kênh",
    "Dịch vụ",
    "Kết quả",
    "Số người được hỗ trợ",
    "Người ghi",
    "Hẹn quay lại",
    "Ghi chú",
];

/// Field records (live ones: a correction replaces what it corrects), one row per service helped
/// with. Names and notes only for roles that see personal data.
#[utoipa::path(tag = "exports", params(ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The file: CSV (UTF-8 with BOM) or XLSX", content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad dates, or too many rows", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for city oversight", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/exports/assistance-records")]
pub async fn export_records(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = scope(&auth, query.into_inner())?;
    let format = s.format;
    let name = format!("phieu-ho-tro-{}-{}", s.from, s.to);
    let rows = db::run(&state.pool, move |conn| {
        let records = q::records(conn, &s.window, MAX_ROWS + 1)?;
        if records.len() as i64 > MAX_ROWS {
            return Err(too_many());
        }
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let mut items: HashMap<String, Vec<crate::db::sync::AssistanceItem>> = HashMap::new();
        let mut helped: HashMap<String, usize> = HashMap::new();
        let mut heads: HashMap<String, String> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            for i in crate::db::sync::items_of(conn, chunk)? {
                items.entry(i.record_id.clone()).or_default().push(i);
            }
            for (r, _) in crate::db::sync::residents_of_records(conn, chunk)? {
                *helped.entry(r).or_default() += 1;
            }
        }
        if s.personal {
            let mut households: Vec<String> =
                records.iter().map(|r| r.household_id.clone()).collect();
            households.sort();
            households.dedup();
            for chunk in households.chunks(CHUNK) {
                for h in crate::db::registry::households_by_ids(conn, chunk)? {
                    heads.insert(h.id, h.head_name);
                }
            }
        }
        let (users, villages) = names(
            conn,
            records.iter().map(|r| r.author_id.clone()).collect(),
            records.iter().map(|r| r.village_id.clone()).collect(),
        )?;
        let services = service_names(conn)?;
        let mut rows = vec![];
        for r in &records {
            let base = |service: &str, outcome: &str, note: Option<&str>| {
                vec![
                    r.id.clone(),
                    local_time(r.occurred_at),
                    villages.get(&r.village_id).cloned().unwrap_or_default(),
                    r.household_id.clone(),
                    heads.get(&r.household_id).cloned().unwrap_or_default(),
                    Channel::label_vi(&r.channel),
                    services
                        .get(service)
                        .cloned()
                        .unwrap_or_else(|| service.to_owned()),
                    if outcome.is_empty() {
                        String::new()
                    } else {
                        Outcome::label_vi(outcome)
                    },
                    helped.get(&r.id).copied().unwrap_or(0).to_string(),
                    users.get(&r.author_id).cloned().unwrap_or_default(),
                    r.follow_up_on.map(|d| d.to_string()).unwrap_or_default(),
                    if s.personal {
                        [r.notes.as_deref(), note]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" — ")
                    } else {
                        String::new()
                    },
                ]
            };
            match items.get(&r.id) {
                Some(list) => rows.extend(
                    list.iter()
                        .map(|i| base(&i.service_code, &i.outcome, i.note.as_deref())),
                ),
                None => rows.push(base("", "", None)),
            }
        }
        audit(conn, &auth, "assistance_records", &s, rows.len())?;
        Ok(rows)
    })
    .await?;
    export_file(format, "Phiếu hỗ trợ", &RECORD_HEADERS, rows, &name).await
}

const COMMUNICATION_HEADERS: [&str; 8] = [
    "Thời điểm",
    "Thôn",
    "Kênh",
    "Chủ đề (dịch vụ)",
    "Số người tiếp cận",
    "Tiêu đề",
    "Liên kết",
    "Người ghi",
];

/// Communications (tuyên truyền) by channel, reach and topic; commune-wide ones too.
#[utoipa::path(tag = "exports", params(ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The file: CSV (UTF-8 with BOM) or XLSX", content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad dates, or too many rows", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for city oversight", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/exports/communications")]
pub async fn export_communications(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = scope(&auth, query.into_inner())?;
    let format = s.format;
    let name = format!("tuyen-truyen-{}-{}", s.from, s.to);
    let rows = db::run(&state.pool, move |conn| {
        let list = q::communications(conn, &s.window, MAX_ROWS + 1)?;
        if list.len() as i64 > MAX_ROWS {
            return Err(too_many());
        }
        let (users, villages) = names(
            conn,
            list.iter().map(|c| c.author_id.clone()).collect(),
            list.iter().filter_map(|c| c.village_id.clone()).collect(),
        )?;
        let services = service_names(conn)?;
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|c| {
                let topics: Vec<String> = serde_json::from_str(&c.topics).unwrap_or_default();
                vec![
                    local_time(c.occurred_at),
                    c.village_id
                        .as_ref()
                        .and_then(|v| villages.get(v).cloned())
                        .unwrap_or_else(|| "Toàn xã".into()),
                    CommunicationChannel::label_vi(&c.channel),
                    named_services(&topics, &services),
                    c.reach.to_string(),
                    c.title.clone().unwrap_or_default(),
                    c.link.clone().unwrap_or_default(),
                    users.get(&c.author_id).cloned().unwrap_or_default(),
                ]
            })
            .collect();
        audit(conn, &auth, "communications", &s, rows.len())?;
        Ok(rows)
    })
    .await?;
    export_file(format, "Tuyên truyền", &COMMUNICATION_HEADERS, rows, &name).await
}

const DIFFICULTY_HEADERS: [&str; 11] = [
    "Ngày nêu",
    "Thôn",
    "Tiêu đề",
    "Nội dung",
    "Dịch vụ",
    "Trạng thái",
    "Giao cho",
    "Trả lời lần đầu",
    "Thời gian trả lời (giờ)",
    "Ngày đóng",
    "Người nêu",
];

/// Difficulties with their status, assignment and response time.
#[utoipa::path(tag = "exports", params(ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The file: CSV (UTF-8 with BOM) or XLSX", content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad dates, or too many rows", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for city oversight", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/exports/difficulties")]
pub async fn export_difficulties(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = scope(&auth, query.into_inner())?;
    let format = s.format;
    let name = format!("kho-khan-{}-{}", s.from, s.to);
    let rows = db::run(&state.pool, move |conn| {
        let list = q::difficulties(conn, &s.window, MAX_ROWS + 1)?;
        if list.len() as i64 > MAX_ROWS {
            return Err(too_many());
        }
        let (users, villages) = names(
            conn,
            list.iter().map(|d| d.author_id.clone()).collect(),
            list.iter().filter_map(|d| d.village_id.clone()).collect(),
        )?;
        let service_list = service_names(conn)?;
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|d| {
                let services: Vec<String> =
                    serde_json::from_str(&d.service_codes).unwrap_or_default();
                vec![
                    local_date(d.raised_at).to_string(),
                    d.village_id
                        .as_ref()
                        .and_then(|v| villages.get(v).cloned())
                        .unwrap_or_else(|| "Toàn xã".into()),
                    d.title.clone(),
                    d.description.clone(),
                    named_services(&services, &service_list),
                    DifficultyStatus::label_vi(&d.status),
                    d.assigned_department
                        .as_deref()
                        .map(office_name)
                        .unwrap_or_default(),
                    d.first_answered_at.map(local_time).unwrap_or_default(),
                    d.first_answered_at
                        .map(|a| {
                            let h = (a - d.received_at).num_seconds().max(0) as f64 / 3600.0;
                            format!("{:.1}", h).replace('.', ",")
                        })
                        .unwrap_or_default(),
                    d.closed_at
                        .map(|c| local_date(c).to_string())
                        .unwrap_or_default(),
                    users.get(&d.author_id).cloned().unwrap_or_default(),
                ]
            })
            .collect();
        audit(conn, &auth, "difficulties", &s, rows.len())?;
        Ok(rows)
    })
    .await?;
    export_file(
        format,
        "Khó khăn, vướng mắc",
        &DIFFICULTY_HEADERS,
        rows,
        &name,
    )
    .await
}

const TRAINING_HEADERS: [&str; 8] = [
    "Ngày",
    "Chủ đề",
    "Đơn vị tổ chức",
    "Địa điểm",
    "Hình thức",
    "Dịch vụ",
    "Đã hủy",
    "Số thành viên tham dự",
];

/// Trainings of the commune with attendance counts.
#[utoipa::path(tag = "exports", params(ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The file: CSV (UTF-8 with BOM) or XLSX", content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad dates, or too many rows", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for city oversight", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/exports/trainings")]
pub async fn export_trainings(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = scope(&auth, query.into_inner())?;
    let format = s.format;
    let name = format!("tap-huan-{}-{}", s.from, s.to);
    let rows = db::run(&state.pool, move |conn| {
        let list = q::trainings(
            conn,
            s.window.commune_id.as_deref(),
            s.from,
            s.to,
            MAX_ROWS + 1,
        )?;
        if list.len() as i64 > MAX_ROWS {
            return Err(too_many());
        }
        let mut counts = HashMap::new();
        let ids: Vec<String> = list.iter().map(|t| t.id.clone()).collect();
        for chunk in ids.chunks(CHUNK) {
            counts.extend(crate::db::teamwork::attended_counts(conn, chunk)?);
        }
        let service_list = service_names(conn)?;
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|t| {
                let services: Vec<String> =
                    serde_json::from_str(&t.service_codes).unwrap_or_default();
                vec![
                    t.held_on.to_string(),
                    t.topic.clone(),
                    office_name(&t.organiser),
                    t.place.clone(),
                    TrainingMode::label_vi(&t.mode),
                    named_services(&services, &service_list),
                    if t.cancelled_at.is_some() { "Có" } else { "" }.to_owned(),
                    counts.get(&t.id).copied().unwrap_or(0).to_string(),
                ]
            })
            .collect();
        audit(conn, &auth, "trainings", &s, rows.len())?;
        Ok(rows)
    })
    .await?;
    export_file(format, "Tập huấn", &TRAINING_HEADERS, rows, &name).await
}
