//! `GET /metrics`: absent until `metrics_token` is set, then behind that bearer token, in
//! Prometheus' text format, with requests labelled by route pattern (never by path), the results
//! of sync pushes, the database pools, the admission gate and the webhook outbox.

use reqwest::Method;
use serde_json::{json, Value};
use tungnha::db;

use crate::helpers::{assert_problem, TestApp};
use crate::{both_backends, both_backends_with};

const TOKEN: &str = "scrape-token-0123456789abcdef";

fn with_token(s: &mut tungnha::config::Settings) {
    s.metrics_token = Some(TOKEN.to_owned().into());
}

both_backends!(metrics_are_off_unless_a_token_is_set);

both_backends_with!(with_token =>
    metrics_need_the_bearer_token,
    metrics_count_requests_by_route_pattern_and_pushed_records_by_result,
);

async fn scrape(app: &TestApp) -> String {
    let res = app.get_authed("/metrics", TOKEN).await;
    assert_eq!(res.status(), 200);
    res.text().await.expect("text")
}

/// The value of one series (`name{labels}` exactly as written), or 0 when it is absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

fn has_series(text: &str, series: &str) -> bool {
    text.lines()
        .any(|l| l.strip_prefix(series).is_some_and(|v| v.starts_with(' ')))
}

async fn metrics_are_off_unless_a_token_is_set(app: TestApp) {
    for token in [None, Some(TOKEN)] {
        let res = app.send(Method::GET, "/metrics", token, None).await;
        assert_problem(res, 404, "route_not_found").await;
    }
    // The same answer as any unknown path, whatever the method.
    let unknown = app.send(Method::POST, "/no-such-path", None, None).await;
    let (status, unknown) = (
        unknown.status().as_u16(),
        unknown.json::<Value>().await.expect("json"),
    );
    let res = app.send(Method::POST, "/metrics", None, None).await;
    let code = unknown["code"].as_str().expect("code");
    assert_problem(res, status, code).await;
}

async fn metrics_need_the_bearer_token(app: TestApp) {
    let res = app.get("/metrics").await;
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_problem(res, 401, "missing_token").await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .basic_auth("prometheus", Some(TOKEN))
        .send()
        .await
        .expect("request");
    assert_problem(res, 401, "missing_token").await;
    for wrong in [
        "scrape-token-0123456789abcdeX",
        "scrape-token",
        &format!("{TOKEN}0"),
    ] {
        let res = app.get_authed("/metrics", wrong).await;
        assert_problem(res, 401, "invalid_token").await;
    }
    // A user's access token opens nothing here either.
    let f = app.fixture().await;
    let res = app.get_authed("/metrics", &f.admin.token).await;
    assert_problem(res, 401, "invalid_token").await;

    let res = app.get_authed("/metrics", TOKEN).await;
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(header("x-request-id").is_some());
}

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A webhook no event of this test wakes, with one delivery due tomorrow and one given up.
fn webhook_backlog(app: &TestApp, admin: &str) {
    let mut conn = app.conn();
    let now = db::now();
    let hook = db::webhooks::Webhook {
        id: id(),
        name: "Kho dữ liệu".into(),
        url: "http://127.0.0.1:9/hook".into(),
        secret: "s".repeat(32),
        events: "report.approved".into(),
        commune_id: None,
        created_by: admin.to_owned(),
        created_at: now,
        deleted_at: None,
    };
    db::webhooks::insert(&mut conn, &hook).expect("webhook");
    for (status, next) in [("pending", now + chrono::TimeDelta::days(1)), ("dead", now)] {
        use diesel::prelude::*;
        diesel::insert_into(tungnha::db::schema::webhook_deliveries::table)
            .values(&db::webhooks::Delivery {
                id: id(),
                webhook_id: hook.id.clone(),
                event: "report.approved".into(),
                payload: "{}".into(),
                status: status.into(),
                attempts: 0,
                next_attempt_at: next,
                locked_until: None,
                last_status: None,
                last_error: None,
                created_at: now,
                delivered_at: None,
            })
            .execute(&mut conn)
            .expect("delivery");
    }
}

async fn metrics_count_requests_by_route_pattern_and_pushed_records_by_result(app: TestApp) {
    let f = app.fixture().await;
    let before = scrape(&app).await;
    let applied = "tungnha_sync_records_total{kind=\"household\",status=\"applied\"}";
    let rejected = "tungnha_sync_records_total{kind=\"assistance_record\",status=\"rejected\"}";

    // One valid household and one visit to a household that does not exist.
    let h = id();
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(&f.volunteer.token),
            Some(&json!({"device_id": "phone", "records": [
                {"kind": "household", "id": h, "op": "create",
                 "data": {"village_id": f.v1, "head_name": "Lê Văn Mới", "lane": "Ngõ 9"}},
                {"kind": "assistance_record", "id": id(), "op": "create", "data": {
                    "household_id": id(), "resident_ids": [], "occurred_at": "2026-11-20T03:00:00Z",
                    "channel": "house_visit",
                    "items": [{"service_code": "vneid_level2", "outcome": "done"}]}},
            ]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("json");
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["applied", "rejected"], "{answer}");
    for _ in 0..2 {
        let res = app
            .get_authed(&format!("/api/v1/households/{h}"), &f.leader.token)
            .await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(app.get("/api/v1/no-such-thing").await.status(), 404);
    webhook_backlog(&app, &f.admin.id);

    let text = scrape(&app).await;
    // Routes by pattern: the household's id appears nowhere.
    assert!(!text.contains(&h), "{text}");
    assert_eq!(
        sample(
            &text,
            "tungnha_http_requests_total{method=\"GET\",route=\"/api/v1/households/{id}\",status=\"200\"}"
        ),
        2.0,
        "{text}"
    );
    // The fixture signed nine accounts in.
    assert_eq!(
        sample(
            &text,
            "tungnha_http_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"200\"}"
        ),
        9.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "tungnha_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        1.0,
        "{text}"
    );
    // The first scrape was counted before this one.
    assert_eq!(
        sample(
            &text,
            "tungnha_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        ),
        1.0,
        "{text}"
    );
    assert!(text.contains("# TYPE tungnha_http_request_duration_seconds histogram"));
    assert_eq!(
        sample(
            &text,
            "tungnha_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/households/{id}\",le=\"+Inf\"}"
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "tungnha_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/sync/push\"}"
        ),
        1.0,
        "{text}"
    );

    // Sync results, by the amounts this push added.
    assert_eq!(
        sample(&text, applied) - sample(&before, applied),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, rejected) - sample(&before, rejected),
        1.0,
        "{text}"
    );

    // The pools (4 connections in the tests; SQLite adds its one push connection), the gate (two
    // calls per connection) and the outbox.
    assert_eq!(
        sample(&text, "tungnha_db_connections_max{pool=\"main\"}"),
        4.0
    );
    assert!(has_series(
        &text,
        "tungnha_db_connections{pool=\"main\",state=\"in_use\"}"
    ));
    assert!(
        sample(
            &text,
            "tungnha_db_connections{pool=\"main\",state=\"idle\"}"
        ) >= 1.0
    );
    assert_eq!(
        has_series(&text, "tungnha_db_connections_max{pool=\"writer\"}"),
        app.db.url.is_sqlite(),
        "{text}"
    );
    assert_eq!(sample(&text, "tungnha_db_gate_capacity"), 8.0, "{text}");
    assert_eq!(sample(&text, "tungnha_db_gate_in_flight"), 0.0, "{text}");
    assert!(has_series(&text, "tungnha_db_gate_waiting"));
    assert!(has_series(
        &text,
        "tungnha_db_gate_refused_total{reason=\"queue_full\"}"
    ));
    assert_eq!(
        sample(&text, "tungnha_webhook_deliveries{status=\"pending\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "tungnha_webhook_deliveries{status=\"dead\"}"),
        1.0,
        "{text}"
    );
}
