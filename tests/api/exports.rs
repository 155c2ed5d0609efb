//! Exports of field records, communications, difficulties and trainings: scope, personal data, the
//! files themselves, the audit log.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};
use crate::stats::commune;

both_backends!(
    tables_export_in_scope_with_names_only_where_allowed,
    bad_exports_are_refused,
);

async fn csv(app: &TestApp, path: &str, token: &str) -> Vec<Vec<String>> {
    let res = app.get_authed(path, token).await;
    assert_eq!(res.status(), 200, "{path}");
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let bytes = res.bytes().await.expect("bytes");
    assert!(
        bytes.starts_with("\u{FEFF}".as_bytes()),
        "UTF-8 BOM for Excel"
    );
    let mut reader = csv_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect()
}

fn csv_reader(bytes: &[u8]) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
}

fn exports_audited(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    use tungnha::db::schema::audit_events::dsl as a;
    a::audit_events
        .filter(a::action.eq("export"))
        .filter(a::object_type.eq(table))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

async fn tables_export_in_scope_with_names_only_where_allowed(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    let q4 = "from=2026-10-01&to=2026-12-31";
    // Live records of Q4, one row per service: Bình (1), Phúc at the office (2), Em's correction
    // (1), Giang in v2 (1). Em's first record was corrected and is left out; Đức's is in Q3.
    let rows = csv(
        &app,
        &format!("/api/v1/exports/assistance-records?{q4}"),
        &f.chairman.token,
    )
    .await;
    assert_eq!(rows[0][0], "Mã phiếu");
    assert_eq!(rows[0][4], "Chủ hộ");
    assert_eq!(rows.len(), 1 + 5);
    let outcomes: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[6].as_str(), r[7].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        // Services and outcomes by name, as a person reads them (the codes stay in the API).
        [
            ("Định danh điện tử VNeID mức 2", "Đã xong"),
            ("Định danh điện tử VNeID mức 2", "Đã xong"),
            ("Định danh điện tử VNeID mức 2", "Đã hướng dẫn, chưa xong"),
            (
                "Dịch vụ công trực tuyến (Cổng DVC quốc gia và thành phố)",
                "Đã xong"
            ),
            ("Định danh điện tử VNeID mức 2", "Người dân từ chối")
        ]
    );
    assert!(
        rows[1..].iter().any(|r| r[5] == "Tại trụ sở xã")
            && rows[1..].iter().all(|r| !r[5].contains('_')),
        "channels by name: {rows:?}"
    );
    // Vietnam time: Bình's visit at 00:00 on 1 October.
    assert_eq!(rows[1][1], "2026-10-01 00:00");
    assert_eq!(rows[1][2], "Thôn Phú Lộc");
    assert_eq!(rows[1][4], "Nguyễn Văn Đức");
    assert_eq!(exports_audited(&app, "assistance_records"), 1);
    // The economy office sees no names; a volunteer of v2 sees v2 only.
    let economy = app.insert_user(
        "kinh.te",
        "department",
        Some("economy"),
        Some(&f.commune),
        &[],
    );
    let economy = app.account(economy, "kinh.te").await;
    let rows = csv(
        &app,
        &format!("/api/v1/exports/assistance-records?{q4}"),
        &economy.token,
    )
    .await;
    assert_eq!(rows.len(), 6);
    assert!(rows[1..]
        .iter()
        .all(|r| r[4].is_empty() && r[11].is_empty()));
    let rows = csv(
        &app,
        &format!("/api/v1/exports/assistance-records?{q4}"),
        &f.volunteer_v2.token,
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][4], "Lê Văn Giang");

    // Communications, difficulties, trainings.
    crate::stats::push(
        &app,
        &f.culture_social.token,
        vec![
            json!({"kind": "communication", "id": tungnha::db::new_id(), "op": "create", "data": {
            "occurred_at": "2026-11-02T01:00:00Z", "channel": "loudspeaker", "reach": 500,
            "topics": ["vneid_level2", "smart_haiphong"], "title": "Phát thanh VNeID"}}),
        ],
    )
    .await;
    let rows = csv(
        &app,
        &format!("/api/v1/exports/communications?{q4}"),
        &f.leader.token,
    )
    .await;
    assert_eq!(
        rows[1][1..6],
        [
            "Toàn xã",
            "Loa truyền thanh",
            "Định danh điện tử VNeID mức 2, Ứng dụng Smart Hải Phòng",
            "500",
            "Phát thanh VNeID"
        ]
    );
    let res = app
        .send(
            Method::POST,
            "/api/v1/difficulties",
            Some(&f.volunteer.token),
            Some(&json!({"data": {"raised_at": "2026-11-03T01:00:00Z", "village_id": f.v1, "title": "Thiếu máy", "description": "Không có máy tính bảng", "service_codes": []}})),
        )
        .await;
    let d: Value = res.json().await.expect("json");
    let id = d["id"].as_str().expect("id");
    {
        use diesel::prelude::*;
        use tungnha::db::schema::difficulties::dsl as t;
        let at =
            |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("t");
        diesel::update(t::difficulties.find(id))
            .set((
                t::received_at.eq(at("2026-11-03 01:00:00")),
                t::first_answered_at.eq(Some(at("2026-11-03 04:30:00"))),
                t::status.eq("answered"),
            ))
            .execute(&mut app.conn())
            .expect("times");
    }
    let rows = csv(
        &app,
        &format!("/api/v1/exports/difficulties?{q4}"),
        &f.culture_social.token,
    )
    .await;
    assert_eq!(rows[1][0], "2026-11-03");
    assert_eq!(rows[1][1], "Thôn Phú Lộc");
    assert_eq!(rows[1][5], "Đã trả lời");
    assert_eq!(rows[1][8], "3,5");
    let rows = csv(
        &app,
        &format!("/api/v1/exports/difficulties?{q4}"),
        &f.volunteer_v2.token,
    )
    .await;
    assert_eq!(rows.len(), 1, "header only: the difficulty is v1's");
    let res = app
        .send(
            Method::POST,
            "/api/v1/trainings",
            Some(&f.police.token),
            Some(&json!({"topic": "VNeID cho cán bộ thôn", "held_on": "2026-11-10", "place": "Hội trường", "mode": "mixed", "service_codes": ["vneid_level2"]})),
        )
        .await;
    assert_eq!(res.status(), 201);
    // As XLSX: the workbook's cells.
    let res = app
        .get_authed(
            &format!("/api/v1/exports/trainings?{q4}&format=xlsx"),
            &f.chairman.token,
        )
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.expect("bytes").to_vec();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("xlsx");
    let sheet = book.worksheet_range("Tập huấn").expect("sheet");
    assert_eq!(
        sheet.get_value((0, 1)).cloned(),
        Some(Data::String("Chủ đề".into()))
    );
    assert_eq!(
        sheet.get_value((1, 1)).cloned(),
        Some(Data::String("VNeID cho cán bộ thôn".into()))
    );
    assert_eq!(
        sheet.get_value((1, 2)).cloned(),
        Some(Data::String("Công an xã".into()))
    );
    assert_eq!(
        sheet.get_value((1, 4)).cloned(),
        Some(Data::String("Kết hợp".into()))
    );
    assert_eq!(
        sheet.get_value((1, 5)).cloned(),
        Some(Data::String("Định danh điện tử VNeID mức 2".into()))
    );
    for table in ["communications", "difficulties", "trainings"] {
        assert!(exports_audited(&app, table) >= 1, "{table} export audited");
    }
    // Another commune's users export their own commune: nothing of ours.
    let rows = csv(
        &app,
        &format!("/api/v1/exports/assistance-records?{q4}"),
        &f.other_chairman.token,
    )
    .await;
    assert_eq!(rows.len(), 1);
}

async fn bad_exports_are_refused(app: TestApp) {
    let f = app.fixture().await;
    let city = app.insert_user("tp", "city", None, None, &[]);
    let city = app.account(city, "tp").await;
    for table in [
        "assistance-records",
        "communications",
        "difficulties",
        "trainings",
    ] {
        let path = format!("/api/v1/exports/{table}");
        assert_problem(
            app.get_authed(&path, &city.token).await,
            403,
            "personal_data_not_allowed",
        )
        .await;
        assert_problem(
            app.get_authed(
                &format!("{path}?from=2026-12-01&to=2026-11-01"),
                &f.chairman.token,
            )
            .await,
            400,
            "validation_failed",
        )
        .await;
        assert_problem(
            app.get_authed(
                &format!("{path}?commune_id={}", f.commune),
                &f.other_chairman.token,
            )
            .await,
            404,
            "commune_not_found",
        )
        .await;
        assert_problem(
            app.get_authed(&format!("{path}?format=pdf"), &f.chairman.token)
                .await,
            400,
            "invalid_query",
        )
        .await;
    }
    for table in [
        "assistance_records",
        "communications",
        "difficulties",
        "trainings",
    ] {
        assert_eq!(
            exports_audited(&app, table),
            0,
            "a refused export is not logged"
        );
    }
}
