//! Team member lists in: one row per person, `Họ và tên | Số điện thoại | Thôn | Chức danh`, as a
//! village leader or the culture-social office keeps them in Excel. The same readers as the
//! household list (CSV with any delimiter, or the first worksheet of an XLSX), the same bounds.

use super::csv_rows::{self, CsvRows};
use super::fields::{normalise_header, restore_phone_zero};
use super::import::{RawRow, RowSource};
use super::{xlsx_rows, ImportError, ImportFormat, RowError, HEADER_SCAN_ROWS};
use crate::domain::{DisplayName, PhoneNumber, Position};

/// The most members one file may hold: a commune's teams are dozens of people a village.
pub const MAX_MEMBER_ROWS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Name,
    Phone,
    Village,
    Position,
}

impl Column {
    const ALL: [Column; 4] = [
        Column::Name,
        Column::Phone,
        Column::Village,
        Column::Position,
    ];

    /// The header as the template writes it.
    fn header(self) -> &'static str {
        match self {
            Column::Name => "Họ và tên",
            Column::Phone => "Số điện thoại",
            Column::Village => "Thôn",
            Column::Position => "Chức danh",
        }
    }

    /// Headers as people write them, normalised by [`normalise_header`].
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &[
                "ho va ten",
                "ho ten",
                "ten",
                "thanh vien",
                "full name",
                "name",
            ],
            Column::Phone => &["so dien thoai", "dien thoai", "sdt", "so dt", "dt", "phone"],
            Column::Village => &["thon", "thon xom", "village"],
            Column::Position => &["chuc danh", "chuc vu", "vi tri", "position"],
        }
    }

    fn for_header(raw: &str) -> Option<Column> {
        let h = normalise_header(raw);
        Column::ALL
            .into_iter()
            .find(|c| c.aliases().contains(&h.as_str()))
    }
}

/// One member row that passed its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedMember {
    /// Line as Excel numbers it.
    pub line: usize,
    pub full_name: String,
    /// Normalised digits.
    pub phone: Option<String>,
    /// As written ("Thôn Phú Lộc", "Phú Lộc", "T01"); `None` when the file has no village column.
    pub village: Option<String>,
    pub position: Position,
}

#[derive(Debug)]
pub struct ParsedMembers {
    pub members: Vec<ImportedMember>,
    /// Sorted by line.
    pub errors: Vec<RowError>,
    /// Data rows read below the header.
    pub rows: usize,
}

/// "Tổ trưởng", "Tổ phó", "Thành viên" (or the English keys); blank is a member.
fn parse_position(raw: &str) -> Option<Position> {
    match normalise_header(raw).as_str() {
        "" | "thanh vien" | "to vien" | "member" => Some(Position::Member),
        "to truong" | "truong" | "leader" => Some(Position::Leader),
        "to pho" | "pho" | "deputy" => Some(Position::Deputy),
        _ => None,
    }
}

/// Reads a member list. Row problems are in [`ParsedMembers::errors`]; file problems are an error.
pub fn parse_members(bytes: &[u8], format: ImportFormat) -> Result<ParsedMembers, ImportError> {
    match format {
        ImportFormat::Xlsx => xlsx_rows::with_first_sheet(bytes, |rows| {
            let header = find_header(rows)?.map_err(|(_, e)| e)?;
            read_rows(rows, &header)
        }),
        ImportFormat::Csv => {
            let csv = csv_rows::prepare(bytes)?;
            let candidates = match csv.delimiter {
                Some(d) => vec![d],
                None => csv_rows::delimiter_candidates(csv.text),
            };
            let mut best: Option<(usize, ImportError)> = None;
            for delimiter in candidates {
                let mut rows = CsvRows::new(csv.text, delimiter);
                match find_header(&mut rows)? {
                    Ok(header) => return read_rows(&mut rows, &header),
                    Err((recognised, e)) => {
                        if best.as_ref().is_none_or(|(r, _)| recognised > *r) {
                            best = Some((recognised, e));
                        }
                    }
                }
            }
            Err(best.map_or(ImportError::Empty, |(_, e)| e))
        }
    }
}

/// Column positions and headers as written.
struct Header {
    columns: Vec<(u32, Column, String)>,
}

impl Header {
    fn from_row(row: &RawRow) -> Header {
        let mut columns: Vec<(u32, Column, String)> = vec![];
        for (i, cell) in &row.cells {
            if let Some(c) = Column::for_header(&cell.text) {
                if !columns.iter().any(|(_, have, _)| *have == c) {
                    columns.push((*i, c, cell.text.clone()));
                }
            }
        }
        Header { columns }
    }

    fn has(&self, c: Column) -> bool {
        self.columns.iter().any(|(_, have, _)| *have == c)
    }

    fn name_of(&self, c: Column) -> String {
        self.columns
            .iter()
            .find(|(_, have, _)| *have == c)
            .map_or_else(|| c.header().to_owned(), |(_, _, n)| n.clone())
    }

    fn cell<'r>(&self, row: &'r RawRow, c: Column) -> Option<&'r super::fields::CellText> {
        let (i, _, _) = self.columns.iter().find(|(_, have, _)| *have == c)?;
        row.cells.iter().find(|(j, _)| j == i).map(|(_, cell)| cell)
    }
}

/// The header is the first of the first rows that names the members' names.
#[allow(clippy::type_complexity)]
fn find_header(
    rows: &mut dyn RowSource,
) -> Result<Result<Header, (usize, ImportError)>, ImportError> {
    let mut best = 0usize;
    for _ in 0..HEADER_SCAN_ROWS {
        let Some(row) = rows.next_row()? else {
            break;
        };
        let header = Header::from_row(&row);
        if header.has(Column::Name) {
            return Ok(Ok(header));
        }
        best = best.max(header.columns.len());
    }
    Ok(Err((
        best,
        if best == 0 {
            ImportError::Empty
        } else {
            ImportError::MissingColumns(vec![Column::Name.header().to_owned()])
        },
    )))
}

fn read_rows(rows: &mut dyn RowSource, header: &Header) -> Result<ParsedMembers, ImportError> {
    let mut members = vec![];
    let mut errors = vec![];
    let mut count = 0usize;
    while let Some(row) = rows.next_row()? {
        if !Column::ALL.iter().any(|c| header.cell(&row, *c).is_some()) {
            continue;
        }
        count += 1;
        if count > MAX_MEMBER_ROWS {
            while let Some(row) = rows.next_row()? {
                if Column::ALL.iter().any(|c| header.cell(&row, *c).is_some()) {
                    count += 1;
                }
            }
            return Err(ImportError::TooManyRows {
                rows: count,
                max: MAX_MEMBER_ROWS,
            });
        }
        let mut bad = |c: Column, code: &str, message: &str| {
            errors.push(RowError {
                line: row.line,
                column: Some(header.name_of(c)),
                code: code.to_owned(),
                message: message.to_owned(),
            });
        };
        let text = |c: Column| header.cell(&row, c);
        for c in Column::ALL {
            if let Some(cell) = text(c) {
                if cell.too_long {
                    bad(c, "too_long", "the cell is too long");
                } else if cell.error.is_some() {
                    bad(c, "invalid_value", "the cell holds a spreadsheet error");
                }
            }
        }
        let name = match text(Column::Name) {
            None => {
                bad(Column::Name, "required", "every member needs a name");
                None
            }
            Some(cell) => match DisplayName::parse(&cell.text, "full_name") {
                Ok(n) => Some(n.as_str().to_owned()),
                Err(e) => {
                    bad(Column::Name, &e.code, &e.message);
                    None
                }
            },
        };
        let phone = match text(Column::Phone) {
            None => Ok(None),
            Some(cell) => PhoneNumber::parse(&restore_phone_zero(&cell.text), "phone")
                .map(|p| Some(p.as_str().to_owned())),
        };
        let phone = phone
            .map_err(|e| bad(Column::Phone, &e.code, &e.message))
            .ok();
        let position = parse_position(text(Column::Position).map_or("", |c| c.text.as_str()));
        if position.is_none() {
            bad(
                Column::Position,
                "invalid_value",
                "the position is Tổ trưởng, Tổ phó or Thành viên",
            );
        }
        let village = text(Column::Village).map(|c| c.text.clone());
        if let (Some(full_name), Some(phone), Some(position)) = (name, phone, position) {
            if !errors.iter().any(|e| e.line == row.line) {
                members.push(ImportedMember {
                    line: row.line,
                    full_name,
                    phone,
                    village,
                    position,
                });
            }
        }
    }
    if count == 0 {
        return Err(ImportError::Empty);
    }
    errors.sort_by_key(|e| e.line);
    Ok(ParsedMembers {
        members,
        errors,
        rows: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> ParsedMembers {
        parse_members(text.as_bytes(), ImportFormat::Csv).expect("parses")
    }

    #[test]
    fn a_member_list_reads_names_phones_villages_and_positions() {
        let p = csv("DANH SÁCH THÀNH VIÊN TỔ\n\
             STT;Họ và tên;SĐT;Thôn;Chức vụ\n\
             1;Nguyễn Thị Lan;912345678;Phú Lộc;Tổ trưởng\n\
             2;Trần Văn Minh;;Thôn Phú Lộc;\n\
             3;Lê Văn Hùng;0912 345 679;T01;tổ phó\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows, 3);
        assert_eq!(p.members[0].full_name, "Nguyễn Thị Lan");
        assert_eq!(p.members[0].phone.as_deref(), Some("0912345678"));
        assert_eq!(p.members[0].position, Position::Leader);
        assert_eq!(p.members[0].line, 3);
        assert_eq!(p.members[1].phone, None);
        assert_eq!(p.members[1].position, Position::Member);
        assert_eq!(p.members[1].village.as_deref(), Some("Thôn Phú Lộc"));
        assert_eq!(p.members[2].phone.as_deref(), Some("0912345679"));
        assert_eq!(p.members[2].position, Position::Deputy);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_and_column() {
        let p = csv("Họ và tên,Số điện thoại,Chức danh\n\
             Nguyễn Thị Lan,12345,\n\
             ,0912345678,\n\
             Trần Văn Minh,,Chủ tịch\n\
             Lê Văn Hùng,,\n");
        let got: Vec<(usize, &str, &str)> = p
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_deref().unwrap_or(""), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "Số điện thoại", "invalid_phone"),
                (3, "Họ và tên", "required"),
                (4, "Chức danh", "invalid_value"),
            ]
        );
        assert_eq!(p.members.len(), 1);
        assert_eq!(p.members[0].full_name, "Lê Văn Hùng");
        assert_eq!(p.members[0].village, None);
    }

    #[test]
    fn a_file_without_names_or_rows_is_refused_whole() {
        assert!(matches!(
            parse_members("Thôn,SĐT\nPhú Lộc,0912345678\n".as_bytes(), ImportFormat::Csv),
            Err(ImportError::MissingColumns(c)) if c == ["Họ và tên"]
        ));
        assert!(matches!(
            parse_members("Họ và tên\n".as_bytes(), ImportFormat::Csv),
            Err(ImportError::Empty)
        ));
        let many: String = std::iter::once("Họ và tên\n".to_owned())
            .chain((0..=MAX_MEMBER_ROWS).map(|i| format!("Người số {i}\n")))
            .collect();
        assert!(matches!(
            parse_members(many.as_bytes(), ImportFormat::Csv),
            Err(ImportError::TooManyRows { rows, .. }) if rows == MAX_MEMBER_ROWS + 1
        ));
    }
}
