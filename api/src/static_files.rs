//! Serves the built PWA: hashed assets cached for a year, the shell and service worker never cached
//! (so an update is seen at once), and any other path answered with `index.html` (client-side routes).
//!
//! The app comes from the binary itself (`pwa/dist` as it was at compile time, so deploying is
//! copying one file) unless `pwa_dir` names a folder to serve instead.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};

/// The web app built into the binary. Release builds embed the files; so do debug builds
/// (`debug-embed`), which the tests of a one-file deployment rely on. Empty when `pwa/dist` was
/// not built before the server was compiled.
#[derive(rust_embed::Embed)]
#[folder = "pwa/dist"]
#[allow_missing = true]
pub struct Built;

/// True when the app to serve exists: `pwa_dir`, or the built-in copy when it is empty.
pub fn is_built(pwa_dir: &Path) -> bool {
    if pwa_dir.as_os_str().is_empty() {
        return Built::get("index.html").is_some();
    }
    pwa_dir.join("index.html").is_file()
}

/// Paths the SPA fallback must never answer: they belong to the API or the operator.
pub fn is_server_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/docs")
        || path == "/openapi.json"
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
}

/// Adds the `/` service for the PWA, or a plain notice when it has not been built.
pub fn configure(cfg: &mut web::ServiceConfig, pwa_dir: &Path) {
    let index = pwa_dir.join("index.html");
    if pwa_dir.as_os_str().is_empty() && is_built(pwa_dir) {
        cfg.default_service(web::to(built_in));
    } else if is_built(pwa_dir) {
        let fallback_index = index.clone();
        cfg.service(
            Files::new("/", pwa_dir)
                .index_file("index.html")
                .use_last_modified(true)
                .default_handler(web::to(move |req: HttpRequest| {
                    spa_fallback(req, fallback_index.clone())
                })),
        );
    } else {
        cfg.default_service(web::to(|req: HttpRequest| async move {
            if is_server_path(req.path()) {
                return HttpResponse::NotFound().finish();
            }
            crate::error::problem_response(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "pwa_not_built",
                "The web app is not built. Run `make run` (or `npm run build` in pwa/).",
                &[],
            )
        }));
    }
}

/// A file of the built-in app, `index.html` for client-side routes; the same answers as the folder
/// service gives (ETag and Last-Modified with 304, HEAD, 405 for other methods on a file).
async fn built_in(req: HttpRequest) -> HttpResponse {
    use actix_web::http::Method;
    let path = req.path();
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    let last = path.rsplit('/').next().unwrap_or("");
    let (name, file) = match Built::get(name) {
        Some(f) => (name, f),
        // An unknown API path, or a missing file with an extension (a stale asset), is a real 404.
        None if is_server_path(path) || last.contains('.') || req.method() != Method::GET => {
            return HttpResponse::NotFound().finish();
        }
        None => match Built::get("index.html") {
            Some(f) => ("index.html", f),
            None => return HttpResponse::NotFound().finish(),
        },
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag));
    if let Some(modified) = file.metadata.last_modified() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(modified);
        res.insert_header((header::LAST_MODIFIED, header::HttpDate::from(at)));
    }
    if fresh {
        return res.finish();
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime == "application/javascript" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    res.insert_header((header::CONTENT_TYPE, content_type));
    tracing::trace!(file = name, "built-in web app");
    let body = match file.data {
        std::borrow::Cow::Borrowed(b) => actix_web::web::Bytes::from_static(b),
        std::borrow::Cow::Owned(b) => actix_web::web::Bytes::from(b),
    };
    // For HEAD, actix sends the headers (and the length) without the body.
    res.body(body)
}

async fn spa_fallback(req: HttpRequest, index: PathBuf) -> actix_web::Result<HttpResponse> {
    let path = req.path();
    // An unknown API path, or a missing file with an extension (a stale asset), is a real 404.
    let last = path.rsplit('/').next().unwrap_or("");
    if is_server_path(path) || last.contains('.') || req.method() != actix_web::http::Method::GET {
        return Ok(HttpResponse::NotFound().finish());
    }
    Ok(NamedFile::open_async(index).await?.into_response(&req))
}

/// Sets `Cache-Control` on PWA responses: immutable for content-hashed assets under `/assets/`,
/// `no-cache` for the shell, the service worker and the manifest.
pub async fn cache_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path().to_owned();
    let mut res = next.call(req).await?;
    if is_server_path(&path) || !res.status().is_success() {
        return Ok(res);
    }
    let value = if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    Ok(res)
}
