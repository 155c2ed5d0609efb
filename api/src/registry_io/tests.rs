//! Tests of the import and export.

use calamine::Reader;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::fields::{parse_birth_year, restore_phone_zero};
use super::*;

const YEAR: i32 = 2026;

fn csv(text: &str) -> ParsedImport {
    parse(text.as_bytes(), ImportFormat::Csv, YEAR).expect("parses")
}

fn resident(line: usize, name: &str) -> ImportedResident {
    ImportedResident {
        line,
        full_name: name.to_owned(),
        birth_year: None,
        sex: None,
        phone: None,
        relation_to_head: None,
    }
}

fn person(
    line: usize,
    name: &str,
    year: Option<i32>,
    sex: Option<Sex>,
    relation: Option<&str>,
) -> ImportedResident {
    ImportedResident {
        birth_year: year,
        sex,
        relation_to_head: relation.map(str::to_owned),
        ..resident(line, name)
    }
}

fn codes(errors: &[RowError]) -> Vec<(usize, Option<&str>, &str)> {
    errors
        .iter()
        .map(|e| (e.line, e.column.as_deref(), e.code.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// CSV in the villages' layout

const VILLAGE_HEADER: &str =
    "Mã hộ;Thôn;Xóm;Ngõ;Số nhà;Chủ hộ;Điện thoại;Họ và tên;Năm sinh;Giới tính;Quan hệ với chủ hộ";

#[test]
fn vietnamese_csv_with_bom_and_semicolons_parses_into_households() {
    let text = format!(
        "\u{FEFF}{VILLAGE_HEADER}\r\n\
         H001;Thôn Phú Lộc;Xóm Đông;Ngõ 3;12;Nguyễn Văn Đức;0912 345 678;Nguyễn Văn Đức;1968;Nam;Chủ hộ\r\n\
         H001;Thôn Phú Lộc;Xóm Đông;Ngõ 3;12;Nguyễn Văn Đức;0912 345 678;Trần Thị Ánh Hồng;1971;Nữ;Vợ\r\n\
         H001;Thôn Phú Lộc;Xóm Đông;Ngõ 3;12;Nguyễn Văn Đức;0912 345 678;Nguyễn Thị Ngọc Ánh;2004;nữ;Con\r\n\
         \r\n\
         H002;T01;;;;Lê Thị Hương;+84 987 654 321;Lê Thị Hương;1950;Nữ;Chủ hộ\r\n"
    );
    let parsed = csv(&text);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows, 4);
    assert_eq!(
        parsed.households,
        vec![
            ImportedHousehold {
                line: 2,
                household_code: Some("H001".into()),
                village: "Thôn Phú Lộc".into(),
                hamlet: Some("Xóm Đông".into()),
                lane: Some("Ngõ 3".into()),
                house_number: Some("12".into()),
                head_name: "Nguyễn Văn Đức".into(),
                phone: Some("0912345678".into()),
                residents: vec![
                    person(
                        2,
                        "Nguyễn Văn Đức",
                        Some(1968),
                        Some(Sex::Male),
                        Some("Chủ hộ")
                    ),
                    person(
                        3,
                        "Trần Thị Ánh Hồng",
                        Some(1971),
                        Some(Sex::Female),
                        Some("Vợ")
                    ),
                    person(
                        4,
                        "Nguyễn Thị Ngọc Ánh",
                        Some(2004),
                        Some(Sex::Female),
                        Some("Con")
                    ),
                ],
            },
            ImportedHousehold {
                // Line 5 is blank but still counts.
                line: 6,
                household_code: Some("H002".into()),
                village: "T01".into(),
                hamlet: None,
                lane: None,
                house_number: None,
                head_name: "Lê Thị Hương".into(),
                phone: Some("0987654321".into()),
                residents: vec![person(
                    6,
                    "Lê Thị Hương",
                    Some(1950),
                    Some(Sex::Female),
                    Some("Chủ hộ")
                )],
            },
        ]
    );
}

#[test]
fn decomposed_unicode_is_stored_composed() {
    // "Đức" typed on a Mac may arrive decomposed (NFD).
    let text = "Thôn,Chủ hộ,Họ và tên\nPhu\u{0301} Lô\u{0323}c,D\u{0323}u,Nguye\u{0302}\u{0303}n\n";
    let parsed = csv(text);
    assert_eq!(parsed.households[0].village, "Phú Lộc");
    assert_eq!(parsed.households[0].residents[0].full_name, "Nguyễn");
}

#[test]
fn bad_rows_are_reported_with_line_column_and_code_and_good_rows_kept() {
    let long_name = "A".repeat(121);
    let text = format!(
        "{VILLAGE_HEADER}\n\
         H1;T01;;;;Nguyễn Văn A;0912345678;Nguyễn Văn A;1970;Nam;Chủ hộ\n\
         H1;T01;;;;Nguyễn Văn A;0912345678;Trần Thị B;1850;X;Vợ\n\
         H1;T01;;;;Nguyễn Văn A;0912345678;;1999;Nữ;Con\n\
         H2;T01;;;;Phạm Văn C;12345;Phạm Văn C;19x5;Nam;Chủ hộ\n\
         H3;T01;;;;Lê Văn D;;{long_name};2030;Nam;Chủ hộ\n\
         H1;T02;;;;Nguyễn Văn A;0912345678;Nguyễn Văn E;2001;Nam;Con\n\
         H4;;;;;;;Võ Thị F;1980;Nữ;\n\
         H1;T01;;;;Nguyễn Văn A;0912345678;Nguyễn Văn G;2003;Khác;Con\n"
    );
    let parsed = csv(&text);
    assert_eq!(parsed.rows, 8);
    assert_eq!(
        codes(&parsed.errors),
        vec![
            (3, Some("Năm sinh"), "out_of_range"),
            (3, Some("Giới tính"), "invalid_sex"),
            (4, Some("Họ và tên"), "required"),
            (5, Some("Điện thoại"), "invalid_phone"),
            (5, Some("Năm sinh"), "invalid_birth_year"),
            (6, Some("Họ và tên"), "too_long"),
            (6, Some("Năm sinh"), "out_of_range"),
            (7, Some("Thôn"), "inconsistent_household"),
            (8, Some("Thôn"), "required"),
            (8, Some("Chủ hộ"), "required"),
        ]
    );
    assert!(parsed.errors.iter().all(|e| !e.message.is_empty()));
    // H1 keeps its two good rows; H2, H3 and H4 have no good row and are left out.
    assert_eq!(parsed.households.len(), 1);
    let h1 = &parsed.households[0];
    assert_eq!(h1.household_code.as_deref(), Some("H1"));
    assert_eq!(
        h1.residents
            .iter()
            .map(|r| (r.line, r.full_name.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, "Nguyễn Văn A"), (9, "Nguyễn Văn G")]
    );
    assert_eq!(h1.residents[1].sex, Some(Sex::Other));
    let json = serde_json::to_value(&parsed.errors[0]).expect("serialises");
    assert_eq!(json["line"], 3);
    assert_eq!(json["column"], "Năm sinh");
    assert_eq!(json["code"], "out_of_range");
}

#[test]
fn rows_without_code_group_by_address_and_head() {
    let text = "Thôn,Xóm,Số nhà,Chủ hộ,Điện thoại,Họ và tên\n\
                Phú Lộc,Đông,12,Nguyễn Văn A,0912345678,Nguyễn Văn A\n\
                phu loc,ĐÔNG,12,nguyen van a,,Nguyễn Thị B\n\
                Phú Lộc,Đông,14,Nguyễn Văn A,,Nguyễn Văn C\n\
                Phú Lộc,Đông,12,Nguyễn Văn A,0987654321,Nguyễn Văn D\n";
    let parsed = csv(text);
    assert_eq!(
        codes(&parsed.errors),
        vec![(5, Some("Điện thoại"), "inconsistent_household")]
    );
    assert_eq!(parsed.households.len(), 2);
    let first = &parsed.households[0];
    assert_eq!(first.village, "Phú Lộc");
    assert_eq!(first.house_number.as_deref(), Some("12"));
    assert_eq!(first.phone.as_deref(), Some("0912345678"));
    assert_eq!(first.residents.len(), 2);
    assert_eq!(parsed.households[1].house_number.as_deref(), Some("14"));
}

#[test]
fn household_columns_written_only_on_the_first_row_continue_the_household() {
    // As with merged cells: members' rows leave the household columns blank.
    let text = "STT,Mã hộ,Thôn,Chủ hộ,Điện thoại,Họ và tên,Năm sinh\n\
                1,H1,T01,Nguyễn Văn A,912345678,Nguyễn Văn A,1970\n\
                2,,,,,Trần Thị B,1972\n\
                3,,,,,Nguyễn Văn C,2001\n\
                4,H2,T01,Lê Văn D,0912,Lê Văn D,1960\n\
                5,,,,,Lê Thị E,1962\n\
                6,H1,,,,Nguyễn Thị F,2005\n";
    let parsed = csv(text);
    assert_eq!(
        codes(&parsed.errors),
        vec![
            (5, Some("Điện thoại"), "invalid_phone"),
            (6, None, "household_has_errors"),
        ]
    );
    assert_eq!(parsed.households.len(), 1);
    let h1 = &parsed.households[0];
    assert_eq!(h1.phone.as_deref(), Some("0912345678"));
    assert_eq!(
        h1.residents.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![2, 3, 4, 7]
    );
}

#[test]
fn headers_match_without_diacritics_in_other_words_and_in_english() {
    let plain = "STT,Ma ho,THON,Tên chủ hộ,SĐT,Họ tên (*),Nam sinh,Giới,Quan hệ,Ghi chú\n\
                 1,H1,T01,Nguyen Van A,0912345678,Nguyen Van A,1970,Nam,Chu ho,ghi chu\n";
    let parsed = csv(plain);
    assert_eq!(parsed.errors, vec![]);
    let h = &parsed.households[0];
    assert_eq!(h.household_code.as_deref(), Some("H1"));
    assert_eq!(h.phone.as_deref(), Some("0912345678"));
    assert_eq!(
        h.residents[0],
        person(
            2,
            "Nguyen Van A",
            Some(1970),
            Some(Sex::Male),
            Some("Chu ho")
        )
    );

    let english = "household_code,village,hamlet,lane,house_number,head_name,phone,full_name,birth_year,sex,relation_to_head,resident_phone\n\
                   H9,T02,X1,L2,7A,Tran Van B,0243 812 3456,Tran Thi C,1990-05-17,female,wife,0987654321\n";
    let parsed = csv(english);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        parsed.households,
        vec![ImportedHousehold {
            line: 2,
            household_code: Some("H9".into()),
            village: "T02".into(),
            hamlet: Some("X1".into()),
            lane: Some("L2".into()),
            house_number: Some("7A".into()),
            head_name: "Tran Van B".into(),
            phone: Some("02438123456".into()),
            residents: vec![ImportedResident {
                phone: Some("0987654321".into()),
                ..person(2, "Tran Thi C", Some(1990), Some(Sex::Female), Some("wife"))
            }],
        }]
    );
}

#[test]
fn a_title_above_the_header_is_skipped_and_lines_stay_as_in_excel() {
    let text = "DANH SÁCH HỘ DÂN THÔN PHÚ LỘC;;\n;;\nThôn;Chủ hộ;Họ và tên\nT01;A;A\nT01;A;\n";
    let parsed = csv(text);
    assert_eq!(parsed.households[0].line, 4);
    assert_eq!(
        codes(&parsed.errors),
        vec![(5, Some("Họ và tên"), "required")]
    );
}

#[test]
fn quoted_fields_commas_and_line_breaks_count_as_one_excel_row() {
    let text = "Thôn,Chủ hộ,Họ và tên,Quan hệ với chủ hộ\n\
                \"Thôn Phú Lộc, xã Yên\",\"Nguyễn \"\"Văn\"\" A\",Nguyễn Văn A,\"Chủ\nhộ\"\n\
                \"Thôn Phú Lộc, xã Yên\",\"Nguyễn \"\"Văn\"\" A\",,Con\n";
    let parsed = csv(text);
    assert_eq!(parsed.households[0].village, "Thôn Phú Lộc, xã Yên");
    assert_eq!(parsed.households[0].head_name, "Nguyễn \"Văn\" A");
    assert_eq!(
        codes(&parsed.errors),
        vec![(3, Some("Họ và tên"), "required")]
    );
    // A line break inside a cell (Alt+Enter) is a space; other control characters are refused.
    assert_eq!(
        parsed.households[0].residents[0]
            .relation_to_head
            .as_deref(),
        Some("Chủ hộ")
    );
    let text = "Thôn,Chủ hộ,Họ và tên,Quan hệ\nT,A,A,\"x\u{7}y\"\n";
    assert_eq!(
        codes(&csv(text).errors),
        vec![(2, Some("Quan hệ"), "invalid_characters")]
    );
}

#[test]
fn the_delimiter_is_detected_and_excel_sep_lines_are_honoured() {
    for text in [
        "Thôn,Chủ hộ,Họ và tên\nT01,A,B\n",
        "Thôn;Chủ hộ;Họ và tên\nT01;A;B\n",
        "Thôn\tChủ hộ\tHọ và tên\nT01\tA\tB\n",
        "sep=;\nThôn;Chủ hộ;Họ và tên\nT01;A;B\n",
        "Thôn;Chủ hộ;Họ và tên\rT01;A;B",
    ] {
        let parsed = csv(text);
        assert_eq!(parsed.errors, vec![], "{text:?}");
        assert_eq!(parsed.households[0].residents[0].line, 2, "{text:?}");
        assert_eq!(parsed.households[0].residents[0].full_name, "B", "{text:?}");
    }
}

#[test]
fn missing_required_columns_and_empty_files_are_file_errors() {
    let err = parse(
        b"Thon,Dien thoai\nT01,0912345678\n",
        ImportFormat::Csv,
        YEAR,
    )
    .expect_err("missing");
    match err {
        ImportError::MissingColumns(missing) => {
            assert_eq!(missing, vec!["Chủ hộ".to_owned(), "Họ và tên".to_owned()])
        }
        other => panic!("{other:?}"),
    }
    for empty in ["", "\u{FEFF}", "\n\n;;\n", "Thôn;Chủ hộ;Họ và tên\n;;\n"] {
        let err = parse(empty.as_bytes(), ImportFormat::Csv, YEAR).expect_err("empty");
        assert!(matches!(err, ImportError::Empty), "{empty:?}: {err:?}");
        assert_eq!(err.code(), "empty_file");
    }
}

#[test]
fn more_than_max_rows_is_refused() {
    let mut text = String::from("STT,Thôn,Chủ hộ,Họ và tên\n");
    for i in 0..MAX_ROWS {
        text.push_str(&format!("{i},T01,Head {},Person {i}\n", i / 4));
    }
    // A numbered template below the list is not data.
    for i in MAX_ROWS..MAX_ROWS + 5_000 {
        text.push_str(&format!("{i},,,\n"));
    }
    let parsed = csv(&text);
    assert_eq!(parsed.rows, MAX_ROWS);
    assert_eq!(parsed.households.len(), MAX_ROWS / 4);
    text.push_str("0,T01,X,Y\n0,T01,X,Z\n");
    let err = parse(text.as_bytes(), ImportFormat::Csv, YEAR).expect_err("too many");
    assert!(
        matches!(err, ImportError::TooManyRows { rows, max } if rows == MAX_ROWS + 2 && max == MAX_ROWS),
        "{err:?}"
    );
}

#[test]
fn a_formula_escaped_by_the_export_is_read_back_as_written() {
    let text = "Thôn,Chủ hộ,Họ và tên\nT01,'=1+2,'-A\n";
    let parsed = csv(text);
    assert_eq!(parsed.households[0].head_name, "=1+2");
    assert_eq!(parsed.households[0].residents[0].full_name, "-A");
}

// ---------------------------------------------------------------------------------------------
// Single values

#[test]
fn birth_years_are_read_from_years_excel_numbers_and_dates() {
    for (raw, year) in [
        ("1975", 1975),
        ("1975.0", 1975),
        ("1975,00", 1975),
        ("02/03/1975", 1975),
        ("2/3/1975", 1975),
        ("3/25/1975", 1975),
        ("25-03-1975", 1975),
        ("25.03.1975", 1975),
        ("1975-03-25", 1975),
        ("1975-03-25T00:00:00", 1975),
        ("03/1975", 1975),
        ("1850", 1850),
    ] {
        assert_eq!(parse_birth_year(raw).ok(), Some(year), "{raw}");
    }
    for raw in [
        "",
        "abc",
        "1975.5",
        "31/02/1975",
        "13/13/1975",
        "02/03/75",
        "1975-",
        "１９７５",
    ] {
        assert!(parse_birth_year(raw).is_err(), "{raw}");
    }
}

#[test]
fn phones_that_lost_their_leading_zero_get_it_back() {
    assert_eq!(restore_phone_zero("912345678"), "0912345678");
    assert_eq!(restore_phone_zero("2438123456"), "02438123456");
    assert_eq!(restore_phone_zero("0912345678"), "0912345678");
    assert_eq!(restore_phone_zero("84912345678"), "84912345678");
    assert_eq!(restore_phone_zero("+84 912 345 678"), "+84 912 345 678");
    let parsed = csv("Thôn,Chủ hộ,Điện thoại,Họ và tên\nT,A,912345678,A\n");
    assert_eq!(parsed.households[0].phone.as_deref(), Some("0912345678"));
}

#[test]
fn sex_is_read_in_vietnamese_and_english() {
    let text = "Thôn,Chủ hộ,Họ và tên,Giới tính\nT,A,a,Nam\nT,A,b,NỮ\nT,A,c,khac\nT,A,d,M\nT,A,e,f\nT,A,g,other\nT,A,h,?\n";
    let parsed = csv(text);
    let sexes: Vec<_> = parsed.households[0]
        .residents
        .iter()
        .map(|r| r.sex)
        .collect();
    use Sex::*;
    assert_eq!(
        sexes,
        vec![
            Some(Male),
            Some(Female),
            Some(Other),
            Some(Male),
            Some(Female),
            Some(Other)
        ]
    );
    assert_eq!(
        codes(&parsed.errors),
        vec![(8, Some("Giới tính"), "invalid_sex")]
    );
}

// ---------------------------------------------------------------------------------------------
// Export and round trips

fn export_rows() -> Vec<ExportRow> {
    let household = |code: &str, village: &str, head: &str, phone: Option<&str>| ExportRow {
        household_code: code.into(),
        village: village.into(),
        hamlet: None,
        lane: None,
        house_number: None,
        head_name: head.into(),
        phone: phone.map(str::to_owned),
        full_name: head.into(),
        birth_year: None,
        sex: None,
        relation_to_head: None,
    };
    let mut a = household("H001", "T01", "Nguyễn Văn Đức", Some("0912345678"));
    a.hamlet = Some("Xóm Đông".into());
    a.lane = Some("Ngõ 3, hẻm 2".into());
    a.house_number = Some("012".into());
    a.birth_year = Some(1968);
    a.sex = Some(Sex::Male);
    a.relation_to_head = Some("Chủ hộ".into());
    let b = ExportRow {
        full_name: "Trần Thị \"Ánh\" Hồng".into(),
        birth_year: Some(1971),
        sex: Some(Sex::Female),
        relation_to_head: Some("Vợ".into()),
        ..a.clone()
    };
    let c = ExportRow {
        full_name: "=Con; út".into(),
        birth_year: None,
        sex: Some(Sex::Other),
        relation_to_head: None,
        ..a.clone()
    };
    let d = household("H002", "T02", "Lê Thị Hương", None);
    let mut e = household("H003", "T01", "Phạm Văn Bình", Some("02438123456"));
    e.full_name = "Phạm Minh Khôi".into();
    e.birth_year = Some(2020);
    vec![a, b, c, d, e]
}

fn expected_households() -> Vec<ImportedHousehold> {
    vec![
        ImportedHousehold {
            line: 2,
            household_code: Some("H001".into()),
            village: "T01".into(),
            hamlet: Some("Xóm Đông".into()),
            lane: Some("Ngõ 3, hẻm 2".into()),
            house_number: Some("012".into()),
            head_name: "Nguyễn Văn Đức".into(),
            phone: Some("0912345678".into()),
            residents: vec![
                person(
                    2,
                    "Nguyễn Văn Đức",
                    Some(1968),
                    Some(Sex::Male),
                    Some("Chủ hộ"),
                ),
                person(
                    3,
                    "Trần Thị \"Ánh\" Hồng",
                    Some(1971),
                    Some(Sex::Female),
                    Some("Vợ"),
                ),
                person(4, "=Con; út", None, Some(Sex::Other), None),
            ],
        },
        ImportedHousehold {
            line: 5,
            household_code: Some("H002".into()),
            village: "T02".into(),
            hamlet: None,
            lane: None,
            house_number: None,
            head_name: "Lê Thị Hương".into(),
            phone: None,
            residents: vec![resident(5, "Lê Thị Hương")],
        },
        ImportedHousehold {
            line: 6,
            household_code: Some("H003".into()),
            village: "T01".into(),
            hamlet: None,
            lane: None,
            house_number: None,
            head_name: "Phạm Văn Bình".into(),
            phone: Some("02438123456".into()),
            residents: vec![person(6, "Phạm Minh Khôi", Some(2020), None, None)],
        },
    ]
}

#[test]
fn csv_export_starts_with_a_bom_and_reads_back_the_same_households() {
    let bytes = write_csv(&export_rows());
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    assert!(text.starts_with(
        "\u{FEFF}Mã hộ,Thôn,Xóm,Ngõ,Số nhà,Chủ hộ,Điện thoại,Họ và tên,Năm sinh,Giới tính,Quan hệ với chủ hộ\r\n"
    ));
    assert!(text.contains("\r\nH001,T01,Xóm Đông,\"Ngõ 3, hẻm 2\",012,Nguyễn Văn Đức,0912345678,Nguyễn Văn Đức,1968,Nam,Chủ hộ\r\n"));
    assert!(text.contains(",\"'=Con; út\",,Khác,\r\n"), "{text}");
    assert_eq!(detect_format(&bytes).expect("detects"), ImportFormat::Csv);
    let parsed = parse(&bytes, ImportFormat::Csv, YEAR).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows, 5);
    assert_eq!(parsed.households, expected_households());
}

#[test]
fn xlsx_export_reads_back_the_same_households() {
    let bytes = write_xlsx(&export_rows()).expect("writes");
    assert_eq!(detect_format(&bytes).expect("detects"), ImportFormat::Xlsx);
    let parsed = parse(&bytes, ImportFormat::Xlsx, YEAR).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows, 5);
    assert_eq!(parsed.households, expected_households());
    let csv = parse(&write_csv(&export_rows()), ImportFormat::Csv, YEAR).expect("parses");
    assert_eq!(parsed.households, csv.households);

    let workbook: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.as_slice())).expect("opens");
    assert_eq!(workbook.sheet_names(), vec![XLSX_SHEET_NAME.to_owned()]);
}

#[test]
fn empty_exports_are_valid_files_with_only_the_header() {
    let csv = write_csv(&[]);
    let xlsx = write_xlsx(&[]).expect("writes");
    for (bytes, format) in [(csv, ImportFormat::Csv), (xlsx, ImportFormat::Xlsx)] {
        assert!(matches!(
            parse(&bytes, format, YEAR),
            Err(ImportError::Empty)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// XLSX written by hand, as Excel users make them

#[test]
fn xlsx_numbers_dates_and_lost_leading_zeros_are_understood() {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "DANH SÁCH HỘ DÂN").expect("title");
    for (col, header) in [
        "Thôn",
        "Chủ hộ",
        "Điện thoại",
        "Họ và tên",
        "Năm sinh",
        "Số nhà",
        "Ghi chú",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(2, col as u16, *header).expect("header");
    }
    // Row 4: numbers as Excel stores them.
    sheet.write_string(3, 0, "Thôn Phú Lộc").expect("cell");
    sheet.write_string(3, 1, "Nguyễn Văn Đức").expect("cell");
    sheet.write_number(3, 2, 912345678.0).expect("cell");
    sheet.write_string(3, 3, "Nguyễn Văn Đức").expect("cell");
    sheet.write_number(3, 4, 1968.0).expect("cell");
    sheet.write_number(3, 5, 12.0).expect("cell");
    sheet.write_number(3, 6, 0.5).expect("cell");
    // Row 5: a date of birth formatted as a date; a float year.
    sheet.write_string(4, 3, "Trần Thị Ánh").expect("cell");
    let born = ExcelDateTime::from_ymd(1971, 5, 17).expect("date");
    sheet
        .write_datetime_with_format(4, 4, &born, &date)
        .expect("cell");
    // Row 7 (row 6 blank): a bad year and a bad phone.
    sheet.write_string(6, 0, "Thôn Phú Lộc").expect("cell");
    sheet.write_string(6, 1, "Lê Văn Tám").expect("cell");
    sheet.write_number(6, 2, 12345.0).expect("cell");
    sheet.write_string(6, 3, "Lê Văn Tám").expect("cell");
    sheet.write_number(6, 4, 1975.5).expect("cell");
    // Row 8: a phone written with 84 in front, as a number.
    sheet.write_string(7, 0, "T02").expect("cell");
    sheet.write_string(7, 1, "Võ Thị Sáu").expect("cell");
    sheet.write_number(7, 2, 84987654321.0).expect("cell");
    sheet.write_string(7, 3, "Võ Thị Sáu").expect("cell");
    sheet.write_number(7, 4, 1980.0).expect("cell");
    let bytes = workbook.save_to_buffer().expect("saves");

    let parsed = parse(&bytes, ImportFormat::Xlsx, YEAR).expect("parses");
    assert_eq!(
        codes(&parsed.errors),
        vec![
            (7, Some("Điện thoại"), "invalid_phone"),
            (7, Some("Năm sinh"), "invalid_birth_year"),
        ]
    );
    assert_eq!(parsed.rows, 4);
    assert_eq!(
        parsed.households,
        vec![
            ImportedHousehold {
                line: 4,
                household_code: None,
                village: "Thôn Phú Lộc".into(),
                hamlet: None,
                lane: None,
                house_number: Some("12".into()),
                head_name: "Nguyễn Văn Đức".into(),
                phone: Some("0912345678".into()),
                residents: vec![
                    ImportedResident {
                        birth_year: Some(1968),
                        ..resident(4, "Nguyễn Văn Đức")
                    },
                    ImportedResident {
                        birth_year: Some(1971),
                        ..resident(5, "Trần Thị Ánh")
                    },
                ],
            },
            ImportedHousehold {
                line: 8,
                household_code: None,
                village: "T02".into(),
                hamlet: None,
                lane: None,
                house_number: None,
                head_name: "Võ Thị Sáu".into(),
                phone: Some("0987654321".into()),
                residents: vec![ImportedResident {
                    birth_year: Some(1980),
                    ..resident(8, "Võ Thị Sáu")
                }],
            },
        ]
    );
}

#[test]
fn xlsx_missing_columns_are_reported() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Ho va ten").expect("cell");
    sheet.write_string(1, 0, "A").expect("cell");
    let bytes = workbook.save_to_buffer().expect("saves");
    match parse(&bytes, ImportFormat::Xlsx, YEAR) {
        Err(ImportError::MissingColumns(missing)) => {
            assert_eq!(missing, vec!["Thôn".to_owned(), "Chủ hộ".to_owned()])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn xlsx_declaring_huge_parts_is_refused_before_decompression() {
    let mut bytes = write_xlsx(&export_rows()).expect("writes");
    // Declare the first entry of the central directory as 1 GiB uncompressed.
    let cd = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("central directory");
    bytes[cd + 24..cd + 28].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let err = parse(&bytes, ImportFormat::Xlsx, YEAR).expect_err("refused");
    assert!(matches!(err, ImportError::Unreadable(_)), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Format detection

#[test]
fn detect_format_accepts_csv_and_xlsx_and_names_what_else_it_got() {
    assert_eq!(
        detect_format(b"Thon,Chu ho\n").expect("csv"),
        ImportFormat::Csv
    );
    assert_eq!(
        detect_format("\u{FEFF}Thôn;Chủ hộ\r\n".as_bytes()).expect("csv"),
        ImportFormat::Csv
    );
    let xlsx = write_xlsx(&export_rows()).expect("writes");
    assert_eq!(detect_format(&xlsx).expect("xlsx"), ImportFormat::Xlsx);

    for (bytes, hint) in [
        (&b"MZ\x90\x00\x03\x00\x00\x00"[..], "Windows program"),
        (&b"\x7FELF\x02\x01\x01\x00"[..], "Linux program"),
        (&b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"[..], ".xls"),
        (&b"%PDF-1.7\n"[..], "PDF"),
        (&b"\xFF\xFEM\x00a\x00"[..], "UTF-16"),
        (&b"Th\xF4n,Ch\xE1 h\xF4\n"[..], "not UTF-8"),
        (&b"a,b\x00c"[..], "binary"),
        (
            &b"<html><table><tr><td>x</td></tr></table></html>"[..],
            "web page",
        ),
    ] {
        let err = detect_format(bytes).expect_err("refused");
        assert_eq!(err.code(), "not_csv_or_xlsx");
        assert!(err.to_string().contains(hint), "{err}");
        assert!(err.to_string().contains("CSV"), "{err}");
    }
    assert!(matches!(detect_format(b""), Err(ImportError::Empty)));
}

// ---------------------------------------------------------------------------------------------
// Hostile input

/// A small deterministic generator (xorshift64*).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                let n = self.next();
                if alphabet.is_empty() {
                    n as u8
                } else {
                    alphabet[(n % alphabet.len() as u64) as usize]
                }
            })
            .collect()
    }
}

fn parse_anything(bytes: &[u8]) {
    let _ = detect_format(bytes);
    let _ = parse(bytes, ImportFormat::Csv, YEAR);
    let _ = parse(bytes, ImportFormat::Xlsx, YEAR);
}

#[test]
fn garbage_never_panics() {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let csvish = "Thôn,Chủ hộ;Họ và tên\"\n\r\t 0123456789.-/'=Nam Nữ x".as_bytes();
    for round in 0..300 {
        let len = (noise.next() % 2_000) as usize;
        let alphabet: &[u8] = if round % 2 == 0 { &[] } else { csvish };
        let mut bytes = noise.bytes(len, alphabet);
        if round % 3 == 0 {
            let mut with_header = VILLAGE_HEADER.as_bytes().to_vec();
            with_header.push(b'\n');
            with_header.append(&mut bytes);
            bytes = with_header;
        }
        parse_anything(&bytes);
    }

    // Truncated and corrupted workbooks.
    let xlsx = write_xlsx(&export_rows()).expect("writes");
    for cut in (0..xlsx.len()).step_by(97) {
        parse_anything(&xlsx[..cut]);
    }
    for _ in 0..200 {
        let mut bad = xlsx.clone();
        for _ in 0..4 {
            let at = (noise.next() % bad.len() as u64) as usize;
            bad[at] = noise.next() as u8;
        }
        parse_anything(&bad);
    }
    // Noise as the compressed data of a part, declared small and large.
    for round in 0..200 {
        let len = (noise.next() % 512) as usize;
        let data = noise.bytes(len, &[]);
        let part = ZipPart {
            name: if round % 2 == 0 {
                "xl/worksheets/sheet1.xml"
            } else {
                "xl/media/x.bin"
            },
            method: 8,
            data: &data,
            crc: noise.next() as u32,
            declared_size: (noise.next() % (1 << 20)) as u32,
        };
        parse_anything(&workbook_with(&[part]));
    }
    // A ZIP signature followed by noise.
    let mut fake = b"PK\x03\x04".to_vec();
    fake.extend(noise.bytes(4_000, &[]));
    parse_anything(&fake);
}

#[test]
fn huge_cells_and_rows_are_cut_not_kept() {
    // A 10 MB single field in a required column.
    let mut text = String::from("Thôn,Chủ hộ,Họ và tên\nT01,A,\"");
    text.push_str(&"Ấ".repeat(5 * 1024 * 1024));
    text.push_str("\"\nT01,A,B\n");
    let parsed = csv(&text);
    assert_eq!(
        codes(&parsed.errors),
        vec![(2, Some("Họ và tên"), "too_long")]
    );
    assert_eq!(parsed.households[0].residents[0].line, 3);

    // A 10 MB unterminated quote, and a header row with 100,000 columns.
    let mut text = String::from("Thôn,Chủ hộ,Họ và tên\nT01,A,\"");
    text.push_str(&"x".repeat(10 * 1024 * 1024));
    assert_eq!(
        codes(&csv(&text).errors),
        vec![(2, Some("Họ và tên"), "too_long")]
    );
    // Headers past MAX_COLUMNS are not read.
    let mut text = ",".repeat(100_000);
    text.push_str("Thôn,Chủ hộ,Họ và tên\nT01,A,B\n");
    let result = parse(text.as_bytes(), ImportFormat::Csv, YEAR);
    assert!(
        matches!(result, Err(ImportError::MissingColumns(_))),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-made workbooks (stored, uncompressed ZIP entries) for hostile XLSX

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One entry of a hand-made ZIP archive: `data` is written as is, with the declared sizes.
#[derive(Clone, Copy)]
struct ZipPart<'a> {
    name: &'a str,
    /// 0 stored, 8 deflated.
    method: u16,
    data: &'a [u8],
    crc: u32,
    declared_size: u32,
}

impl<'a> ZipPart<'a> {
    fn stored(name: &'a str, data: &'a str) -> Self {
        ZipPart {
            name,
            method: 0,
            data: data.as_bytes(),
            crc: crc32(data.as_bytes()),
            declared_size: data.len() as u32,
        }
    }
}

/// A ZIP archive of the given entries, local and central headers saying the same.
fn zip_of(entries: &[ZipPart<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for part in entries {
        let name = part.name.as_bytes();
        let method = part.method.to_le_bytes();
        let crc = part.crc.to_le_bytes();
        let compressed = (part.data.len() as u32).to_le_bytes();
        let size = part.declared_size.to_le_bytes();
        let name_len = (name.len() as u16).to_le_bytes();
        let offset = (out.len() as u32).to_le_bytes();
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
        out.extend_from_slice(&method);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&crc);
        out.extend_from_slice(&compressed);
        out.extend_from_slice(&size);
        out.extend_from_slice(&name_len);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name);
        out.extend_from_slice(part.data);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
        central.extend_from_slice(&method);
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc);
        central.extend_from_slice(&compressed);
        central.extend_from_slice(&size);
        central.extend_from_slice(&name_len);
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset);
        central.extend_from_slice(name);
    }
    let count = (entries.len() as u16).to_le_bytes();
    let central_offset = (out.len() as u32).to_le_bytes();
    let central_len = (central.len() as u32).to_le_bytes();
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&count);
    out.extend_from_slice(&count);
    out.extend_from_slice(&central_len);
    out.extend_from_slice(&central_offset);
    out.extend_from_slice(&[0, 0]);
    out
}

/// A ZIP archive of uncompressed entries.
fn stored_zip(entries: &[(&str, &str)]) -> Vec<u8> {
    let parts: Vec<ZipPart<'_>> = entries
        .iter()
        .map(|(name, data)| ZipPart::stored(name, data))
        .collect();
    zip_of(&parts)
}

const NS: &str = "http://schemas.openxmlformats.org";

/// The parts of a minimal workbook: name and XML.
fn handmade_parts(shared_strings: &str, sheet_data: &str) -> Vec<(&'static str, String)> {
    let package_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}/spreadsheetml/2006/main" xmlns:r="{NS}/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let workbook_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
    );
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
    );
    vec![
        ("_rels/.rels", package_rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/sharedStrings.xml", shared_strings.to_owned()),
        ("xl/worksheets/sheet1.xml", sheet),
    ]
}

fn handmade_xlsx(shared_strings: &str, sheet_data: &str) -> Vec<u8> {
    let parts = handmade_parts(shared_strings, sheet_data);
    let entries: Vec<(&str, &str)> = parts.iter().map(|(n, x)| (*n, x.as_str())).collect();
    stored_zip(&entries)
}

fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn handmade_rows() -> String {
    format!(
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c>{}{}</row><row r="2">{}{}{}</row>"#,
        inline("B1", "Chủ hộ"),
        inline("C1", "Họ và tên"),
        inline("A2", "T01"),
        inline("B2", "Nguyễn Văn A"),
        inline("C2", "Nguyễn Văn A"),
    )
}

fn shared_strings(unique_count: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}/spreadsheetml/2006/main" count="1" uniqueCount="{unique_count}"><si><t>Thôn</t></si></sst>"#
    )
}

#[test]
fn a_handmade_workbook_with_shared_and_inline_strings_parses() {
    let bytes = handmade_xlsx(&shared_strings("1"), &handmade_rows());
    let parsed = parse(&bytes, ImportFormat::Xlsx, YEAR).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.households[0].village, "T01");
    assert_eq!(parsed.households[0].head_name, "Nguyễn Văn A");
}

#[test]
fn a_workbook_declaring_billions_of_texts_is_refused_before_calamine_reserves_them() {
    // calamine reserves `uniqueCount` strings up front; a failed allocation would abort.
    for count in [
        "10000000000",
        "+0000000000000000000000000000009999999999",
        "2000001",
    ] {
        let bytes = handmade_xlsx(&shared_strings(count), &handmade_rows());
        let err = parse(&bytes, ImportFormat::Xlsx, YEAR).expect_err("refused");
        assert!(
            matches!(err, ImportError::Unreadable(_)),
            "{count}: {err:?}"
        );
    }
    let bytes = handmade_xlsx(&shared_strings("2000000"), &handmade_rows());
    assert!(parse(&bytes, ImportFormat::Xlsx, YEAR).is_ok());
}

#[test]
fn a_workbook_with_millions_of_styles_or_texts_is_refused() {
    let many_si = format!(
        r#"<sst xmlns="{NS}/spreadsheetml/2006/main"><si><t>Thôn</t></si>{}</sst>"#,
        "<si/>".repeat(2_100_000)
    );
    let bytes = handmade_xlsx(&many_si, &handmade_rows());
    let err = parse(&bytes, ImportFormat::Xlsx, YEAR).expect_err("refused");
    assert!(matches!(err, ImportError::Unreadable(_)), "{err:?}");
}

#[test]
fn worksheet_rows_out_of_order_are_refused() {
    let rows = format!(
        r#"{}<row r="1">{}</row>"#,
        handmade_rows(),
        inline("A1", "x")
    );
    let bytes = handmade_xlsx(&shared_strings("1"), &rows);
    let err = parse(&bytes, ImportFormat::Xlsx, YEAR).expect_err("refused");
    assert!(matches!(err, ImportError::Unreadable(_)), "{err:?}");
}

/// A raw DEFLATE stream of `mib` MiB of zeros (about 1 KiB per MiB): one compressed MiB,
/// ended by a sync flush, repeated, then a final empty block.
fn deflated_zeros(mib: usize) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut segment = Vec::with_capacity(64 << 10);
    compress
        .compress_vec(&zeros, &mut segment, flate2::FlushCompress::Sync)
        .expect("compresses");
    assert_eq!(compress.total_in(), 1 << 20);
    let mut out = segment.repeat(mib);
    // BFINAL=1, fixed Huffman codes, end of block.
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

/// The handmade workbook with `extra` parts added (or put in place of the part of that name).
fn workbook_with(extra: &[ZipPart<'_>]) -> Vec<u8> {
    let parts = handmade_parts(&shared_strings("1"), &handmade_rows());
    let mut entries: Vec<ZipPart<'_>> = parts
        .iter()
        .filter(|(name, _)| extra.iter().all(|e| e.name != *name))
        .map(|(name, xml)| ZipPart::stored(name, xml))
        .collect();
    entries.extend_from_slice(extra);
    zip_of(&entries)
}

#[test]
fn zip_bombs_are_refused() {
    use std::io::Read;
    let mut check = Vec::new();
    flate2::read::DeflateDecoder::new(&deflated_zeros(3)[..])
        .read_to_end(&mut check)
        .expect("inflates");
    assert_eq!(check, vec![0; 3 << 20]);
    assert!(parse(&workbook_with(&[]), ImportFormat::Xlsx, YEAR).is_ok());

    // 300 MiB of zeros in 300 KB, declared truthfully, or as far less than it is.
    let bomb = deflated_zeros(300);
    assert!(bomb.len() < 400_000, "{}", bomb.len());
    for name in [
        "xl/media/zeros.bin",
        "xl/worksheets/sheet1.xml",
        "xl/sharedStrings.xml",
    ] {
        for declared in [300u32 << 20, 1_000, 60 << 20] {
            let part = ZipPart {
                name,
                method: 8,
                data: &bomb,
                crc: 0,
                declared_size: declared,
            };
            let bytes = workbook_with(&[part]);
            let started = std::time::Instant::now();
            // The guard itself refuses it, before calamine sees it.
            let err = super::zip_guard::check(&bytes).expect_err("refused");
            assert!(
                matches!(err, ImportError::Unreadable(_)),
                "{name} {declared}: {err:?}"
            );
            if declared > 1 << 26 {
                assert!(err.to_string().contains("too large"), "{err}");
            }
            eprintln!(
                "{name}, declared {declared}: refused in {:?}: {err}",
                started.elapsed()
            );
            if declared != 60 << 20 {
                // (The slow case is not decompressed a second time.)
                assert!(parse(&bytes, ImportFormat::Xlsx, YEAR).is_err());
            }
        }
    }

    // Parts each within the limit, together over it.
    let part = deflated_zeros(50);
    let mut crc = flate2::Crc::new();
    crc.update(&vec![0; 50 << 20]);
    let crc = crc.sum();
    let names = ["xl/media/a.bin", "xl/media/b.bin", "xl/media/c.bin"];
    let parts: Vec<ZipPart<'_>> = names
        .iter()
        .map(|name| ZipPart {
            name,
            method: 8,
            data: &part,
            crc,
            declared_size: 50 << 20,
        })
        .collect();
    let err = parse(&workbook_with(&parts), ImportFormat::Xlsx, YEAR).expect_err("refused");
    assert!(matches!(err, ImportError::Unreadable(_)), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
    // One of them alone is fine.
    assert!(parse(&workbook_with(&parts[..1]), ImportFormat::Xlsx, YEAR).is_ok());
}

#[test]
fn local_headers_disagreeing_with_the_central_directory_are_refused() {
    let good = handmade_xlsx(&shared_strings("1"), &handmade_rows());
    assert!(parse(&good, ImportFormat::Xlsx, YEAR).is_ok());
    let locals: Vec<usize> = good
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x03\x04")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(locals.len(), 5);
    // CRC, compressed size, uncompressed size of each local header in turn.
    for &local in &locals {
        for field in [14, 18, 22] {
            let mut bad = good.clone();
            bad[local + field] ^= 0x01;
            assert!(super::zip_guard::check(&bad).is_err(), "{local}+{field}");
            let err = parse(&bad, ImportFormat::Xlsx, YEAR).expect_err("refused");
            assert!(
                matches!(err, ImportError::Unreadable(_)),
                "{local}+{field}: {err:?}"
            );
        }
    }

    // Two parts of the same name, the second declaring billions of texts.
    let parts = handmade_parts(&shared_strings("1"), &handmade_rows());
    let mut entries: Vec<(&str, &str)> = parts.iter().map(|(n, x)| (*n, x.as_str())).collect();
    let hostile = shared_strings("10000000000");
    entries.push(("xl/sharedStrings.xml", &hostile));
    let twice = stored_zip(&entries);
    assert!(super::zip_guard::check(&twice).is_err());
    let err = parse(&twice, ImportFormat::Xlsx, YEAR).expect_err("refused");
    assert!(matches!(err, ImportError::Unreadable(_)), "{err:?}");
}

#[test]
fn a_large_workbook_passes_the_guard() {
    // A large, repetitive part crosses the 32 KiB chunks of the scan.
    let rows: Vec<ExportRow> = (0..3_000)
        .map(|i| ExportRow {
            full_name: format!("Người số {i}"),
            ..export_rows()[0].clone()
        })
        .collect();
    let big = write_xlsx(&rows).expect("writes");
    let parsed = parse(&big, ImportFormat::Xlsx, YEAR).expect("parses");
    assert_eq!(parsed.households[0].residents.len(), 3_000);
}

/// Property-based fuzzing of the import parsers (proptest): any bytes, any CSV table under a real
/// header, any ZIP-looking file. Each is read or refused with an error; never a panic, and every
/// data row is either imported or reported.
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// A cell: usually Vietnamese-looking text, sometimes separators, quotes, line breaks, digits.
    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "[A-Za-zĂÂĐÊÔƠƯăâđêôơưàáảãạềếệọộớởựữỳý ]{0,20}",
            2 => "[0-9 +.]{0,14}",
            1 => "[;,\"\\r\\n\\t]{0,4}",
            1 => "\\PC{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(config(3000))]

        #[test]
        fn any_bytes_are_read_or_refused_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
            if let Ok(format) = detect_format(&bytes) {
                let _ = parse(&bytes, format, YEAR);
            }
            let _ = parse(&bytes, ImportFormat::Csv, YEAR);
        }

        #[test]
        fn zip_looking_files_are_read_or_refused_never_a_panic(tail in prop::collection::vec(any::<u8>(), 0..1500)) {
            let mut bytes = b"PK\x03\x04".to_vec();
            bytes.extend(tail);
            let _ = parse(&bytes, ImportFormat::Xlsx, YEAR);
        }
    }

    proptest! {
        #![proptest_config(config(1500))]

        #[test]
        fn every_row_under_a_real_header_is_imported_or_reported(
            rows in prop::collection::vec(prop::collection::vec(cell(), 11), 0..25),
        ) {
            // Line breaks inside cells are read too, but they shift line numbers; here each row
            // is one line, so row i is line i + 2.
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|r| r.into_iter().map(|c| c.replace(['\r', '\n'], " ")).collect())
                .collect();
            let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(vec![]);
            for r in &rows {
                w.write_record(r).expect("row");
            }
            let body = String::from_utf8(w.into_inner().expect("csv")).expect("utf8");
            let text = format!("{VILLAGE_HEADER}\r\n{body}");
            let all_blank = rows.iter().all(|r| r.iter().all(|c| c.trim().is_empty()));
            let parsed = match parse(text.as_bytes(), ImportFormat::Csv, YEAR) {
                Ok(p) => p,
                // Only a header: refused as a file without data.
                Err(e) => {
                    prop_assert!(all_blank, "a well-formed CSV refused: {e:?}");
                    return Ok(());
                }
            };
            let mut seen: std::collections::BTreeSet<usize> =
                parsed.errors.iter().map(|e| e.line).collect();
            for h in &parsed.households {
                prop_assert!(!h.head_name.is_empty() && !h.village.is_empty(), "{h:?}");
                seen.extend(h.residents.iter().map(|r| r.line));
            }
            for (i, r) in rows.iter().enumerate() {
                let blank = r.iter().all(|c| c.trim().is_empty());
                prop_assert!(blank || seen.contains(&(i + 2)), "line {} neither imported nor reported: {r:?}", i + 2);
            }
            prop_assert!(seen.iter().all(|l| *l >= 2 && *l < rows.len() + 2), "{seen:?}");
        }
    }
}
