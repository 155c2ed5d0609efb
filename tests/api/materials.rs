//! Guides: versions, publishing, attachments checked by content, and guides on phones through pull.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, Fixture, TestApp};

both_backends!(
    a_guide_is_drafted_versioned_published_and_withdrawn,
    attachments_are_checked_by_content_and_scoped,
    a_national_guide_reaches_every_commune,
    trainings_link_the_guides_they_used,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

pub async fn draft(app: &TestApp, token: &str, title: &str) -> Value {
    let res = app
        .send(
            Method::POST,
            "/api/v1/materials",
            Some(token),
            Some(&json!({
                "department": "police",
                "title": title,
                "summary": "Công dân từ đủ 14 tuổi đăng ký tại Công an xã.",
                "body": "## Các bước\n1. Đến Công an xã.\n2. Kích hoạt trên ứng dụng VNeID.",
                "service_codes": ["vneid_level2"]
            })),
        )
        .await;
    let status = res.status();
    let v = body(res).await;
    assert_eq!(status, 201, "{v}");
    v
}

async fn pull(app: &TestApp, token: &str, cursor: &str) -> (Vec<Value>, String) {
    app.settle().await;
    let res = body(
        app.get_authed(&format!("/api/v1/sync/pull?cursor={cursor}"), token)
            .await,
    )
    .await;
    let changes = res["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["kind"] == "material")
        .cloned()
        .collect();
    (changes, res["cursor"].as_str().expect("cursor").to_owned())
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, payload: Value) -> Value {
    let res = app.send(method, path, Some(token), Some(&payload)).await;
    let status = res.status();
    let v = body(res).await;
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

async fn a_guide_is_drafted_versioned_published_and_withdrawn(app: TestApp) {
    let f = app.fixture().await;
    let g = draft(&app, &f.police.token, "Kích hoạt VNeID mức 2").await;
    assert_eq!(
        (g["status"].as_str(), g["version"].as_i64()),
        (Some("draft"), Some(1))
    );
    assert_eq!(g["department"], "police");
    let id = g["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/materials/{id}");
    // A draft is for its editors only.
    assert_problem(
        app.get_authed(&path, &f.volunteer.token).await,
        404,
        "material_not_found",
    )
    .await;
    let listed = body(
        app.get_authed("/api/v1/materials", &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
    let (_, cursor) = pull(&app, &f.volunteer.token, "").await;

    // Version 2; an edit made on version 1 afterwards is refused and changes nothing.
    let v2 = send(
        &app,
        Method::PATCH,
        &path,
        &f.police.token,
        json!({"base_version": 1, "title": "Đăng ký và kích hoạt VNeID mức 2"}),
    )
    .await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["body"], g["body"], "fields left out are kept");
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&f.chairman.token),
            Some(&json!({"base_version": 1, "title": "Bản cũ"})),
        )
        .await,
        409,
        "stale_version",
    )
    .await;
    // Another department reads nothing of a draft and edits nothing.
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
            &path,
            Some(&health.token),
            Some(&json!({"base_version": 2, "title": "x"})),
        )
        .await,
        404,
        "material_not_found",
    )
    .await;

    // Published: readers get version 2, in the list, by id and on the phone.
    let published = send(
        &app,
        Method::POST,
        &format!("{path}/publish"),
        &f.police.token,
        json!({}),
    )
    .await;
    assert_eq!(
        (
            published["status"].as_str(),
            published["published_version"].as_i64()
        ),
        (Some("published"), Some(2))
    );
    let read = body(app.get_authed(&path, &f.volunteer.token).await).await;
    assert_eq!(read["title"], "Đăng ký và kích hoạt VNeID mức 2");
    assert_eq!(read["editable"], false);
    let (changes, cursor) = pull(&app, &f.volunteer.token, &cursor).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["data"]["version"], 2);
    assert_eq!(changes[0]["data"]["body"], g["body"]);
    // The health station reads it now but still may not edit it.
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&health.token),
            Some(&json!({"base_version": 2, "title": "x"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        app.get_authed(&format!("{path}?version=1"), &f.volunteer.token)
            .await,
        403,
        "role_not_allowed",
    )
    .await;

    // Version 3 is a draft: readers keep version 2 until it is published.
    send(
        &app,
        Method::PATCH,
        &path,
        &f.police.token,
        json!({"base_version": 2, "body": "## Các bước\n1. Mang căn cước gắn chip đến Công an xã."}),
    )
    .await;
    let read = body(app.get_authed(&path, &f.volunteer.token).await).await;
    assert_eq!(read["version"], 2);
    let (changes, cursor) = pull(&app, &f.volunteer.token, &cursor).await;
    assert_eq!(
        changes,
        Vec::<Value>::new(),
        "an unpublished edit is not sent"
    );
    send(
        &app,
        Method::POST,
        &format!("{path}/publish"),
        &f.police.token,
        json!({}),
    )
    .await;
    let (changes, cursor) = pull(&app, &f.volunteer.token, &cursor).await;
    assert_eq!(changes[0]["data"]["version"], 3);
    let versions = body(
        app.get_authed(&format!("{path}/versions"), &f.police.token)
            .await,
    )
    .await;
    let numbers: Vec<(i64, bool)> = versions["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().expect("v"),
                v["published"].as_bool().expect("p"),
            )
        })
        .collect();
    assert_eq!(numbers, [(3, true), (2, false), (1, false)]);
    let old = body(
        app.get_authed(&format!("{path}?version=1"), &f.police.token)
            .await,
    )
    .await;
    assert_eq!(old["title"], "Kích hoạt VNeID mức 2");

    // Withdrawn: gone from phones and from readers.
    send(
        &app,
        Method::POST,
        &format!("{path}/withdraw"),
        &f.chairman.token,
        json!({}),
    )
    .await;
    let (changes, _) = pull(&app, &f.volunteer.token, &cursor).await;
    assert_eq!(changes[0]["op"], "delete");
    assert_problem(
        app.get_authed(&path, &f.volunteer.token).await,
        404,
        "material_not_found",
    )
    .await;
    // Another commune never sees it, published or not.
    send(
        &app,
        Method::POST,
        &format!("{path}/publish"),
        &f.police.token,
        json!({"version": 3}),
    )
    .await;
    assert_problem(
        app.get_authed(&path, &f.other_chairman.token).await,
        404,
        "material_not_found",
    )
    .await;
    let theirs = body(
        app.get_authed("/api/v1/materials", &f.other_leader.token)
            .await,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    // Filters: by service and department.
    let by_service = body(
        app.get_authed(
            "/api/v1/materials?service=vneid_level2&with_body=false",
            &f.volunteer.token,
        )
        .await,
    )
    .await;
    assert_eq!(by_service["items"].as_array().expect("items").len(), 1);
    assert_eq!(by_service["items"][0]["body"], "");
    let none = body(
        app.get_authed("/api/v1/materials?department=health", &f.volunteer.token)
            .await,
    )
    .await;
    assert_eq!(none["items"], json!([]));
    // Invalid drafts are refused with the fields named.
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/materials",
            Some(&f.police.token),
            Some(&json!({"title": "", "body": "x".repeat(100_001), "service_codes": ["nope"], "department": "health"})),
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
    assert_eq!(fields, ["body", "department", "service_codes[0]", "title"]);
    // A department does not write (nor publish) guides for another department's service.
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/materials",
            Some(&f.police.token),
            Some(&json!({"title": "Học phí", "body": "Nộp học phí qua ngân hàng.", "service_codes": ["cashless_tuition"]})),
        )
        .await,
        403,
        "not_your_service",
    )
    .await;
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&f.police.token),
            Some(&json!({"base_version": 3, "service_codes": ["vneid_level2", "electronic_health_record"]})),
        )
        .await,
        403,
        "not_your_service",
    )
    .await;
    let health_guide = app
        .send(
            Method::POST,
            "/api/v1/materials",
            Some(&health.token),
            Some(&json!({"title": "Sổ sức khỏe điện tử", "body": "Mở VNeID.", "service_codes": ["electronic_health_record"]})),
        )
        .await;
    assert_eq!(health_guide.status(), 201);
    let health_guide = body(health_guide).await;
    assert_problem(
        app.send(
            Method::POST,
            &format!(
                "/api/v1/materials/{}/publish",
                health_guide["id"].as_str().expect("id")
            ),
            Some(&f.police.token),
            Some(&json!({})),
        )
        .await,
        404,
        "material_not_found",
    )
    .await;
    let unchanged = body(app.get_authed(&path, &f.police.token).await).await;
    assert_eq!(unchanged["latest_version"], 3);
    assert_problem(
        app.send(
            Method::POST,
            "/api/v1/materials",
            Some(&f.volunteer.token),
            Some(&json!({"title": "x", "body": "y"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
}

/// How many attachments have their bytes in the database.
pub fn stored_contents(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    tungnha::db::schema::attachment_contents::table
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    material: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/materials/{material}/attachments?file_name={name}"
        )))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

async fn attachments_are_checked_by_content_and_scoped(app: TestApp) {
    let f: Fixture = app.fixture().await;
    let g = draft(&app, &f.police.token, "Hướng dẫn có ảnh").await;
    let id = g["id"].as_str().expect("id").to_owned();
    let res = upload(&app, &f.police.token, &id, "man-hinh.dat", PNG.to_vec()).await;
    assert_eq!(res.status(), 201);
    let png = body(res).await;
    assert_eq!(png["content_type"], "image/png");
    assert_eq!(
        png["file_name"], "man-hinh.png",
        "the extension follows the content"
    );
    assert_eq!(png["size_bytes"], PNG.len());
    let png_id = png["id"].as_str().expect("id").to_owned();
    // The bytes are in the database (so every instance serves them), not on this one's disk.
    assert_eq!(stored_contents(&app), 1);
    assert!(!app.settings.data_dir.join("attachments").exists());
    let pdf =
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec();
    let res = upload(&app, &f.police.token, &id, "huong-dan.pdf", pdf.clone()).await;
    assert_eq!(res.status(), 201);
    assert_eq!(body(res).await["content_type"], "application/pdf");

    // Wrong content, empty, too large, or not the editor: refused, nothing stored.
    assert_problem(
        upload(
            &app,
            &f.police.token,
            &id,
            "gia.pdf",
            b"<html>not a pdf</html>".to_vec(),
        )
        .await,
        415,
        "unsupported_media_type",
    )
    .await;
    // A Windows executable and a Linux one, named as a PDF and a picture.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(512, 0);
    exe[0x3c] = 0x80;
    assert_problem(
        upload(&app, &f.police.token, &id, "huong-dan.pdf", exe).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.resize(256, 0);
    assert_problem(
        upload(&app, &f.police.token, &id, "anh.png", elf).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        upload(&app, &f.police.token, &id, "rong.png", vec![]).await,
        400,
        "validation_failed",
    )
    .await;
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert_problem(
        upload(&app, &f.police.token, &id, "lon.png", big).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_problem(
        upload(&app, &f.volunteer.token, &id, "x.png", PNG.to_vec()).await,
        404,
        "material_not_found",
    )
    .await;
    assert_eq!(
        stored_contents(&app),
        2,
        "only the two good files are stored"
    );

    // The editor downloads it; the ETag answers 304.
    let url = format!("/api/v1/attachments/{png_id}");
    let res = app.get_authed(&url, &f.police.token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), PNG);
    let res = app
        .client
        .get(app.url(&url))
        .bearer_auth(&f.police.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 304);
    // Readers get files of the published version only.
    assert_problem(
        app.get_authed(&url, &f.volunteer.token).await,
        404,
        "attachment_not_found",
    )
    .await;
    // A file of another guide cannot be shown in this one.
    let other = draft(&app, &f.police.token, "Hướng dẫn khác").await;
    assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/materials/{}", other["id"].as_str().expect("id")),
            Some(&f.police.token),
            Some(&json!({"base_version": 1, "attachment_ids": [png_id]})),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/materials/{id}"),
        &f.police.token,
        json!({"base_version": 1, "attachment_ids": [png_id]}),
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!("/api/v1/materials/{id}/publish"),
        &f.police.token,
        json!({}),
    )
    .await;
    let res = app.get_authed(&url, &f.volunteer.token).await;
    assert_eq!(res.status(), 200);
    // Another instance with a data folder of its own (only the database and the secret shared,
    // as behind a load balancer on two machines) serves the same file.
    let mut elsewhere = app.settings.clone();
    let other_dir = tempfile::tempdir().expect("dir");
    elsewhere.data_dir = other_dir.path().to_path_buf();
    elsewhere.jwt_secret = Some(secrecy::SecretString::from(app.jwt_secret()));
    let second = tungnha::startup::Application::build(elsewhere)
        .await
        .expect("the second server builds");
    let second_base = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let from_second = app
        .client
        .get(format!("{second_base}{url}"))
        .bearer_auth(&f.volunteer.token)
        .send()
        .await
        .expect("get");
    assert_eq!(from_second.status(), 200);
    assert_eq!(from_second.bytes().await.expect("bytes").as_ref(), PNG);
    assert!(res.headers()["cache-control"]
        .to_str()
        .expect("cc")
        .contains("immutable"));
    let (changes, _) = pull(&app, &f.volunteer.token, "").await;
    assert_eq!(changes[0]["data"]["attachments"][0]["id"], png_id.as_str());
    assert_eq!(
        changes[0]["data"]["attachments"]
            .as_array()
            .expect("a")
            .len(),
        1
    );
    // The PDF is not in the published version: readers do not get it.
    let pdf_id = body(
        app.get_authed(&format!("/api/v1/materials/{id}/versions"), &f.police.token)
            .await,
    )
    .await;
    assert_eq!(pdf_id["items"][0]["attachment_ids"], json!([png_id]));
    for token in [&f.other_chairman.token, &f.other_leader.token] {
        assert_problem(
            app.get_authed(&url, token).await,
            404,
            "attachment_not_found",
        )
        .await;
    }
}

async fn a_national_guide_reaches_every_commune(app: TestApp) {
    let f = app.fixture().await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/materials",
            Some(&f.admin.token),
            Some(&json!({"department": "police", "title": "Cảnh giác lừa đảo qua điện thoại", "body": "Không đưa mã OTP cho ai."})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let g = body(res).await;
    assert_eq!(g["commune_id"], Value::Null);
    let id = g["id"].as_str().expect("id");
    send(
        &app,
        Method::POST,
        &format!("/api/v1/materials/{id}/publish"),
        &f.admin.token,
        json!({}),
    )
    .await;
    for token in [
        &f.volunteer.token,
        &f.other_leader.token,
        &f.other_chairman.token,
    ] {
        let (changes, _) = pull(&app, token, "").await;
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0]["data"]["title"],
            "Cảnh giác lừa đảo qua điện thoại"
        );
    }
    // Only administrators edit a national guide.
    assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/materials/{id}"),
            Some(&f.police.token),
            Some(&json!({"base_version": 1, "title": "x"})),
        )
        .await,
        403,
        "role_not_allowed",
    )
    .await;
}

async fn trainings_link_the_guides_they_used(app: TestApp) {
    let f = app.fixture().await;
    let g = draft(&app, &f.police.token, "Tài liệu tập huấn VNeID").await;
    let id = g["id"].as_str().expect("id");
    let res = app
        .send(
            Method::POST,
            "/api/v1/trainings",
            Some(&f.police.token),
            Some(&json!({"topic": "Tập huấn VNeID", "held_on": "2026-11-10", "place": "Hội trường", "mode": "in_person", "material_ids": [id]})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let t = body(res).await;
    assert_eq!(t["material_ids"], json!([id]));
    let detail = body(
        app.get_authed(
            &format!("/api/v1/trainings/{}", t["id"].as_str().expect("id")),
            &f.chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(detail["material_ids"], json!([id]));
    // Another commune's guide or an unknown one: refused.
    let theirs = draft(&app, &f.other_chairman.token, "Của xã khác").await;
    let problem = assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/trainings/{}", t["id"].as_str().expect("id")),
            Some(&f.police.token),
            Some(&json!({"material_ids": [theirs["id"], "nope"]})),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"].as_array().expect("errors").len(), 2);
    let after = body(
        app.get_authed(
            &format!("/api/v1/trainings/{}", t["id"].as_str().expect("id")),
            &f.chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(after["material_ids"], json!([id]));
}
