//! Checks an XLSX package before calamine opens it, so that a small hostile file cannot make the
//! server decompress or allocate without bound.
//!
//! * Every part must declare at most [`MAX_XLSX_PART_BYTES`] uncompressed, all together at most
//!   [`MAX_XLSX_TOTAL_BYTES`]. The zip crate stops any part at its declared size, so this bounds
//!   the decompression work.
//! * Every part is then decompressed (streaming, with a 32 KiB window) and its XML tags counted:
//!   calamine keeps shared strings, styles, sheet names, defined names and relationships in
//!   memory, so their estimated memory must stay under [`MAX_XLSX_HEAP_ESTIMATE`].
//! * calamine reserves room for as many shared strings as the `uniqueCount` attribute says
//!   before reading any, and a failed allocation aborts the process; that number must be at most
//!   [`MAX_SHARED_STRINGS`].
//!
//! Every central directory header found anywhere in the file is checked, not only those the end
//! of central directory record leads to, so no reading of the archive can reach an unchecked part.

use super::inflate::{inflate, InflateEnd};
use super::ImportError;

/// The most one part of an XLSX (a worksheet, the shared strings, ...) may decompress to.
pub const MAX_XLSX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// The most all parts of an XLSX together may decompress to.
pub const MAX_XLSX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;
/// The most distinct texts (`uniqueCount`) a workbook may declare.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;
/// The most memory calamine's in-memory tables of a workbook are estimated to take.
pub const MAX_XLSX_HEAP_ESTIMATE: u64 = 96 * 1024 * 1024;

const CENTRAL_HEADER: &[u8; 4] = b"PK\x01\x02";
const LOCAL_HEADER: &[u8; 4] = b"PK\x03\x04";

pub(crate) fn check(bytes: &[u8]) -> Result<(), ImportError> {
    let entries = central_entries(bytes);
    let mut total: u64 = 0;
    for entry in &entries {
        total = total.saturating_add(entry.uncompressed);
        if entry.uncompressed > MAX_XLSX_PART_BYTES || total > MAX_XLSX_TOTAL_BYTES {
            return Err(ImportError::Unreadable(
                "the workbook is too large once uncompressed (remove other sheets and pictures, \
                 or split the list)"
                    .to_owned(),
            ));
        }
    }
    let mut scan = XmlScan::default();
    for entry in &entries {
        scan_entry(bytes, entry, &mut scan)?;
        scan.end_part();
        if scan.unique_count > MAX_SHARED_STRINGS || scan.heap > MAX_XLSX_HEAP_ESTIMATE {
            return Err(ImportError::Unreadable(
                "the workbook has too many distinct texts or cell styles".to_owned(),
            ));
        }
    }
    Ok(())
}

struct Entry {
    flags: u16,
    method: u16,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
}

/// Every plausible central directory header in the file.
fn central_entries(bytes: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut from = 0usize;
    while let Some(offset) = find(bytes, from, CENTRAL_HEADER) {
        from = offset + 1;
        if let Some(entry) = central_entry(bytes, offset) {
            entries.push(entry);
        }
    }
    entries
}

/// The central directory header at `offset`, or `None` when the bytes there cannot be one (the
/// signature occurred by chance, or the zip crate could not use it either).
fn central_entry(bytes: &[u8], offset: usize) -> Option<Entry> {
    let header = bytes.get(offset..offset.checked_add(46)?)?;
    let u16_at = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let name_len = usize::from(u16_at(28));
    let extra_len = usize::from(u16_at(30));
    let extra_start = offset + 46 + name_len;
    let extra = bytes.get(extra_start..extra_start + extra_len)?;
    if name_len == 0 {
        return None;
    }
    let mut entry = Entry {
        flags: u16_at(8),
        method: u16_at(10),
        compressed: u64::from(u32_at(20)),
        uncompressed: u64::from(u32_at(24)),
        local_offset: u64::from(u32_at(42)),
    };
    // ZIP64: the fields set to 0xFFFFFFFF are in the 0x0001 extra field, in this order.
    let wide = [
        entry.uncompressed == u64::from(u32::MAX),
        entry.compressed == u64::from(u32::MAX),
        entry.local_offset == u64::from(u32::MAX),
    ];
    if wide.iter().any(|w| *w) {
        let mut values = zip64_values(extra).unwrap_or_default().into_iter();
        let mut next = |is_wide: bool, value: &mut u64| {
            if is_wide {
                // Declared as ZIP64 without saying the value: assume the worst.
                *value = values.next().unwrap_or(u64::MAX);
            }
        };
        next(wide[0], &mut entry.uncompressed);
        next(wide[1], &mut entry.compressed);
        next(wide[2], &mut entry.local_offset);
    }
    // A header whose part would start outside the file cannot be read by anyone.
    if entry.local_offset >= bytes.len() as u64 && entry.local_offset != u64::MAX {
        return None;
    }
    Some(entry)
}

fn zip64_values(mut extra: &[u8]) -> Option<Vec<u64>> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let data = extra.get(4..4 + len)?;
        if id == 0x0001 {
            return Some(
                data.chunks_exact(8)
                    .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            );
        }
        extra = extra.get(4 + len..)?;
    }
    None
}

/// Decompress one part into the scanner. Parts nobody can read are skipped.
fn scan_entry(bytes: &[u8], entry: &Entry, scan: &mut XmlScan) -> Result<(), ImportError> {
    if entry.flags & 1 != 0 {
        // Encrypted: the zip crate refuses it without a password.
        return Ok(());
    }
    let Ok(local) = usize::try_from(entry.local_offset) else {
        return Ok(());
    };
    let Some(header) = local.checked_add(30).and_then(|end| bytes.get(local..end)) else {
        return Ok(());
    };
    if &header[..4] != LOCAL_HEADER {
        return Ok(());
    }
    let name_len = usize::from(u16::from_le_bytes([header[26], header[27]]));
    let extra_len = usize::from(u16::from_le_bytes([header[28], header[29]]));
    let start = local + 30 + name_len + extra_len;
    let available = bytes.len().saturating_sub(start);
    let length = usize::try_from(entry.compressed)
        .unwrap_or(usize::MAX)
        .min(available);
    let Some(data) = bytes.get(start..start + length) else {
        return Ok(());
    };
    match entry.method {
        0 => {
            let kept = usize::try_from(entry.uncompressed)
                .unwrap_or(usize::MAX)
                .min(data.len());
            scan.feed(&data[..kept]);
            Ok(())
        }
        8 => {
            let end = inflate(data, entry.uncompressed, &mut |chunk| scan.feed(chunk));
            // Corrupt data: calamine fails at the same place, after seeing what we saw.
            let _: InflateEnd = end;
            Ok(())
        }
        _ => Err(ImportError::Unreadable(
            "the workbook uses an unsupported compression method".to_owned(),
        )),
    }
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i)
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
