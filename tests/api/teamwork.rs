//! The difficulty inbox and trainings, on both backends.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    a_difficulty_goes_from_the_phone_to_the_office_and_back,
    bad_inbox_requests_change_nothing,
    trainings_are_planned_held_and_attended,
    attendance_is_checked_and_scoped,
    activity_figures_match_hand_counts,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    use diesel::prelude::*;
    use tungnha::db::schema::audit_events::dsl as a;
    a::audit_events
        .filter(a::action.eq(action))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

/// The volunteer's pull after `cursor`: the difficulty's data, if it changed.
async fn pulled_difficulty(
    app: &TestApp,
    token: &str,
    cursor: &str,
    id: &str,
) -> (Option<Value>, String) {
    app.settle().await;
    let res = body(
        app.get_authed(&format!("/api/v1/sync/pull?cursor={cursor}"), token)
            .await,
    )
    .await;
    let data = res["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["kind"] == "difficulty" && c["id"] == id)
        .map(|c| c["data"].clone());
    (data, res["cursor"].as_str().expect("cursor").to_owned())
}

async fn a_difficulty_goes_from_the_phone_to_the_office_and_back(app: TestApp) {
    let f = app.fixture().await;
    // Raised offline, pushed when the network came back.
    let id = tungnha::db::new_id();
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(&f.volunteer.token),
            Some(&json!({"device_id": "dt-1", "records": [{"kind": "difficulty", "id": id, "op": "create", "data": {
                "raised_at": "2026-11-20T02:00:00Z", "village_id": f.v1,
                "title": "Nhiều cụ chưa có điện thoại thông minh",
                "description": "Xóm Đông có 12 cụ trên 70 tuổi chỉ dùng điện thoại cục gạch, không kích hoạt được VNeID.",
                "service_codes": ["vneid_level2"]}}]})),
        )
        .await;
    assert_eq!(body(res).await["results"][0]["status"], "applied");
    let (first, cursor) = pulled_difficulty(&app, &f.volunteer.token, "", &id).await;
    let first = first.expect("own difficulty");
    assert_eq!(first["status"], "open");
    // The phone tells its own difficulties from the village's by their author.
    assert_eq!(first["author_id"], f.volunteer.id.as_str());
    // It reached the server three hours ago (the response time runs from then).
    {
        use diesel::prelude::*;
        use tungnha::db::schema::difficulties::dsl as d;
        let three_hours_ago = tungnha::db::now() - chrono::Duration::hours(3);
        diesel::update(d::difficulties.find(&id))
            .set(d::received_at.eq(three_hours_ago))
            .execute(&mut app.conn())
            .expect("received_at");
    }
    let path = format!("/api/v1/difficulties/{id}");

    // The culture-social office's inbox shows it open.
    let inbox = body(
        app.get_authed("/api/v1/difficulties?status=open", &f.culture_social.token)
            .await,
    )
    .await;
    assert_eq!(inbox["items"][0]["id"], id.as_str());
    // The inbox says who raised it, by name.
    let volunteer_name =
        body(app.get_authed("/api/v1/me", &f.volunteer.token).await).await["display_name"].clone();
    assert!(volunteer_name.is_string(), "{volunteer_name}");
    assert_eq!(inbox["items"][0]["author_name"], volunteer_name);
    // The police may read but not answer what is not assigned to it.
    assert_problem(
        app.send(
            Method::POST,
            &format!("{path}/replies"),
            Some(&f.police.token),
            Some(&json!({"body": "Để công an xử lý"})),
        )
        .await,
        403,
        "not_assigned",
    )
    .await;
    // Only coordinators assign.
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&f.volunteer.token),
            Some(&json!({"assigned_department": "police"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.culture_social.token),
            Some(&json!({"assigned_department": "police"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await["assigned_department"], "police");
    assert_eq!(audit_count(&app, "difficulty_assigned"), 1);
    let mine = body(
        app.get_authed("/api/v1/difficulties?assigned=mine", &f.police.token)
            .await,
    )
    .await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    let none = body(
        app.get_authed(
            "/api/v1/difficulties?assigned=health",
            &f.culture_social.token,
        )
        .await,
    )
    .await;
    assert_eq!(none["items"], json!([]));

    // The police answers: the difficulty is answered, the response time is three hours.
    let res = app
        .send(
            Method::POST,
            &format!("{path}/replies"),
            Some(&f.police.token),
            Some(&json!({"body": "Thứ Năm công an xã đến nhà văn hóa thôn, mang máy để kích hoạt cho các cụ."})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let answered = body(res).await;
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["replies"][0]["side"], "office");
    let seconds = answered["response_seconds"]
        .as_i64()
        .expect("response time");
    assert!(
        (3 * 3600..3 * 3600 + 120).contains(&seconds),
        "response time {seconds}s"
    );
    let first_answer = answered["first_answered_at"].clone();

    // The volunteer's phone gets the thread at the next pull.
    let (data, cursor) = pulled_difficulty(&app, &f.volunteer.token, &cursor, &id).await;
    let data = data.expect("the answered difficulty is pulled again");
    assert_eq!(data["status"], "answered");
    assert_eq!(
        data["replies"][0]["body"],
        "Thứ Năm công an xã đến nhà văn hóa thôn, mang máy để kích hoạt cho các cụ."
    );

    // The team writes back: back in the office's queue; the first answer's time stays.
    let res = app
        .send(
            Method::POST,
            &format!("{path}/replies"),
            Some(&f.volunteer.token),
            Some(&json!({"body": "Cảm ơn, tổ sẽ báo các cụ."})),
        )
        .await;
    let back = body(res).await;
    assert_eq!(back["status"], "open");
    assert_eq!(back["first_answered_at"], first_answer);
    assert_eq!(back["replies"].as_array().expect("replies").len(), 2);
    assert_eq!(back["replies"][1]["side"], "team");
    // A later answer does not move the response time.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app
        .send(
            Method::POST,
            &format!("{path}/replies"),
            Some(&f.culture_social.token),
            Some(&json!({"body": "Văn phòng đã ghi nhận."})),
        )
        .await;
    let again = body(res).await;
    assert_eq!(again["status"], "answered");
    assert_eq!(again["first_answered_at"], first_answer);
    assert_eq!(again["response_seconds"], seconds);

    // Another volunteer of the village may not close it; its author may.
    let other_v1 = app.insert_user("tn.khac", "volunteer", None, Some(&f.commune), &[&f.v1]);
    let other_v1 = app.account(other_v1, "tn.khac").await;
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&other_v1.token),
            Some(&json!({"status": "closed"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.volunteer.token),
            Some(&json!({"status": "closed"})),
        )
        .await;
    assert_eq!(body(res).await["status"], "closed");
    assert_problem(
        app.send(
            Method::POST,
            &format!("{path}/replies"),
            Some(&f.culture_social.token),
            Some(&json!({"body": "Thêm một ý"})),
        )
        .await,
        409,
        "difficulty_closed",
    )
    .await;
    let (data, _) = pulled_difficulty(&app, &f.volunteer.token, &cursor, &id).await;
    assert_eq!(data.expect("closed is pulled")["status"], "closed");
    // Closing twice changes nothing; a coordinator reopens it.
    app.send(
        Method::PATCH,
        &path,
        Some(&f.volunteer.token),
        Some(&json!({"status": "closed"})),
    )
    .await;
    assert_eq!(audit_count(&app, "difficulty_closed"), 1);
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.chairman.token),
            Some(&json!({"status": "open"})),
        )
        .await;
    let reopened = body(res).await;
    assert_eq!(reopened["status"], "open");
    assert_eq!(reopened["closed_at"], Value::Null);
    assert_eq!(audit_count(&app, "difficulty_reopened"), 1);

    // Outside the village or the commune, the difficulty does not exist.
    for token in [
        &f.volunteer_v2.token,
        &f.other_chairman.token,
        &f.other_leader.token,
    ] {
        assert_problem(
            app.get_authed(&path, token).await,
            404,
            "difficulty_not_found",
        )
        .await;
        assert_problem(
            app.send(
                Method::POST,
                &format!("{path}/replies"),
                Some(token),
                Some(&json!({"body": "x"})),
            )
            .await,
            404,
            "difficulty_not_found",
        )
        .await;
    }
    let detail = body(app.get_authed(&path, &f.leader.token).await).await;
    assert_eq!(detail["replies"][0]["author_name"], "Người dùng thử");
    assert_eq!(detail["replies"].as_array().expect("replies").len(), 3);
}

async fn bad_inbox_requests_change_nothing(app: TestApp) {
    let f = app.fixture().await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/difficulties",
            Some(&f.leader.token),
            Some(&json!({"data": {"raised_at": "2026-11-21T00:30:00Z", "title": "Sóng yếu", "description": "Thôn Phú Lộc mất sóng 4G buổi chiều.", "service_codes": []}})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = body(res).await["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/difficulties/{id}");
    let before = body(app.get_authed(&path, &f.culture_social.token).await).await;
    for (method, url, payload, status, code) in [
        (
            Method::POST,
            format!("{path}/replies"),
            json!({"body": "   "}),
            400,
            "validation_failed",
        ),
        (
            Method::POST,
            format!("{path}/replies"),
            json!({"body": "x".repeat(4001)}),
            400,
            "validation_failed",
        ),
        (
            Method::POST,
            format!("{path}/replies"),
            json!({"body": "ok", "extra": 1}),
            400,
            "invalid_body",
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"assigned_department": "army"}),
            400,
            "validation_failed",
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"status": "answered"}),
            400,
            "validation_failed",
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"status": "closed", "assigned_department": "nope"}),
            400,
            "validation_failed",
        ),
    ] {
        assert_problem(
            app.send(method, &url, Some(&f.culture_social.token), Some(&payload))
                .await,
            status,
            code,
        )
        .await;
    }
    for q in ["status=pending", "assigned=army", "assigned=mine"] {
        let token = if q == "assigned=mine" {
            &f.chairman.token
        } else {
            &f.culture_social.token
        };
        assert_problem(
            app.get_authed(&format!("/api/v1/difficulties?{q}"), token)
                .await,
            400,
            "validation_failed",
        )
        .await;
    }
    let after = body(app.get_authed(&path, &f.culture_social.token).await).await;
    assert_eq!(before, after);
    assert_eq!(after["status"], "open");
    assert_eq!(after["replies"], json!([]));
}

async fn create_training(app: &TestApp, token: &str, held_on: &str) -> Value {
    let res = app
        .send(
            Method::POST,
            "/api/v1/trainings",
            Some(token),
            Some(&json!({
                "topic": "Hướng dẫn kích hoạt tài khoản định danh điện tử mức 2",
                "held_on": held_on, "place": "Hội trường UBND xã", "mode": "in_person",
                "service_codes": ["vneid_level2"], "notes": "Mang theo căn cước"
            })),
        )
        .await;
    assert_eq!(res.status(), 201);
    body(res).await
}

async fn trainings_are_planned_held_and_attended(app: TestApp) {
    let f = app.fixture().await;
    let reg = app.registry_fixture(&f).await;
    let held = create_training(&app, &f.police.token, "2026-11-10").await;
    assert_eq!(held["organiser"], "police");
    assert_eq!(held["attended"], 0);
    let id = held["id"].as_str().expect("id").to_owned();
    let later = create_training(&app, &f.culture_social.token, "2026-12-01").await;
    assert_eq!(later["organiser"], "culture_social");

    // Volunteers see the commune's trainings; filters by date.
    let all = body(
        app.get_authed("/api/v1/trainings", &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(all["items"].as_array().expect("items").len(), 2);
    assert_eq!(all["items"][0]["held_on"], "2026-12-01");
    let november = body(
        app.get_authed(
            "/api/v1/trainings?from=2026-11-01&to=2026-11-30",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(november["items"].as_array().expect("items").len(), 1);
    // Volunteers do not organise; another commune does not see it.
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/trainings",
            Some(&f.volunteer.token),
            Some(&json!({"topic": "x", "held_on": "2026-11-10", "place": "x", "mode": "online"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        app.get_authed(&format!("/api/v1/trainings/{id}"), &f.other_chairman.token)
            .await,
        404,
        "training_not_found",
    )
    .await;

    // The member of the village team attended.
    let res = app
        .send(
            Method::PUT,
            &format!("/api/v1/trainings/{id}/attendance"),
            Some(&f.police.token),
            Some(&json!({"entries": [{"member_id": reg.member, "attended": true, "note": "Đến sớm"}]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let detail = body(res).await;
    assert_eq!(detail["attended"], 1);
    assert_eq!(detail["attendance"][0]["member_id"], reg.member.as_str());
    assert_eq!(audit_count(&app, "training_attendance"), 1);
    // Correcting the mark replaces it, never duplicates it.
    let res = app
        .send(
            Method::PUT,
            &format!("/api/v1/trainings/{id}/attendance"),
            Some(&f.culture_social.token),
            Some(&json!({"entries": [{"member_id": reg.member, "attended": false}]})),
        )
        .await;
    let detail = body(res).await;
    assert_eq!(detail["attended"], 0);
    assert_eq!(detail["attendance"].as_array().expect("rows").len(), 1);
    app.send(
        Method::PUT,
        &format!("/api/v1/trainings/{id}/attendance"),
        Some(&f.police.token),
        Some(&json!({"entries": [{"member_id": reg.member, "attended": true}]})),
    )
    .await;

    // The member's history, seen by the village leader.
    let history = body(
        app.get_authed(
            &format!(
                "/api/v1/teams/{}/members/{}/trainings",
                reg.team, reg.member
            ),
            &f.leader.token,
        )
        .await,
    )
    .await;
    assert_eq!(history["items"].as_array().expect("items").len(), 1);
    assert_eq!(history["items"][0]["id"], id.as_str());
    assert_eq!(history["items"][0]["member_attended"], true);
    assert_eq!(history["items"][0]["attended"], 1);
    assert_problem(
        app.get_authed(
            &format!(
                "/api/v1/teams/{}/members/{}/trainings",
                reg.team, reg.member
            ),
            &f.volunteer_v2.token,
        )
        .await,
        404,
        "team_not_found",
    )
    .await;

    // The list counts attendance; a cancelled training takes no attendance.
    let all = body(app.get_authed("/api/v1/trainings", &f.chairman.token).await).await;
    assert_eq!(all["items"][1]["attended"], 1);
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/trainings/{id}"),
            Some(&f.police.token),
            Some(&json!({"cancelled": true, "place": "Nhà văn hóa thôn Phú Lộc"})),
        )
        .await;
    let cancelled = body(res).await;
    assert_eq!(cancelled["cancelled"], true);
    assert_eq!(cancelled["place"], "Nhà văn hóa thôn Phú Lộc");
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/trainings/{id}/attendance"),
            Some(&f.police.token),
            Some(&json!({"entries": [{"member_id": reg.member, "attended": false}]})),
        )
        .await,
        409,
        "training_cancelled",
    )
    .await;
    // Another department does not manage the police's training.
    let health = app.insert_user(
        "tram.yte",
        "department",
        Some("health"),
        Some(&f.commune),
        &[],
    );
    let health = app.account(health, "tram.yte").await;
    assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/trainings/{id}"),
            Some(&health.token),
            Some(&json!({"cancelled": false})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
}

async fn attendance_is_checked_and_scoped(app: TestApp) {
    let f = app.fixture().await;
    let reg = app.registry_fixture(&f).await;
    let ahead = (chrono::Utc::now() + chrono::Duration::days(60))
        .format("%Y-%m-%d")
        .to_string();
    let future = create_training(&app, &f.police.token, &ahead).await;
    let future_id = future["id"].as_str().expect("id");
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/trainings/{future_id}/attendance"),
            Some(&f.police.token),
            Some(&json!({"entries": [{"member_id": reg.member, "attended": true}]})),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let held = create_training(&app, &f.police.token, "2026-11-10").await;
    let id = held["id"].as_str().expect("id");
    // A member of another commune's team, a duplicate and an unknown id: nothing is stored.
    let res = app
        .send(
            Method::POST,
            "/api/v1/teams",
            Some(&f.other_leader.token),
            Some(&json!({"village_id": f.v3, "name": "Tổ CNSCĐ thôn Khác", "decision_number": "9/QĐ-UBND", "decision_date": "2026-10-01"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let other_team = body(res).await["id"].as_str().expect("id").to_owned();
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/teams/{other_team}/members"),
            Some(&f.other_leader.token),
            Some(&json!({"full_name": "Trần Văn Khác", "position": "member", "origin": "volunteer", "active_from": "2026-10-01"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let outsider = body(res).await["id"].as_str().expect("id").to_owned();
    let problem = assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/trainings/{id}/attendance"),
            Some(&f.police.token),
            Some(&json!({"entries": [
                {"member_id": reg.member, "attended": true},
                {"member_id": outsider, "attended": true},
                {"member_id": reg.member, "attended": false},
                {"member_id": "nope", "attended": true}
            ]})),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "entries[1].member_id",
            "entries[2].member_id",
            "entries[3].member_id"
        ]
    );
    let detail = body(
        app.get_authed(&format!("/api/v1/trainings/{id}"), &f.police.token)
            .await,
    )
    .await;
    assert_eq!(detail["attendance"], json!([]));
    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({"member_id": reg.member, "attended": true}))
        .collect();
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/trainings/{id}/attendance"),
            Some(&f.police.token),
            Some(&json!({ "entries": too_many })),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    // Invalid plans are refused with the fields named.
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/trainings",
            Some(&f.police.token),
            Some(&json!({"topic": " ", "held_on": "2019-01-01", "place": "Xã", "mode": "online", "service_codes": ["no_such"], "organiser": "health"})),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["held_on", "organiser", "service_codes[0]", "topic"]
    );
    // Village users see attendance of their own villages' teams only.
    app.send(
        Method::PUT,
        &format!("/api/v1/trainings/{id}/attendance"),
        Some(&f.police.token),
        Some(&json!({"entries": [{"member_id": reg.member, "attended": true}]})),
    )
    .await;
    let seen = body(
        app.get_authed(&format!("/api/v1/trainings/{id}"), &f.volunteer_v2.token)
            .await,
    )
    .await;
    assert_eq!(seen["attended"], 1);
    assert_eq!(seen["attendance"], json!([]));
    let seen = body(
        app.get_authed(&format!("/api/v1/trainings/{id}"), &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(seen["attendance"].as_array().expect("rows").len(), 1);
}

fn set_received(app: &TestApp, id: &str, at: &str) {
    use diesel::prelude::*;
    use tungnha::db::schema::difficulties::dsl as d;
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").expect("time");
    diesel::update(d::difficulties.find(id))
        .set(d::received_at.eq(at))
        .execute(&mut app.conn())
        .expect("received_at");
}

fn set_first_answer(app: &TestApp, id: &str, at: &str) {
    use diesel::prelude::*;
    use tungnha::db::schema::difficulties::dsl as d;
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").expect("time");
    diesel::update(d::difficulties.find(id))
        .set(d::first_answered_at.eq(Some(at)))
        .execute(&mut app.conn())
        .expect("first_answered_at");
}

async fn activity(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get_authed(&format!("/api/v1/stats/activity?{query}"), token)
        .await;
    let status = res.status();
    let v = body(res).await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn activity_figures_match_hand_counts(app: TestApp) {
    let c = crate::stats::commune(&app).await;
    let f = &c.f;
    // The v1 team and its one member (no other data: every count below is by hand).
    let res = app
        .send(
            Method::POST,
            "/api/v1/teams",
            Some(&f.leader.token),
            Some(&json!({"village_id": f.v1, "name": "Tổ CNSCĐ thôn Phú Lộc", "decision_number": "12/QĐ-UBND", "decision_date": "2026-09-01"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let team = body(res).await["id"].as_str().expect("id").to_owned();
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/teams/{team}/members"),
            Some(&f.leader.token),
            Some(&json!({"full_name": "Phạm Thị Lan", "position": "member", "origin": "youth_union", "active_from": "2026-09-01", "user_id": f.volunteer.id})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let member = body(res).await["id"].as_str().expect("id").to_owned();
    // Communications: Zalo in v1 (40 people), a loudspeaker broadcast for the whole commune (500),
    // and one in the third quarter that does not count.
    let comm = |village: Option<&str>, at: &str, channel: &str, reach: i64| {
        json!({"kind": "communication", "id": tungnha::db::new_id(), "op": "create", "data": {
            "village_id": village, "occurred_at": at, "channel": channel, "reach": reach,
            "topics": ["vneid_level2"], "title": "Tuyên truyền VNeID"}})
    };
    crate::stats::push(
        &app,
        &f.leader.token,
        vec![
            comm(Some(&f.v1), "2026-11-01T01:00:00Z", "zalo", 40),
            comm(Some(&f.v1), "2026-09-20T01:00:00Z", "zalo", 7),
        ],
    )
    .await;
    crate::stats::push(
        &app,
        &f.culture_social.token,
        vec![comm(None, "2026-11-02T01:00:00Z", "loudspeaker", 500)],
    )
    .await;
    // Difficulties: two in v1 in the quarter (answered after 2 h and 6 h), one in v2 still open.
    let diff = |village: &str, at: &str| {
        json!({"kind": "difficulty", "id": tungnha::db::new_id(), "op": "create", "data": {
            "village_id": village, "raised_at": at, "title": "Khó khăn", "description": "Mô tả",
            "service_codes": []}})
    };
    let (d1, d2) = (
        diff(&f.v1, "2026-11-03T01:00:00Z"),
        diff(&f.v1, "2026-11-04T01:00:00Z"),
    );
    let d3 = diff(&f.v2, "2026-11-05T01:00:00Z");
    crate::stats::push(&app, &f.volunteer.token, vec![d1.clone(), d2.clone()]).await;
    crate::stats::push(&app, &f.volunteer_v2.token, vec![d3]).await;
    for (d, received, answered) in [
        (&d1, "2026-11-03 02:00:00", "2026-11-03 04:00:00"),
        (&d2, "2026-11-04 02:00:00", "2026-11-04 08:00:00"),
    ] {
        let id = d["id"].as_str().expect("id");
        set_received(&app, id, received);
        set_first_answer(&app, id, answered);
    }
    // Trainings: one held with the v1 team's member attending, one cancelled, one next year.
    let held = create_training(&app, &f.police.token, "2026-11-10").await;
    let cancelled = create_training(&app, &f.police.token, "2026-11-11").await;
    create_training(&app, &f.police.token, "2027-01-15").await;
    for t in [&held, &cancelled] {
        let res = app
            .send(
                Method::PUT,
                &format!(
                    "/api/v1/trainings/{}/attendance",
                    t["id"].as_str().expect("id")
                ),
                Some(&f.police.token),
                Some(&json!({"entries": [{"member_id": member, "attended": true}]})),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    app.send(
        Method::PATCH,
        &format!(
            "/api/v1/trainings/{}",
            cancelled["id"].as_str().expect("id")
        ),
        Some(&f.police.token),
        Some(&json!({"cancelled": true})),
    )
    .await;

    let q4 = "period=quarter&date=2026-11-20";
    let all = activity(&app, &f.chairman.token, q4).await;
    assert_eq!(all["village_ids"], json!([]));
    let a = &all["current"];
    // Visits in Q4: Bình's on 1 October, Em's corrected one, Giang's; Phúc came to the office.
    assert_eq!(a["house_visits"], 3);
    assert_eq!(a["households_reached"], 3);
    // Items: Bình 1, Phúc 2, Em's correction 1, Giang 1 (the superseded record is left out).
    assert_eq!(a["assistance_items"], 5);
    assert_eq!(
        a["communications"],
        json!([
            {"channel": "loudspeaker", "activities": 1, "reach": 500},
            {"channel": "zalo", "activities": 1, "reach": 40}
        ])
    );
    assert_eq!(a["trainings_held"], 1);
    assert_eq!(a["training_attendances"], 1);
    assert_eq!(a["members_trained"], 1);
    assert_eq!(a["difficulties_raised"], 3);
    assert_eq!(a["difficulties_answered"], 2);
    // 2 h and 6 h: median 4 h, mean 4 h.
    assert_eq!(a["response_median_hours"], 4.0);
    assert_eq!(a["response_mean_hours"], 4.0);
    // The previous quarter: Đức's visit on 30 September and the Zalo message of September.
    let p = &all["previous"];
    assert_eq!(all["previous_period"]["label"], "2026-Q3");
    assert_eq!(
        (p["house_visits"].as_i64(), p["assistance_items"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(p["communications"][0]["reach"], 7);
    assert_eq!(p["response_median_hours"], Value::Null);

    // The village leader of v1 sees v1 only: no commune-wide broadcast, no v2 visit.
    let v1 = activity(&app, &f.leader.token, q4).await;
    assert_eq!(v1["village_ids"], json!([f.v1]));
    let a = &v1["current"];
    assert_eq!(
        (
            a["house_visits"].as_i64(),
            a["households_reached"].as_i64(),
            a["assistance_items"].as_i64()
        ),
        (Some(2), Some(2), Some(4))
    );
    assert_eq!(
        a["communications"],
        json!([{"channel": "zalo", "activities": 1, "reach": 40}])
    );
    assert_eq!(a["difficulties_raised"], 2);
    assert_eq!(a["training_attendances"], 1);
    let teams: Vec<&str> = a["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .filter_map(|t| t["team_id"].as_str())
        .collect();
    assert_eq!(teams, [team.as_str()]);
    // The member logged records in the quarter: one active member of one.
    assert_eq!(
        (
            a["teams"][0]["members"].as_i64(),
            a["teams"][0]["active_members"].as_i64()
        ),
        (Some(1), Some(1))
    );
    // The chairman can ask for v2 alone; a v1 leader cannot, nor another commune.
    let v2 = activity(
        &app,
        &f.chairman.token,
        &format!("{q4}&village_id={}", f.v2),
    )
    .await;
    assert_eq!(v2["current"]["house_visits"], 1);
    assert_eq!(v2["current"]["training_attendances"], 0);
    assert_eq!(v2["current"]["difficulties_answered"], 0);
    assert_problem(
        app.get_authed(
            &format!("/api/v1/stats/activity?{q4}&village_id={}", f.v2),
            &f.leader.token,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_authed(
            &format!("/api/v1/stats/activity?{q4}&commune_id={}", f.commune),
            &f.other_chairman.token,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // The quarterly report carries the same activity, on the page and in the workbook.
    let res = app
        .send(
            Method::POST,
            "/api/v1/reports",
            Some(&f.culture_social.token),
            Some(&json!({"period": "quarter", "date": "2026-11-20"})),
        )
        .await;
    let report = body(res).await;
    assert_eq!(report["content"]["activity"], all["current"]);
    let page = app
        .get_authed(
            &format!(
                "/api/v1/reports/{}/print",
                report["id"].as_str().expect("id")
            ),
            &f.chairman.token,
        )
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("Tập huấn: 1 buổi, 1 lượt thành viên tham dự"),
        "{page}"
    );
    assert!(
        page.contains("3 phát sinh, 2 đã được trả lời; thời gian trả lời trung vị 4 giờ"),
        "{page}"
    );
}
