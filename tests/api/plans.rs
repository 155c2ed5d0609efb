//! Targets and funding (issue: plans, targets, funding and the city's oversight): progress against
//! a village's target across the local-midnight quarter boundary, the gap in people and the villages
//! furthest behind; money in whole đồng with exact totals per period.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};
use crate::stats::{home, push, visit};

both_backends!(
    progress_against_targets_counts_each_quarter_from_local_midnight,
    funding_totals_are_exact_whole_dong_per_period,
    the_city_compares_communes_without_names_and_acknowledges_submitted_reports,
    a_plan_amended_twice_keeps_every_version,
);

async fn body(res: reqwest::Response) -> Value {
    let status = res.status();
    let v: Value = res.json().await.expect("json");
    assert!(status.is_success(), "{status}: {v}");
    v
}

async fn set_targets(app: &TestApp, token: &str, spec: Value) -> reqwest::Response {
    app.send(Method::PUT, "/api/v1/targets", Some(token), Some(&spec))
        .await
}

fn visited(progress: &Value) -> &Value {
    progress["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["code"] == "households_visited")
        .unwrap_or_else(|| panic!("no households_visited in {progress}"))
}

fn village<'a>(item: &'a Value, id: &str) -> &'a Value {
    item["villages"]
        .as_array()
        .expect("villages")
        .iter()
        .find(|v| v["village_id"] == id)
        .unwrap_or_else(|| panic!("no village {id} in {item}"))
}

async fn progress_against_targets_counts_each_quarter_from_local_midnight(app: TestApp) {
    let f = app.fixture().await;
    // v1: households A and B; v2: household C.
    let (a, an) = home(&app, &f.leader.token, &f.v1, &[("Phạm Văn An", Some(1970))]).await;
    let (b, bich) = home(
        &app,
        &f.leader.token,
        &f.v1,
        &[("Phạm Thị Bích", Some(1975))],
    )
    .await;
    let other_leader = app.insert_user(
        "truong.thon.v2",
        "village_leader",
        None,
        Some(&f.commune),
        &[&f.v2],
    );
    let other_leader = app.account(other_leader, "truong.thon.v2").await;
    home(
        &app,
        &other_leader.token,
        &f.v2,
        &[("Lê Văn Cường", Some(1980))],
    )
    .await;
    let item = json!([{"service_code": "public_service_portal", "outcome": "assisted"}]);
    push(
        &app,
        &f.volunteer.token,
        vec![
            // 23:59:59 on 30 September in Vietnam: the third quarter.
            visit(
                &a,
                &[&an[0]],
                "2026-09-30T16:59:59Z",
                "house_visit",
                item.clone(),
            ),
            // 00:00:00 on 1 October in Vietnam: the fourth.
            visit(
                &b,
                &[&bich[0]],
                "2026-09-30T17:00:00Z",
                "house_visit",
                item.clone(),
            ),
        ],
    )
    .await;

    // The culture-social office sets Q4 targets: 80 % for the commune, 100 % for v1.
    let q4 = json!({"period": "quarter", "date": "2026-10-15", "items": [
        {"indicator_code": "households_visited", "target_percent": 80},
        {"indicator_code": "households_visited", "village_id": f.v1, "target_percent": 100}]});
    let set = body(set_targets(&app, &f.culture_social.token, q4.clone()).await).await;
    assert_eq!(set["set"], 2);
    assert_eq!(set["period"]["label"], "2026-Q4");
    // Setting them again replaces, never duplicates.
    body(set_targets(&app, &f.culture_social.token, q4).await).await;

    let progress = body(
        app.get_authed(
            "/api/v1/stats/progress?period=quarter&date=2026-12-31",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    let v = visited(&progress);
    assert_eq!(v["target_percent"], 80.0);
    // Q4: B only (1 of 3); 80 % of 3 is 2.4, so 3 are needed: 2 to go.
    assert_eq!(
        (
            v["current"]["numerator"].as_i64(),
            v["current"]["denominator"].as_i64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(v["gap"], 2);
    let v1 = village(v, &f.v1);
    assert_eq!(v1["target_percent"], 100.0);
    assert_eq!(v1["current"]["numerator"], 1);
    assert_eq!(v1["current"]["denominator"], 2);
    assert_eq!(v1["gap"], 1);
    let v2 = village(v, &f.v2);
    assert_eq!(
        v2["target_percent"], 80.0,
        "the commune's target where a village has none"
    );
    assert_eq!(v2["gap"], 1);
    assert_eq!(v["villages"].as_array().expect("villages").len(), 2, "{v}");

    // Q3 has no target yet; with one, A (visited at 23:59:59 on 30 September) counts there.
    let q3 = "/api/v1/stats/progress?period=quarter&date=2026-09-30";
    let none = body(app.get_authed(q3, &f.chairman.token).await).await;
    assert_eq!(none["items"], json!([]), "{none}");
    body(
        set_targets(
            &app,
            &f.chairman.token,
            json!({"period": "quarter", "date": "2026-07-01", "items": [
                {"indicator_code": "households_visited", "village_id": f.v1, "target_percent": 50}]}),
        )
        .await,
    )
    .await;
    let q3_progress = body(app.get_authed(q3, &f.chairman.token).await).await;
    let v = visited(&q3_progress);
    assert!(v["target_percent"].is_null());
    let v1 = village(v, &f.v1);
    assert_eq!(v1["current"]["numerator"], 1);
    assert_eq!(v1["current"]["percent"], 50.0);
    assert_eq!(v1["gap"], 0);
    assert_eq!(village(v, &f.v2)["target_percent"], Value::Null);
    // The villages furthest behind come first.
    let q4_progress = body(
        app.get_authed(
            "/api/v1/stats/progress?period=quarter&date=2026-11-01",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    let gaps: Vec<i64> = visited(&q4_progress)["villages"]
        .as_array()
        .expect("villages")
        .iter()
        .map(|v| v["gap"].as_i64().expect("gap"))
        .collect();
    assert!(gaps.windows(2).all(|w| w[0] >= w[1]), "{gaps:?}");

    // A village leader sees the village only.
    let own = body(
        app.get_authed(
            "/api/v1/stats/progress?period=quarter&date=2026-11-01",
            &f.leader.token,
        )
        .await,
    )
    .await;
    let rows = visited(&own)["villages"]
        .as_array()
        .expect("villages")
        .clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["village_id"], f.v1.as_str());

    // Only the chairman and the culture-social office set targets, with valid values.
    let one = |target: Value| {
        json!({"period": "quarter", "date": "2026-10-15", "items": [
            {"indicator_code": "households_visited", "target_percent": target}]})
    };
    for token in [&f.police.token, &f.leader.token, &f.volunteer.token] {
        assert_problem(
            set_targets(&app, token, one(json!(90))).await,
            403,
            "role_not_allowed",
        )
        .await;
    }
    assert_problem(
        set_targets(&app, &f.chairman.token, one(json!(120))).await,
        400,
        "validation_failed",
    )
    .await;
    let elsewhere = json!({"period": "quarter", "date": "2026-10-15", "items": [
        {"indicator_code": "households_visited", "village_id": f.v3, "target_percent": 50}]});
    assert_problem(
        set_targets(&app, &f.chairman.token, elsewhere).await,
        400,
        "validation_failed",
    )
    .await;
    let weekly = json!({"period": "week", "date": "2026-10-15", "items": [
        {"indicator_code": "households_visited", "target_percent": 50}]});
    assert_problem(
        set_targets(&app, &f.chairman.token, weekly).await,
        400,
        "validation_failed",
    )
    .await;
    let unknown = json!({"period": "quarter", "date": "2026-10-15", "items": [
        {"indicator_code": "no_such_indicator", "target_percent": 50}]});
    assert_problem(
        set_targets(&app, &f.chairman.token, unknown).await,
        400,
        "validation_failed",
    )
    .await;
    // The rejected requests changed nothing.
    let after = body(
        app.get_authed(
            "/api/v1/stats/progress?period=quarter&date=2026-12-31",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(visited(&after)["target_percent"], 80.0);
}

async fn funding_totals_are_exact_whole_dong_per_period(app: TestApp) {
    let f = app.fixture().await;
    let add = |spec: Value| {
        let app = &app;
        let token = f.culture_social.token.clone();
        async move {
            app.send(Method::POST, "/api/v1/funding", Some(&token), Some(&spec))
                .await
        }
    };
    let entry = |direction: &str, source: &str, category: &str, amount: i64, on: &str| {
        json!({"direction": direction, "source": source, "category": category,
            "party": "Viettel Hải Phòng", "amount_vnd": amount, "occurred_on": on})
    };
    for spec in [
        entry("received", "sponsorship", "cash", 15_000_000, "2026-10-01"),
        entry("received", "state_budget", "cash", 7_500_001, "2026-10-05"),
        entry("spent", "state_budget", "training", 3_333_333, "2026-11-01"),
        entry("spent", "sponsorship", "materials", 1_234_567, "2026-12-31"),
        // Next quarter and the one before: not in Q4.
        entry(
            "received",
            "sponsorship",
            "in_kind",
            2_000_000,
            "2027-01-01",
        ),
        entry("spent", "other", "member_support", 900_000, "2026-09-30"),
    ] {
        assert_eq!(add(spec).await.status(), 201);
    }
    let mistake = body(
        add(entry(
            "received",
            "sponsorship",
            "cash",
            5_000_000,
            "2026-10-02",
        ))
        .await,
    )
    .await;
    let id = mistake["id"].as_str().expect("id");
    let void = |token: String| {
        let app = &app;
        let path = format!("/api/v1/funding/{id}/void");
        async move {
            app.send(
                Method::POST,
                &path,
                Some(&token),
                Some(&json!({"reason": "Nhập trùng"})),
            )
            .await
        }
    };
    let voided = body(void(f.chairman.token.clone()).await).await;
    assert!(voided["voided_at"].is_string());
    assert_problem(
        void(f.chairman.token.clone()).await,
        409,
        "funding_entry_voided",
    )
    .await;
    assert_problem(
        void(f.other_chairman.token.clone()).await,
        404,
        "funding_entry_not_found",
    )
    .await;

    // Fractions of a đồng, zero and unknown kinds are refused and store nothing.
    let mut fraction = entry("received", "sponsorship", "cash", 1, "2026-10-03");
    fraction["amount_vnd"] = json!(1000.5);
    assert_problem(add(fraction).await, 400, "invalid_body").await;
    assert_problem(
        add(entry("received", "sponsorship", "cash", 0, "2026-10-03")).await,
        400,
        "validation_failed",
    )
    .await;
    assert_problem(
        add(entry("spent", "sponsorship", "cash", 10, "2026-10-03")).await,
        400,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/funding",
            Some(&f.police.token),
            Some(&entry("received", "sponsorship", "cash", 10, "2026-10-03")),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;

    let q4 = body(
        app.get_authed(
            "/api/v1/funding?period=quarter&date=2026-11-15",
            &f.police.token,
        )
        .await,
    )
    .await;
    let t = &q4["totals"];
    assert_eq!(t["received_vnd"], 22_500_001);
    assert_eq!(t["spent_vnd"], 4_567_900);
    assert_eq!(t["balance_vnd"], 17_932_101);
    assert_eq!(t["received_by_source"]["sponsorship"], 15_000_000);
    assert_eq!(t["received_by_source"]["state_budget"], 7_500_001);
    assert_eq!(t["spent_by_category"]["training"], 3_333_333);
    assert_eq!(t["spent_by_source"]["sponsorship"], 1_234_567);
    // The voided entry is listed, not counted.
    assert_eq!(q4["items"].as_array().expect("items").len(), 5);
    let year = body(
        app.get_authed(
            "/api/v1/funding?period=year&date=2026-06-01",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(year["totals"]["spent_vnd"], 5_467_900);
    assert_eq!(year["totals"]["received_vnd"], 22_500_001);

    // Another commune sees none of it; field roles and city oversight see no funds.
    let theirs = body(
        app.get_authed(
            "/api/v1/funding?period=year&date=2026-06-01",
            &f.other_chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(theirs["totals"]["received_vnd"], 0);
    assert_problem(
        app.get_authed("/api/v1/funding", &f.volunteer.token).await,
        403,
        "role_not_allowed",
    )
    .await;
    let named = format!("/api/v1/funding?commune_id={}", f.other_commune);
    assert_problem(
        app.get_authed(&named, &f.chairman.token).await,
        404,
        "commune_not_found",
    )
    .await;
}

async fn the_city_compares_communes_without_names_and_acknowledges_submitted_reports(app: TestApp) {
    let f = app.fixture().await;
    let city = app.insert_user("thanh.pho", "city", None, None, &[]);
    let city = app.account(city, "thanh.pho").await;
    let (here, people) = home(
        &app,
        &f.leader.token,
        &f.v1,
        &[("Đặng Văn Hải", Some(1960))],
    )
    .await;
    home(
        &app,
        &f.other_leader.token,
        &f.v3,
        &[("Ngô Thị Lan", Some(1985))],
    )
    .await;
    let item = json!([{"service_code": "vneid_level2", "outcome": "done"}]);
    push(
        &app,
        &f.volunteer.token,
        vec![visit(
            &here,
            &[&people[0]],
            "2026-11-10T02:00:00Z",
            "house_visit",
            item,
        )],
    )
    .await;
    body(
        set_targets(
            &app,
            &f.chairman.token,
            json!({"period": "quarter", "date": "2026-11-01", "items": [
                {"indicator_code": "households_visited", "target_percent": 90}]}),
        )
        .await,
    )
    .await;

    // Commune by commune: totals and targets, never a name.
    let res = app
        .get_authed(
            "/api/v1/stats/communes?period=quarter&date=2026-11-20",
            &city.token,
        )
        .await;
    let text = res.text().await.expect("text");
    assert!(!text.contains("Hải") && !text.contains("Lan"), "{text}");
    let compare: Value = serde_json::from_str(&text).expect("json");
    let of = |commune: &str, code: &str| -> Value {
        let c = compare["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|c| c["commune_id"] == commune)
            .unwrap_or_else(|| panic!("no commune {commune} in {compare}"));
        c["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .find(|i| i["code"] == code)
            .cloned()
            .expect("indicator")
    };
    let ours = of(&f.commune, "households_visited");
    assert_eq!(ours["current"]["numerator"], 1);
    assert_eq!(ours["current"]["denominator"], 1);
    assert_eq!(ours["target_percent"], 90.0);
    let theirs = of(&f.other_commune, "households_visited");
    assert_eq!(theirs["current"]["numerator"], 0);
    assert_eq!(theirs["current"]["denominator"], 1);
    assert!(theirs["target_percent"].is_null());
    let vneid = of(&f.commune, "adults_vneid_level2");
    assert_eq!(vneid["current"]["numerator"], 1);
    // The city reads no household, and a chairman no other commune.
    assert_eq!(
        app.get_authed("/api/v1/households", &city.token)
            .await
            .status(),
        403
    );
    assert_problem(
        app.get_authed("/api/v1/stats/communes", &f.chairman.token)
            .await,
        403,
        "role_not_allowed",
    )
    .await;

    // The commune approves its Q4 report and sends it; the city acknowledges it once.
    let report = body(
        app.send(
            Method::POST,
            "/api/v1/reports",
            Some(&f.culture_social.token),
            Some(&json!({"period": "quarter", "date": "2026-11-20"})),
        )
        .await,
    )
    .await;
    let id = report["id"].as_str().expect("id").to_owned();
    let post = |path: String, token: String, payload: Option<Value>| {
        let app = &app;
        async move {
            app.send(Method::POST, &path, Some(&token), payload.as_ref())
                .await
        }
    };
    let submit = format!("/api/v1/reports/{id}/submit");
    let ack = format!("/api/v1/reports/{id}/acknowledge");
    assert_problem(
        post(submit.clone(), f.chairman.token.clone(), None).await,
        409,
        "report_not_approved",
    )
    .await;
    body(
        post(
            format!("/api/v1/reports/{id}/approve"),
            f.chairman.token.clone(),
            None,
        )
        .await,
    )
    .await;
    assert_problem(
        post(ack.clone(), city.token.clone(), Some(json!({}))).await,
        404,
        "report_not_found",
    )
    .await;
    assert_problem(
        post(submit.clone(), f.other_chairman.token.clone(), None).await,
        404,
        "report_not_found",
    )
    .await;
    assert_problem(
        post(submit.clone(), f.culture_social.token.clone(), None).await,
        403,
        "role_not_allowed",
    )
    .await;
    let sent = body(post(submit.clone(), f.chairman.token.clone(), None).await).await;
    assert_eq!(sent["report_id"], id.as_str());
    assert!(sent["acknowledged_at"].is_null());
    assert_problem(
        post(submit, f.chairman.token.clone(), None).await,
        409,
        "report_submitted",
    )
    .await;

    let inbox = body(
        app.get_authed("/api/v1/report-submissions", &city.token)
            .await,
    )
    .await;
    assert_eq!(inbox["items"].as_array().expect("items").len(), 1);
    assert_eq!(inbox["items"][0]["commune_id"], f.commune.as_str());
    assert_eq!(
        app.get_authed(&format!("/api/v1/reports/{id}"), &city.token)
            .await
            .status(),
        200
    );
    assert_problem(
        post(ack.clone(), f.chairman.token.clone(), Some(json!({}))).await,
        403,
        "role_not_allowed",
    )
    .await;
    let acked = body(
        post(
            ack.clone(),
            city.token.clone(),
            Some(json!({"note": "Đã nhận báo cáo quý IV"})),
        )
        .await,
    )
    .await;
    assert_eq!(acked["acknowledgement"], "Đã nhận báo cáo quý IV");
    assert!(acked["acknowledged_at"].is_string());
    assert_problem(
        post(ack, city.token.clone(), Some(json!({}))).await,
        409,
        "report_acknowledged",
    )
    .await;
    let own = body(
        app.get_authed("/api/v1/report-submissions", &f.chairman.token)
            .await,
    )
    .await;
    assert!(own["items"][0]["acknowledged_at"].is_string());
    let none = body(
        app.get_authed("/api/v1/report-submissions", &f.other_chairman.token)
            .await,
    )
    .await;
    assert_eq!(none["items"], json!([]));
}

async fn a_plan_amended_twice_keeps_every_version(app: TestApp) {
    let f = app.fixture().await;
    let city = app.insert_user("thanh.pho", "city", None, None, &[]);
    let city = app.account(city, "thanh.pho").await;
    let plan = json!({"period": "quarter", "date": "2026-10-01", "number": "125/KH-UBND",
        "issued_on": "2026-10-03", "signer": "Chủ tịch UBND xã", "purpose": "Phổ cập dịch vụ số đến từng hộ.",
        "tasks": [
            {"title": "Tập huấn kỹ năng số cho thành viên Tổ", "department": "culture_social", "due_on": "2026-10-31"},
            {"title": "Rà soát hộ chưa có VNeID mức 2", "village_id": f.v1, "due_on": "2026-11-30"}]});
    let res = app
        .send(
            Method::POST,
            "/api/v1/plans",
            Some(&f.culture_social.token),
            Some(&plan),
        )
        .await;
    let v1 = body(res).await;
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["period"]["label"], "2026-Q4");
    let id = v1["id"].as_str().expect("id").to_owned();
    let tasks = v1["current"]["tasks"].clone();
    assert_eq!(tasks[0]["status"], "not_started");
    let task0 = tasks[0]["id"].as_str().expect("task id").to_owned();
    // One plan a period.
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/plans",
            Some(&f.chairman.token),
            Some(&plan),
        )
        .await,
        409,
        "plan_exists",
    )
    .await;

    let amend = |base: i32, note: &str, tasks: Value| {
        json!({"base_version": base, "change_note": note, "number": "125/KH-UBND", "issued_on": "2026-10-03",
            "signer": "Chủ tịch UBND xã", "purpose": "Phổ cập dịch vụ số đến từng hộ.", "tasks": tasks})
    };
    let path = format!("/api/v1/plans/{id}/versions");
    let mut t2 = tasks.clone();
    t2[0]["status"] = json!("done");
    let v2 = body(
        app.send(
            Method::POST,
            &path,
            Some(&f.culture_social.token),
            Some(&amend(1, "Đã tập huấn xong", t2)),
        )
        .await,
    )
    .await;
    assert_eq!(v2["version"], 2);
    assert_eq!(
        v2["current"]["tasks"][0]["id"],
        task0.as_str(),
        "a task keeps its id"
    );
    let mut t3 = v2["current"]["tasks"].clone();
    t3.as_array_mut()
        .expect("tasks")
        .push(json!({"title": "Tuyên truyền trên loa thôn", "village_id": f.v2}));
    let v3 = body(
        app.send(
            Method::POST,
            &path,
            Some(&f.chairman.token),
            Some(&amend(2, "Bổ sung nhiệm vụ tuyên truyền", t3)),
        )
        .await,
    )
    .await;
    assert_eq!(v3["version"], 3);
    // A stale amendment (from version 2) is refused and changes nothing.
    assert_problem(
        app.send(
            Method::POST,
            &path,
            Some(&f.culture_social.token),
            Some(&amend(2, "Muộn", json!([]))),
        )
        .await,
        409,
        "plan_changed",
    )
    .await;

    let read = body(
        app.get_authed(&format!("/api/v1/plans/{id}"), &f.police.token)
            .await,
    )
    .await;
    let versions = read["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 3);
    assert_eq!(read["version"], 3);
    assert_eq!(versions[0]["tasks"][0]["status"], "not_started");
    assert!(versions[0]["change_note"].is_null());
    assert_eq!(versions[1]["tasks"][0]["status"], "done");
    assert_eq!(versions[1]["change_note"], "Đã tập huấn xong");
    assert_eq!(versions[2]["tasks"].as_array().expect("tasks").len(), 3);
    assert_eq!(read["current"]["tasks"].as_array().expect("tasks").len(), 3);

    // Who may: plan keepers write; the city and the commune's offices read; others do not.
    assert_problem(
        app.send(
            Method::POST,
            &path,
            Some(&f.police.token),
            Some(&amend(3, "x", json!([]))),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        app.send(
            Method::POST,
            &path,
            Some(&f.other_chairman.token),
            Some(&amend(3, "x", json!([]))),
        )
        .await,
        404,
        "plan_not_found",
    )
    .await;
    assert_eq!(
        app.get_authed(&format!("/api/v1/plans/{id}"), &city.token)
            .await
            .status(),
        200
    );
    assert_problem(
        app.get_authed(&format!("/api/v1/plans/{id}"), &f.other_chairman.token)
            .await,
        404,
        "plan_not_found",
    )
    .await;
    assert_problem(
        app.get_authed("/api/v1/plans", &f.volunteer.token).await,
        403,
        "role_not_allowed",
    )
    .await;
    let listed = body(app.get_authed("/api/v1/plans", &city.token).await).await;
    assert_eq!(listed["items"][0]["version"], 3);
    let mut bad = plan.clone();
    bad["date"] = json!("2027-01-05");
    bad["tasks"][1]["village_id"] = json!(f.v3);
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/plans",
            Some(&f.chairman.token),
            Some(&bad),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
}
