//! Rows of the first worksheet of an XLSX, streamed cell by cell.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx, XlsxCellReader};

use super::fields::{format_number, CellText};
use super::import::{RawRow, RowSource};
use super::{zip_guard, ImportError, MAX_COLUMNS};

/// Open the workbook and hand the rows of its first worksheet to `read`.
pub(crate) fn with_first_sheet<T>(
    bytes: &[u8],
    read: impl FnOnce(&mut dyn RowSource) -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    zip_guard::check(bytes)?;
    // calamine parses untrusted XML and ZIP structures; should it ever panic on a malformed file,
    // report the file as unreadable rather than take the worker down.
    catch_unwind(AssertUnwindSafe(|| {
        let mut workbook: Xlsx<Cursor<&[u8]>> =
            Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
        let sheet = first_worksheet(&workbook)
            .ok_or_else(|| ImportError::Unreadable("the workbook has no worksheet".to_owned()))?;
        let reader = workbook
            .worksheet_cells_reader(&sheet)
            .map_err(unreadable)?;
        let mut rows = XlsxRows {
            reader,
            pending: None,
            row: None,
            cells: Vec::new(),
            seen: [false; MAX_COLUMNS],
            finished: false,
        };
        read(&mut rows)
    }))
    .unwrap_or_else(|_| {
        Err(ImportError::Unreadable(
            "the workbook is malformed".to_owned(),
        ))
    })
}

fn unreadable(error: calamine::XlsxError) -> ImportError {
    ImportError::Unreadable(format!("not a valid Excel workbook (.xlsx): {error}"))
}

/// The first visible worksheet, else the first worksheet.
fn first_worksheet(workbook: &Xlsx<Cursor<&[u8]>>) -> Option<String> {
    let sheets = workbook.sheets_metadata();
    let worksheets = || sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    worksheets()
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| worksheets().next())
        .map(|s| s.name.clone())
}

struct XlsxRows<'a> {
    reader: XlsxCellReader<'a, Cursor<&'a [u8]>>,
    /// A cell of the next row, read while finishing the current one.
    pending: Option<(u32, u32, Option<CellText>)>,
    /// The row being gathered (0-based).
    row: Option<u32>,
    cells: Vec<(u32, CellText)>,
    /// Columns of `cells`, so a cell written twice costs nothing.
    seen: [bool; MAX_COLUMNS],
    finished: bool,
}

impl XlsxRows<'_> {
    fn next_cell(&mut self) -> Result<Option<(u32, u32, Option<CellText>)>, ImportError> {
        if let Some(cell) = self.pending.take() {
            return Ok(Some(cell));
        }
        if self.finished {
            return Ok(None);
        }
        match self.reader.next_cell().map_err(unreadable)? {
            None => {
                self.finished = true;
                Ok(None)
            }
            Some(cell) => {
                let (row, column) = cell.get_position();
                let text = if (column as usize) < MAX_COLUMNS {
                    cell_text(cell.get_value())
                } else {
                    None
                };
                Ok(Some((row, column, text)))
            }
        }
    }

    fn take_row(&mut self) -> Option<RawRow> {
        let row = self.row?;
        if self.cells.is_empty() {
            return None;
        }
        self.seen = [false; MAX_COLUMNS];
        Some(RawRow {
            line: row as usize + 1,
            cells: std::mem::take(&mut self.cells),
        })
    }
}

impl RowSource for XlsxRows<'_> {
    fn next_row(&mut self) -> Result<Option<RawRow>, ImportError> {
        loop {
            let Some((row, column, text)) = self.next_cell()? else {
                return Ok(self.take_row());
            };
            match self.row {
                Some(current) if row < current => {
                    return Err(ImportError::Unreadable(
                        "the worksheet's rows are out of order".to_owned(),
                    ));
                }
                Some(current) if row > current => {
                    if let Some(done) = self.take_row() {
                        self.pending = Some((row, column, text));
                        self.row = Some(row);
                        return Ok(Some(done));
                    }
                    self.row = Some(row);
                }
                Some(_) => {}
                None => self.row = Some(row),
            }
            if let Some(text) = text {
                // A cell written twice: the first one counts. (`text` is only set for columns
                // below MAX_COLUMNS.)
                if let Some(seen) = self.seen.get_mut(column as usize) {
                    if !*seen {
                        *seen = true;
                        self.cells.push((column, text));
                    }
                }
            }
        }
    }
}

fn cell_text(value: &DataRef<'_>) -> Option<CellText> {
    match value {
        DataRef::Empty => None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            CellText::new(s, false)
        }
        DataRef::SharedString(s) => CellText::new(s, false),
        DataRef::Int(i) => CellText::new(&i.to_string(), false),
        DataRef::Float(f) => CellText::new(&format_number(*f), false),
        DataRef::Bool(b) => CellText::new(if *b { "TRUE" } else { "FALSE" }, false),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (year, month, day, ..) = dt.to_ymd_hms_milli();
            CellText::new(&format!("{day:02}/{month:02}/{year:04}"), false)
        }
        DataRef::DateTime(dt) => CellText::new(&format_number(dt.as_f64()), false),
        DataRef::Error(e) => Some(CellText::error(e.to_string())),
    }
}
