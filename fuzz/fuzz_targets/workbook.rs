//! Any XML in a workbook's parts: the input is split at `\xff\xff` into a sheet's
//! `<sheetData>` content, the shared-string table's items, the styles and the workbook's sheet
//! list, stored in a well-formed archive (so the fuzzer reaches the XML reader rather than the
//! zip checksums). `inspect` refuses it or accepts it, never panics; an accepted workbook
//! reads back row by row with exactly what `inspect` counted.

#![no_main]

mod reads_back;

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn workbook(data: &[u8]) -> Vec<u8> {
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while pieces.len() < 3 {
        match rest.windows(2).position(|w| w == b"\xff\xff") {
            Some(at) => {
                pieces.push(&rest[..at]);
                rest = &rest[at + 2..];
            }
            None => break,
        }
    }
    pieces.push(rest);
    pieces.resize(4, &[][..]);
    let [sheet, shared, styles, sheets] = [pieces[0], pieces[1], pieces[2], pieces[3]];
    let sheets: &[u8] = if sheets.is_empty() {
        br#"<sheet name="S" sheetId="1" r:id="rId1"/>"#
    } else {
        sheets
    };
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut put = |name: &str, parts: &[&[u8]]| {
        zip.start_file(name, options).unwrap();
        for part in parts {
            zip.write_all(part).unwrap();
        }
    };
    put("_rels/.rels", &[format!(r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).as_bytes()]);
    put("xl/_rels/workbook.xml.rels", &[format!(r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOC}/worksheet" Target="/xl/worksheets/sheet1.xml"/><Relationship Id="rId3" Type="{DOC}/styles" Target="styles.xml"/><Relationship Id="rId4" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#).as_bytes()]);
    put(
        "xl/workbook.xml",
        &[
            format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>"#).as_bytes(),
            sheets,
            b"</sheets></workbook>",
        ],
    );
    put(
        "xl/styles.xml",
        &[
            format!(r#"<styleSheet xmlns="{MAIN}">"#).as_bytes(),
            styles,
            b"</styleSheet>",
        ],
    );
    put(
        "xl/sharedStrings.xml",
        &[
            format!(r#"<sst xmlns="{MAIN}">"#).as_bytes(),
            shared,
            b"</sst>",
        ],
    );
    put(
        "xl/worksheets/sheet1.xml",
        &[
            format!(r#"<worksheet xmlns="{MAIN}"><sheetData>"#).as_bytes(),
            sheet,
            b"</sheetData></worksheet>",
        ],
    );
    zip.finish().unwrap().into_inner()
}

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("tabular-fuzz-workbook-{}", std::process::id()));
    std::fs::write(&path, workbook(data)).expect("the temporary file is writable");
    reads_back::check(&path);
});
