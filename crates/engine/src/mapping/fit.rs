//! What a file's values say about its mapping, gathered in one pass over its rows (the caller
//! reads them; this module only looks at cells):
//!
//! - SPEC §6.1: an option or date column auto-mapped by its header whose first
//!   [`FIT_VALUES`] non-blank values hold none that fits its field (an option, a value mapped
//!   to one, a date) is not auto-mapped — Zoho's `Status` = Active, Thunderbird's
//!   `Birth Day` = 15. A column with no value at all stays mapped (SPEC §4).
//! - SPEC §5.3: each date column's day/month order — the location's, unless the column's
//!   values prove the other one (a value valid only in the other order, none valid only in
//!   the location's).
//!
//! [`Scan::settled`] says when reading further cannot change the result, so the caller may
//! stop early.

use std::collections::HashMap;

use domain::DateOrder;
use domain::field::FieldKind;
use domain::value::{
    self, Outcome, ReadContext, excel_serial_date, order_evidence, read_date_in, read_multi_option,
    read_single_option,
};
use serde::{Deserialize, Serialize};

use super::Target;

/// How many non-blank values of a column decide whether it fits its field (SPEC §6.1).
pub const FIT_VALUES: usize = 1000;

/// How many of a column's misfitting values its note names.
const NOTE_VALUES: usize = 3;

/// What checking values needs besides the cells.
#[derive(Debug, Clone)]
pub struct FitContext {
    /// For dates (two-digit years, time zone).
    pub read: ReadContext,
    /// `--map-value` (field key → file value in lower case → option): a mapped value fits.
    pub value_map: HashMap<String, HashMap<String, String>>,
    /// `Some(date_1904)` for a workbook, whose numbers in a date column are serial dates.
    pub workbook: Option<bool>,
}

/// Whether one non-blank value fits its field.
pub fn fits(target: &Target, raw: &str, ctx: &FitContext) -> bool {
    let v = value::trim(value::unneutralise(raw));
    if ctx
        .value_map
        .get(&target.key)
        .is_some_and(|m| m.contains_key(&v.to_lowercase()))
    {
        return true;
    }
    match target.kind {
        FieldKind::SingleOption | FieldKind::Radio => {
            matches!(
                read_single_option(v, &target.options).outcome,
                Outcome::Value(_)
            )
        }
        FieldKind::MultiSelect | FieldKind::Checkbox => {
            matches!(
                read_multi_option(v, &target.options).outcome,
                Outcome::Value(_)
            )
        }
        FieldKind::Date => {
            ctx.workbook
                .is_some_and(|is_1904| excel_serial_date(v, is_1904).is_some())
                || [DateOrder::Mdy, DateOrder::Dmy].iter().any(|order| {
                    matches!(
                        read_date_in(v, &ctx.read, *order).outcome,
                        Outcome::Value(_)
                    )
                })
        }
        _ => true,
    }
}

/// The note of a column whose values do not fit (SPEC §6.1).
pub fn misfit_note(target: &Target, values: &[String]) -> String {
    let listed = values.join(", ");
    match target.kind {
        FieldKind::Date => format!(
            "its values ({listed}) are not dates, so it is not mapped to {}",
            target.label
        ),
        _ => format!("its values ({listed}) are not options of {}", target.label),
    }
}

#[derive(Debug, Clone)]
struct FitState {
    column: usize,
    target: Target,
    seen: usize,
    fits: bool,
    misfits: Vec<String>,
}

impl FitState {
    fn settled(&self) -> bool {
        self.fits || self.seen >= FIT_VALUES
    }
}

/// What a date column's values say about its day/month order (SPEC §5.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateEvidence {
    pub column: usize,
    /// Values that are real dates only when read month first.
    pub only_mdy: u64,
    /// Values that are real dates only when read day first.
    pub only_dmy: u64,
    /// The first value that proves each order, to show the user.
    pub mdy_example: Option<String>,
    pub dmy_example: Option<String>,
}

impl DateEvidence {
    /// The order the column is read in, and whether it is the file's rather than the
    /// location's: the other order only when the values prove it and nothing proves the
    /// location's.
    pub fn order(&self, location: DateOrder) -> (DateOrder, bool) {
        let (for_location, for_other, other) = match location {
            DateOrder::Mdy => (self.only_mdy, self.only_dmy, DateOrder::Dmy),
            DateOrder::Dmy => (self.only_dmy, self.only_mdy, DateOrder::Mdy),
        };
        if for_other > 0 && for_location == 0 {
            (other, true)
        } else {
            (location, false)
        }
    }

    /// The value that proves `order`, when one does.
    pub fn example(&self, order: DateOrder) -> Option<&str> {
        match order {
            DateOrder::Mdy => self.mdy_example.as_deref(),
            DateOrder::Dmy => self.dmy_example.as_deref(),
        }
    }

    fn settled(&self) -> bool {
        self.only_mdy > 0 && self.only_dmy > 0
    }
}

/// What one pass over the rows found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    /// `(column, note)`: automatic option or date columns whose values never fit.
    pub unfit: Vec<(usize, String)>,
    /// The day/month evidence of each date column.
    pub dates: Vec<DateEvidence>,
}

impl ScanResult {
    pub fn unfit_map(&self) -> HashMap<usize, String> {
        self.unfit.iter().cloned().collect()
    }

    pub fn date(&self, column: usize) -> Option<&DateEvidence> {
        self.dates.iter().find(|d| d.column == column)
    }
}

/// One pass over a file's rows: feed it every non-blank row, in order.
#[derive(Debug, Clone)]
pub struct Scan {
    fits: Vec<FitState>,
    dates: Vec<DateEvidence>,
}

impl Scan {
    /// `to_check`: automatic option and date columns with their fields
    /// (`Proposal::to_check`); `date_columns`: columns whose order is to be read (none when
    /// the user chose the order).
    pub fn new(to_check: Vec<(usize, Target)>, date_columns: Vec<usize>) -> Scan {
        Scan {
            fits: to_check
                .into_iter()
                .map(|(column, target)| FitState {
                    column,
                    target,
                    seen: 0,
                    fits: false,
                    misfits: Vec::new(),
                })
                .collect(),
            dates: date_columns
                .into_iter()
                .map(|column| DateEvidence {
                    column,
                    ..DateEvidence::default()
                })
                .collect(),
        }
    }

    /// Whether there is nothing to read at all.
    pub fn is_empty(&self) -> bool {
        self.fits.is_empty() && self.dates.is_empty()
    }

    /// Whether reading more rows cannot change the result.
    pub fn settled(&self) -> bool {
        self.fits.iter().all(FitState::settled) && self.dates.iter().all(DateEvidence::settled)
    }

    /// Looks at one record row's cells.
    pub fn feed(&mut self, cells: &[String], ctx: &FitContext) {
        for f in self.fits.iter_mut().filter(|f| !f.settled()) {
            let Some(raw) = cells.get(f.column) else {
                continue;
            };
            let v = value::trim(raw);
            if v.is_empty() {
                continue;
            }
            f.seen += 1;
            if fits(&f.target, v, ctx) {
                f.fits = true;
            } else if f.misfits.len() < NOTE_VALUES && !f.misfits.iter().any(|m| m == v) {
                f.misfits.push(v.chars().take(40).collect());
            }
        }
        for d in self.dates.iter_mut().filter(|d| !d.settled()) {
            let Some(raw) = cells.get(d.column) else {
                continue;
            };
            match order_evidence(value::unneutralise(raw)) {
                Some(DateOrder::Mdy) => {
                    d.only_mdy += 1;
                    d.mdy_example
                        .get_or_insert_with(|| value::trim(raw).to_string());
                }
                Some(DateOrder::Dmy) => {
                    d.only_dmy += 1;
                    d.dmy_example
                        .get_or_insert_with(|| value::trim(raw).to_string());
                }
                None => {}
            }
        }
    }

    pub fn finish(self) -> ScanResult {
        ScanResult {
            unfit: self
                .fits
                .into_iter()
                .filter(|f| f.seen > 0 && !f.fits)
                .map(|f| (f.column, misfit_note(&f.target, &f.misfits)))
                .collect(),
            dates: self.dates,
        }
    }
}

/// The notice of a date column read in the file's order (SPEC §5.3: `date.order_from_file`,
/// once per column).
pub fn order_notice(header: &str, order: DateOrder, example: Option<&str>) -> String {
    let words = match order {
        DateOrder::Dmy => "day first (DD/MM/YYYY)",
        DateOrder::Mdy => "month first (MM/DD/YYYY)",
    };
    match example {
        Some(e) => {
            format!("dates in “{header}” are read {words}, as its values show (such as {e})")
        }
        None => format!("dates in “{header}” are read {words}, as its values show"),
    }
}

#[cfg(test)]
mod tests;
