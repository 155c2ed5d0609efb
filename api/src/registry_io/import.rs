//! Header detection, row validation and grouping of rows into households.

use std::collections::HashMap;

use super::csv_rows::{self, CsvRows};
use super::fields::{
    field_for_header, parse_birth_year, parse_sex, restore_phone_zero, CellText, Field, FIELD_COUNT,
};
use super::{
    xlsx_rows, ImportError, ImportFormat, ImportedHousehold, ImportedResident, ParsedImport,
    RowError, HEADER_SCAN_ROWS, MAX_ROWS,
};
use crate::domain::search::fold;
use crate::domain::{BirthYear, DisplayName, PhoneNumber, Sex};
use crate::error::FieldError;

/// Longest hamlet, lane, house number, household code and relation.
const MAX_SHORT_TEXT: usize = 60;

/// One row with at least one non-blank cell.
pub(crate) struct RawRow {
    /// 1-based, as Excel numbers rows.
    pub line: usize,
    /// (0-based column, cell), blank cells left out.
    pub cells: Vec<(u32, CellText)>,
}

/// Rows of a CSV file or a worksheet, blank rows skipped.
pub(crate) trait RowSource {
    fn next_row(&mut self) -> Result<Option<RawRow>, ImportError>;
}

/// Read a household list. Row problems are in [`ParsedImport::errors`]; file problems are an
/// [`ImportError`]. `current_year` bounds birth years.
pub fn parse(
    bytes: &[u8],
    format: ImportFormat,
    current_year: i32,
) -> Result<ParsedImport, ImportError> {
    match format {
        ImportFormat::Csv => parse_csv(bytes, current_year),
        ImportFormat::Xlsx => {
            xlsx_rows::with_first_sheet(bytes, |rows| parse_rows(rows, current_year))
        }
    }
}

fn parse_csv(bytes: &[u8], current_year: i32) -> Result<ParsedImport, ImportError> {
    let csv = csv_rows::prepare(bytes)?;
    let candidates = match csv.delimiter {
        Some(d) => vec![d],
        None => csv_rows::delimiter_candidates(csv.text),
    };
    // When no delimiter finds the header, report the attempt that recognised most columns
    // (ties: the delimiter most frequent in the first line).
    let mut best: Option<(usize, ImportError)> = None;
    for delimiter in candidates {
        let mut rows = CsvRows::new(csv.text, delimiter);
        match find_header(&mut rows)? {
            HeaderSearch::Found(header) => return import_rows(&mut rows, &header, current_year),
            HeaderSearch::Missing { recognised, error } => {
                if best.as_ref().is_none_or(|(r, _)| recognised > *r) {
                    best = Some((recognised, error));
                }
            }
        }
    }
    Err(best.map_or(ImportError::Empty, |(_, e)| e))
}

fn parse_rows(rows: &mut dyn RowSource, current_year: i32) -> Result<ParsedImport, ImportError> {
    match find_header(rows)? {
        HeaderSearch::Found(header) => import_rows(rows, &header, current_year),
        HeaderSearch::Missing { error, .. } => Err(error),
    }
}

/// Where each understood column is, and its header as written.
pub(crate) struct Header {
    columns: Vec<(u32, Field)>,
    names: [Option<String>; FIELD_COUNT],
    positions: [u32; FIELD_COUNT],
}

impl Header {
    fn from_row(row: &RawRow) -> Header {
        let mut header = Header {
            columns: Vec::new(),
            names: Default::default(),
            positions: [u32::MAX; FIELD_COUNT],
        };
        for (column, cell) in &row.cells {
            let Some(field) = field_for_header(&cell.text) else {
                continue;
            };
            // The first column wins when two name the same field.
            if header.names[field.index()].is_none() {
                header.names[field.index()] = Some(cell.text.clone());
                header.positions[field.index()] = *column;
                header.columns.push((*column, field));
            }
        }
        header
    }

    /// Whether the row has a cell in a column the import reads.
    fn reads(&self, row: &RawRow) -> bool {
        row.cells
            .iter()
            .any(|(column, _)| self.columns.iter().any(|(c, _)| c == column))
    }

    fn has(&self, field: Field) -> bool {
        self.names[field.index()].is_some()
    }

    fn missing(&self) -> Vec<String> {
        Field::REQUIRED
            .into_iter()
            .filter(|f| !self.has(*f))
            .map(|f| f.header().to_owned())
            .collect()
    }

    fn column_name(&self, field: Field) -> Option<String> {
        self.names[field.index()].clone()
    }
}

enum HeaderSearch {
    Found(Box<Header>),
    Missing {
        recognised: usize,
        error: ImportError,
    },
}

/// The header is the first of the first [`HEADER_SCAN_ROWS`] non-blank rows that has every
/// required column (a title such as "DANH SÁCH HỘ DÂN" may come first).
fn find_header(rows: &mut dyn RowSource) -> Result<HeaderSearch, ImportError> {
    let mut best: Option<Header> = None;
    for _ in 0..HEADER_SCAN_ROWS {
        let Some(row) = rows.next_row()? else {
            break;
        };
        let header = Header::from_row(&row);
        if header.missing().is_empty() {
            return Ok(HeaderSearch::Found(Box::new(header)));
        }
        if best
            .as_ref()
            .is_none_or(|b| header.columns.len() > b.columns.len())
        {
            best = Some(header);
        }
    }
    Ok(match best {
        None => HeaderSearch::Missing {
            recognised: 0,
            error: ImportError::Empty,
        },
        Some(header) => HeaderSearch::Missing {
            recognised: header.columns.len(),
            error: ImportError::MissingColumns(header.missing()),
        },
    })
}

fn import_rows(
    rows: &mut dyn RowSource,
    header: &Header,
    current_year: i32,
) -> Result<ParsedImport, ImportError> {
    let mut builder = Builder::new(header, current_year);
    let mut count = 0usize;
    while let Some(row) = rows.next_row()? {
        // Rows with something only in other columns (a pre-filled "STT", a note) are blank here.
        if !header.reads(&row) {
            continue;
        }
        count += 1;
        if count > MAX_ROWS {
            // Count the rest without validating it, for the message.
            while let Some(row) = rows.next_row()? {
                if header.reads(&row) {
                    count += 1;
                }
            }
            return Err(ImportError::TooManyRows {
                rows: count,
                max: MAX_ROWS,
            });
        }
        builder.add(&row);
    }
    if count == 0 {
        return Err(ImportError::Empty);
    }
    Ok(builder.finish(count))
}

/// The household columns of one row, each `None` when blank.
#[derive(Clone, Debug, Default)]
struct RowHousehold {
    code: Option<String>,
    village: Option<String>,
    hamlet: Option<String>,
    lane: Option<String>,
    house_number: Option<String>,
    head_name: Option<String>,
    phone: Option<String>,
}

/// A household's columns as established by its first row with valid ones.
#[derive(Clone, Debug)]
struct HouseholdFields {
    line: usize,
    code: Option<String>,
    village: String,
    hamlet: Option<String>,
    lane: Option<String>,
    house_number: Option<String>,
    head_name: String,
    phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum GroupKey {
    Code(String),
    Address([String; 5]),
}

#[derive(Default)]
struct Group {
    fields: Option<HouseholdFields>,
    residents: Vec<ImportedResident>,
}

struct Builder<'h> {
    header: &'h Header,
    current_year: i32,
    groups: Vec<Group>,
    index: HashMap<GroupKey, usize>,
    /// Group of the previous data row, for rows whose household columns are all blank (merged
    /// cells, or the household written only on its first row).
    previous: Option<(usize, usize)>,
    errors: Vec<RowError>,
}

/// The cells of one row, by field.
struct Cells<'r>([Option<&'r CellText>; FIELD_COUNT]);

impl<'r> Cells<'r> {
    fn get(&self, field: Field) -> Option<&'r CellText> {
        self.0[field.index()]
    }
}

/// Errors of one row, kept with their column position so they come out in column order.
struct RowErrors<'h> {
    header: &'h Header,
    line: usize,
    errors: Vec<(u32, RowError)>,
}

impl RowErrors<'_> {
    fn push(&mut self, field: Option<Field>, code: &str, message: impl Into<String>) {
        let position = field.map_or(0, |f| self.header.positions[f.index()]);
        self.errors.push((
            position,
            RowError {
                line: self.line,
                column: field.and_then(|f| self.header.column_name(f)),
                code: code.to_owned(),
                message: message.into(),
            },
        ));
    }

    fn push_field_error(&mut self, field: Field, error: FieldError) {
        self.push(Some(field), &error.code, error.message);
    }

    fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    fn len(&self) -> usize {
        self.errors.len()
    }
}

impl<'h> Builder<'h> {
    fn new(header: &'h Header, current_year: i32) -> Self {
        Builder {
            header,
            current_year,
            groups: Vec::new(),
            index: HashMap::new(),
            previous: None,
            errors: Vec::new(),
        }
    }

    fn cells<'r>(&self, row: &'r RawRow) -> Cells<'r> {
        let mut cells = Cells([None; FIELD_COUNT]);
        for (column, cell) in &row.cells {
            if let Some((_, field)) = self.header.columns.iter().find(|(c, _)| c == column) {
                cells.0[field.index()].get_or_insert(cell);
            }
        }
        cells
    }

    fn add(&mut self, row: &RawRow) {
        let cells = self.cells(row);
        let header = self.header;
        let mut errors = RowErrors {
            header,
            line: row.line,
            errors: Vec::new(),
        };
        let resident = self.resident(&cells, &mut errors);

        let household_blank = Field::HOUSEHOLD.iter().all(|f| cells.get(*f).is_none());
        let group = match self.previous {
            Some((group, previous_line)) if household_blank => {
                if self.groups[group].fields.is_none() {
                    errors.push(
                        None,
                        "household_has_errors",
                        format!(
                            "the household columns are blank, so this row belongs to the household \
                             of line {previous_line}, which has errors"
                        ),
                    );
                }
                group
            }
            _ => {
                let group = self.group_for(&cells);
                let established = self.groups[group].fields.is_some();
                let before = errors.len();
                let household = self.household(&cells, !established, &mut errors);
                if errors.len() == before {
                    self.merge(group, household, row.line, &mut errors);
                }
                group
            }
        };
        self.previous = Some((group, row.line));

        match resident {
            Some(resident) if errors.is_empty() => self.groups[group].residents.push(resident),
            _ => {
                let mut row_errors = errors.errors;
                row_errors.sort_by_key(|(position, _)| *position);
                self.errors.extend(row_errors.into_iter().map(|(_, e)| e));
            }
        }
    }

    fn group_for(&mut self, cells: &Cells<'_>) -> usize {
        let folded = |field: Field| cells.get(field).map(|c| fold(&c.text)).unwrap_or_default();
        let code = folded(Field::HouseholdCode);
        let key = if code.is_empty() {
            GroupKey::Address([
                folded(Field::Village),
                folded(Field::Hamlet),
                folded(Field::Lane),
                folded(Field::HouseNumber),
                folded(Field::HeadName),
            ])
        } else {
            GroupKey::Code(code)
        };
        let next = self.groups.len();
        let group = *self.index.entry(key).or_insert(next);
        if group == next {
            self.groups.push(Group::default());
        }
        group
    }

    /// Validate the household columns; `required` when the household has no valid row yet.
    fn household(
        &self,
        cells: &Cells<'_>,
        required: bool,
        errors: &mut RowErrors<'_>,
    ) -> RowHousehold {
        RowHousehold {
            code: short_text(cells, Field::HouseholdCode, errors),
            village: name(cells, Field::Village, required, errors),
            hamlet: short_text(cells, Field::Hamlet, errors),
            lane: short_text(cells, Field::Lane, errors),
            house_number: short_text(cells, Field::HouseNumber, errors),
            head_name: name(cells, Field::HeadName, required, errors),
            phone: phone(cells, Field::Phone, errors),
        }
    }

    /// Establish the household from this row, or check the row agrees with it and fill its blanks.
    fn merge(&mut self, group: usize, row: RowHousehold, line: usize, errors: &mut RowErrors<'_>) {
        if self.groups[group].fields.is_none() {
            // `household` required village and head, so both are present here.
            if let (Some(village), Some(head_name)) = (row.village, row.head_name) {
                self.groups[group].fields = Some(HouseholdFields {
                    line,
                    code: row.code,
                    village,
                    hamlet: row.hamlet,
                    lane: row.lane,
                    house_number: row.house_number,
                    head_name,
                    phone: row.phone,
                });
            }
            return;
        }
        let Some(fields) = self.groups[group].fields.as_mut() else {
            return;
        };
        let first = fields.line;
        let mut disagree = |field: Field, theirs: &str| {
            errors.push(
                Some(field),
                "inconsistent_household",
                format!("line {first} of the same household has \"{theirs}\" here"),
            );
        };
        let same = |a: &str, b: &str| fold(a) == fold(b);
        if let Some(v) = &row.village {
            if !same(v, &fields.village) {
                disagree(Field::Village, &fields.village);
            }
        }
        if let Some(v) = &row.head_name {
            if !same(v, &fields.head_name) {
                disagree(Field::HeadName, &fields.head_name);
            }
        }
        if let (Some(v), Some(theirs)) = (&row.phone, &fields.phone) {
            if v != theirs {
                disagree(Field::Phone, theirs);
            }
        }
        for (field, value, theirs) in [
            (Field::Hamlet, &row.hamlet, &fields.hamlet),
            (Field::Lane, &row.lane, &fields.lane),
            (Field::HouseNumber, &row.house_number, &fields.house_number),
        ] {
            if let (Some(v), Some(theirs)) = (value, theirs) {
                if !same(v, theirs) {
                    disagree(field, theirs);
                }
            }
        }
        // Blank on the first row, written on a later one: take it.
        fill(&mut fields.code, row.code);
        fill(&mut fields.hamlet, row.hamlet);
        fill(&mut fields.lane, row.lane);
        fill(&mut fields.house_number, row.house_number);
        fill(&mut fields.phone, row.phone);
    }

    fn resident(&self, cells: &Cells<'_>, errors: &mut RowErrors<'_>) -> Option<ImportedResident> {
        let before = errors.len();
        let full_name = name(cells, Field::FullName, true, errors);
        let birth_year = self.birth_year(cells, errors);
        let sex = sex(cells, errors);
        let phone = phone(cells, Field::ResidentPhone, errors);
        let relation_to_head = short_text(cells, Field::Relation, errors);
        if errors.len() != before {
            return None;
        }
        Some(ImportedResident {
            line: errors.line,
            full_name: full_name?,
            birth_year,
            sex,
            phone,
            relation_to_head,
        })
    }

    fn birth_year(&self, cells: &Cells<'_>, errors: &mut RowErrors<'_>) -> Option<i32> {
        let field = Field::BirthYear;
        let text = usable(cells, field, errors)?;
        let Ok(year) = parse_birth_year(text) else {
            errors.push(
                Some(field),
                "invalid_birth_year",
                "a birth year is a year such as 1975 or a date such as 02/03/1975",
            );
            return None;
        };
        let year = i32::try_from(year).unwrap_or(i32::MAX);
        match BirthYear::parse(year, field.header(), self.current_year) {
            Ok(year) => Some(year.get()),
            Err(e) => {
                errors.push_field_error(field, e);
                None
            }
        }
    }

    fn finish(self, rows: usize) -> ParsedImport {
        let mut households: Vec<ImportedHousehold> = self
            .groups
            .into_iter()
            .filter_map(|group| {
                let fields = group.fields?;
                let line = group.residents.first()?.line;
                Some(ImportedHousehold {
                    line,
                    household_code: fields.code,
                    village: fields.village,
                    hamlet: fields.hamlet,
                    lane: fields.lane,
                    house_number: fields.house_number,
                    head_name: fields.head_name,
                    phone: fields.phone,
                    residents: group.residents,
                })
            })
            .collect();
        households.sort_by_key(|h| h.line);
        let mut errors = self.errors;
        errors.sort_by_key(|e| e.line);
        ParsedImport {
            households,
            errors,
            rows,
        }
    }
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// The cell's text if it is present and neither a spreadsheet error nor cut; errors otherwise.
fn usable<'r>(cells: &Cells<'r>, field: Field, errors: &mut RowErrors<'_>) -> Option<&'r str> {
    let cell = cells.get(field)?;
    if let Some(value) = &cell.error {
        errors.push(
            Some(field),
            "invalid_value",
            format!("the cell holds the spreadsheet error {value}"),
        );
        return None;
    }
    if cell.too_long {
        errors.push(
            Some(field),
            "too_long",
            format!(
                "the cell has more than {} characters",
                super::MAX_CELL_CHARS
            ),
        );
        return None;
    }
    Some(&cell.text)
}

fn name(
    cells: &Cells<'_>,
    field: Field,
    required: bool,
    errors: &mut RowErrors<'_>,
) -> Option<String> {
    if cells.get(field).is_none() {
        if required {
            errors.push(Some(field), "required", "this column cannot be blank");
        }
        return None;
    }
    let text = usable(cells, field, errors)?;
    match DisplayName::parse(text, field.header()) {
        Ok(name) => Some(name.as_str().to_owned()),
        Err(e) => {
            errors.push_field_error(field, e);
            None
        }
    }
}

fn short_text(cells: &Cells<'_>, field: Field, errors: &mut RowErrors<'_>) -> Option<String> {
    let text = usable(cells, field, errors)?;
    if text.chars().count() > MAX_SHORT_TEXT {
        errors.push(
            Some(field),
            "too_long",
            format!("at most {MAX_SHORT_TEXT} characters"),
        );
        return None;
    }
    if text.chars().any(char::is_control) {
        errors.push(
            Some(field),
            "invalid_characters",
            "the text has control characters",
        );
        return None;
    }
    Some(text.to_owned())
}

fn phone(cells: &Cells<'_>, field: Field, errors: &mut RowErrors<'_>) -> Option<String> {
    let text = usable(cells, field, errors)?;
    match PhoneNumber::parse(&restore_phone_zero(text), field.header()) {
        Ok(phone) => Some(phone.as_str().to_owned()),
        Err(e) => {
            errors.push_field_error(field, e);
            None
        }
    }
}

fn sex(cells: &Cells<'_>, errors: &mut RowErrors<'_>) -> Option<Sex> {
    let field = Field::Sex;
    let text = usable(cells, field, errors)?;
    let sex = parse_sex(text);
    if sex.is_none() {
        errors.push(
            Some(field),
            "invalid_sex",
            "write Nam, Nữ or Khác (or male, female, other)",
        );
    }
    sex
}
