//! Indicator figures against values computed by hand on a small fixed commune: period boundaries at
//! local midnight, a resident who turns 18 during the year, unknown birth years, a superseded record,
//! village scope, per-volunteer counts, the missing lists and their personal-data rules.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, Fixture, TestApp};

both_backends!(
    seeded_indicators_match_hand_computed_figures,
    missing_lists_follow_scope_and_personal_data_rules,
    missing_lists_go_by_address_with_the_household_head,
    administrators_add_indicators_that_are_computed_at_once,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Creates a household with residents `(name, birth year)`; returns (household, resident ids).
pub async fn home(
    app: &TestApp,
    token: &str,
    village: &str,
    people: &[(&str, Option<i32>)],
) -> (String, Vec<String>) {
    let residents: Vec<Value> = people
        .iter()
        .map(|(name, year)| json!({"full_name": name, "birth_year": year}))
        .collect();
    let res = app
        .send(
            Method::POST,
            "/api/v1/households",
            Some(token),
            Some(&json!({"village_id": village, "head_name": people[0].0, "residents": residents})),
        )
        .await;
    let status = res.status();
    let h = body(res).await;
    assert_eq!(status, 201, "{h}");
    let ids = h["residents"]
        .as_array()
        .expect("residents")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    (h["id"].as_str().expect("id").to_owned(), ids)
}

pub fn visit(household: &str, who: &[&str], at: &str, channel: &str, items: Value) -> Value {
    json!({"kind": "assistance_record", "id": id(), "op": "create", "data": {
        "household_id": household, "resident_ids": who, "occurred_at": at,
        "channel": channel, "items": items}})
}

pub async fn push(app: &TestApp, token: &str, records: Vec<Value>) {
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(token),
            Some(&json!({"device_id": "phone", "records": records})),
        )
        .await;
    let answer = body(res).await;
    for r in answer["results"].as_array().expect("results") {
        assert_eq!(r["status"], "applied", "{answer}");
    }
}

pub struct Commune {
    pub f: Fixture,
    /// Đức 1958, Bình 2008 (18 in 2026), Cúc 2015, Dũng (no birth year) in v1.
    pub h1: (String, Vec<String>),
    /// Em 1990, Phúc 1970 in v1.
    pub h2: (String, Vec<String>),
    /// Giang 1980 in v2.
    pub h3: (String, Vec<String>),
}

/// The fixed data set; every figure below is counted from it by hand.
pub async fn commune(app: &TestApp) -> Commune {
    let f = app.fixture().await;
    let leader_v2 = app.insert_user(
        "truong.thon2",
        "village_leader",
        None,
        Some(&f.commune),
        &[&f.v2],
    );
    let leader_v2 = app.account(leader_v2, "truong.thon2").await;
    let h1 = home(
        app,
        &f.leader.token,
        &f.v1,
        &[
            ("Nguyễn Văn Đức", Some(1958)),
            ("Nguyễn Thị Bình", Some(2008)),
            ("Nguyễn Văn Cúc", Some(2015)),
            ("Nguyễn Văn Dũng", None),
        ],
    )
    .await;
    let h2 = home(
        app,
        &f.leader.token,
        &f.v1,
        &[("Trần Văn Em", Some(1990)), ("Trần Thị Phúc", Some(1970))],
    )
    .await;
    let h3 = home(
        app,
        &leader_v2.token,
        &f.v2,
        &[("Lê Văn Giang", Some(1980))],
    )
    .await;
    let vneid = |outcome: &str| json!([{"service_code": "vneid_level2", "outcome": outcome}]);
    let wrong = visit(
        &h2.0,
        &[&h2.1[0]],
        "2026-11-10T02:00:00Z",
        "house_visit",
        vneid("done"),
    );
    push(
        app,
        &f.volunteer.token,
        vec![
            // 23:59:59 on 30 September in Vietnam: the third quarter.
            visit(
                &h1.0,
                &[&h1.1[0]],
                "2026-09-30T16:59:59Z",
                "house_visit",
                vneid("done"),
            ),
            // Midnight on 1 October in Vietnam: the fourth quarter.
            visit(
                &h1.0,
                &[&h1.1[1]],
                "2026-09-30T17:00:00Z",
                "house_visit",
                vneid("done"),
            ),
            wrong.clone(),
            visit(
                &h2.0,
                &[&h2.1[1]],
                "2026-11-12T03:00:00Z",
                "commune_office",
                json!([
                {"service_code": "public_service_portal", "outcome": "done"},
                {"service_code": "vneid_level2", "outcome": "declined"}]),
            ),
        ],
    )
    .await;
    // Em's visit was logged wrong: he was helped, not done.
    let mut fix = visit(
        &h2.0,
        &[&h2.1[0]],
        "2026-11-10T02:00:00Z",
        "house_visit",
        vneid("assisted"),
    );
    fix["data"]["supersedes"] = wrong["id"].clone();
    push(app, &f.volunteer.token, vec![fix]).await;
    push(
        app,
        &f.volunteer_v2.token,
        vec![visit(
            &h3.0,
            &[&h3.1[0]],
            "2026-10-05T01:00:00Z",
            "house_visit",
            vneid("done"),
        )],
    )
    .await;
    Commune { f, h1, h2, h3 }
}

pub async fn figures(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get_authed(&format!("/api/v1/stats/indicators?{query}"), token)
        .await;
    assert_eq!(res.status(), 200);
    body(res).await
}

pub fn item<'a>(figures: &'a Value, code: &str) -> &'a Value {
    figures["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["indicator"]["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {figures}"))
}

/// (numerator, denominator, percent) of a figure.
pub fn nd(f: &Value) -> (i64, Option<i64>, Option<f64>) {
    (
        f["numerator"].as_i64().expect("numerator"),
        f["denominator"].as_i64(),
        f["percent"].as_f64(),
    )
}

async fn seeded_indicators_match_hand_computed_figures(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let q4 = "period=quarter&date=2026-11-20";

    // The chairman: the whole commune.
    let all = figures(&app, &f.chairman.token, q4).await;
    assert_eq!(all["period"]["label"], "2026-Q4");
    assert_eq!(all["period"]["start"], "2026-10-01");
    assert_eq!(all["period"]["last_day"], "2026-12-31");
    assert_eq!(all["previous_period"]["label"], "2026-Q3");
    let vneid = item(&all, "adults_vneid_level2");
    // Adults: Đức, Bình (18 in 2026), Em, Phúc, Giang; Cúc is 11; Dũng has no birth year.
    // Done: Đức (Q3), Bình (1 October), Giang. Em's done was superseded by "assisted"; Phúc declined.
    assert_eq!(nd(&vneid["current"]), (3, Some(5), Some(60.0)));
    assert_eq!(vneid["current"]["unknown_age"], 1);
    // At the end of Q3 only Đức was done: Bình's visit came at local midnight of 1 October.
    assert_eq!(nd(&vneid["previous"]), (1, Some(5), Some(20.0)));
    assert_eq!(vneid["trend_points"], 40.0);
    // Households visited in Q4: H1 (1 October), H2 (the correction), H3; Phúc's office visit is not a
    // house visit. In Q3: H1 only.
    let visited = item(&all, "households_visited");
    assert_eq!(nd(&visited["current"]), (3, Some(3), Some(100.0)));
    assert_eq!(nd(&visited["previous"]), (1, Some(3), Some(33.3)));
    // A count: Phúc's online dossier.
    let dossiers = item(&all, "public_service_dossiers_assisted");
    assert_eq!(nd(&dossiers["current"]), (1, None, None));
    assert_eq!(nd(&dossiers["previous"]), (0, None, None));
    // Nobody has a health record: everyone alive counts, whatever the age, except no one.
    let health = item(&all, "population_health_record");
    assert_eq!(nd(&health["current"]), (0, Some(7), Some(0.0)));

    // In 2025 Bình was 17, and nobody was done yet.
    let y2025 = figures(&app, &f.chairman.token, "period=year&date=2025-06-01").await;
    assert_eq!(
        nd(&item(&y2025, "adults_vneid_level2")["current"]),
        (0, Some(4), Some(0.0))
    );

    // Per village, with names.
    let by_village = figures(&app, &f.chairman.token, &format!("{q4}&group_by=village")).await;
    let groups = item(&by_village, "adults_vneid_level2")["groups"]
        .as_array()
        .expect("groups")
        .clone();
    let v1 = groups
        .iter()
        .find(|g| g["id"] == f.v1.as_str())
        .expect("v1");
    let v2 = groups
        .iter()
        .find(|g| g["id"] == f.v2.as_str())
        .expect("v2");
    assert_eq!(nd(&v1["current"]), (2, Some(4), Some(50.0)));
    assert_eq!(nd(&v1["previous"]), (1, Some(4), Some(25.0)));
    assert_eq!(nd(&v2["current"]), (1, Some(1), Some(100.0)));
    assert_eq!(v2["name"], "Thôn Mao Điền");

    // The same figures as a file for Excel, audited.
    let res = app
        .get_authed(
            &format!("/api/v1/stats/indicators?{q4}&group_by=village&format=csv&codes=adults_vneid_level2"),
            &f.chairman.token,
        )
        .await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "\u{feff}STT,Chỉ tiêu,Đơn vị phụ trách,Phạm vi,Đạt,Tổng số,Tỷ lệ (%),Kỳ trước (%),Tăng/giảm (điểm %),Mục tiêu (%)",
            "1,Người trưởng thành (từ 18 tuổi) có định danh điện tử VNeID mức 2,Công an xã,Toàn bộ phạm vi,3,5,60.0,20.0,40.0,100.0",
            "1,Người trưởng thành (từ 18 tuổi) có định danh điện tử VNeID mức 2,Công an xã,Thôn Phú Lộc,2,4,50.0,25.0,25.0,100.0",
            "1,Người trưởng thành (từ 18 tuổi) có định danh điện tử VNeID mức 2,Công an xã,Thôn Mao Điền,1,1,100.0,0.0,100.0,100.0",
        ]
    );
    let audit = body(
        app.get_authed("/api/v1/audit-events?action=export", &f.admin.token)
            .await,
    )
    .await;
    assert_eq!(
        audit["items"][0]["object_type"], "indicator_figures",
        "{audit}"
    );

    // The village leader of v1 sees v1 only, even when asking for the commune.
    let leader = figures(&app, &f.leader.token, q4).await;
    assert_eq!(leader["village_ids"], json!([f.v1]));
    assert_eq!(
        nd(&item(&leader, "adults_vneid_level2")["current"]),
        (2, Some(4), Some(50.0))
    );
    let res = app
        .get_authed(
            &format!("/api/v1/stats/indicators?{q4}&village_id={}", f.v2),
            &f.leader.token,
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // Per volunteer: done in Q4 by each one's records (Bình; Giang), houses visited.
    let by_volunteer = figures(&app, &f.chairman.token, &format!("{q4}&group_by=volunteer")).await;
    let people: Vec<(String, i64)> = item(&by_volunteer, "adults_vneid_level2")["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["id"].as_str().expect("id").to_owned(),
                g["current"]["numerator"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(people.len(), 2, "{people:?}");
    assert!(people.contains(&(f.volunteer.id.clone(), 1)));
    assert!(people.contains(&(f.volunteer_v2.id.clone(), 1)));
    let visits: Vec<i64> = item(&by_volunteer, "households_visited")["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["current"]["numerator"].as_i64().expect("n"))
        .collect();
    assert_eq!(visits, [2, 1]);

    // The police sees its own indicator first.
    let police = figures(&app, &f.police.token, q4).await;
    assert_eq!(police["items"][0]["indicator"]["department"], "police");
    assert_eq!(police["items"][0]["own"], true);
}

/// The economy office: a department that reads figures but no names.
async fn economy_office(app: &TestApp, f: &Fixture) -> crate::helpers::Account {
    let id = app.insert_user(
        "kinh.te",
        "department",
        Some("economy"),
        Some(&f.commune),
        &[],
    );
    app.account(id, "kinh.te").await
}

/// A leader hands the list to a volunteer: it runs by hamlet, lane and house number (a household
/// without an address first), says whose household each resident lives in, pages in that order,
/// and a role without personal data gets the village and hamlet but not the lane, number or head.
async fn missing_lists_go_by_address_with_the_household_head(app: TestApp) {
    let f = app.fixture().await;
    let create = |hamlet: Option<&str>, lane: Option<&str>, number: Option<&str>, head: &str| {
        json!({"village_id": f.v1, "head_name": head, "hamlet": hamlet, "lane": lane,
               "house_number": number, "residents": [{"full_name": head, "birth_year": 1980}]})
    };
    // Created out of order; the list must not follow creation (the ids' order).
    let homes = [
        create(Some("Xóm Đông"), Some("Ngõ 2"), Some("5"), "Phạm Văn Hải"),
        create(Some("Xóm Bắc"), Some("Ngõ 7"), Some("1"), "Đỗ Thị Lan"),
        create(None, None, None, "Vũ Văn Khánh"),
        create(Some("Xóm Bắc"), Some("Ngõ 1"), Some("9"), "Hoàng Văn Minh"),
        create(Some("Xóm Đông"), Some("Ngõ 2"), Some("3"), "Bùi Thị Ngọc"),
    ];
    for h in &homes {
        let res = app
            .send(
                Method::POST,
                "/api/v1/households",
                Some(&f.leader.token),
                Some(h),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let want = [
        "Vũ Văn Khánh",
        "Hoàng Văn Minh",
        "Đỗ Thị Lan",
        "Bùi Thị Ngọc",
        "Phạm Văn Hải",
    ];
    let path = format!(
        "/api/v1/stats/indicators/adults_vneid_level2/missing?period=quarter&date=2026-11-20&village_id={}",
        f.v1
    );
    let list = body(app.get_authed(&path, &f.leader.token).await).await;
    let items = list["items"].as_array().expect("items");
    let heads: Vec<&str> = items
        .iter()
        .map(|i| i["head_name"].as_str().expect("head"))
        .collect();
    assert_eq!(heads, want, "{list}");
    let first = &items[1];
    assert_eq!(first["name"], "Hoàng Văn Minh");
    assert_eq!(first["hamlet"], "Xóm Bắc");
    assert_eq!(first["lane"], "Ngõ 1");
    assert_eq!(first["house_number"], "9");
    assert_eq!(first["village_name"], "Thôn Phú Lộc");

    // Pages of two follow the same order.
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit=2&cursor={c}"),
            None => format!("{path}&limit=2"),
        };
        let page = body(app.get_authed(&url, &f.leader.token).await).await;
        for i in page["items"].as_array().expect("items") {
            paged.push(i["head_name"].as_str().expect("head").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, want);
    // A cursor this server did not give is refused, whatever it decodes to.
    assert_problem(
        app.get_authed(&format!("{path}&cursor=bm90LWEta2V5"), &f.leader.token)
            .await,
        400,
        "validation_failed",
    )
    .await;

    // The file has the same rows in the same order, with the address.
    let csv = app
        .get_authed(&format!("{path}&format=csv"), &f.leader.token)
        .await
        .text()
        .await
        .expect("csv");
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(
        lines[1],
        "Người dân,Thôn Phú Lộc,Xóm Bắc,Ngõ 1,9,Hoàng Văn Minh,Hoàng Văn Minh,1980,Chưa rõ"
    );
    let in_file: Vec<&str> = lines
        .iter()
        .map(|l| l.split(',').nth(5).expect("head column"))
        .collect();
    assert_eq!(in_file, want);

    // Without personal data: where, but not which house or whose.
    let economy = economy_office(&app, &f).await;
    let list = body(app.get_authed(&path, &economy.token).await).await;
    let first = &list["items"][1];
    assert_eq!(first["hamlet"], "Xóm Bắc");
    assert_eq!(first["lane"], Value::Null);
    assert_eq!(first["house_number"], Value::Null);
    assert_eq!(first["head_name"], Value::Null);
    assert_eq!(first["personal_data_redacted"], true);
}

async fn missing_lists_follow_scope_and_personal_data_rules(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let path =
        "/api/v1/stats/indicators/adults_vneid_level2/missing?period=quarter&date=2026-11-20";
    let list = body(app.get_authed(path, &f.leader.token).await).await;
    let rows: Vec<(String, String, String)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().expect("id").to_owned(),
                i["name"].as_str().expect("name").to_owned(),
                i["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect();
    let mut expected = vec![
        (
            c.h2.1[0].clone(),
            "Trần Văn Em".to_owned(),
            "assisted".to_owned(),
        ),
        (
            c.h2.1[1].clone(),
            "Trần Thị Phúc".to_owned(),
            "declined".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(rows, expected);
    // Đức and Bình are done, Cúc is a child, Dũng's age is unknown: nobody of H1 is listed.
    assert!(!rows.iter().any(|r| c.h1.1.contains(&r.0)));

    // Pages of one.
    let first = body(
        app.get_authed(&format!("{path}&limit=1"), &f.leader.token)
            .await,
    )
    .await;
    assert_eq!(first["items"][0]["id"], expected[0].0.as_str());
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = body(
        app.get_authed(&format!("{path}&limit=1&cursor={cursor}"), &f.leader.token)
            .await,
    )
    .await;
    assert_eq!(second["items"][0]["id"], expected[1].0.as_str());

    // The volunteer of v2 sees v2, where nobody is missing.
    let v2 = body(app.get_authed(path, &f.volunteer_v2.token).await).await;
    assert_eq!(v2["items"], json!([]));

    // Households not visited in Q3: H2 and H3.
    let q3 = body(
        app.get_authed(
            "/api/v1/stats/indicators/households_visited/missing?period=quarter&date=2026-08-01",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    let mut unvisited: Vec<&str> = q3["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    unvisited.sort();
    let mut want = vec![c.h2.0.as_str(), c.h3.0.as_str()];
    want.sort();
    assert_eq!(unvisited, want);

    // A department without a need for names gets the list without them.
    let economy = economy_office(&app, f).await;
    let redacted = body(app.get_authed(path, &economy.token).await).await;
    assert_eq!(redacted["items"].as_array().expect("items").len(), 2);
    assert_eq!(redacted["items"][0]["name"], Value::Null);
    assert_eq!(redacted["items"][0]["personal_data_redacted"], true);
    // The police reads names, and that read is audited.
    let police = body(app.get_authed(path, &f.police.token).await).await;
    assert_eq!(police["items"][0]["name"], expected[0].1.as_str());
    let audit = body(
        app.get_authed(
            "/api/v1/audit-events?action=personal_data_read&object_id=adults_vneid_level2",
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert!(
        !audit["items"].as_array().expect("items").is_empty(),
        "{audit}"
    );

    // The whole list as files: CSV with BOM for Excel, XLSX; names only where allowed; audited.
    let res = app
        .get_authed(&format!("{path}&format=csv"), &f.leader.token)
        .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("con-thieu-adults_vneid_level2-2026-Q4.csv")));
    let csv = res.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "\u{feff}Loại,Thôn,Xóm,Ngõ,Số nhà,Chủ hộ,Họ và tên,Năm sinh,Tình trạng"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        csv.contains("Trần Văn Em,1990,\"Đã được hỗ trợ, chưa hoàn thành\""),
        "{csv}"
    );
    assert!(
        csv.contains("Thôn Phú Lộc,,,,Trần Văn Em,Trần Thị Phúc,1970,Từ chối"),
        "{csv}"
    );
    let res = app
        .get_authed(&format!("{path}&format=xlsx"), &economy.token)
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.expect("xlsx").to_vec();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("xlsx");
    let sheet = book.worksheet_range("Danh sách còn thiếu").expect("sheet");
    assert_eq!(sheet.height(), 3);
    assert_eq!(
        sheet.get_value((0, 6)),
        Some(&Data::String("Họ và tên".into()))
    );
    assert_eq!(sheet.get_value((1, 6)), Some(&Data::Empty));
    assert_eq!(
        sheet.get_value((1, 5)),
        Some(&Data::Empty),
        "no head's name"
    );
    assert_eq!(sheet.get_value((1, 7)), Some(&Data::String("1990".into())));
    let exports = body(
        app.get_authed(
            "/api/v1/audit-events?action=export&object_id=adults_vneid_level2",
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(
        exports["items"].as_array().expect("items").len(),
        2,
        "{exports}"
    );

    // A count has nobody missing; an unknown code is 404.
    assert_problem(
        app.get_authed(
            "/api/v1/stats/indicators/public_service_dossiers_assisted/missing",
            &f.chairman.token,
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get_authed("/api/v1/stats/indicators/nope/missing", &f.chairman.token)
            .await,
        404,
        "indicator_not_found",
    )
    .await;
}

async fn administrators_add_indicators_that_are_computed_at_once(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let new = json!({"code": "adults_e_wallet", "name_vi": "Người trưởng thành có ví điện tử",
        "name_en": "Adults with an e-wallet", "department": "economy", "kind": "adoption",
        "service_code": "e_wallet", "min_age": 18, "target_percent": 40});
    let res = app
        .send(
            Method::POST,
            "/api/v1/indicators",
            Some(&f.chairman.token),
            Some(&new),
        )
        .await;
    assert_problem(res, 403, "role_not_allowed").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/indicators",
            Some(&f.admin.token),
            Some(&new),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    assert_eq!(created["level"], "person");
    let res = app
        .send(
            Method::POST,
            "/api/v1/indicators",
            Some(&f.admin.token),
            Some(&new),
        )
        .await;
    assert_problem(res, 409, "code_taken").await;
    let mut bad = new.clone();
    bad["code"] = json!("x_visits");
    bad["kind"] = json!("visited");
    bad["target_percent"] = json!(140);
    let res = app
        .send(
            Method::POST,
            "/api/v1/indicators",
            Some(&f.admin.token),
            Some(&bad),
        )
        .await;
    let problem = body(res).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["target_percent", "service_code"], "{problem}");

    // Em gets an e-wallet.
    push(
        &app,
        &f.volunteer.token,
        vec![visit(
            &c.h2.0,
            &[&c.h2.1[0]],
            "2026-11-15T02:00:00Z",
            "house_visit",
            json!([{"service_code": "e_wallet", "outcome": "done"}]),
        )],
    )
    .await;
    let all = figures(
        &app,
        &f.chairman.token,
        "period=quarter&date=2026-11-20&codes=adults_e_wallet",
    )
    .await;
    assert_eq!(all["items"].as_array().expect("items").len(), 1);
    assert_eq!(
        nd(&item(&all, "adults_e_wallet")["current"]),
        (1, Some(5), Some(20.0))
    );

    // Bad edits change nothing.
    let id = created["id"].as_str().expect("id");
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/indicators/{id}"),
            Some(&f.admin.token),
            Some(&json!({"target_percent": 140, "name_vi": "Tên mới"})),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/indicators/0193b000-0000-7000-8000-0000000000ff",
            Some(&f.admin.token),
            Some(&json!({"retired": true})),
        )
        .await;
    assert_problem(res, 404, "indicator_not_found").await;
    let list = body(
        app.get_authed("/api/v1/indicators", &f.chairman.token)
            .await,
    )
    .await;
    let stored = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == id)
        .expect("stored")
        .clone();
    assert_eq!(stored["name_vi"], "Người trưởng thành có ví điện tử");
    assert_eq!(stored["target_percent"], 40.0);

    // Retired, it is no longer computed.
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/indicators/{id}"),
            Some(&f.admin.token),
            Some(&json!({"retired": true})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let all = figures(
        &app,
        &f.chairman.token,
        "period=quarter&date=2026-11-20&codes=adults_e_wallet",
    )
    .await;
    assert_eq!(all["items"], json!([]));
}
