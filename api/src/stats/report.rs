//! The quarterly and annual report of the commune's CDT teams: computed from the data into a
//! snapshot ([`ReportContent`]), which is what an approved report keeps; rendered as XLSX and as a
//! printable A4 page laid out like a Vietnamese administrative report.

use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::activity::{ReportActivity, ReportChannel, ReportTeam};
use super::{per_village, Figure, Period, PeriodKind};
use crate::db::stats as q;
use crate::db::DbConnection;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportFigure {
    pub numerator: i64,
    pub denominator: Option<i64>,
    pub percent: Option<f64>,
}

impl From<&Figure> for ReportFigure {
    fn from(f: &Figure) -> Self {
        ReportFigure {
            numerator: f.numerator,
            denominator: f.denominator,
            percent: f.percent(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportVillage {
    pub village_id: String,
    pub name: String,
    pub figure: ReportFigure,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportIndicator {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub department: String,
    pub target_percent: Option<f64>,
    pub figure: ReportFigure,
    pub previous: ReportFigure,
    pub villages: Vec<ReportVillage>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportContent {
    pub commune_id: String,
    pub commune_name: String,
    pub period_kind: PeriodKind,
    pub period_label: String,
    pub period_start: chrono::NaiveDate,
    pub period_last_day: chrono::NaiveDate,
    /// `Quý IV năm 2026` or `năm 2026`.
    pub period_vi: String,
    pub indicators: Vec<ReportIndicator>,
    pub activity: ReportActivity,
}

fn roman(n: u32) -> &'static str {
    ["I", "II", "III", "IV"]
        .get(n.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("?")
}

/// The period in Vietnamese, as report titles write it.
pub fn period_vi(p: &Period) -> String {
    use chrono::Datelike;
    match p.kind {
        PeriodKind::Quarter => format!(
            "Quý {} năm {}",
            roman(p.start.month0() / 3 + 1),
            p.start.year()
        ),
        PeriodKind::Year => format!("năm {}", p.start.year()),
        PeriodKind::Month => format!("tháng {} năm {}", p.start.month(), p.start.year()),
        PeriodKind::Week => format!("tuần {}", p.label()),
    }
}

/// Computes the report of `commune_id` for `period` from the data as it is now.
pub fn compute(
    conn: &mut DbConnection,
    commune_id: &str,
    commune_name: &str,
    period: &Period,
) -> QueryResult<ReportContent> {
    let villages = crate::db::registry::villages_of_commune(conn, commune_id)?;
    let previous = period.previous();
    let mut indicators = vec![];
    let mut shared = super::Shared::default();
    for indicator in q::list_indicators(conn, false)? {
        let counted = indicator.kind != "assisted";
        let now = per_village(conn, &mut shared, &indicator, commune_id, period)?;
        let before = per_village(conn, &mut shared, &indicator, commune_id, &previous)?;
        let sum = |m: &std::collections::BTreeMap<String, Figure>| {
            let mut t = Figure {
                denominator: counted.then_some(0),
                ..Figure::default()
            };
            for f in m.values() {
                t.add(f);
            }
            t
        };
        indicators.push(ReportIndicator {
            figure: (&sum(&now)).into(),
            previous: (&sum(&before)).into(),
            villages: villages
                .iter()
                .map(|v| ReportVillage {
                    village_id: v.id.clone(),
                    name: v.name.clone(),
                    figure: now
                        .get(&v.id)
                        .map(ReportFigure::from)
                        .unwrap_or(ReportFigure {
                            numerator: 0,
                            denominator: counted.then_some(0),
                            percent: None,
                        }),
                })
                .collect(),
            code: indicator.code,
            name_vi: indicator.name_vi,
            name_en: indicator.name_en,
            department: indicator.department,
            target_percent: indicator.target_percent,
        });
    }
    let activity = super::activity::compute(conn, commune_id, None, period)?;
    Ok(ReportContent {
        commune_id: commune_id.to_owned(),
        commune_name: commune_name.to_owned(),
        period_kind: period.kind,
        period_label: period.label(),
        period_start: period.start,
        period_last_day: period.last_day(),
        period_vi: period_vi(period),
        indicators,
        activity,
    })
}

pub(super) fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%").replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

/// The report as a workbook: a sheet of indicators (commune and each village) and a sheet of
/// activity, with Vietnamese headers.
pub fn xlsx(c: &ReportContent, approved: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Chỉ tiêu")?;
    let title = format!(
        "Báo cáo kết quả hoạt động Tổ Công nghệ số cộng đồng {} — {}{}",
        c.commune_name,
        c.period_vi,
        if approved { "" } else { " (dự thảo)" }
    );
    sheet.write_string_with_format(0, 0, &title, &bold)?;
    let mut headers = vec![
        "Mã chỉ tiêu".to_owned(),
        "Chỉ tiêu".into(),
        "Đơn vị phụ trách".into(),
        "Đạt".into(),
        "Tổng số".into(),
        "Tỷ lệ (%)".into(),
        "Kỳ trước (%)".into(),
        "Mục tiêu (%)".into(),
    ];
    let village_names: Vec<String> = c
        .indicators
        .first()
        .map(|i| i.villages.iter().map(|v| v.name.clone()).collect())
        .unwrap_or_default();
    for v in &village_names {
        headers.push(format!("{v} (%)"));
    }
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, col as u16, h, &bold)?;
    }
    for (i, ind) in c.indicators.iter().enumerate() {
        let r = 3 + i as u32;
        sheet.write_string(r, 0, &ind.code)?;
        sheet.write_string(r, 1, &ind.name_vi)?;
        sheet.write_string(r, 2, &ind.department)?;
        sheet.write_number(r, 3, ind.figure.numerator as f64)?;
        if let Some(d) = ind.figure.denominator {
            sheet.write_number(r, 4, d as f64)?;
        }
        if let Some(p) = ind.figure.percent {
            sheet.write_number_with_format(r, 5, p, &pct)?;
        }
        if let Some(p) = ind.previous.percent {
            sheet.write_number_with_format(r, 6, p, &pct)?;
        }
        if let Some(t) = ind.target_percent {
            sheet.write_number_with_format(r, 7, t, &pct)?;
        }
        for (j, v) in ind.villages.iter().enumerate() {
            let col = 8 + j as u16;
            match v.figure.percent {
                Some(p) => sheet.write_number_with_format(r, col, p, &pct)?,
                None => sheet.write_number(r, col, v.figure.numerator as f64)?,
            };
        }
    }
    sheet.set_column_width(1, 60)?;
    let act = workbook.add_worksheet();
    act.set_name("Hoạt động")?;
    let a = &c.activity;
    let rows: Vec<(&str, i64)> = vec![
        ("Lượt đến hộ gia đình", a.house_visits),
        ("Số hộ được hỗ trợ", a.households_reached),
        ("Lượt hỗ trợ dịch vụ", a.assistance_items),
        ("Buổi tập huấn đã tổ chức", a.trainings_held),
        ("Lượt thành viên dự tập huấn", a.training_attendances),
        ("Thành viên được tập huấn", a.members_trained),
        ("Khó khăn, vướng mắc phát sinh", a.difficulties_raised),
        ("Khó khăn đã được trả lời", a.difficulties_answered),
    ];
    act.write_string_with_format(0, 0, "Nội dung", &bold)?;
    act.write_string_with_format(0, 1, "Số lượng", &bold)?;
    let mut r = 1;
    for (label, n) in rows {
        act.write_string(r, 0, label)?;
        act.write_number(r, 1, n as f64)?;
        r += 1;
    }
    for (label, hours) in [
        (
            "Thời gian trả lời khó khăn, trung vị (giờ)",
            a.response_median_hours,
        ),
        (
            "Thời gian trả lời khó khăn, trung bình (giờ)",
            a.response_mean_hours,
        ),
    ] {
        act.write_string(r, 0, label)?;
        match hours {
            Some(h) => act.write_number(r, 1, h)?,
            None => act.write_string(r, 1, "—")?,
        };
        r += 1;
    }
    r += 1;
    act.write_string_with_format(r, 0, "Tuyên truyền theo kênh", &bold)?;
    act.write_string_with_format(r, 1, "Số hoạt động", &bold)?;
    act.write_string_with_format(r, 2, "Lượt người tiếp cận", &bold)?;
    for ch in &a.communications {
        r += 1;
        act.write_string(r, 0, super::report_pdf::channel_vi(&ch.channel))?;
        act.write_number(r, 1, ch.activities as f64)?;
        act.write_number(r, 2, ch.reach as f64)?;
    }
    r += 2;
    act.write_string_with_format(r, 0, "Tổ Công nghệ số cộng đồng", &bold)?;
    act.write_string_with_format(r, 1, "Thành viên", &bold)?;
    act.write_string_with_format(r, 2, "Thành viên có hoạt động", &bold)?;
    for t in &a.teams {
        r += 1;
        act.write_string(r, 0, &t.name)?;
        act.write_number(r, 1, t.members as f64)?;
        act.write_number(r, 2, t.active_members as f64)?;
    }
    act.set_column_width(0, 40)?;
    workbook.save_to_buffer()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one printable A4 page (HTML with print CSS; the browser's "Save as PDF" gives the
/// PDF). Laid out as a commune report: national heading, issuing body, title, sections following the
/// plan, and the signature block.
pub fn html(c: &ReportContent, approved: bool, approved_on: Option<chrono::NaiveDate>) -> String {
    use chrono::Datelike;
    let day = approved_on.unwrap_or(c.period_last_day);
    let mut rows = String::new();
    for (i, ind) in c.indicators.iter().enumerate() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            i + 1,
            esc(&ind.name_vi),
            ind.figure.numerator,
            ind.figure.denominator.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            percent_text(ind.figure.percent),
            percent_text(ind.target_percent),
        ));
    }
    let a = &c.activity;
    let channels: String = a
        .communications
        .iter()
        .map(|ch| {
            format!(
                "<li>{}: {} hoạt động, {} lượt người</li>",
                esc(super::report_pdf::channel_vi(&ch.channel)),
                ch.activities,
                ch.reach
            )
        })
        .collect();
    let teams: String = a
        .teams
        .iter()
        .map(|t| {
            format!(
                "<li>{}: {} thành viên, {} thành viên có hoạt động trong kỳ</li>",
                esc(&t.name),
                t.members,
                t.active_members
            )
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo {period} — {commune}</title>
<style>
@page {{ size: A4; margin: 20mm 15mm 20mm 30mm; }}
body {{ font-family: "Times New Roman", serif; font-size: 13pt; line-height: 1.4; color: #000; }}
.head {{ display: flex; justify-content: space-between; text-align: center; }}
.head div {{ width: 48%; }}
.upper {{ text-transform: uppercase; font-weight: bold; }}
.motto {{ font-weight: bold; text-decoration: underline; }}
h1 {{ text-align: center; font-size: 14pt; text-transform: uppercase; margin: 24pt 0 4pt; }}
.sub {{ text-align: center; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12pt; }}
td, th {{ border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }}
.n {{ text-align: right; white-space: nowrap; }}
.sign {{ display: flex; justify-content: flex-end; text-align: center; margin-top: 24pt; }}
.sign div {{ width: 50%; }}
.draft {{ color: #a00; text-align: center; font-weight: bold; }}
</style></head><body>
<div class="head">
<div><div>ỦY BAN NHÂN DÂN</div><div class="upper">{commune_upper}</div></div>
<div><div class="upper">Cộng hòa xã hội chủ nghĩa Việt Nam</div><div class="motto">Độc lập - Tự do - Hạnh phúc</div>
<div><i>{commune}, ngày {d} tháng {m} năm {y}</i></div></div>
</div>
{draft}
<h1>Báo cáo</h1>
<div class="sub">Kết quả hoạt động của Tổ Công nghệ số cộng đồng {period}</div>
<h2>I. Kết quả thực hiện các chỉ tiêu</h2>
<table><thead><tr><th>STT</th><th>Chỉ tiêu</th><th>Đạt</th><th>Tổng số</th><th>Tỷ lệ</th><th>Mục tiêu</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>II. Hoạt động của các Tổ Công nghệ số cộng đồng</h2>
<ol>
<li>Đến {visits} lượt hộ gia đình; hỗ trợ {reached} hộ với {items} lượt hỗ trợ dịch vụ số.</li>
<li>Tuyên truyền:<ul>{channels}</ul></li>
<li>Tập huấn: {trainings} buổi, {attendances} lượt thành viên tham dự ({trained} thành viên được tập huấn).</li>
<li>Khó khăn, vướng mắc: {raised} phát sinh, {answered} đã được trả lời{response}.</li>
<li>Các tổ:<ul>{teams}</ul></li>
</ol>
<h2>III. Phương hướng, nhiệm vụ kỳ tới</h2>
<p>Tiếp tục đi từng ngõ, gõ từng nhà, hỗ trợ người dân còn thiếu các dịch vụ số theo danh sách của từng chỉ tiêu.</p>
<div class="sign"><div><div class="upper">TM. Ủy ban nhân dân</div><div class="upper">Chủ tịch</div><div><i>(Ký, ghi rõ họ tên, đóng dấu)</i></div></div></div>
</body></html>"#,
        period = esc(&c.period_vi),
        commune = esc(&c.commune_name),
        commune_upper = esc(&format!("Xã {}", c.commune_name)),
        d = day.day(),
        m = day.month(),
        y = day.year(),
        draft = if approved {
            ""
        } else {
            r#"<p class="draft">DỰ THẢO</p>"#
        },
        rows = rows,
        visits = a.house_visits,
        reached = a.households_reached,
        items = a.assistance_items,
        channels = channels,
        raised = a.difficulties_raised,
        answered = a.difficulties_answered,
        response = a
            .response_median_hours
            .map(|h| format!(
                "; thời gian trả lời trung vị {} giờ",
                h.to_string().replace('.', ",")
            ))
            .unwrap_or_default(),
        trainings = a.trainings_held,
        attendances = a.training_attendances,
        trained = a.members_trained,
        teams = teams,
    )
}
