//! The report as an A4 PDF laid out like a Vietnamese administrative report (Nghị định 30/2020/NĐ-CP
//! style): issuing body and national heading side by side, place and date, title, numbered sections,
//! the indicator table, recipients and the signature block. Set in Liberation Serif (metrically
//! Times New Roman, the font such documents use), embedded and subset by krilla; pages after the first
//! are numbered at the top.
//!
//! Layout is computed first (lines of text and rules per page, measured with the font's advance
//! widths), then drawn; krilla handles shaping, subsetting and the PDF structure.

use chrono::Datelike;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::report::{percent_text as percent, ReportContent};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Bold.ttf");
const ITALIC: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Italic.ttf");

/// A4 in points, with the margins the decree sets (top 20 mm, bottom 20 mm, left 30 mm, right 15 mm).
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MM: f32 = 72.0 / 25.4;
const LEFT: f32 = 30.0 * MM;
const RIGHT: f32 = PAGE_W - 15.0 * MM;
const TOP: f32 = 20.0 * MM;
const BOTTOM: f32 = PAGE_H - 20.0 * MM;
const BODY: f32 = 13.0;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Regular,
    Bold,
    Italic,
}

impl Face {
    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => REGULAR,
            Face::Bold => BOLD,
            Face::Italic => ITALIC,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        red: bool,
        text: String,
    },
    Rule {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
    },
}

/// Width of `text` at `size` in `face`, from the font's advance widths.
fn width(face: Face, size: f32, text: &str) -> f32 {
    let Ok(font) = FontRef::new(face.bytes()) else {
        return text.chars().count() as f32 * size * 0.5;
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    text.chars()
        .map(|c| {
            charmap
                .map(c)
                .and_then(|g| metrics.advance_width(g))
                .unwrap_or(size * 0.5)
        })
        .sum()
}

/// Breaks `text` into lines no wider than `max` (a word longer than a line stays whole).
fn wrap(face: Face, size: f32, text: &str, max: f32) -> Vec<String> {
    let mut lines = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(face, size, &candidate) <= max || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![vec![]],
            y: TOP,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(vec![]);
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page when `height` does not fit on this one.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(vec![]);
            self.y = TOP + 2.0 * BODY;
        }
    }

    fn line_height(size: f32) -> f32 {
        size * 1.35
    }

    /// One line of text in the box `[x0, x1]` with its baseline at `y`.
    fn text_at(&mut self, t: TextAt<'_>) {
        let w = width(t.face, t.size, t.text);
        let x = match t.align {
            Align::Left => t.x0,
            Align::Center => t.x0 + (t.x1 - t.x0 - w) / 2.0,
            Align::Right => t.x1 - w,
        };
        self.ops().push(Op::Text {
            x,
            y: t.y,
            size: t.size,
            face: t.face,
            red: t.red,
            text: t.text.to_owned(),
        });
        if t.underline {
            let y = t.y + t.size * 0.18;
            self.ops().push(Op::Rule {
                x1: x,
                y1: y,
                x2: x + w,
                y2: y,
            });
        }
    }

    /// A wrapped paragraph between `x0` and `x1`; `first` is the first line's extra indent.
    fn paragraph(&mut self, p: Para<'_>) {
        let lh = Self::line_height(p.size);
        let lines = wrap(p.face, p.size, p.text, p.x1 - p.x0 - p.first);
        for (i, line) in lines.iter().enumerate() {
            self.room(lh);
            self.y += lh;
            let x0 = if i == 0 { p.x0 + p.first } else { p.x0 };
            let y = self.y - lh * 0.25;
            self.text_at(TextAt {
                x0,
                x1: p.x1,
                y,
                size: p.size,
                face: p.face,
                align: p.align,
                red: false,
                underline: false,
                text: line,
            });
        }
    }

    fn body(&mut self, text: &str) {
        self.paragraph(Para {
            text,
            face: Face::Regular,
            size: BODY,
            align: Align::Left,
            x0: LEFT,
            x1: RIGHT,
            first: 1.0 * 28.35,
        });
    }

    fn heading(&mut self, text: &str) {
        self.y += 4.0;
        self.room(3.0 * BODY);
        self.paragraph(Para {
            text,
            face: Face::Bold,
            size: BODY,
            align: Align::Left,
            x0: LEFT,
            x1: RIGHT,
            first: 1.0 * 28.35,
        });
    }

    /// A bordered table; the header row repeats on each page the table runs onto.
    fn table(&mut self, widths: &[f32], header: &[&str], rows: &[Vec<String>], right: &[bool]) {
        let size = 12.0;
        let lh = Self::line_height(size);
        let pad = 3.0;
        let total: f32 = widths.iter().sum();
        let scale = (RIGHT - LEFT) / total;
        let widths: Vec<f32> = widths.iter().map(|w| w * scale).collect();
        let header: Vec<String> = header.iter().map(|s| (*s).to_owned()).collect();
        let draw_row = |l: &mut Layout, cells: &[String], face: Face, header_row: bool| {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| wrap(face, size, c, w - 2.0 * pad))
                .collect();
            let height = wrapped.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad;
            let top = l.y;
            let mut x = LEFT;
            for (i, (lines, w)) in wrapped.iter().zip(&widths).enumerate() {
                for (k, line) in lines.iter().enumerate() {
                    let align = if header_row {
                        Align::Center
                    } else if right.get(i).copied().unwrap_or(false) {
                        Align::Right
                    } else {
                        Align::Left
                    };
                    l.text_at(TextAt {
                        x0: x + pad,
                        x1: x + w - pad,
                        y: top + pad + (k as f32 + 1.0) * lh - lh * 0.25,
                        size,
                        face,
                        align,
                        red: false,
                        underline: false,
                        text: line,
                    });
                }
                x += w;
            }
            // Borders: top, bottom and the verticals of this row.
            let bottom = top + height;
            l.ops().push(Op::Rule {
                x1: LEFT,
                y1: top,
                x2: RIGHT,
                y2: top,
            });
            l.ops().push(Op::Rule {
                x1: LEFT,
                y1: bottom,
                x2: RIGHT,
                y2: bottom,
            });
            let mut x = LEFT;
            for w in std::iter::once(0.0).chain(widths.iter().copied()) {
                x += w;
                l.ops().push(Op::Rule {
                    x1: x,
                    y1: top,
                    x2: x,
                    y2: bottom,
                });
            }
            l.y = bottom;
            height
        };
        self.y += 4.0;
        self.room(3.0 * lh);
        draw_row(self, &header, Face::Bold, true);
        for row in rows {
            let needed = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| wrap(Face::Regular, size, c, w - 2.0 * pad).len())
                .max()
                .unwrap_or(1) as f32
                * lh
                + 2.0 * pad;
            if self.y + needed > BOTTOM {
                self.room(f32::MAX);
                draw_row(self, &header, Face::Bold, true);
            }
            draw_row(self, row, Face::Regular, false);
        }
        self.y += 6.0;
    }
}

struct TextAt<'a> {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    face: Face,
    align: Align,
    red: bool,
    underline: bool,
    text: &'a str,
}

struct Para<'a> {
    text: &'a str,
    face: Face,
    size: f32,
    align: Align,
    x0: f32,
    x1: f32,
    first: f32,
}

/// What a communication channel is called in a report.
pub fn channel_vi(code: &str) -> &str {
    match code {
        "loudspeaker" => "Loa truyền thanh",
        "zalo" => "Zalo",
        "facebook" => "Facebook",
        "meeting" => "Hội nghị, họp dân",
        "community_event" => "Sự kiện cộng đồng",
        "leaflet" => "Tờ rơi",
        "other" => "Hình thức khác",
        other => other,
    }
}

pub(super) fn number(n: i64) -> String {
    // Vietnamese groups thousands with a dot.
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Lays the report out on A4 pages.
fn layout(c: &ReportContent, approved: bool, day: chrono::NaiveDate) -> Layout {
    let mut l = Layout::new();
    let split = LEFT + (RIGHT - LEFT) * 0.4;
    let commune_upper = format!("Xã {}", c.commune_name).to_uppercase();
    let line = |l: &mut Layout, x0: f32, x1: f32, row: f32, face, size, underline, text: &str| {
        l.text_at(TextAt {
            x0,
            x1,
            y: TOP + row * Layout::line_height(13.0),
            size,
            face,
            align: Align::Center,
            red: false,
            underline,
            text,
        })
    };
    // Issuing body (left) and national heading (right).
    line(
        &mut l,
        LEFT,
        split,
        1.0,
        Face::Regular,
        12.5,
        false,
        "ỦY BAN NHÂN DÂN",
    );
    line(
        &mut l,
        LEFT,
        split,
        2.0,
        Face::Bold,
        12.5,
        true,
        &commune_upper,
    );
    line(
        &mut l,
        split,
        RIGHT,
        1.0,
        Face::Bold,
        12.0,
        false,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    );
    line(
        &mut l,
        split,
        RIGHT,
        2.0,
        Face::Bold,
        13.0,
        true,
        "Độc lập - Tự do - Hạnh phúc",
    );
    let place_date = format!(
        "{}, ngày {} tháng {} năm {}",
        c.commune_name,
        day.day(),
        day.month(),
        day.year()
    );
    line(
        &mut l,
        split,
        RIGHT,
        3.4,
        Face::Italic,
        13.0,
        false,
        &place_date,
    );
    l.y = TOP + 4.2 * Layout::line_height(13.0);
    if !approved {
        l.y += Layout::line_height(13.0);
        let y = l.y;
        l.text_at(TextAt {
            x0: LEFT,
            x1: RIGHT,
            y,
            size: 13.0,
            face: Face::Bold,
            align: Align::Center,
            red: true,
            underline: false,
            text: "DỰ THẢO",
        });
    }
    l.y += 10.0;
    l.paragraph(Para {
        text: "BÁO CÁO",
        face: Face::Bold,
        size: 14.0,
        align: Align::Center,
        x0: LEFT,
        x1: RIGHT,
        first: 0.0,
    });
    l.paragraph(Para {
        text: &format!(
            "Kết quả hoạt động của Tổ Công nghệ số cộng đồng {}",
            c.period_vi
        ),
        face: Face::Bold,
        size: 13.0,
        align: Align::Center,
        x0: LEFT + 40.0,
        x1: RIGHT - 40.0,
        first: 0.0,
    });
    l.y += 8.0;

    l.heading("I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU");
    let rows: Vec<Vec<String>> = c
        .indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| {
            vec![
                (i + 1).to_string(),
                ind.name_vi.clone(),
                number(ind.figure.numerator),
                ind.figure
                    .denominator
                    .map(number)
                    .unwrap_or_else(|| "—".into()),
                percent(ind.figure.percent),
                percent(ind.target()),
                if ind.target().is_some() {
                    number(ind.gap)
                } else {
                    "—".into()
                },
            ]
        })
        .collect();
    l.table(
        &[28.0, 172.0, 50.0, 56.0, 48.0, 52.0, 54.0],
        &[
            "STT",
            "Chỉ tiêu",
            "Đạt",
            "Tổng số",
            "Tỷ lệ",
            "Mục tiêu",
            "Còn thiếu",
        ],
        &rows,
        &[false, false, true, true, true, true, true],
    );
    let behind: Vec<String> = c
        .indicators
        .iter()
        .filter_map(|ind| {
            ind.behind_vi(3)
                .map(|b| format!("- {}: {}.", ind.name_vi, b))
        })
        .collect();
    if !behind.is_empty() {
        l.body("Các thôn còn xa mục tiêu nhất:");
        for line in &behind {
            l.body(line);
        }
    }

    l.heading("II. HOẠT ĐỘNG CỦA CÁC TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG");
    let a = &c.activity;
    l.body(&format!(
        "1. Đến {} lượt hộ gia đình; hỗ trợ {} hộ với {} lượt hỗ trợ dịch vụ số.",
        number(a.house_visits),
        number(a.households_reached),
        number(a.assistance_items)
    ));
    if a.communications.is_empty() {
        l.body("2. Tuyên truyền: chưa ghi nhận hoạt động trong kỳ.");
    } else {
        l.body("2. Tuyên truyền:");
        for ch in &a.communications {
            l.body(&format!(
                "- {}: {} hoạt động, {} lượt người.",
                channel_vi(&ch.channel),
                number(ch.activities),
                number(ch.reach)
            ));
        }
    }
    l.body(&format!(
        "3. Tập huấn: {} buổi, {} lượt thành viên tham dự ({} thành viên được tập huấn).",
        number(a.trainings_held),
        number(a.training_attendances),
        number(a.members_trained)
    ));
    l.body(&format!(
        "4. Khó khăn, vướng mắc: {} phát sinh, {} đã được trả lời{}.",
        number(a.difficulties_raised),
        number(a.difficulties_answered),
        a.response_median_hours
            .map(|h| format!(
                "; thời gian trả lời trung vị {} giờ",
                h.to_string().replace('.', ",")
            ))
            .unwrap_or_default()
    ));
    if !a.teams.is_empty() {
        l.body("5. Các tổ:");
        for t in &a.teams {
            l.body(&format!(
                "- {}: {} thành viên, {} thành viên có hoạt động trong kỳ.",
                t.name,
                number(t.members),
                number(t.active_members)
            ));
        }
    }

    l.heading("III. KINH PHÍ");
    for line in super::report::funding_vi(&c.funding, number) {
        l.body(&line);
    }

    l.heading("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI");
    l.body("Tiếp tục đi từng ngõ, gõ từng nhà, hỗ trợ người dân còn thiếu các dịch vụ số theo danh sách của từng chỉ tiêu.");

    // Recipients (left) and signature (right), kept together.
    let lh = Layout::line_height(13.0);
    l.y += 12.0;
    l.room(7.0 * lh);
    let top = l.y;
    let mid = LEFT + (RIGHT - LEFT) * 0.45;
    let left_lines: [(&str, Face, f32); 4] = [
        ("Nơi nhận:", Face::Bold, 12.0),
        ("- UBND thành phố;", Face::Regular, 11.0),
        ("- Sở Khoa học và Công nghệ;", Face::Regular, 11.0),
        ("- Lưu: VT, VHXH.", Face::Regular, 11.0),
    ];
    for (i, (text, face, size)) in left_lines.iter().enumerate() {
        l.text_at(TextAt {
            x0: LEFT,
            x1: mid,
            y: top + (i as f32 + 1.0) * lh * 0.9,
            size: *size,
            face: *face,
            align: Align::Left,
            red: false,
            underline: false,
            text,
        });
    }
    let right_lines: [(&str, Face); 3] = [
        ("TM. ỦY BAN NHÂN DÂN", Face::Bold),
        ("CHỦ TỊCH", Face::Bold),
        ("(Ký, ghi rõ họ tên, đóng dấu)", Face::Italic),
    ];
    for (i, (text, face)) in right_lines.iter().enumerate() {
        l.text_at(TextAt {
            x0: mid,
            x1: RIGHT,
            y: top + (i as f32 + 1.0) * lh,
            size: 13.0,
            face: *face,
            align: Align::Center,
            red: false,
            underline: false,
            text,
        });
    }
    l.y = top + 7.0 * lh;
    l
}

/// The report as PDF bytes.
pub fn pdf(c: &ReportContent, approved: bool, dated: chrono::NaiveDate) -> anyhow::Result<Vec<u8>> {
    let l = layout(c, approved, dated);
    let font = |face: Face| {
        Font::new(face.bytes().into(), 0).ok_or_else(|| anyhow::anyhow!("unreadable font {face:?}"))
    };
    let (regular, bold, italic) = (font(Face::Regular)?, font(Face::Bold)?, font(Face::Italic)?);
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| anyhow::anyhow!("bad page size"))?;
    let mut document = Document::new();
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(format!(
                "Báo cáo Tổ Công nghệ số cộng đồng {} — Xã {}",
                c.period_vi, c.commune_name
            ))
            .language("vi".into())
            .creator("Từng Nhà".into()),
    );
    for (n, ops) in l.pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let black = Fill {
            paint: rgb::Color::new(0, 0, 0).into(),
            ..Fill::default()
        };
        let red = Fill {
            paint: rgb::Color::new(170, 0, 0).into(),
            ..Fill::default()
        };
        if n > 0 {
            let label = (n + 1).to_string();
            let w = width(Face::Regular, 13.0, &label);
            surface.set_fill(Some(black.clone()));
            surface.draw_text(
                Point::from_xy((LEFT + RIGHT - w) / 2.0, TOP - 10.0),
                regular.clone(),
                13.0,
                &label,
                false,
                TextDirection::Auto,
            );
        }
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    face,
                    red: is_red,
                    text,
                } => {
                    surface.set_fill(Some(if is_red { red.clone() } else { black.clone() }));
                    let f = match face {
                        Face::Regular => regular.clone(),
                        Face::Bold => bold.clone(),
                        Face::Italic => italic.clone(),
                    };
                    surface.draw_text(
                        Point::from_xy(x, y),
                        f,
                        size,
                        &text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rule { x1, y1, x2, y2 } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(0, 0, 0).into(),
                            width: 0.6,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| anyhow::anyhow!("pdf: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_within_the_width_and_keep_every_word() {
        let text = "Tỷ lệ người dân từ 18 tuổi trở lên có tài khoản định danh điện tử mức độ 2 trên tổng dân số trưởng thành của xã";
        let lines = wrap(Face::Regular, 12.0, text, 150.0);
        assert!(lines.len() > 2, "{lines:?}");
        for line in &lines {
            assert!(width(Face::Regular, 12.0, line) <= 150.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn the_fonts_cover_vietnamese() {
        let font = FontRef::new(REGULAR).expect("font");
        let charmap = font.charmap();
        for c in "ẮẰẲẴẶắằẳẵặĐđƠơƯưỹỸộỘữỮệỆ".chars() {
            assert!(charmap.map(c).is_some(), "{c}");
        }
    }

    #[test]
    fn numbers_group_thousands_the_vietnamese_way() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1.000");
        assert_eq!(number(1234567), "1.234.567");
        assert_eq!(number(-12000), "-12.000");
    }
}
