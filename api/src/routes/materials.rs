//! Guides (tài liệu) a department publishes for its services: Markdown, versioned (every edit is a new
//! version), draft until published; images and PDF attachments checked by their content and stored
//! under the data directory. Published guides reach phones through sync.

use std::collections::HashMap;

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::{IntoParams, ToSchema};

use super::paging;
pub use crate::app::materials::{attachment_response, shown_attachments, AttachmentResponse};
use crate::auth::AuthUser;
use crate::db::materials::{self as store, Attachment, Material, Version};
use crate::db::{self, DbConnection};
use crate::domain::{optional_text, Department, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_materials)
        .service(create_material)
        .service(get_material)
        .service(update_material)
        .service(publish_material)
        .service(withdraw_material)
        .service(material_versions)
        .service(upload_attachment)
        .service(download_attachment);
}

/// Largest attachment.
pub const ATTACHMENT_MAX_BYTES: usize = 10 << 20;
/// Longest Markdown body, in characters.
pub const BODY_MAX_CHARS: usize = 100_000;
/// The file types a guide may carry, recognised by their content: (MIME type, extension).
pub const ALLOWED_TYPES: [(&str, &str); 4] = [
    ("application/pdf", "pdf"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/webp", "webp"),
];

#[derive(Serialize, ToSchema)]
pub struct MaterialResponse {
    pub id: String,
    /// Absent for a guide every commune reads.
    pub commune_id: Option<String>,
    /// The department that owns it.
    #[schema(example = "police")]
    pub department: String,
    /// `draft` (never published), `published` or `withdrawn`.
    pub status: String,
    pub latest_version: i32,
    pub published_version: Option<i32>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The version shown: the latest for those who edit it, the published one for readers.
    pub version: i32,
    #[schema(example = "Kích hoạt tài khoản định danh điện tử mức 2")]
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub service_codes: Vec<String>,
    pub attachments: Vec<AttachmentResponse>,
    /// The caller may edit and publish it.
    pub editable: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct MaterialList {
    pub items: Vec<MaterialResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionResponse {
    pub version: i32,
    pub title: String,
    pub summary: String,
    pub service_codes: Vec<String>,
    pub attachment_ids: Vec<String>,
    pub author_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// This is the version phones have.
    pub published: bool,
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MaterialQuery {
    /// Only guides explaining this service.
    pub service: Option<String>,
    /// Only this department's guides.
    pub department: Option<String>,
    /// Leave the Markdown bodies out (`false` keeps lists light; default `true`).
    pub with_body: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// An earlier version (editors only).
    pub version: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaterial {
    /// The chairman and administrators name the department; a department writes its own.
    pub department: Option<String>,
    /// Administrators: a commune, or none for a guide every commune reads.
    pub commune_id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    /// Markdown, at most 100,000 characters.
    pub body: String,
    #[serde(default)]
    pub service_codes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMaterial {
    /// The latest version the edit was made on; an edit on an older one is refused (409).
    pub base_version: i32,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub service_codes: Option<Vec<String>>,
    /// Attachments of this guide to show, in order.
    pub attachment_ids: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PublishMaterial {
    /// The version to publish (default the latest).
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name, shown to readers.
    pub file_name: String,
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "material_not_found",
        detail: "No such guide.".into(),
    }
}

/// May the caller edit and publish this guide?
pub fn can_edit(auth: &AuthUser, m: &Material) -> bool {
    match (auth.role, m.commune_id.as_deref()) {
        (Role::Admin, _) => true,
        (_, None) => false,
        (Role::Chairman, Some(c)) => auth.commune_id.as_deref() == Some(c),
        (Role::Department, Some(c)) => {
            auth.commune_id.as_deref() == Some(c)
                && auth.department.map(Department::as_str) == Some(m.department.as_str())
        }
        _ => false,
    }
}

/// May the caller read the published version?
fn can_read(auth: &AuthUser, m: &Material) -> bool {
    can_edit(auth, m)
        || (m.status == "published"
            && m.commune_id
                .as_deref()
                .is_none_or(|c| auth.commune_id.as_deref() == Some(c)))
}

fn load(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Material, ApiError> {
    match store::find(conn, id)? {
        Some(m) if can_read(auth, &m) => Ok(m),
        _ => Err(not_found()),
    }
}

fn load_editable(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Material, ApiError> {
    let m = load(conn, auth, id)?;
    if can_edit(auth, &m) {
        Ok(m)
    } else {
        Err(crate::access::role_not_allowed(
            "Only the owning department, the chairman or an administrator edits this guide.",
        ))
    }
}

fn response(
    m: Material,
    v: &Version,
    files: &HashMap<String, AttachmentResponse>,
    editable: bool,
    with_body: bool,
) -> MaterialResponse {
    MaterialResponse {
        published_at: m.published_at.map(paging::utc),
        updated_at: paging::utc(m.updated_at),
        id: m.id,
        commune_id: m.commune_id,
        department: m.department,
        status: m.status,
        latest_version: m.latest_version,
        published_version: m.published_version,
        version: v.version,
        title: v.title.clone(),
        summary: v.summary.clone(),
        body: if with_body {
            v.body.clone()
        } else {
            String::new()
        },
        service_codes: v.services(),
        attachments: v
            .attachments()
            .iter()
            .filter_map(|id| files.get(id).cloned())
            .collect(),
        editable,
    }
}

/// The version the caller sees: `wanted` (editors), the latest (editors) or the published one.
fn shown(
    conn: &mut DbConnection,
    auth: &AuthUser,
    m: Material,
    wanted: Option<i32>,
) -> Result<MaterialResponse, ApiError> {
    let editable = can_edit(auth, &m);
    let number = match (editable, wanted) {
        (true, Some(n)) => n,
        (true, None) => m.latest_version,
        (false, None) => m.published_version.ok_or_else(not_found)?,
        (false, Some(_)) => {
            return Err(crate::access::role_not_allowed(
                "Earlier versions are for those who edit the guide.",
            ))
        }
    };
    let v = store::version(conn, &m.id, number)?.ok_or_else(|| ApiError::NotFound {
        code: "version_not_found",
        detail: format!("The guide has no version {number}."),
    })?;
    let files = shown_attachments(conn, &[&v])?;
    Ok(response(m, &v, &files, editable, true))
}

fn text(
    raw: &str,
    field: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    match optional_text(Some(raw), field, max) {
        Ok(Some(v)) => v,
        Ok(None) => {
            if required {
                errors.push(FieldError::new(field, "required", "required"));
            }
            String::new()
        }
        Err(e) => {
            errors.push(e);
            String::new()
        }
    }
}

/// Checks the services a guide explains. A department writes guides for its own services only; the
/// chairman and administrators for any.
fn services(
    conn: &mut DbConnection,
    auth: &AuthUser,
    codes: &[String],
    errors: &mut Vec<FieldError>,
) -> Result<String, ApiError> {
    if auth.role == Role::Department {
        let own = auth.department.map(Department::as_str).unwrap_or_default();
        for code in codes {
            if let Some(s) = crate::db::registry::find_service_by_code(conn, code)? {
                if s.department != own {
                    return Err(ApiError::Forbidden {
                        code: "not_your_service",
                        detail: format!(
                            "`{code}` belongs to the `{}` department; it writes that guide.",
                            s.department
                        ),
                    });
                }
            }
        }
    }
    Ok(crate::db::registry::check_service_codes(
        conn,
        codes,
        "service_codes",
        errors,
    )?)
}

/// Tells phones of the guide's commune (every commune for a national guide) about it.
fn announce(conn: &mut DbConnection, m: &Material, op: &str) -> Result<(), ApiError> {
    crate::db::registry::record_change(conn, "material", &m.id, m.commune_id.as_deref(), None, op)?;
    Ok(())
}

/// Guides the caller can read: published ones of the commune and national ones; drafts too for those
/// who edit them.
#[utoipa::path(tag = "materials", params(MaterialQuery), security(("bearer" = []), ("api_key" = ["materials:read"])),
    responses(
        (status = 200, description = "Guides, newest change first", body = MaterialList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/materials")]
pub async fn list_materials(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<MaterialQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let items = db::run(&state.pool, move |conn| {
        let commune = match auth.role {
            Role::Admin => None,
            _ => Some(auth.commune_id.clone().unwrap_or_default()),
        };
        let rows: Vec<(Material, bool, i32)> = store::list(conn, commune.as_deref())?
            .into_iter()
            .filter(|m| q.department.as_ref().is_none_or(|d| *d == m.department))
            .filter_map(|m| {
                let editable = can_edit(&auth, &m);
                let number = if editable {
                    Some(m.latest_version)
                } else if can_read(&auth, &m) {
                    m.published_version
                } else {
                    None
                };
                number.map(|n| (m, editable, n))
            })
            .collect();
        let wanted: Vec<(String, i32)> = rows.iter().map(|(m, _, n)| (m.id.clone(), *n)).collect();
        let versions: HashMap<String, Version> = store::versions_of(conn, &wanted)?
            .into_iter()
            .map(|v| (v.material_id.clone(), v))
            .collect();
        let files = shown_attachments(conn, &versions.values().collect::<Vec<_>>())?;
        Ok::<_, ApiError>(
            rows.into_iter()
                .filter_map(|(m, editable, _)| {
                    let v = versions.get(&m.id)?;
                    if q.service
                        .as_ref()
                        .is_some_and(|s| !v.services().contains(s))
                    {
                        return None;
                    }
                    Some(response(
                        m,
                        v,
                        &files,
                        editable,
                        q.with_body.unwrap_or(true),
                    ))
                })
                .collect::<Vec<_>>(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(MaterialList { items }))
}

/// Writes a new guide as a draft (version 1).
#[utoipa::path(tag = "materials", request_body = CreateMaterial, security(("bearer" = [])),
    responses(
        (status = 201, description = "Draft created", body = MaterialResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Departments (for their own services), the chairman and administrators write guides", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/materials")]
pub async fn create_material(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateMaterial>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::Chairman, Role::Department])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let department = match (auth.role, b.department.as_deref()) {
        (Role::Department, d) => {
            let own = auth.department.map(Department::as_str).unwrap_or_default();
            if d.is_some_and(|d| d != own) {
                errors.push(FieldError::new(
                    "department",
                    "not_yours",
                    "a department writes its own guides",
                ));
            }
            own.to_owned()
        }
        (_, Some(d)) => Department::parse(d)
            .map(|d| d.as_str().to_owned())
            .unwrap_or_else(|e| {
                errors.push(e);
                String::new()
            }),
        (_, None) => {
            errors.push(FieldError::new(
                "department",
                "required",
                "which department owns it",
            ));
            String::new()
        }
    };
    let commune = match auth.role {
        Role::Admin => b.commune_id.clone(),
        _ => {
            let own = auth.commune_id.clone();
            if b.commune_id.is_some() && b.commune_id != own {
                return Err(ApiError::NotFound {
                    code: "commune_not_found",
                    detail: "No such commune.".into(),
                });
            }
            own
        }
    };
    let title = text(&b.title, "title", 200, true, &mut errors);
    let summary = text(&b.summary, "summary", 1000, false, &mut errors);
    let body_text = text(&b.body, "body", BODY_MAX_CHARS, true, &mut errors);
    let out = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let codes = services(conn, &auth, &b.service_codes, &mut errors)?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            if let Some(c) = &commune {
                if db::geo::find_commune(conn, c)?.is_none() {
                    return Err(ApiError::NotFound {
                        code: "commune_not_found",
                        detail: "No such commune.".into(),
                    });
                }
            }
            let now = db::now();
            let m = Material {
                id: db::new_id(),
                commune_id: commune,
                department,
                status: "draft".into(),
                latest_version: 1,
                published_version: None,
                published_at: None,
                created_by: auth.id.clone(),
                created_at: now,
                updated_at: now,
            };
            let v = Version {
                material_id: m.id.clone(),
                version: 1,
                title,
                summary,
                body: body_text,
                service_codes: codes,
                attachment_ids: "[]".into(),
                author_id: auth.id.clone(),
                created_at: now,
            };
            store::insert(conn, &m, &v)?;
            db::audit::by_user(
                conn,
                &auth,
                "material_created",
                "material",
                &m.id,
                m.commune_id.as_deref(),
                serde_json::json!({ "department": m.department }),
            )?;
            Ok(response(m, &v, &HashMap::new(), true, true))
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/materials/{}", out.id)))
        .json(out))
}

/// One guide: the published version for readers, the latest (or `?version=`) for editors.
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Guide id"), VersionQuery), security(("bearer" = []), ("api_key" = ["materials:read"])),
    responses(
        (status = 200, description = "The guide", body = MaterialResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Earlier versions are for editors", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guide (or version) for you", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/materials/{id}")]
pub async fn get_material(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let wanted = query.version;
    let out = db::run(&state.pool, move |conn| {
        let m = load(conn, &auth, &id)?;
        shown(conn, &auth, m, wanted)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Edits a guide: a new version from the latest (fields left out are kept). Readers keep the
/// published version until it is published again.
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Guide id")), request_body = UpdateMaterial, security(("bearer" = [])),
    responses(
        (status = 200, description = "The new version", body = MaterialResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owning department, or a service of another department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guide for you", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Edited meanwhile: `base_version` is not the latest", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/materials/{id}")]
pub async fn update_material(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateMaterial>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let out = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let m = load_editable(conn, &auth, &id)?;
            let stale = || ApiError::Conflict {
                code: "stale_version",
                detail: "Someone saved a newer version; reload it and edit again.".into(),
            };
            if b.base_version != m.latest_version {
                return Err(stale());
            }
            let latest = store::version(conn, &m.id, m.latest_version)?.ok_or_else(not_found)?;
            let mut errors = vec![];
            let title = b
                .title
                .as_deref()
                .map(|t| text(t, "title", 200, true, &mut errors))
                .unwrap_or_else(|| latest.title.clone());
            let summary = b
                .summary
                .as_deref()
                .map(|t| text(t, "summary", 1000, false, &mut errors))
                .unwrap_or_else(|| latest.summary.clone());
            let body_text = b
                .body
                .as_deref()
                .map(|t| text(t, "body", BODY_MAX_CHARS, true, &mut errors))
                .unwrap_or_else(|| latest.body.clone());
            let codes = match &b.service_codes {
                Some(c) => services(conn, &auth, c, &mut errors)?,
                None => latest.service_codes.clone(),
            };
            let files = match &b.attachment_ids {
                Some(ids) => {
                    let own: Vec<String> = store::attachments_of(conn, &m.id)?
                        .into_iter()
                        .map(|a| a.id)
                        .collect();
                    for (i, a) in ids.iter().enumerate() {
                        if !own.contains(a) {
                            errors.push(FieldError::new(
                                format!("attachment_ids[{i}]"),
                                "unknown_attachment",
                                "not a file of this guide",
                            ));
                        }
                    }
                    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
                }
                None => latest.attachment_ids.clone(),
            };
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let now = db::now();
            if store::bump(conn, &m.id, m.latest_version, now)? != 1 {
                return Err(stale());
            }
            let v = Version {
                material_id: m.id.clone(),
                version: m.latest_version + 1,
                title,
                summary,
                body: body_text,
                service_codes: codes,
                attachment_ids: files,
                author_id: auth.id.clone(),
                created_at: now,
            };
            store::insert_version(conn, &v)?;
            db::audit::by_user(
                conn,
                &auth,
                "material_updated",
                "material",
                &m.id,
                m.commune_id.as_deref(),
                serde_json::json!({ "version": v.version }),
            )?;
            let m = store::find(conn, &m.id)?.ok_or_else(not_found)?;
            shown(conn, &auth, m, None)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Publishes a version (default the latest): phones get it at their next pull.
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Guide id")), request_body = PublishMaterial, security(("bearer" = [])),
    responses(
        (status = 200, description = "Published", body = MaterialResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owning department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guide or version", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/materials/{id}/publish")]
pub async fn publish_material(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: Option<web::Json<PublishMaterial>>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let wanted = body.map(|b| b.into_inner()).unwrap_or_default().version;
    let out = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let m = load_editable(conn, &auth, &id)?;
            let number = wanted.unwrap_or(m.latest_version);
            if store::version(conn, &m.id, number)?.is_none() {
                return Err(ApiError::NotFound {
                    code: "version_not_found",
                    detail: format!("The guide has no version {number}."),
                });
            }
            if !(m.status == "published" && m.published_version == Some(number)) {
                store::publish(conn, &m.id, number, db::now())?;
                announce(conn, &m, "upsert")?;
                db::audit::by_user(
                    conn,
                    &auth,
                    "material_published",
                    "material",
                    &m.id,
                    m.commune_id.as_deref(),
                    serde_json::json!({ "version": number }),
                )?;
            }
            let m = store::find(conn, &m.id)?.ok_or_else(not_found)?;
            shown(conn, &auth, m, Some(number))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Withdraws a published guide: phones drop it at their next pull. Publishing again restores it.
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Guide id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = MaterialResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owning department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guide", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/materials/{id}/withdraw")]
pub async fn withdraw_material(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let out = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let m = load_editable(conn, &auth, &id)?;
            if store::withdraw(conn, &m.id, db::now())? == 1 {
                announce(conn, &m, "delete")?;
                db::audit::by_user(
                    conn,
                    &auth,
                    "material_withdrawn",
                    "material",
                    &m.id,
                    m.commune_id.as_deref(),
                    serde_json::json!({}),
                )?;
            }
            let m = store::find(conn, &m.id)?.ok_or_else(not_found)?;
            shown(conn, &auth, m, None)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Every version of a guide, newest first (editors).
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Guide id")), security(("bearer" = []), ("api_key" = ["materials:read"])),
    responses(
        (status = 200, description = "Versions", body = VersionList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owning department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guide", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/materials/{id}/versions")]
pub async fn material_versions(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let items = db::run(&state.pool, move |conn| {
        let m = load_editable(conn, &auth, &id)?;
        Ok(store::history(conn, &m.id)?
            .into_iter()
            .map(|v| VersionResponse {
                published: m.published_version == Some(v.version) && m.status == "published",
                service_codes: v.services(),
                attachment_ids: v.attachments(),
                created_at: paging::utc(v.created_at),
                version: v.version,
                title: v.title,
                summary: v.summary,
                author_id: v.author_id,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(VersionList { items }))
}

/// A file name safe to show and to send back: the last path part, no control characters, at most 120
/// characters, with the extension of the recognised type.
fn clean_file_name(raw: &str, ext: &str) -> Result<String, FieldError> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base).trim();
    if stem.is_empty() || stem.chars().any(char::is_control) {
        return Err(FieldError::new(
            "file_name",
            "invalid",
            "a file name without control characters",
        ));
    }
    let stem: String = stem.chars().take(110).collect();
    Ok(format!("{stem}.{ext}"))
}

/// Uploads an image or PDF for a guide (send the file as the body). The type is recognised from the
/// content, whatever the name or Content-Type say; at most 10 MiB. Add the returned id to the guide's
/// `attachment_ids` to show it.
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Guide id"), UploadQuery),
    request_body(content = Vec<u8>, description = "The file (PDF, PNG, JPEG or WebP)", content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = AttachmentResponse),
        (status = 400, description = "Empty file or bad name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owning department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guide", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, PNG, JPEG or WebP file", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/materials/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // Check the caller before reading a large body.
    let check = auth.clone();
    let check_id = id.clone();
    db::run(&state.pool, move |conn| {
        load_editable(conn, &check, &check_id).map(|_| ())
    })
    .await?;
    let bytes = super::read_body(
        payload,
        ATTACHMENT_MAX_BYTES,
        "An attachment has at most 10 MiB.",
    )
    .await?;
    if bytes.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "empty",
            "the file is empty",
        )]));
    }
    let (mime, ext) = infer::get(&bytes)
        .and_then(|t| {
            ALLOWED_TYPES
                .iter()
                .find(|(m, _)| *m == t.mime_type())
                .copied()
        })
        .ok_or_else(|| ApiError::UnsupportedMediaType {
            detail: "A guide carries PDF, PNG, JPEG or WebP files; this content is none of them."
                .into(),
        })?;
    let file_name =
        clean_file_name(&query.file_name, ext).map_err(|e| ApiError::validation(vec![e]))?;
    let sha = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let attachment = Attachment {
        id: db::new_id(),
        material_id: id,
        file_name,
        content_type: mime.into(),
        size_bytes: bytes.len() as i64,
        sha256: sha,
        uploaded_by: auth.id.clone(),
        created_at: db::now(),
    };
    // The row and its bytes in one transaction: every instance serves the same file, and a
    // database backup holds it.
    let row = attachment.clone();
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let m = load_editable(conn, &auth, &row.material_id)?;
            store::insert_attachment(conn, &row, &bytes)?;
            db::audit::by_user(
                conn,
                &auth,
                "attachment_uploaded",
                "material",
                &m.id,
                m.commune_id.as_deref(),
                serde_json::json!({ "attachment": row.id, "size": row.size_bytes, "type": row.content_type }),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(attachment_response(&attachment)))
}

/// Downloads an attachment: editors any file of their guide, readers the files of the published
/// version. The content never changes for an id, so phones may cache it for good.
#[utoipa::path(tag = "materials", params(("id" = String, Path, description = "Attachment id")), security(("bearer" = []), ("api_key" = ["materials:read"])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file for you", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/attachments/{id}")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let gone = || ApiError::NotFound {
        code: "attachment_not_found",
        detail: "No such file.".into(),
    };
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (a, bytes) = db::run(&state.pool, move |conn| {
        let a = store::find_attachment(conn, &id)?.ok_or_else(gone)?;
        let m = store::find(conn, &a.material_id)?.ok_or_else(gone)?;
        let shown = can_edit(&auth, &m)
            || (can_read(&auth, &m) && {
                let published = match m.published_version {
                    Some(n) => store::version(conn, &m.id, n)?,
                    None => None,
                };
                published.is_some_and(|v| v.attachments().contains(&a.id))
            });
        if !shown {
            return Err(gone());
        }
        // A phone that holds this file (its ETag is the content's hash) is answered without it.
        let etag = format!("\"{}\"", a.sha256);
        if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
            return Ok((a, None));
        }
        let bytes = store::attachment_content(conn, &a.id)?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("attachment {} has no stored content", a.id))
        })?;
        Ok((a, Some(bytes)))
    })
    .await?;
    let etag = format!("\"{}\"", a.sha256);
    let cache = "private, max-age=31536000, immutable";
    let Some(bytes) = bytes else {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    };
    let disposition = ContentDisposition {
        disposition: DispositionType::Inline,
        parameters: vec![DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: a.file_name.clone().into_bytes(),
        })],
    };
    Ok(HttpResponse::Ok()
        .content_type(a.content_type.clone())
        .insert_header(disposition)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(bytes))
}
