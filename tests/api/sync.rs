use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, Fixture, TestApp};

both_backends!(
    a_visit_is_applied_once_and_a_replay_is_a_duplicate,
    the_same_id_with_another_body_is_a_conflict,
    a_bad_record_does_not_stop_the_good_ones,
    concurrent_pushes_of_the_same_records_store_them_once,
    phones_of_one_village_pushing_at_once_all_get_through,
    a_stale_household_edit_waits_for_the_village_leader,
    a_superseding_record_recomputes_the_ledger,
    the_ledger_folds_visits_in_any_order_as_a_full_recompute_would,
    households_made_offline_can_be_visited_in_the_same_batch,
    pull_sends_the_village_and_nothing_else_then_only_what_changed,
    pull_pages_with_has_more_and_sends_tombstones,
    records_outside_scope_or_time_are_rejected_with_reasons,
    oversized_batches_and_bad_device_ids_are_refused_whole,
    leaders_see_which_devices_synced,
    a_pull_notes_the_device_at_most_once_a_minute,
    online_clients_create_records_idempotently_and_read_them_in_scope,
    a_batch_of_visits_answers_each_record_as_it_would_alone,
    a_batch_that_meets_a_stored_record_without_receipt_is_applied_record_by_record,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn push(app: &TestApp, token: &str, device: &str, records: Value) -> Value {
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(token),
            Some(&json!({"device_id": device, "records": records})),
        )
        .await;
    assert_eq!(res.status(), 200);
    body(res).await
}

fn statuses(res: &Value) -> Vec<String> {
    res["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status").to_owned())
        .collect()
}

fn visit(record_id: &str, household: &str, residents: &[&str], outcome: &str) -> Value {
    json!({"kind": "assistance_record", "id": record_id, "op": "create", "data": {
        "household_id": household, "resident_ids": residents, "occurred_at": "2026-11-20T03:00:00Z",
        "channel": "house_visit", "items": [{"service_code": "vneid_level2", "outcome": outcome, "note": "Đã cài VNeID"}],
        "notes": "Bà cụ cần con cháu nhắc mật khẩu",
    }})
}

/// A household of village v1 with two residents; returns (household, [Đức, Hoa]).
async fn household(app: &TestApp, f: &Fixture) -> (String, Vec<String>) {
    let res = app.send(Method::POST, "/api/v1/households", Some(&f.leader.token), Some(&json!({
        "village_id": f.v1, "head_name": "Nguyễn Văn Đức",
        "residents": [{"full_name": "Nguyễn Văn Đức", "birth_year": 1958}, {"full_name": "Nguyễn Thị Hoa", "birth_year": 1962}],
    }))).await;
    let h = body(res).await;
    let residents = h["residents"]
        .as_array()
        .expect("r")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    (h["id"].as_str().expect("id").to_owned(), residents)
}

async fn ledger(app: &TestApp, token: &str, household: &str) -> Vec<(String, String, String)> {
    let l = body(
        app.get_authed(&format!("/api/v1/households/{household}/adoption"), token)
            .await,
    )
    .await;
    let mut v: Vec<(String, String, String)> = l["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["resident_id"].as_str().unwrap_or("").to_owned(),
                e["service_code"].as_str().expect("s").to_owned(),
                e["status"].as_str().expect("st").to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn count(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(&mut app.conn())
        .expect("count")
        .n
}

async fn a_visit_is_applied_once_and_a_replay_is_a_duplicate(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let batch = json!([
        visit(&id(), &h, &[&r[0]], "done"),
        visit(&id(), &h, &[&r[1]], "assisted")
    ]);
    let first = push(&app, &f.volunteer.token, "phone-1", batch.clone()).await;
    assert_eq!(statuses(&first), ["applied", "applied"]);
    assert_eq!(first["results"][0]["version"], 1);
    // The reply was lost; the phone sends the whole batch again.
    let again = push(&app, &f.volunteer.token, "phone-1", batch).await;
    assert_eq!(statuses(&again), ["duplicate", "duplicate"]);
    assert_eq!(count(&app, "assistance_records"), 2);
    assert_eq!(count(&app, "assistance_items"), 2);
    assert_eq!(
        ledger(&app, &f.leader.token, &h).await,
        vec![
            (r[0].clone(), "vneid_level2".into(), "done".into()),
            (r[1].clone(), "vneid_level2".into(), "assisted".into()),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    let hh = body(
        app.get_authed(&format!("/api/v1/households/{h}"), &f.leader.token)
            .await,
    )
    .await;
    assert_eq!(hh["last_visited_at"], "2026-11-20T03:00:00Z");
}

async fn the_same_id_with_another_body_is_a_conflict(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let rid = id();
    assert_eq!(
        statuses(
            &push(
                &app,
                &f.volunteer.token,
                "p",
                json!([visit(&rid, &h, &[&r[0]], "done")])
            )
            .await
        ),
        ["applied"]
    );
    let other = push(
        &app,
        &f.volunteer.token,
        "p",
        json!([visit(&rid, &h, &[&r[0]], "declined")]),
    )
    .await;
    assert_eq!(statuses(&other), ["conflict"]);
    assert_eq!(other["results"][0]["error"]["code"], "id_reused");
    assert_eq!(
        ledger(&app, &f.leader.token, &h).await[0].2,
        "done",
        "the stored record is untouched"
    );
    // Key order inside data does not make a different body.
    let mut reordered = visit(&rid, &h, &[&r[0]], "done");
    let data = reordered["data"].as_object().expect("obj").clone();
    let mut flipped = serde_json::Map::new();
    for (k, v) in data.into_iter().rev() {
        flipped.insert(k, v);
    }
    reordered["data"] = Value::Object(flipped);
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", json!([reordered])).await),
        ["duplicate"]
    );
}

async fn a_bad_record_does_not_stop_the_good_ones(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let good1 = id();
    let good2 = id();
    let mut bad = visit(&id(), &h, &[&r[0]], "done");
    bad["data"]["items"][0]["service_code"] = json!("no_such_service");
    bad["data"]["channel"] = json!("pigeon");
    let res = push(&app, &f.volunteer.token, "p", json!([visit(&good1, &h, &[&r[0]], "done"), bad, {"kind": "telegram", "id": id(), "op": "create", "data": {}}, {"kind": "assistance_record", "id": "not-a-uuid", "op": "create", "data": {}}, visit(&good2, &h, &[&r[1]], "done")])).await;
    assert_eq!(
        statuses(&res),
        ["applied", "rejected", "rejected", "rejected", "applied"]
    );
    let fields: Vec<&str> = res["results"][1]["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|e| e["field"].as_str().expect("f"))
        .collect();
    assert!(
        fields.contains(&"channel") && fields.contains(&"items[0].service_code"),
        "{fields:?}"
    );
    assert_eq!(res["results"][2]["error"]["code"], "unknown_kind");
    assert_eq!(res["results"][3]["error"]["code"], "invalid_id");
    assert_eq!(count(&app, "assistance_records"), 2);
}

async fn concurrent_pushes_of_the_same_records_store_them_once(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let records: Vec<Value> = (0..40)
        .map(|i| {
            visit(
                &id(),
                &h,
                &[&r[i % 2]],
                if i % 3 == 0 { "done" } else { "assisted" },
            )
        })
        .collect();
    let batch = json!(records);
    let (a, b) = tokio::join!(
        push(&app, &f.volunteer.token, "phone-a", batch.clone()),
        push(&app, &f.volunteer.token, "phone-b", batch.clone()),
    );
    for i in 0..40 {
        let pair = (
            a["results"][i]["status"].as_str().expect("s"),
            b["results"][i]["status"].as_str().expect("s"),
        );
        assert!(
            matches!(
                pair,
                ("applied", "duplicate") | ("duplicate", "applied") | ("applied", "applied")
            ),
            "{pair:?}"
        );
    }
    assert_eq!(count(&app, "assistance_records"), 40);
    assert_eq!(count(&app, "assistance_items"), 40);
    assert_eq!(
        count(&app, "sync_receipts"),
        40,
        "one receipt per record, none twice"
    );
}

/// Four phones of one village push at once, their visits spread over the same households in
/// different orders (each batch updates households and ledger rows in its own order): every batch is
/// answered 200 and every record stored once. On PostgreSQL this deadlocked before pushes took the
/// commune lock.
async fn phones_of_one_village_pushing_at_once_all_get_through(app: TestApp) {
    let f = app.fixture().await;
    let mut homes = vec![];
    for _ in 0..3 {
        homes.push(household(&app, &f).await);
    }
    let phones: Vec<_> = (0..4)
        .map(|phone| {
            let app = &app;
            let token = f.volunteer.token.clone();
            let homes = homes.clone();
            async move {
                let mut statuses_seen = vec![];
                for batch in 0..6 {
                    let records: Vec<Value> = (0..12)
                        .map(|i| {
                            // Each phone and batch walks the households in another order.
                            let (h, r) = &homes[(i + phone + batch) % 3];
                            let outcome = if (i + batch) % 2 == 0 {
                                "assisted"
                            } else {
                                "done"
                            };
                            let mut v = visit(&id(), h, &[&r[i % 2]], outcome);
                            if i % 3 == 0 {
                                v["data"]["items"] = json!([
                                    {"service_code": "cashless_tuition", "outcome": outcome},
                                    {"service_code": "vneid_level2", "outcome": "assisted"}]);
                            }
                            v
                        })
                        .collect();
                    let res = app
                        .send(
                            Method::POST,
                            "/api/v1/sync/push",
                            Some(&token),
                            Some(
                                &json!({"device_id": format!("phone-{phone}"), "records": records}),
                            ),
                        )
                        .await;
                    let status = res.status();
                    let answer = body(res).await;
                    assert_eq!(status, 200, "phone {phone}, batch {batch}: {answer}");
                    statuses_seen.extend(statuses(&answer));
                }
                statuses_seen
            }
        })
        .collect();
    let all: Vec<String> = futures_util::future::join_all(phones)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(all.len(), 4 * 6 * 12);
    assert!(all.iter().all(|s| s == "applied"), "{all:?}");
    assert_eq!(count(&app, "assistance_records"), 4 * 6 * 12);
}

async fn a_stale_household_edit_waits_for_the_village_leader(app: TestApp) {
    let f = app.fixture().await;
    let (h, _) = household(&app, &f).await;
    // Two phones start from version 1; the first edit wins.
    let edit = |lane: &str| json!({"kind": "household", "id": h, "op": "update", "base_version": 1, "data": {"lane": lane}});
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p1", json!([edit("Ngõ 5")])).await),
        ["applied"]
    );
    let stale = push(&app, &f.leader.token, "p2", json!([edit("Ngõ 7")])).await;
    assert_eq!(statuses(&stale), ["conflict"], "{stale}");
    assert_eq!(stale["results"][0]["server"]["lane"], "Ngõ 5");
    assert_eq!(stale["results"][0]["version"], 2);
    let now = body(
        app.get_authed(&format!("/api/v1/households/{h}"), &f.leader.token)
            .await,
    )
    .await;
    assert_eq!(now["lane"], "Ngõ 5", "never a silent overwrite");
    // Replaying the stale edit does not file it twice.
    assert_eq!(
        statuses(&push(&app, &f.leader.token, "p2", json!([edit("Ngõ 7")])).await),
        ["conflict"]
    );

    let conflicts = body(app.get_authed("/api/v1/conflicts", &f.leader.token).await).await;
    let items = conflicts["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["client"]["data"]["lane"], "Ngõ 7");
    assert_eq!(items[0]["server"]["lane"], "Ngõ 5");
    assert_problem(
        app.get_authed("/api/v1/conflicts", &f.volunteer.token)
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_eq!(
        body(
            app.get_authed("/api/v1/conflicts", &f.other_leader.token)
                .await
        )
        .await["items"],
        json!([])
    );

    let path = format!(
        "/api/v1/conflicts/{}/resolve",
        items[0]["id"].as_str().expect("id")
    );
    let res = app
        .send(
            Method::POST,
            &path,
            Some(&f.leader.token),
            Some(&json!({"resolution": "apply_client"})),
        )
        .await;
    assert_eq!(body(res).await["status"], "resolved");
    let now = body(
        app.get_authed(&format!("/api/v1/households/{h}"), &f.leader.token)
            .await,
    )
    .await;
    assert_eq!(
        (now["lane"].as_str(), now["version"].as_i64()),
        (Some("Ngõ 7"), Some(3))
    );
    assert_problem(
        app.send(
            Method::POST,
            &path,
            Some(&f.leader.token),
            Some(&json!({"resolution": "keep_server"})),
        )
        .await,
        409,
        "already_resolved",
    )
    .await;
    assert_eq!(
        body(app.get_authed("/api/v1/conflicts", &f.leader.token).await).await["items"],
        json!([])
    );
}

async fn a_superseding_record_recomputes_the_ledger(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let wrong = id();
    push(
        &app,
        &f.volunteer.token,
        "p",
        json!([visit(&wrong, &h, &[&r[1]], "done")]),
    )
    .await;
    assert_eq!(
        ledger(&app, &f.leader.token, &h).await,
        [(r[1].clone(), "vneid_level2".into(), "done".into())]
    );
    // It was Đức, not Hoa, and he declined: a correction supersedes the record.
    let mut fix = visit(&id(), &h, &[&r[0]], "declined");
    fix["data"]["supersedes"] = json!(wrong);
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", json!([fix.clone()])).await),
        ["applied"]
    );
    assert_eq!(
        ledger(&app, &f.leader.token, &h).await,
        [
            (r[0].clone(), "vneid_level2".into(), "declined".into()),
            (r[1].clone(), "vneid_level2".into(), "unknown".into()),
        ]
    );
    let mut again = visit(&id(), &h, &[&r[0]], "done");
    again["data"]["supersedes"] = json!(wrong);
    let res = push(&app, &f.volunteer.token, "p", json!([again])).await;
    assert_eq!(
        res["results"][0]["error"]["fields"][0]["code"],
        "already_superseded"
    );
    let list = body(
        app.get_authed(
            &format!(
                "/api/v1/households?missing_service=vneid_level2&village_id={}",
                f.v1
            ),
            &f.leader.token,
        )
        .await,
    )
    .await;
    assert_eq!(
        list["items"].as_array().expect("items").len(),
        1,
        "nobody is done: the household is still on the follow-up list"
    );
}

/// The ledger as stored: (subject, service, status, day, source, source record).
fn ledger_rows(
    app: &TestApp,
    household: &str,
) -> Vec<(String, String, String, String, String, String)> {
    use diesel::prelude::*;
    use tungnha::db::schema::adoptions::dsl as a;
    a::adoptions
        .filter(a::household_id.eq(household))
        .select((
            a::subject_id,
            a::service_code,
            a::status,
            a::status_on,
            a::source,
            a::source_record_id,
        ))
        .order((a::subject_id, a::service_code))
        .load::<(
            String,
            String,
            String,
            chrono::NaiveDate,
            String,
            Option<String>,
        )>(&mut app.conn())
        .expect("ledger")
        .into_iter()
        .map(|(s, c, st, on, src, r)| (s, c, st, on.to_string(), src, r.unwrap_or_default()))
        .collect()
}

/// Visits arrive in any order (phones sync late, batches interleave) and the ledger is folded one
/// record at a time (alone) or one batch at a time (the set-wise path, for batches of two or more);
/// whatever the order, it must equal what a full recompute from every live record gives, with one
/// change-log entry for each entry and the tallies right. Includes equal timestamps, two
/// households in one batch, a leader's correction in the middle, a batch that meets it (applied
/// record by record) and a superseding record.
async fn the_ledger_folds_visits_in_any_order_as_a_full_recompute_would(app: TestApp) {
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt, SeedableRng};
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let (h2, r2) = household(&app, &f).await;
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let outcomes = ["done", "assisted", "declined", "needs_follow_up"];
    let mut records = vec![];
    for _ in 0..60 {
        // Few distinct times, so equal timestamps happen; all before the correction below.
        let day = rng.random_range(1..=9);
        let hour = rng.random_range(1..=3);
        let at = format!("2026-11-{day:02}T0{hour}:00:00Z");
        let service = if rng.random_bool(0.5) {
            "vneid_level2"
        } else {
            "cashless_tuition"
        };
        let (hh, rr) = if rng.random_bool(0.7) {
            (&h, &r)
        } else {
            (&h2, &r2)
        };
        let who: Vec<&str> = match rng.random_range(0..3) {
            0 => vec![&rr[0]],
            1 => vec![&rr[1]],
            _ => vec![&rr[0], &rr[1]],
        };
        let outcome = outcomes[rng.random_range(0..4)];
        records.push(
            json!({"kind": "assistance_record", "id": id(), "op": "create", "data": {
            "household_id": hh, "resident_ids": who, "occurred_at": at, "channel": "house_visit",
            "items": [{"service_code": service, "outcome": outcome}]}}),
        );
    }
    // Later visits, after the leader's correction: one for another resident alone, then a batch
    // with one for the corrected resident, which the records decide again.
    let later = json!({"kind": "assistance_record", "id": id(), "op": "create", "data": {
        "household_id": h, "resident_ids": [&r[1]], "occurred_at": chrono::Utc::now().to_rfc3339(),
        "channel": "house_visit", "items": [{"service_code": "vneid_level2", "outcome": "assisted"}]}});
    // Shuffled arrival, in batches of 1 to 7.
    for i in (1..records.len()).rev() {
        records.swap(i, rng.random_range(0..=i));
    }
    let mut sent = 0;
    while sent < records.len() {
        if sent >= records.len() / 2 && sent < records.len() / 2 + 7 {
            // Halfway, the leader sets Đức's VNeID by hand.
            let res = app.send(Method::PATCH, &format!("/api/v1/households/{h}/adoption"), Some(&f.leader.token),
                Some(&json!({"items": [{"service_code": "vneid_level2", "resident_id": r[0], "status": "declined"}]}))).await;
            assert_eq!(res.status(), 200);
        }
        let n = rng.random_range(1..=7).min(records.len() - sent);
        let batch = json!(records[sent..sent + n]);
        let res = push(&app, &f.volunteer.token, "p", batch).await;
        assert!(statuses(&res).iter().all(|s| s == "applied"), "{res}");
        sent += n;
    }
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", json!([later])).await),
        ["applied"]
    );
    let now = chrono::Utc::now().to_rfc3339();
    let after_correction = json!([
        {"kind": "assistance_record", "id": id(), "op": "create", "data": {
            "household_id": h2, "resident_ids": [&r2[0]], "occurred_at": now,
            "channel": "house_visit", "items": [{"service_code": "vneid_level2", "outcome": "assisted"}]}},
        {"kind": "assistance_record", "id": id(), "op": "create", "data": {
            "household_id": h, "resident_ids": [&r[0]], "occurred_at": now,
            "channel": "house_visit", "items": [{"service_code": "vneid_level2", "outcome": "assisted"}]}},
    ]);
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", after_correction).await),
        ["applied", "applied"]
    );
    let duc = ledger_rows(&app, &h)
        .into_iter()
        .find(|row| row.0 == r[0] && row.1 == "vneid_level2")
        .expect("Đức's VNeID");
    assert_eq!(
        duc.4, "record",
        "a visit after the correction: the records decide"
    );
    // A correction of one of the early records.
    let mut fix = records[3].clone();
    fix["data"]["supersedes"] = fix["id"].clone();
    fix["id"] = json!(id());
    fix["data"]["items"][0]["outcome"] = json!("declined");
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", json!([fix])).await),
        ["applied"]
    );

    let folded = (ledger_rows(&app, &h), ledger_rows(&app, &h2));
    assert!(folded.0.iter().any(|row| row.2 == "done"), "{folded:?}");
    assert!(folded.1.iter().any(|row| row.2 == "done"), "{folded:?}");
    let mut conn = app.conn();
    {
        use diesel::prelude::*;
        use tungnha::db::schema::{adoptions::dsl as a, changes::dsl as c};
        let entries: Vec<String> = a::adoptions
            .filter(a::household_id.eq_any([&h, &h2]))
            .select(a::id)
            .load(&mut conn)
            .expect("entries");
        let logged: Vec<String> = c::changes
            .filter(c::kind.eq("adoption"))
            .select(c::object_id)
            .load(&mut conn)
            .expect("changes");
        assert!(
            entries.iter().all(|e| logged.contains(e)),
            "every ledger entry is in the change log"
        );
    }
    assert!(tungnha::db::tallies::verify(&mut conn)
        .expect("verify")
        .is_empty());
    for id in [&h, &h2] {
        let household = tungnha::db::registry::find_household(&mut conn, id)
            .expect("query")
            .expect("household");
        for code in ["vneid_level2", "cashless_tuition"] {
            let service = tungnha::db::registry::find_service_by_code(&mut conn, code)
                .expect("query")
                .expect("service");
            tungnha::sync::adoption::recompute(&mut conn, &household, &service).expect("recompute");
        }
    }
    assert_eq!(
        (ledger_rows(&app, &h), ledger_rows(&app, &h2)),
        folded,
        "folding records or batches differs from a recompute"
    );
}

async fn households_made_offline_can_be_visited_in_the_same_batch(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = (id(), id());
    let batch = json!([
        {"kind": "household", "id": h, "op": "create", "data": {"village_id": f.v1, "head_name": "Lê Văn Mới", "lane": "Ngõ 9"}},
        {"kind": "resident", "id": r, "op": "create", "data": {"household_id": h, "full_name": "Lê Văn Mới", "birth_year": 1970}},
        visit(&id(), &h, &[&r], "done"),
    ]);
    let first = push(&app, &f.volunteer.token, "p", batch.clone()).await;
    assert_eq!(
        statuses(&first),
        ["applied", "applied", "applied"],
        "{first}"
    );
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", batch).await),
        ["duplicate", "duplicate", "duplicate"]
    );
    let hh = body(
        app.get_authed(&format!("/api/v1/households/{h}"), &f.leader.token)
            .await,
    )
    .await;
    assert_eq!(hh["head_name"], "Lê Văn Mới");
    assert_eq!(hh["residents"][0]["id"], r.as_str());
    assert_eq!(
        ledger(&app, &f.leader.token, &h).await,
        [(r.clone(), "vneid_level2".into(), "done".into())]
    );
}

async fn pull_all(
    app: &TestApp,
    token: &str,
    cursor: Option<&str>,
    limit: u32,
) -> (Vec<Value>, String, usize) {
    app.settle().await;
    let mut changes = vec![];
    let mut cursor = cursor.map(str::to_owned);
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/sync/pull?limit={limit}&device_id=phone-1&cursor={c}"),
            None => format!("/api/v1/sync/pull?limit={limit}&device_id=phone-1"),
        };
        let page = body(app.get_authed(&url, token).await).await;
        pages += 1;
        changes.extend(page["changes"].as_array().expect("changes").iter().cloned());
        cursor = Some(page["cursor"].as_str().expect("cursor").to_owned());
        if !page["has_more"].as_bool().expect("has_more") {
            break;
        }
    }
    (changes, cursor.unwrap_or_default(), pages)
}

async fn pull_sends_the_village_and_nothing_else_then_only_what_changed(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    app.send(
        Method::POST,
        "/api/v1/households",
        Some(&f.volunteer_v2.token),
        Some(&json!({"village_id": f.v2, "head_name": "Hộ Thôn Hai"})),
    )
    .await;
    push(&app, &f.volunteer_v2.token, "v2", json!([{"kind": "communication", "id": id(), "op": "create", "data": {
        "village_id": f.v2, "occurred_at": "2026-11-20T01:00:00Z", "channel": "loudspeaker", "topics": ["vneid_level2"], "reach": 300}}])).await;
    let (changes, cursor, _) = pull_all(&app, &f.volunteer.token, None, 1000).await;
    let kinds = |c: &[Value], k: &str| c.iter().filter(|x| x["kind"] == k).count();
    assert_eq!(kinds(&changes, "household"), 1);
    assert_eq!(kinds(&changes, "resident"), 2);
    assert_eq!(kinds(&changes, "service"), 16, "the catalogue");
    assert_eq!(
        kinds(&changes, "communication"),
        0,
        "another village's records stay there"
    );
    let text = serde_json::to_string(&changes).expect("json");
    assert!(
        text.contains("Nguyễn Thị Hoa") && !text.contains("Hộ Thôn Hai"),
        "only the own village"
    );

    let (nothing, same, _) = pull_all(&app, &f.volunteer.token, Some(&cursor), 1000).await;
    assert!(nothing.is_empty());
    assert_eq!(same, cursor, "an empty pull keeps the cursor");

    let rec = id();
    push(
        &app,
        &f.volunteer.token,
        "phone-1",
        json!([visit(&rec, &h, &[&r[0]], "done")]),
    )
    .await;
    let (delta, _, _) = pull_all(&app, &f.volunteer.token, Some(&cursor), 1000).await;
    let mut kinds_seen: Vec<&str> = delta
        .iter()
        .map(|c| c["kind"].as_str().expect("k"))
        .collect();
    kinds_seen.sort();
    assert_eq!(
        kinds_seen,
        ["adoption", "assistance_record", "household"],
        "the visit, its ledger entry and the visit date"
    );
    let record = delta
        .iter()
        .find(|c| c["kind"] == "assistance_record")
        .expect("record");
    assert_eq!(record["id"], rec.as_str());
    assert_eq!(record["data"]["items"][0]["outcome"], "done");
    // The team sees the team's work: the leader's pull brings the volunteer's visit and who made
    // it (it used to bring only the leader's own records, issue 29).
    let (leader_view, _, _) = pull_all(&app, &f.leader.token, None, 1000).await;
    assert_eq!(kinds(&leader_view, "assistance_record"), 1);
    let seen = leader_view
        .iter()
        .find(|c| c["kind"] == "assistance_record")
        .expect("the volunteer's visit");
    assert_eq!(seen["data"]["author_id"], f.volunteer.id.as_str());
    let me = body(app.get_authed("/api/v1/me", &f.volunteer.token).await).await;
    assert_eq!(seen["data"]["author_name"], me["display_name"]);
    assert_eq!(kinds(&leader_view, "adoption"), 1);
    // Another village's volunteer does not get it.
    let (other, _, _) = pull_all(&app, &f.volunteer_v2.token, None, 1000).await;
    assert_eq!(kinds(&other, "assistance_record"), 0);
    let thanh_pho = app.insert_user("thanh.pho", "city", None, None, &[]);
    let city = app.account(thanh_pho, "thanh.pho").await;
    assert_problem(
        app.get_authed("/api/v1/sync/pull", &city.token).await,
        403,
        "personal_data_not_allowed",
    )
    .await;
    assert_problem(
        app.get_authed("/api/v1/sync/pull?cursor=bogus", &f.volunteer.token)
            .await,
        400,
        "validation_failed",
    )
    .await;
}

async fn pull_pages_with_has_more_and_sends_tombstones(app: TestApp) {
    let f = app.fixture().await;
    for i in 0..5 {
        app.send(
            Method::POST,
            "/api/v1/households",
            Some(&f.leader.token),
            Some(&json!({"village_id": f.v1, "head_name": format!("Hộ số {i}")})),
        )
        .await;
    }
    let (all, cursor, pages) = pull_all(&app, &f.volunteer.token, None, 4).await;
    assert!(pages >= 6, "{pages} pages of 4");
    let households: Vec<&Value> = all.iter().filter(|c| c["kind"] == "household").collect();
    assert_eq!(households.len(), 5);
    let gone = households[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/households/{gone}"),
            Some(&f.leader.token),
            None
        )
        .await
        .status(),
        204
    );
    let (delta, _, _) = pull_all(&app, &f.volunteer.token, Some(&cursor), 4).await;
    assert_eq!(
        delta,
        [json!({"kind": "household", "id": gone, "op": "delete", "version": 2})]
    );
}

async fn records_outside_scope_or_time_are_rejected_with_reasons(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let mut future = visit(&id(), &h, &[&r[0]], "done");
    future["data"]["occurred_at"] =
        json!((chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc3339());
    let mut stranger = visit(&id(), &h, &["0193aaaa-0000-7000-8000-000000000000"], "done");
    stranger["data"]["follow_up_on"] = json!("2020-01-01");
    let mut extra = visit(&id(), &h, &[&r[0]], "done");
    extra["data"]["mood"] = json!("happy");
    let res = push(
        &app,
        &f.volunteer.token,
        "p",
        json!([future, stranger, extra]),
    )
    .await;
    assert_eq!(statuses(&res), ["rejected", "rejected", "rejected"]);
    assert_eq!(
        res["results"][0]["error"]["fields"][0]["code"],
        "in_the_future"
    );
    let codes: Vec<&str> = res["results"][1]["error"]["fields"]
        .as_array()
        .expect("f")
        .iter()
        .map(|e| e["code"].as_str().expect("c"))
        .collect();
    assert!(
        codes.contains(&"unknown_resident") && codes.contains(&"out_of_range"),
        "{codes:?}"
    );
    assert_eq!(res["results"][2]["error"]["code"], "invalid_data");
    // A household of another village is as good as absent; another commune's too.
    let res = push(
        &app,
        &f.volunteer_v2.token,
        "p",
        json!([visit(&id(), &h, &[&r[0]], "done")]),
    )
    .await;
    assert_eq!(res["results"][0]["error"]["code"], "household_not_found");
    let res = push(
        &app,
        &f.other_leader.token,
        "p",
        json!([visit(&id(), &h, &[&r[0]], "done")]),
    )
    .await;
    assert_eq!(res["results"][0]["error"]["code"], "household_not_found");
    assert_eq!(count(&app, "assistance_records"), 0);
    // Rejections leave no receipt: once the problem is gone, the same record goes through.
    let late = visit(&id(), &h, &[&r[0]], "done");
    let res = push(&app, &f.volunteer_v2.token, "p", json!([late.clone()])).await;
    assert_eq!(statuses(&res), ["rejected"]);
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", json!([late])).await),
        ["applied"]
    );
}

async fn oversized_batches_and_bad_device_ids_are_refused_whole(app: TestApp) {
    let f = app.fixture().await;
    let many: Vec<Value> = (0..501)
        .map(|_| json!({"kind": "difficulty", "id": id(), "op": "create", "data": {}}))
        .collect();
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(&f.volunteer.token),
            Some(&json!({"device_id": "p", "records": many})),
        )
        .await;
    assert_problem(res, 413, "payload_too_large").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(&f.volunteer.token),
            Some(&json!({"device_id": "", "records": []})),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            None,
            Some(&json!({"device_id": "p", "records": []})),
        )
        .await;
    assert_problem(res, 401, "missing_token").await;
    assert_eq!(count(&app, "difficulties"), 0);
}

async fn leaders_see_which_devices_synced(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let mut bad = visit(&id(), &h, &[&r[0]], "done");
    bad["data"]["channel"] = json!("pigeon");
    push(
        &app,
        &f.volunteer.token,
        "lan-phone",
        json!([visit(&id(), &h, &[&r[0]], "done"), bad]),
    )
    .await;
    app.get_authed("/api/v1/sync/pull?device_id=lan-phone", &f.volunteer.token)
        .await;
    push(&app, &f.other_leader.token, "elsewhere", json!([])).await;
    let devices = body(app.get_authed("/api/v1/devices", &f.leader.token).await).await;
    let items = devices["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{devices}");
    assert_eq!(items[0]["device_id"], "lan-phone");
    assert_eq!(items[0]["username"], "tinh.nguyen");
    assert_eq!(
        (
            items[0]["records_applied"].as_i64(),
            items[0]["records_rejected"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(items[0]["last_error"], "validation_failed");
    assert!(items[0]["last_pull_at"].is_string());
    assert_problem(
        app.get_authed("/api/v1/devices", &f.volunteer.token).await,
        403,
        "role_not_allowed",
    )
    .await;
    let all = body(app.get_authed("/api/v1/devices", &f.admin.token).await).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 2);
}

/// A phone that polls does not make every pull a write: `last_pull_at` moves only once the stored
/// one is a minute old (`db::sync::PULL_SEEN_EVERY_SECONDS`).
async fn a_pull_notes_the_device_at_most_once_a_minute(app: TestApp) {
    use diesel::prelude::*;
    use tungnha::db::schema::devices::dsl as d;
    let f = app.fixture().await;
    let stored = |app: &TestApp| -> Option<chrono::NaiveDateTime> {
        d::devices
            .filter(d::id.eq("poller"))
            .select(d::last_pull_at)
            .get_result(&mut app.conn())
            .expect("device")
    };
    let set = |app: &TestApp, ago: i64| {
        let at = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() - ago, 0)
            .expect("time")
            .naive_utc();
        diesel::update(d::devices.filter(d::id.eq("poller")))
            .set(d::last_pull_at.eq(at))
            .execute(&mut app.conn())
            .expect("set");
        at
    };
    let pull = || app.get_authed("/api/v1/sync/pull?device_id=poller", &f.volunteer.token);
    assert_eq!(pull().await.status(), 200);
    assert!(stored(&app).is_some(), "the first pull notes the device");
    let recent = set(&app, 30);
    assert_eq!(pull().await.status(), 200);
    assert_eq!(
        stored(&app),
        Some(recent),
        "a pull 30 s later writes nothing"
    );
    let old = set(&app, 61);
    assert_eq!(pull().await.status(), 200);
    let now = stored(&app).expect("noted");
    assert!(now > old + chrono::Duration::seconds(30), "{old} → {now}");
    // A push still notes the device every time.
    push(&app, &f.volunteer.token, "poller", json!([])).await;
    let pushed: Option<chrono::NaiveDateTime> = d::devices
        .filter(d::id.eq("poller"))
        .select(d::last_push_at)
        .get_result(&mut app.conn())
        .expect("device");
    assert!(pushed.is_some());
}

async fn online_clients_create_records_idempotently_and_read_them_in_scope(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let rid = id();
    let body_of = |outcome: &str| {
        json!({"id": rid, "data": {"household_id": h, "resident_ids": [r[0]], "occurred_at": "2026-11-21T02:00:00Z",
        "channel": "commune_office", "items": [{"service_code": "digital_signature", "outcome": outcome}], "notes": "Làm tại trụ sở xã"}})
    };
    let res = app
        .send(
            Method::POST,
            "/api/v1/assistance-records",
            Some(&f.volunteer.token),
            Some(&body_of("done")),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    assert_eq!(created["items"][0]["service_code"], "digital_signature");
    assert_eq!(created["resident_ids"], json!([r[0]]));
    let res = app
        .send(
            Method::POST,
            "/api/v1/assistance-records",
            Some(&f.volunteer.token),
            Some(&body_of("done")),
        )
        .await;
    assert_eq!(res.status(), 200, "a retry");
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/assistance-records",
            Some(&f.volunteer.token),
            Some(&body_of("declined")),
        )
        .await,
        409,
        "id_reused",
    )
    .await;
    let bad = json!({"data": {"household_id": h, "occurred_at": "2026-11-21T02:00:00Z", "channel": "house_visit", "items": []}});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/assistance-records",
            Some(&f.volunteer.token),
            Some(&bad),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;

    let mine = body(
        app.get_authed(
            &format!("/api/v1/assistance-records?household_id={h}"),
            &f.volunteer.token,
        )
        .await,
    )
    .await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    assert_eq!(
        body(
            app.get_authed("/api/v1/assistance-records", &f.volunteer_v2.token)
                .await
        )
        .await["items"],
        json!([])
    );
    assert_problem(
        app.get_authed(
            &format!("/api/v1/assistance-records/{rid}"),
            &f.volunteer_v2.token,
        )
        .await,
        404,
        "record_not_found",
    )
    .await;
    let police = body(
        app.get_authed(
            &format!("/api/v1/assistance-records/{rid}"),
            &f.police.token,
        )
        .await,
    )
    .await;
    assert_eq!(police["notes"], "Làm tại trụ sở xã");
    let econ = app.insert_user(
        "kinh.te",
        "department",
        Some("economy"),
        Some(&f.commune),
        &[],
    );
    let econ = app.account(econ, "kinh.te").await;
    let hidden = body(
        app.get_authed(&format!("/api/v1/assistance-records/{rid}"), &econ.token)
            .await,
    )
    .await;
    assert_eq!(
        hidden["notes"],
        Value::Null,
        "no free text for roles without personal data"
    );

    let comm = json!({"data": {"village_id": f.v1, "occurred_at": "2026-11-21T00:30:00Z", "channel": "zalo", "topics": ["smart_haiphong"], "reach": 120, "link": "https://zalo.me/g/maodien"}});
    assert_eq!(
        app.send(
            Method::POST,
            "/api/v1/communications",
            Some(&f.volunteer.token),
            Some(&comm)
        )
        .await
        .status(),
        201
    );
    let list = body(
        app.get_authed("/api/v1/communications", &f.chairman.token)
            .await,
    )
    .await;
    assert_eq!(list["items"][0]["topics"], json!(["smart_haiphong"]));
    assert_eq!(
        body(
            app.get_authed("/api/v1/communications", &f.volunteer_v2.token)
                .await
        )
        .await["items"],
        json!([])
    );
    let diff = json!({"data": {"raised_at": "2026-11-21T00:30:00Z", "title": "Điện thoại cũ không cài được VNeID", "description": "Nhiều cụ dùng máy Android 7, ứng dụng không hỗ trợ.", "service_codes": ["vneid_level2"]}});
    assert_eq!(
        app.send(
            Method::POST,
            "/api/v1/difficulties",
            Some(&f.leader.token),
            Some(&diff)
        )
        .await
        .status(),
        201
    );
    let list = body(
        app.get_authed("/api/v1/difficulties", &f.culture_social.token)
            .await,
    )
    .await;
    assert_eq!(
        (
            list["items"][0]["status"].as_str(),
            list["items"][0]["village_id"].as_str()
        ),
        (Some("open"), None)
    );
    assert_problem(
        app.get_authed(
            "/api/v1/difficulties",
            &app.account(app.insert_user("tp", "city", None, None, &[]), "tp")
                .await
                .token,
        )
        .await,
        403,
        "personal_data_not_allowed",
    )
    .await;
}

/// A batch of new visits goes through the set-wise path (one read of its receipts, households and
/// residents, multi-row inserts). Each record must still get the answer it would get alone, in
/// order; what is stored must be each applied record once, with its receipt and change-log entry;
/// the household keeps its latest visit; and the ledger must equal a full recompute.
async fn a_batch_of_visits_answers_each_record_as_it_would_alone(app: TestApp) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let (h2, r2) = household(&app, &f).await;
    let stored = visit(&id(), &h, &[&r[0]], "assisted");
    assert_eq!(
        statuses(&push(&app, &f.volunteer.token, "p", json!([stored.clone()])).await),
        ["applied"]
    );
    let mut reused = stored.clone();
    reused["data"]["items"][0]["outcome"] = json!("declined");
    let twice = id();
    let mut later = visit(&id(), &h2, &[&r2[1]], "done");
    later["data"]["occurred_at"] = json!("2026-11-22T03:00:00Z");
    let household_level = json!({"kind": "assistance_record", "id": id(), "op": "create", "data": {
        "household_id": h2, "resident_ids": [], "occurred_at": "2026-11-21T03:00:00Z",
        "channel": "house_visit", "items": [{"service_code": "e_commerce", "outcome": "done"}]}});
    let mut stranger = visit(&id(), &h, &[&r2[0]], "done");
    stranger["data"]["notes"] = json!("not of this household");
    let batch = json!([
        visit(&id(), &h, &[&r[0], &r[1]], "done"),
        stored,
        reused,
        {"kind": "assistance_record", "id": "not-a-uuid", "op": "create", "data": {}},
        visit(&id(), &uuid::Uuid::now_v7().to_string(), &[], "done"),
        visit(&twice, &h2, &[&r2[0]], "assisted"),
        visit(&twice, &h2, &[&r2[0]], "assisted"),
        later,
        household_level,
        stranger,
        {"kind": "assistance_record", "id": id(), "op": "create", "data": {"household_id": h}},
    ]);
    let res = push(&app, &f.volunteer.token, "p", batch).await;
    assert_eq!(
        statuses(&res),
        [
            "applied",
            "duplicate",
            "conflict",
            "rejected",
            "rejected",
            "applied",
            "duplicate",
            "applied",
            "applied",
            "rejected",
            "rejected"
        ],
        "{res}"
    );
    let code = |i: usize| {
        res["results"][i]["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(
        (1..11).map(code).collect::<Vec<_>>(),
        [
            "",
            "id_reused",
            "invalid_id",
            "household_not_found",
            "",
            "",
            "",
            "",
            "validation_failed",
            "invalid_data"
        ]
    );
    assert_eq!(
        res["results"][9]["error"]["fields"][0]["code"],
        "unknown_resident"
    );
    // 1 before + 4 applied now.
    assert_eq!(count(&app, "assistance_records"), 5);
    assert_eq!(count(&app, "assistance_items"), 5);
    assert_eq!(count(&app, "assistance_residents"), 1 + 2 + 1 + 1);
    assert_eq!(count(&app, "sync_receipts"), 5);
    use diesel::prelude::*;
    use tungnha::db::schema::changes::dsl as c;
    let logged: i64 = c::changes
        .filter(c::kind.eq("assistance_record"))
        .count()
        .get_result(&mut app.conn())
        .expect("changes");
    assert_eq!(logged, 5, "one change-log entry per stored record");
    let second = body(
        app.get_authed(&format!("/api/v1/households/{h2}"), &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(
        second["last_visited_at"], "2026-11-22T03:00:00Z",
        "the latest visit of the batch"
    );
    assert_eq!(
        ledger(&app, &f.volunteer.token, &h2).await,
        [
            ("".to_owned(), "e_commerce".to_owned(), "done".to_owned()),
            (
                r2[0].clone(),
                "vneid_level2".to_owned(),
                "assisted".to_owned()
            ),
            (r2[1].clone(), "vneid_level2".to_owned(), "done".to_owned()),
        ]
    );
    let folded = (ledger_rows(&app, &h), ledger_rows(&app, &h2));
    let mut conn = app.conn();
    for id in [&h, &h2] {
        let household = tungnha::db::registry::find_household(&mut conn, id)
            .expect("query")
            .expect("household");
        for code in ["vneid_level2", "e_commerce"] {
            let service = tungnha::db::registry::find_service_by_code(&mut conn, code)
                .expect("query")
                .expect("service");
            tungnha::sync::adoption::recompute(&mut conn, &household, &service).expect("recompute");
        }
    }
    assert_eq!((ledger_rows(&app, &h), ledger_rows(&app, &h2)), folded);
    assert!(tungnha::db::tallies::verify(&mut conn)
        .expect("verify")
        .is_empty());
}

/// The set-wise path trusts its one read of the receipts. A record already in the table without a
/// receipt (written by another connection meanwhile, as the unique index sees it) makes its
/// multi-row insert fail: the batch is then applied record by record, so the others are stored
/// once and that one is refused, never stored twice.
async fn a_batch_that_meets_a_stored_record_without_receipt_is_applied_record_by_record(
    app: TestApp,
) {
    let f = app.fixture().await;
    let (h, r) = household(&app, &f).await;
    let taken = id();
    {
        use diesel::prelude::*;
        let mut conn = app.conn();
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(tungnha::db::schema::assistance_records::table)
            .values(&tungnha::db::sync::AssistanceRecord {
                id: taken.clone(),
                commune_id: f.commune.clone(),
                village_id: f.v1.clone(),
                household_id: h.clone(),
                author_id: f.volunteer.id.clone(),
                device_id: "elsewhere".into(),
                occurred_at: now,
                channel: "house_visit".into(),
                notes: None,
                follow_up_on: None,
                supersedes: None,
                superseded_by: None,
                received_at: now,
            })
            .execute(&mut conn)
            .expect("insert");
    }
    let (a, b) = (id(), id());
    let res = push(
        &app,
        &f.volunteer.token,
        "p",
        json!([
            visit(&a, &h, &[&r[0]], "done"),
            visit(&taken, &h, &[&r[1]], "done"),
            visit(&b, &h, &[&r[1]], "assisted")
        ]),
    )
    .await;
    assert_eq!(statuses(&res), ["applied", "rejected", "applied"], "{res}");
    assert_eq!(res["results"][1]["error"]["code"], "already_exists");
    assert_eq!(count(&app, "assistance_records"), 3);
    assert_eq!(count(&app, "assistance_items"), 2);
    assert_eq!(count(&app, "sync_receipts"), 2);
    assert_eq!(
        ledger(&app, &f.volunteer.token, &h).await,
        [
            (r[0].clone(), "vneid_level2".to_owned(), "done".to_owned()),
            (
                r[1].clone(),
                "vneid_level2".to_owned(),
                "assisted".to_owned()
            ),
        ]
    );
}
