//! A household's rights over its data: a copy of everything held about it, and erasure that
//! removes what identifies its people while every figure stays the same.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};
use crate::stats::{commune, push, visit};

both_backends!(a_household_gets_its_data_and_is_erased_without_changing_the_figures,);

async fn body(res: reqwest::Response) -> Value {
    let status = res.status();
    let v: Value = res.json().await.expect("json");
    assert!(status.is_success(), "{status}: {v}");
    v
}

const NOTE: &str = "Bác Đức nhờ con trai Nguyễn Văn Hải (0912 345 678) cài VNeID";

async fn a_household_gets_its_data_and_is_erased_without_changing_the_figures(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let (h1, people) = (&c.h1.0, &c.h1.1);
    let mut noted = visit(
        h1,
        &[&people[1]],
        "2026-11-12T03:00:00Z",
        "house_visit",
        json!([{"service_code": "vneid_level2", "outcome": "done", "note": NOTE}]),
    );
    noted["data"]["notes"] = json!(NOTE);
    push(&app, &f.volunteer.token, vec![noted]).await;
    let figures = |token: String| {
        let app = &app;
        async move {
            body(
                app.get_authed(
                    "/api/v1/stats/indicators?period=quarter&date=2026-11-20&group_by=village",
                    &token,
                )
                .await,
            )
            .await
        }
    };
    let before = figures(f.chairman.token.clone()).await;
    let search = format!("/api/v1/households?village_id={}&q=duc", f.v1);
    let found = body(app.get_authed(&search, &f.leader.token).await).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{found}");
    let export_path = format!("/api/v1/households/{h1}/personal-data");

    // Only the chairman, the village leader and an administrator give a household its data.
    for token in [&f.police.token, &f.volunteer.token] {
        assert_problem(
            app.get_authed(&export_path, token).await,
            403,
            "role_not_allowed",
        )
        .await;
    }
    assert_problem(
        app.get_authed(&export_path, &f.other_chairman.token).await,
        404,
        "household_not_found",
    )
    .await;
    let res = app.get_authed(&export_path, &f.leader.token).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let copy = body(res).await;
    assert_eq!(copy["household"]["head_name"], "Nguyễn Văn Đức");
    assert_eq!(copy["all_residents"].as_array().map(Vec::len), Some(4));
    let records = copy["assistance_records"].as_array().expect("records");
    assert!(records.iter().any(|r| r["notes"] == NOTE), "{copy}");
    assert!(copy["adoption"].as_array().is_some_and(|a| !a.is_empty()));

    // Erasure: the chairman or an administrator, with a reason.
    let erase = |token: String, reason: Value| {
        let app = &app;
        let path = format!("/api/v1/households/{h1}/erase");
        async move {
            app.send(
                Method::POST,
                &path,
                Some(&token),
                Some(&json!({ "reason": reason })),
            )
            .await
        }
    };
    assert_problem(
        erase(f.leader.token.clone(), json!("yêu cầu")).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        erase(f.chairman.token.clone(), json!("  ")).await,
        400,
        "validation_failed",
    )
    .await;
    let done = body(
        erase(
            f.chairman.token.clone(),
            json!("Yêu cầu của chủ hộ ngày 20/11/2026"),
        )
        .await,
    )
    .await;
    assert_eq!(done["residents"], 4);
    assert_eq!(
        done["records"].as_i64().map(|n| n >= 2),
        Some(true),
        "{done}"
    );
    assert_problem(
        erase(f.chairman.token.clone(), json!("lần hai")).await,
        409,
        "household_erased",
    )
    .await;

    // Nothing that names them is left: the household, its residents, the notes, the search.
    let after = body(app.get_authed(&export_path, &f.leader.token).await).await;
    let text = after.to_string();
    for gone in ["Đức", "Bình", "Cúc", "Dũng", "0912 345 678", "Hải"] {
        assert!(!text.contains(gone), "{gone} is still in {text}");
    }
    assert_eq!(after["household"]["head_name"], "(đã xóa)");
    // Birth years stay, so the age-limited indicators still count the same people.
    let years: Vec<Value> = after["all_residents"]
        .as_array()
        .expect("residents")
        .iter()
        .map(|r| r["birth_year"].clone())
        .collect();
    assert!(
        years.contains(&json!(1958)) && years.contains(&json!(2008)),
        "{years:?}"
    );
    let found = body(app.get_authed(&search, &f.leader.token).await).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(0), "{found}");
    // The phones pull the erased version (no name, no note).
    app.settle().await;
    let pulled = app
        .get_authed("/api/v1/sync/pull?limit=1000", &f.volunteer.token)
        .await
        .text()
        .await
        .expect("pull");
    for gone in ["Nguyễn Văn Đức", "0912 345 678"] {
        assert!(!pulled.contains(gone), "{gone} still pulled");
    }
    assert!(pulled.contains("(đã xóa)"));

    // The figures did not move.
    assert_eq!(figures(f.chairman.token.clone()).await, before);

    // Audited: the copy and the erasure, with the reason.
    let audit = body(
        app.get_authed(
            "/api/v1/audit-events?action=household_erased",
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(audit["items"][0]["object_id"], h1.as_str());
    assert!(audit["items"][0]["details"]
        .to_string()
        .contains("Yêu cầu của chủ hộ"));
    let audit = body(
        app.get_authed(
            "/api/v1/audit-events?action=personal_data_exported",
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2));
}

both_backends!(notes_older_than_the_retention_period_are_purged_and_counts_stay,);

async fn notes_older_than_the_retention_period_are_purged_and_counts_stay(app: TestApp) {
    use tungnha::routes::privacy::{purge_expired, retention_cutoff, Purged};
    let c = commune(&app).await;
    let f = &c.f;
    let (h2, people) = (&c.h2.0, &c.h2.1);
    let note =
        |text: &str| json!([{"service_code": "vneid_level2", "outcome": "done", "note": text}]);
    let mut old = visit(
        h2,
        &[&people[0]],
        "2024-06-01T03:00:00Z",
        "house_visit",
        note("item cũ"),
    );
    old["data"]["notes"] = json!("ghi chú cũ: anh Em hay đi làm xa");
    let mut recent = visit(
        h2,
        &[&people[1]],
        "2026-11-10T03:00:00Z",
        "house_visit",
        note("item mới"),
    );
    recent["data"]["notes"] = json!("ghi chú mới");
    let talk = json!({"kind": "communication", "id": uuid::Uuid::now_v7().to_string(), "op": "create",
        "data": {"village_id": f.v1, "occurred_at": "2024-05-01T01:00:00Z", "channel": "meeting",
            "topics": ["vneid_level2"], "reach": 40, "notes": "họp ở nhà ông Trưởng"}});
    let old_id = old["id"].as_str().expect("id").to_owned();
    let recent_id = recent["id"].as_str().expect("id").to_owned();
    push(&app, &f.volunteer.token, vec![old, recent, talk]).await;
    let q2_2024 = "/api/v1/stats/indicators?period=quarter&date=2024-06-15&group_by=village";
    let before = body(app.get_authed(q2_2024, &f.chairman.token).await).await;

    let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("now");
    assert_eq!(retention_cutoff(0, now), None, "0 keeps everything");
    let cutoff = retention_cutoff(1, now).expect("one year");
    assert_eq!(cutoff.to_string(), "2025-11-25 00:00:00");
    let purged = purge_expired(&mut app.conn(), cutoff).expect("purge");
    assert_eq!(purged.records, 1);
    assert_eq!(purged.communications, 1);
    // Idempotent: the next day's run finds nothing more.
    assert_eq!(
        purge_expired(&mut app.conn(), cutoff).expect("again"),
        Purged::default()
    );

    let record = |id: String| {
        let app = &app;
        let token = f.chairman.token.clone();
        async move {
            body(
                app.get_authed(&format!("/api/v1/assistance-records/{id}"), &token)
                    .await,
            )
            .await
        }
    };
    let old = record(old_id).await;
    assert_eq!(old["notes"], Value::Null);
    assert_eq!(old["items"][0]["note"], Value::Null);
    assert_eq!(old["items"][0]["outcome"], "done", "the help itself stays");
    let recent = record(recent_id).await;
    assert_eq!(recent["notes"], "ghi chú mới");
    assert_eq!(recent["items"][0]["note"], "item mới");
    // The phone that wrote the old record pulls it without its note.
    app.settle().await;
    let pulled = app
        .get_authed("/api/v1/sync/pull?limit=1000", &f.volunteer.token)
        .await
        .text()
        .await
        .expect("pull");
    assert!(!pulled.contains("anh Em hay đi làm xa") && !pulled.contains("nhà ông Trưởng"));
    assert!(pulled.contains("ghi chú mới"));
    // The figures of that quarter did not move.
    assert_eq!(
        body(app.get_authed(q2_2024, &f.chairman.token).await).await,
        before
    );
    let audit = body(
        app.get_authed(
            "/api/v1/audit-events?action=retention_purge",
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
}
