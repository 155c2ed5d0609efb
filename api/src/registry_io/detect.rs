//! Telling a CSV from an XLSX (and from everything else people upload) by content.

use super::{ImportError, ImportFormat};

/// Signatures of files that are neither, with what to tell the user.
const SIGNATURES: &[(&[u8], &str)] = &[
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "an Excel 97-2003 workbook (.xls) or a password-protected workbook: open it in Excel and \
         save it as .xlsx without a password",
    ),
    (b"MZ", "a Windows program"),
    (b"\x7FELF", "a Linux program"),
    (b"\xFE\xED\xFA\xCE", "a macOS program"),
    (b"\xFE\xED\xFA\xCF", "a macOS program"),
    (b"\xCE\xFA\xED\xFE", "a macOS program"),
    (b"\xCF\xFA\xED\xFE", "a macOS program"),
    (b"\xCA\xFE\xBA\xBE", "a macOS program or a Java class"),
    (b"%PDF", "a PDF document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1F\x8B", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xFF\xD8\xFF", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (
        b"\xFF\xFE",
        "UTF-16 text: in Excel, save it as \"CSV UTF-8\"",
    ),
    (
        b"\xFE\xFF",
        "UTF-16 text: in Excel, save it as \"CSV UTF-8\"",
    ),
];

/// By content: a ZIP signature (`PK\x03\x04`) is XLSX; valid UTF-8 text is CSV; anything else
/// (an old binary .xls, a program, a PDF, ...) is [`ImportError::NotCsvOrXlsx`] saying what it
/// looks like. An empty file is [`ImportError::Empty`].
pub fn detect_format(bytes: &[u8]) -> Result<ImportFormat, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        if bytes
            .get(30..)
            .is_some_and(|rest| rest.starts_with(b"mimetypeapplication/vnd.oasis.opendocument"))
        {
            return Err(ImportError::NotCsvOrXlsx {
                found: "an OpenDocument file (.ods): save it as .xlsx",
            });
        }
        return Ok(ImportFormat::Xlsx);
    }
    if let Some((_, found)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Err(ImportError::NotCsvOrXlsx { found });
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(text) else {
        return Err(ImportError::NotCsvOrXlsx {
            found: "binary data or text that is not UTF-8 (in Excel, save it as \"CSV UTF-8\")",
        });
    };
    if text.contains('\0') {
        return Err(ImportError::NotCsvOrXlsx {
            found: "binary data",
        });
    }
    // Other systems often export an HTML or XML table with an .xls name.
    let start: String = text
        .trim_start()
        .chars()
        .take(16)
        .flat_map(char::to_lowercase)
        .collect();
    if ["<!doctype html", "<html", "<table", "<?xml"]
        .iter()
        .any(|p| start.starts_with(p))
    {
        return Err(ImportError::NotCsvOrXlsx {
            found: "a web page or XML file: open it in Excel and save it as .xlsx",
        });
    }
    Ok(ImportFormat::Csv)
}
