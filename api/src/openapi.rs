//! The OpenAPI 3.1 document: paths are collected from the router by `utoipa-actix-web`, so the spec
//! cannot drift from the routes; this file adds what the router does not know.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Từng Nhà API",
        description = "Work platform for Vietnam's Community Digital Technology Teams \
                       (Tổ Công nghệ số cộng đồng). Errors are `application/problem+json` \
                       (RFC 9457) with a stable `code`.",
        license(name = "MIT")
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, token refresh, logout and the current user"),
        (name = "users", description = "Accounts, roles and scope"),
        (name = "admin", description = "Administration: the audit log"),
        (name = "communes", description = "Communes and villages"),
        (name = "services", description = "The digital-service catalogue"),
        (name = "teams", description = "Community digital technology teams and their members"),
        (name = "households", description = "Households, residents, adoption ledger, imports and exports"),
        (name = "sync", description = "Offline sync: push, pull, devices and conflicts"),
        (name = "records", description = "Field records: assistance and communications"),
        (name = "difficulties", description = "The difficulty inbox: raised by teams, answered or assigned by the culture-social office, a thread of replies, response times"),
        (name = "materials", description = "Guides for each service: Markdown, versioned, draft or published, with image and PDF attachments; published guides reach phones through sync"),
        (name = "emulation", description = "Emulation campaigns scored on outcomes brought to done, their leaderboards, and award proposals decided by the chairman"),
        (name = "exports", description = "CSV (UTF-8 with BOM) and XLSX exports of field records, communications, difficulties and trainings; scoped and audited"),
        (name = "trainings", description = "Trainings for the teams and their attendance; each member's training history"),
        (name = "stats", description = "Indicators as data, their figures by period and who is still missing"),
        (name = "reports", description = "The quarterly and annual report: prepared, approved, frozen; XLSX and printable A4"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// The full spec, built from the same route configuration the server mounts.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::health::configure)
        .service(utoipa_actix_web::scope("/api/v1").configure(crate::routes::configure_api))
        .split_for_parts();
    api
}

/// The spec as the pretty JSON committed at `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
