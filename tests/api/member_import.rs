//! Team accounts in bulk: a member list becomes accounts with one-time sign-in codes that must be
//! replaced at the first sign-in; a second upload of the same list creates nobody twice; bad files
//! and callers without the right change nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, Fixture, TestApp};

both_backends!(
    a_member_list_becomes_accounts_that_must_choose_their_own_password,
    member_imports_are_scoped_and_bad_files_change_nothing,
);

async fn upload(app: &TestApp, token: &str, body: &[u8], dry_run: bool) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/imports/members?dry_run={dry_run}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body.to_vec())
        .send()
        .await
        .expect("request")
}

async fn team_of(app: &TestApp, f: &Fixture, village: &str, token: &str) -> String {
    let res = app
        .send(
            Method::POST,
            "/api/v1/teams",
            Some(token),
            Some(&json!({
                "village_id": village, "name": "Tổ CNSCĐ", "decision_number": "115/QĐ-UBND",
                "decision_date": "2026-09-25", "commune_id": f.commune,
            })),
        )
        .await;
    assert_eq!(res.status(), 201, "create team");
    res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn members(app: &TestApp, team: &str, token: &str) -> Vec<Value> {
    let list: Value = app
        .get_authed(&format!("/api/v1/teams/{team}/members"), token)
        .await
        .json()
        .await
        .expect("json");
    list["items"].as_array().expect("items").clone()
}

fn user_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use tungnha::db::schema::users::dsl as u;
    u::users.count().get_result(&mut app.conn()).expect("count")
}

async fn a_member_list_becomes_accounts_that_must_choose_their_own_password(app: TestApp) {
    let f = app.fixture().await;
    let team = team_of(&app, &f, &f.v1, &f.leader.token).await;
    // Already in the team, without an account: the import gives one and links it.
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/teams/{team}/members"),
            Some(&f.leader.token),
            Some(&json!({
                "full_name": "Phạm Văn Cũ", "position": "member", "origin": "veterans",
                "phone": "0912000001", "active_from": "2026-10-01"
            })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let old_member = res.json::<Value>().await.expect("json")["id"].clone();
    // The plain username is taken: the import picks the next one.
    app.insert_user("lan.nt", "volunteer", None, Some(&f.commune), &[&f.v2]);
    let file = "\u{feff}DANH SÁCH THÀNH VIÊN TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG\r\n\
                STT;Họ và tên;Số điện thoại;Chức danh\r\n\
                1;Nguyễn Thị Lan;912345678;Tổ phó\r\n\
                2;Trần Văn Minh;;\r\n\
                3;Phạm Văn Cũ;0912 000 001;Thành viên\r\n";
    let before = user_count(&app);

    let res = upload(&app, &f.leader.token, file.as_bytes(), true).await;
    assert_eq!(res.status(), 200);
    let dry: Value = res.json().await.expect("json");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["rows"], 3);
    assert_eq!(dry["errors"], json!([]), "{dry}");
    let planned: Vec<(String, String, String, String)> = dry["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            assert!(m["sign_in_code"].is_null(), "no code on a dry run: {m}");
            (
                m["full_name"].as_str().unwrap_or_default().to_owned(),
                m["username"].as_str().unwrap_or_default().to_owned(),
                m["action"].as_str().unwrap_or_default().to_owned(),
                m["village_name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let row = |n: &str, u: &str, a: &str| (n.into(), u.into(), a.into(), "Thôn Phú Lộc".into());
    assert_eq!(
        planned,
        vec![
            row("Nguyễn Thị Lan", "lan.nt2", "new"),
            row("Trần Văn Minh", "minh.tv", "new"),
            row("Phạm Văn Cũ", "cu.pv", "account_added"),
        ]
    );
    assert_eq!(user_count(&app), before, "a dry run writes nothing");
    assert_eq!(members(&app, &team, &f.leader.token).await.len(), 1);

    let res = upload(&app, &f.leader.token, file.as_bytes(), false).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "the codes are never cached"
    );
    let done: Value = res.json().await.expect("json");
    let created = done["members"].as_array().expect("members").clone();
    assert_eq!(created.len(), 3, "{done}");
    assert_eq!(user_count(&app), before + 3);
    let in_team = members(&app, &team, &f.leader.token).await;
    assert_eq!(
        in_team.len(),
        3,
        "the member already there is linked, not added"
    );
    for m in &created {
        let user = m["user_id"].as_str().expect("user id");
        let t = in_team
            .iter()
            .find(|t| t["user_id"] == json!(user))
            .unwrap_or_else(|| panic!("{m} not in team: {in_team:?}"));
        assert_eq!(t["full_name"], m["full_name"]);
        assert_eq!(t["phone"], m["phone"]);
    }
    assert!(in_team
        .iter()
        .any(|t| t["id"] == old_member && t["user_id"].is_string()));
    let lan = in_team
        .iter()
        .find(|t| t["full_name"] == "Nguyễn Thị Lan")
        .expect("lan");
    assert_eq!(lan["position"], "deputy");
    assert_eq!(lan["phone"], "0912345678");

    // First sign-in with the code: nothing but choosing a password is allowed.
    let lan = &created[0];
    let code = lan["sign_in_code"].as_str().expect("code");
    let id = lan["user_id"].as_str().expect("id");
    assert_ne!(code, created[1]["sign_in_code"].as_str().expect("code"));
    let login = app.login("lan.nt2", code).await;
    assert_eq!(login["user"]["must_change_password"], true, "{login}");
    assert_eq!(login["user"]["role"], "volunteer");
    assert_eq!(login["user"]["village_ids"], json!([f.v1]));
    let token = login["access_token"].as_str().expect("token");
    assert_problem(
        app.get_authed("/api/v1/households", token).await,
        403,
        "password_change_required",
    )
    .await;
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{id}/password"),
            Some(token),
            Some(&json!({"current_password": code, "new_password": "mật khẩu của Lan"})),
        )
        .await;
    assert_eq!(res.status(), 204);
    // The code signs in no more; the new password does, and the phone works.
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "lan.nt2", "password": code}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let login = app.login("lan.nt2", "mật khẩu của Lan").await;
    assert_eq!(login["user"]["must_change_password"], false);
    let token = login["access_token"].as_str().expect("token");
    assert_eq!(
        app.get_authed("/api/v1/households", token).await.status(),
        200
    );

    // The same list again creates nobody twice.
    let res = upload(&app, &f.leader.token, file.as_bytes(), false).await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.expect("json");
    assert_eq!(again["members"], json!([]), "{again}");
    assert_eq!(again["skipped"].as_array().map(Vec::len), Some(3));
    assert_eq!(user_count(&app), before + 3);
    assert_eq!(members(&app, &team, &f.leader.token).await.len(), 3);

    let audit: Value = app
        .get_authed(
            "/api/v1/audit-events?action=members_imported",
            &f.admin.token,
        )
        .await
        .json()
        .await
        .expect("json");
    let events = audit["items"].as_array().expect("items");
    assert_eq!(events.len(), 2, "{audit}");
}

async fn member_imports_are_scoped_and_bad_files_change_nothing(app: TestApp) {
    let f = app.fixture().await;
    let file = "Họ và tên,Thôn\nNguyễn Thị Lan,Phú Lộc\n";
    for who in [&f.volunteer, &f.chairman, &f.police] {
        let res = upload(&app, &who.token, file.as_bytes(), true).await;
        assert_problem(res, 403, "role_not_allowed").await;
    }
    // Another commune's leader finds no such village in its scope.
    let res = upload(&app, &f.other_leader.token, file.as_bytes(), true).await;
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["errors"][0]["code"], "unknown_village", "{report}");
    let before = user_count(&app);
    // No team yet in the village.
    let res = upload(&app, &f.leader.token, file.as_bytes(), true).await;
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["errors"][0]["code"], "no_team", "{report}");
    let team = team_of(&app, &f, &f.v1, &f.leader.token).await;

    // A leader's list naming another village, a bad phone, an unknown position, the same row twice.
    let bad = "Họ và tên;Số điện thoại;Thôn;Chức danh\n\
               Nguyễn Thị Lan;0912345678;Phú Lộc;Tổ trưởng\n\
               Trần Văn Minh;;Thôn Mao Điền;\n\
               Lê Văn Sai;12345;Phú Lộc;\n\
               Đỗ Thị Hà;;Phú Lộc;Chủ tịch\n\
               Nguyễn Thị Lan;0912345678;T01;\n";
    let res = upload(&app, &f.leader.token, bad.as_bytes(), true).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.expect("json");
    let errors: Vec<(u64, String, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or_default(),
                e["column"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let e = |l: u64, c: &str, code: &str| (l, c.to_owned(), code.to_owned());
    assert_eq!(
        errors,
        vec![
            e(3, "Thôn", "unknown_village"),
            e(4, "Số điện thoại", "invalid_phone"),
            e(5, "Chức danh", "invalid_value"),
            e(6, "Họ và tên", "duplicate_row"),
        ]
    );
    let res = upload(&app, &f.leader.token, bad.as_bytes(), false).await;
    let problem = assert_problem(res, 422, "import_has_errors").await;
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(4));
    assert_eq!(user_count(&app), before);
    assert!(members(&app, &team, &f.leader.token).await.is_empty());

    // The culture-social office brings lists for the whole commune, so each row names its village.
    let res = upload(
        &app,
        &f.culture_social.token,
        b"Ho va ten\nTran Van Minh\n",
        true,
    )
    .await;
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["errors"][0]["code"], "required", "{report}");
    let res = upload(
        &app,
        &f.culture_social.token,
        "Họ và tên,Thôn\nTrần Văn Minh,T01\n".as_bytes(),
        false,
    )
    .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.expect("json");
    assert_eq!(done["members"][0]["team_id"], json!(team));
    assert_eq!(user_count(&app), before + 1);

    // Files that are no list.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    assert_eq!(upload(&app, &f.leader.token, png, true).await.status(), 415);
    let res = upload(
        &app,
        &f.leader.token,
        b"Thon,SDT\nPhu Loc,0912345678\n",
        true,
    )
    .await;
    assert_problem(res, 400, "missing_columns").await;
    assert_eq!(user_count(&app), before + 1);
}
