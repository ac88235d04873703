//! SPEC §4 (and §13.1's numbering) for delimited text, one table line per rule.

use super::{check, opts, render, render_after};
use crate::ReadOptions;

fn t(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn utf16(s: &str, little: bool) -> Vec<u8> {
    let mut out = if little {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in s.encode_utf16() {
        let bytes = if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

fn encode(s: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(s);
    assert!(
        !unmappable,
        "test text must be encodable in {}",
        encoding.name()
    );
    bytes.into_owned()
}

#[test]
fn line_ends_quoting_and_numbering() {
    check(
        &[
            (
                "LF",
                t("a,b\n1,2\n3,4\n"),
                r#"UTF-8 , records=2 blank=0
                columns: a | b
                2: "1" "2"
                3: "3" "4""#,
            ),
            (
                "CRLF, no final line end",
                t("a,b\r\n1,2\r\n3,4"),
                r#"UTF-8 , records=2 blank=0
                columns: a | b
                2: "1" "2"
                3: "3" "4""#,
            ),
            (
                "CR only",
                t("a,b\r1,2\r3,4\r"),
                r#"UTF-8 , records=2 blank=0
                columns: a | b
                2: "1" "2"
                3: "3" "4""#,
            ),
            (
                "a quoted cell with line breaks is one row; line breaks kept exactly",
                t("a,b\n\"x\r\ny\nz\",2\n3,4\n"),
                r#"UTF-8 , records=2 blank=0
                columns: a | b
                2: "x\r\ny\nz" "2"
                3: "3" "4""#,
            ),
            (
                "blank rows keep their numbers: empty lines, delimiters, whitespace",
                t("a,b\n1,2\n\n,\n \t, \n\r\n5,6\n,\n"),
                r#"UTF-8 , records=2 blank=5
                columns: a | b
                2: "1" "2"
                3: blank
                4: blank
                5: blank
                6: blank
                7: "5" "6"
                8: blank"#,
            ),
            (
                "embedded delimiters, doubled quotes, quote inside an unquoted cell",
                t("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",a\"b\n"),
                r#"UTF-8 , records=1 blank=0
                columns: a | b | c
                2: "x, y" "say \"hi\"" "a\"b""#,
            ),
            (
                "values are not trimmed; header cells are",
                t("  First Name  , Email\n  Ann , a@x.io \t\n"),
                r#"UTF-8 , records=1 blank=0
                columns: First Name | Email
                2: "  Ann " " a@x.io \t""#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn delimiter_from_the_header_line() {
    check(
        &[
            (
                "semicolon",
                t("a;b\n1,5;2\n"),
                r#"UTF-8 ; records=1 blank=0
                columns: a | b
                2: "1,5" "2""#,
            ),
            (
                "tab (Excel's Unicode Text is tab-delimited)",
                t("a\tb\n1\t2\n"),
                r#"UTF-8 tab records=1 blank=0
                columns: a | b
                2: "1" "2""#,
            ),
            (
                "delimiters inside a quoted header cell do not count",
                t("a,b,\"c;d;e\"\n1,2,3\n"),
                r#"UTF-8 , records=1 blank=0
                columns: a | b | c;d;e
                2: "1" "2" "3""#,
            ),
            (
                "a tie goes to the semicolon (decimal commas)",
                t("x;1,5\n1;2\n"),
                r#"UTF-8 ; records=1 blank=0
                columns: x | 1,5
                2: "1" "2""#,
            ),
            (
                "only the header line decides",
                t("a,b\n1;2;3,4\n"),
                r#"UTF-8 , records=1 blank=0
                columns: a | b
                2: "1;2;3" "4""#,
            ),
            (
                "one column",
                t("Email\na@x.io\n"),
                r#"UTF-8 , records=1 blank=0
                columns: Email
                2: "a@x.io""#,
            ),
            (
                "pipe is not a delimiter",
                t("a|b\n1|2\n"),
                r#"UTF-8 , records=1 blank=0
                columns: a|b
                2: "1|2""#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn encodings() {
    let mut stray = t("name,city\nJosé,Zürich\nAnn,");
    stray.push(0xE9);
    stray.extend_from_slice(b"vry\nBo,Paris\n");
    let mut mac = t("Name,City\rRen");
    mac.push(0x8E); // é in Mac Roman
    mac.extend_from_slice(b",Nice\r");
    // One valid sequence (the é of Renée), two invalid bytes (Latin-1 é and è).
    let mut few_valid = t("name,note\nRen");
    few_valid.extend_from_slice("é".as_bytes());
    few_valid.extend_from_slice(b"e,caf\xE9 cr\xE8me\n");
    let mut nul_bom = vec![0xEF, 0xBB, 0xBF];
    nul_bom.extend_from_slice(b"a\n");
    nul_bom.extend_from_slice(&[0; 4]);
    check(
        &[
            (
                "UTF-8 BOM stripped from the first header",
                [&[0xEF, 0xBB, 0xBF][..], b"id,name\n1,\xE4\xB8\xAD\n"].concat(),
                r#"UTF-8 , records=1 blank=0
                columns: id | name
                2: "1" "中""#,
            ),
            (
                "UTF-16LE with BOM",
                utf16("id\tname\r\n1\tʤé\r\n", true),
                r#"UTF-16LE tab records=1 blank=0
                columns: id | name
                2: "1" "ʤé""#,
            ),
            (
                "UTF-16BE with BOM",
                utf16("id,name\n1,ʤ\n", false),
                r#"UTF-16BE , records=1 blank=0
                columns: id | name
                2: "1" "ʤ""#,
            ),
            (
                "an unpaired surrogate in UTF-16 leaves its cell out",
                {
                    let mut b = utf16("a,b\n1,", true);
                    b.extend_from_slice(&[0x00, 0xD8, b'x', 0, b'\n', 0]);
                    b
                },
                r#"UTF-16LE , records=1 blank=0
                columns: a | b
                2: "1" "" !encoding.invalid_byte@1"#,
            ),
            (
                "UTF-8 with one stray byte stays UTF-8; only that cell is left out",
                stray,
                r#"UTF-8 , records=3 blank=0
                columns: name | city
                2: "José" "Zürich"
                3: "Ann" "" !encoding.invalid_byte@1
                4: "Bo" "Paris""#,
            ),
            (
                "as many invalid bytes as valid sequences: legacy",
                few_valid,
                r#"windows-1252 , records=1 blank=0
                columns: name | note
                2: "RenÃ©e" "café crème""#,
            ),
            (
                "Windows-1252 (chardetng)",
                encode(
                    "Name,Note\nRenée,café crème brûlée\nFrançois,déjà vu à Noël\n",
                    encoding_rs::WINDOWS_1252,
                ),
                r#"windows-1252 , records=2 blank=0
                columns: Name | Note
                2: "Renée" "café crème brûlée"
                3: "François" "déjà vu à Noël""#,
            ),
            (
                "Greek (chardetng names windows-1253)",
                encode(
                    "id,name\n1,Ελληνικά\n2,Αλέξανδρος Παπαδόπουλος\n3,Μαρία\n",
                    encoding_rs::WINDOWS_1253,
                ),
                r#"windows-1253 , records=3 blank=0
                columns: id | name
                2: "1" "Ελληνικά"
                3: "2" "Αλέξανδρος Παπαδόπουλος"
                4: "3" "Μαρία""#,
            ),
            (
                "Mac Roman: a legacy file with CR-only line ends",
                mac,
                r#"macintosh , records=1 blank=0
                columns: Name | City
                2: "René" "Nice""#,
            ),
            (
                "Shift_JIS refused",
                encode(
                    "名前,メール\n山田太郎,yamada@example.jp\n鈴木花子,suzuki@example.jp\n日本語のテキストです,東京都\n",
                    encoding_rs::SHIFT_JIS,
                ),
                "refused file.not_utf8_multibyte: The file is encoded in Shift_JIS, which is not read, to avoid garbled names. Save it as CSV UTF-8.",
            ),
            (
                "UTF-16 without a BOM refused",
                utf16("id,name\n1,Ann\n", true)[2..].to_vec(),
                "refused file.binary: The file is not readable text: more than a quarter of its bytes are NUL",
            ),
            (
                "NULs with a UTF-8 BOM are still refused",
                nul_bom,
                "refused file.binary",
            ),
            (
                "a PNG image refused by its signature (issue 18: it was read as 49 rows)",
                {
                    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
                    png.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
                    png
                },
                "refused file.not_text: The file is a PNG image, not a CSV file or an Excel workbook",
            ),
            (
                "binary data without a known signature refused by its control bytes",
                (0..4000u32)
                    .map(|i| ((i.wrapping_mul(2654435761) >> 13) as u8) | 1)
                    .collect(),
                "refused file.not_text: The file is not text, not a CSV file",
            ),
            (
                "NUL characters removed, with a warning",
                t("a,b\n\0x\0,y\n"),
                r#"UTF-8 , records=1 blank=0
                columns: a | b
                2: "x" "y" !cell.nul_removed@0"#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn header_rules() {
    check(
        &[
            ("empty file", t(""), "refused file.empty"),
            ("only a BOM", vec![0xEF, 0xBB, 0xBF], "refused file.empty"),
            ("only blank lines", t("\n ,\n\n"), "refused file.empty"),
            (
                "blank header row",
                t(",,\n1,2,3\n"),
                "refused file.header_blank: The first row is blank.",
            ),
            (
                "an empty first line",
                t("\na,b\n1,2\n"),
                "refused file.header_blank",
            ),
            (
                "duplicate headers, named, after trimming",
                t("id,name, id,age,id,name\n1,2,3,4,5,6\n"),
                "refused file.header_duplicate: Two columns have the same header: \"id\" (columns A, C and E); \"name\" (columns B and F).",
            ),
            (
                "blank headers are not duplicates of each other",
                t("a,,,b\n1,x,,2\n"),
                r#"UTF-8 , records=1 blank=0
                columns: a | '' | ~ | b
                2: "1" "x" "" "2""#,
            ),
            (
                "header only",
                t("a,b\n"),
                "refused file.no_rows: The file has no rows",
            ),
            (
                "header and blank rows only",
                t("a,b\n,\n\n"),
                "refused file.no_rows",
            ),
            (
                "fully blank columns are ignored; a headed empty column is kept",
                t("a,,b,c,\n1,,2,,\n3,,4,,\n"),
                r#"UTF-8 , records=2 blank=0
                columns: a | ~ | b | c | ~
                2: "1" "" "2" "" ""
                3: "3" "" "4" "" """#,
            ),
            (
                "an invalid byte in a header shows as U+FFFD, so the column can be named",
                [
                    &b"Nam\xE9,email\n"[..],
                    "Zoë,z@x.io\nJosé,j@x.io\n".as_bytes(),
                ]
                .concat(),
                r#"UTF-8 , records=2 blank=0
                columns: Nam� | email
                2: "Zoë" "z@x.io"
                3: "José" "j@x.io""#,
            ),
            (
                "header cells keep inner control characters, lose outer whitespace",
                t("\"\t\n\x0B\x0C\r start \t\n end \x0B\",b\nx,y\n"),
                r#"UTF-8 , records=1 blank=0
                columns: start 	
                end | b
                2: "x" "y""#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn short_and_long_rows() {
    check(
        &[
            (
                "short rows read blanks, long rows warn only when an extra cell holds a value",
                t("a,b,c\n1\n1,2,3,,  \n1,2,3,4\n,,,x\n"),
                r#"UTF-8 , records=4 blank=0
                columns: a | b | c
                2: "1" "" ""
                3: "1" "2" "3"
                4: "1" "2" "3" !row.extra_cells@3
                5: "" "" "" !row.extra_cells@3"#,
            ),
            (
                "a whitespace-only extra cell is no value",
                t("a\n1, \n"),
                r#"UTF-8 , records=1 blank=0
                columns: a
                2: "1""#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn refusals_name_the_row() {
    let mut rows = String::from("name,note\n");
    for i in 2..=10 {
        if i == 3 {
            rows.push_str("Ann,\"never closed\n");
        } else {
            rows.push_str(&format!("P{i},ok\n"));
        }
    }
    let wide_ok = format!("{}\n{}\n", cols(1000), vec!["v"; 1000].join(","));
    let too_wide = format!("{}\n1\n", cols(1001));
    let wide_row = format!("a\n{}x\n", ",".repeat(1000));
    let wide_blank_row = format!("a\n1{}\n", ", ".repeat(2000));
    let big = "x".repeat(crate::MAX_CELL_BYTES);
    let fits = format!("a,b\n1,{big}\n");
    let too_big = format!("a,notes\n1,\"{big}\"\n2,\"y{big}\"\n");
    check(
        &[
            (
                "unclosed quote on row 3 of 10",
                t(&rows),
                "refused file.quote_unclosed: Row 3, column B (\"note\"): a quote (\") opens a cell that is never closed",
            ),
            (
                "unclosed quote in the header",
                t("a,\"b\n1,2\n"),
                "refused file.quote_unclosed: Row 1, column B:",
            ),
            (
                "rows are spreadsheet rows even after a multi-line cell",
                t("a,b\n\"1\n2\n3\",x\n\"open,y\n"),
                "refused file.quote_unclosed: Row 3, column A (\"a\")",
            ),
            ("1,000 columns read", t(&wide_ok), "UTF-8 , records=1 ..."),
            (
                "1,001 columns refused",
                t(&too_wide),
                "refused file.too_many_columns: Row 1 reaches column ALM (1,001); the limit is 1,000 columns.",
            ),
            (
                "a value past column 1,000 in a row refused",
                t(&wide_row),
                "refused file.too_many_columns: Row 2 reaches column ALM (1,001)",
            ),
            (
                "131,072 bytes fit in a cell",
                t(&fits),
                "UTF-8 , records=1 ...",
            ),
            (
                "131,073 bytes do not",
                t(&too_big),
                "refused file.cell_too_large: Row 3, column B (\"notes\"): the cell holds more than 131,072 bytes",
            ),
            (
                "an oversized cell whose quote never closes is the quote's fault",
                t(&format!("a\n\"{big}{big}\n")),
                "refused file.quote_unclosed: Row 2, column A",
            ),
        ],
        &opts(),
    );
    // Trailing empty cells past column 1,000 hold no value: the row is read.
    assert!(render(wide_blank_row.as_bytes(), &opts()).starts_with("UTF-8 , records=1"));
}

fn cols(n: usize) -> String {
    (1..=n)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn size_cap_and_sheet_choice() {
    let small = ReadOptions {
        max_file_bytes: 10,
        ..ReadOptions::default()
    };
    check(
        &[(
            "over the size cap",
            t("a,b\n1,2\n3,4\n"),
            "refused file.too_large: The file is 12 bytes; the limit is 10 bytes. Split the file into smaller parts, each with the header row: aesthetix split FILE",
        )],
        &small,
    );
    let sheet = ReadOptions {
        sheet: Some("Sheet1".into()),
        ..ReadOptions::default()
    };
    check(
        &[(
            "a sheet chosen for CSV",
            t("a\n1\n"),
            "refused file.sheet_on_csv",
        )],
        &sheet,
    );
}

#[test]
fn resuming_after_a_line_yields_only_later_rows() {
    let file = t("a\n1\n\"2\n2\"\n\n4\n5\n");
    let all = render_after(&file, &opts(), 1);
    assert!(all.contains("2: \"1\"") && all.contains("3: \"2\\n2\""));
    let later = render_after(&file, &opts(), 4);
    assert_eq!(
        later.lines().skip(2).collect::<Vec<_>>(),
        ["5: \"4\"", "6: \"5\""]
    );
    let none = render_after(&file, &opts(), 6);
    assert_eq!(none.lines().count(), 2);
}

#[test]
fn refusal_codes_are_stable() {
    use crate::Refusal;
    let io = Refusal::from(std::io::Error::other("disk gone"));
    assert_eq!(io.code(), "file.io");
    assert!(io.is_io());
    assert_eq!(io.to_string(), "The file could not be read: disk gone.");
    assert_eq!(crate::refusal::column_letters(0), "A");
    assert_eq!(crate::refusal::column_letters(25), "Z");
    assert_eq!(crate::refusal::column_letters(26), "AA");
    assert_eq!(crate::refusal::column_letters(16_383), "XFD");
}
