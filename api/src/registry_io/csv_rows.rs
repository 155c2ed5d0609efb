//! A small CSV reader with bounded memory: RFC 4180 quoting, `,` `;` or tab, any line ending.
//!
//! Written here rather than with the `csv` crate so that one record counts as one Excel row
//! (blank lines included, a quoted line break not), cells are cut while reading, and columns past
//! [`MAX_COLUMNS`] cost nothing.

use super::fields::CellText;
use super::import::{RawRow, RowSource};
use super::{ImportError, MAX_CELL_CHARS, MAX_COLUMNS};

/// Raw bytes kept per field before trimming and normalising; beyond this the cell is `too_long`.
const MAX_FIELD_BYTES: usize = MAX_CELL_CHARS * 8;

pub(crate) const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// The text of a CSV file: BOM removed, and Excel's `sep=;` first line (which Excel hides) applied.
pub(crate) struct CsvText<'a> {
    pub text: &'a str,
    pub delimiter: Option<u8>,
}

pub(crate) fn prepare(bytes: &[u8]) -> Result<CsvText<'_>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotCsvOrXlsx {
        found: "text that is not UTF-8 (in Excel, save it as \"CSV UTF-8\")",
    })?;
    let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let first_line = text[..first_line_end].trim_end_matches(['\r', '\n']);
    if first_line.len() == 5
        && first_line.is_char_boundary(4)
        && first_line[..4].eq_ignore_ascii_case("sep=")
    {
        let delimiter = first_line.as_bytes()[4];
        if DELIMITERS.contains(&delimiter) || delimiter == b'|' {
            return Ok(CsvText {
                text: &text[first_line_end..],
                delimiter: Some(delimiter),
            });
        }
    }
    Ok(CsvText {
        text,
        delimiter: None,
    })
}

/// Delimiters to try, the one most frequent in the first line first.
pub(crate) fn delimiter_candidates(text: &str) -> Vec<u8> {
    let first_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut candidates = DELIMITERS.to_vec();
    // Stable sort: ties keep the order comma, semicolon, tab.
    candidates.sort_by_key(|d| std::cmp::Reverse(first_line.bytes().filter(|b| b == d).count()));
    candidates
}

pub(crate) struct CsvRows<'a> {
    text: &'a str,
    pos: usize,
    delimiter: u8,
    /// Records read so far, blank ones included: the Excel row number of the last one.
    records: usize,
}

impl<'a> CsvRows<'a> {
    pub(crate) fn new(text: &'a str, delimiter: u8) -> Self {
        CsvRows {
            text,
            pos: 0,
            delimiter,
            records: 0,
        }
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }

    /// The next record's non-blank cells, or `None` at the end of the text.
    fn next_record(&mut self) -> Option<Vec<(u32, CellText)>> {
        let bytes = self.text.as_bytes();
        let len = bytes.len();
        if self.pos >= len {
            return None;
        }
        self.records += 1;
        let mut cells = Vec::new();
        let mut column = 0usize;
        loop {
            let mut field = FieldBuf::default();
            if bytes.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                loop {
                    match find_byte(bytes, self.pos, b'"') {
                        None => {
                            // Unterminated quote: the field runs to the end of the file.
                            field.push(self.slice(self.pos, len));
                            self.pos = len;
                            break;
                        }
                        Some(q) => {
                            field.push(self.slice(self.pos, q));
                            if bytes.get(q + 1) == Some(&b'"') {
                                field.push("\"");
                                self.pos = q + 2;
                            } else {
                                self.pos = q + 1;
                                break;
                            }
                        }
                    }
                }
            }
            // An unquoted field, or what follows a closing quote (kept literally, as Excel does).
            let start = self.pos;
            while self.pos < len
                && bytes[self.pos] != self.delimiter
                && bytes[self.pos] != b'\n'
                && bytes[self.pos] != b'\r'
            {
                self.pos += 1;
            }
            field.push(self.slice(start, self.pos));
            if column < MAX_COLUMNS {
                if let Some(cell) = field.finish() {
                    cells.push((column as u32, cell));
                }
            }
            column = column.saturating_add(1);
            match bytes.get(self.pos) {
                None => break,
                Some(b) if *b == self.delimiter => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    break;
                }
                Some(_) => {
                    self.pos += 1;
                    break;
                }
            }
        }
        Some(cells)
    }
}

impl RowSource for CsvRows<'_> {
    fn next_row(&mut self) -> Result<Option<RawRow>, ImportError> {
        while let Some(cells) = self.next_record() {
            if !cells.is_empty() {
                return Ok(Some(RawRow {
                    line: self.records,
                    cells,
                }));
            }
        }
        Ok(None)
    }
}

fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|b| *b == needle)
        .map(|i| from + i)
}

/// A field's text, kept up to [`MAX_FIELD_BYTES`].
#[derive(Default)]
struct FieldBuf {
    text: String,
    overflow: bool,
}

impl FieldBuf {
    fn push(&mut self, s: &str) {
        if self.overflow || s.is_empty() {
            return;
        }
        if self.text.len() + s.len() > MAX_FIELD_BYTES {
            let mut end = MAX_FIELD_BYTES - self.text.len();
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            self.overflow = true;
        } else {
            self.text.push_str(s);
        }
    }

    fn finish(self) -> Option<CellText> {
        let mut cell = CellText::new(&self.text, self.overflow)?;
        // The export writes `'` before a leading `=`, `+`, `-` or `@` so that Excel does not run
        // the cell as a formula; take it off again.
        let mut chars = cell.text.chars();
        if chars.next() == Some('\'') && matches!(chars.next(), Some('=' | '+' | '-' | '@')) {
            cell.text.remove(0);
        }
        Some(cell)
    }
}
