use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, Account, Fixture, TestApp, PASSWORD};

both_backends!(
    every_role_gets_the_right_answer_from_every_endpoint,
    objects_of_another_scope_are_never_shown,
    a_village_leader_creates_volunteers_only_in_own_villages,
    the_culture_social_office_manages_accounts_of_its_commune,
    invalid_accounts_are_refused_field_by_field_and_nothing_is_written,
    a_stale_if_match_is_refused_and_changes_nothing,
    a_reset_password_must_be_changed_before_anything_else,
    changing_ones_own_password_needs_the_current_one_and_ends_other_sessions,
    the_audit_log_records_account_changes_for_admins_only,
    users_are_listed_in_pages_within_scope,
);

fn new_volunteer(f: &Fixture, username: &str, village: &str) -> Value {
    json!({
        "username": username, "password": "mật khẩu ban đầu", "display_name": "Trần Văn Bình",
        "role": "volunteer", "commune_id": f.commune, "village_ids": [village],
    })
}

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

/// Every role against every endpoint that exists: the status each must get.
async fn every_role_gets_the_right_answer_from_every_endpoint(app: TestApp) {
    let f = app.fixture().await;
    let roles: [(&str, &Account); 7] = [
        ("admin", &f.admin),
        ("chairman", &f.chairman),
        ("culture_social", &f.culture_social),
        ("police", &f.police),
        ("village_leader", &f.leader),
        ("volunteer", &f.volunteer),
        ("other_chairman", &f.other_chairman),
    ];
    for (name, who) in roles {
        let me = app.get_authed("/api/v1/me", &who.token).await;
        assert_eq!(me.status(), 200, "{name} GET /me");
        assert_eq!(body(me).await["id"], who.id.as_str());

        let list = app
            .get_authed("/api/v1/users", &who.token)
            .await
            .status()
            .as_u16();
        let expected = match name {
            "admin" | "chairman" | "culture_social" | "village_leader" | "other_chairman" => 200,
            _ => 403,
        };
        assert_eq!(list, expected, "{name} GET /users");

        let audit = app
            .get_authed("/api/v1/audit-events", &who.token)
            .await
            .status()
            .as_u16();
        assert_eq!(
            audit,
            if name == "admin" { 200 } else { 403 },
            "{name} GET /audit-events"
        );

        let volunteer_in_v1 = app
            .get_authed(&format!("/api/v1/users/{}", f.volunteer.id), &who.token)
            .await;
        let expected = match name {
            "admin" | "chairman" | "culture_social" | "village_leader" | "volunteer" => 200,
            _ => 404,
        };
        assert_eq!(
            volunteer_in_v1.status().as_u16(),
            expected,
            "{name} GET volunteer"
        );

        let create = app
            .send(
                Method::POST,
                "/api/v1/users",
                Some(&who.token),
                Some(&new_volunteer(&f, &format!("new.{name}"), &f.v1)),
            )
            .await
            .status()
            .as_u16();
        let expected = match name {
            "admin" | "chairman" | "culture_social" | "village_leader" => 201,
            _ => 403,
        };
        assert_eq!(create, expected, "{name} POST /users");
    }
    // Without a token, every protected endpoint answers 401 problem+json.
    for (method, path) in [
        (Method::GET, "/api/v1/me".to_owned()),
        (Method::GET, "/api/v1/users".to_owned()),
        (Method::POST, "/api/v1/users".to_owned()),
        (Method::GET, format!("/api/v1/users/{}", f.volunteer.id)),
        (Method::PATCH, format!("/api/v1/users/{}", f.volunteer.id)),
        (
            Method::POST,
            format!("/api/v1/users/{}/password", f.volunteer.id),
        ),
        (Method::GET, "/api/v1/audit-events".to_owned()),
    ] {
        let res = app
            .send(method.clone(), &path, None, Some(&json!({})))
            .await;
        assert_problem(res, 401, "missing_token").await;
    }
}

/// For every endpoint that takes an object id, users of another village or commune get 404 or 403
/// and never the object's data. The table must name every such path of the spec.
async fn objects_of_another_scope_are_never_shown(app: TestApp) {
    let f = app.fixture().await;
    let reg = app.registry_fixture(&f).await;
    let spec: Value = app.get("/openapi.json").await.json().await.expect("spec");
    let with_ids: Vec<String> = spec["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|p| p.contains('{'))
        .cloned()
        .collect();
    // (path template, method, body, the concrete path, a secret that must never appear)
    let crate::helpers::ScopedObjects {
        user,
        api_key,
        webhook,
        funding,
        plan,
        hh,
        report,
        difficulty,
        training,
        guide,
        file,
        campaign,
        proposal,
    } = app.scoped_objects(&f, &reg).await;
    let cases: Vec<(&str, Method, Value, String, &str)> = vec![
        (
            "/api/v1/campaigns/{id}",
            Method::GET,
            json!(null),
            campaign.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/campaigns/{id}",
            Method::PATCH,
            json!({ "name": "Đã sửa" }),
            campaign.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/campaigns/{id}/leaderboard",
            Method::GET,
            json!(null),
            format!("{campaign}/leaderboard"),
            "Phú Lộc",
        ),
        (
            "/api/v1/award-proposals/{id}",
            Method::GET,
            json!(null),
            proposal.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/award-proposals/{id}/decision",
            Method::POST,
            json!({ "decision": "approve" }),
            format!("{proposal}/decision"),
            "riêng của xã",
        ),
        (
            "/api/v1/materials/{id}",
            Method::GET,
            json!(null),
            guide.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/materials/{id}",
            Method::PATCH,
            json!({ "base_version": 2, "title": "Đã sửa" }),
            guide.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/materials/{id}/publish",
            Method::POST,
            json!({}),
            format!("{guide}/publish"),
            "riêng của xã",
        ),
        (
            "/api/v1/materials/{id}/withdraw",
            Method::POST,
            json!(null),
            format!("{guide}/withdraw"),
            "riêng của xã",
        ),
        (
            "/api/v1/materials/{id}/versions",
            Method::GET,
            json!(null),
            format!("{guide}/versions"),
            "riêng của xã",
        ),
        (
            "/api/v1/materials/{id}/attachments",
            Method::POST,
            json!(null),
            format!("{guide}/attachments?file_name=x.png"),
            "riêng của xã",
        ),
        (
            "/api/v1/attachments/{id}",
            Method::GET,
            json!(null),
            format!("/api/v1/attachments/{file}"),
            "PNG",
        ),
        (
            "/api/v1/difficulties/{id}",
            Method::GET,
            json!(null),
            difficulty.clone(),
            "riêng của thôn",
        ),
        (
            "/api/v1/difficulties/{id}",
            Method::PATCH,
            json!({ "status": "closed" }),
            difficulty.clone(),
            "riêng của thôn",
        ),
        (
            "/api/v1/difficulties/{id}/replies",
            Method::POST,
            json!({ "body": "Trả lời" }),
            format!("{difficulty}/replies"),
            "riêng của thôn",
        ),
        (
            "/api/v1/trainings/{id}",
            Method::GET,
            json!(null),
            training.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/trainings/{id}",
            Method::PATCH,
            json!({ "cancelled": true }),
            training.clone(),
            "riêng của xã",
        ),
        (
            "/api/v1/trainings/{id}/attendance",
            Method::PUT,
            json!({ "entries": [] }),
            format!("{training}/attendance"),
            "riêng của xã",
        ),
        (
            "/api/v1/teams/{id}/members/{member_id}/trainings",
            Method::GET,
            json!(null),
            format!(
                "/api/v1/teams/{}/members/{}/trainings",
                reg.team, reg.member
            ),
            "riêng của xã",
        ),
        (
            "/api/v1/users/{id}",
            Method::GET,
            json!(null),
            user.clone(),
            "tinh.nguyen",
        ),
        (
            "/api/v1/users/{id}",
            Method::PATCH,
            json!({ "display_name": "Bị đổi tên" }),
            user.clone(),
            "tinh.nguyen",
        ),
        (
            "/api/v1/users/{id}/password",
            Method::POST,
            json!({ "new_password": "mật khẩu bị đổi" }),
            format!("{user}/password"),
            "tinh.nguyen",
        ),
        (
            "/api/v1/households/{id}",
            Method::GET,
            json!(null),
            hh.clone(),
            "Đức",
        ),
        (
            "/api/v1/households/{id}",
            Method::PATCH,
            json!({ "head_name": "Bị đổi" }),
            hh.clone(),
            "Đức",
        ),
        (
            "/api/v1/households/{id}",
            Method::DELETE,
            json!(null),
            hh.clone(),
            "Đức",
        ),
        (
            "/api/v1/households/{id}/personal-data",
            Method::GET,
            json!(null),
            format!("{hh}/personal-data"),
            "Đức",
        ),
        (
            "/api/v1/households/{id}/erase",
            Method::POST,
            json!({ "reason": "thử xóa" }),
            format!("{hh}/erase"),
            "Đức",
        ),
        (
            "/api/v1/users/{id}/sessions/revoke",
            Method::POST,
            json!(null),
            format!("{user}/sessions/revoke"),
            "tinh.nguyen",
        ),
        (
            "/api/v1/households/{id}/residents",
            Method::GET,
            json!(null),
            format!("{hh}/residents"),
            "Hoa",
        ),
        (
            "/api/v1/households/{id}/residents",
            Method::POST,
            json!({ "full_name": "Người lạ" }),
            format!("{hh}/residents"),
            "Hoa",
        ),
        (
            "/api/v1/households/{id}/adoption",
            Method::GET,
            json!(null),
            format!("{hh}/adoption"),
            &reg.resident,
        ),
        (
            "/api/v1/households/{id}/adoption",
            Method::PATCH,
            json!({ "items": [{ "service_code": "electronic_health_record", "resident_id": reg.resident, "status": "declined" }] }),
            format!("{hh}/adoption"),
            &reg.resident,
        ),
        (
            "/api/v1/residents/{id}",
            Method::GET,
            json!(null),
            format!("/api/v1/residents/{}", reg.resident),
            "Hoa",
        ),
        (
            "/api/v1/residents/{id}",
            Method::PATCH,
            json!({ "full_name": "Bị đổi" }),
            format!("/api/v1/residents/{}", reg.resident),
            "Hoa",
        ),
        (
            "/api/v1/residents/{id}",
            Method::DELETE,
            json!(null),
            format!("/api/v1/residents/{}", reg.resident),
            "Hoa",
        ),
        (
            "/api/v1/teams/{id}",
            Method::GET,
            json!(null),
            format!("/api/v1/teams/{}", reg.team),
            "Phú Lộc",
        ),
        (
            "/api/v1/teams/{id}",
            Method::PATCH,
            json!({ "name": "Bị đổi" }),
            format!("/api/v1/teams/{}", reg.team),
            "Phú Lộc",
        ),
        (
            "/api/v1/teams/{id}/members",
            Method::GET,
            json!(null),
            format!("/api/v1/teams/{}/members", reg.team),
            "Lương",
        ),
        (
            "/api/v1/teams/{id}/members",
            Method::POST,
            json!({ "full_name": "Người lạ", "position": "member", "origin": "volunteer", "active_from": "2026-10-01" }),
            format!("/api/v1/teams/{}/members", reg.team),
            "Lương",
        ),
        (
            "/api/v1/teams/{id}/members/{member_id}",
            Method::PATCH,
            json!({ "position": "leader" }),
            format!("/api/v1/teams/{}/members/{}", reg.team, reg.member),
            "Lương",
        ),
        (
            "/api/v1/communes/{id}",
            Method::GET,
            json!(null),
            format!("/api/v1/communes/{}", f.commune),
            "Mao Điền",
        ),
        (
            "/api/v1/communes/{id}",
            Method::PATCH,
            json!({ "name": "Bị đổi" }),
            format!("/api/v1/communes/{}", f.commune),
            "Mao Điền",
        ),
        (
            "/api/v1/villages/{id}",
            Method::GET,
            json!(null),
            format!("/api/v1/villages/{}", f.v1),
            "Phú Lộc",
        ),
        (
            "/api/v1/villages/{id}",
            Method::PATCH,
            json!({ "name": "Bị đổi" }),
            format!("/api/v1/villages/{}", f.v1),
            "Phú Lộc",
        ),
        (
            "/api/v1/assistance-records/{id}",
            Method::GET,
            json!(null),
            format!("/api/v1/assistance-records/{}", reg.record),
            "Ghi chú riêng",
        ),
        (
            "/api/v1/conflicts/{id}/resolve",
            Method::POST,
            json!({ "resolution": "apply_client" }),
            format!("/api/v1/conflicts/{}/resolve", reg.conflict),
            "Ngõ cũ",
        ),
        (
            "/api/v1/reports/{id}",
            Method::GET,
            json!(null),
            report.clone(),
            "Mao Điền",
        ),
        (
            "/api/v1/reports/{id}/approve",
            Method::POST,
            json!(null),
            format!("{report}/approve"),
            "Mao Điền",
        ),
        (
            "/api/v1/reports/{id}/return",
            Method::POST,
            json!({ "reason": "Bổ sung số liệu" }),
            format!("{report}/return"),
            "Mao Điền",
        ),
        (
            "/api/v1/reports/{id}/xlsx",
            Method::GET,
            json!(null),
            format!("{report}/xlsx"),
            "Mao Điền",
        ),
        (
            "/api/v1/reports/{id}/print",
            Method::GET,
            json!(null),
            format!("{report}/print"),
            "Mao Điền",
        ),
        (
            "/api/v1/indicators/{id}",
            Method::PATCH,
            json!({ "target_percent": 1 }),
            "/api/v1/indicators/0193b000-0000-7000-8000-000000000001".to_owned(),
            "VNeID mức 2",
        ),
        (
            "/api/v1/stats/indicators/{code}/missing",
            Method::GET,
            json!(null),
            format!(
                "/api/v1/stats/indicators/adults_vneid_level2/missing?commune_id={}",
                f.commune
            ),
            "Đức",
        ),
        (
            "/api/v1/services/{id}",
            Method::PATCH,
            json!({ "retired": true }),
            format!("/api/v1/services/{}", reg.service),
            "VNeID",
        ),
        (
            "/api/v1/reports/{id}/pdf",
            Method::GET,
            json!(null),
            format!("{report}/pdf"),
            "%PDF",
        ),
        (
            "/api/v1/api-keys/{id}",
            Method::DELETE,
            json!(null),
            api_key,
            "Khóa tích hợp riêng",
        ),
        (
            "/api/v1/webhooks/{id}",
            Method::DELETE,
            json!(null),
            webhook.clone(),
            "Nhận sự kiện riêng",
        ),
        (
            "/api/v1/webhooks/{id}/deliveries",
            Method::GET,
            json!(null),
            format!("{webhook}/deliveries"),
            "Nhận sự kiện riêng",
        ),
        (
            "/api/v1/reports/{id}/submit",
            Method::POST,
            json!(null),
            format!("{report}/submit"),
            "Mao Điền",
        ),
        (
            "/api/v1/reports/{id}/acknowledge",
            Method::POST,
            json!({}),
            format!("{report}/acknowledge"),
            "Mao Điền",
        ),
        (
            "/api/v1/plans/{id}",
            Method::GET,
            json!(null),
            plan.clone(),
            "Kế hoạch riêng",
        ),
        (
            "/api/v1/plans/{id}/versions",
            Method::POST,
            json!({"base_version": 1, "change_note": "x", "number": "9/KH-UBND", "issued_on": "2026-10-02",
                "signer": "Chủ tịch", "purpose": "Kế hoạch riêng của xã", "tasks": []}),
            format!("{plan}/versions"),
            "Kế hoạch riêng",
        ),
        (
            "/api/v1/funding/{id}/void",
            Method::POST,
            json!({ "reason": "thử" }),
            funding,
            "Nhà tài trợ riêng",
        ),
        (
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
            Method::POST,
            json!(null),
            format!("{webhook}/deliveries/0193b000-0000-7000-8000-000000000009/replay"),
            "Nhận sự kiện riêng",
        ),
    ];
    for path in &with_ids {
        assert!(
            cases.iter().any(|(p, ..)| p == path),
            "no scope case for {path}: add one"
        );
    }
    let outsiders = [
        ("chairman of another commune", &f.other_chairman),
        ("village leader of another commune", &f.other_leader),
    ];
    for (template, method, payload, url, secret) in &cases {
        for (who, account) in outsiders {
            let res = app
                .send(
                    method.clone(),
                    url,
                    Some(&account.token),
                    payload.is_object().then_some(payload),
                )
                .await;
            let status = res.status().as_u16();
            let text = res.text().await.expect("text");
            assert!(
                status == 404 || status == 403,
                "{who} {method} {template}: {status} {text}"
            );
            assert!(
                !text.contains(secret),
                "{who} {method} {template} leaked: {text}"
            );
        }
    }
    // Within the commune, a volunteer of another village and a department without a need for names
    // see no object of village v1 (account and registry paths).
    for (template, method, payload, url, secret) in cases.iter().filter(|c| {
        c.0.starts_with("/api/v1/users") || c.0.contains("household") || c.0.contains("resident")
    }) {
        for (who, account) in [
            ("volunteer of another village", &f.volunteer_v2),
            ("police (no account management)", &f.police),
        ] {
            if account.username == "cong.an"
                && (template.contains("household") || template.contains("resident"))
                && *method == Method::GET
            {
                continue; // the police reads the commune's households; covered in registry tests
            }
            let res = app
                .send(
                    method.clone(),
                    url,
                    Some(&account.token),
                    payload.is_object().then_some(payload),
                )
                .await;
            let status = res.status().as_u16();
            let text = res.text().await.expect("text");
            assert!(
                status == 404 || status == 403,
                "{who} {method} {template}: {status} {text}"
            );
            assert!(
                !text.contains(secret),
                "{who} {method} {template} leaked: {text}"
            );
        }
    }
    // Nothing changed.
    let res = body(
        app.get_authed(&format!("/api/v1/users/{}", f.volunteer.id), &f.admin.token)
            .await,
    )
    .await;
    assert_eq!(res["display_name"], "Người dùng thử");
    let household = body(app.get_authed(&hh, &f.admin.token).await).await;
    assert_eq!(household["head_name"], "Nguyễn Văn Đức");
    assert_eq!(household["residents_count"], 2);
    assert_eq!(household["version"], 1);
    app.login(&f.volunteer.username, PASSWORD).await;
}

async fn a_village_leader_creates_volunteers_only_in_own_villages(app: TestApp) {
    let f = app.fixture().await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.leader.token),
            Some(&new_volunteer(&f, "binh.tv", &f.v1)),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res
        .headers()
        .get("location")
        .expect("location")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(res.headers().get("etag").is_some());
    let created = body(res).await;
    assert_eq!(
        location,
        format!("/api/v1/users/{}", created["id"].as_str().expect("id"))
    );
    assert_eq!(created["role"], "volunteer");
    assert_eq!(created["village_ids"], json!([f.v1]));
    assert_eq!(created["must_change_password"], true);

    let other = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.leader.token),
            Some(&new_volunteer(&f, "an.tv", &f.v2)),
        )
        .await;
    assert_problem(other, 403, "village_out_of_scope").await;
    let mut leader = new_volunteer(&f, "ha.tv", &f.v1);
    leader["role"] = json!("village_leader");
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.leader.token),
            Some(&leader),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.volunteer.token),
            Some(&new_volunteer(&f, "x.tv", &f.v1)),
        )
        .await;
    assert_problem(res, 403, "role_not_allowed").await;
}

async fn the_culture_social_office_manages_accounts_of_its_commune(app: TestApp) {
    let f = app.fixture().await;
    let health = json!({
        "username": "tram.y.te", "password": "mật khẩu ban đầu", "display_name": "Trạm Y tế xã",
        "role": "department", "department": "health",
    });
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.culture_social.token),
            Some(&health),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    assert_eq!(
        created["commune_id"],
        f.commune.as_str(),
        "defaults to the creator's commune"
    );
    assert_eq!(created["department"], "health");

    let mut admin = health.clone();
    admin["username"] = json!("sneaky");
    admin["role"] = json!("admin");
    admin.as_object_mut().expect("obj").remove("department");
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.culture_social.token),
            Some(&admin),
        )
        .await;
    assert_problem(res, 403, "role_not_assignable").await;

    let mut elsewhere = new_volunteer(&f, "elsewhere", &f.v3);
    elsewhere["commune_id"] = json!(f.other_commune);
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.culture_social.token),
            Some(&elsewhere),
        )
        .await;
    assert_problem(res, 403, "commune_out_of_scope").await;

    // Moving a volunteer to another village of the commune is a role change in the audit log.
    let path = format!("/api/v1/users/{}", f.volunteer.id);
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.culture_social.token),
            Some(&json!({ "village_ids": [f.v2] })),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await["village_ids"], json!([f.v2]));
    // Nobody changes their own access.
    let own = format!("/api/v1/users/{}", f.culture_social.id);
    let res = app
        .send(
            Method::PATCH,
            &own,
            Some(&f.culture_social.token),
            Some(&json!({ "role": "chairman" })),
        )
        .await;
    assert_problem(res, 403, "cannot_change_own_access").await;
}

async fn invalid_accounts_are_refused_field_by_field_and_nothing_is_written(app: TestApp) {
    let f = app.fixture().await;
    let bad = json!({
        "username": "Đức", "password": "short", "display_name": " ",
        "role": "volunteer", "commune_id": f.commune, "village_ids": [f.v1, "no-such-village", f.v3],
    });
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.admin.token),
            Some(&bad),
        )
        .await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("f"))
        .collect();
    for expected in ["username", "password", "display_name"] {
        assert!(fields.contains(&expected), "{fields:?}");
    }

    let mut shape = new_volunteer(&f, "binh.tv", "no-such-village");
    shape["department"] = json!("police");
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.admin.token),
            Some(&shape),
        )
        .await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().expect("c"))
        .collect();
    assert!(
        codes.contains(&"unknown_village") && codes.contains(&"not_allowed"),
        "{codes:?}"
    );

    let dept = json!({"username": "phong.kt", "password": "mật khẩu ban đầu", "display_name": "Phòng Kinh tế",
                      "role": "department", "commune_id": f.commune});
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.admin.token),
            Some(&dept),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;

    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.admin.token),
            Some(&new_volunteer(&f, "Tinh.Nguyen", &f.v1)),
        )
        .await;
    assert_problem(res, 409, "username_taken").await;

    let list = body(
        app.get_authed("/api/v1/users?limit=200", &f.admin.token)
            .await,
    )
    .await;
    assert_eq!(
        list["items"].as_array().expect("items").len(),
        9,
        "nothing was created"
    );
}

async fn a_stale_if_match_is_refused_and_changes_nothing(app: TestApp) {
    let f = app.fixture().await;
    let path = format!("/api/v1/users/{}", f.volunteer.id);
    let res = app.get_authed(&path, &f.leader.token).await;
    let etag = res
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_owned();
    // Someone else renames the volunteer first.
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&f.chairman.token)
        .header("if-match", &etag)
        .json(&json!({ "display_name": "Nguyễn Văn Đức" }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_ne!(
        res.headers()
            .get("etag")
            .expect("etag")
            .to_str()
            .expect("ascii"),
        etag
    );
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&f.leader.token)
        .header("if-match", &etag)
        .json(&json!({ "display_name": "Tên cũ" }))
        .send()
        .await
        .expect("request");
    assert_problem(res, 412, "edit_conflict").await;
    let now = body(app.get_authed(&path, &f.leader.token).await).await;
    assert_eq!(now["display_name"], "Nguyễn Văn Đức");
}

async fn a_reset_password_must_be_changed_before_anything_else(app: TestApp) {
    let f = app.fixture().await;
    let path = format!("/api/v1/users/{}/password", f.leader.id);
    let res = app
        .send(
            Method::POST,
            &path,
            Some(&f.chairman.token),
            Some(&json!({ "new_password": "mật khẩu tạm thời" })),
        )
        .await;
    assert_eq!(res.status(), 204);
    // The reset ended the leader's sessions.
    assert_problem(
        app.get_authed("/api/v1/me", &f.leader.token).await,
        401,
        "session_revoked",
    )
    .await;
    let login = app.login("truong.thon", "mật khẩu tạm thời").await;
    assert_eq!(login["user"]["must_change_password"], true);
    let token = login["access_token"].as_str().expect("at");
    assert_eq!(app.get_authed("/api/v1/me", token).await.status(), 200);
    assert_problem(
        app.get_authed("/api/v1/users", token).await,
        403,
        "password_change_required",
    )
    .await;
    let res = app
        .send(Method::POST, &path, Some(token), Some(&json!({ "current_password": "mật khẩu tạm thời", "new_password": "mật khẩu mới của tôi" })))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_authed("/api/v1/users", token).await.status(), 200);
}

async fn changing_ones_own_password_needs_the_current_one_and_ends_other_sessions(app: TestApp) {
    let f = app.fixture().await;
    let other_device = app.login("tinh.nguyen", PASSWORD).await;
    let path = format!("/api/v1/users/{}/password", f.volunteer.id);
    let res = app
        .send(
            Method::POST,
            &path,
            Some(&f.volunteer.token),
            Some(&json!({ "current_password": "sai rồi", "new_password": "mật khẩu mới" })),
        )
        .await;
    assert_problem(res, 403, "wrong_current_password").await;
    let res = app
        .send(
            Method::POST,
            &path,
            Some(&f.volunteer.token),
            Some(&json!({ "current_password": PASSWORD, "new_password": "x" })),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = app
        .send(
            Method::POST,
            &path,
            Some(&f.volunteer.token),
            Some(&json!({ "current_password": PASSWORD, "new_password": "mật khẩu mới" })),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get_authed("/api/v1/me", &f.volunteer.token)
            .await
            .status(),
        200,
        "this session goes on"
    );
    let other = other_device["access_token"].as_str().expect("at");
    assert_problem(
        app.get_authed("/api/v1/me", other).await,
        401,
        "session_revoked",
    )
    .await;
    app.login("tinh.nguyen", "mật khẩu mới").await;
}

async fn the_audit_log_records_account_changes_for_admins_only(app: TestApp) {
    let f = app.fixture().await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&f.leader.token),
            Some(&new_volunteer(&f, "binh.tv", &f.v1)),
        )
        .await;
    let created = body(res).await;
    let id = created["id"].as_str().expect("id");
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&f.admin.token),
            Some(&json!({ "role": "village_leader" })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let _ = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "admin", "password": "wrong password"}),
        )
        .await;

    let events = body(
        app.get_authed(
            &format!("/api/v1/audit-events?object_id={id}"),
            &f.admin.token,
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert_eq!(actions, ["role_changed", "user_created"], "newest first");
    let changed = &events["items"][0];
    assert_eq!(changed["actor_label"], "admin");
    assert_eq!(changed["details"]["before"]["role"], "volunteer");
    assert_eq!(changed["details"]["after"]["role"], "village_leader");
    assert!(changed["occurred_at"]
        .as_str()
        .expect("time")
        .ends_with('Z'));

    let failed = body(
        app.get_authed("/api/v1/audit-events?action=login_failed", &f.admin.token)
            .await,
    )
    .await;
    assert_eq!(failed["items"][0]["details"]["reason"], "wrong_password");

    // Paging: one at a time walks every login event exactly once.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/audit-events?action=login&limit=1&cursor={c}"),
            None => "/api/v1/audit-events?action=login&limit=1".to_owned(),
        };
        let page = body(app.get_authed(&url, &f.admin.token).await).await;
        for e in page["items"].as_array().expect("items") {
            seen.push(e["id"].as_i64().expect("id"));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "one login per fixture account");
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted);

    assert_problem(
        app.get_authed("/api/v1/audit-events?limit=0", &f.admin.token)
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get_authed("/api/v1/audit-events?cursor=%%%", &f.admin.token)
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get_authed("/api/v1/audit-events", &f.chairman.token)
            .await,
        403,
        "role_not_allowed",
    )
    .await;
}

async fn users_are_listed_in_pages_within_scope(app: TestApp) {
    let f = app.fixture().await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["username"].as_str().expect("u").to_owned())
            .collect()
    };
    let leader = body(app.get_authed("/api/v1/users", &f.leader.token).await).await;
    assert_eq!(
        names(&leader),
        ["truong.thon", "tinh.nguyen"]
            .map(String::from)
            .iter()
            .rev()
            .cloned()
            .collect::<Vec<_>>()
    );
    let other = body(
        app.get_authed("/api/v1/users", &f.other_chairman.token)
            .await,
    )
    .await;
    assert_eq!(names(&other), ["chu.tich.khac", "truong.thon.khac"]);
    let chairman = body(
        app.get_authed("/api/v1/users?role=volunteer", &f.chairman.token)
            .await,
    )
    .await;
    assert_eq!(names(&chairman), ["tinh.nguyen", "tinh.nguyen2"]);
    let first = body(
        app.get_authed("/api/v1/users?limit=4", &f.admin.token)
            .await,
    )
    .await;
    assert_eq!(
        names(&first),
        ["admin", "chu.tich", "chu.tich.khac", "cong.an"]
    );
    let cursor = first["next_cursor"].as_str().expect("more");
    let second = body(
        app.get_authed(
            &format!("/api/v1/users?limit=4&cursor={cursor}"),
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(
        names(&second),
        [
            "tinh.nguyen",
            "tinh.nguyen2",
            "truong.thon",
            "truong.thon.khac"
        ]
    );
    let by_village = body(
        app.get_authed(
            &format!("/api/v1/users?village_id={}", f.v2),
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(names(&by_village), ["tinh.nguyen2"]);
}
