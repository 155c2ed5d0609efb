//! Serves the built PWA: hashed assets cached for a year, the shell and service worker never cached
//! (so an update is seen at once), and any other path answered with `index.html` (client-side routes).

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};

/// True when `pwa_dir` holds a built app.
pub fn is_built(pwa_dir: &Path) -> bool {
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
    if is_built(pwa_dir) {
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
