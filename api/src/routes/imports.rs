//! Village household lists in and out: CSV or XLSX upload with a dry run that reports every bad row,
//! then an all-or-nothing commit; exports to CSV (UTF-8 with BOM, so Excel shows Vietnamese) and XLSX
//! in the same layout, so an exported file imports back unchanged.

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::member_import::{self as members, import_villages, resolve_village};
use crate::auth::AuthUser;
use crate::db;
use crate::db::registry::{self as reg, HouseholdDraft, ResidentDraft, Village};
use crate::domain::search;
use crate::error::{ApiError, FieldError, Problem};
use crate::registry_io::{self, ExportRow, ImportError, ImportFormat, ImportedHousehold, RowError};
use crate::state::AppState;

/// Largest upload accepted (a 20,000-row workbook is far smaller).
pub const IMPORT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Most households one export holds.
pub const EXPORT_MAX_HOUSEHOLDS: i64 = 50_000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `true` checks the file and reports without writing anything.
    pub dry_run: Option<bool>,
    /// Commune to import into (administrators; others import into their own).
    pub commune_id: Option<String>,
}

/// A household of the file that is already registered (same village, head and address).
#[derive(Serialize, ToSchema)]
pub struct SkippedHousehold {
    /// First line of the household in the file.
    pub line: usize,
    /// The registered household.
    pub household_id: String,
}

/// A bad row of the file.
#[derive(Serialize, ToSchema)]
pub struct ImportRowError {
    /// Line as Excel shows it (header = 1).
    pub line: usize,
    /// Column header, as in the file.
    pub column: Option<String>,
    /// Stable code, e.g. `invalid_phone`, `unknown_village`.
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// `csv` or `xlsx`, detected from the content.
    pub format: String,
    /// Data rows read.
    pub rows: usize,
    /// Households created (or that a commit would create).
    pub households: usize,
    /// Residents created (or that a commit would create).
    pub residents: usize,
    /// Households already registered, left as they are.
    pub skipped: Vec<SkippedHousehold>,
    /// Every bad row; a commit is refused while there is one.
    pub errors: Vec<ImportRowError>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
    /// Only this village.
    pub village_id: Option<String>,
}

fn row_error(e: RowError) -> ImportRowError {
    ImportRowError {
        line: e.line,
        column: e.column,
        code: e.code,
        message: e.message,
    }
}

fn file_error(e: ImportError) -> ApiError {
    match e {
        ImportError::NotCsvOrXlsx { .. } => ApiError::UnsupportedMediaType {
            detail: e.to_string(),
        },
        other => ApiError::BadRequest {
            code: other.code(),
            detail: other.to_string(),
            errors: vec![],
        },
    }
}

fn identity(
    village: &str,
    head: &str,
    hamlet: Option<&str>,
    lane: Option<&str>,
    number: Option<&str>,
) -> String {
    let f = |s: Option<&str>| s.map(search::fold).unwrap_or_default();
    format!(
        "{village}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        search::fold(head),
        f(hamlet),
        f(lane),
        f(number)
    )
}

/// Imports a village household list (CSV or XLSX, one row per person). Send the file as the body.
#[utoipa::path(tag = "households", params(ImportQuery),
    request_body(content = Vec<u8>, description = "The CSV or XLSX file", content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dry run report, or the committed import", body = ImportReport),
        (status = 400, description = "Unreadable file, missing columns or too many rows", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither CSV nor XLSX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file has bad rows; nothing was imported", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/imports/households")]
pub async fn import_households(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let dry_run = q.dry_run.unwrap_or(false);
    let bytes = super::read_body(
        payload,
        IMPORT_MAX_BYTES,
        &format!("An import file has at most {} MiB.", IMPORT_MAX_BYTES >> 20),
    )
    .await?;
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let (format, parsed) = web::block(
        move || -> Result<(ImportFormat, registry_io::ParsedImport), ImportError> {
            let format = registry_io::detect_format(&bytes)?;
            Ok((format, registry_io::parse(&bytes, format, year)?))
        },
    )
    .await?
    .map_err(file_error)?;

    let report = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let villages = import_villages(conn, &auth, q.commune_id)?;
            let ids: Vec<String> = villages.iter().map(|v| v.id.clone()).collect();
            let mut known: HashMap<String, String> = reg::household_identities(conn, &ids)?
                .into_iter()
                .map(|h| (identity(&h.village_id, &h.head_name, h.hamlet.as_deref(), h.lane.as_deref(), h.house_number.as_deref()), h.id))
                .collect();
            let mut errors: Vec<RowError> = parsed.errors;
            let mut to_create: Vec<(&Village, &ImportedHousehold)> = vec![];
            let mut skipped = vec![];
            let mut seen_in_file = HashSet::new();
            for h in &parsed.households {
                let Some(village) = resolve_village(&villages, &h.village) else {
                    errors.push(RowError {
                        line: h.line,
                        column: Some("Thôn".into()),
                        code: "unknown_village".into(),
                        message: format!("`{}` is not a village you can import into", h.village),
                    });
                    continue;
                };
                let key = identity(&village.id, &h.head_name, h.hamlet.as_deref(), h.lane.as_deref(), h.house_number.as_deref());
                if let Some(existing) = known.get(&key) {
                    skipped.push(SkippedHousehold { line: h.line, household_id: existing.clone() });
                } else if seen_in_file.insert(key) {
                    to_create.push((village, h));
                }
            }
            errors.sort_by_key(|e| e.line);
            let residents: usize = to_create.iter().map(|(_, h)| h.residents.len()).sum();
            let report = ImportReport {
                dry_run,
                format: format.as_str().to_owned(),
                rows: parsed.rows,
                households: to_create.len(),
                residents,
                skipped,
                errors: vec![],
            };
            if dry_run {
                return Ok(ImportReport { errors: errors.into_iter().map(row_error).collect(), ..report });
            }
            if !errors.is_empty() {
                let n = errors.len();
                return Err(ApiError::Unprocessable {
                    code: "import_has_errors",
                    detail: format!("{n} rows are invalid; fix them and import again. Nothing was imported."),
                    errors: errors
                        .into_iter()
                        .map(|e| FieldError::new(format!("rows[{}].{}", e.line, e.column.unwrap_or_default()), e.code, e.message))
                        .collect(),
                });
            }
            for (village, h) in &to_create {
                let (id, _) = reg::create_household(conn, &HouseholdDraft {
                    id: None,
                    commune_id: &village.commune_id,
                    village_id: &village.id,
                    hamlet: h.hamlet.as_deref(),
                    lane: h.lane.as_deref(),
                    house_number: h.house_number.as_deref(),
                    head_name: &h.head_name,
                    phone: h.phone.as_deref(),
                    consent: None,
                    created_by: Some(&auth.id),
                    residents: h.residents.iter().map(|r| ResidentDraft {
                        full_name: &r.full_name,
                        birth_year: r.birth_year,
                        sex: r.sex.map(|s| s.as_str()),
                        phone: r.phone.as_deref(),
                        relation_to_head: r.relation_to_head.as_deref(),
                    }).collect(),
                })?;
                known.insert(identity(&village.id, &h.head_name, h.hamlet.as_deref(), h.lane.as_deref(), h.house_number.as_deref()), id);
            }
            let commune = villages.first().map(|v| v.commune_id.clone());
            db::audit::by_user(conn, &auth, "households_imported", "commune", commune.as_deref().unwrap_or(""), commune.as_deref(),
                serde_json::json!({"format": report.format, "rows": report.rows, "households": report.households, "residents": report.residents, "skipped": report.skipped.len()}))?;
            Ok(report)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// What a member list became, or would become.
#[derive(Serialize, ToSchema)]
pub struct MemberImportReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// `csv` or `xlsx`, detected from the content.
    #[schema(example = "xlsx")]
    pub format: String,
    /// Data rows read.
    pub rows: usize,
    /// One entry per account created (or that a commit would create), in file order. On a
    /// commit each carries its one-time sign-in code: this answer is the only place it is shown.
    pub members: Vec<members::PlannedMember>,
    /// Rows whose member is in the team with an account already, left as they are.
    pub skipped: Vec<members::SkippedMember>,
    /// Every bad row; a commit is refused while there is one.
    pub errors: Vec<ImportRowError>,
}

/// Imports a team member list (CSV or XLSX: `Họ và tên`, `Số điện thoại`, `Thôn`, `Chức danh`)
/// and gives every member a volunteer account with a one-time sign-in code. Send the file as the
/// body; `dry_run=true` first shows what would be created. Each row joins the active team of its
/// village (the `Thôn` column may be left out by a leader of one village).
#[utoipa::path(tag = "teams", params(ImportQuery),
    request_body(content = Vec<u8>, description = "The CSV or XLSX file", content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dry run report, or the accounts created with their sign-in codes", body = MemberImportReport),
        (status = 400, description = "Unreadable file, no name column or too many rows", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only village leaders and the culture-social office import members", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The team changed while the file was checked", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither CSV nor XLSX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file has bad rows; nothing was imported", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/imports/members")]
pub async fn import_members(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: actix_web::HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let dry_run = q.dry_run.unwrap_or(false);
    // Refuse other roles before reading the file.
    let probe = auth.clone();
    let commune = q.commune_id.clone();
    db::run(&state.pool, move |conn| {
        import_villages(conn, &probe, commune).map(|_| ())
    })
    .await?;
    let bytes = super::read_body(
        payload,
        IMPORT_MAX_BYTES,
        &format!("An import file has at most {} MiB.", IMPORT_MAX_BYTES >> 20),
    )
    .await?;
    let (format, parsed) = web::block(
        move || -> Result<(ImportFormat, registry_io::ParsedMembers), ImportError> {
            let format = registry_io::detect_format(&bytes)?;
            Ok((format, registry_io::parse_members(&bytes, format)?))
        },
    )
    .await?
    .map_err(file_error)?;
    let rows = parsed.rows;
    let report = |plan: members::Plan| MemberImportReport {
        dry_run,
        format: format.as_str().to_owned(),
        rows,
        members: plan.members,
        skipped: plan.skipped,
        errors: plan.errors.into_iter().map(row_error).collect(),
    };
    let caller = auth.clone();
    let commune = q.commune_id.clone();
    let members_in = parsed.members.clone();
    let errors_in = parsed.errors.clone();
    let first = db::run(&state.pool, move |conn| {
        let villages = import_villages(conn, &caller, commune)?;
        members::plan(conn, &villages, &members_in, errors_in)
    })
    .await?;
    if dry_run {
        return Ok(HttpResponse::Ok().json(report(first)));
    }
    if !first.errors.is_empty() {
        let n = first.errors.len();
        return Err(ApiError::Unprocessable {
            code: "import_has_errors",
            detail: format!(
                "{n} rows are invalid; fix them and import again. Nothing was imported."
            ),
            errors: first
                .errors
                .into_iter()
                .map(|e| {
                    FieldError::new(
                        format!("rows[{}].{}", e.line, e.column.unwrap_or_default()),
                        e.code,
                        e.message,
                    )
                })
                .collect(),
        });
    }
    // Hash the codes before the transaction: argon2 is slow on purpose.
    let count = first.members.len();
    let codes = state
        .hasher
        .run(move || {
            use rayon::prelude::*;
            (0..count)
                .into_par_iter()
                .map(|_| {
                    let code = members::new_sign_in_code();
                    let hash = crate::auth::password::hash(
                        &crate::domain::Password::parse(&code, "code")
                            .map_err(|e| anyhow::anyhow!(e.message))?,
                    )?;
                    Ok((code, hash))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .await?
        .map_err(ApiError::internal)?;
    let addr = super::auth::client_addr(&req);
    let commune = q.commune_id;
    let done = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let villages = import_villages(conn, &auth, commune)?;
            let mut plan = members::plan(conn, &villages, &parsed.members, parsed.errors)?;
            // A row that turned bad since the check; too few codes is `commit`'s to refuse.
            if !plan.errors.is_empty() {
                return Err(ApiError::Conflict {
                    code: "team_changed",
                    detail: "The team changed while the file was checked; send it again.".into(),
                });
            }
            members::commit(conn, &auth, &addr, &mut plan, codes)?;
            let commune = villages.first().map(|v| v.commune_id.clone());
            db::audit::by_user(conn, &auth, "members_imported", "commune", commune.as_deref().unwrap_or(""), commune.as_deref(),
                serde_json::json!({"format": format.as_str(), "rows": rows, "accounts": plan.members.len(), "skipped": plan.skipped.len()}))?;
            Ok(plan)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(report(done)))
}

/// Exports the household list in scope (one row per person), in the layout the import reads.
#[utoipa::path(tag = "households", params(ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The file (text/csv with BOM, or XLSX)", content_type = "text/csv"),
        (status = 400, description = "Unknown format", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This role may not export personal data", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/exports/households")]
pub async fn export_households(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = auth.household_scope()?;
    if !auth.sees_personal_data() {
        return Err(ApiError::Forbidden {
            code: "personal_data_not_allowed",
            detail: "This role does not export names and phones.".into(),
        });
    }
    let q = query.into_inner();
    let format = match q.format.as_deref().unwrap_or("csv") {
        "csv" => ImportFormat::Csv,
        "xlsx" => ImportFormat::Xlsx,
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "format",
                "unknown_format",
                "csv or xlsx",
            )]))
        }
    };
    let rows = db::run(&state.pool, move |conn| {
        let data = reg::households_with_residents(conn, &scope, q.village_id.as_deref(), EXPORT_MAX_HOUSEHOLDS)?;
        // A person reads this file: the village by name, and each household numbered within its
        // village (`T01-0001`) to keep its rows together, never the database's ids.
        let mut villages: HashMap<String, (String, String, usize)> = HashMap::new();
        let mut rows = Vec::new();
        for (h, residents) in &data {
            if !villages.contains_key(&h.village_id) {
                let v = reg::find_village(conn, &h.village_id)?;
                let (code, name) = v.map(|v| (v.code, v.name)).unwrap_or_default();
                villages.insert(h.village_id.clone(), (code, name, 0));
            }
            let Some(entry) = villages.get_mut(&h.village_id) else { continue };
            entry.2 += 1;
            let (household_code, village) = (format!("{}-{:04}", entry.0, entry.2), entry.1.clone());
            let row = |full_name: &str, birth_year, sex: Option<&str>, relation: Option<&str>| ExportRow {
                household_code: household_code.clone(),
                village: village.clone(),
                hamlet: h.hamlet.clone(),
                lane: h.lane.clone(),
                house_number: h.house_number.clone(),
                head_name: h.head_name.clone(),
                phone: h.phone.clone(),
                full_name: full_name.to_owned(),
                birth_year,
                sex: sex.and_then(crate::domain::Sex::from_db),
                relation_to_head: relation.map(str::to_owned),
            };
            if residents.is_empty() {
                rows.push(row(&h.head_name, None, None, Some("Chủ hộ")));
            }
            for r in residents {
                rows.push(row(&r.full_name, r.birth_year, r.sex.as_deref(), r.relation_to_head.as_deref()));
            }
        }
        db::audit::by_user(conn, &auth, "export", "households", "many", auth.commune_id.as_deref(),
            serde_json::json!({"format": format.as_str(), "households": data.len(), "rows": rows.len()}))?;
        Ok(rows)
    })
    .await?;
    let (bytes, content_type, ext) = match format {
        ImportFormat::Csv => (
            registry_io::write_csv(&rows),
            "text/csv; charset=utf-8",
            "csv",
        ),
        ImportFormat::Xlsx => (
            web::block(move || registry_io::write_xlsx(&rows))
                .await?
                .map_err(ApiError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let date = chrono::Utc::now().format("%Y-%m-%d");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"ho-dan-{date}.{ext}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(import_households)
        .service(import_members)
        .service(export_households);
}
