//! The access policy's rules that an attacker's probe found loose (issue 25): each test failed
//! before its fix.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp, PASSWORD};

both_backends!(
    the_culture_social_office_never_takes_over_the_chairman,
    notes_of_communications_reach_only_roles_that_read_notes,
    a_member_link_stays_inside_the_teams_village,
    answers_holding_personal_data_are_never_cached,
    a_push_answers_a_foreign_id_as_it_answers_a_random_one,
    a_synced_resident_with_an_unknown_field_is_refused,
);

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

fn id() -> String {
    tungnha::db::new_id()
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
    json_of(res).await
}

/// The office prepares what the chairman approves: it may not become the chairman, nor make one.
async fn the_culture_social_office_never_takes_over_the_chairman(app: TestApp) {
    let f = app.fixture().await;
    let cs = &f.culture_social.token;
    let reset = format!("/api/v1/users/{}/password", f.chairman.id);
    let res = app
        .send(
            Method::POST,
            &reset,
            Some(cs),
            Some(&json!({"new_password": "mật khẩu chiếm quyền"})),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    // The chairman still signs in with the own password, and nobody else's does.
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "chu.tich", "password": "mật khẩu chiếm quyền"}),
        )
        .await;
    assert_eq!(login.status(), 401);
    app.login("chu.tich", PASSWORD).await;

    let second = json!({
        "username": "chu.tich.hai", "password": "mật khẩu ban đầu", "display_name": "Chủ tịch thứ hai",
        "role": "chairman", "commune_id": f.commune, "village_ids": [],
    });
    let res = app
        .send(Method::POST, "/api/v1/users", Some(cs), Some(&second))
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    // Nor by turning an account it manages into one, nor by changing the chairman's account.
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", f.police.id),
            Some(cs),
            Some(&json!({"role": "chairman", "department": null})),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", f.chairman.id),
            Some(cs),
            Some(&json!({"active": false})),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    // Nor demote the chairman to reach the account, nor sign the chairman out.
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", f.chairman.id),
            Some(cs),
            Some(&json!({"role": "department", "department": "police"})),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{}/sessions/revoke", f.chairman.id),
            Some(cs),
            None,
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    let me = app.get_authed("/api/v1/me", &f.chairman.token).await;
    assert_eq!(json_of(me).await["role"], "chairman");
    // The chairman cannot make a second chairman either; an administrator can.
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.chairman.token),
            Some(&second),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.admin.token),
            Some(&second),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Nobody resets the password of a role above their own: a village leader manages volunteers.
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{}/password", f.volunteer.id),
            Some(&f.leader.token),
            Some(&json!({"new_password": "mật khẩu mới của tổ"})),
        )
        .await;
    assert_eq!(res.status(), 204);
    // The office still resets the accounts below the chairman.
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{}/password", f.police.id),
            Some(cs),
            Some(&json!({"new_password": "mật khẩu mới công an"})),
        )
        .await;
    assert_eq!(res.status(), 204);
}

/// A communication's notes, like an assistance record's, go only to roles that read notes: not to
/// the schools' office, the city or an `exports:read` key.
async fn notes_of_communications_reach_only_roles_that_read_notes(app: TestApp) {
    let f = app.fixture().await;
    let talk = id();
    let res = push(
        &app,
        &f.volunteer.token,
        "p1",
        json!([{"kind": "communication", "id": talk, "op": "create", "data": {
            "village_id": f.v1, "occurred_at": "2026-11-20T01:00:00Z", "channel": "meeting",
            "topics": ["vneid_level2"], "reach": 40, "notes": "Ông Tư ở ngõ 3 chưa có điện thoại"}}]),
    )
    .await;
    assert_eq!(res["results"][0]["status"], "applied", "{res}");
    let schools = app.insert_user(
        "truong.hoc",
        "department",
        Some("education"),
        Some(&f.commune),
        &[],
    );
    let schools = app.account(schools, "truong.hoc").await;
    let city_id = app.insert_user("so.khcn", "city", None, None, &[]);
    let city = app.account(city_id, "so.khcn").await;
    let key = app.api_key(&f, "exports:read").await;

    let listed = |token: String| {
        let app = &app;
        let talk = talk.clone();
        async move {
            let res = app.get_authed("/api/v1/communications", &token).await;
            assert_eq!(res.status(), 200);
            let page = json_of(res).await;
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|c| c["id"] == talk.as_str())
                .cloned()
                .expect("the activity")
        }
    };
    // A difficulty a team raised: its words are for the commune's offices, not for the city.
    let raised = id();
    let res = push(
        &app,
        &f.volunteer.token,
        "p1",
        json!([{"kind": "difficulty", "id": raised, "op": "create", "data": {
            "village_id": f.v1, "raised_at": "2026-11-20T01:00:00Z", "title": "Ông Tư cần giúp",
            "description": "Ông Tư ở ngõ 3 không có điện thoại thông minh"}}]),
    )
    .await;
    assert_eq!(res["results"][0]["status"], "applied", "{res}");
    let difficulty_in = |page: &Value| {
        page["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["id"] == raised.as_str())
            .cloned()
            .expect("the difficulty")
    };
    // On PostgreSQL the feed stops before transactions still open anywhere: wait for them.
    app.settle().await;
    for (who, token, text) in [
        ("city", &city.token, false),
        ("key", &key, false),
        ("schools", &schools.token, true),
    ] {
        let res = app
            .get_authed("/api/v1/exports/changes?kinds=difficulty", token)
            .await;
        assert_eq!(res.status(), 200, "{who}");
        let d = difficulty_in(&json_of(res).await);
        assert_eq!(!d["data"]["description"].is_null(), text, "{who}: {d}");
        assert_eq!(!d["data"]["title"].is_null(), text, "{who}: {d}");
        assert_eq!(d["data"]["status"], "open", "{who}: {d}");
    }
    assert!(listed(schools.token.clone()).await["notes"].is_null());
    assert_eq!(
        listed(f.chairman.token.clone()).await["notes"],
        "Ông Tư ở ngõ 3 chưa có điện thoại"
    );

    app.settle().await;
    let feed = "/api/v1/exports/changes?kinds=communication";
    for (who, token, notes) in [
        ("schools", &schools.token, false),
        ("city", &city.token, false),
        ("key", &key, false),
        ("chairman", &f.chairman.token, true),
    ] {
        let res = app.get_authed(feed, token).await;
        assert_eq!(res.status(), 200, "{who}");
        let page = json_of(res).await;
        let change = page["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["id"] == talk.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{who}: the activity in {page}"));
        assert_eq!(!change["data"]["notes"].is_null(), notes, "{who}: {change}");
    }
}

/// A village team's member may be linked only to an account of that village: else the award
/// evidence would count another village's work.
async fn a_member_link_stays_inside_the_teams_village(app: TestApp) {
    let f = app.fixture().await;
    let reg = app.registry_fixture(&f).await;
    let path = format!("/api/v1/teams/{}/members/{}", reg.team, reg.member);
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.leader.token),
            Some(&json!({"user_id": f.volunteer_v2.id})),
        )
        .await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "unknown_user", "{problem}");
    // Answered as an account that does not exist.
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.leader.token),
            Some(&json!({"user_id": id()})),
        )
        .await;
    let random = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(random["errors"], problem["errors"]);
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/teams/{}/members", reg.team),
            Some(&f.leader.token),
            Some(
                &json!({"full_name": "Trần Văn Nam", "position": "member", "origin": "volunteer",
                         "active_from": "2026-10-01", "user_id": f.volunteer_v2.id}),
            ),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    // The team's own volunteer links.
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.leader.token),
            Some(&json!({"user_id": f.volunteer.id})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(json_of(res).await["user_id"], f.volunteer.id.as_str());
}

/// Every API answer that can carry names, phones, notes or who did what says `no-store`.
async fn answers_holding_personal_data_are_never_cached(app: TestApp) {
    let f = app.fixture().await;
    let reg = app.registry_fixture(&f).await;
    let push = push(
        &app,
        &f.volunteer.token,
        "p1",
        json!([{"kind": "difficulty", "id": id(), "op": "create", "data": {
            "village_id": f.v1, "raised_at": "2026-11-20T01:00:00Z", "title": "Thiếu điện thoại",
            "description": "Nhiều cụ không có điện thoại thông minh"}}]),
    )
    .await;
    assert_eq!(push["results"][0]["status"], "applied", "{push}");
    let difficulty = push["results"][0]["id"].as_str().expect("id").to_owned();
    let paths = [
        format!("/api/v1/teams/{}/members", reg.team),
        "/api/v1/conflicts".to_owned(),
        "/api/v1/assistance-records".to_owned(),
        format!("/api/v1/assistance-records/{}", reg.record),
        format!("/api/v1/households/{}/adoption", reg.household),
        "/api/v1/difficulties".to_owned(),
        format!("/api/v1/difficulties/{difficulty}"),
        "/api/v1/communications".to_owned(),
        "/api/v1/devices".to_owned(),
    ];
    for path in paths {
        let res = app.get_authed(&path, &f.culture_social.token).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
}

/// A push cannot tell another village's records from ids that were never used: references to
/// them answer as references to nothing, and an id another user's device stored answers the same
/// whatever that record is.
async fn a_push_answers_a_foreign_id_as_it_answers_a_random_one(app: TestApp) {
    let f = app.fixture().await;
    // Village v2's volunteer stores a household and a visit, and corrects the visit.
    let h2 = id();
    let (visit, correction) = (id(), id());
    let record = |rid: &str, supersedes: Option<&str>| {
        json!({"kind": "assistance_record", "id": rid, "op": "create", "data": {
            "household_id": h2, "resident_ids": [], "occurred_at": "2026-11-20T03:00:00Z",
            "channel": "house_visit", "items": [{"service_code": "e_commerce", "outcome": "assisted"}],
            "supersedes": supersedes}})
    };
    let household = json!({"kind": "household", "id": h2, "op": "create",
        "data": {"village_id": f.v2, "head_name": "Phạm Văn Hải", "lane": "Ngõ 5"}});
    let res = push(
        &app,
        &f.volunteer_v2.token,
        "v2-phone",
        json!([
            household,
            record(&visit, None),
            record(&correction, Some(&visit))
        ]),
    )
    .await;
    let statuses: Vec<&str> = res["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["applied", "applied", "applied"], "{res}");

    // Village v1's volunteer, with a household of its own.
    let h1 = id();
    let res = push(
        &app,
        &f.volunteer.token,
        "v1-phone",
        json!([{"kind": "household", "id": h1, "op": "create",
                "data": {"village_id": f.v1, "head_name": "Nguyễn Văn An"}}]),
    )
    .await;
    assert_eq!(res["results"][0]["status"], "applied", "{res}");
    let answer = |res: &Value| {
        let r = &res["results"][0];
        json!({"status": r["status"], "version": r["version"], "error": r["error"]})
    };
    let own_visit = |supersedes: &str| {
        json!([{"kind": "assistance_record", "id": id(), "op": "create", "data": {
            "household_id": h1, "resident_ids": [], "occurred_at": "2026-11-21T03:00:00Z",
            "channel": "house_visit", "items": [{"service_code": "e_commerce", "outcome": "assisted"}],
            "supersedes": supersedes}}])
    };
    // Correcting another village's record (corrected already, or not) is correcting nothing.
    let random = push(&app, &f.volunteer.token, "v1-phone", own_visit(&id())).await;
    for foreign in [&visit, &correction] {
        let res = push(&app, &f.volunteer.token, "v1-phone", own_visit(foreign)).await;
        assert_eq!(answer(&res), answer(&random), "{res}");
    }
    // Editing or deleting another village's household is editing nothing.
    for (op, data) in [("update", json!({"lane": "Ngõ 6"})), ("delete", json!({}))] {
        let edit = |hid: &str| json!([{"kind": "household", "id": hid, "op": op, "base_version": 1, "data": data}]);
        let random = push(&app, &f.volunteer.token, "v1-phone", edit(&id())).await;
        let res = push(&app, &f.volunteer.token, "v1-phone", edit(&h2)).await;
        assert_eq!(answer(&res), answer(&random), "{op}: {res}");
    }
    // Reusing the ids another device stored: one answer, whatever they hold, with no version.
    let reuse = [
        json!({"kind": "household", "id": h2, "op": "create",
               "data": {"village_id": f.v1, "head_name": "Phạm Văn Hải"}}),
        // The very body v2 sent, which v2's own phone would get back as a duplicate.
        json!({"kind": "household", "id": h2, "op": "create",
               "data": {"village_id": f.v2, "head_name": "Phạm Văn Hải", "lane": "Ngõ 5"}}),
        json!({"kind": "assistance_record", "id": visit, "op": "create", "data": {
            "household_id": h1, "resident_ids": [], "occurred_at": "2026-11-20T03:00:00Z",
            "channel": "house_visit", "items": [{"service_code": "e_commerce", "outcome": "assisted"}]}}),
        json!({"kind": "communication", "id": correction, "op": "create", "data": {
            "village_id": f.v1, "occurred_at": "2026-11-20T01:00:00Z", "channel": "loudspeaker",
            "topics": ["vneid_level2"], "reach": 10}}),
    ];
    let mut answers = vec![];
    for r in reuse {
        let res = push(&app, &f.volunteer.token, "v1-phone", json!([r])).await;
        answers.push(answer(&res));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0]["status"], "conflict", "{answers:?}");
    assert!(answers[0]["version"].is_null(), "{answers:?}");
    // Naming v2's device changes nothing: a device id is the client's word.
    let spoofed = push(
        &app,
        &f.volunteer.token,
        "v2-phone",
        json!([{"kind": "household", "id": h2, "op": "create",
               "data": {"village_id": f.v2, "head_name": "Phạm Văn Hải", "lane": "Ngõ 5"}}]),
    )
    .await;
    assert_eq!(answer(&spoofed), answers[0], "{spoofed}");
    // v2's own phone still gets its replay.
    let replay = push(
        &app,
        &f.volunteer_v2.token,
        "v2-phone",
        json!([{"kind": "household", "id": h2, "op": "create",
               "data": {"village_id": f.v2, "head_name": "Phạm Văn Hải", "lane": "Ngõ 5"}}]),
    )
    .await;
    assert_eq!(replay["results"][0]["status"], "duplicate", "{replay}");
}

/// A resident sent through sync refuses fields it does not know, as every other kind does.
async fn a_synced_resident_with_an_unknown_field_is_refused(app: TestApp) {
    let f = app.fixture().await;
    let h = id();
    let res = push(
        &app,
        &f.volunteer.token,
        "p1",
        json!([
            {"kind": "household", "id": h, "op": "create", "data": {"village_id": f.v1, "head_name": "Lê Văn Mới"}},
            {"kind": "resident", "id": id(), "op": "create", "data": {
                "household_id": h, "full_name": "Lê Thị Nhỏ", "birth_year": 2001, "nickname": "Út"}},
            {"kind": "resident", "id": id(), "op": "create", "data": {
                "household_id": h, "full_name": "Lê Thị Nhỏ", "birth_year": 2001}},
        ]),
    )
    .await;
    let results = res["results"].as_array().expect("results");
    assert_eq!(results[0]["status"], "applied", "{res}");
    assert_eq!(results[1]["status"], "rejected", "{res}");
    assert_eq!(results[1]["error"]["code"], "invalid_data", "{res}");
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nickname")),
        "{res}"
    );
    assert_eq!(results[2]["status"], "applied", "{res}");
}
