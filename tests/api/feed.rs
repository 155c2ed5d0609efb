//! The analysts' change feed (`GET /exports/changes`): a warehouse mirrors a commune incrementally,
//! from a time or a cursor, page by page, with every author's field records, in scope, audited; an
//! integration key reads it without personal data.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    the_change_feed_mirrors_a_commune_page_by_page_from_a_time,
    the_change_feed_is_for_offices_and_keys_without_personal_data,
);

async fn body(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

/// Every page from `path` (which has a `?`), following the cursor; returns the changes and the
/// last cursor.
async fn drain(app: &TestApp, token: &str, path: &str) -> (Vec<Value>, String) {
    let mut all = vec![];
    let mut page = body(app.get_authed(path, token).await).await;
    loop {
        let changes = page["changes"].as_array().expect("changes").clone();
        let keys: HashSet<(String, String)> = changes
            .iter()
            .map(|c| (c["kind"].to_string(), c["id"].to_string()))
            .collect();
        assert_eq!(keys.len(), changes.len(), "an object twice in one page");
        all.extend(changes);
        let cursor = page["cursor"].as_str().expect("cursor").to_owned();
        if page["has_more"] != true {
            return (all, cursor);
        }
        // The same filters, from the cursor (which takes precedence over `updated_since`).
        page = body(
            app.get_authed(&format!("{path}&cursor={cursor}"), token)
                .await,
        )
        .await;
    }
}

fn find<'a>(changes: &'a [Value], kind: &str, id: &str) -> Option<&'a Value> {
    changes
        .iter()
        .rev()
        .find(|c| c["kind"] == kind && c["id"] == id)
}

async fn visit(app: &TestApp, token: &str, household: &str, resident: &str, notes: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let res = app
        .send(
            Method::POST,
            "/api/v1/assistance-records",
            Some(token),
            Some(&json!({"id": id, "data": {
                "household_id": household, "resident_ids": [resident], "occurred_at": "2026-11-21T03:00:00Z", "channel": "house_visit",
                "items": [{"service_code": "payment_account", "outcome": "assisted"}], "notes": notes}})),
        )
        .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    id
}

async fn household(app: &TestApp, token: &str, village: &str, head: &str) -> String {
    let res = app
        .send(
            Method::POST,
            "/api/v1/households",
            Some(token),
            Some(&json!({"village_id": village, "head_name": head, "residents": []})),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn the_change_feed_mirrors_a_commune_page_by_page_from_a_time(app: TestApp) {
    let f = app.fixture().await;
    let r = app.registry_fixture(&f).await;
    let elsewhere = household(&app, &f.other_leader.token, &f.v3, "Hộ xã khác").await;
    app.settle().await;

    // Everything of the commune, two changes a page: the volunteer's record too (a phone pulls
    // only its own), with its notes for the chairman; nothing of the other commune.
    let (all, cursor) = drain(&app, &f.chairman.token, "/api/v1/exports/changes?limit=2").await;
    assert!(all.len() > 4, "{all:?}");
    let h = find(&all, "household", &r.household).expect("household");
    assert_eq!(h["op"], "upsert");
    assert_eq!(h["data"]["head_name"], "Nguyễn Văn Đức");
    assert!(find(&all, "resident", &r.resident).is_some());
    let rec = find(&all, "assistance_record", &r.record).expect("the volunteer's record");
    assert_eq!(rec["data"]["notes"], "Ghi chú riêng của tổ");
    assert!(find(&all, "household", &elsewhere).is_none());
    assert!(all.iter().any(|c| c["kind"] == "service"));

    // From the last cursor: what changed since, and nothing older.
    let later = visit(
        &app,
        &f.volunteer.token,
        &r.household,
        &r.resident,
        "Lần hai",
    )
    .await;
    app.settle().await;
    let page = body(
        app.get_authed(
            &format!("/api/v1/exports/changes?cursor={cursor}"),
            &f.chairman.token,
        )
        .await,
    )
    .await;
    let ids: Vec<&str> = page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert!(ids.contains(&later.as_str()), "{page}");
    // The visit also touched the household (last visit) and the ledger; not the resident.
    assert!(ids.contains(&r.household.as_str()), "{page}");
    assert!(!ids.contains(&r.resident.as_str()), "{page}");
    assert_eq!(page["has_more"], false);

    // From a time, narrowed to households: the household made after it, not the older one.
    let since = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let newer = household(&app, &f.leader.token, &f.v1, "Trần Văn Mới").await;
    app.settle().await;
    let path = format!(
        "/api/v1/exports/changes?kinds=household&updated_since={}&limit=2",
        since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    );
    let (since_then, _) = drain(&app, &f.chairman.token, &path).await;
    assert!(
        find(&since_then, "household", &newer).is_some(),
        "{since_then:?}"
    );
    assert!(find(&since_then, "household", &r.household).is_none());
    assert!(since_then.iter().all(|c| c["kind"] == "household"));

    // A deleted household comes as a deletion.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/households/{newer}"),
            Some(&f.leader.token),
            None,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    app.settle().await;
    let (after_delete, _) = drain(&app, &f.chairman.token, &path).await;
    assert_eq!(
        find(&after_delete, "household", &newer).expect("deleted")["op"],
        "delete"
    );

    // The administrator names a commune; the chairman cannot name another.
    let other = format!("/api/v1/exports/changes?commune_id={}", f.other_commune);
    let (theirs, _) = drain(&app, &f.admin.token, &other).await;
    assert!(find(&theirs, "household", &elsewhere).is_some());
    assert!(find(&theirs, "household", &r.household).is_none());
    assert_problem(
        app.get_authed(&other, &f.chairman.token).await,
        404,
        "commune_not_found",
    )
    .await;

    // Every page is audited.
    use diesel::prelude::*;
    use tungnha::db::schema::audit_events::dsl as a;
    let pages: i64 = a::audit_events
        .filter(a::action.eq("export"))
        .filter(a::object_type.eq("changes"))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert!(pages >= 6, "{pages}");
}

async fn the_change_feed_is_for_offices_and_keys_without_personal_data(app: TestApp) {
    let f = app.fixture().await;
    let r = app.registry_fixture(&f).await;
    app.settle().await;
    let feed = "/api/v1/exports/changes";

    assert_problem(
        app.get_authed(feed, &f.volunteer.token).await,
        403,
        "office_roles_only",
    )
    .await;
    for bad in [
        "?kinds=household,people",
        "?updated_since=yesterday",
        "?limit=0",
        "?cursor=not-a-cursor",
    ] {
        let res = app
            .get_authed(&format!("{feed}{bad}"), &f.chairman.token)
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }

    // A key with exports:read reads its commune's feed as city oversight: records without notes,
    // no households or residents. A key without the scope cannot.
    let create = |scopes: Value| {
        let app = &app;
        let token = f.admin.token.clone();
        let commune = f.commune.clone();
        async move {
            let res = app
                .send(
                    Method::POST,
                    "/api/v1/api-keys",
                    Some(&token),
                    Some(&json!({"name": "Kho dữ liệu", "scopes": scopes, "commune_id": commune})),
                )
                .await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.expect("json")["key"]
                .as_str()
                .expect("key")
                .to_owned()
        }
    };
    let key = create(json!(["exports:read"])).await;
    let (all, _) = drain(&app, &key, &format!("{feed}?limit=2")).await;
    let rec = find(&all, "assistance_record", &r.record).expect("record");
    assert!(rec["data"]["notes"].is_null(), "{rec}");
    assert!(rec["data"]["items"][0]["note"].is_null(), "{rec}");
    assert!(all
        .iter()
        .all(|c| c["kind"] != "household" && c["kind"] != "resident"));
    assert!(all
        .iter()
        .any(|c| c["kind"] == "adoption" || c["kind"] == "service"));
    let stats_only = create(json!(["stats:read"])).await;
    assert_problem(
        app.get_authed(feed, &stats_only).await,
        403,
        "scope_not_granted",
    )
    .await;
}
