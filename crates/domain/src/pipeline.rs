//! Pipelines, stages and opportunities (SPEC §3, §7): the rules a pipeline's names keep, an
//! opportunity's statuses, and a board column's total. Pure; the store applies them.
//!
//! Pipelines are matched by name within a location and stages by name within their pipeline,
//! both case-insensitively (SPEC §7): two names that differ only in case are the same name.

use std::fmt;
use std::str::FromStr;

pub use rust_decimal::Decimal;

/// The longest pipeline or stage name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// How names are compared: case-insensitively, around trimmed whitespace.
pub fn same_name(a: &str, b: &str) -> bool {
    fold(a) == fold(b)
}

/// The form of a name that [`same_name`] compares.
pub fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Checks one pipeline or stage name; returns it trimmed. `what` names it in the message
/// ("the pipeline's name", "a stage's name").
pub fn check_name(name: &str, what: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{what} must not be blank"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "{what} '{}…' is longer than {MAX_NAME_CHARS} characters; shorten it",
            name.chars().take(20).collect::<String>()
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "{what} '{name}' holds a control character (a tab or a line break); remove it"
        ));
    }
    Ok(name.to_string())
}

/// Checks a new pipeline: its name, and its stages — at least one, none blank, no two the same
/// name (case-insensitively). Returns them trimmed, stages in the order given.
pub fn check_pipeline(name: &str, stages: &[String]) -> Result<(String, Vec<String>), String> {
    let name = check_name(name, "the pipeline's name")?;
    if stages.is_empty() {
        return Err(format!(
            "the pipeline '{name}' needs at least one stage: give --stage NAME for each, in order"
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(stages.len());
    for stage in stages {
        let stage = check_name(stage, "a stage's name")?;
        if let Some(dup) = out.iter().find(|s| same_name(s, &stage)) {
            return Err(format!(
                "the stage '{stage}' is given twice ('{dup}'); stage names are compared ignoring case"
            ));
        }
        out.push(stage);
    }
    Ok((name, out))
}

/// An opportunity's status (SPEC §3): stored as the lowercase word, shown and exported as its
/// label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpportunityStatus {
    Open,
    Won,
    Lost,
    Abandoned,
}

impl OpportunityStatus {
    pub const ALL: [OpportunityStatus; 4] = [Self::Open, Self::Won, Self::Lost, Self::Abandoned];

    /// The stored word: `open`, `won`, `lost`, `abandoned`.
    pub fn as_stored(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Abandoned => "abandoned",
        }
    }

    /// The label a user sees and an export writes: `Open`, `Won`, `Lost`, `Abandoned`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Won => "Won",
            Self::Lost => "Lost",
            Self::Abandoned => "Abandoned",
        }
    }
}

impl FromStr for OpportunityStatus {
    type Err = String;

    /// The stored word or the label, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_stored().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("'{s}' is not an opportunity status; use Open, Won, Lost or Abandoned")
            })
    }
}

impl fmt::Display for OpportunityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The total of stored monetary values (exact decimals as text; blanks and anything
/// unreadable count as nothing), exactly — never through a float. `None` when the sum
/// would overflow.
pub fn total_value<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Decimal> {
    let mut sum = Decimal::ZERO;
    for v in values {
        if let Ok(d) = Decimal::from_str(v.trim()) {
            sum = sum.checked_add(d)?;
        }
    }
    Some(sum)
}

/// A stored amount as a board shows it: grouped thousands and two decimals (`12,500.00`).
pub fn show_amount(amount: Decimal) -> String {
    let rounded = amount.round_dp(2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.2}", rounded.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped}.{cents}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests;
