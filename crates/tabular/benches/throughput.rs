//! Throughput of `inspect` + `rows` over generated contact files (200,000 rows, 12 columns,
//! ~27 MB, quoted multi-line notes): UTF-8 CSV, the same as Windows-1252, and an XLSX.
//!
//! `cargo bench -p tabular --bench throughput` (numbers go in notes, never in a test).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

const ROWS: usize = 200_000;

fn main() {
    // `cargo bench -p tabular --bench throughput -- csv` runs one kind only.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |kind: &str| only.as_deref().is_none_or(|o| o == kind);
    let dir = std::env::temp_dir().join(format!("tabular-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let csv = generate_csv();
    if wanted("csv") {
        let utf8 = dir.join("contacts.csv");
        std::fs::write(&utf8, &csv).unwrap();
        measure("UTF-8 CSV", &utf8);
    }
    if wanted("legacy") {
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(std::str::from_utf8(&csv).unwrap());
        let legacy = dir.join("contacts-1252.csv");
        std::fs::write(&legacy, &latin).unwrap();
        measure("Windows-1252 CSV", &legacy);
    }
    if wanted("xlsx") {
        let xlsx = dir.join("contacts.xlsx");
        std::fs::write(&xlsx, generate_xlsx()).unwrap();
        measure("XLSX", &xlsx);
    }

    let _ = std::fs::remove_dir_all(&dir);
}

fn measure(name: &str, path: &Path) {
    let size = std::fs::metadata(path).unwrap().len();
    let opts = tabular::ReadOptions {
        max_file_bytes: u64::MAX,
        ..tabular::ReadOptions::default()
    };
    let mut best = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        let start = Instant::now();
        let info = tabular::inspect(path, &opts).unwrap();
        let inspected = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let mut cells = 0usize;
        for row in tabular::rows(path, &info).unwrap() {
            cells += row.unwrap().cells.len();
        }
        let iterated = start.elapsed().as_secs_f64();
        assert_eq!(cells, ROWS * info.columns.len());

        let start = Instant::now();
        let mut rows = tabular::rows(path, &info).unwrap();
        let mut row = tabular::Row::default();
        let mut count = 0usize;
        while rows.next_into(&mut row).unwrap() {
            count += 1;
        }
        let reused = start.elapsed().as_secs_f64();
        assert_eq!(count, ROWS);
        best = (
            best.0.min(inspected),
            best.1.min(iterated),
            best.2.min(reused),
        );
    }
    println!(
        "{name:>17}: {:5.1} MB; inspect {:.3} s; rows {:.3} s ({:.0} rows/s); next_into {:.3} s ({:.0} rows/s, {:.0} MB/s)",
        size as f64 / 1e6,
        best.0,
        best.1,
        ROWS as f64 / best.1,
        best.2,
        ROWS as f64 / best.2,
        size as f64 / 1e6 / best.2
    );
}

fn generate_csv() -> Vec<u8> {
    let mut out = Vec::with_capacity(30_000_000);
    out.extend_from_slice(b"First Name,Last Name,Email,Phone,Company,Street,City,State,Postal Code,Tags,Date of Birth,Notes\r\n");
    for i in 0..ROWS {
        let phone = match i % 4 {
            0 => format!("(555) {:03}-{:04}", i % 1000, i % 10_000),
            1 => format!("555.{:03}.{:04}", i % 1000, i % 10_000),
            2 => format!("+1 555 {:03} {:04} x12", i % 1000, i % 10_000),
            _ => format!("001555{:07}", i % 10_000_000),
        };
        let note = if i % 10 == 0 {
            format!(
                "\"Called on {}\r\nprefers \"\"text\"\" messages, follow up in spring\"",
                i % 28 + 1
            )
        } else {
            "Met at the open day".to_owned()
        };
        writeln!(
            out,
            "Renée{i},Müller,p{i}@example.com,{phone},Glow Aesthetics,{} Main Street,Springfield,IL,{:05},\"VIP, Botox\",19{:02}-0{}-1{},{note}\r",
            i % 9000 + 1,
            i % 100_000,
            i % 100,
            i % 9 + 1,
            i % 10,
        )
        .unwrap();
    }
    out
}

fn generate_xlsx() -> Vec<u8> {
    let mut sheet = String::with_capacity(120_000_000);
    sheet.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
    let cell = |sheet: &mut String, at: &str, text: &str| {
        sheet.push_str(&format!(
            r#"<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>"#
        ));
    };
    let columns = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];
    sheet.push_str(r#"<row r="1">"#);
    for (k, name) in [
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
    ]
    .iter()
    .enumerate()
    {
        cell(&mut sheet, &format!("{}1", columns[k]), name);
    }
    sheet.push_str("</row>");
    for i in 0..ROWS {
        let r = i + 2;
        sheet.push_str(&format!(r#"<row r="{r}">"#));
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
                3 => sheet.push_str(&format!(r#"<c r="D{r}"><v>{}</v></c>"#, 2_015_550_000 + i)),
                10 => sheet.push_str(&format!(
                    r#"<c r="K{r}" s="1"><v>{}</v></c>"#,
                    20_000 + i % 10_000
                )),
                _ => cell(&mut sheet, &format!("{}{r}", columns[k]), v),
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");

    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let rels = "http://schemas.openxmlformats.org/package/2006/relationships";
    let doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let parts = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_owned()),
        ("_rels/.rels", format!(r#"<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{doc}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#)),
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{main}" xmlns:r="{doc}"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#)),
        ("xl/_rels/workbook.xml.rels", format!(r#"<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{doc}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{doc}/styles" Target="styles.xml"/></Relationships>"#)),
        ("xl/styles.xml", format!(r#"<styleSheet xmlns="{main}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#)),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
