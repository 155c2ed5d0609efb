//! Two server instances behind one database (a load balancer in front): a phone's retries of the
//! same batch land on either, at the same moment, and every record is stored exactly once.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{json, Value};
use tungnha::db::schema::assistance_records;

use crate::both_backends;
use crate::helpers::TestApp;
use crate::stats::{commune, visit};

both_backends!(retries_alternating_between_two_instances_store_each_record_once,);

async fn push(http: &reqwest::Client, base: &str, token: &str, records: &[Value]) -> Value {
    let res = http
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(token)
        .json(&json!({"device_id": "phone-lb", "records": records}))
        .send()
        .await
        .expect("push");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

async fn retries_alternating_between_two_instances_store_each_record_once(app: TestApp) {
    let c = commune(&app).await;
    let token = c.f.volunteer.token.clone();
    let second = app.second_instance().await;
    let instances = [app.address.clone(), second];
    let http = reqwest::Client::new();
    let item = json!([{"service_code": "vneid_level2", "outcome": "done"}]);
    let mut ids = vec![];
    let mut outcomes: HashMap<String, Vec<String>> = HashMap::new();
    for round in 0..12 {
        let batch: Vec<Value> = (0..5)
            .map(|i| {
                let at = format!("2026-11-{:02}T0{}:00:00Z", 2 + round, i);
                visit(&c.h1.0, &[&c.h1.1[0]], &at, "house_visit", item.clone())
            })
            .collect();
        ids.extend(
            batch
                .iter()
                .map(|r| r["id"].as_str().expect("id").to_owned()),
        );
        // The reply to the first try is lost; the retry goes to the other instance while the first
        // is still working on it. Then a late third try to the first again.
        let (first, retry) = (&instances[round % 2], &instances[(round + 1) % 2]);
        let (a, b) = tokio::join!(
            push(&http, first, &token, &batch),
            push(&http, retry, &token, &batch)
        );
        let late = push(&http, first, &token, &batch).await;
        for answer in [a, b, late] {
            for r in answer["results"].as_array().expect("results") {
                outcomes
                    .entry(r["id"].as_str().expect("id").to_owned())
                    .or_default()
                    .push(r["status"].as_str().expect("status").to_owned());
            }
        }
    }
    // Each record: applied exactly once across the three tries, the other two duplicates.
    for id in &ids {
        let mut seen = outcomes[id].clone();
        seen.sort();
        assert_eq!(seen, ["applied", "duplicate", "duplicate"], "{id}");
    }
    let mut conn = app.conn();
    let stored: Vec<String> = assistance_records::table
        .filter(assistance_records::id.eq_any(&ids))
        .select(assistance_records::id)
        .load(&mut conn)
        .expect("records");
    assert_eq!(stored.len(), ids.len(), "each record stored once");
}
