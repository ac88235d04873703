//! The type of a custom field made for a column that maps to nothing (SPEC §11, `migrate
//! --create-fields`), read from the column's values: date when at least 95% of its non-blank
//! values read as dates; likewise number, monetary, and checkbox for yes/no words; single
//! option when it has at most 20 distinct values over at least 50 rows; large text when a
//! value is longer than 255 characters; else text.

use domain::CustomFieldType;
use domain::value::{
    self, Outcome, ReadContext, read_boolean, read_date_in, read_money, read_number,
};

/// The share of non-blank values that decides a type (SPEC §11: at least 95%).
const SHARE: f64 = 0.95;
/// At most this many distinct values make a single option…
const MAX_OPTIONS: usize = 20;
/// …over at least this many rows.
const MIN_OPTION_ROWS: u64 = 50;
/// A longer value makes large text.
const TEXT_LIMIT: usize = 255;

/// A column's values, one at a time.
#[derive(Debug, Clone, Default)]
pub struct Inference {
    values: u64,
    dates: u64,
    numbers: u64,
    money: u64,
    yes_no: u64,
    long: bool,
    /// Distinct values as first spelled (compared case-insensitively), up to one more than
    /// [`MAX_OPTIONS`].
    distinct: Vec<String>,
}

/// What a column becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    pub field_type: CustomFieldType,
    /// The options of a single option or checkbox field.
    pub options: Vec<String>,
}

impl Inference {
    /// Looks at one cell (blank cells count for nothing).
    pub fn feed(&mut self, raw: &str, ctx: &ReadContext) {
        let v = value::trim(value::unneutralise(raw));
        if v.is_empty() {
            return;
        }
        self.values += 1;
        if [domain::DateOrder::Mdy, domain::DateOrder::Dmy]
            .iter()
            .any(|order| matches!(read_date_in(v, ctx, *order).outcome, Outcome::Value(_)))
        {
            self.dates += 1;
        }
        if matches!(read_number(v).outcome, Outcome::Value(_)) {
            self.numbers += 1;
        }
        let money = read_money(v, ctx);
        if matches!(money.outcome, Outcome::Value(_)) && money.messages.is_empty() {
            self.money += 1;
        }
        if matches!(read_boolean(v).outcome, Outcome::Value(_)) {
            self.yes_no += 1;
        }
        if v.chars().count() > TEXT_LIMIT {
            self.long = true;
        }
        if self.distinct.len() <= MAX_OPTIONS
            && !self
                .distinct
                .iter()
                .any(|d| d.to_lowercase() == v.to_lowercase())
        {
            self.distinct.push(v.to_string());
        }
    }

    pub fn finish(self) -> Inferred {
        let share = |n: u64| self.values > 0 && n as f64 >= SHARE * self.values as f64;
        let plain = |field_type| Inferred {
            field_type,
            options: Vec::new(),
        };
        if share(self.dates) {
            plain(CustomFieldType::Date)
        } else if share(self.numbers) {
            plain(CustomFieldType::Number)
        } else if share(self.money) {
            plain(CustomFieldType::Monetary)
        } else if share(self.yes_no) && self.distinct.len() <= MAX_OPTIONS {
            Inferred {
                field_type: CustomFieldType::Checkbox,
                options: self.distinct,
            }
        } else if self.values >= MIN_OPTION_ROWS && self.distinct.len() <= MAX_OPTIONS {
            Inferred {
                field_type: CustomFieldType::SingleOption,
                options: self.distinct,
            }
        } else if self.long {
            plain(CustomFieldType::LargeText)
        } else {
            plain(CustomFieldType::Text)
        }
    }
}

#[cfg(test)]
mod tests;
