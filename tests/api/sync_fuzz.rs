//! Property-based fuzzing of the sync payload (proptest) through the real server: batches of
//! records that are mostly well formed with random damage (unknown kinds and ops, reused ids,
//! wrong types, bad dates, unknown households and services, junk JSON), pushed and pushed again.
//! Whatever comes in, the server answers each record with a documented status, never a server
//! error, and stores each record at most once. Failing cases shrink and are kept by proptest in
//! `proptest-regressions/` (small; commit them).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use tungnha::db::schema::{assistance_records, communications, difficulties};

use crate::helpers::{spawn_app_with, Backend};
use crate::stats::commune;

/// Cases per run (`SYNC_FUZZ_CASES` changes it); each pushes a batch twice.
fn cases() -> u32 {
    std::env::var("SYNC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

/// Any JSON value, a few levels deep.
fn junk() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A string that is usually one of `good`, sometimes anything.
fn pick(good: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        40 => prop::sample::select(good).prop_map(|s| json!(s)),
        2 => "\\PC{0,30}".prop_map(Value::String),
        1 => junk(),
    ]
}

fn time() -> impl Strategy<Value = Value> {
    prop_oneof![
        30 => (2020i32..2026, 1u32..13, 1u32..29, 0u32..24).prop_map(|(y, m, d, h)| {
            json!(format!("{y}-{m:02}-{d:02}T{h:02}:00:00Z"))
        }),
        1 => Just(json!("2019-12-31T23:59:59Z")),
        1 => Just(json!("2031-01-01T00:00:00Z")),
        1 => Just(json!("31/12/2026")),
        1 => junk(),
    ]
}

/// The ids of the fixture's households and residents, to aim at real objects most of the time.
#[derive(Clone, Debug)]
struct World {
    /// Households with their residents.
    households: Vec<(String, Vec<String>)>,
    villages: Vec<String>,
}

fn record(world: World, ids: Vec<String>) -> impl Strategy<Value = Value> {
    // A household with some of its own residents, mostly; sometimes a stranger or junk.
    let visited = prop_oneof![
        12 => prop::sample::select(world.households.clone()).prop_flat_map(|(h, people)| {
            (Just(h), prop::sample::subsequence(people.clone(), 0..=people.len().min(3)))
                .prop_map(|(h, r)| (json!(h), json!(r)))
        }),
        1 => Just((json!(uuid::Uuid::nil().to_string()), json!([]))),
        1 => (junk(), junk()),
    ];
    let item = (
        pick(&["vneid_level2", "public_service_portal", "e_commerce", "vneid_level2"]),
        pick(&["done", "assisted", "declined", "needs_follow_up"]),
        prop::option::of("\\PC{0,60}"),
    )
        .prop_map(|(service_code, outcome, note)| {
            json!({"service_code": service_code, "outcome": outcome, "note": note})
        });
    let assistance = (
        visited,
        time(),
        pick(&[
            "house_visit",
            "community_meeting",
            "commune_office",
            "phone_online",
            "pigeon",
        ]),
        prop::collection::vec(item, 0..3),
        prop::option::of("\\PC{0,200}"),
    )
        .prop_map(|((h, r), at, channel, items, notes)| {
            json!({"household_id": h, "resident_ids": r, "occurred_at": at, "channel": channel,
                "items": items, "notes": notes})
        });
    let village = prop_oneof![
        12 => Just(json!(world.villages[0].clone())),
        3 => Just(Value::Null),
        1 => prop::sample::select(world.villages.clone()).prop_map(|v| json!(v)),
        1 => junk(),
    ];
    let communication = (
        village.clone(),
        time(),
        pick(&["zalo", "loudspeaker", "meeting", "fax"]),
        prop_oneof![9 => 0i64..5000, 1 => any::<i64>()],
    )
        .prop_map(|(v, at, channel, reach)| {
            json!({"village_id": v, "occurred_at": at, "channel": channel,
                "topics": ["vneid_level2"], "reach": reach})
        });
    let difficulty = (village, time(), "\\PC{0,80}", "\\PC{0,300}").prop_map(|(v, at, title, text)| {
        json!({"village_id": v, "raised_at": at, "title": title, "description": text})
    });
    let id = prop_oneof![
        30 => Just(()).prop_map(|_| json!(uuid::Uuid::now_v7().to_string())),
        8 => prop::sample::select(ids).prop_map(|i| json!(i)),
        1 => junk(),
    ];
    (
        id,
        prop_oneof![
            10 => (Just("assistance_record"), assistance).prop_map(|(k, d)| (json!(k), d)),
            4 => (Just("communication"), communication).prop_map(|(k, d)| (json!(k), d)),
            4 => (Just("difficulty"), difficulty).prop_map(|(k, d)| (json!(k), d)),
            1 => (pick(&["household", "resident", "visit"]), junk()),
        ],
        prop_oneof![
            20 => Just(json!("create")),
            3 => pick(&["update", "delete", "upsert"]),
        ],
        prop::option::weighted(0.1, any::<i64>()),
    )
        .prop_map(|(id, (kind, data), op, base)| {
            let mut r = json!({"kind": kind, "id": id, "op": op, "data": data});
            if let Some(v) = base {
                r["base_version"] = json!(v);
            }
            r
        })
}

mod random_sync_batches_get_a_documented_answer_and_store_each_record_once {
    use super::*;

    #[test]
    fn sqlite() {
        fuzz(Backend::Sqlite)
    }

    #[test]
    #[cfg_attr(
        not(tungnha_postgres),
        ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
    )]
    fn postgres() {
        if crate::helpers::postgres_base_url().is_some() {
            fuzz(Backend::Postgres)
        }
    }
}

fn fuzz(backend: Backend) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app = rt.block_on(spawn_app_with(backend, |_| {}));
    let c = rt.block_on(commune(&app));
    let world = World {
        households: vec![c.h1.clone(), c.h2.clone(), c.h3.clone()],
        villages: vec![c.f.v1.clone(), c.f.v2.clone(), c.f.v3.clone()],
    };
    // A small pool of ids that batches reuse, with the same or another body.
    let pool: Vec<String> = (0..8).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let token = c.f.volunteer.token.clone();
    let http = reqwest::Client::new();
    let url = app.url("/api/v1/sync/push");
    // The runner takes a `Fn`: what the cases learn is kept in cells.
    let applied_cell: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    let statuses_cell: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
    let sent_cell = Cell::new(0usize);

    let batch = prop::collection::vec(record(world, pool), 1..12);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&batch, |records| {
        let mut applied = applied_cell.borrow_mut();
        let mut statuses = statuses_cell.borrow_mut();
        let body = json!({"device_id": "fuzz-phone", "records": records});
        let mut first: Vec<String> = vec![];
        for round in 0..2 {
            let res = rt
                .block_on(http.post(&url).bearer_auth(&token).json(&body).send())
                .expect("the server answers");
            let status = res.status().as_u16();
            let answer: Value = rt.block_on(res.json()).expect("a JSON answer");
            // A batch that is not a batch (a kind, id or op that is not a string, say) is refused
            // whole with a problem; anything else gets one answer per record.
            prop_assert!(status == 200 || status == 400, "status {status}: {answer}");
            if status == 400 {
                prop_assert_eq!(answer["status"].as_u64(), Some(400), "{}", answer);
                continue;
            }
            let results = answer["results"].as_array().expect("results");
            prop_assert_eq!(results.len(), records.len());
            for (i, (sent, r)) in records.iter().zip(results).enumerate() {
                let s = r["status"].as_str().unwrap_or("?").to_owned();
                prop_assert!(
                    ["applied", "duplicate", "conflict", "rejected"].contains(&s.as_str()),
                    "{r}"
                );
                sent_cell.set(sent_cell.get() + 1);
                *statuses.entry(s.clone()).or_default() += 1;
                if std::env::var("SYNC_FUZZ_DEBUG").is_ok() && s == "rejected" {
                    eprintln!("REJ {} {}", r["error"]["code"], r["error"]["fields"]);
                }
                let id = r["id"].as_str().unwrap_or("").to_owned();
                if s == "applied" {
                    // Applied once, ever.
                    prop_assert!(!applied.contains_key(&id), "{id} applied twice: {sent}");
                    applied.insert(id.clone(), sent["kind"].as_str().unwrap_or("").to_owned());
                }
                if round == 0 {
                    first.push(s);
                } else {
                    // The same batch again: what was applied is now a duplicate, every other
                    // answer is the same as the first time.
                    let expected = if first[i] == "applied" {
                        "duplicate"
                    } else {
                        first[i].as_str()
                    };
                    prop_assert_eq!(s.as_str(), expected, "{} on replay: {}", id, sent);
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let applied = applied_cell.into_inner();
    let statuses = statuses_cell.into_inner();
    let records_sent = sent_cell.get();
    // The database holds exactly the records that were applied, once each.
    let mut conn = app.conn();
    let count = |kind: &str| -> BTreeSet<String> {
        applied
            .iter()
            .filter(|(_, k)| k.as_str() == kind)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let stored: BTreeSet<String> = assistance_records::table
        .select(assistance_records::id)
        .load::<String>(&mut conn)
        .expect("records")
        .into_iter()
        .filter(|id| applied.contains_key(id))
        .collect();
    assert_eq!(stored, count("assistance_record"));
    let talks: i64 = communications::table
        .filter(communications::id.eq_any(count("communication")))
        .count()
        .get_result(&mut conn)
        .expect("communications");
    assert_eq!(talks as usize, count("communication").len());
    let raised: i64 = difficulties::table
        .filter(difficulties::id.eq_any(count("difficulty")))
        .count()
        .get_result(&mut conn)
        .expect("difficulties");
    assert_eq!(raised as usize, count("difficulty").len());
    // Enough of each outcome that the property was really exercised.
    assert!(
        statuses.get("applied").copied().unwrap_or(0) > 50,
        "{statuses:?}"
    );
    assert!(
        statuses.get("rejected").copied().unwrap_or(0) > 50,
        "{statuses:?}"
    );
    assert!(
        statuses.get("duplicate").copied().unwrap_or(0) > 50,
        "{statuses:?}"
    );
    let figures = format!(
        "sync payload fuzz on {backend:?}: {} batches (each pushed twice), {} records answered {:?}, {} applied and stored once\n",
        cases(),
        records_sent,
        statuses,
        applied.len()
    );
    print!("{figures}");
    std::fs::write(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("faults-sync-fuzz-{backend:?}.txt")),
        figures,
    )
    .expect("write the fuzz figures");
}
