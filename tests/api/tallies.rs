//! The tallies behind the dashboards (db/tallies.rs): every write path keeps them equal to the rows
//! they count, a past period keeps its figures through later deletions and corrections, and a
//! rebuild (on migration, or by `tungnha rebuild-tallies`) repairs them.

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::TestApp;
use crate::stats::{commune, figures, item, nd};

both_backends!(
    tallies_follow_every_write_and_past_periods_keep_their_figures,
    a_rebuild_repairs_tallies_and_the_migration_builds_them_for_old_data,
);

fn assert_consistent(app: &TestApp, step: &str) {
    let mut conn = app.conn();
    let wrong = tungnha::db::tallies::verify(&mut conn).expect("verify");
    assert!(wrong.is_empty(), "after {step}: {wrong:?}");
}

/// (current, previous) of an indicator for Q4 2026, which has Q3 as the previous period.
async fn q4(app: &TestApp, token: &str, code: &str) -> (Value, Value) {
    let all = figures(app, token, "period=quarter&date=2026-11-20").await;
    let it = item(&all, code);
    (it["current"].clone(), it["previous"].clone())
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.expect("text");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn tallies_follow_every_write_and_past_periods_keep_their_figures(app: TestApp) {
    // The fixture syncs records, one of which a correction supersedes.
    let c = commune(&app).await;
    assert_consistent(&app, "syncing records and a correction");
    let (f, chair) = (&c.f, &c.f.chairman.token);
    let (now, before) = q4(&app, chair, "adults_vneid_level2").await;
    assert_eq!(nd(&now), (3, Some(5), Some(60.0)));
    assert_eq!(nd(&before), (1, Some(5), Some(20.0)));
    // Weeks end inside a month: the week of 5 October counts Đức (30 September), Bình (1 October)
    // and Giang (5 October); the week before ends on 5 October, before Giang.
    let week = figures(&app, chair, "period=week&date=2026-10-07").await;
    let vneid = item(&week, "adults_vneid_level2");
    assert_eq!(nd(&vneid["current"]), (3, Some(5), Some(60.0)));
    assert_eq!(nd(&vneid["previous"]), (2, Some(5), Some(40.0)));

    // Phúc (1970) is deleted today, inside Q4: gone from Q4, still an adult of Q3.
    let phuc = &c.h2.1[1];
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/residents/{phuc}"),
            Some(&f.leader.token),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_consistent(&app, "deleting a resident");
    let (now, before) = q4(&app, chair, "adults_vneid_level2").await;
    assert_eq!(nd(&now), (3, Some(4), Some(75.0)));
    assert_eq!(nd(&before), (1, Some(5), Some(20.0)));
    let (health, _) = q4(&app, chair, "population_health_record").await;
    assert_eq!(nd(&health), (0, Some(6), Some(0.0)));

    // Cúc's birth year was 2015 by mistake; she was born in 2000: an adult in both quarters.
    let cuc = &c.h1.1[2];
    let path = format!("/api/v1/residents/{cuc}");
    let res = app.get_authed(&path, &f.leader.token).await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&f.leader.token)
        .header("if-match", etag)
        .json(&json!({"birth_year": 2000}))
        .send()
        .await
        .expect("patch");
    ok(res).await;
    assert_consistent(&app, "changing a birth year");
    let (now, before) = q4(&app, chair, "adults_vneid_level2").await;
    assert_eq!(nd(&now), (3, Some(5), Some(60.0)));
    assert_eq!(nd(&before), (1, Some(6), Some(16.7)));

    // Giang's household (v2) is deleted today. His VNeID was done on 5 October: Q4 loses him, Q3
    // keeps him as an adult not yet done; his household leaves Q4's visited households, not Q3's.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/households/{}", c.h3.0),
            Some(&f.admin.token),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_consistent(&app, "deleting a household");
    let (now, before) = q4(&app, chair, "adults_vneid_level2").await;
    assert_eq!(nd(&now), (2, Some(4), Some(50.0)));
    assert_eq!(nd(&before), (1, Some(6), Some(16.7)));
    let (now, before) = q4(&app, chair, "households_visited").await;
    assert_eq!(nd(&now), (2, Some(2), Some(100.0)));
    assert_eq!(nd(&before), (1, Some(3), Some(33.3)));

    // Corrections today: Cúc done, Em not applicable. Q4 changes; Q3 ended before them.
    let path = format!("/api/v1/households/{}/adoption", c.h1.0);
    let body =
        json!({"items": [{"service_code": "vneid_level2", "resident_id": cuc, "status": "done"}]});
    ok(app
        .send(Method::PATCH, &path, Some(&f.leader.token), Some(&body))
        .await)
    .await;
    let em = &c.h2.1[0];
    let path = format!("/api/v1/households/{}/adoption", c.h2.0);
    let body = json!({"items": [{"service_code": "vneid_level2", "resident_id": em, "status": "not_applicable", "note": "Đã có ở nơi khác"}]});
    ok(app
        .send(Method::PATCH, &path, Some(&f.leader.token), Some(&body))
        .await)
    .await;
    assert_consistent(&app, "correcting the ledger");
    let (now, before) = q4(&app, chair, "adults_vneid_level2").await;
    assert_eq!(nd(&now), (3, Some(3), Some(100.0)));
    assert_eq!(nd(&before), (1, Some(6), Some(16.7)));
}

async fn a_rebuild_repairs_tallies_and_the_migration_builds_them_for_old_data(app: TestApp) {
    let c = commune(&app).await;
    let chair = &c.f.chairman.token;
    let expected = figures(&app, chair, "period=quarter&date=2026-11-20").await;

    // Hand edits that bypass the triggers' arithmetic: verify names the tables, a rebuild mends them.
    app.conn()
        .batch_execute(
            "UPDATE resident_tallies SET residents = residents + 5; DELETE FROM item_tallies;",
        )
        .expect("corrupt");
    let mut conn = app.conn();
    let wrong = tungnha::db::tallies::verify(&mut conn).expect("verify");
    let tables: Vec<&str> = wrong.iter().map(|(t, _)| *t).collect();
    assert_eq!(tables, ["item_tallies", "resident_tallies"]);
    assert_ne!(
        figures(&app, chair, "period=quarter&date=2026-11-20").await,
        expected
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("rebuild-tallies")
        .env("TUNGNHA_DATABASE_URL", app.db.url_string())
        .env("TUNGNHA_CONFIG_DIR", app.db.dir.path())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_consistent(&app, "rebuild-tallies");
    assert_eq!(
        figures(&app, chair, "period=quarter&date=2026-11-20").await,
        expected
    );

    // A database from before the tallies: revert their migration, write more rows, migrate again.
    {
        use diesel_migrations::MigrationHarness;
        let migrations = match app.db.url_string().starts_with("sqlite") {
            true => tungnha::db::SQLITE_MIGRATIONS,
            false => tungnha::db::POSTGRES_MIGRATIONS,
        };
        conn.revert_last_migration(migrations).expect("revert");
    }
    conn.batch_execute(&format!(
        "UPDATE residents SET birth_year = 2000 WHERE id = '{}'",
        c.h1.1[2]
    ))
    .expect("edit without triggers");
    let applied = tungnha::db::run_migrations(&mut conn).expect("migrate");
    assert_eq!(applied.len(), 1);
    assert_consistent(&app, "migrating a database with data");
    let (now, _) = q4(&app, chair, "adults_vneid_level2").await;
    assert_eq!(nd(&now), (3, Some(6), Some(50.0)));
}
