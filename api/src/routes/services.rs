//! The digital-service catalogue: readable by everyone signed in, edited by administrators without a
//! code change (add, rename, move to another department, retire).

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging;
use crate::auth::AuthUser;
use crate::db::{
    self,
    registry::{self, Service, ServiceChangeset},
};
use crate::domain::{Code, Department, DisplayName, Role, ServiceLevel};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ServiceResponse {
    /// Service id (UUID).
    pub id: String,
    /// Stable code used by records and indicators.
    #[schema(example = "vneid_level2")]
    pub code: String,
    /// Vietnamese name.
    #[schema(example = "Định danh điện tử VNeID mức 2")]
    pub name_vi: String,
    /// English name.
    #[schema(example = "VNeID electronic identity, level 2")]
    pub name_en: String,
    /// Owning department.
    pub department: Department,
    /// Adopted per person or per household.
    pub level: ServiceLevel,
    /// Youngest age the service targets, if any.
    pub min_age: Option<i32>,
    /// Display order.
    pub sort_order: i32,
    /// True once retired: kept for history, no longer offered.
    pub retired: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceList {
    pub items: Vec<ServiceResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServiceQuery {
    /// Include retired services (default false).
    pub include_retired: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateService {
    /// Stable code, unique.
    #[schema(example = "smart_haiphong")]
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Owning department.
    pub department: Department,
    /// Adopted per person or per household.
    pub level: ServiceLevel,
    /// Youngest targeted age.
    pub min_age: Option<i32>,
    /// Display order (default 100).
    pub sort_order: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateService {
    /// New Vietnamese name.
    pub name_vi: Option<String>,
    /// New English name.
    pub name_en: Option<String>,
    /// New owning department.
    pub department: Option<Department>,
    /// New youngest targeted age (`null` for none).
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub min_age: Option<Option<i32>>,
    /// New display order.
    pub sort_order: Option<i32>,
    /// `true` retires the service, `false` brings it back.
    pub retired: Option<bool>,
}

pub fn service_response(s: Service) -> Result<ServiceResponse, ApiError> {
    Ok(ServiceResponse {
        department: crate::domain::stored(Department::parse(&s.department))?,
        level: ServiceLevel::from_db(&s.level),
        retired: s.retired_at.is_some(),
        id: s.id,
        code: s.code,
        name_vi: s.name_vi,
        name_en: s.name_en,
        min_age: s.min_age,
        sort_order: s.sort_order,
        updated_at: paging::utc(s.updated_at),
    })
}

fn check_age(age: Option<i32>, errors: &mut Vec<FieldError>) {
    if age.is_some_and(|a| !(0..=120).contains(&a)) {
        errors.push(FieldError::new(
            "min_age",
            "out_of_range",
            "an age is between 0 and 120",
        ));
    }
}

/// The catalogue of digital services.
#[utoipa::path(tag = "services", params(ServiceQuery), security(("bearer" = []), ("api_key" = ["stats:read"])),
    responses(
        (status = 200, description = "Services in display order", body = ServiceList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/services")]
pub async fn list_services(
    state: web::Data<AppState>,
    _auth: AuthUser,
    query: web::Query<ServiceQuery>,
) -> Result<HttpResponse, ApiError> {
    let include = query.include_retired.unwrap_or(false);
    let rows = db::run(&state.pool, move |conn| {
        Ok(registry::list_services(conn, include)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ServiceList {
        items: rows
            .into_iter()
            .map(service_response)
            .collect::<Result<_, _>>()?,
    }))
}

/// Adds a service (administrators).
#[utoipa::path(tag = "services", request_body = CreateService, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ServiceResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/services")]
pub async fn create_service(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateService>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let b = body.into_inner();
    let mut errors = vec![];
    let code = Code::parse(&b.code, "code")
        .map_err(|e| errors.push(e))
        .ok();
    let name_vi = DisplayName::parse(&b.name_vi, "name_vi")
        .map_err(|e| errors.push(e))
        .ok();
    let name_en = DisplayName::parse(&b.name_en, "name_en")
        .map_err(|e| errors.push(e))
        .ok();
    check_age(b.min_age, &mut errors);
    let (Some(code), Some(name_vi), Some(name_en), true) =
        (code, name_vi, name_en, errors.is_empty())
    else {
        return Err(ApiError::validation(errors));
    };
    let service = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            if registry::find_service_by_code(conn, code.as_str())?.is_some() {
                return Err(ApiError::Conflict {
                    code: "code_taken",
                    detail: "A service with this code exists.".into(),
                });
            }
            let id = db::new_id();
            let now = db::now();
            registry::insert_service(
                conn,
                &registry::NewService {
                    id: &id,
                    code: code.as_str(),
                    name_vi: name_vi.as_str(),
                    name_en: name_en.as_str(),
                    department: b.department.as_str(),
                    level: b.level.as_str(),
                    min_age: b.min_age,
                    sort_order: b.sort_order.unwrap_or(100),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            db::registry::record_change(conn, "service", &id, None, None, "upsert")?;
            db::audit::by_user(
                conn,
                &auth,
                "service_created",
                "service",
                &id,
                None,
                serde_json::json!({"code": code.as_str()}),
            )?;
            registry::find_service(conn, &id)?.ok_or_else(|| ApiError::not_found("service"))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(service_response(service)?))
}

/// Renames, re-assigns or retires a service (administrators). Its code never changes.
#[utoipa::path(tag = "services", params(("id" = String, Path, description = "Service id")), request_body = UpdateService, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed service", body = ServiceResponse),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/services/{id}")]
pub async fn update_service(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<UpdateService>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let id = path.into_inner();
    let b = body.into_inner();
    let mut errors = vec![];
    let name_vi = super::optional_name(b.name_vi.as_deref(), "name_vi", &mut errors);
    let name_en = super::optional_name(b.name_en.as_deref(), "name_en", &mut errors);
    check_age(b.min_age.flatten(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let service = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let before = registry::find_service(conn, &id)?.ok_or_else(|| ApiError::NotFound { code: "service_not_found", detail: "No such service.".into() })?;
            let now = db::now();
            let retired_at = match b.retired {
                Some(true) if before.retired_at.is_none() => Some(Some(now)),
                Some(false) => Some(None),
                _ => None,
            };
            registry::update_service(
                conn,
                &id,
                &ServiceChangeset {
                    name_vi: name_vi.map(|n| n.as_str().to_owned()),
                    name_en: name_en.map(|n| n.as_str().to_owned()),
                    department: b.department.map(|d| d.as_str().to_owned()),
                    min_age: b.min_age,
                    sort_order: b.sort_order,
                    retired_at,
                    updated_at: Some(now),
                },
            )?;
            db::registry::record_change(conn, "service", &id, None, None, "upsert")?;
            db::audit::by_user(conn, &auth, "service_updated", "service", &id, None,
                serde_json::json!({"before": {"name_vi": before.name_vi, "department": before.department, "retired": before.retired_at.is_some()}}))?;
            registry::find_service(conn, &id)?.ok_or_else(|| ApiError::not_found("service"))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(service_response(service)?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_services)
        .service(create_service)
        .service(update_service);
}
