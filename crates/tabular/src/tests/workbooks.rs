//! XLSX: workbooks built in memory with the `zip` writer, one table line per SPEC §4 rule.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use super::{check, opts, render};
use crate::ReadOptions;

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// A workbook to build: sheets (name, visible, `<sheetData>` content) and extra parts.
#[derive(Default)]
pub(crate) struct Book {
    sheets: Vec<(String, bool, String)>,
    date1904: bool,
    /// `<si>` items of the shared-string table.
    shared: Vec<String>,
    /// Custom number formats: style 5 onwards.
    formats: Vec<String>,
    /// Where sheet `{}` lives in the archive, and the relationship's target for it.
    sheet_paths: Option<(String, String)>,
    parts: Vec<(String, Vec<u8>)>,
}

impl Book {
    pub(crate) fn sheet(mut self, name: &str, rows: &[String]) -> Book {
        self.sheets.push((name.to_owned(), true, rows.concat()));
        self
    }

    fn hidden(mut self, name: &str, rows: &[String]) -> Book {
        self.sheets.push((name.to_owned(), false, rows.concat()));
        self
    }

    fn date1904(mut self) -> Book {
        self.date1904 = true;
        self
    }

    pub(crate) fn shared_strings(mut self, strings: &[&str]) -> Book {
        self.shared = strings
            .iter()
            .map(|s| format!("<si><t>{s}</t></si>"))
            .collect();
        self
    }

    /// The shared-string table's `<si>` items, as XML.
    fn shared_items(mut self, items: &[&str]) -> Book {
        self.shared = items.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Custom number formats, as styles 5, 6, … (`formatCode` as XML attribute text).
    fn number_formats(mut self, codes: &[&str]) -> Book {
        self.formats = codes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sheet `i` stored at `member` and named by `target` in the workbook's relationships,
    /// `{}` standing for `i`.
    fn sheet_paths(mut self, member: &str, target: &str) -> Book {
        self.sheet_paths = Some((member.to_owned(), target.to_owned()));
        self
    }

    fn part(mut self, name: &str, bytes: Vec<u8>) -> Book {
        self.parts.push((name.to_owned(), bytes));
        self
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default();
        let mut put = |name: &str, bytes: &[u8]| {
            zip.start_file(name, options).unwrap();
            zip.write_all(bytes).unwrap();
        };
        let overrides: String = (1..=self.sheets.len())
            .map(|i| format!(r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#))
            .collect();
        put(
            "[Content_Types].xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#
            )
            .as_bytes(),
        );
        put(
            "_rels/.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).as_bytes(),
        );
        let sheets: String = self
            .sheets
            .iter()
            .enumerate()
            .map(|(i, (name, visible, _))| {
                let state = if *visible { "" } else { r#" state="hidden""# };
                format!(
                    r#"<sheet name="{name}" sheetId="{}" r:id="rId{}"{state}/>"#,
                    i + 1,
                    i + 1
                )
            })
            .collect();
        let pr = if self.date1904 {
            r#"<workbookPr date1904="1"/>"#
        } else {
            "<workbookPr/>"
        };
        put(
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC}">{pr}<sheets>{sheets}</sheets></workbook>"#).as_bytes(),
        );
        let (member, target) = self.sheet_paths.clone().unwrap_or((
            "xl/worksheets/sheet{}.xml".to_owned(),
            "worksheets/sheet{}.xml".to_owned(),
        ));
        let mut rels: String = (1..=self.sheets.len())
            .map(|i| {
                let target = target.replace("{}", &i.to_string());
                format!(r#"<Relationship Id="rId{i}" Type="{DOC}/worksheet" Target="{target}"/>"#)
            })
            .collect();
        rels.push_str(&format!(
            r#"<Relationship Id="rIdStyles" Type="{DOC}/styles" Target="styles.xml"/>"#
        ));
        if !self.shared.is_empty() {
            rels.push_str(&format!(r#"<Relationship Id="rIdStrings" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>"#));
        }
        put(
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">{rels}</Relationships>"#).as_bytes(),
        );
        // Styles: 0 General, 1 date, 2 date-time, 3 time, 4 duration, then the custom formats.
        let formats: String = self
            .formats
            .iter()
            .enumerate()
            .map(|(i, code)| format!(r#"<numFmt numFmtId="{}" formatCode="{code}"/>"#, 164 + i))
            .collect();
        let custom: String = (0..self.formats.len())
            .map(|i| format!(r#"<xf numFmtId="{}" applyNumberFormat="1"/>"#, 164 + i))
            .collect();
        put(
            "xl/styles.xml",
            // `cellStyleXfs` and `dxfs` hold `<xf>` and `<numFmt>` that are not cell styles.
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><numFmts>{formats}</numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><dxfs><dxf><numFmt numFmtId="166" formatCode="yyyy"/></dxf></dxfs><cellXfs><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="22" applyNumberFormat="1"/><xf numFmtId="21" applyNumberFormat="1"/><xf numFmtId="46" applyNumberFormat="1"/>{custom}</cellXfs></styleSheet>"#).as_bytes(),
        );
        if !self.shared.is_empty() {
            let items: String = self.shared.concat();
            put(
                "xl/sharedStrings.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{items}</sst>"#
                )
                .as_bytes(),
            );
        }
        for (i, (_, _, rows)) in self.sheets.iter().enumerate() {
            put(
                &member.replace("{}", &(i + 1).to_string()),
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>"#).as_bytes(),
            );
        }
        for (name, bytes) in &self.parts {
            put(name, bytes);
        }
        zip.finish().unwrap().into_inner()
    }
}

/// `<row>` holding the given cells; its number comes from the first cell's reference.
pub(crate) fn row(cells: &[String]) -> String {
    let first = cells.first().map_or("", String::as_str);
    let number: String = first
        .split("r=\"")
        .nth(1)
        .unwrap_or("")
        .chars()
        .skip_while(char::is_ascii_alphabetic)
        .take_while(char::is_ascii_digit)
        .collect();
    format!(r#"<row r="{number}">{}</row>"#, cells.concat())
}

/// An inline string cell.
pub(crate) fn s(at: &str, text: &str) -> String {
    format!(r#"<c r="{at}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>"#)
}

/// A number cell with a style (0 General, 1 date, 2 date-time, 3 time, 4 duration).
fn n(at: &str, value: &str, style: u8) -> String {
    format!(r#"<c r="{at}" s="{style}"><v>{value}</v></c>"#)
}

fn header(names: &[&str]) -> String {
    let cells: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| s(&format!("{}1", (b'A' + i as u8) as char), name))
        .collect();
    row(&cells)
}

#[test]
fn cells_read_as_a_user_sees_them() {
    let values = Book::default()
        .sheet(
            "Contacts",
            &[
                header(&["Phone", "Amount", "Noise", "Flag", "Formula", "Error"]),
                row(&[
                    n("A2", "2015550123", 0),
                    n("B2", "12.5", 0),
                    n("C2", "0.30000000000000004", 0),
                    r#"<c r="D2" t="b"><v>1</v></c>"#.to_owned(),
                    r#"<c r="E2"><f>B2*2</f><v>25</v></c>"#.to_owned(),
                    r#"<c r="F2" t="e"><v>#N/A</v></c>"#.to_owned(),
                ]),
                row(&[
                    n("A3", "2.0155501230E9", 0),
                    n("B3", "-0", 0),
                    n("C3", "123456789012345678", 0),
                    r#"<c r="D3" t="b"><v>0</v></c>"#.to_owned(),
                    r#"<c r="E3" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>"#.to_owned(),
                    n("F3", "1E-7", 0),
                ]),
            ],
        )
        .build();
    let dates = Book::default()
        .sheet(
            "Dates",
            &[
                header(&["Date"]),
                row(&[n("A2", "1", 1)]),
                row(&[n("A3", "59", 1)]),
                row(&[n("A4", "60", 1)]),
                row(&[n("A5", "61", 1)]),
                row(&[n("A6", "45293", 1)]),
                row(&[n("A7", "45943.541", 2)]),
                row(&[n("A8", "45943.999999", 2)]),
                row(&[n("A9", "0.5", 3)]),
                row(&[n("A10", "1.5", 4)]),
                row(&[n("A11", "-3", 1)]),
                row(&[r#"<c r="A12" t="d"><v>2024-01-02T13:45:00</v></c>"#.to_owned()]),
            ],
        )
        .build();
    let dates_1904 = Book::default()
        .date1904()
        .sheet(
            "Dates",
            &[
                header(&["Date"]),
                row(&[n("A2", "43831", 1)]),
                row(&[n("A3", "1", 2)]),
            ],
        )
        .build();
    check(
        &[
            (
                "numbers without float noise, booleans, cached formula values, errors",
                values,
                r##"xlsx - records=2 blank=0
                columns: Phone | Amount | Noise | Flag | Formula | Error
                2: "2015550123" "12.5" "0.3" "true" "25" "#N/A"
                3: "2015550123" "0" "123456789012346000" "false" "ab" "0.0000001""##,
            ),
            (
                "1900 date system, with Excel's 1900-02-29",
                dates,
                r#"xlsx - records=11 blank=0
                columns: Date
                2: "1900-01-01"
                3: "1900-02-28"
                4: "1900-02-29"
                5: "1900-03-01"
                6: "2024-01-02"
                7: "2025-10-13 12:59:02"
                8: "2025-10-14"
                9: "12:00:00"
                10: "1.5"
                11: "-3"
                12: "2024-01-02T13:45:00""#,
            ),
            (
                "1904 date system",
                dates_1904,
                r#"xlsx - records=2 blank=0
                columns: Date
                2: "2024-01-02"
                3: "1904-01-02""#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn layout_rules() {
    check(
        &[
            (
                "a column right of the last header cell is a blank-headed column; gaps are blank rows",
                Book::default()
                    .sheet(
                        "S",
                        &[
                            header(&[" Name ", "Email"]),
                            row(&[s("A2", "Ann"), s("D2", "note")]),
                            row(&[s("A5", " "), s("B5", "")]),
                            row(&[s("B6", "b@x.io"), s("F6", " ")]),
                        ],
                    )
                    .build(),
                r#"xlsx - records=2 blank=3
                columns: Name | Email | ~ | ''
                2: "Ann" "" "" "note"
                3: blank
                4: blank
                5: blank
                6: "" "b@x.io" "" """#,
            ),
            (
                "shared strings and a hidden sheet",
                Book::default()
                    .shared_strings(&["Name", "Zoë"])
                    .sheet(
                        "Visible",
                        &[
                            row(&[r#"<c r="A1" t="s"><v>0</v></c>"#.to_owned()]),
                            row(&[r#"<c r="A2" t="s"><v>1</v></c>"#.to_owned()]),
                        ],
                    )
                    .hidden("Lookup", &[header(&["x"]), row(&[s("A2", "y")])])
                    .build(),
                r#"xlsx - records=1 blank=0
                columns: Name
                2: "Zoë""#,
            ),
            (
                "NUL characters (Excel writes them as _x0000_) are removed with a warning",
                Book::default()
                    .sheet("S", &[header(&["Name"]), row(&[s("A2", "A_x0000_nn")])])
                    .build(),
                r#"xlsx - records=1 blank=0
                columns: Name
                2: "Ann" !cell.nul_removed@0"#,
            ),
            (
                "the header must be row 1",
                Book::default()
                    .sheet("S", &[row(&[s("A2", "Name")]), row(&[s("A3", "Ann")])])
                    .build(),
                "refused file.header_blank",
            ),
            (
                "an empty sheet",
                Book::default().sheet("S", &[]).build(),
                "refused file.empty",
            ),
            (
                "a header and nothing under it",
                Book::default().sheet("S", &[header(&["Name"])]).build(),
                "refused file.no_rows",
            ),
            (
                "duplicate headers",
                Book::default()
                    .sheet(
                        "S",
                        &[header(&["Email", "Name", "Email "]), row(&[s("A2", "x")])],
                    )
                    .build(),
                "refused file.header_duplicate: Two columns have the same header: \"Email\" (columns A and C).",
            ),
            (
                "several sheets without a choice, named",
                Book::default()
                    .sheet("Patients", &[header(&["a"])])
                    .sheet("Leads 2024", &[header(&["a"])])
                    .build(),
                "refused xlsx.several_sheets: The workbook has several sheets: \"Patients\", \"Leads 2024\". Choose the one to import (the sheet picker, or --sheet NAME).",
            ),
        ],
        &opts(),
    );
}

#[test]
fn sheet_choice() {
    let book = Book::default()
        .sheet("Patients", &[header(&["Name"]), row(&[s("A2", "Ann")])])
        .sheet("Leads", &[header(&["Name"]), row(&[s("A2", "Bo")])])
        .build();
    let choose = |name: &str| ReadOptions {
        sheet: Some(name.to_owned()),
        ..ReadOptions::default()
    };
    assert!(render(&book, &choose("Leads")).ends_with("2: \"Bo\"\n"));
    assert!(render(&book, &choose("patients")).ends_with("2: \"Ann\"\n"));
    assert!(render(&book, &choose("Nope")).starts_with(
        "refused xlsx.sheet_not_found: The workbook has no sheet named \"Nope\". Its sheets are: \"Patients\", \"Leads\"."
    ));
}

#[test]
fn hostile_workbooks_are_refused_without_expanding_them() {
    let small = ReadOptions {
        max_xlsx_inflated_bytes: 1_000_000,
        ..ReadOptions::default()
    };
    // 5 MB of whitespace deflates to a few KB.
    let bomb = Book::default()
        .sheet("S", &[header(&["a"]), " ".repeat(5_000_000)])
        .build();
    assert!(bomb.len() < 50_000, "the bomb is small: {}", bomb.len());
    check(
        &[(
            "a sheet inflating past the cap",
            bomb.clone(),
            "refused xlsx.too_large: The workbook unpacks to more than 1,000,000 bytes",
        )],
        &small,
    );
    // The archive's declared sizes lie (1 byte): still counted while inflating, still refused.
    let liar = lie_about_sizes(&bomb);
    let result = render(&liar, &small);
    assert!(
        result.starts_with("refused xlsx.too_large") || result.starts_with("refused xlsx.invalid"),
        "{result}"
    );
    let doctype = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><x>&lol;</x>"#;
    let utf16: Vec<u8> = String::from_utf8_lossy(doctype)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let sparse = Book::default()
        .sheet(
            "S",
            &[
                header(&["a"]),
                row(&[s("A2", "x")]),
                row(&[n("XFD1048576", "1", 0)]),
            ],
        )
        .build();
    let tall = Book::default()
        .sheet("S", &[header(&["a"]), row(&[n("A1048577", "1", 0)])])
        .build();
    let wide_header = Book::default()
        .sheet("S", &[row(&[s("A1", "a"), s("ALM1", "too far")])])
        .build();
    let blank_far_away = Book::default()
        .sheet("S", &[header(&["a"]), row(&[s("A2", "x"), s("XFD2", " ")])])
        .build();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("hello.txt", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"not a workbook").unwrap();
    let not_xlsx = zip.finish().unwrap().into_inner();
    check(
        &[
            (
                "a DTD in a part",
                Book::default()
                    .sheet("S", &[header(&["a"]), row(&[s("A2", "x")])])
                    .part("xl/custom.xml", doctype.to_vec())
                    .build(),
                "refused xlsx.dtd: The workbook part \"xl/custom.xml\" declares a DTD or an entity",
            ),
            (
                "a DTD in a UTF-16 part",
                Book::default()
                    .sheet("S", &[header(&["a"]), row(&[s("A2", "x")])])
                    .part("customXml/item1.xml", utf16)
                    .build(),
                "refused xlsx.dtd",
            ),
            (
                "one value at XFD1048576",
                sparse,
                "refused file.too_many_columns: Row 1048576 reaches column XFD (16,384); the limit is 1,000 columns.",
            ),
            (
                "a value past row 1,048,576",
                tall,
                "refused xlsx.too_many_rows: The sheet has a value in row 1,048,577",
            ),
            (
                "a header past column 1,000",
                wide_header,
                "refused file.too_many_columns: Row 1 reaches column ALM",
            ),
            (
                "a blank cell far away holds no value",
                blank_far_away,
                r#"xlsx - records=1 blank=0
                columns: a
                2: "x""#,
            ),
            (
                "a zip that is not a workbook",
                not_xlsx,
                "refused xlsx.invalid",
            ),
            (
                "an OLE compound file (old .xls, or an encrypted .xlsx)",
                [
                    &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..],
                    &[0; 504],
                ]
                .concat(),
                "refused file.old_excel",
            ),
        ],
        &opts(),
    );
}

/// Rewrites every declared uncompressed size in the archive's headers to 1.
fn lie_about_sizes(zip: &[u8]) -> Vec<u8> {
    let mut out = zip.to_vec();
    let mut i = 0;
    while i + 46 <= out.len() {
        if out[i..i + 4] == [0x50, 0x4B, 0x03, 0x04] {
            out[i + 22..i + 26].copy_from_slice(&1u32.to_le_bytes());
        } else if out[i..i + 4] == [0x50, 0x4B, 0x01, 0x02] {
            out[i + 24..i + 28].copy_from_slice(&1u32.to_le_bytes());
        }
        i += 1;
    }
    out
}

#[test]
fn rows_resume_after_a_line_in_a_workbook() {
    let book = Book::default()
        .sheet(
            "S",
            &[
                header(&["a"]),
                row(&[s("A2", "2")]),
                row(&[s("A4", "4")]),
                row(&[s("A5", "5")]),
            ],
        )
        .build();
    let after = super::render_after(&book, &opts(), 2);
    assert_eq!(
        after.lines().skip(2).collect::<Vec<_>>(),
        ["3: blank", "4: \"4\"", "5: \"5\""]
    );
    // Many rows cross the producer's batches and the bounded channel.
    let mut rows = vec![header(&["n"])];
    for i in 2..=3000 {
        rows.push(row(&[n(&format!("A{i}"), &i.to_string(), 0)]));
    }
    let big = Book::default().sheet("S", &rows).build();
    let info = crate::inspect_reader(Cursor::new(big.clone()), &opts()).unwrap();
    assert_eq!(info.records, 2999);
    let read = super::read_all(&big, &info, 2500).unwrap();
    assert_eq!(read.len(), 500);
    assert_eq!(read[0].cells, ["2501"]);
    // Dropping the rows early stops the producer thread (no hang, no panic).
    let mut partial = crate::rows_reader(Cursor::new(big), &info, 1).unwrap();
    assert!(partial.next().is_some());
    drop(partial);
}

/// A workbook whose column "v" holds one cell, `cell`, in row 2.
fn one_cell(book: Book, cell: &str) -> Vec<u8> {
    book.sheet("S", &[header(&["v"]), row(&[cell.to_owned()])])
        .build()
}

/// A workbook whose one cell under "v" uses the shared string `item` (an `<si>`).
fn shared_cell(item: &str) -> Vec<u8> {
    one_cell(
        Book::default().shared_items(&[item]),
        r#"<c r="A2" t="s"><v>0</v></c>"#,
    )
}

/// What the one cell under "v" reads as.
fn one_value(value: &str) -> String {
    format!("xlsx - records=1 blank=0\ncolumns: v\n2: {value:?}")
}

#[test]
fn shared_strings_read_as_excel_shows_them() {
    let cases = [
        (
            "rich text: the runs one after another",
            r#"<si><r><rPr><b/></rPr><t>Bold</t></r><r><rPr><i/></rPr><t xml:space="preserve"> and plain</t></r></si>"#,
            "Bold and plain",
        ),
        (
            "phonetic runs are not text",
            r#"<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>"#,
            "漢字",
        ),
        (
            "_xHHHH_ escapes: control characters",
            "<si><t>one_x000D__x000A_two</t></si>",
            "one\r\ntwo",
        ),
        (
            "_x005F_ escapes the escape",
            "<si><t>_x005F_x000D_</t></si>",
            "_x000D_",
        ),
        (
            "a surrogate pair is one character; a lone surrogate is U+FFFD",
            "<si><t>_xD83D__xDE00_ _xD800_!</t></si>",
            "😀 \u{FFFD}!",
        ),
        (
            "not an escape: kept",
            "<si><t>_x12_ _xZZZZ_ x000D_</t></si>",
            "_x12_ _xZZZZ_ x000D_",
        ),
        (
            "without xml:space, spaces around the text go",
            "<si><t>  trimmed \t</t></si>",
            "trimmed",
        ),
        (
            "with xml:space=\"preserve\", they stay",
            r#"<si><t xml:space="preserve">  kept  </t></si>"#,
            "  kept  ",
        ),
        (
            "entities, character references, CDATA",
            "<si><t>A &amp; B &#x41;&#66; <![CDATA[<b>]]></t></si>",
            "A & B AB <b>",
        ),
        (
            "XML line ends: CRLF and CR read as LF",
            "<si><t>a\r\nb\rc</t></si>",
            "a\nb\nc",
        ),
        ("an empty item", "<si/>", ""),
        ("an empty text", "<si><t/></si>", ""),
    ];
    let mut failures = Vec::new();
    for (name, item, text) in cases {
        let out = render(&shared_cell(item), &opts());
        // An empty value is a blank row: no records.
        let expected = if text.is_empty() {
            "refused file.no_rows".to_owned()
        } else {
            one_value(text)
        };
        if !super::matches(&out, &expected) {
            failures.push(format!("{name}: {out}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Strings are found by index in a table of many.
    let book = Book::default()
        .shared_strings(&["v", "a", "b", "c"])
        .sheet(
            "S",
            &[
                row(&[r#"<c r="A1" t="s"><v>0</v></c>"#.to_owned()]),
                row(&[r#"<c r="A2" t="s"><v>3</v></c>"#.to_owned()]),
                row(&[r#"<c r="A3" t="s"><v>1</v></c>"#.to_owned()]),
                row(&[r#"<c r="A4" t="s"><v></v></c>"#.to_owned()]),
            ],
        )
        .build();
    let missing = Book::default()
        .shared_strings(&["v"])
        .sheet(
            "S",
            &[
                row(&[r#"<c r="A1" t="s"><v>0</v></c>"#.to_owned()]),
                row(&[r#"<c r="A2" t="s"><v>1</v></c>"#.to_owned()]),
            ],
        )
        .build();
    check(
        &[
            (
                "by index; an empty index is no value",
                book,
                "xlsx - records=2 blank=0\ncolumns: v\n2: \"c\"\n3: \"a\"",
            ),
            (
                "an index past the table",
                missing,
                "refused xlsx.invalid: The file is a zip archive but not a readable Excel workbook (it may be damaged, or another kind of file such as .ods or .docx). Open it in Excel and save it as .xlsx or CSV UTF-8. (The reader said: xl/worksheets/sheet1.xml: a cell uses shared string 1, which the workbook does not have.)",
            ),
        ],
        &opts(),
    );
}

#[test]
fn inline_strings_and_formula_strings() {
    check(
        &[
            (
                "rich text in an inline string",
                one_cell(
                    Book::default(),
                    r#"<c r="A2" t="inlineStr"><is><r><t>Re</t></r><r><t xml:space="preserve">née _x0041_</t></r></is></c>"#,
                ),
                &one_value("Renée A"),
            ),
            (
                "an inline string's <v> is not its text",
                one_cell(
                    Book::default(),
                    r#"<c r="A2" t="inlineStr"><v>stale</v><is><t>fresh</t></is></c>"#,
                ),
                &one_value("fresh"),
            ),
            (
                "a formula's string result, escapes decoded",
                one_cell(
                    Book::default(),
                    r#"<c r="A2" t="str"><f>CONCAT("a","b")</f><v>a_x000D_b</v></c>"#,
                ),
                &one_value("a\rb"),
            ),
            (
                "a formula without a cached value has none",
                one_cell(Book::default(), r#"<c r="A2"><f>NOW()</f></c>"#),
                "refused file.no_rows",
            ),
            (
                "error codes stay as written, newer ones too",
                Book::default()
                    .sheet(
                        "S",
                        &[
                            header(&["a", "b", "c"]),
                            row(&[
                                r#"<c r="A2" t="e"><f>A1#</f><v>#SPILL!</v></c>"#.to_owned(),
                                r#"<c r="B2" t="e"><v>#DIV/0!</v></c>"#.to_owned(),
                                r#"<c r="C2" t="e"><v></v></c>"#.to_owned(),
                            ]),
                        ],
                    )
                    .build(),
                "xlsx - records=1 blank=0\ncolumns: a | b | c\n2: \"#SPILL!\" \"#DIV/0!\" \"\"",
            ),
        ],
        &opts(),
    );
}

#[test]
fn positions_without_references_follow_the_previous_cell_and_row() {
    let book = Book::default()
        .sheet(
            "S",
            &[
                r#"<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row>"#.to_owned(),
                r#"<row><c><v>1</v></c><c r="C2"><v>3</v></c><c><v>4</v></c></row>"#.to_owned(),
                r#"<row r="5"><c><v>5</v></c></row>"#.to_owned(),
                r#"<row><c r="B6"><v>6</v></c></row>"#.to_owned(),
                r#"<row><c><v>7</v></c></row>"#.to_owned(),
            ],
        )
        .build();
    check(
        &[
            (
                "rows and cells without r",
                book,
                r#"xlsx - records=4 blank=2
                columns: a | b | '' | ''
                2: "1" "" "3" "4"
                3: blank
                4: blank
                5: "5" "" "" ""
                6: "" "6" "" ""
                7: "7" "" "" """#,
            ),
            (
                "a row repeats a column: refused, never a row that grows without end",
                Book::default()
                    .sheet(
                        "S",
                        &[
                            header(&["a", "b"]),
                            row(&[n("B2", "1", 0), n("A2", "2", 0)]),
                        ],
                    )
                    .build(),
                "refused xlsx.invalid: The file is a zip archive but not a readable Excel workbook (it may be damaged, or another kind of file such as .ods or .docx). Open it in Excel and save it as .xlsx or CSV UTF-8. (The reader said: in row 2, column A comes after column B.)",
            ),
            (
                "a cell reference that is not one",
                one_cell(Book::default(), r#"<c r="2A"><v>1</v></c>"#),
                "refused xlsx.invalid",
            ),
        ],
        &opts(),
    );
}

#[test]
fn dates_by_number_format_and_date_system() {
    let formats = [
        "yyyy-mm-dd",
        "[h]:mm:ss",
        "0.00&quot; days&quot;",
        "[$-409]d-mmm-yy;@",
        "#,##0 \\m",
        "h:mm AM/PM",
        "[Red]0.00",
    ];
    let cells = |r: usize, value: &str| -> String {
        (0..formats.len())
            .map(|i| {
                n(
                    &format!("{}{r}", (b'A' + i as u8) as char),
                    value,
                    5 + i as u8,
                )
            })
            .collect()
    };
    let names = [
        "date",
        "elapsed",
        "days",
        "locale date",
        "escaped m",
        "am/pm",
        "colour",
    ];
    let book = Book::default()
        .number_formats(&formats)
        .sheet("S", &[header(&names), row(&[cells(2, "45293.75")])])
        .build();
    let book_1904 = Book::default()
        .date1904()
        .sheet(
            "S",
            &[
                header(&["d"]),
                row(&[n("A2", "0.25", 1)]),
                row(&[n("A3", "2957003", 1)]),
                row(&[n("A4", "2957004", 1)]),
            ],
        )
        .build();
    let limits = Book::default()
        .sheet(
            "S",
            &[
                header(&["d"]),
                row(&[n("A2", "2958465", 1)]),
                row(&[n("A3", "2958465.99999999", 2)]),
                row(&[n("A4", "2958466", 1)]),
                row(&[n("A5", "366", 1)]),
                row(&[n("A6", "0", 1)]),
                row(&[n("A7", "-0.5", 1)]),
            ],
        )
        .build();
    check(
        &[
            (
                "custom formats: date and time tokens outside quotes, brackets and escapes",
                book,
                r#"xlsx - records=1 blank=0
                columns: date | elapsed | days | locale date | escaped m | am/pm | colour
                2: "2024-01-02 18:00:00" "45293.75" "45293.75" "2024-01-02 18:00:00" "45293.75" "2024-01-02 18:00:00" "45293.75""#,
            ),
            (
                "the 1904 system ends at its serial 2,957,003",
                book_1904,
                r#"xlsx - records=3 blank=0
                columns: d
                2: "06:00:00"
                3: "9999-12-31"
                4: "2957004""#,
            ),
            (
                "the 1900 system's last day, its day 366, and serials outside it",
                limits,
                r#"xlsx - records=6 blank=0
                columns: d
                2: "9999-12-31"
                3: "2958465.99999999"
                4: "2958466"
                5: "1900-12-31"
                6: "00:00:00"
                7: "-0.5""#,
            ),
        ],
        &opts(),
    );
}

#[test]
fn custom_format_codes() {
    use crate::xlsx::{NumberKind, custom_kind};
    let cases = [
        ("yyyy-mm-dd", NumberKind::Date),
        ("DD/MM/YY", NumberKind::Date),
        ("H:MM:SS;@", NumberKind::Date),
        ("m\"M\"d\"D\";@", NumberKind::Date),
        ("h:mm AM/PM", NumberKind::Date),
        ("[$-409]mmmm d, yyyy", NumberKind::Date),
        ("[$-404]e\"年\"m\"月\"d\"日\"", NumberKind::Date),
        ("*-yyyy-mm-dd", NumberKind::Date),
        ("[h]:mm:ss", NumberKind::Duration),
        ("[mm]:ss", NumberKind::Duration),
        ("[s].000", NumberKind::Duration),
        ("[>=100][Magenta][s].00", NumberKind::Duration),
        ("[Blue]\\+[h]:mm;[Red]\\-[h]:mm", NumberKind::Duration),
        ("General", NumberKind::Plain),
        ("0.00E+00", NumberKind::Plain),
        ("#,##0\\ [$\\u20bd-46D]", NumberKind::Plain),
        ("\"Y: \"0.00\"m\";\"Y: \"-0.00\"m\"", NumberKind::Plain),
        ("\"$\"#,##0_);[Red](\"$\"#,##0)", NumberKind::Plain),
        ("0_ ;[Red]\\-0\\ ", NumberKind::Plain),
        ("\\Y000000", NumberKind::Plain),
        ("#,##0.0####\" YMD\"", NumberKind::Plain),
        ("[>=100][Magenta].00", NumberKind::Plain),
        ("#,##0*y", NumberKind::Plain),
        ("0\"x\"*d", NumberKind::Plain),
        ("[hm]0", NumberKind::Plain),
        ("0;yyyy", NumberKind::Plain),
        ("@", NumberKind::Plain),
        ("", NumberKind::Plain),
    ];
    let wrong: Vec<_> = cases
        .iter()
        .filter(|(code, kind)| custom_kind(code) != *kind)
        .map(|(code, kind)| format!("{code}: {:?}, expected {kind:?}", custom_kind(code)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn sheet_parts_where_the_relationships_say() {
    let sheet = |book: Book| {
        book.sheet("Patients", &[header(&["Name"]), row(&[s("A2", "Ann")])])
            .build()
    };
    let ann = "xlsx - records=1 blank=0\ncolumns: Name\n2: \"Ann\"";
    check(
        &[
            (
                "an absolute target",
                sheet(Book::default().sheet_paths("xl/sheets/s{}.xml", "/xl/sheets/s{}.xml")),
                ann,
            ),
            (
                "a target relative to the parent folder",
                sheet(Book::default().sheet_paths("data/sheet{}.xml", "../data/./sheet{}.xml")),
                ann,
            ),
            (
                "a member named in another case",
                sheet(
                    Book::default()
                        .sheet_paths("XL/Worksheets/Sheet{}.XML", "worksheets/sheet{}.xml"),
                ),
                ann,
            ),
            (
                "a target that is not in the archive",
                sheet(
                    Book::default()
                        .sheet_paths("xl/worksheets/sheet{}.xml", "elsewhere/sheet{}.xml"),
                ),
                "refused xlsx.invalid",
            ),
        ],
        &opts(),
    );
}

/// The sum of the members' inflated sizes.
fn inflated(book: &[u8]) -> u64 {
    let mut archive = zip::ZipArchive::new(Cursor::new(book)).unwrap();
    (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().size())
        .sum()
}

fn with_cap(cap: u64) -> ReadOptions {
    ReadOptions {
        max_xlsx_inflated_bytes: cap,
        ..ReadOptions::default()
    }
}

#[test]
fn shared_strings_count_against_the_inflated_size_cap() {
    // 2,000 strings of 50 bytes: the table holds 2,000 × (50 + 4) bytes.
    let strings: Vec<String> = (0..2000).map(|i| format!("{i:050}")).collect();
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    let book = Book::default()
        .shared_strings(&refs)
        .sheet(
            "S",
            &[
                header(&["v"]),
                row(&[r#"<c r="A2" t="s"><v>7</v></c>"#.to_owned()]),
            ],
        )
        .build();
    let size = inflated(&book);
    let held = 2000 * 54;
    let used = 50;
    let accepted = one_value(&format!("{:050}", 7));
    check(
        &[("the table and the use fit", book.clone(), &accepted)],
        &with_cap(size + held + used),
    );
    check(
        &[(
            "the table does not fit beside the inflated parts",
            book.clone(),
            "refused xlsx.too_large",
        )],
        &with_cap(size + held - 1),
    );
    check(
        &[(
            "the cell's use of it does not fit",
            book,
            "refused xlsx.too_large",
        )],
        &with_cap(size + held + used - 1),
    );
}

#[test]
fn a_shared_string_counts_each_time_a_cell_uses_it() {
    // One string of 10,000 bytes, used by 400 cells: 4 MB of text from a few KB of zip.
    let big = "x".repeat(10_000);
    let cells: Vec<String> = (2..=401)
        .map(|r| row(&[format!(r#"<c r="A{r}" t="s"><v>1</v></c>"#)]))
        .collect();
    let book = Book::default()
        .shared_strings(&["v", &big])
        .sheet(
            "S",
            &[
                &[row(&[r#"<c r="A1" t="s"><v>0</v></c>"#.to_owned()])][..],
                &cells,
            ]
            .concat(),
        )
        .build();
    assert!(book.len() < 20_000, "{}", book.len());
    let size = inflated(&book);
    let table = 1 + 10_000 + 2 * 4;
    let uses = 1 + 400 * 10_000;
    let read = render(&book, &with_cap(size + table + uses));
    assert!(
        read.starts_with("xlsx - records=400 blank=0"),
        "{}",
        &read[..80]
    );
    check(
        &[("one use too many", book, "refused xlsx.too_large")],
        &with_cap(size + table + uses - 1),
    );
}

#[test]
fn one_piece_of_markup_or_text_over_the_limit_is_refused_before_it_is_buffered() {
    let long = usize::try_from(crate::xlsx::MAX_EVENT_BYTES).unwrap() + 1;
    let comment = format!("<!--{}-->", "x".repeat(long));
    let text = format!(
        r#"<c r="A2" t="inlineStr"><is><t>{}</t></is></c>"#,
        "x".repeat(long)
    );
    check(
        &[
            (
                "a comment",
                Book::default()
                    .sheet("S", &[header(&["v"]), comment, row(&[s("A2", "x")])])
                    .build(),
                "refused xlsx.invalid: The file is a zip archive but not a readable Excel workbook (it may be damaged, or another kind of file such as .ods or .docx). Open it in Excel and save it as .xlsx or CSV UTF-8. (The reader said: xl/worksheets/sheet1.xml: one piece of markup or text is longer than 8388608 bytes.)",
            ),
            (
                "a cell's text",
                Book::default()
                    .sheet("S", &[header(&["v"]), row(&[text])])
                    .build(),
                "refused xlsx.invalid",
            ),
            (
                "just under the limit, a cell is only too large",
                one_cell(
                    Book::default(),
                    &format!(
                        r#"<c r="A2" t="inlineStr"><is><t>{}</t></is></c>"#,
                        "x".repeat(long - 100)
                    ),
                ),
                "refused file.cell_too_large: Row 2, column A: the cell holds more than 131,072 bytes",
            ),
        ],
        &opts(),
    );
}
