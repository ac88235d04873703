//! What both targets check of a file on disk: `inspect` refuses it or accepts it, never
//! panics; an accepted file reads back row by row with exactly what `inspect` counted.

pub fn check(path: &std::path::Path) {
    if let Ok(info) = tabular::inspect(path, &tabular::ReadOptions::default()) {
        let mut rows = tabular::rows(path, &info).expect("an inspected file opens");
        let mut row = tabular::Row::default();
        let (mut records, mut blank) = (0, 0);
        while rows.next_into(&mut row).expect("an inspected file reads") {
            assert_eq!(row.cells.len(), info.columns.len());
            if row.blank {
                blank += 1;
            } else {
                records += 1;
            }
        }
        assert_eq!((records, blank), (info.records, info.blank_rows));
    }
}
