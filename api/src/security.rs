//! Security headers on every response, and CORS (closed unless origins are configured).
//!
//! The web app is served by the same server as the API, so it needs no CORS at all; a third-party
//! browser app on another origin is let in only by naming its origin in `cors_origins`.

use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::access::DataClass;

/// The policy of the web app and of every API answer: scripts, styles, workers and connections
/// from this origin only (no inline script or style), nothing may frame it. The one inline style
/// allowed is the printable report's, by its hash: the app opens that page from a `blob:` URL,
/// which inherits the app's policy.
pub static CSP: LazyLock<String> = LazyLock::new(|| {
    let print = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(crate::stats::report::PRINT_STYLE.as_bytes()));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-{print}'; \
         img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; \
         manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
});

/// [`CSP`] as a header value, built once (cloning it is a reference-count bump).
static CSP_HEADER: LazyLock<HeaderValue> =
    LazyLock::new(|| HeaderValue::from_str(&CSP).expect("the policy is ASCII"));

/// Swagger UI (`/docs`) runs an inline script and styles of its own; it shows only the public
/// contract, and it still may not be framed.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Answers of the API are of [`DataClass::Personal`] unless their handler set
/// a `Cache-Control` of its own (a guide's attachment, identical for every reader): any of them may
/// hold names, phones, notes or who did what, so no browser or proxy cache keeps them.
pub async fn cache_by_data_class(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = req.path().starts_with("/api/");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(DataClass::Personal.cache_control()),
        );
    }
    Ok(res)
}

/// Adds the security headers to every answer, errors included.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let docs = req.path().starts_with("/docs");
    // Whether the browser reached us over TLS is believed only from a trusted proxy (`client.rs`).
    let https = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| {
            s.settings
                .trusted_proxies
                .client(req.peer_addr(), req.headers())
                .https
        });
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let csp = if docs {
        HeaderValue::from_static(DOCS_CSP)
    } else {
        CSP_HEADER.clone()
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), payment=(), usb=()"),
    );
    // Only over TLS (directly or through a proxy that says so): over plain HTTP browsers ignore it.
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    Ok(res)
}

/// CORS for the configured origins only; with none configured, no cross-origin browser call is
/// allowed (no `Access-Control-Allow-Origin` is ever sent, and preflights are refused).
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_policy_has_no_unsafe_source_and_allows_the_print_style_by_hash() {
        assert!(!CSP.contains("unsafe"));
        assert!(CSP.contains("frame-ancestors 'none'"));
        let hash = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(crate::stats::report::PRINT_STYLE.as_bytes()));
        assert!(CSP.contains(&format!("'sha256-{hash}'")));
    }
}
