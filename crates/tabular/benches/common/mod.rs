//! Workbooks the benchmarks generate: parts written with the `zip` writer, streamed so that a
//! 190 MB part never sits in memory whole.

use std::io::{Cursor, Write};

pub const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Writes part of a part.
pub type Writes<'a> = &'a mut dyn FnMut(&mut dyn Write);

/// A one-sheet workbook: `sheet_data` writes the `<sheetData>` content, `shared` (when given)
/// the `<si>` items of the shared-string table. Style 1 is a date.
pub fn workbook(sheet_data: impl FnOnce(&mut dyn Write), shared: Option<Writes<'_>>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let put = |zip: &mut zip::ZipWriter<Cursor<Vec<u8>>>, name: &str, text: &str| {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    };
    put(
        &mut zip,
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#,
    );
    put(
        &mut zip,
        "_rels/.rels",
        &format!(
            r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        ),
    );
    put(
        &mut zip,
        "xl/workbook.xml",
        &format!(
            r#"<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        ),
    );
    let strings_rel = if shared.is_some() {
        format!(
            r#"<Relationship Id="rId3" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>"#
        )
    } else {
        String::new()
    };
    put(
        &mut zip,
        "xl/_rels/workbook.xml.rels",
        &format!(
            r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOC}/styles" Target="styles.xml"/>{strings_rel}</Relationships>"#
        ),
    );
    put(
        &mut zip,
        "xl/styles.xml",
        &format!(
            r#"<styleSheet xmlns="{MAIN}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#
        ),
    );
    // A part too large to build in memory: its opening, what `body` writes, its closing.
    let mut stream = |name: &str, open: &str, body: &mut dyn FnMut(&mut dyn Write), close: &str| {
        put(&mut zip, name, open);
        let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut zip);
        body(&mut out);
        out.write_all(close.as_bytes()).unwrap();
    };
    if let Some(items) = shared {
        let open = format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">"#);
        stream("xl/sharedStrings.xml", &open, items, "</sst>");
    }
    let open =
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>"#);
    let mut sheet_data = Some(sheet_data);
    let mut body = |out: &mut dyn Write| {
        if let Some(write) = sheet_data.take() {
            write(out);
        }
    };
    stream(
        "xl/worksheets/sheet1.xml",
        &open,
        &mut body,
        "</sheetData></worksheet>",
    );
    zip.finish().unwrap().into_inner()
}

const HEADERS: [&str; 12] = [
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Company",
    "Street",
    "City",
    "State",
    "Postal Code",
    "Tags",
    "Date of Birth",
    "Notes",
];

/// `rows` contacts in 12 columns: a phone as a number, a date of birth as a date serial, and
/// every text cell written as Excel writes it — an index into the shared-string table (when
/// `shared`), else an inline string.
pub fn contacts(rows: usize, shared: bool) -> Vec<u8> {
    let mut table: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut text = |out: &mut dyn Write, at: &str, value: &str| {
        if shared {
            let next = table.len();
            let i = *index.entry(value.to_owned()).or_insert(next);
            if i == next {
                table.push(value.to_owned());
            }
            write!(out, r#"<c r="{at}" t="s"><v>{i}</v></c>"#).unwrap();
        } else {
            write!(
                out,
                r#"<c r="{at}" t="inlineStr"><is><t>{value}</t></is></c>"#
            )
            .unwrap();
        }
    };
    let columns = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];
    let mut sheet: Vec<u8> = Vec::with_capacity(rows * 400);
    sheet.extend_from_slice(br#"<row r="1">"#);
    for (k, name) in HEADERS.iter().enumerate() {
        text(&mut sheet, &format!("{}1", columns[k]), name);
    }
    sheet.extend_from_slice(b"</row>");
    for i in 0..rows {
        let r = i + 2;
        write!(sheet, r#"<row r="{r}">"#).unwrap();
        let values = [
            format!("Renée{i}"),
            "Müller".to_owned(),
            format!("patient{i}@example.com"),
            String::new(),
            "Glow Aesthetics".to_owned(),
            format!("{} Main Street", i % 9000),
            "Springfield".to_owned(),
            "IL".to_owned(),
            format!("{:05}", i % 100_000),
            "VIP, Botox".to_owned(),
            String::new(),
            "Met at the open day".to_owned(),
        ];
        for (k, v) in values.iter().enumerate() {
            match k {
                3 => write!(sheet, r#"<c r="D{r}"><v>{}</v></c>"#, 2_015_550_000 + i).unwrap(),
                10 => write!(
                    sheet,
                    r#"<c r="K{r}" s="1"><v>{}</v></c>"#,
                    20_000 + i % 10_000
                )
                .unwrap(),
                _ => text(&mut sheet, &format!("{}{r}", columns[k]), v),
            }
        }
        sheet.extend_from_slice(b"</row>");
    }
    let mut items = |out: &mut dyn Write| {
        for s in &table {
            write!(out, "<si><t>{s}</t></si>").unwrap();
        }
    };
    workbook(
        |out| out.write_all(&sheet).unwrap(),
        if shared { Some(&mut items) } else { None },
    )
}
