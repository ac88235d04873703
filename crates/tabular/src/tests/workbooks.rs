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
    shared: Vec<String>,
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
        self.shared = strings.iter().map(|s| s.to_string()).collect();
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
        let mut rels: String = (1..=self.sheets.len())
            .map(|i| format!(r#"<Relationship Id="rId{i}" Type="{DOC}/worksheet" Target="worksheets/sheet{i}.xml"/>"#))
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
        // Styles: 0 General, 1 date, 2 date-time, 3 time, 4 duration.
        put(
            "xl/styles.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="22" applyNumberFormat="1"/><xf numFmtId="21" applyNumberFormat="1"/><xf numFmtId="46" applyNumberFormat="1"/></cellXfs></styleSheet>"#).as_bytes(),
        );
        if !self.shared.is_empty() {
            let items: String = self
                .shared
                .iter()
                .map(|s| format!("<si><t>{s}</t></si>"))
                .collect();
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
                &format!("xl/worksheets/sheet{}.xml", i + 1),
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
