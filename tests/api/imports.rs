use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    a_dry_run_reports_every_bad_row_and_writes_nothing,
    a_commit_with_bad_rows_is_refused_whole,
    a_clean_file_imports_once_and_a_second_import_skips_what_is_there,
    an_exported_list_reopens_with_the_same_content,
    a_disguised_executable_is_refused,
    exports_respect_scope_and_personal_data_rules,
);

const GOOD: &str = "\u{feff}Thôn;Xóm;Ngõ;Số nhà;Chủ hộ;Điện thoại;Họ và tên;Năm sinh;Giới tính;Quan hệ với chủ hộ\r\n\
T01;Xóm Đông;Ngõ 3;12;Nguyễn Văn Đức;0912 345 678;Nguyễn Văn Đức;1958;Nam;Chủ hộ\r\n\
T01;Xóm Đông;Ngõ 3;12;Nguyễn Văn Đức;0912 345 678;Nguyễn Thị Hoa;1962;Nữ;Vợ\r\n\
Thôn Phú Lộc;Xóm Tây;Ngõ 1;4;Trần Thị Ánh;;Trần Thị Ánh;1975;Nữ;Chủ hộ\r\n";

const BAD: &str = "Thôn;Chủ hộ;Điện thoại;Họ và tên;Năm sinh;Giới tính\r\n\
T01;Nguyễn Văn Đức;0912345678;Nguyễn Văn Đức;1958;Nam\r\n\
T01;Lê Văn Sai;12345;Lê Văn Sai;2150;Nam\r\n\
T99;Phạm Văn Xa;;Phạm Văn Xa;1980;Nam\r\n\
T01;Đỗ Thị Tốt;;Đỗ Thị Tốt;1990;Nữ\r\n";

async fn import(app: &TestApp, token: &str, body: &[u8], dry_run: bool) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/imports/households?dry_run={dry_run}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body.to_vec())
        .send()
        .await
        .expect("request")
}

async fn count(app: &TestApp, token: &str) -> usize {
    let page: Value = app
        .get_authed("/api/v1/households?limit=200", token)
        .await
        .json()
        .await
        .expect("json");
    page["items"].as_array().expect("items").len()
}

async fn a_dry_run_reports_every_bad_row_and_writes_nothing(app: TestApp) {
    let f = app.fixture().await;
    let res = import(&app, &f.leader.token, BAD.as_bytes(), true).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["format"], "csv");
    assert_eq!(report["rows"], 4);
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().expect("line"),
                e["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    assert!(errors.contains(&(3, "invalid_phone".into())), "{errors:?}");
    assert!(errors.contains(&(3, "out_of_range".into())), "{errors:?}");
    assert!(
        errors.contains(&(4, "unknown_village".into())),
        "T99 is no village of the leader: {errors:?}"
    );
    assert_eq!(
        report["households"], 2,
        "the two good households would be created"
    );
    assert_eq!(count(&app, &f.leader.token).await, 0);
}

async fn a_commit_with_bad_rows_is_refused_whole(app: TestApp) {
    let f = app.fixture().await;
    let res = import(&app, &f.leader.token, BAD.as_bytes(), false).await;
    let problem = assert_problem(res, 422, "import_has_errors").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("f"))
        .collect();
    assert!(
        fields.iter().any(|f| f.starts_with("rows[3].")),
        "{fields:?}"
    );
    assert_eq!(count(&app, &f.leader.token).await, 0, "all or nothing");
}

async fn a_clean_file_imports_once_and_a_second_import_skips_what_is_there(app: TestApp) {
    let f = app.fixture().await;
    let report: Value = import(&app, &f.leader.token, GOOD.as_bytes(), false)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (report["households"].as_u64(), report["residents"].as_u64()),
        (Some(2), Some(3)),
        "{report}"
    );
    let page: Value = app
        .get_authed(
            "/api/v1/households?q=nguyen%20thi%20hoa",
            &f.volunteer.token,
        )
        .await
        .json()
        .await
        .expect("json");
    let h = &page["items"][0];
    assert_eq!(h["head_name"], "Nguyễn Văn Đức");
    assert_eq!(h["phone"], "0912345678");
    assert_eq!(h["residents_count"], 2);
    let again: Value = import(&app, &f.leader.token, GOOD.as_bytes(), false)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["households"], 0);
    assert_eq!(again["skipped"].as_array().expect("skipped").len(), 2);
    assert_eq!(count(&app, &f.leader.token).await, 2);
    // Volunteers do not import.
    assert_problem(
        import(&app, &f.volunteer.token, GOOD.as_bytes(), true).await,
        403,
        "role_not_allowed",
    )
    .await;
}

async fn an_exported_list_reopens_with_the_same_content(app: TestApp) {
    let f = app.fixture().await;
    let report: Value = import(&app, &f.leader.token, GOOD.as_bytes(), false)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(report["households"], 2);
    for format in ["csv", "xlsx"] {
        let res = app
            .get_authed(
                &format!("/api/v1/exports/households?format={format}"),
                &f.leader.token,
            )
            .await;
        assert_eq!(res.status(), 200);
        let disposition = res
            .headers()
            .get("content-disposition")
            .expect("disposition")
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            disposition.ends_with(&format!(".{format}\"")),
            "{disposition}"
        );
        let bytes = res.bytes().await.expect("bytes");
        if format == "csv" {
            assert!(
                bytes.starts_with("\u{feff}".as_bytes()),
                "UTF-8 BOM for Excel"
            );
            let text = String::from_utf8(bytes.to_vec()).expect("utf8");
            assert!(text.contains("Nguyễn Thị Hoa"));
            // A person reads it: villages by name, households numbered, no database ids.
            assert!(
                text.contains("Thôn Phú Lộc") && text.contains("T01-0001"),
                "{text}"
            );
            let uuid = first_uuid(&text);
            assert!(uuid.is_none(), "an id in the file: {uuid:?}");
        }
        let parsed = tungnha::registry_io::parse(
            &bytes,
            tungnha::registry_io::detect_format(&bytes).expect("format"),
            2026,
        )
        .expect("parse");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let mut people: Vec<(String, String, Option<i32>)> = parsed
            .households
            .iter()
            .flat_map(|h| {
                h.residents
                    .iter()
                    .map(move |r| (h.head_name.clone(), r.full_name.clone(), r.birth_year))
            })
            .collect();
        people.sort();
        assert_eq!(
            people,
            vec![
                ("Nguyễn Văn Đức".into(), "Nguyễn Thị Hoa".into(), Some(1962)),
                ("Nguyễn Văn Đức".into(), "Nguyễn Văn Đức".into(), Some(1958)),
                ("Trần Thị Ánh".into(), "Trần Thị Ánh".into(), Some(1975)),
            ]
        );
        // Importing the export back changes nothing.
        let again: Value = import(&app, &f.leader.token, &bytes, false)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            (
                again["households"].as_u64(),
                again["skipped"].as_array().map(Vec::len)
            ),
            (Some(0), Some(2)),
            "{again}"
        );
    }
    let events: Value = app
        .get_authed("/api/v1/audit-events?action=export", &f.admin.token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        events["items"].as_array().expect("items").len(),
        2,
        "each export is audited"
    );
}

async fn a_disguised_executable_is_refused(app: TestApp) {
    let f = app.fixture().await;
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend_from_slice(&[0u8; 64]);
    assert_problem(
        import(&app, &f.leader.token, &elf, true).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let res = import(
        &app,
        &f.leader.token,
        &vec![b'a'; tungnha::routes::imports::IMPORT_MAX_BYTES + 1],
        true,
    )
    .await;
    assert_problem(res, 413, "payload_too_large").await;
    let res = import(
        &app,
        &f.leader.token,
        "Tên;Tuổi\r\nA;3\r\n".as_bytes(),
        true,
    )
    .await;
    assert_problem(res, 400, "missing_columns").await;
}

async fn exports_respect_scope_and_personal_data_rules(app: TestApp) {
    let f = app.fixture().await;
    import(&app, &f.leader.token, GOOD.as_bytes(), false).await;
    let other = json!({"village_id": f.v2, "head_name": "Hộ Thôn Hai"});
    assert_eq!(
        app.send(
            Method::POST,
            "/api/v1/households",
            Some(&f.volunteer_v2.token),
            Some(&other)
        )
        .await
        .status(),
        201
    );
    let csv = app
        .get_authed("/api/v1/exports/households", &f.volunteer.token)
        .await
        .text()
        .await
        .expect("text");
    assert!(
        csv.contains("Trần Thị Ánh") && !csv.contains("Hộ Thôn Hai"),
        "{csv}"
    );
    let econ = app.insert_user(
        "kinh.te",
        "department",
        Some("economy"),
        Some(&f.commune),
        &[],
    );
    let econ = app.account(econ, "kinh.te").await;
    assert_problem(
        app.get_authed("/api/v1/exports/households", &econ.token)
            .await,
        403,
        "personal_data_not_allowed",
    )
    .await;
    assert_problem(
        app.get_authed("/api/v1/exports/households?format=pdf", &f.leader.token)
            .await,
        400,
        "validation_failed",
    )
    .await;
}

/// The first UUID-shaped word in `text`, if any.
fn first_uuid(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|w| uuid::Uuid::parse_str(w).is_ok() && w.len() == 36)
}
