//! CSV and XLSX import and export of village household lists (pure: no database).
//!
//! Village heads keep their household lists in Excel, one row per person:
//!
//! `Mã hộ | Thôn | Xóm | Ngõ | Số nhà | Chủ hộ | Điện thoại | Họ và tên | Năm sinh | Giới tính | Quan hệ với chủ hộ`
//!
//! [`parse`] reads such a file (CSV or the first worksheet of an XLSX), validates every row with the
//! domain types and groups the rows into households. Problems with one row are reported as
//! [`RowError`]s (with the line number the user sees in Excel) and never stop the import; only
//! problems with the whole file are an [`ImportError`]. [`write_csv`] and [`write_xlsx`] write the
//! same layout back, so an export can be edited in Excel and imported again.
//!
//! Memory and time are bounded by the size of the input: cells are cut at [`MAX_CELL_CHARS`],
//! columns past [`MAX_COLUMNS`] are ignored, more than [`MAX_ROWS`] data rows are refused, XLSX
//! sheets are streamed cell by cell, and an XLSX is inspected before it is opened (see
//! `zip_guard`): parts that would decompress to more than [`MAX_XLSX_PART_BYTES`] (or
//! [`MAX_XLSX_TOTAL_BYTES`] in all), or would make calamine keep more than
//! [`MAX_XLSX_HEAP_ESTIMATE`] in memory, are refused.

mod csv_rows;
mod detect;
mod export;
mod fields;
mod import;
mod members;
mod xlsx_rows;
mod zip_guard;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::domain::Sex;

pub use detect::detect_format;
pub use export::{
    table_csv, table_xlsx, write_csv, write_xlsx, ExportError, ExportRow, EXPORT_HEADERS,
    XLSX_SHEET_NAME,
};
pub use import::parse;
pub use members::{parse_members, ImportedMember, ParsedMembers, MAX_MEMBER_ROWS};
pub use zip_guard::{
    MAX_SHARED_STRINGS, MAX_XLSX_HEAP_ESTIMATE, MAX_XLSX_PART_BYTES, MAX_XLSX_TOTAL_BYTES,
};

/// The most data rows (people) one file may hold.
pub const MAX_ROWS: usize = 20_000;
/// Cells longer than this (after trimming) are cut and reported as `too_long`.
pub const MAX_CELL_CHARS: usize = 1_000;
/// Columns past this one are ignored.
pub const MAX_COLUMNS: usize = 256;
/// The header row is looked for among this many first non-blank rows (a title may sit above it).
pub const HEADER_SCAN_ROWS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Xlsx,
}

impl ImportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Xlsx => "xlsx",
        }
    }
}

/// A problem with the whole file: nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is damaged or not what its format says (a truncated XLSX, a ZIP that is no workbook, ...).
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    /// Neither a UTF-8 CSV nor an XLSX; `found` says what it looks like instead, for the user.
    #[error("expected a CSV file (UTF-8) or an Excel workbook (.xlsx), but this is {found}")]
    NotCsvOrXlsx { found: &'static str },
    /// Required headers not found; Vietnamese header names, e.g. `["Thôn", "Họ và tên"]`.
    #[error("the header row lacks the required columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// No header row or no data row.
    #[error("the file has no household rows")]
    Empty,
    /// More data rows than [`MAX_ROWS`].
    #[error("the file has {rows} data rows; at most {max} can be imported at once")]
    TooManyRows { rows: usize, max: usize },
}

impl ImportError {
    /// Stable snake_case code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Unreadable(_) => "unreadable_file",
            ImportError::NotCsvOrXlsx { .. } => "not_csv_or_xlsx",
            ImportError::MissingColumns(_) => "missing_columns",
            ImportError::Empty => "empty_file",
            ImportError::TooManyRows { .. } => "too_many_rows",
        }
    }
}

/// A problem with one row; the row is left out of its household, the rest of the file is imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based row number as the user sees it in Excel (the header row is usually line 1).
    pub line: usize,
    /// The header of the offending column as written in the file; `None` for the whole row.
    pub column: Option<String>,
    /// Stable snake_case code: `required`, `too_long`, `invalid_characters`, `invalid_value`,
    /// `invalid_phone`, `invalid_birth_year`, `out_of_range`, `invalid_sex`,
    /// `inconsistent_household`, `household_has_errors`.
    pub code: String,
    /// What is wrong, in English.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedResident {
    pub line: usize,
    pub full_name: String,
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    /// Normalised digits; only from an English `resident_phone` column.
    pub phone: Option<String>,
    pub relation_to_head: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedHousehold {
    /// Line of the household's first imported row.
    pub line: usize,
    pub household_code: Option<String>,
    /// As written: a village code like "T01" or a name like "Thôn Phú Lộc".
    pub village: String,
    pub hamlet: Option<String>,
    pub lane: Option<String>,
    pub house_number: Option<String>,
    pub head_name: String,
    /// Normalised digits.
    pub phone: Option<String>,
    /// In file order; never empty.
    pub residents: Vec<ImportedResident>,
}

#[derive(Debug)]
pub struct ParsedImport {
    /// In order of their first imported row.
    pub households: Vec<ImportedHousehold>,
    /// Sorted by line.
    pub errors: Vec<RowError>,
    /// Data rows read below the header: rows with a non-blank cell in a column the import reads.
    pub rows: usize,
}
