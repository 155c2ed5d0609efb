//! Signed webhooks: an approved report, a difficulty raised and a synced batch reach a subscriber as
//! HMAC-signed POSTs; a failing receiver gets retries with backoff, then the delivery lands in the
//! dead-letter list, from which an administrator replays it. Deliveries are rows of an outbox, so a
//! restarted server still sends them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_problem, TestApp};
use crate::stats::push;
use crate::{both_backends, both_backends_with};

both_backends!(
    events_reach_subscribers_signed_and_failures_retry_then_wait_for_replay,
    webhook_subscriptions_are_validated_and_admin_only,
    crossing_an_indicator_target_is_announced_once_each_way,
);

fn no_internal_targets(s: &mut tungnha::config::Settings) {
    s.webhook_targets =
        tungnha::webhooks::target::TargetPolicy::parse("", "", false).expect("valid");
}

both_backends_with!(no_internal_targets =>
    webhooks_never_reach_internal_addresses,
);

/// Loopback in every spelling, credentials in the URL, a name resolving inside, and a name that
/// resolves outside at creation and inside at delivery (DNS rebinding, through the server's host
/// table: no name server is asked): all refused, and the receiver on loopback never hears a thing.
async fn webhooks_never_reach_internal_addresses(app: TestApp) {
    let f = app.fixture().await;
    let token = &f.admin.token;
    let rx = receiver().await;
    let port = rx
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .expect("port");
    let app = &app;
    let create = |url: String| {
        let spec = json!({"name": "IOC", "url": url, "events": ["records.synced"]});
        async move {
            app.send(Method::POST, "/api/v1/webhooks", Some(token), Some(&spec))
                .await
        }
    };
    let refused_as = |res: reqwest::Response, code: &'static str| async move {
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["code"], "validation_failed", "{problem}");
        assert_eq!(problem["errors"][0]["field"], "url", "{problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
    };
    for host in [
        "127.0.0.1",
        "127.1",
        "[::1]",
        "2130706433",
        "0x7f000001",
        "localhost",
        "0.0.0.0",
    ] {
        refused_as(
            create(format!("http://{host}:{port}/hook")).await,
            "internal_address",
        )
        .await;
    }
    refused_as(
        create(format!("http://user:pass@ioc.haiphong.gov.vn:{port}/hook")).await,
        "url_credentials",
    )
    .await;
    let hosts = &app.settings.webhook_targets.hosts;
    hosts.set("kho.example", vec!["10.20.0.7".parse().expect("ip")]);
    refused_as(
        create(format!("http://kho.example:{port}/hook")).await,
        "internal_address",
    )
    .await;

    // Public at creation (the table says so; nothing connects to it), loopback at delivery.
    hosts.set("ioc.example", vec!["8.8.8.8".parse().expect("ip")]);
    let res = create(format!("http://ioc.example:{port}/hook")).await;
    assert_eq!(res.status(), 201);
    let hook = res.json::<Value>().await.expect("json")["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    hosts.set("ioc.example", vec!["127.0.0.1".parse().expect("ip")]);
    push(
        app,
        &f.volunteer.token,
        vec![difficulty(&f.v1, "Thiếu máy")],
    )
    .await;
    eventually("the delivery gives up", || async {
        !deliveries(app, token, &hook, "dead").await.is_empty()
    })
    .await;
    let dead = deliveries(app, token, &hook, "dead").await;
    let error = dead[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("internal address"), "{dead:?}");
    assert!(rx.seen.lock().expect("lock").is_empty());
    assert!(
        deliveries(app, token, &hook, "delivered").await.is_empty(),
        "nothing was delivered"
    );
}

/// What the receiver saw: (headers in lower case, body).
pub type Seen = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// A tiny HTTP receiver: answers each request with the next status of `script` (then 200 once the
/// script runs out, unless `fail_forever`) and records what it got.
pub struct Receiver {
    pub url: String,
    pub seen: Seen,
    script: Arc<Mutex<Vec<u16>>>,
    fail_forever: Arc<Mutex<bool>>,
}

async fn receiver() -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    receiver_on(listener)
}

/// The receiver on a listener of the caller's (a port chosen before the receiver is up).
pub fn receiver_on(listener: tokio::net::TcpListener) -> Receiver {
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let script: Arc<Mutex<Vec<u16>>> = Arc::default();
    let fail_forever = Arc::new(Mutex::new(false));
    let (s, sc, ff) = (seen.clone(), script.clone(), fail_forever.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (s, sc, ff) = (s.clone(), sc.clone(), ff.clone());
            tokio::spawn(async move {
                let mut buf = vec![];
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let head = text[..end].to_owned();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let body =
                                String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                            break (head, body);
                        }
                    }
                };
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    .collect();
                s.lock().expect("lock").push((headers, body));
                let status = {
                    let mut sc = sc.lock().expect("lock");
                    if !sc.is_empty() {
                        sc.remove(0)
                    } else if *ff.lock().expect("lock") {
                        503
                    } else {
                        200
                    }
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    Receiver {
        url,
        seen,
        script,
        fail_forever,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

async fn deliveries(app: &TestApp, token: &str, hook: &str, status: &str) -> Vec<Value> {
    let res = app
        .get_authed(
            &format!("/api/v1/webhooks/{hook}/deliveries?status={status}"),
            token,
        )
        .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.expect("json");
    v["items"].as_array().expect("items").clone()
}

/// Waits (at most 15 s) until `f` holds.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub fn difficulty(village: &str, title: &str) -> Value {
    json!({"kind": "difficulty", "op": "create", "id": uuid::Uuid::new_v4().to_string(),
        "data": {"raised_at": "2026-11-21T00:30:00Z", "village_id": village, "title": title,
            "description": "Loa thôn không phát được", "service_codes": []}})
}

async fn subscribe(app: &TestApp, token: &str, spec: Value) -> (String, String) {
    let res = app
        .send(Method::POST, "/api/v1/webhooks", Some(token), Some(&spec))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    (
        created["webhook"]["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn events_reach_subscribers_signed_and_failures_retry_then_wait_for_replay(app: TestApp) {
    let rx = receiver().await;
    let f = app.fixture().await;
    let token = &f.admin.token;
    let (hook, secret) = subscribe(
        &app,
        token,
        json!({"name": "IOC", "url": rx.url, "events": ["difficulty.opened", "report.approved"], "commune_id": f.commune}),
    )
    .await;

    // The receiver fails twice, then accepts: the third (last) try delivers.
    rx.script.lock().expect("lock").extend([500, 502]);
    push(
        &app,
        &f.volunteer.token,
        vec![difficulty(&f.v1, "Loa hỏng")],
    )
    .await;
    eventually("the difficulty.opened delivery", || async {
        !deliveries(&app, token, &hook, "delivered").await.is_empty()
    })
    .await;
    let done = deliveries(&app, token, &hook, "delivered").await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["event"], "difficulty.opened");
    assert_eq!(done[0]["attempts"], 3, "two failures, then success");
    assert_eq!(done[0]["last_status"], 200);
    assert_eq!(done[0]["payload"]["data"]["title"], "Loa hỏng");

    // Three requests for the one delivery, each signed: HMAC-SHA256 of "<t>.<body>" with the secret.
    let seen = rx.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 3);
    for (headers, body) in &seen {
        assert_eq!(
            header(headers, "x-tungnha-delivery"),
            done[0]["id"].as_str().expect("id")
        );
        assert_eq!(header(headers, "x-tungnha-event"), "difficulty.opened");
        let sig = header(headers, "x-tungnha-signature");
        let (t, v1) = sig
            .strip_prefix("t=")
            .and_then(|s| s.split_once(",v1="))
            .expect("t=…,v1=…");
        let t: i64 = t.parse().expect("timestamp");
        assert!((chrono::Utc::now().timestamp() - t).abs() < 120);
        assert_eq!(
            v1,
            tungnha::webhooks::signature(&secret, t, body.as_bytes())
        );
        assert_ne!(
            v1,
            tungnha::webhooks::signature("wrong", t, body.as_bytes())
        );
        let payload: Value = serde_json::from_str(body).expect("json body");
        assert_eq!(payload, done[0]["payload"]);
        assert_eq!(payload["commune_id"], f.commune.as_str());
    }

    // A receiver that keeps failing: three tries, then the dead-letter list; nothing is lost.
    *rx.fail_forever.lock().expect("lock") = true;
    let res = app
        .send(
            Method::POST,
            "/api/v1/reports",
            Some(&f.culture_social.token),
            Some(&json!({"period": "quarter", "date": "2026-11-20"})),
        )
        .await;
    let report: Value = res.json().await.expect("json");
    let res = app
        .send(
            Method::POST,
            &format!(
                "/api/v1/reports/{}/approve",
                report["id"].as_str().expect("id")
            ),
            Some(&f.chairman.token),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    eventually("the report.approved delivery to die", || async {
        !deliveries(&app, token, &hook, "dead").await.is_empty()
    })
    .await;
    let dead = deliveries(&app, token, &hook, "dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["event"], "report.approved");
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["last_status"], 503);
    assert_eq!(dead[0]["payload"]["data"]["report_id"], report["id"]);
    assert_eq!(rx.seen.lock().expect("lock").len(), 6);

    // The receiver is fixed; only an administrator replays; the replayed delivery arrives.
    *rx.fail_forever.lock().expect("lock") = false;
    let dead_id = dead[0]["id"].as_str().expect("id").to_owned();
    let replay = format!("/api/v1/webhooks/{hook}/deliveries/{dead_id}/replay");
    assert_problem(
        app.send(Method::POST, &replay, Some(&f.chairman.token), None)
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_eq!(
        app.send(Method::POST, &replay, Some(token), None)
            .await
            .status(),
        202
    );
    eventually("the replayed delivery", || async {
        deliveries(&app, token, &hook, "delivered")
            .await
            .iter()
            .any(|d| d["id"] == dead_id.as_str())
    })
    .await;
    assert!(deliveries(&app, token, &hook, "dead").await.is_empty());

    // Synced batches: announced to a subscriber of every commune, not to one of another commune.
    let (all, _) = subscribe(
        &app,
        token,
        json!({"name": "Kho dữ liệu", "url": rx.url, "events": ["records.synced"]}),
    )
    .await;
    let (elsewhere, _) = subscribe(
        &app,
        token,
        json!({"name": "Xã khác", "url": rx.url, "events": ["records.synced"], "commune_id": f.other_commune}),
    )
    .await;
    push(
        &app,
        &f.volunteer.token,
        vec![
            difficulty(&f.v1, "Thiếu máy"),
            difficulty(&f.v1, "Thiếu mạng"),
        ],
    )
    .await;
    eventually("records.synced", || async {
        !deliveries(&app, token, &all, "delivered").await.is_empty()
    })
    .await;
    let synced = deliveries(&app, token, &all, "delivered").await;
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0]["payload"]["data"]["applied"], 2);
    assert_eq!(synced[0]["payload"]["data"]["device_id"], "phone");
    for status in ["pending", "delivered", "dead"] {
        assert!(deliveries(&app, token, &elsewhere, status).await.is_empty());
    }

    // An unsubscribed webhook is gone and gets nothing more.
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/webhooks/{hook}"),
            Some(token),
            None
        )
        .await
        .status(),
        204
    );
    assert_problem(
        app.get_authed(&format!("/api/v1/webhooks/{hook}/deliveries"), token)
            .await,
        404,
        "webhook_not_found",
    )
    .await;
}

async fn webhook_subscriptions_are_validated_and_admin_only(app: TestApp) {
    let f = app.fixture().await;
    let ok = json!({"name": "IOC", "url": "https://ioc.haiphong.gov.vn/hooks/tungnha", "events": ["report.approved"]});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/webhooks",
            Some(&f.chairman.token),
            Some(&ok),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    for bad in [
        json!({"name": "IOC", "url": "ftp://example.org/x", "events": ["report.approved"]}),
        json!({"name": "IOC", "url": "not a url", "events": ["report.approved"]}),
        json!({"name": "IOC", "url": "https://example.org/x", "events": []}),
        json!({"name": "IOC", "url": "https://example.org/x", "events": ["household.deleted"]}),
        json!({"name": "", "url": "https://example.org/x", "events": ["report.approved"]}),
        json!({"name": "IOC", "url": "https://example.org/x", "events": ["report.approved"], "commune_id": "nowhere"}),
    ] {
        assert_problem(
            app.send(
                Method::POST,
                "/api/v1/webhooks",
                Some(&f.admin.token),
                Some(&bad),
            )
            .await,
            400,
            "validation_failed",
        )
        .await;
    }
    let list: Value = app
        .get_authed("/api/v1/webhooks", &f.admin.token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"], json!([]));
    let res = app
        .send(
            Method::POST,
            "/api/v1/webhooks",
            Some(&f.admin.token),
            Some(&ok),
        )
        .await;
    assert_eq!(res.status(), 201);
    let list: Value = app
        .get_authed("/api/v1/webhooks", &f.admin.token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    assert!(list["items"][0].get("secret").is_none());
}

/// The e-wallet indicator for adults with a 50 % target, a household of two adults: the first check
/// only records 0 %; both done (100 %) announces `reached` once; one back to not yet (50 %) stays
/// at target, silently; both not yet announces `fell_below`.
async fn crossing_an_indicator_target_is_announced_once_each_way(app: TestApp) {
    let rx = receiver().await;
    let f = app.fixture().await;
    let r = app.registry_fixture(&f).await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/indicators",
            Some(&f.admin.token),
            Some(
                &json!({"code": "adults_e_wallet", "name_vi": "Người trưởng thành có ví điện tử",
                "name_en": "Adults with an e-wallet", "department": "economy", "kind": "adoption",
                "service_code": "e_wallet", "min_age": 18, "target_percent": 50}),
            ),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (hook, _) = subscribe(
        &app,
        &f.admin.token,
        json!({"name": "IOC", "url": rx.url, "events": ["indicator.threshold_crossed"], "commune_id": f.commune}),
    )
    .await;
    let watched = |app: &TestApp| {
        use diesel::prelude::*;
        use tungnha::db::schema::indicator_watch::dsl as w;
        w::indicator_watch
            .filter(w::commune_id.eq(f.commune.clone()))
            .count()
            .get_result::<i64>(&mut app.conn())
            .expect("count")
    };
    eventually("the first check", || async { watched(&app) > 0 }).await;

    let household: Value = app
        .get_authed(
            &format!("/api/v1/households/{}", r.household),
            &f.leader.token,
        )
        .await
        .json()
        .await
        .expect("json");
    let adults: Vec<String> = household["residents"]
        .as_array()
        .expect("residents")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(adults.len(), 2);
    let set = |who: Vec<String>, status: &'static str| {
        let app = &app;
        let token = f.leader.token.clone();
        let path = format!("/api/v1/households/{}/adoption", r.household);
        async move {
            let items: Vec<Value> = who
                .iter()
                .map(|id| json!({"service_code": "e_wallet", "resident_id": id, "status": status}))
                .collect();
            let res = app
                .send(
                    Method::PATCH,
                    &path,
                    Some(&token),
                    Some(&json!({"items": items})),
                )
                .await;
            assert!(
                res.status().is_success(),
                "{}",
                res.text().await.unwrap_or_default()
            );
        }
    };
    let announced = || deliveries(&app, &f.admin.token, &hook, "delivered");

    set(adults.clone(), "done").await;
    eventually("the reached announcement", || async {
        announced().await.len() == 1
    })
    .await;
    let first = &announced().await[0];
    assert_eq!(first["event"], "indicator.threshold_crossed");
    let data = &first["payload"]["data"];
    assert_eq!(data["indicator"], "adults_e_wallet");
    assert_eq!(data["direction"], "reached");
    assert_eq!(data["percent"], 100.0);
    assert_eq!(data["numerator"], 2);
    assert_eq!(data["denominator"], 2);
    assert_eq!(first["payload"]["commune_id"], f.commune.as_str());

    // 50 % is still at target: nothing; then 0 %: fell below, once.
    set(adults[..1].to_vec(), "not_yet").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(announced().await.len(), 1);
    set(adults.clone(), "not_yet").await;
    eventually("the fell_below announcement", || async {
        announced().await.len() == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let all = announced().await;
    assert_eq!(all.len(), 2, "{all:?}");
    let directions: Vec<&Value> = all
        .iter()
        .map(|d| &d["payload"]["data"]["direction"])
        .collect();
    assert!(directions.contains(&&json!("fell_below")), "{directions:?}");
    assert_eq!(rx.seen.lock().expect("lock").len(), 2);
}
