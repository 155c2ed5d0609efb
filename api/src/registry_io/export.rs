//! Export in the layout [`parse`](super::parse) reads.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::fields::{sex_label, Field};
use crate::domain::Sex;

/// Columns of the export, in order; the same Vietnamese headers the import reads.
pub const EXPORT_HEADERS: [&str; 11] = [
    "Mã hộ",
    "Thôn",
    "Xóm",
    "Ngõ",
    "Số nhà",
    "Chủ hộ",
    "Điện thoại",
    "Họ và tên",
    "Năm sinh",
    "Giới tính",
    "Quan hệ với chủ hộ",
];

/// The worksheet written by [`write_xlsx`].
pub const XLSX_SHEET_NAME: &str = "Hộ dân";

/// One person, with their household's columns repeated on each row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    pub household_code: String,
    /// Village code.
    pub village: String,
    pub hamlet: Option<String>,
    pub lane: Option<String>,
    pub house_number: Option<String>,
    pub head_name: String,
    pub phone: Option<String>,
    pub full_name: String,
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    pub relation_to_head: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("writing the Excel file failed")]
pub struct ExportError(#[from] XlsxError);

/// The text of each column; the birth year is also written as a number in XLSX.
fn columns(row: &ExportRow) -> [String; 11] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        row.household_code.clone(),
        row.village.clone(),
        text(&row.hamlet),
        text(&row.lane),
        text(&row.house_number),
        row.head_name.clone(),
        text(&row.phone),
        row.full_name.clone(),
        row.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        row.sex.map(|s| sex_label(s).to_owned()).unwrap_or_default(),
        text(&row.relation_to_head),
    ]
}

/// UTF-8 with BOM (so Excel shows Vietnamese), comma-separated, CRLF line ends.
///
/// A cell starting with `=`, `+`, `-` or `@` gets a leading `'` so Excel does not evaluate it as a
/// formula (CSV injection); [`parse`](super::parse) removes it again.
pub fn write_csv(rows: &[ExportRow]) -> Vec<u8> {
    let mut out = String::with_capacity(64 + rows.len() * 120);
    out.push('\u{FEFF}');
    write_csv_line(&mut out, EXPORT_HEADERS.iter().copied());
    for row in rows {
        let columns = columns(row);
        write_csv_line(&mut out, columns.iter().map(String::as_str));
    }
    out.into_bytes()
}

fn write_csv_line<'a>(out: &mut String, values: impl Iterator<Item = &'a str>) {
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let value = neutralise_formula(value);
        if value.contains([',', '"', '\r', '\n', ';']) || value.trim() != value {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&value);
        }
    }
    out.push_str("\r\n");
}

fn neutralise_formula(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// One worksheet "Hộ dân": bold header row (frozen, with filters), sized columns, the birth year
/// as a number, codes, house numbers and phones as text (so Excel keeps their leading zeros).
pub fn write_xlsx(rows: &[ExportRow]) -> Result<Vec<u8>, ExportError> {
    const WIDTHS: [f64; 11] = [
        12.0, 14.0, 12.0, 12.0, 10.0, 24.0, 14.0, 24.0, 10.0, 10.0, 18.0,
    ];
    /// Columns that hold digits that are not numbers.
    const TEXT_COLUMNS: [Field; 3] = [Field::HouseholdCode, Field::HouseNumber, Field::Phone];
    let birth_year_column = 8u16;

    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = workbook.add_worksheet();
    sheet.set_name(XLSX_SHEET_NAME)?;
    for (col, (header, width)) in EXPORT_HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, width)?;
        sheet.write_string_with_format(0, col, *header, &bold)?;
    }
    let is_text_column = |col: u16| {
        TEXT_COLUMNS
            .iter()
            .any(|f| EXPORT_HEADERS.get(col as usize) == Some(&f.header()))
    };
    for col in 0..EXPORT_HEADERS.len() as u16 {
        if is_text_column(col) {
            sheet.set_column_format(col, &text)?;
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, value) in columns(row).into_iter().enumerate() {
            let col = col as u16;
            if value.is_empty() {
                continue;
            }
            if col == birth_year_column {
                if let Some(year) = row.birth_year {
                    sheet.write_number(r, col, f64::from(year))?;
                }
            } else if is_text_column(col) {
                sheet.write_string_with_format(r, col, value, &text)?;
            } else {
                sheet.write_string(r, col, value)?;
            }
        }
    }
    let last_row = u32::try_from(rows.len()).map_err(|_| XlsxError::RowColumnLimitError)?;
    sheet.autofilter(0, 0, last_row, EXPORT_HEADERS.len() as u16 - 1)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(workbook.save_to_buffer()?)
}

/// Any table as CSV in the same form as [`write_csv`]: UTF-8 with BOM, CRLF, formulas neutralised.
pub fn table_csv(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::with_capacity(64 + rows.len() * 80);
    out.push('\u{FEFF}');
    write_csv_line(&mut out, headers.iter().copied());
    for row in rows {
        write_csv_line(&mut out, row.iter().map(String::as_str));
    }
    out.into_bytes()
}

/// Any table as a one-sheet workbook: bold, frozen header row; every cell written as text.
pub fn table_xlsx(
    sheet_name: &str,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    for (col, header) in headers.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.set_column_width(col, 18)?;
        sheet.write_string_with_format(0, col, *header, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (col, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(r, u16::try_from(col).unwrap_or(u16::MAX), value)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(workbook.save_to_buffer()?)
}
