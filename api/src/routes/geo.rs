//! Communes and villages: the hierarchy every scope hangs on. Administrators manage them; everyone
//! reads the part they belong to (the city reads all: names of places are not personal data).

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, PageQuery};
use crate::auth::AuthUser;
use crate::db::{self, geo, registry::Village};
use crate::domain::{Code, DisplayName, Role};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CommuneResponse {
    /// Commune id (UUID).
    pub id: String,
    /// Administrative code.
    #[schema(example = "31-11473")]
    pub code: String,
    /// Name.
    #[schema(example = "Mao Điền")]
    pub name: String,
    /// Province or centrally-run city.
    #[schema(example = "Hải Phòng")]
    pub province: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CommunePage {
    pub items: Vec<CommuneResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VillageResponse {
    /// Village id (UUID).
    pub id: String,
    /// Commune of the village.
    pub commune_id: String,
    /// Short code used in imports, e.g. `T01`.
    #[schema(example = "T01")]
    pub code: String,
    /// Name.
    #[schema(example = "Thôn Phú Lộc")]
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct VillagePage {
    pub items: Vec<VillageResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommune {
    /// Administrative code, unique.
    #[schema(example = "31-11473")]
    pub code: String,
    /// Name.
    #[schema(example = "Mao Điền")]
    pub name: String,
    /// Province or city.
    #[schema(example = "Hải Phòng")]
    pub province: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommune {
    /// New name.
    pub name: Option<String>,
    /// New province.
    pub province: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVillage {
    /// Commune the village belongs to.
    pub commune_id: String,
    /// Short code, unique in the commune.
    #[schema(example = "T01")]
    pub code: String,
    /// Name.
    #[schema(example = "Thôn Phú Lộc")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVillage {
    /// New code.
    pub code: Option<String>,
    /// New name.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VillageQuery {
    /// Only villages of this commune.
    pub commune_id: Option<String>,
}

fn commune_response(c: geo::Commune) -> CommuneResponse {
    CommuneResponse {
        id: c.id,
        code: c.code,
        name: c.name,
        province: c.province,
        created_at: paging::utc(c.created_at),
        updated_at: paging::utc(c.updated_at),
    }
}

pub fn village_response(v: Village) -> VillageResponse {
    VillageResponse {
        id: v.id,
        commune_id: v.commune_id,
        code: v.code,
        name: v.name,
        created_at: paging::utc(v.created_at),
        updated_at: paging::utc(v.updated_at),
    }
}

/// The commune a caller is limited to, `None` for admin and city (all).
fn commune_limit(auth: &AuthUser) -> Result<Option<String>, ApiError> {
    match auth.role {
        Role::Admin | Role::City => Ok(None),
        _ => auth
            .commune_id
            .clone()
            .map(Some)
            .ok_or_else(|| ApiError::Forbidden {
                code: "no_scope",
                detail: "This account is not attached to a commune.".into(),
            }),
    }
}

/// A unique-code violation as `409 code_taken`; other database errors as they are.
fn code_taken(e: diesel::result::Error, detail: &str) -> ApiError {
    match ApiError::from(e) {
        ApiError::Conflict { .. } => ApiError::Conflict {
            code: "code_taken",
            detail: detail.to_owned(),
        },
        other => other,
    }
}

fn name(raw: &str, field: &str) -> Result<DisplayName, FieldError> {
    DisplayName::parse(raw, field)
}

/// Communes the caller can see.
#[utoipa::path(tag = "communes", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of communes", body = CommunePage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/communes")]
pub async fn list_communes(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let only = commune_limit(&auth)?;
    let rows = db::run(&state.pool, move |conn| {
        Ok(geo::list_communes(
            conn,
            only.as_deref(),
            after.as_deref(),
            limit,
        )?)
    })
    .await?;
    let next_cursor = paging::next_cursor(&rows, limit, |c| c.id.clone());
    Ok(HttpResponse::Ok().json(CommunePage {
        items: rows.into_iter().map(commune_response).collect(),
        next_cursor,
    }))
}

/// Adds a commune (administrators).
#[utoipa::path(tag = "communes", request_body = CreateCommune, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CommuneResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/communes")]
pub async fn create_commune(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateCommune>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let code = Code::parse(&b.code, "code")
        .map_err(|e| errors.push(e))
        .ok();
    let cname = name(&b.name, "name").map_err(|e| errors.push(e)).ok();
    let province = name(&b.province, "province")
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(code), Some(cname), Some(province)) = (code, cname, province) else {
        return Err(ApiError::validation(errors));
    };
    let commune = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let id = db::new_id();
            let now = db::now();
            geo::insert_commune(
                conn,
                &geo::NewCommune {
                    id: &id,
                    code: code.as_str(),
                    name: cname.as_str(),
                    province: province.as_str(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| code_taken(e, "A commune with this code exists."))?;
            db::audit::by_user(
                conn,
                &auth,
                "commune_created",
                "commune",
                &id,
                Some(&id),
                serde_json::json!({"code": code.as_str()}),
            )?;
            geo::find_commune(conn, &id)?.ok_or_else(|| ApiError::not_found("commune"))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(commune_response(commune)))
}

/// One commune.
#[utoipa::path(tag = "communes", params(("id" = String, Path, description = "Commune id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The commune", body = CommuneResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/communes/{id}")]
pub async fn get_commune(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let limit = commune_limit(&auth)?;
    let found = db::run(&state.pool, move |conn| Ok(geo::find_commune(conn, &id)?)).await?;
    match found {
        Some(c) if limit.as_deref().is_none_or(|l| l == c.id) => {
            Ok(HttpResponse::Ok().json(commune_response(c)))
        }
        _ => Err(ApiError::NotFound {
            code: "commune_not_found",
            detail: "No such commune.".into(),
        }),
    }
}

/// Renames a commune (administrators).
#[utoipa::path(tag = "communes", params(("id" = String, Path, description = "Commune id")), request_body = UpdateCommune, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed commune", body = CommuneResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/communes/{id}")]
pub async fn update_commune(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateCommune>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    let b = body.into_inner();
    let cname = b
        .name
        .as_deref()
        .map(|n| name(n, "name"))
        .transpose()
        .map_err(|e| ApiError::validation(vec![e]))?;
    let province = b
        .province
        .as_deref()
        .map(|n| name(n, "province"))
        .transpose()
        .map_err(|e| ApiError::validation(vec![e]))?;
    let commune = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let before = geo::find_commune(conn, &id)?.ok_or_else(|| ApiError::NotFound {
                code: "commune_not_found",
                detail: "No such commune.".into(),
            })?;
            geo::update_commune(
                conn,
                &id,
                cname.as_ref().map(|n| n.as_str()),
                province.as_ref().map(|p| p.as_str()),
            )?;
            db::audit::by_user(
                conn,
                &auth,
                "commune_updated",
                "commune",
                &id,
                Some(&id),
                serde_json::json!({"before": {"name": before.name, "province": before.province}}),
            )?;
            geo::find_commune(conn, &id)?.ok_or_else(|| ApiError::not_found("commune"))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(commune_response(commune)))
}

/// Villages the caller can see.
#[utoipa::path(tag = "communes", params(PageQuery, VillageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of villages", body = VillagePage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/villages")]
pub async fn list_villages(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
    query: web::Query<VillageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let limit_commune = commune_limit(&auth)?;
    let commune = query.into_inner().commune_id;
    if let (Some(l), Some(c)) = (&limit_commune, &commune) {
        if l != c {
            return Ok(HttpResponse::Ok().json(VillagePage {
                items: vec![],
                next_cursor: None,
            }));
        }
    }
    let commune = commune.or(limit_commune);
    let rows = db::run(&state.pool, move |conn| {
        Ok(geo::list_villages(
            conn,
            commune.as_deref(),
            None,
            after.as_deref(),
            limit,
        )?)
    })
    .await?;
    let next_cursor = paging::next_cursor(&rows, limit, |v| v.id.clone());
    Ok(HttpResponse::Ok().json(VillagePage {
        items: rows.into_iter().map(village_response).collect(),
        next_cursor,
    }))
}

/// Adds a village to a commune (administrators).
#[utoipa::path(tag = "communes", request_body = CreateVillage, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = VillageResponse),
        (status = 400, description = "Invalid fields or unknown commune", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken in this commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/villages")]
pub async fn create_village(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateVillage>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let code = Code::parse(&b.code, "code")
        .map_err(|e| errors.push(e))
        .ok();
    let vname = name(&b.name, "name").map_err(|e| errors.push(e)).ok();
    let (Some(code), Some(vname)) = (code, vname) else {
        return Err(ApiError::validation(errors));
    };
    let village = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            if !geo::commune_exists(conn, &b.commune_id)? {
                return Err(ApiError::validation(vec![FieldError::new(
                    "commune_id",
                    "unknown_commune",
                    "no such commune",
                )]));
            }
            let id = db::new_id();
            let now = db::now();
            geo::insert_village(
                conn,
                &geo::NewVillage {
                    id: &id,
                    commune_id: &b.commune_id,
                    code: code.as_str(),
                    name: vname.as_str(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| code_taken(e, "A village with this code exists in the commune."))?;
            db::audit::by_user(
                conn,
                &auth,
                "village_created",
                "village",
                &id,
                Some(&b.commune_id),
                serde_json::json!({"code": code.as_str()}),
            )?;
            db::registry::find_village(conn, &id)?.ok_or_else(|| ApiError::not_found("village"))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(village_response(village)))
}

/// One village.
#[utoipa::path(tag = "communes", params(("id" = String, Path, description = "Village id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The village", body = VillageResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such village in scope", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/villages/{id}")]
pub async fn get_village(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let limit = commune_limit(&auth)?;
    let found = db::run(&state.pool, move |conn| {
        Ok(db::registry::find_village(conn, &id)?)
    })
    .await?;
    match found {
        Some(v) if limit.as_deref().is_none_or(|l| l == v.commune_id) => {
            Ok(HttpResponse::Ok().json(village_response(v)))
        }
        _ => Err(ApiError::NotFound {
            code: "village_not_found",
            detail: "No such village.".into(),
        }),
    }
}

/// Renames a village (administrators).
#[utoipa::path(tag = "communes", params(("id" = String, Path, description = "Village id")), request_body = UpdateVillage, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed village", body = VillageResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such village", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken in this commune", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/villages/{id}")]
pub async fn update_village(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateVillage>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    let b = body.into_inner();
    let mut errors = vec![];
    let code = b
        .code
        .as_deref()
        .map(|c| Code::parse(c, "code"))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let vname = b
        .name
        .as_deref()
        .map(|n| name(n, "name"))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let village = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let before =
                db::registry::find_village(conn, &id)?.ok_or_else(|| ApiError::NotFound {
                    code: "village_not_found",
                    detail: "No such village.".into(),
                })?;
            geo::update_village(
                conn,
                &id,
                code.as_ref().map(|c| c.as_str()),
                vname.as_ref().map(|n| n.as_str()),
            )
            .map_err(|e| code_taken(e, "A village with this code exists in the commune."))?;
            db::audit::by_user(
                conn,
                &auth,
                "village_updated",
                "village",
                &id,
                Some(&before.commune_id),
                serde_json::json!({"before": {"code": before.code, "name": before.name}}),
            )?;
            db::registry::find_village(conn, &id)?.ok_or_else(|| ApiError::not_found("village"))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(village_response(village)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_communes)
        .service(create_commune)
        .service(get_commune)
        .service(update_commune)
        .service(list_villages)
        .service(create_village)
        .service(get_village)
        .service(update_village);
}
