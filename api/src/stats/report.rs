//! The quarterly and annual report of the commune's CDT teams: computed from the data into a
//! snapshot ([`ReportContent`]), which is what an approved report keeps; rendered as XLSX and as a
//! printable A4 page laid out like a Vietnamese administrative report.

use std::collections::BTreeMap;

use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::activity::{ReportActivity, ReportChannel, ReportTeam};
use super::report_pdf::number;
use super::{gap, per_village, Figure, Period, PeriodKind};
use crate::db::plans::{self as plans, FundingEntry};
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
    /// The village's target in the plan for the period, else the commune's target.
    #[serde(default)]
    pub target_percent: Option<f64>,
    /// People (households for household-level indicators) the village still has to reach.
    #[serde(default)]
    pub gap: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportIndicator {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub department: String,
    /// `person` or `household`: what the figures and the gap count.
    #[serde(default = "person")]
    pub level: String,
    /// The indicator catalogue's standing target.
    pub target_percent: Option<f64>,
    /// The commune's target for this period, set with its plan (`PUT /targets`).
    #[serde(default)]
    pub plan_target_percent: Option<f64>,
    /// People (households for household-level indicators) still to reach for the period's target
    /// (the plan's, else the catalogue's); 0 once met or without a target.
    #[serde(default)]
    pub gap: i64,
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
    /// Money received and spent in the period (plan §III), in whole đồng.
    #[serde(default)]
    pub funding: FundingTotals,
}

fn person() -> String {
    "person".into()
}

impl ReportIndicator {
    /// The unit of the gap in a report's sentence.
    pub fn unit_vi(&self) -> &'static str {
        if self.level == "household" {
            "hộ"
        } else {
            "người"
        }
    }

    /// "Thôn Phú Lộc còn thiếu 12 người; …": the villages furthest behind the target, or `None`
    /// when every village met it.
    pub fn behind_vi(&self, n: usize) -> Option<String> {
        let v = self.behind(n);
        (!v.is_empty()).then(|| {
            v.iter()
                .map(|v| format!("{} còn thiếu {} {}", v.name, v.gap, self.unit_vi()))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// The target the report measures against: the period's plan, else the catalogue.
    pub fn target(&self) -> Option<f64> {
        self.plan_target_percent.or(self.target_percent)
    }

    /// Villages short of their target, the furthest behind first (at most `n`).
    pub fn behind(&self, n: usize) -> Vec<&ReportVillage> {
        let mut v: Vec<&ReportVillage> = self.villages.iter().filter(|v| v.gap > 0).collect();
        v.sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.name.cmp(&b.name)));
        v.truncate(n);
        v
    }
}

/// Sums in whole đồng (integers: never a fraction of a đồng).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FundingTotals {
    pub received_vnd: i64,
    pub spent_vnd: i64,
    /// Received minus spent.
    pub balance_vnd: i64,
    /// Received and spent per source (`sponsorship`, `state_budget`, `other`).
    pub received_by_source: BTreeMap<String, i64>,
    pub spent_by_source: BTreeMap<String, i64>,
    /// Spent per category (`training`, `materials`, `member_support`, `other`).
    pub spent_by_category: BTreeMap<String, i64>,
}

/// The totals of the entries that are not voided.
pub fn funding_totals(entries: &[FundingEntry]) -> FundingTotals {
    let mut t = FundingTotals::default();
    for e in entries.iter().filter(|e| e.voided_at.is_none()) {
        if e.direction == "received" {
            t.received_vnd += e.amount_vnd;
            *t.received_by_source.entry(e.source.clone()).or_default() += e.amount_vnd;
        } else {
            t.spent_vnd += e.amount_vnd;
            *t.spent_by_source.entry(e.source.clone()).or_default() += e.amount_vnd;
            *t.spent_by_category.entry(e.category.clone()).or_default() += e.amount_vnd;
        }
    }
    t.balance_vnd = t.received_vnd - t.spent_vnd;
    t
}

/// The funding section's sentences (the printable page and the PDF say the same), amounts
/// written with `amount` (thousands grouped the Vietnamese way).
pub fn funding_vi(f: &FundingTotals, amount: impl Fn(i64) -> String) -> Vec<String> {
    let part = |m: &BTreeMap<String, i64>, order: &[&str], label: &dyn Fn(&str) -> String| {
        in_order(m, order)
            .into_iter()
            .map(|(k, v)| format!("{} {} đồng", label(k), amount(v)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = vec![];
    if f.received_vnd == 0 && f.spent_vnd == 0 {
        out.push("Chưa ghi nhận kinh phí trong kỳ.".to_owned());
        return out;
    }
    let received = part(&f.received_by_source, &SOURCE_ORDER, &|k| {
        source_vi(k).to_owned()
    });
    out.push(format!(
        "1. Kinh phí tiếp nhận: {} đồng{}.",
        amount(f.received_vnd),
        if received.is_empty() {
            String::new()
        } else {
            format!(" ({received})")
        }
    ));
    let by_source = part(&f.spent_by_source, &SOURCE_ORDER, &|k| {
        format!("từ {}", source_vi(k).to_lowercase())
    });
    let by_category = part(&f.spent_by_category, &CATEGORY_ORDER, &|k| {
        category_vi(k).to_owned()
    });
    out.push(format!(
        "2. Kinh phí đã chi: {} đồng{}.",
        amount(f.spent_vnd),
        if by_source.is_empty() {
            String::new()
        } else {
            format!(" ({by_source}), gồm: {by_category}")
        }
    ));
    out.push(format!("3. Còn lại: {} đồng.", amount(f.balance_vnd)));
    out
}

/// A total's parts in the report's order (sources, categories), unknown keys last.
fn in_order<'a>(m: &'a BTreeMap<String, i64>, order: &[&str]) -> Vec<(&'a str, i64)> {
    let mut out: Vec<(&str, i64)> = order
        .iter()
        .filter_map(|k| m.get_key_value(*k).map(|(k, v)| (k.as_str(), *v)))
        .collect();
    out.extend(
        m.iter()
            .filter(|(k, _)| !order.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), *v)),
    );
    out
}

const SOURCE_ORDER: [&str; 3] = ["sponsorship", "state_budget", "other"];
const CATEGORY_ORDER: [&str; 4] = ["training", "materials", "member_support", "other"];

/// What a funding source is called in a report.
pub fn source_vi(code: &str) -> &str {
    match code {
        "sponsorship" => "Tài trợ, đóng góp",
        "state_budget" => "Ngân sách nhà nước",
        "other" => "Nguồn khác",
        other => other,
    }
}

/// What a spending category is called in a report.
pub fn category_vi(code: &str) -> &str {
    match code {
        "training" => "Chi tập huấn",
        "materials" => "Chi tài liệu, ấn phẩm",
        "member_support" => "Chi hỗ trợ thành viên",
        "other" => "Chi khác",
        other => other,
    }
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
    let kind = match period.kind {
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    };
    let targets = plans::targets_of(conn, commune_id, kind, period.start)?;
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
        let plan_target = |village: Option<&str>| {
            targets
                .iter()
                .find(|t| t.indicator_id == indicator.id && t.village_id.as_deref() == village)
                .map(|t| t.target_percent)
        };
        let plan_target_percent = plan_target(None);
        let target = plan_target_percent.or(indicator.target_percent);
        let figure = sum(&now);
        indicators.push(ReportIndicator {
            gap: target.map_or(0, |t| gap(&figure, t)),
            figure: (&figure).into(),
            previous: (&sum(&before)).into(),
            villages: villages
                .iter()
                .map(|v| {
                    let f = now.get(&v.id).copied().unwrap_or(Figure {
                        denominator: counted.then_some(0),
                        ..Figure::default()
                    });
                    let target = plan_target(Some(&v.id)).or(target);
                    ReportVillage {
                        village_id: v.id.clone(),
                        name: v.name.clone(),
                        figure: (&f).into(),
                        target_percent: target,
                        gap: target.map_or(0, |t| gap(&f, t)),
                    }
                })
                .collect(),
            code: indicator.code,
            name_vi: indicator.name_vi,
            name_en: indicator.name_en,
            department: indicator.department,
            level: indicator.level,
            target_percent: indicator.target_percent,
            plan_target_percent,
        });
    }
    let activity = super::activity::compute(conn, commune_id, None, period)?;
    let funding = funding_totals(&plans::funding_between(
        conn,
        commune_id,
        period.start,
        period.end,
    )?);
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
        funding,
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
    // People read this file: indicators are numbered, never shown by their internal code.
    let mut headers = vec![
        "STT".to_owned(),
        "Chỉ tiêu".into(),
        "Đơn vị phụ trách".into(),
        "Đạt".into(),
        "Tổng số".into(),
        "Tỷ lệ (%)".into(),
        "Kỳ trước (%)".into(),
        "Mục tiêu (%)".into(),
        "Còn thiếu".into(),
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
        sheet.write_number(r, 0, (i + 1) as f64)?;
        sheet.write_string(r, 1, &ind.name_vi)?;
        let office = crate::domain::Department::parse(&ind.department)
            .map_or(ind.department.as_str(), |d| d.name_vi());
        sheet.write_string(r, 2, office)?;
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
        if let Some(t) = ind.target() {
            sheet.write_number_with_format(r, 7, t, &pct)?;
            sheet.write_number(r, 8, ind.gap as f64)?;
        }
        for (j, v) in ind.villages.iter().enumerate() {
            let col = 9 + j as u16;
            match v.figure.percent {
                Some(p) => sheet.write_number_with_format(r, col, p, &pct)?,
                None => sheet.write_number(r, col, v.figure.numerator as f64)?,
            };
        }
    }
    sheet.set_column_width(1, 60)?;

    // Progress against the period's targets, village by village, the furthest behind first.
    let goals = workbook.add_worksheet();
    goals.set_name("Tiến độ mục tiêu")?;
    for (col, h) in [
        "STT",
        "Chỉ tiêu",
        "Thôn",
        "Mục tiêu (%)",
        "Tỷ lệ (%)",
        "Đạt",
        "Tổng số",
        "Còn thiếu",
    ]
    .iter()
    .enumerate()
    {
        goals.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    let mut r = 1;
    for (n, ind) in c
        .indicators
        .iter()
        .filter(|i| i.target().is_some())
        .enumerate()
    {
        let mut rows: Vec<(&str, &ReportFigure, Option<f64>, i64)> =
            vec![("Toàn xã", &ind.figure, ind.target(), ind.gap)];
        let mut villages: Vec<&ReportVillage> = ind.villages.iter().collect();
        villages.sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.name.cmp(&b.name)));
        rows.extend(
            villages
                .iter()
                .map(|v| (v.name.as_str(), &v.figure, v.target_percent, v.gap)),
        );
        for (place, figure, target, gap) in rows {
            goals.write_number(r, 0, (n + 1) as f64)?;
            goals.write_string(r, 1, &ind.name_vi)?;
            goals.write_string(r, 2, place)?;
            if let Some(t) = target {
                goals.write_number_with_format(r, 3, t, &pct)?;
            }
            if let Some(p) = figure.percent {
                goals.write_number_with_format(r, 4, p, &pct)?;
            }
            goals.write_number(r, 5, figure.numerator as f64)?;
            if let Some(d) = figure.denominator {
                goals.write_number(r, 6, d as f64)?;
            }
            goals.write_number(r, 7, gap as f64)?;
            r += 1;
        }
    }
    goals.set_column_width(1, 50)?;
    goals.set_column_width(2, 20)?;

    // Funding (plan §III): whole đồng, by source and by category.
    let money = workbook.add_worksheet();
    money.set_name("Kinh phí")?;
    let vnd = Format::new().set_num_format("#,##0");
    money.write_string_with_format(0, 0, "Nội dung", &bold)?;
    money.write_string_with_format(0, 1, "Số tiền (đồng)", &bold)?;
    let f = &c.funding;
    let mut lines: Vec<(String, i64, bool)> =
        vec![("Tổng kinh phí tiếp nhận".into(), f.received_vnd, true)];
    lines.extend(
        in_order(&f.received_by_source, &SOURCE_ORDER)
            .into_iter()
            .map(|(k, v)| (format!("- {}", source_vi(k)), v, false)),
    );
    lines.push(("Tổng kinh phí đã chi".into(), f.spent_vnd, true));
    lines.extend(
        in_order(&f.spent_by_source, &SOURCE_ORDER)
            .into_iter()
            .map(|(k, v)| (format!("- Từ {}", source_vi(k).to_lowercase()), v, false)),
    );
    lines.extend(
        in_order(&f.spent_by_category, &CATEGORY_ORDER)
            .into_iter()
            .map(|(k, v)| (format!("- {}", category_vi(k)), v, false)),
    );
    lines.push(("Còn lại".into(), f.balance_vnd, true));
    for (i, (label, amount, strong)) in lines.iter().enumerate() {
        let row = 1 + i as u32;
        if *strong {
            money.write_string_with_format(row, 0, label, &bold)?;
        } else {
            money.write_string(row, 0, label)?;
        }
        money.write_number_with_format(row, 1, *amount as f64, &vnd)?;
    }
    money.set_column_width(0, 40)?;
    money.set_column_width(1, 20)?;

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

/// The printable page's style sheet. It is inline in the page, so the Content-Security-Policy
/// allows exactly this text by its hash (`security::csp`); any change here changes the hash.
pub const PRINT_STYLE: &str = r#"
@page { size: A4; margin: 20mm 15mm 20mm 30mm; }
body { font-family: "Times New Roman", serif; font-size: 13pt; line-height: 1.4; color: #000; }
.head { display: flex; justify-content: space-between; text-align: center; }
.head div { width: 48%; }
.upper { text-transform: uppercase; font-weight: bold; }
.motto { font-weight: bold; text-decoration: underline; }
h1 { text-align: center; font-size: 14pt; text-transform: uppercase; margin: 24pt 0 4pt; }
.sub { text-align: center; font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 12pt; }
td, th { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }
.n { text-align: right; white-space: nowrap; }
.sign { display: flex; justify-content: flex-end; text-align: center; margin-top: 24pt; }
.sign div { width: 50%; }
.draft { color: #a00; text-align: center; font-weight: bold; }
"#;

/// The date a report's page bears: the day it was approved, and until then the day it was
/// prepared (Vietnam time), never the period's last day, which may still be ahead.
pub fn dated(
    prepared_at: chrono::NaiveDateTime,
    approved_at: Option<chrono::NaiveDateTime>,
) -> chrono::NaiveDate {
    crate::sync::kinds::local_date(approved_at.unwrap_or(prepared_at))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one printable A4 page (HTML with print CSS; the browser's "Save as PDF" gives the
/// PDF). Laid out as a commune report: national heading, issuing body, title, sections following the
/// plan, and the signature block. `day` is the date the page bears ([`dated`]).
pub fn html(c: &ReportContent, approved: bool, day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let mut rows = String::new();
    for (i, ind) in c.indicators.iter().enumerate() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            i + 1,
            esc(&ind.name_vi),
            number(ind.figure.numerator),
            ind.figure.denominator.map(number).unwrap_or_else(|| "—".into()),
            percent_text(ind.figure.percent),
            percent_text(ind.target()),
            if ind.target().is_some() { number(ind.gap) } else { "—".into() },
        ));
    }
    let behind: String = c
        .indicators
        .iter()
        .filter_map(|ind| {
            ind.behind_vi(3)
                .map(|b| format!("<li>{}: {}.</li>", esc(&ind.name_vi), esc(&b)))
        })
        .collect();
    let behind = if behind.is_empty() {
        String::new()
    } else {
        format!("<p>Các thôn còn xa mục tiêu nhất:</p><ul>{behind}</ul>")
    };
    let funding: String = funding_vi(&c.funding, number)
        .iter()
        .map(|line| format!("<p>{}</p>", esc(line)))
        .collect();
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
<style>{style}</style></head><body>
<div class="head">
<div><div>ỦY BAN NHÂN DÂN</div><div class="upper">{commune_upper}</div></div>
<div><div class="upper">Cộng hòa xã hội chủ nghĩa Việt Nam</div><div class="motto">Độc lập - Tự do - Hạnh phúc</div>
<div><i>{commune}, ngày {d} tháng {m} năm {y}</i></div></div>
</div>
{draft}
<h1>Báo cáo</h1>
<div class="sub">Kết quả hoạt động của Tổ Công nghệ số cộng đồng {period}</div>
<h2>I. Kết quả thực hiện các chỉ tiêu</h2>
<table><thead><tr><th>STT</th><th>Chỉ tiêu</th><th>Đạt</th><th>Tổng số</th><th>Tỷ lệ</th><th>Mục tiêu</th><th>Còn thiếu</th></tr></thead>
<tbody>{rows}</tbody></table>
{behind}
<h2>II. Hoạt động của các Tổ Công nghệ số cộng đồng</h2>
<ol>
<li>Đến {visits} lượt hộ gia đình; hỗ trợ {reached} hộ với {items} lượt hỗ trợ dịch vụ số.</li>
<li>Tuyên truyền:<ul>{channels}</ul></li>
<li>Tập huấn: {trainings} buổi, {attendances} lượt thành viên tham dự ({trained} thành viên được tập huấn).</li>
<li>Khó khăn, vướng mắc: {raised} phát sinh, {answered} đã được trả lời{response}.</li>
<li>Các tổ:<ul>{teams}</ul></li>
</ol>
<h2>III. Kinh phí</h2>
{funding}
<h2>IV. Phương hướng, nhiệm vụ kỳ tới</h2>
<p>Tiếp tục đi từng ngõ, gõ từng nhà, hỗ trợ người dân còn thiếu các dịch vụ số theo danh sách của từng chỉ tiêu.</p>
<div class="sign"><div><div class="upper">TM. Ủy ban nhân dân</div><div class="upper">Chủ tịch</div><div><i>(Ký, ghi rõ họ tên, đóng dấu)</i></div></div></div>
</body></html>"#,
        style = PRINT_STYLE,
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
        behind = behind,
        funding = funding,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A report approved before targets and funding were in reports: its stored snapshot has
    /// none of those fields and must still read and render.
    #[test]
    fn an_earlier_snapshot_reads_without_targets_or_funding() {
        let stored = serde_json::json!({
            "commune_id": "c", "commune_name": "Mao Điền", "period_kind": "quarter",
            "period_label": "2026-Q3", "period_start": "2026-07-01", "period_last_day": "2026-09-30",
            "period_vi": "Quý III năm 2026",
            "indicators": [{"code": "adults_vneid_level2", "name_vi": "VNeID mức 2", "name_en": "VNeID",
                "department": "police", "target_percent": 80.0,
                "figure": {"numerator": 3, "denominator": 5, "percent": 60.0},
                "previous": {"numerator": 1, "denominator": 5, "percent": 20.0},
                "villages": [{"village_id": "v1", "name": "Thôn Phú Lộc",
                    "figure": {"numerator": 3, "denominator": 5, "percent": 60.0}}]}],
            "activity": {"house_visits": 3, "households_reached": 3, "assistance_items": 4,
                "communications": [], "difficulties_raised": 0, "difficulties_answered": 0, "teams": []}
        });
        let c: ReportContent = serde_json::from_value(stored).expect("an earlier snapshot reads");
        assert_eq!(c.funding, FundingTotals::default());
        let ind = &c.indicators[0];
        assert_eq!(
            (ind.plan_target_percent, ind.gap, ind.level.as_str()),
            (None, 0, "person")
        );
        assert_eq!(ind.target(), Some(80.0));
        assert!(ind.behind_vi(3).is_none());
        let page = html(&c, true, c.period_last_day);
        assert!(page.contains("Chưa ghi nhận kinh phí trong kỳ."));
        assert!(xlsx(&c, true).is_ok());
    }

    #[test]
    fn the_funding_sentences_keep_the_sources_in_the_plan_order() {
        let mut f = FundingTotals {
            received_vnd: 3,
            spent_vnd: 1,
            balance_vnd: 2,
            ..FundingTotals::default()
        };
        for (k, v) in [("other", 1), ("state_budget", 1), ("sponsorship", 1)] {
            f.received_by_source.insert(k.into(), v);
        }
        f.spent_by_source.insert("other".into(), 1);
        f.spent_by_category.insert("member_support".into(), 1);
        let lines = funding_vi(&f, |n| n.to_string());
        assert_eq!(
            lines,
            vec![
                "1. Kinh phí tiếp nhận: 3 đồng (Tài trợ, đóng góp 1 đồng; Ngân sách nhà nước 1 đồng; Nguồn khác 1 đồng).",
                "2. Kinh phí đã chi: 1 đồng (từ nguồn khác 1 đồng), gồm: Chi hỗ trợ thành viên 1 đồng.",
                "3. Còn lại: 2 đồng.",
            ]
        );
    }
}
