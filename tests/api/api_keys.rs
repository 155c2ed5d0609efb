//! API keys for integrations: created by administrators with scopes, a commune and a rate, shown
//! once and stored hashed; accepted as bearer credentials for what their scopes open, in their
//! commune only; rate-limited per key; every use audited; revocable at once.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    keys_read_what_their_scopes_open_in_their_commune_and_every_use_is_audited,
    keys_are_validated_limited_per_minute_and_revoked_at_once,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

async fn create(app: &TestApp, token: &str, spec: Value) -> reqwest::Response {
    app.send(Method::POST, "/api/v1/api-keys", Some(token), Some(&spec))
        .await
}

async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.get_authed(path, key).await
}

const Q4: &str = "/api/v1/stats/indicators?period=quarter&date=2026-11-20";

async fn keys_read_what_their_scopes_open_in_their_commune_and_every_use_is_audited(app: TestApp) {
    let f = app.fixture().await;
    let res = create(
        &app,
        &f.admin.token,
        json!({"name": "Trung tâm IOC Hải Phòng", "scopes": ["stats:read"], "commune_id": f.commune}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    let key = created["key"].as_str().expect("key").to_owned();
    assert!(key.starts_with("tn_") && key.len() > 40, "{key}");
    assert_eq!(created["api_key"]["prefix"], key[..8]);
    assert_eq!(created["api_key"]["scopes"], json!(["stats:read"]));

    // Stored as its SHA-256 only.
    {
        use tungnha::db::schema::api_keys as k;
        let mut conn = app.conn();
        let (hash, prefix): (String, String) = k::table
            .select((k::key_hash, k::prefix))
            .get_result(&mut conn)
            .expect("row");
        assert_eq!(hash, tungnha::auth::session::hash_token(&key));
        assert_ne!(hash, key);
        assert_eq!(prefix.len(), 8);
    }

    // Its commune's figures, without naming it or naming it; another commune's do not exist for it.
    assert_eq!(get(&app, &key, Q4).await.status(), 200);
    let named = format!("{Q4}&commune_id={}", f.commune);
    assert_eq!(get(&app, &key, &named).await.status(), 200);
    let other = format!("{Q4}&commune_id={}", f.other_commune);
    assert_problem(get(&app, &key, &other).await, 404, "not_found").await;
    let reports = format!("/api/v1/reports?commune_id={}", f.other_commune);
    assert_problem(get(&app, &key, &reports).await, 404, "report_not_found").await;

    // Nothing its scopes do not open: households, guides, writes.
    assert_problem(
        get(&app, &key, "/api/v1/households").await,
        403,
        "scope_not_granted",
    )
    .await;
    assert_problem(
        get(&app, &key, "/api/v1/materials").await,
        403,
        "scope_not_granted",
    )
    .await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/reports",
            Some(&key),
            Some(&json!({"period": "quarter", "date": "2026-11-20"})),
        )
        .await;
    assert_problem(res, 403, "scope_not_granted").await;

    // Every use is in the audit log, and the key shows when it was last used.
    let audit = body(
        app.get_authed("/api/v1/audit-events?action=api_key_used", &f.admin.token)
            .await,
    )
    .await;
    let uses = audit["items"].as_array().expect("items");
    assert_eq!(uses.len(), 4, "{audit}");
    assert!(uses
        .iter()
        .all(|e| e["object_id"] == created["api_key"]["id"]));
    assert!(uses
        .iter()
        .any(|e| e["details"]["path"] == "/api/v1/stats/indicators"));
    let list = body(app.get_authed("/api/v1/api-keys", &f.admin.token).await).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    assert!(list["items"][0]["last_used_at"].is_string());
    assert!(list["items"][0].get("key").is_none());

    // A key without a commune names one per request; a guides key reads published guides.
    let res = create(
        &app,
        &f.admin.token,
        json!({"name": "Kho dữ liệu thành phố", "scopes": ["stats:read", "materials:read"]}),
    )
    .await;
    let wide = body(res).await["key"].as_str().expect("key").to_owned();
    assert_problem(get(&app, &wide, Q4).await, 400, "validation_failed").await;
    assert_eq!(get(&app, &wide, &named).await.status(), 200);
    assert_eq!(get(&app, &wide, &other).await.status(), 200);
    assert_eq!(get(&app, &wide, "/api/v1/materials").await.status(), 200);
}

async fn keys_are_validated_limited_per_minute_and_revoked_at_once(app: TestApp) {
    let f = app.fixture().await;
    // Only administrators create keys; bad specs are refused whole and create nothing.
    let ok = json!({"name": "IOC", "scopes": ["stats:read"], "commune_id": f.commune, "rate_per_minute": 3});
    assert_problem(
        create(&app, &f.chairman.token, ok.clone()).await,
        403,
        "role_not_allowed",
    )
    .await;
    for bad in [
        json!({"name": " ", "scopes": ["stats:read"]}),
        json!({"name": "IOC", "scopes": []}),
        json!({"name": "IOC", "scopes": ["households:write"]}),
        json!({"name": "IOC", "scopes": ["stats:read"], "rate_per_minute": 0}),
        json!({"name": "IOC", "scopes": ["stats:read"], "commune_id": "no-such-commune"}),
    ] {
        assert_problem(
            create(&app, &f.admin.token, bad.clone()).await,
            400,
            "validation_failed",
        )
        .await;
    }
    let list = body(app.get_authed("/api/v1/api-keys", &f.admin.token).await).await;
    assert_eq!(list["items"], json!([]));

    let created = body(create(&app, &f.admin.token, ok).await).await;
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["api_key"]["id"].as_str().expect("id").to_owned();

    // Three a minute: the first three pass; within seven calls the limit must bite (even if a minute
    // boundary falls between them, the count restarts only once).
    let mut statuses = vec![];
    let mut limited = None;
    for _ in 0..7 {
        let res = get(&app, &key, Q4).await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 && limited.is_none() {
            limited = Some(res);
        }
    }
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    let res = limited.unwrap_or_else(|| panic!("never limited: {statuses:?}"));
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait));
    assert_problem(res, 429, "too_many_requests").await;

    // Revoked: refused at the next request; revoking twice is a conflict; unknown keys are 401.
    let path = format!("/api/v1/api-keys/{id}");
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&f.admin.token), None)
            .await
            .status(),
        204
    );
    assert_problem(get(&app, &key, Q4).await, 401, "invalid_api_key").await;
    assert_problem(
        app.send(Method::DELETE, &path, Some(&f.admin.token), None)
            .await,
        409,
        "api_key_revoked",
    )
    .await;
    assert_problem(
        get(&app, "tn_not-a-real-key", Q4).await,
        401,
        "invalid_api_key",
    )
    .await;
    let list = body(app.get_authed("/api/v1/api-keys", &f.admin.token).await).await;
    assert!(list["items"][0]["revoked_at"].is_string());
}
