//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every error a client can see has a stable snake_case `code` (clients translate on it) and the right
//! status. Internal causes are logged with their whole chain and never sent to the client. actix's own
//! errors (bad JSON, wrong content type, payload too large, unknown route) are rewritten into the same
//! shape by [`json_error_handler`] and friends, and by the [`problem_for_bare_errors`] middleware.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{error, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `items[2].service_code`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `too_long`, `required`, `unknown_service`.
    pub code: String,
    /// Human-readable explanation (English).
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, with our stable `code` and optional per-field `errors`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the `code` member identifies the problem.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub type_: &'static str,
    /// The HTTP reason phrase of `status`.
    #[schema(example = "Bad Request")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong, for a person.
    #[schema(example = "The request body is not valid JSON: expected value at line 1 column 2")]
    pub detail: String,
    /// Stable machine-readable code of the problem.
    #[schema(example = "malformed_json")]
    pub code: String,
    /// Invalid fields, when the problem is a validation failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a stable code; `errors` lists the invalid fields.
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404; also what a caller gets for an object outside its scope.
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    PreconditionFailed { code: &'static str, detail: String },
    /// 428: an update must say which version it changes (`If-Match`).
    #[error("{detail}")]
    PreconditionRequired { detail: String },
    #[error("{detail}")]
    PayloadTooLarge { detail: String },
    #[error("{detail}")]
    UnsupportedMediaType { detail: String },
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// 503 with `Retry-After`: `server_busy`, `server_slow`, `database_unavailable`, `storage_full`.
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
    /// 500; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        ApiError::BadRequest {
            code: "validation_failed",
            detail,
            errors,
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound {
            code: "not_found",
            detail: format!("{what} not found"),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::PreconditionFailed { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Unavailable { code, .. } => code,
            ApiError::PreconditionRequired { .. } => "precondition_required",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            ApiError::BadRequest { errors, .. } | ApiError::Unprocessable { errors, .. } => errors,
            _ => &[],
        }
    }
}

/// The problem+json response for a status, code and detail.
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: &str,
    errors: &[FieldError],
) -> HttpResponse {
    let problem = Problem {
        type_: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: code.to_owned(),
        errors: errors.to_vec(),
    };
    HttpResponse::build(status)
        .content_type(PROBLEM_JSON)
        .json(problem)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired { .. } => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(cause) => {
                tracing::error!(error.cause_chain = ?cause, "internal error");
                "The server could not complete the request. It has been logged.".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = problem_response(status, self.code(), &detail, self.field_errors());
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if let ApiError::Unavailable { .. } = self {
            // Busy or the database away: phones back off and come back.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(5u32));
        }
        if let ApiError::Unauthorized { .. } = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::not_found("object"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApiError::Conflict {
                code: "already_exists",
                detail: "an object with the same unique value already exists".into(),
            },
            other => match storage_away(&other) {
                Some(api) => {
                    tracing::error!(error = %other, code = api.code(), "storage away: answering 503");
                    api
                }
                None => ApiError::Internal(other.into()),
            },
        }
    }
}

/// Failures of the storage rather than of the request, which pass without the request changing: the
/// disk is full (SQLite's `SQLITE_FULL`, whose message is fixed), or the connection to PostgreSQL was
/// cut (a restart, a failover, sessions ended by an administrator). The transaction did not commit,
/// or the cut hid its commit and a push sent again is answered `duplicate`; either way 503 with
/// `Retry-After` tells a phone to keep its outbox and come back.
fn storage_away(e: &diesel::result::Error) -> Option<ApiError> {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(_, info) if info.message().contains("database or disk is full") => {
            Some(ApiError::Unavailable {
                code: "storage_full",
                detail: "The server's disk is full; try again later.".into(),
            })
        }
        // `UnableToSendCommand`: libpq refused to send because the session is already gone ("no
        // connection to the server"), so nothing of this statement reached the database.
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => Some(database_unavailable()),
        Error::RollbackErrorOnCommit { commit_error, .. } => storage_away(commit_error),
        _ => None,
    }
}

fn database_unavailable() -> ApiError {
    ApiError::Unavailable {
        code: "database_unavailable",
        detail: "The database is not reachable right now; try again shortly.".into(),
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %e, "database pool exhausted or unreachable");
        database_unavailable()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// Rewrites JSON extractor failures: syntax → 400 `malformed_json`, wrong shape → 400 `invalid_body`,
/// too large → 413, wrong content type → 415.
pub fn json_error_handler(err: error::JsonPayloadError, _req: &HttpRequest) -> error::Error {
    use error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { length, limit } => ApiError::PayloadTooLarge {
            detail: format!("The body is {length} bytes; the limit is {limit} bytes."),
        },
        E::Overflow { limit } => ApiError::PayloadTooLarge {
            detail: format!("The body exceeds the limit of {limit} bytes."),
        },
        E::ContentType => ApiError::UnsupportedMediaType {
            detail: "The body must be sent with Content-Type: application/json.".into(),
        },
        E::Deserialize(de) if de.is_data() => ApiError::BadRequest {
            code: "invalid_body",
            detail: format!("The JSON body does not have the expected shape: {de}"),
            errors: vec![],
        },
        E::Deserialize(de) => ApiError::BadRequest {
            code: "malformed_json",
            detail: format!("The request body is not valid JSON: {de}"),
            errors: vec![],
        },
        other => ApiError::BadRequest {
            code: "unreadable_body",
            detail: format!("The request body could not be read: {other}"),
            errors: vec![],
        },
    };
    error::InternalError::from_response(err, api.error_response()).into()
}

/// Rewrites query-string extractor failures into 400 `invalid_query`.
pub fn query_error_handler(err: error::QueryPayloadError, _req: &HttpRequest) -> error::Error {
    let api = ApiError::BadRequest {
        code: "invalid_query",
        detail: format!("The query string is invalid: {err}"),
        errors: vec![],
    };
    error::InternalError::from_response(err, api.error_response()).into()
}

/// Rewrites path extractor failures into 404: a malformed id names no object.
pub fn path_error_handler(err: error::PathError, _req: &HttpRequest) -> error::Error {
    let api = ApiError::NotFound {
        code: "not_found",
        detail: format!("No such object: {err}"),
    };
    error::InternalError::from_response(err, api.error_response()).into()
}

/// Rewrites raw payload failures (size limit on non-JSON bodies) into problem+json.
pub fn payload_error_handler(err: error::PayloadError, _req: &HttpRequest) -> error::Error {
    let api = match &err {
        error::PayloadError::Overflow => ApiError::PayloadTooLarge {
            detail: "The body exceeds the size limit.".into(),
        },
        other => ApiError::BadRequest {
            code: "unreadable_body",
            detail: format!("The request body could not be read: {other}"),
            errors: vec![],
        },
    };
    error::InternalError::from_response(err, api.error_response()).into()
}

/// Last line of defence: any 4xx/5xx response under `/api/` (or the health routes) that is not already
/// problem+json — an unknown route, a wrong method, an error from actix itself — is replaced with one.
pub async fn problem_for_bare_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(res.map_into_left_body());
    }
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("route_not_found", "No resource at this path.".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This method is not allowed on this resource.".to_owned(),
        ),
        s if s.is_server_error() => (
            "internal_error",
            "The server could not complete the request.".to_owned(),
        ),
        s => (
            "bad_request",
            s.canonical_reason().unwrap_or("Bad request").to_owned(),
        ),
    };
    let (req, _) = res.into_parts();
    let replacement = problem_response(status, code, &detail, &[]);
    Ok(ServiceResponse::new(req, replacement).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_hide_their_cause() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 in connection string"));
        let res = err.error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(res.into_body()).await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("\"code\":\"internal_error\""), "{text}");
    }

    #[actix_web::test]
    async fn too_many_requests_carries_retry_after() {
        let err = ApiError::TooManyRequests {
            detail: "slow down".into(),
            retry_after_secs: 42,
        };
        let res = err.error_response();
        assert_eq!(
            res.headers().get(header::RETRY_AFTER).expect("header"),
            "42"
        );
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).expect("ct"),
            PROBLEM_JSON
        );
    }

    struct Info(&'static str);
    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn unique_violations_become_conflicts() {
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new(Info("UNIQUE constraint failed")),
        );
        let api: ApiError = e.into();
        assert_eq!(api.status_code(), StatusCode::CONFLICT);
        assert_eq!(api.code(), "already_exists");
    }

    #[test]
    fn a_full_disk_and_a_lost_connection_ask_to_come_back_later() {
        use diesel::result::{DatabaseErrorKind, Error};
        let full = || {
            Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(Info("database or disk is full")),
            )
        };
        let closed = || {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new(Info("server closed the connection unexpectedly")),
            )
        };
        let on_commit = Error::RollbackErrorOnCommit {
            rollback_error: Box::new(Error::BrokenTransactionManager),
            commit_error: Box::new(closed()),
        };
        let not_sent = Error::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand,
            Box::new(Info("no connection to the server")),
        );
        for (e, code) in [
            (full(), "storage_full"),
            (closed(), "database_unavailable"),
            (not_sent, "database_unavailable"),
            (on_commit, "database_unavailable"),
        ] {
            let api: ApiError = e.into();
            assert_eq!(api.code(), code);
            let res = api.error_response();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(res.headers().contains_key(header::RETRY_AFTER), "{code}");
        }
        let other: ApiError =
            Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Info("no such table")))
                .into();
        assert_eq!(other.code(), "internal_error");
    }
}
