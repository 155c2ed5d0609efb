//! Columns, cells and the parsing of single values (no knowledge of rows or households).

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use super::MAX_CELL_CHARS;
use crate::domain::search::fold;
use crate::domain::Sex;

/// A column the importer understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    HouseholdCode,
    Village,
    Hamlet,
    Lane,
    HouseNumber,
    HeadName,
    Phone,
    FullName,
    BirthYear,
    Sex,
    Relation,
    ResidentPhone,
}

pub(crate) const FIELD_COUNT: usize = 12;

impl Field {
    pub(crate) const ALL: [Field; FIELD_COUNT] = [
        Field::HouseholdCode,
        Field::Village,
        Field::Hamlet,
        Field::Lane,
        Field::HouseNumber,
        Field::HeadName,
        Field::Phone,
        Field::FullName,
        Field::BirthYear,
        Field::Sex,
        Field::Relation,
        Field::ResidentPhone,
    ];

    /// Columns describing the household (the same on every row of one household).
    pub(crate) const HOUSEHOLD: [Field; 7] = [
        Field::HouseholdCode,
        Field::Village,
        Field::Hamlet,
        Field::Lane,
        Field::HouseNumber,
        Field::HeadName,
        Field::Phone,
    ];

    pub(crate) const REQUIRED: [Field; 3] = [Field::Village, Field::HeadName, Field::FullName];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The header written by the export and named in `MissingColumns`.
    pub(crate) fn header(self) -> &'static str {
        match self {
            Field::HouseholdCode => "Mã hộ",
            Field::Village => "Thôn",
            Field::Hamlet => "Xóm",
            Field::Lane => "Ngõ",
            Field::HouseNumber => "Số nhà",
            Field::HeadName => "Chủ hộ",
            Field::Phone => "Điện thoại",
            Field::FullName => "Họ và tên",
            Field::BirthYear => "Năm sinh",
            Field::Sex => "Giới tính",
            Field::Relation => "Quan hệ với chủ hộ",
            Field::ResidentPhone => "resident_phone",
        }
    }

    /// Accepted headers, in the form [`normalise_header`] gives.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::HouseholdCode => &[
                "ma ho",
                "ma ho gia dinh",
                "ma ho dan",
                "ma so ho",
                "household code",
                "household id",
            ],
            Field::Village => &[
                "thon",
                "thon ban",
                "thon to",
                "thon to dan pho",
                "thon ap",
                "ban",
                "ap",
                "lang",
                "buon",
                "to dan pho",
                "tdp",
                "khu pho",
                "ma thon",
                "village",
                "village code",
                "village name",
            ],
            Field::Hamlet => &["xom", "to", "cum", "xom to", "hamlet"],
            Field::Lane => &["ngo", "ngo hem", "hem", "kiet", "ngach", "lane", "alley"],
            Field::HouseNumber => &["so nha", "sn", "house number", "house no"],
            Field::HeadName => &[
                "chu ho",
                "ten chu ho",
                "ho ten chu ho",
                "ho va ten chu ho",
                "head name",
                "head",
                "household head",
                "head of household",
            ],
            Field::Phone => &[
                "dien thoai",
                "so dien thoai",
                "sdt",
                "so dt",
                "dt",
                "dien thoai chu ho",
                "so dien thoai chu ho",
                "sdt chu ho",
                "phone",
                "phone number",
                "household phone",
            ],
            Field::FullName => &[
                "ho va ten",
                "ho ten",
                "ho va ten thanh vien",
                "ho ten thanh vien",
                "ten thanh vien",
                "thanh vien",
                "full name",
                "name",
                "resident name",
            ],
            Field::BirthYear => &[
                "nam sinh",
                "sinh nam",
                "ngay sinh",
                "ngay thang nam sinh",
                "birth year",
                "year of birth",
                "date of birth",
                "dob",
            ],
            Field::Sex => &["gioi tinh", "gioi", "nam nu", "sex", "gender"],
            Field::Relation => &[
                "quan he voi chu ho",
                "quan he",
                "quan he chu ho",
                "quan he voi ch",
                "qh voi chu ho",
                "relation to head",
                "relation",
                "relationship",
            ],
            Field::ResidentPhone => &["resident phone", "dien thoai thanh vien", "sdt thanh vien"],
        }
    }
}

/// A header reduced to lower-case ASCII-ish words: diacritics folded, anything in parentheses or
/// brackets dropped ("Họ và tên (*)"), punctuation and `_` turned into spaces.
pub(crate) fn normalise_header(raw: &str) -> String {
    let folded = fold(raw);
    let mut out = String::with_capacity(folded.len());
    let mut depth = 0usize;
    for c in folded.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() => out.push(c),
            _ => out.push(' '),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn field_for_header(raw: &str) -> Option<Field> {
    let header = normalise_header(raw);
    if header.is_empty() {
        return None;
    }
    Field::ALL
        .into_iter()
        .find(|f| f.aliases().contains(&header.as_str()))
}

/// One non-blank cell: trimmed, NFC-normalised text cut at [`MAX_CELL_CHARS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CellText {
    pub text: String,
    /// The cell had more than [`MAX_CELL_CHARS`] characters; `text` is cut.
    pub too_long: bool,
    /// A spreadsheet error value such as `#N/A`; `text` is empty.
    pub error: Option<String>,
}

impl CellText {
    /// `None` for a blank cell. Runs of white space, including line breaks inside a cell
    /// (Alt+Enter in Excel), become one space.
    pub(crate) fn new(raw: &str, too_long: bool) -> Option<CellText> {
        let trimmed = raw.trim();
        let mut text = String::with_capacity(trimmed.len().min(MAX_CELL_CHARS * 4));
        let mut cut = too_long;
        let mut count = 0usize;
        let mut space = false;
        for c in trimmed.nfc() {
            if c.is_whitespace() {
                space = true;
                continue;
            }
            if count + usize::from(space) >= MAX_CELL_CHARS {
                cut = true;
                break;
            }
            if space {
                text.push(' ');
                count += 1;
                space = false;
            }
            text.push(c);
            count += 1;
        }
        if text.is_empty() && !cut {
            return None;
        }
        Some(CellText {
            text,
            too_long: cut,
            error: None,
        })
    }

    pub(crate) fn error(value: String) -> CellText {
        CellText {
            text: String::new(),
            too_long: false,
            error: Some(value),
        }
    }
}

/// A number as a person would type it: `1975`, `912345678`, `12.5`.
pub(crate) fn format_number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Undo what spreadsheets do to phone numbers: a number typed without quotes loses its leading 0
/// (`912345678` for `0912345678`, `2438123456` for the landline `02438123456`). Neither form is a
/// valid number as it stands, so adding the 0 never changes the meaning of a valid one.
pub(crate) fn restore_phone_zero(raw: &str) -> String {
    let trimmed = raw.trim();
    let digits_only = !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit());
    if digits_only && (trimmed.len() == 9 || (trimmed.len() == 10 && trimmed.starts_with('2'))) {
        format!("0{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Why a birth year did not parse (before the range check).
pub(crate) struct NotAYear;

/// A birth year from `1975`, `1975.0` (Excel), `02/03/1975`, `3/25/1975`, `1975-03-02`,
/// `1975-03-02T00:00:00` or `03/1975`. Returns the year without checking its range.
pub(crate) fn parse_birth_year(raw: &str) -> Result<i64, NotAYear> {
    let text = raw.trim();
    // Integer, possibly with a zero fraction as Excel writes numbers: "1975", "1975.0", "1975,00".
    let (int_part, frac) = match text.find(['.', ',']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let zero_fraction = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b == b'0'));
    if zero_fraction && is_digits(int_part, 1, 9) {
        return int_part.parse::<i64>().map_err(|_| NotAYear);
    }
    // A date: drop a time part, split on the usual separators.
    let date = text.split(['T', ' ']).next().unwrap_or_default();
    let parts: Vec<&str> = date.split(['/', '-', '.']).collect();
    match parts.as_slice() {
        [y, m, d] if is_digits(y, 4, 4) && is_digits(m, 1, 2) && is_digits(d, 1, 2) => {
            let (y, m, d) = (num(y)?, num(m)?, num(d)?);
            valid_date(y, m, d).then_some(i64::from(y)).ok_or(NotAYear)
        }
        [d, m, y] if is_digits(y, 4, 4) && is_digits(m, 1, 2) && is_digits(d, 1, 2) => {
            let (y, m, d) = (num(y)?, num(m)?, num(d)?);
            // Day first as in Vietnam; accept month first too (US-formatted files).
            (valid_date(y, m, d) || valid_date(y, d, m))
                .then_some(i64::from(y))
                .ok_or(NotAYear)
        }
        [m, y] if is_digits(y, 4, 4) && is_digits(m, 1, 2) => {
            let (y, m) = (num(y)?, num(m)?);
            valid_date(y, m, 1).then_some(i64::from(y)).ok_or(NotAYear)
        }
        _ => Err(NotAYear),
    }
}

fn is_digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn num(s: &str) -> Result<u32, NotAYear> {
    s.parse::<u32>().map_err(|_| NotAYear)
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .is_some()
}

/// `Nam`/`Nữ`/`Khác` and English forms.
pub(crate) fn parse_sex(raw: &str) -> Option<Sex> {
    match normalise_header(raw).as_str() {
        "nam" | "nam gioi" | "trai" | "m" | "male" | "man" => Some(Sex::Male),
        "nu" | "nu gioi" | "gai" | "f" | "female" | "woman" => Some(Sex::Female),
        "khac" | "o" | "other" => Some(Sex::Other),
        _ => None,
    }
}

/// How the export writes a sex (and the import reads it back).
pub(crate) fn sex_label(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "Nam",
        Sex::Female => "Nữ",
        Sex::Other => "Khác",
    }
}
