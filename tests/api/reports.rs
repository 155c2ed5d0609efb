//! The quarterly report: prepared by the culture-social office from the data, approved by the
//! chairman, then frozen; its workbook's cells and its printable page.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};
use crate::stats::{commune, push, visit};

both_backends!(
    a_report_is_prepared_approved_and_then_frozen,
    the_report_workbook_and_page_carry_the_figures,
);

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

async fn prepare(app: &TestApp, token: &str) -> reqwest::Response {
    app.send(
        Method::POST,
        "/api/v1/reports",
        Some(token),
        Some(&json!({"period": "quarter", "date": "2026-11-20"})),
    )
    .await
}

async fn return_report(app: &TestApp, id: &str, token: String, reason: &str) -> reqwest::Response {
    app.send(
        Method::POST,
        &format!("/api/v1/reports/{id}/return"),
        Some(&token),
        Some(&json!({ "reason": reason })),
    )
    .await
}

fn vneid(report: &Value) -> Value {
    report["content"]["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["code"] == "adults_vneid_level2")
        .expect("vneid")["figure"]
        .clone()
}

async fn a_report_is_prepared_approved_and_then_frozen(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    for token in [&f.chairman.token, &f.police.token, &f.leader.token] {
        assert_problem(prepare(&app, token).await, 403, "role_not_allowed").await;
    }
    let res = prepare(&app, &f.culture_social.token).await;
    assert_eq!(res.status(), 201);
    let draft = body(res).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["content"]["period_vi"], "Quý IV năm 2026");
    assert_eq!(
        vneid(&draft),
        json!({"numerator": 3, "denominator": 5, "percent": 60.0})
    );
    assert_eq!(draft["content"]["activity"]["house_visits"], 3);
    assert_eq!(draft["content"]["activity"]["households_reached"], 3);
    let id = draft["id"].as_str().expect("id").to_owned();

    // Phúc gets VNeID; preparing again recomputes the same draft.
    let done = |at: &str| {
        visit(
            &c.h2.0,
            &[&c.h2.1[1]],
            at,
            "house_visit",
            json!([{"service_code": "vneid_level2", "outcome": "done"}]),
        )
    };
    push(&app, &f.volunteer.token, vec![done("2026-11-21T02:00:00Z")]).await;
    let res = prepare(&app, &f.culture_social.token).await;
    assert_eq!(res.status(), 200);
    let again = body(res).await;
    assert_eq!(again["id"], id.as_str());
    assert_eq!(
        vneid(&again),
        json!({"numerator": 4, "denominator": 5, "percent": 80.0})
    );

    // The chairman returns it with a note; it cannot be approved until the office prepares it
    // again, and the note stays on it.
    let back = |token: String, reason: &'static str| return_report(&app, &id, token, reason);
    assert_problem(
        back(f.culture_social.token.clone(), "sửa").await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        back(f.other_chairman.token.clone(), "sửa").await,
        404,
        "report_not_found",
    )
    .await;
    assert_problem(
        back(f.chairman.token.clone(), "   ").await,
        400,
        "validation_failed",
    )
    .await;
    let read = format!("/api/v1/reports/{id}");
    let unchanged = body(app.get_authed(&read, &f.chairman.token).await).await;
    assert_eq!(unchanged["status"], "draft");
    assert_eq!(unchanged["return_note"], Value::Null);
    const NOTE: &str = "Bổ sung số liệu thôn Phú Lộc trước khi trình ký";
    let res = back(f.chairman.token.clone(), NOTE).await;
    assert_eq!(res.status(), 200);
    let returned = body(res).await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["return_note"], NOTE);
    assert_eq!(returned["returned_by"], f.chairman.id.as_str());
    assert_problem(
        back(f.chairman.token.clone(), "lần hai").await,
        409,
        "report_returned",
    )
    .await;
    assert_problem(
        app.send(
            Method::POST,
            &format!("/api/v1/reports/{id}/approve"),
            Some(&f.chairman.token),
            None,
        )
        .await,
        409,
        "report_returned",
    )
    .await;
    let listed = body(
        app.get_authed("/api/v1/reports", &f.culture_social.token)
            .await,
    )
    .await;
    assert_eq!(listed["items"][0]["status"], "returned", "{listed}");
    let audit = body(
        app.get_authed(
            "/api/v1/audit-events?action=report_returned",
            &f.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(audit["items"][0]["object_id"], id.as_str(), "{audit}");
    assert!(audit["items"][0]["details"].to_string().contains("Phú Lộc"));
    let res = prepare(&app, &f.culture_social.token).await;
    assert_eq!(res.status(), 200);
    let again = body(res).await;
    assert_eq!(again["status"], "draft");
    assert_eq!(again["return_note"], NOTE);

    // Only the chairman of the commune approves, once.
    let approve = format!("/api/v1/reports/{id}/approve");
    assert_problem(
        app.send(Method::POST, &approve, Some(&f.culture_social.token), None)
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        app.send(Method::POST, &approve, Some(&f.other_chairman.token), None)
            .await,
        404,
        "report_not_found",
    )
    .await;
    let res = app
        .send(Method::POST, &approve, Some(&f.chairman.token), None)
        .await;
    assert_eq!(res.status(), 200);
    let approved = body(res).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"], f.chairman.id.as_str());
    assert_problem(
        app.send(Method::POST, &approve, Some(&f.chairman.token), None)
            .await,
        409,
        "report_frozen",
    )
    .await;
    assert_problem(
        back(f.chairman.token.clone(), "quá muộn").await,
        409,
        "report_frozen",
    )
    .await;

    // Frozen: new records change the live figures, not the report.
    push(
        &app,
        &f.volunteer_v2.token,
        vec![visit(
            &c.h3.0,
            &[&c.h3.1[0]],
            "2026-11-22T02:00:00Z",
            "house_visit",
            json!([{"service_code": "payment_account", "outcome": "done"}]),
        )],
    )
    .await;
    assert_problem(
        prepare(&app, &f.culture_social.token).await,
        409,
        "report_frozen",
    )
    .await;
    let path = format!("/api/v1/reports/{id}");
    let later = body(app.get_authed(&path, &f.chairman.token).await).await;
    assert_eq!(later["content"], approved["content"]);
    let live = body(
        app.get_authed(
            "/api/v1/stats/indicators?period=quarter&date=2026-11-20&codes=people15_payment_account",
            &f.chairman.token,
        )
        .await,
    )
    .await;
    assert_eq!(live["items"][0]["current"]["numerator"], 1);

    // Who reads it: the commune's offices, the city once approved; not villages, not other communes.
    assert_eq!(app.get_authed(&path, &f.police.token).await.status(), 200);
    for token in [&f.leader.token, &f.other_chairman.token] {
        assert_problem(app.get_authed(&path, token).await, 404, "report_not_found").await;
    }
    let city_id = app.insert_user("thanh.pho", "city", None, None, &[]);
    let city = app.account(city_id, "thanh.pho").await;
    assert_eq!(app.get_authed(&path, &city.token).await.status(), 200);
    let list = body(
        app.get_authed(
            &format!("/api/v1/reports?commune_id={}", f.commune),
            &city.token,
        )
        .await,
    )
    .await;
    assert_eq!(list["items"][0]["id"], id.as_str());
}

async fn the_report_workbook_and_page_carry_the_figures(app: TestApp) {
    let c = commune(&app).await;
    let f = &c.f;
    // The plan's Q4 targets: 80 % for the commune, 100 % for Phú Lộc (v1); v2 inherits 80 %.
    let res = app
        .send(
            Method::PUT,
            "/api/v1/targets",
            Some(&f.culture_social.token),
            Some(&json!({"period": "quarter", "date": "2026-10-15", "items": [
                {"indicator_code": "adults_vneid_level2", "target_percent": 80},
                {"indicator_code": "adults_vneid_level2", "village_id": f.v1, "target_percent": 100}]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    // Funding in Q4 (and one entry of Q3, which the report leaves out).
    for (direction, source, category, amount, on) in [
        ("received", "sponsorship", "cash", 15_000_000, "2026-10-01"),
        ("received", "state_budget", "cash", 7_500_001, "2026-11-02"),
        ("spent", "state_budget", "training", 3_333_333, "2026-11-03"),
        ("spent", "sponsorship", "materials", 900_000, "2026-09-30"),
    ] {
        let res = app
            .send(
                Method::POST,
                "/api/v1/funding",
                Some(&f.culture_social.token),
                Some(
                    &json!({"direction": direction, "source": source, "category": category,
                    "party": "Viettel Hải Phòng", "amount_vnd": amount, "occurred_on": on}),
                ),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let draft = body(prepare(&app, &f.culture_social.token).await).await;
    let id = draft["id"].as_str().expect("id");
    let vneid_item = draft["content"]["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["code"] == "adults_vneid_level2")
        .expect("vneid")
        .clone();
    // 3 of 5 against 80 %: 4 needed, 1 to go; Phú Lộc 2 of 4 against 100 %: 2 to go.
    assert_eq!(vneid_item["plan_target_percent"], 80.0);
    assert_eq!(vneid_item["gap"], 1);
    let phu_loc = vneid_item["villages"]
        .as_array()
        .expect("villages")
        .iter()
        .find(|v| v["village_id"] == f.v1.as_str())
        .expect("v1")
        .clone();
    assert_eq!(
        (phu_loc["target_percent"].as_f64(), phu_loc["gap"].as_i64()),
        (Some(100.0), Some(2))
    );
    assert_eq!(
        draft["content"]["funding"],
        json!({"received_vnd": 22_500_001, "spent_vnd": 3_333_333, "balance_vnd": 19_166_668,
            "received_by_source": {"sponsorship": 15_000_000, "state_budget": 7_500_001},
            "spent_by_source": {"state_budget": 3_333_333},
            "spent_by_category": {"training": 3_333_333}})
    );

    let res = app
        .get_authed(&format!("/api/v1/reports/{id}/xlsx"), &f.chairman.token)
        .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("bao-cao-cds-quarter-2026-10-01.xlsx")));
    let bytes = res.bytes().await.expect("bytes").to_vec();
    use calamine::{Data, DataType, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("xlsx");
    let sheet = book.worksheet_range("Chỉ tiêu").expect("sheet");
    let cell = |r: u32, col: u32| sheet.get_value((r, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        cell(0, 0),
        Data::String(
            "Báo cáo kết quả hoạt động Tổ Công nghệ số cộng đồng Mao Điền — Quý IV năm 2026 (dự thảo)"
                .into()
        )
    );
    assert_eq!(cell(2, 1), Data::String("Chỉ tiêu".into()));
    assert_eq!(cell(2, 8), Data::String("Còn thiếu".into()));
    assert_eq!(cell(2, 9), Data::String("Thôn Phú Lộc (%)".into()));
    // Indicators by number and name: no internal code in a file people read.
    let name = vneid_item["name_vi"].as_str().expect("name").to_owned();
    let row = (3..40)
        .find(|r| cell(*r, 1) == Data::String(name.clone()))
        .expect("vneid row");
    assert_eq!(cell(2, 0), Data::String("STT".into()));
    assert!(matches!(cell(row, 0), Data::Float(n) if n >= 1.0));
    assert!((3..40).all(|r| cell(r, 0) != Data::String("adults_vneid_level2".into())));
    // The office by its name, not its internal code.
    assert_eq!(cell(row, 2), Data::String("Công an xã".into()));
    assert_eq!(cell(row, 3), Data::Float(3.0));
    assert_eq!(cell(row, 4), Data::Float(5.0));
    assert_eq!(cell(row, 5), Data::Float(60.0));
    assert_eq!(cell(row, 6), Data::Float(20.0));
    assert_eq!(cell(row, 7), Data::Float(80.0));
    assert_eq!(cell(row, 8), Data::Float(1.0));
    // Phú Lộc (v1): 2 of 4; Mao Điền (v2): 1 of 1.
    assert_eq!(cell(row, 9), Data::Float(50.0));
    assert_eq!(cell(row, 10), Data::Float(100.0));
    // Progress against the targets: the commune, then the villages furthest behind first.
    let goals = book.worksheet_range("Tiến độ mục tiêu").expect("goals");
    let rows: Vec<(String, f64, f64)> = goals
        .rows()
        .filter(|r| r[1] == Data::String(name.clone()))
        .map(|r| {
            let n = |d: &Data| match d {
                Data::Float(x) => *x,
                other => panic!("not a number: {other:?}"),
            };
            (r[2].to_string(), n(&r[3]), n(&r[7]))
        })
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0], ("Toàn xã".into(), 80.0, 1.0));
    assert_eq!(rows[1], ("Thôn Phú Lộc".into(), 100.0, 2.0));
    assert_eq!((rows[2].1, rows[2].2), (80.0, 0.0));
    let money = book.worksheet_range("Kinh phí").expect("funding");
    let lines: Vec<(String, f64)> = money
        .rows()
        .skip(1)
        .map(|r| (r[0].to_string(), r[1].get_float().expect("amount")))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("Tổng kinh phí tiếp nhận".into(), 22_500_001.0),
            ("- Tài trợ, đóng góp".into(), 15_000_000.0),
            ("- Ngân sách nhà nước".into(), 7_500_001.0),
            ("Tổng kinh phí đã chi".into(), 3_333_333.0),
            ("- Từ ngân sách nhà nước".into(), 3_333_333.0),
            ("- Chi tập huấn".into(), 3_333_333.0),
            ("Còn lại".into(), 19_166_668.0),
        ]
    );
    let activity = book.worksheet_range("Hoạt động").expect("activity");
    assert_eq!(
        activity.get_value((1, 0)).cloned(),
        Some(Data::String("Lượt đến hộ gia đình".into()))
    );
    assert_eq!(activity.get_value((1, 1)).cloned(), Some(Data::Float(3.0)));

    let res = app
        .get_authed(&format!("/api/v1/reports/{id}/print"), &f.chairman.token)
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("html");
    for text in [
        "Cộng hòa xã hội chủ nghĩa Việt Nam",
        "Độc lập - Tự do - Hạnh phúc",
        "Kết quả hoạt động của Tổ Công nghệ số cộng đồng Quý IV năm 2026",
        "Người trưởng thành (từ 18 tuổi) có định danh điện tử VNeID mức 2",
        "60,0%",
        "DỰ THẢO",
        "size: A4",
        "<th>Còn thiếu</th>",
        "Thôn Phú Lộc còn thiếu 2 người",
        "III. Kinh phí",
        "1. Kinh phí tiếp nhận: 22.500.001 đồng (Tài trợ, đóng góp 15.000.000 đồng; Ngân sách nhà nước 7.500.001 đồng).",
        "3. Còn lại: 19.166.668 đồng.",
    ] {
        assert!(page.contains(text), "the page lacks {text}");
    }
    // A draft bears the day it was prepared (Vietnam time), not the quarter's last day ahead.
    let prepared: chrono::DateTime<chrono::Utc> = draft["prepared_at"]
        .as_str()
        .expect("prepared_at")
        .parse()
        .expect("a time");
    let day = (prepared + chrono::Duration::hours(7)).date_naive();
    use chrono::Datelike;
    let dated = format!(
        "ngày {} tháng {} năm {}",
        day.day(),
        day.month(),
        day.year()
    );
    assert!(page.contains(&dated), "the page is not dated {dated}");
    assert!(
        day.day() == 31 || !page.contains("ngày 31 tháng 12 năm 2026"),
        "dated at the quarter's end"
    );

    // The PDF: an A4 document whose text (read back through its embedded fonts) carries the same.
    let res = app
        .get_authed(&format!("/api/v1/reports/{id}/pdf"), &f.chairman.token)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("bao-cao-cds-quarter-2026-10-01.pdf")));
    let bytes = res.bytes().await.expect("bytes").to_vec();
    assert!(bytes.starts_with(b"%PDF-"));
    let raw = String::from_utf8_lossy(&bytes);
    let media = raw.find("/MediaBox").map(|i| &raw[i..i + 40]);
    assert!(
        media.is_some_and(|m| m.contains("595.28") && m.contains("841.89")),
        "not A4: {media:?}"
    );
    let text = pdf_extract::extract_text_from_mem(&bytes).expect("readable pdf");
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "XÃ MAO ĐIỀN",
        "DỰ THẢO",
        "Kết quả hoạt động của Tổ Công nghệ số cộng đồng Quý IV năm 2026",
        "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU",
        "60,0%",
        "1. Đến 3 lượt hộ gia đình",
        "Thôn Phú Lộc còn thiếu 2 người",
        "III. KINH PHÍ",
        "2. Kinh phí đã chi: 3.333.333 đồng (từ ngân sách nhà nước 3.333.333 đồng), gồm: Chi tập huấn 3.333.333 đồng.",
        "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI",
        "TM. ỦY BAN NHÂN DÂN",
    ] {
        assert!(text.contains(expected), "the PDF lacks {expected}: {text}");
    }

    // The same files through `?format=` on the report (DESIGN §4); an unknown format is refused.
    for (format, kind) in [
        ("pdf", "application/pdf"),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("html", "text/html; charset=utf-8"),
    ] {
        let res = app
            .get_authed(
                &format!("/api/v1/reports/{id}?format={format}"),
                &f.chairman.token,
            )
            .await;
        assert_eq!(res.status(), 200, "{format}");
        assert_eq!(res.headers()["content-type"], kind);
    }
    assert_problem(
        app.get_authed(
            &format!("/api/v1/reports/{id}?format=docx"),
            &f.chairman.token,
        )
        .await,
        400,
        "invalid_query",
    )
    .await;
}
