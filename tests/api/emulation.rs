//! Campaigns scored on outcomes, their leaderboards, and award proposals, against hand counts.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};
use crate::stats::{commune, Commune};

both_backends!(
    leaderboards_count_outcomes_once_by_member_team_and_village,
    campaigns_are_checked_and_scoped,
    an_award_is_proposed_with_evidence_and_decided_once,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

async fn ok(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    payload: Option<Value>,
) -> Value {
    let res = app.send(method, path, Some(token), payload.as_ref()).await;
    let status = res.status();
    let v = body(res).await;
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// Teams for v1 (the volunteer is a member) and v2 (the second volunteer).
async fn teams(app: &TestApp, c: &Commune) -> (String, String) {
    let f = &c.f;
    let mut ids = vec![];
    for (village, name, user) in [
        (&f.v1, "Tổ CNSCĐ thôn Phú Lộc", &f.volunteer.id),
        (&f.v2, "Tổ CNSCĐ thôn Mao Điền", &f.volunteer_v2.id),
    ] {
        let t = ok(
            app,
            Method::POST,
            "/api/v1/teams",
            &f.culture_social.token,
            Some(json!({"village_id": village, "name": name, "decision_number": "12/QĐ-UBND", "decision_date": "2026-09-01"})),
        )
        .await;
        let id = t["id"].as_str().expect("id").to_owned();
        ok(
            app,
            Method::POST,
            &format!("/api/v1/teams/{id}/members"),
            &f.culture_social.token,
            Some(json!({"full_name": "Thành viên tổ", "position": "member", "origin": "youth_union", "active_from": "2026-09-01", "user_id": user})),
        )
        .await;
        ids.push(id);
    }
    (ids[0].clone(), ids[1].clone())
}

async fn campaign(app: &TestApp, token: &str, starts: &str, rules: Value) -> String {
    let c = ok(
        app,
        Method::POST,
        "/api/v1/campaigns",
        token,
        Some(json!({"name": "Quý IV: mỗi người dân một tài khoản số", "description": "Thi đua giữa các thôn",
            "starts_on": starts, "ends_on": "2026-12-31", "rules": rules})),
    )
    .await;
    c["id"].as_str().expect("id").to_owned()
}

fn points(board: &Value) -> Vec<(String, i64, i64, i64)> {
    board["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["rank"].as_i64().expect("rank"),
                r["points"].as_i64().expect("points"),
                r["outcomes_done"].as_i64().expect("done"),
            )
        })
        .collect()
}

async fn leaderboards_count_outcomes_once_by_member_team_and_village(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let (t1, t2) = teams(&app, &c).await;
    let youth = app.insert_user(
        "doan.tn",
        "department",
        Some("youth_union"),
        Some(&f.commune),
        &[],
    );
    let youth = app.account(youth, "doan.tn").await;
    let id = campaign(
        &app,
        &youth.token,
        "2026-10-01",
        json!([{"service_code": "vneid_level2", "points": 10}, {"service_code": "public_service_portal", "points": 5}]),
    )
    .await;
    let path = format!("/api/v1/campaigns/{id}/leaderboard");
    // Q4 outcomes done: Bình's VNeID (1 October) and Phúc's portal dossier by the v1 volunteer;
    // Giang's VNeID by the v2 volunteer. Đức was done in September; Em's "done" was corrected to
    // "assisted"; Phúc declined VNeID.
    let members = ok(&app, Method::GET, &path, &f.leader.token, None).await;
    assert_eq!(
        points(&members),
        [
            (f.volunteer.id.clone(), 1, 15, 2),
            (f.volunteer_v2.id.clone(), 2, 10, 1)
        ]
    );
    assert_eq!(
        members["rows"][0]["per_service"],
        json!({"public_service_portal": 1, "vneid_level2": 1})
    );
    assert_eq!(members["rows"][0]["name"], "Người dùng thử");
    let villages = ok(
        &app,
        Method::GET,
        &format!("{path}?by=village"),
        &f.chairman.token,
        None,
    )
    .await;
    assert_eq!(
        points(&villages),
        [(f.v1.clone(), 1, 15, 2), (f.v2.clone(), 2, 10, 1)]
    );
    assert_eq!(villages["rows"][0]["name"], "Thôn Phú Lộc");
    let by_team = ok(
        &app,
        Method::GET,
        &format!("{path}?by=team"),
        &f.volunteer_v2.token,
        None,
    )
    .await;
    assert_eq!(
        points(&by_team),
        [(t1.clone(), 1, 15, 2), (t2.clone(), 2, 10, 1)]
    );

    // Another visit to Bình saying done again adds nothing: she counts once.
    crate::stats::push(
        &app,
        &f.volunteer.token,
        vec![crate::stats::visit(
            &c.h1.0,
            &[&c.h1.1[1]],
            "2026-11-20T02:00:00Z",
            "house_visit",
            json!([{"service_code": "vneid_level2", "outcome": "done"}]),
        )],
    )
    .await;
    let again = ok(&app, Method::GET, &path, &f.leader.token, None).await;
    assert_eq!(points(&again)[0].2, 15);
    // Activity without outcomes earns nothing: the leader's visits that only assisted or need a
    // follow-up, and a communication reaching 300 people.
    let busy = |outcome: &str| {
        crate::stats::visit(
            &c.h2.0,
            &[&c.h2.1[1]],
            "2026-11-21T02:00:00Z",
            "house_visit",
            json!([{"service_code": "vneid_level2", "outcome": outcome}]),
        )
    };
    crate::stats::push(
        &app,
        &f.leader.token,
        vec![
            busy("assisted"),
            busy("needs_follow_up"),
            busy("assisted"),
            json!({"kind": "communication", "id": tungnha::db::new_id(), "op": "create", "data": {
                "village_id": f.v1, "occurred_at": "2026-11-21T03:00:00Z", "channel": "loudspeaker",
                "reach": 300, "topics": ["vneid_level2"]}}),
        ],
    )
    .await;
    let still = ok(&app, Method::GET, &path, &f.leader.token, None).await;
    assert_eq!(points(&still), points(&members));
    assert!(
        !still.to_string().contains(&f.leader.id),
        "no row for activity without outcomes"
    );

    // Starting on 30 September takes Đức in; VNeID alone ties the two volunteers before that.
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/campaigns/{id}"),
        &youth.token,
        Some(json!({"starts_on": "2026-09-30", "rules": [{"service_code": "vneid_level2", "points": 10}]})),
    )
    .await;
    let wider = ok(&app, Method::GET, &path, &f.leader.token, None).await;
    assert_eq!(
        points(&wider),
        [
            (f.volunteer.id.clone(), 1, 20, 2),
            (f.volunteer_v2.id.clone(), 2, 10, 1)
        ]
    );
    let tied = campaign(
        &app,
        &f.culture_social.token,
        "2026-10-01",
        json!([{"service_code": "vneid_level2", "points": 3}]),
    )
    .await;
    let board = ok(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{tied}/leaderboard?by=village"),
        &f.chairman.token,
        None,
    )
    .await;
    let ranks: Vec<i64> = points(&board).iter().map(|r| r.1).collect();
    assert_eq!(ranks, [1, 1], "equal points share a rank");
}

async fn campaigns_are_checked_and_scoped(app: TestApp) {
    let f = app.fixture().await;
    for token in [&f.police.token, &f.volunteer.token, &f.leader.token] {
        assert_problem(
            app.send(
                Method::POST,
                "/api/v1/campaigns",
                Some(token),
                Some(&json!({"name": "x", "starts_on": "2026-10-01", "ends_on": "2026-12-31", "rules": [{"service_code": "vneid_level2", "points": 1}]})),
            )
            .await,
            403,
            "role_not_allowed",
        )
        .await;
    }
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/campaigns",
            Some(&f.culture_social.token),
            Some(
                &json!({"name": " ", "starts_on": "2026-12-01", "ends_on": "2026-10-01", "rules": [
                {"service_code": "vneid_level2", "points": 0},
                {"service_code": "vneid_level2", "points": 5},
                {"service_code": "nope", "points": 5}]}),
            ),
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
        [
            "ends_on",
            "name",
            "rules[0].points",
            "rules[1].service_code",
            "rules[2].service_code"
        ]
    );
    let listed = ok(
        &app,
        Method::GET,
        "/api/v1/campaigns",
        &f.chairman.token,
        None,
    )
    .await;
    assert_eq!(listed["items"], json!([]), "nothing was stored");
    let id = campaign(
        &app,
        &f.culture_social.token,
        "2026-10-01",
        json!([{"service_code": "vneid_level2", "points": 1}]),
    )
    .await;
    let listed = ok(
        &app,
        Method::GET,
        "/api/v1/campaigns",
        &f.volunteer.token,
        None,
    )
    .await;
    assert_eq!(
        listed["items"][0]["rules"],
        json!([{"service_code": "vneid_level2", "points": 1}])
    );
    for path in [
        format!("/api/v1/campaigns/{id}"),
        format!("/api/v1/campaigns/{id}/leaderboard"),
    ] {
        assert_problem(
            app.get_authed(&path, &f.other_chairman.token).await,
            404,
            "campaign_not_found",
        )
        .await;
    }
    let theirs = ok(
        &app,
        Method::GET,
        "/api/v1/campaigns",
        &f.other_leader.token,
        None,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
}

async fn an_award_is_proposed_with_evidence_and_decided_once(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let (t1, _) = teams(&app, &c).await;
    let q4 = campaign(
        &app,
        &f.culture_social.token,
        "2026-10-01",
        json!([{"service_code": "vneid_level2", "points": 10}, {"service_code": "public_service_portal", "points": 5}]),
    )
    .await;
    // Trained on 10 November.
    let members = ok(
        &app,
        Method::GET,
        &format!("/api/v1/teams/{t1}/members"),
        &f.chairman.token,
        None,
    )
    .await;
    let member = members["items"][0]["id"].as_str().expect("id").to_owned();
    let t = ok(
        &app,
        Method::POST,
        "/api/v1/trainings",
        &f.police.token,
        Some(json!({"topic": "VNeID", "held_on": "2026-11-10", "place": "Hội trường", "mode": "in_person"})),
    )
    .await;
    ok(
        &app,
        Method::PUT,
        &format!(
            "/api/v1/trainings/{}/attendance",
            t["id"].as_str().expect("id")
        ),
        &f.police.token,
        Some(json!({"entries": [{"member_id": member, "attended": true}]})),
    )
    .await;

    let proposal = json!({"subject_kind": "team", "subject_id": t1, "award": "Giấy khen của Chủ tịch UBND xã",
        "reason": "Dẫn đầu phong trào thi đua Quý IV", "period_start": "2026-10-01", "period_end": "2026-12-31",
        "campaign_id": q4});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/award-proposals",
            Some(&f.police.token),
            Some(&proposal),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let p = ok(
        &app,
        Method::POST,
        "/api/v1/award-proposals",
        &f.culture_social.token,
        Some(proposal.clone()),
    )
    .await;
    assert_eq!(p["status"], "proposed");
    assert_eq!(p["subject_name"], "Tổ CNSCĐ thôn Phú Lộc");
    // The v1 team's member logged Bình's visit, Em's corrected one and Phúc's office visit (3 live
    // records, 2 households), brought Bình's VNeID and Phúc's dossier to done, and attended 1 training.
    assert_eq!(
        p["evidence"],
        json!({"records": 3, "households_reached": 2, "outcomes_done": 2, "trainings_attended": 1,
               "members": 1, "active_members": 1, "campaign_points": 15})
    );
    let id = p["id"].as_str().expect("id").to_owned();
    // A member, without a campaign: the same person's figures.
    let m = ok(
        &app,
        Method::POST,
        "/api/v1/award-proposals",
        &f.culture_social.token,
        Some(json!({"subject_kind": "member", "subject_id": member, "award": "Giấy khen", "reason": "Tích cực",
            "period_start": "2026-10-01", "period_end": "2026-12-31"})),
    )
    .await;
    assert_eq!(
        m["evidence"],
        json!({"records": 3, "households_reached": 2, "outcomes_done": 2, "trainings_attended": 1,
               "members": null, "active_members": null, "campaign_points": null})
    );
    // Unknown subject, reversed period: refused, nothing stored.
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/award-proposals",
            Some(&f.culture_social.token),
            Some(
                &json!({"subject_kind": "team", "subject_id": "nope", "award": "x", "reason": "y",
                "period_start": "2026-12-31", "period_end": "2026-10-01"}),
            ),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"].as_array().expect("errors").len(), 2);
    let listed = ok(
        &app,
        Method::GET,
        "/api/v1/award-proposals?status=proposed",
        &f.chairman.token,
        None,
    )
    .await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 2);

    // The evidence is a snapshot: new outcomes later do not change the proposal.
    crate::stats::push(
        &app,
        &f.volunteer.token,
        vec![crate::stats::visit(
            &c.h2.0,
            &[&c.h2.1[0]],
            "2026-11-23T02:00:00Z",
            "house_visit",
            json!([{"service_code": "public_service_portal", "outcome": "done"}]),
        )],
    )
    .await;
    let path = format!("/api/v1/award-proposals/{id}");
    let same = ok(&app, Method::GET, &path, &f.chairman.token, None).await;
    assert_eq!(same["evidence"], p["evidence"]);

    // Only the chairman decides; a rejection needs a note; a decision is final.
    let decide = format!("{path}/decision");
    assert_problem(
        app.send(
            Method::POST,
            &decide,
            Some(&f.culture_social.token),
            Some(&json!({"decision": "approve"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        app.send(
            Method::POST,
            &decide,
            Some(&f.chairman.token),
            Some(&json!({"decision": "reject"})),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let approved = ok(
        &app,
        Method::POST,
        &decide,
        &f.chairman.token,
        Some(json!({"decision": "approve", "note": "Đồng ý"})),
    )
    .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], f.chairman.id.as_str());
    assert_problem(
        app.send(
            Method::POST,
            &decide,
            Some(&f.chairman.token),
            Some(&json!({"decision": "reject", "note": "Đổi ý"})),
        )
        .await,
        409,
        "already_decided",
    )
    .await;
    for token in [&f.other_chairman.token, &f.volunteer.token] {
        assert_problem(
            app.get_authed(&path, token).await,
            404,
            "proposal_not_found",
        )
        .await;
    }
    assert_problem(
        app.get_authed("/api/v1/award-proposals", &f.leader.token)
            .await,
        403,
        "role_not_allowed",
    )
    .await;
}
