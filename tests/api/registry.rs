use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    a_volunteer_sees_only_the_households_of_own_villages,
    departments_see_names_only_when_their_work_needs_them_and_such_reads_are_audited,
    search_ignores_diacritics_and_case,
    updates_need_the_current_version,
    invalid_households_are_refused_field_by_field_and_nothing_is_written,
    leaders_correct_adoption_with_an_audit_trail_and_follow_up_lists_follow,
    a_deleted_household_disappears_and_leaves_tombstones_for_sync,
    teams_are_managed_by_the_culture_social_office_and_village_leaders,
    the_service_catalogue_is_seeded_and_edited_by_admins_without_code,
    communes_and_villages_are_managed_by_admins_and_read_in_scope,
    seed_demo_builds_a_usable_commune_once,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

async fn create_household(
    app: &TestApp,
    token: &str,
    village: &str,
    head: &str,
    residents: Value,
) -> Value {
    let res = app
        .send(
            Method::POST,
            "/api/v1/households",
            Some(token),
            Some(&json!({"village_id": village, "head_name": head, "residents": residents})),
        )
        .await;
    assert_eq!(res.status(), 201, "create {head}");
    body(res).await
}

fn heads(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["head_name"].as_str().unwrap_or("<hidden>").to_owned())
        .collect();
    v.sort();
    v
}

async fn a_volunteer_sees_only_the_households_of_own_villages(app: TestApp) {
    let f = app.fixture().await;
    create_household(&app, &f.leader.token, &f.v1, "Nguyễn Văn An", json!([])).await;
    let other = create_household(
        &app,
        &f.volunteer_v2.token,
        &f.v2,
        "Trần Văn Bình",
        json!([]),
    )
    .await;
    let mine = body(
        app.get_authed("/api/v1/households", &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(heads(&mine), ["Nguyễn Văn An"]);
    let asked = body(
        app.get_authed(
            &format!("/api/v1/households?village_id={}", f.v2),
            &f.volunteer.token,
        )
        .await,
    )
    .await;
    assert_eq!(heads(&asked), Vec::<String>::new());
    let id = other["id"].as_str().expect("id");
    assert_problem(
        app.get_authed(&format!("/api/v1/households/{id}"), &f.volunteer.token)
            .await,
        404,
        "household_not_found",
    )
    .await;
    // A volunteer cannot register a household in someone else's village either.
    let res = app
        .send(
            Method::POST,
            "/api/v1/households",
            Some(&f.volunteer.token),
            Some(&json!({"village_id": f.v2, "head_name": "X"})),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let chairman = body(
        app.get_authed("/api/v1/households", &f.chairman.token)
            .await,
    )
    .await;
    assert_eq!(heads(&chairman), ["Nguyễn Văn An", "Trần Văn Bình"]);
    assert_eq!(
        body(
            app.get_authed("/api/v1/households", &f.other_chairman.token)
                .await
        )
        .await["items"],
        json!([])
    );
}

async fn departments_see_names_only_when_their_work_needs_them_and_such_reads_are_audited(
    app: TestApp,
) {
    let f = app.fixture().await;
    let h = create_household(
        &app,
        &f.leader.token,
        &f.v1,
        "Nguyễn Văn Đức",
        json!([{"full_name": "Nguyễn Thị Hoa", "birth_year": 1962}]),
    )
    .await;
    let id = h["id"].as_str().expect("id");
    let econ = app.insert_user(
        "kinh.te",
        "department",
        Some("economy"),
        Some(&f.commune),
        &[],
    );
    let econ = app.account(econ, "kinh.te").await;
    let hidden = body(
        app.get_authed(&format!("/api/v1/households/{id}"), &econ.token)
            .await,
    )
    .await;
    assert_eq!(hidden["personal_data_redacted"], true);
    assert_eq!(hidden["head_name"], Value::Null);
    assert_eq!(hidden["residents"][0]["full_name"], Value::Null);
    assert_eq!(
        hidden["residents"][0]["birth_year"], 1962,
        "non-personal figures stay"
    );
    assert!(!hidden.to_string().contains("Hoa"));

    let shown = body(
        app.get_authed(&format!("/api/v1/households/{id}"), &f.police.token)
            .await,
    )
    .await;
    assert_eq!(shown["head_name"], "Nguyễn Văn Đức");
    let list = body(app.get_authed("/api/v1/households", &f.police.token).await).await;
    assert_eq!(heads(&list), ["Nguyễn Văn Đức"]);
    use tungnha::db::schema::audit_events::dsl as a;
    let reads: Vec<(Option<String>, Option<String>)> = a::audit_events
        .filter(a::action.eq("personal_data_read"))
        .select((a::actor_user_id, a::object_id))
        .load(&mut app.conn())
        .expect("audit");
    assert_eq!(
        reads.len(),
        2,
        "the police's two reads are audited, the economy office's redacted read is not"
    );
    assert!(reads
        .iter()
        .all(|(actor, _)| actor.as_deref() == Some(f.police.id.as_str())));

    let thanh_pho = app.insert_user("thanh.pho", "city", None, None, &[]);
    let city = app.account(thanh_pho, "thanh.pho").await;
    assert_problem(
        app.get_authed("/api/v1/households", &city.token).await,
        403,
        "personal_data_not_allowed",
    )
    .await;
}

async fn search_ignores_diacritics_and_case(app: TestApp) {
    let f = app.fixture().await;
    create_household(
        &app,
        &f.leader.token,
        &f.v1,
        "Nguyễn Văn Đức",
        json!([{"full_name": "Nguyễn Thị Hoa"}]),
    )
    .await;
    create_household(&app, &f.leader.token, &f.v1, "Trần Thị Ánh", json!([])).await;
    create_household(&app, &f.leader.token, &f.v1, "Đỗ Đình Dũng", json!([])).await;
    for (q, expected) in [
        ("nguyen van duc", vec!["Nguyễn Văn Đức"]),
        ("NGUYỄN  VĂN ĐỨC", vec!["Nguyễn Văn Đức"]),
        ("duc", vec!["Nguyễn Văn Đức"]),
        ("hoa", vec!["Nguyễn Văn Đức"]),
        ("anh", vec!["Trần Thị Ánh"]),
        ("d", vec!["Nguyễn Văn Đức", "Đỗ Đình Dũng"]),
        ("do dinh", vec!["Đỗ Đình Dũng"]),
        ("%", vec![]),
        ("_", vec![]),
    ] {
        let url = format!("/api/v1/households?q={}", urlencode(q));
        let page = body(app.get_authed(&url, &f.volunteer.token).await).await;
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(heads(&page), expected, "q={q}");
    }
}

async fn missing_vneid(app: &TestApp, token: &str) -> Vec<String> {
    heads(
        &body(
            app.get_authed("/api/v1/households?missing_service=vneid_level2", token)
                .await,
        )
        .await,
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn updates_need_the_current_version(app: TestApp) {
    let f = app.fixture().await;
    let h = create_household(&app, &f.leader.token, &f.v1, "Nguyễn Văn Đức", json!([])).await;
    let path = format!("/api/v1/households/{}", h["id"].as_str().expect("id"));
    let res = app.get_authed(&path, &f.volunteer.token).await;
    assert_eq!(res.headers().get("etag").expect("etag"), "\"1\"");

    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.volunteer.token),
            Some(&json!({"lane": "Ngõ 5"})),
        )
        .await;
    assert_problem(res, 428, "precondition_required").await;

    let patch = |etag: &'static str, lane: &'static str, token: String| {
        let app = &app;
        let path = path.clone();
        async move {
            app.client
                .patch(app.url(&path))
                .bearer_auth(token)
                .header("if-match", etag)
                .json(&json!({"lane": lane}))
                .send()
                .await
                .expect("request")
        }
    };
    let res = patch("\"1\"", "Ngõ 5", f.volunteer.token.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("etag").expect("etag"), "\"2\"");
    // The leader edits from the version they read before: refused, nothing overwritten.
    let res = patch("\"1\"", "Ngõ 9", f.leader.token.clone()).await;
    assert_problem(res, 412, "edit_conflict").await;
    let now = body(app.get_authed(&path, &f.leader.token).await).await;
    assert_eq!(now["lane"], "Ngõ 5");
    assert_eq!(now["version"], 2);
}

async fn invalid_households_are_refused_field_by_field_and_nothing_is_written(app: TestApp) {
    let f = app.fixture().await;
    let residents: Vec<Value> = (0..31)
        .map(|i| json!({"full_name": format!("Người {i}")}))
        .collect();
    let bad = json!({
        "village_id": f.v1, "head_name": "", "phone": "12345", "lane": "x".repeat(61),
        "residents": [{"full_name": "Lê Văn Tám", "birth_year": 2100}, {"full_name": " "}],
    });
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/households",
            Some(&f.leader.token),
            Some(&bad),
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
        .map(|e| e["field"].as_str().expect("f"))
        .collect();
    for expected in [
        "head_name",
        "phone",
        "lane",
        "residents[0].birth_year",
        "residents[1].full_name",
    ] {
        assert!(fields.contains(&expected), "{expected} in {fields:?}");
    }
    let many = json!({"village_id": f.v1, "head_name": "Lê Văn Tám", "residents": residents});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/households",
            Some(&f.leader.token),
            Some(&many),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let page = body(app.get_authed("/api/v1/households", &f.leader.token).await).await;
    assert_eq!(page["items"], json!([]));
    let n: i64 = tungnha::db::schema::residents::table
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(n, 0);
}

async fn leaders_correct_adoption_with_an_audit_trail_and_follow_up_lists_follow(app: TestApp) {
    let f = app.fixture().await;
    let h = create_household(&app, &f.leader.token, &f.v1, "Nguyễn Văn Đức",
        json!([{"full_name": "Nguyễn Văn Đức", "birth_year": 1958}, {"full_name": "Nguyễn Thị Hoa", "birth_year": 1962}, {"full_name": "Nguyễn Văn Bé", "birth_year": 2020}])).await;
    create_household(&app, &f.leader.token, &f.v1, "Trần Văn Khác", json!([])).await;
    let id = h["id"].as_str().expect("id");
    let resident = |name: &str| {
        h["residents"]
            .as_array()
            .expect("r")
            .iter()
            .find(|r| r["full_name"] == name)
            .expect("resident")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (duc, hoa) = (resident("Nguyễn Văn Đức"), resident("Nguyễn Thị Hoa"));
    let path = format!("/api/v1/households/{id}/adoption");
    // The child (born 2020) is below VNeID's age; the two adults are missing it.
    assert_eq!(
        missing_vneid(&app, &f.leader.token).await,
        ["Nguyễn Văn Đức"]
    );

    let correct = |status: &'static str, who: String, token: String| {
        let app = &app;
        let path = path.clone();
        async move {
            app.send(Method::PATCH, &path, Some(&token), Some(&json!({"items": [{"service_code": "vneid_level2", "resident_id": who, "status": status, "note": "Đã kích hoạt tại nhà"}]}))).await
        }
    };
    assert_problem(
        correct("done", duc.clone(), f.volunteer.token.clone()).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_eq!(
        correct("done", duc.clone(), f.leader.token.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        missing_vneid(&app, &f.leader.token).await,
        ["Nguyễn Văn Đức"],
        "Hoa still needs it"
    );
    let res = correct("done", hoa.clone(), f.leader.token.clone()).await;
    let ledger = body(res).await;
    assert_eq!(ledger["items"].as_array().expect("items").len(), 2);
    assert_eq!(ledger["items"][0]["source"], "correction");
    assert_eq!(
        missing_vneid(&app, &f.leader.token).await,
        Vec::<String>::new()
    );

    let events = body(
        app.get_authed(
            &format!("/api/v1/audit-events?action=adoption_corrected&object_id={id}"),
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(events["items"].as_array().expect("items").len(), 2);
    assert_eq!(events["items"][0]["details"]["after"], "done");

    // A correction of a later mistake keeps the previous value in the audit log.
    correct("declined", hoa.clone(), f.leader.token.clone()).await;
    let events = body(
        app.get_authed(
            &format!("/api/v1/audit-events?action=adoption_corrected&object_id={id}&limit=1"),
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(events["items"][0]["details"]["before"], "done");
    assert_eq!(events["items"][0]["details"]["after"], "declined");

    // Person-level services need a resident of this household; household-level ones refuse one.
    let bad = json!({"items": [
        {"service_code": "vneid_level2", "status": "done"},
        {"service_code": "cashless_tuition", "resident_id": duc, "status": "done"},
        {"service_code": "no_such_service", "status": "done"},
    ]});
    let problem = assert_problem(
        app.send(Method::PATCH, &path, Some(&f.leader.token), Some(&bad))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"].as_array().expect("errors").len(), 3);

    // Summary in the list.
    let page = body(
        app.get_authed(
            &format!("/api/v1/households?village_id={}", f.v1),
            &f.leader.token,
        )
        .await,
    )
    .await;
    let row = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["id"] == id)
        .expect("row")
        .clone();
    assert_eq!(row["adoption_summary"], json!({"declined": 1, "done": 1}));
    assert_eq!(row["residents_count"], 3);
    let never = body(
        app.get_authed(
            "/api/v1/households?not_visited_since=2026-01-01",
            &f.leader.token,
        )
        .await,
    )
    .await;
    assert_eq!(
        never["items"].as_array().expect("items").len(),
        2,
        "never-visited households are listed"
    );
}

async fn a_deleted_household_disappears_and_leaves_tombstones_for_sync(app: TestApp) {
    let f = app.fixture().await;
    let h = create_household(
        &app,
        &f.leader.token,
        &f.v1,
        "Nguyễn Văn Đức",
        json!([{"full_name": "Nguyễn Thị Hoa"}]),
    )
    .await;
    let path = format!("/api/v1/households/{}", h["id"].as_str().expect("id"));
    assert_problem(
        app.send(Method::DELETE, &path, Some(&f.volunteer.token), None)
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&f.leader.token), None)
            .await
            .status(),
        204
    );
    assert_problem(
        app.get_authed(&path, &f.leader.token).await,
        404,
        "household_not_found",
    )
    .await;
    assert_eq!(
        body(app.get_authed("/api/v1/households", &f.leader.token).await).await["items"],
        json!([])
    );
    use tungnha::db::schema::changes::dsl as c;
    let ops: Vec<(String, String)> = c::changes
        .filter(c::kind.eq_any(["household", "resident"]))
        .select((c::kind, c::op))
        .order(c::seq)
        .load(&mut app.conn())
        .expect("changes");
    assert_eq!(
        ops,
        [
            ("household", "upsert"),
            ("resident", "upsert"),
            ("household", "delete"),
            ("resident", "delete")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
}

async fn teams_are_managed_by_the_culture_social_office_and_village_leaders(app: TestApp) {
    let f = app.fixture().await;
    let commune_team = json!({"name": "Tổ CNSCĐ xã Mao Điền", "decision_number": "112/QĐ-UBND", "decision_date": "2026-09-25"});
    let res = app
        .send(
            Method::POST,
            "/api/v1/teams",
            Some(&f.culture_social.token),
            Some(&commune_team),
        )
        .await;
    assert_eq!(res.status(), 201);
    let team = body(res).await;
    assert_eq!(team["village_id"], Value::Null);
    assert_eq!(team["commune_id"], f.commune.as_str());
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/teams",
            Some(&f.leader.token),
            Some(&commune_team),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let v2_team = json!({"village_id": f.v2, "name": "Tổ thôn 2", "decision_number": "116/QĐ-UBND", "decision_date": "2026-09-25"});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/teams",
            Some(&f.leader.token),
            Some(&v2_team),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;

    let reg = app.registry_fixture(&f).await;
    let members = format!("/api/v1/teams/{}/members", reg.team);
    let linked = json!({"full_name": "Người Dùng Thử", "position": "deputy", "origin": "youth_union", "user_id": f.volunteer.id,
                        "phone": "+84 912 000 111", "active_from": "2026-10-01"});
    let res = app
        .send(Method::POST, &members, Some(&f.leader.token), Some(&linked))
        .await;
    assert_eq!(res.status(), 201);
    let m = body(res).await;
    assert_eq!(m["phone"], "0912000111");
    assert_eq!(m["user_id"], f.volunteer.id.as_str());
    let bad = json!({"full_name": "X", "position": "member", "origin": "volunteer", "user_id": f.other_leader.id,
                     "active_from": "2026-10-01", "active_until": "2026-09-01"});
    let problem = assert_problem(
        app.send(Method::POST, &members, Some(&f.leader.token), Some(&bad))
            .await,
        400,
        "validation_failed",
    )
    .await;
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .expect("e")
        .iter()
        .map(|e| e["code"].as_str().expect("c"))
        .collect();
    assert_eq!(codes, ["unknown_user", "before_start"]);

    let res = app
        .send(
            Method::PATCH,
            &format!("{members}/{}", reg.member),
            Some(&f.leader.token),
            Some(&json!({"position": "leader", "active_until": "2026-12-31"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await["active_until"], "2026-12-31");
    let list = body(app.get_authed(&members, &f.volunteer.token).await).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    assert_problem(
        app.send(
            Method::POST,
            &members,
            Some(&f.volunteer.token),
            Some(&linked),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let teams = body(app.get_authed("/api/v1/teams", &f.volunteer_v2.token).await).await;
    let names: Vec<&str> = teams["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["name"].as_str().expect("n"))
        .collect();
    assert_eq!(
        names,
        ["Tổ CNSCĐ xã Mao Điền"],
        "a volunteer of v2 sees the commune team, not v1's"
    );
}

async fn the_service_catalogue_is_seeded_and_edited_by_admins_without_code(app: TestApp) {
    let f = app.fixture().await;
    let list = body(app.get_authed("/api/v1/services", &f.volunteer.token).await).await;
    let codes: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["code"].as_str().expect("c"))
        .collect();
    assert_eq!(codes.len(), 16);
    for code in [
        "vneid_level2",
        "public_service_portal",
        "online_fee_payment",
        "payment_account",
        "smart_haiphong",
        "electronic_health_record",
        "cashless_hospital_fees",
        "cashless_tuition",
        "digital_signature",
        "e_wallet",
        "e_commerce",
        "traceability",
        "ocop_ecommerce",
        "land_procedures",
        "cashless_social_security",
        "information_portals",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    let vneid = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["code"] == "vneid_level2")
        .expect("vneid")
        .clone();
    assert_eq!(vneid["department"], "police");
    assert_eq!(vneid["name_vi"], "Định danh điện tử VNeID mức 2");

    let new = json!({"code": "zalo_official", "name_vi": "Zalo OA của xã", "name_en": "Commune Zalo Official Account",
                     "department": "culture_social", "level": "person", "min_age": 15});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/services",
            Some(&f.chairman.token),
            Some(&new),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/services",
            Some(&f.admin.token),
            Some(&new),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/services",
            Some(&f.admin.token),
            Some(&new),
        )
        .await,
        409,
        "code_taken",
    )
    .await;
    let path = format!("/api/v1/services/{}", created["id"].as_str().expect("id"));
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.admin.token),
            Some(&json!({"name_vi": "Zalo OA xã Mao Điền", "retired": true})),
        )
        .await;
    let changed = body(res).await;
    assert_eq!(
        (changed["name_vi"].as_str(), changed["retired"].as_bool()),
        (Some("Zalo OA xã Mao Điền"), Some(true))
    );
    let active = body(app.get_authed("/api/v1/services", &f.volunteer.token).await).await;
    assert_eq!(active["items"].as_array().expect("items").len(), 16);
    let all = body(
        app.get_authed("/api/v1/services?include_retired=true", &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(all["items"].as_array().expect("items").len(), 17);
    let bad = json!({"code": "x y", "name_vi": "", "name_en": "X", "department": "police", "level": "person", "min_age": 200});
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/services",
            Some(&f.admin.token),
            Some(&bad),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"].as_array().expect("errors").len(), 3);
}

async fn communes_and_villages_are_managed_by_admins_and_read_in_scope(app: TestApp) {
    let f = app.fixture().await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/communes",
            Some(&f.admin.token),
            Some(&json!({"code": "31-12345", "name": "Xã Cẩm Giàng", "province": "Hải Phòng"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let commune = body(res).await;
    let cid = commune["id"].as_str().expect("id");
    let village = json!({"commune_id": cid, "code": "T01", "name": "Thôn Đông"});
    assert_eq!(
        app.send(
            Method::POST,
            "/api/v1/villages",
            Some(&f.admin.token),
            Some(&village)
        )
        .await
        .status(),
        201
    );
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/villages",
            Some(&f.admin.token),
            Some(&village),
        )
        .await,
        409,
        "code_taken",
    )
    .await;
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/villages",
            Some(&f.chairman.token),
            Some(&village),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    let unknown = json!({"commune_id": "no-such", "code": "T09", "name": "Thôn Ma"});
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/villages",
            Some(&f.admin.token),
            Some(&unknown),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;

    let mine = body(app.get_authed("/api/v1/communes", &f.chairman.token).await).await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    assert_eq!(mine["items"][0]["name"], "Mao Điền");
    let all = body(app.get_authed("/api/v1/communes", &f.admin.token).await).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 3);
    let villages = body(app.get_authed("/api/v1/villages", &f.volunteer.token).await).await;
    let names: Vec<&str> = villages["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v["name"].as_str().expect("n"))
        .collect();
    assert_eq!(names.len(), 2, "the commune's villages: {names:?}");
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/villages/{}", f.v1),
            Some(&f.admin.token),
            Some(&json!({"name": "Thôn Phú Lộc Mới"})),
        )
        .await;
    assert_eq!(body(res).await["name"], "Thôn Phú Lộc Mới");
    assert_problem(
        app.get_authed(&format!("/api/v1/communes/{cid}"), &f.chairman.token)
            .await,
        404,
        "commune_not_found",
    )
    .await;
}

async fn seed_demo_builds_a_usable_commune_once(app: TestApp) {
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tungnha"))
            .args(["seed-demo", "--households", "60"])
            .env("TUNGNHA_DATABASE_URL", app.db.url_string())
            .env("TUNGNHA_CONFIG_DIR", app.db.dir.path())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    };
    let first = run();
    assert!(first.contains("60 households"), "{first}");
    assert!(
        first.contains("chutich") && first.contains(tungnha::seed::DEMO_PASSWORD),
        "{first}"
    );
    let count = |app: &TestApp| -> (i64, i64) {
        let mut c = app.conn();
        let h = tungnha::db::schema::households::table
            .count()
            .get_result(&mut c)
            .expect("h");
        let u = tungnha::db::schema::users::table
            .count()
            .get_result(&mut c)
            .expect("u");
        (h, u)
    };
    let before = count(&app);
    let second = run();
    assert!(second.contains("already there"), "{second}");
    assert_eq!(count(&app), before, "a second run adds nothing");
    assert_eq!(before.0, 60);

    let login = app
        .login("tinhnguyen.phuloc", tungnha::seed::DEMO_PASSWORD)
        .await;
    let token = login["access_token"].as_str().expect("token");
    let page = body(app.get_authed("/api/v1/households?limit=200", token).await).await;
    let villages: std::collections::BTreeSet<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["village_id"].as_str().expect("v"))
        .collect();
    assert_eq!(villages.len(), 1, "the volunteer sees Phú Lộc only");
    assert_eq!(page["items"].as_array().expect("items").len(), 10);
    let names = page.to_string();
    assert!([
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Đinh",
        "Phan", "Lương"
    ]
    .iter()
    .any(|n| names.contains(n)));
    let teams = body(app.get_authed("/api/v1/teams", token).await).await;
    assert_eq!(
        teams["items"].as_array().expect("items").len(),
        2,
        "the commune team and Phú Lộc's"
    );
    // A starter guide for every service of the catalogue, published, and on the volunteer's phone.
    let guides = body(app.get_authed("/api/v1/materials", token).await).await;
    let mut covered: Vec<String> = guides["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| {
            assert_eq!(g["status"], "published");
            assert!(g["body"].as_str().expect("body").contains("## "));
            g["service_codes"][0].as_str().expect("code").to_owned()
        })
        .collect();
    covered.sort();
    let services = body(app.get_authed("/api/v1/services", token).await).await;
    let mut catalogue: Vec<String> = services["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["code"].as_str().expect("code").to_owned())
        .collect();
    catalogue.sort();
    assert_eq!(covered, catalogue);
    app.settle().await;
    let pulled = body(app.get_authed("/api/v1/sync/pull?limit=5000", token).await).await;
    let on_phone = pulled["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["kind"] == "material" && c["op"] == "upsert")
        .count();
    assert_eq!(on_phone, catalogue.len());
}
