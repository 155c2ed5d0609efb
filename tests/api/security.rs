//! Security headers on every answer (the web app, the API, errors, the docs) and CORS: closed by
//! default, open to configured origins only.

use reqwest::Method;

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};

both_backends!(
    every_answer_carries_the_security_headers,
    cross_origin_calls_are_refused_by_default,
);

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

fn assert_hardened(res: &reqwest::Response, what: &str) {
    assert_eq!(
        header(res, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        header(res, "x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        header(res, "referrer-policy").as_deref(),
        Some("no-referrer"),
        "{what}"
    );
    let csp = header(res, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("object-src 'none'"), "{what}: {csp}");
}

async fn every_answer_carries_the_security_headers(app: TestApp) {
    let token = app.fixture().await.admin.token;
    for (path, status, token) in [
        ("/", 200, None),
        ("/assets/app-3f9a1c.js", 200, None),
        ("/households/abc", 200, None), // the shell, for a client-side route
        ("/healthz", 200, None),
        ("/api/v1/users", 200, Some(token.as_str())),
        ("/api/v1/users", 401, None),
        ("/api/v1/no-such-thing", 404, None),
        ("/assets/missing.js", 404, None),
    ] {
        let res = match token {
            Some(t) => app.get_authed(path, t).await,
            None => app.get(path).await,
        };
        assert_eq!(res.status(), status, "{path}");
        assert_hardened(&res, path);
        // The web app's policy: no inline script or style, no eval, nothing from elsewhere.
        let csp = header(&res, "content-security-policy").unwrap_or_default();
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        // Plain HTTP: no HSTS (browsers ignore it there, and a proxy that ends TLS says so).
        assert_eq!(header(&res, "strict-transport-security"), None, "{path}");
    }
    // Personal data is never stored by a cache on the way.
    let res = app.get_authed("/api/v1/users", &token).await;
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));

    // `X-Forwarded-Proto` is believed only from a configured trusted proxy (issue 30; the trusted
    // case is in proxies.rs): from this server's default, no proxy, it changes nothing.
    let res = app
        .client
        .get(app.url("/"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    assert_eq!(header(&res, "strict-transport-security"), None);
    // The API documentation keeps the headers; its own policy lets Swagger UI's inline code run.
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    assert_hardened(&res, "/docs/");
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/v1/households"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight")
}

async fn cross_origin_calls_are_refused_by_default(app: TestApp) {
    let res = preflight(&app, "https://evil.example").await;
    assert_eq!(res.status(), 400);
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    assert_eq!(
        header(&res, "content-type").as_deref(),
        Some("application/problem+json")
    );
    // A simple request from another site gets its answer without permission to read it.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    // The web app's own calls carry its origin: they are not refused.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("origin", app.address.clone())
        .send()
        .await
        .expect("same origin");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn configured_origins_may_call_the_api_and_no_other() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.cors_origins = vec!["https://bando.haiphong.gov.vn".into()];
    })
    .await;
    let res = preflight(&app, "https://bando.haiphong.gov.vn").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("https://bando.haiphong.gov.vn")
    );
    let methods = header(&res, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    assert_eq!(header(&res, "access-control-allow-credentials"), None);
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://bando.haiphong.gov.vn")
        .send()
        .await
        .expect("get");
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("https://bando.haiphong.gov.vn")
    );
    assert!(header(&res, "access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase()
        .contains("etag"));
    let res = preflight(&app, "https://bando.haiphong.gov.vn.evil.example").await;
    assert_eq!(res.status(), 400);
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}
