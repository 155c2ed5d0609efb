//! The OpenAPI 3.1 document: paths are collected from the router by `utoipa-actix-web`, so the spec
//! cannot drift from the routes; this file adds what the router does not know.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Từng Nhà API",
        description = "Nền tảng làm việc của Tổ Công nghệ số cộng đồng. Work platform for \
                       Vietnam's Community Digital Technology Teams (Tổ Công nghệ số cộng đồng). Errors are `application/problem+json` \
                       (RFC 9457) with a stable `code`.",
        license(name = "MIT")
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        // Query enums named by `$ref` from parameters, which utoipa does not collect itself.
        crate::routes::exports::ExportFormat,
        crate::routes::reports::ReportFormat,
        crate::routes::stats::GroupBy,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Tình trạng máy chủ. Liveness and readiness"),
        (name = "auth", description = "Đăng nhập, làm mới phiên, đăng xuất. Login, token refresh, logout and the current user"),
        (name = "users", description = "Tài khoản, vai trò, phạm vi. Accounts, roles and scope"),
        (name = "admin", description = "Quản trị: nhật ký truy cập. Administration: the audit log"),
        (name = "communes", description = "Xã và thôn. Communes and villages"),
        (name = "services", description = "Danh mục dịch vụ số. The digital-service catalogue"),
        (name = "teams", description = "Tổ Công nghệ số cộng đồng và thành viên. Community digital technology teams and their members"),
        (name = "households", description = "Hộ dân, nhân khẩu, sổ theo dõi sử dụng dịch vụ, nhập và xuất danh sách. Households, residents, adoption ledger, imports and exports"),
        (name = "sync", description = "Đồng bộ ngoại tuyến. Offline sync: push, pull, devices and conflicts"),
        (name = "records", description = "Phiếu hỗ trợ và hoạt động tuyên truyền. Field records: assistance and communications"),
        (name = "difficulties", description = "Khó khăn, vướng mắc của các tổ. The difficulty inbox: raised by teams, answered or assigned by the culture-social office, a thread of replies, response times"),
        (name = "materials", description = "Tài liệu hướng dẫn. Guides for each service: Markdown, versioned, draft or published, with image and PDF attachments; published guides reach phones through sync"),
        (name = "emulation", description = "Thi đua, khen thưởng. Emulation campaigns scored on outcomes brought to done, their leaderboards, and award proposals decided by the chairman"),
        (name = "exports", description = "Xuất dữ liệu. CSV (UTF-8 with BOM) and XLSX exports of field records, communications, difficulties and trainings, and the change feed for warehouses; scoped and audited"),
        (name = "trainings", description = "Tập huấn. Trainings for the teams and their attendance; each member's training history"),
        (name = "stats", description = "Chỉ tiêu, số liệu. Indicators as data, their figures by period and who is still missing"),
        (name = "plans", description = "Kế hoạch, chỉ tiêu, kinh phí. Targets per indicator for the commune and its villages, progress against them, and the funds received and spent in whole đồng"),
        (name = "reports", description = "Báo cáo quý, năm. The quarterly and annual report: prepared, approved, frozen; XLSX and printable A4"),
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
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tn_ API key")
                    .description(Some(
                        "An integration's API key (`tn_…`, created by an administrator with POST \
                         /api/v1/api-keys), sent as `Authorization: Bearer tn_…`. An operation \
                         that a key may call names the key scope it needs in its `api_key` \
                         security requirement; a key calls nothing else.",
                    ))
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
    let mut api = api;
    StandardProblems.modify(&mut api);
    api
}

/// The problem responses every operation of a kind can give, added where a handler did not document
/// them: the extractors answer 400 for a bad query string, 400/413/415 for a bad JSON body and 404 for
/// a malformed path id; the bearer check answers 401; an API key over its rate answers 429.
struct StandardProblems;

impl Modify for StandardProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        let add = |op: &mut Operation, status: &str, description: &str| {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| problem(description));
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (false, &mut item.delete),
            ];
            for (writes, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let query: Vec<String> = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                        _ => None,
                    })
                    .collect();
                if !query.is_empty() {
                    add(op, "400", "Invalid query string");
                }
                if path.contains('{') {
                    add(op, "404", "No such object");
                }
                if query.iter().any(|q| q == "commune_id") {
                    add(op, "404", "No such commune in the caller's scope");
                }
                let json_body = op.request_body.as_ref().is_some_and(|b| match b {
                    RefOr::T(b) => b.content.contains_key("application/json"),
                    RefOr::Ref(_) => false,
                });
                if json_body {
                    add(
                        op,
                        "400",
                        "The body is not valid JSON or lacks required fields",
                    );
                    add(op, "413", "The body is larger than the limit");
                    add(op, "415", "The body must be sent as application/json");
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(
                        op,
                        "401",
                        "Not signed in, or the token is expired or revoked",
                    );
                    let key_may_call = serde_json::to_value(&op.security)
                        .ok()
                        .and_then(|v| v.as_array().cloned())
                        .is_some_and(|reqs| reqs.iter().any(|r| r.get("api_key").is_some()));
                    if !writes && key_may_call {
                        add(op, "429", "The API key is over its rate per minute");
                    }
                }
            }
        }
    }
}

/// The spec as the pretty JSON committed at `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use crate::auth::api_key::{KeyScopes, SCOPES};
    use actix_web::http::Method;

    #[test]
    fn each_key_scope_opens_the_operations_that_declare_it() {
        let spec = serde_json::to_value(super::spec()).expect("spec");
        let table = KeyScopes::from_spec(&spec).expect("every declared scope is known");
        let get = |p: &str| table.scope_for(&Method::GET, Some(p));
        assert_eq!(get("/api/v1/stats/indicators"), Some("stats:read"));
        assert_eq!(get("/api/v1/reports/{id}/pdf"), Some("stats:read"));
        assert_eq!(get("/api/v1/materials"), Some("materials:read"));
        assert_eq!(get("/api/v1/attachments/{id}"), Some("materials:read"));
        assert_eq!(get("/api/v1/exports/changes"), Some("exports:read"));
        assert_eq!(get("/api/v1/households"), None);
        assert_eq!(get("/api/v1/exports/records"), None);
        assert_eq!(
            table.scope_for(&Method::POST, Some("/api/v1/reports")),
            None
        );
        assert_eq!(table.scope_for(&Method::GET, None), None);
        for (scope, _) in SCOPES {
            let used = [
                "/api/v1/stats/indicators",
                "/api/v1/materials",
                "/api/v1/exports/changes",
            ]
            .iter()
            .any(|p| get(p) == Some(scope));
            assert!(used, "{scope} opens nothing");
        }
    }
}
