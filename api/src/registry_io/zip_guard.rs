//! Checks an XLSX package before calamine opens it, so that a small hostile file cannot make the
//! server decompress or allocate without bound.
//!
//! * Every part must declare at most [`MAX_XLSX_PART_BYTES`] uncompressed, all together at most
//!   [`MAX_XLSX_TOTAL_BYTES`]; this is checked before anything is decompressed.
//! * Every part is then decompressed as a stream and its XML tags counted: calamine keeps shared
//!   strings, styles, sheet names, defined names and relationships in memory, so their estimated
//!   memory must stay under [`MAX_XLSX_HEAP_ESTIMATE`]. A part that inflates to more than it
//!   declared is refused (the zip crate stops at the declared size, and the read is cut at the
//!   limits in any case), as is any part the zip crate cannot read: a damaged workbook is
//!   refused whole, whether or not calamine would have opened that part.
//! * calamine reserves room for as many shared strings as the `uniqueCount` attribute says
//!   before reading any, and a failed allocation aborts the process; that number must be at most
//!   [`MAX_SHARED_STRINGS`].
//!
//! The archive is read with the same `zip` crate calamine uses (Cargo.toml asks for the version
//! calamine pulls in, so the build has one copy), from the same central directory, so the parts
//! checked here are the parts calamine can reach. Archives whose local headers disagree with the
//! central directory, that name a part twice, or that hide or overlap entries are refused, so no
//! other way of reading the package finds something else either.

use std::io::{self, Cursor, Read};

use zip::ZipArchive;

use super::ImportError;

/// The most one part of an XLSX (a worksheet, the shared strings, ...) may decompress to.
pub const MAX_XLSX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// The most all parts of an XLSX together may decompress to.
pub const MAX_XLSX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;
/// The most distinct texts (`uniqueCount`) a workbook may declare.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;
/// The most memory calamine's in-memory tables of a workbook are estimated to take.
pub const MAX_XLSX_HEAP_ESTIMATE: u64 = 96 * 1024 * 1024;

/// Decompressed bytes handed to the scanner at a time.
const CHUNK: usize = 32 * 1024;

pub(crate) fn check(bytes: &[u8]) -> Result<(), ImportError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    archive.validate_header_consistency().map_err(damaged)?;

    // Declared sizes first, before decompressing anything.
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        let size = archive.by_index_data(index).map_err(damaged)?.size();
        declared = declared.saturating_add(size);
        if size > MAX_XLSX_PART_BYTES || declared > MAX_XLSX_TOTAL_BYTES {
            return Err(too_large());
        }
    }

    let mut scan = XmlScan::default();
    let mut chunk = vec![0; CHUNK];
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let limit = MAX_XLSX_PART_BYTES.min(MAX_XLSX_TOTAL_BYTES.saturating_sub(total));
        let part = archive.by_index(index).map_err(damaged)?;
        // One byte past the limit tells a part that lies about its size from one that fits.
        let mut part = part.take(limit.saturating_add(1));
        let mut read: u64 = 0;
        loop {
            let n = match part.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(damaged(error)),
            };
            read = read.saturating_add(n as u64);
            if read > limit {
                return Err(too_large());
            }
            scan.feed(chunk.get(..n).unwrap_or_default());
        }
        total = total.saturating_add(read);
        scan.end_part();
        if scan.unique_count > MAX_SHARED_STRINGS || scan.heap > MAX_XLSX_HEAP_ESTIMATE {
            return Err(ImportError::Unreadable(
                "the workbook has too many distinct texts or cell styles".to_owned(),
            ));
        }
    }
    Ok(())
}

fn damaged(error: impl std::fmt::Display) -> ImportError {
    ImportError::Unreadable(format!("not a valid Excel workbook (.xlsx): {error}"))
}

fn too_large() -> ImportError {
    ImportError::Unreadable(
        "the workbook is too large once uncompressed (remove other sheets and pictures, or split \
         the list)"
            .to_owned(),
    )
}

/// Estimated bytes calamine keeps for one element of this local name.
fn element_cost(local_name: &[u8]) -> u64 {
    match local_name {
        b"si" => 48,
        b"xf" => 256,
        b"font" => 128,
        b"fill" => 96,
        b"border" => 160,
        b"numFmt" => 96,
        b"sheet" => 160,
        b"definedName" => 128,
        b"Relationship" => 128,
        _ => 0,
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ScanState {
    #[default]
    Text,
    /// Just after `<`.
    Open,
    TagName,
    /// `</...>`, `<!...>` or `<?...>`: up to the next `>`.
    Skip,
    InTag,
    AttrName,
    AfterAttrName,
    BeforeValue,
    Value(u8),
}

/// A tolerant XML tag counter over a byte stream (chunk boundaries anywhere). It errs on the side
/// of counting too much: anything quick-xml would read as an element, it counts.
#[derive(Default)]
struct XmlScan {
    state: ScanState,
    name: Vec<u8>,
    attr: Vec<u8>,
    /// Significant digits of a `uniqueCount` value (leading zeros, `+` and spaces left out).
    value: Vec<u8>,
    value_is_number: bool,
    heap: u64,
    unique_count: u64,
}

const MAX_NAME: usize = 64;

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

impl XmlScan {
    fn feed(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            self.byte(byte);
        }
    }

    /// A part ended: a tag cut at its end does not continue into the next part.
    fn end_part(&mut self) {
        self.state = ScanState::Text;
        self.name.clear();
        self.attr.clear();
        self.value.clear();
    }

    fn byte(&mut self, b: u8) {
        use ScanState::*;
        let space = b.is_ascii_whitespace();
        self.state = match (self.state, b) {
            (Text, b'<') => Open,
            (Text, _) => Text,
            (Open, b'/' | b'!' | b'?') => Skip,
            (Open, b'>') => Text,
            (Open, _) => {
                self.name.clear();
                self.push_name(b);
                TagName
            }
            (TagName, b'>') => {
                self.end_name();
                Text
            }
            (TagName, b'/') => {
                self.end_name();
                InTag
            }
            (TagName, _) if space => {
                self.end_name();
                InTag
            }
            (TagName, _) => {
                self.push_name(b);
                TagName
            }
            (Skip, b'>') => Text,
            (Skip, _) => Skip,
            (InTag | AfterAttrName | BeforeValue, b'>') => Text,
            (InTag, b'"' | b'\'') => {
                self.attr.clear();
                self.start_value();
                Value(b)
            }
            (InTag, _) if space || b == b'/' => InTag,
            (InTag, _) => {
                self.attr.clear();
                self.attr.push(b);
                AttrName
            }
            (AttrName, b'=') => BeforeValue,
            (AttrName, b'>') => Text,
            (AttrName, b'/') => InTag,
            (AttrName, _) if space => AfterAttrName,
            (AttrName, _) => {
                if self.attr.len() < MAX_NAME {
                    self.attr.push(b);
                }
                AttrName
            }
            (AfterAttrName, b'=') => BeforeValue,
            (AfterAttrName, _) if space => AfterAttrName,
            (AfterAttrName, _) => {
                self.attr.clear();
                self.attr.push(b);
                AttrName
            }
            (BeforeValue, b'"' | b'\'') => {
                self.start_value();
                Value(b)
            }
            (BeforeValue, _) if space => BeforeValue,
            (BeforeValue, _) => InTag,
            (Value(quote), _) if b == quote => {
                self.end_value();
                InTag
            }
            (Value(quote), _) => {
                self.push_value(b);
                Value(quote)
            }
        };
    }

    fn push_name(&mut self, b: u8) {
        if self.name.len() < MAX_NAME {
            self.name.push(b);
        }
    }

    fn end_name(&mut self) {
        self.heap = self.heap.saturating_add(element_cost(local(&self.name)));
    }

    fn start_value(&mut self) {
        self.value.clear();
        self.value_is_number = true;
    }

    fn push_value(&mut self, b: u8) {
        if local(&self.attr) != b"uniqueCount" || !self.value_is_number {
            return;
        }
        match b {
            b'0' if self.value.is_empty() => {}
            b'+' | b' ' | b'\t' | b'\r' | b'\n' if self.value.is_empty() => {}
            b'0'..=b'9' => {
                if self.value.len() < 20 {
                    self.value.push(b);
                } else {
                    // More than 20 significant digits: certainly too many.
                    self.unique_count = u64::MAX;
                }
            }
            _ => self.value_is_number = false,
        }
    }

    fn end_value(&mut self) {
        if local(&self.attr) != b"uniqueCount" || !self.value_is_number {
            return;
        }
        let count = std::str::from_utf8(&self.value)
            .ok()
            .filter(|s| !s.is_empty())
            .map_or(0, |s| s.parse::<u64>().unwrap_or(u64::MAX));
        self.unique_count = self.unique_count.max(count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(xml: &str) -> XmlScan {
        let mut scan = XmlScan::default();
        // Feed byte by byte in two halves to exercise chunk boundaries.
        let (a, b) = xml.as_bytes().split_at(xml.len() / 2);
        scan.feed(a);
        scan.feed(b);
        scan
    }

    #[test]
    fn counts_elements_and_reads_unique_count() {
        let s = scan(
            r#"<?xml version="1.0"?><!-- <si> --><x:sst xmlns:x="u" count="3" uniqueCount = '0012'><x:si><t a=">">x</t></x:si><si/></x:sst>"#,
        );
        assert_eq!(s.unique_count, 12);
        // Two real `si` elements; the one in the comment is skipped up to its first '>'.
        assert_eq!(s.heap, 2 * 48);
        assert_eq!(
            scan(r#"<sst uniqueCount="99999999999999999999999">"#).unique_count,
            u64::MAX
        );
        assert_eq!(scan(r#"<sst uniqueCount="12a">"#).unique_count, 0);
        assert_eq!(scan("<si>uniqueCount=\"999999\"</si>").unique_count, 0);
    }
}
