//! Exporters' presets (SPEC §11): what the contact exports of other systems hold, as data.
//!
//! A preset is a read-only mapping template with defaults. Each maps the columns its exporter
//! documents to our fields ([`Col`]), names the columns that identify its files
//! ([`Preset::signatures`]), and may carry settings (Vagaro's and Nextech's, from the product
//! reference). The table is in [`table`]; where each exporter documents its columns is said
//! there and in `testdata/presets/README.md`, beside one example header file per preset.
//!
//! A file gets a preset when its header row holds every column of one of the preset's
//! signature sets (headers compared as in SPEC §6.1: case, spaces and punctuation ignored).
//! The signatures are chosen so that no two presets claim the same file (a test holds every
//! preset's full column list against every other preset).

mod table;

pub use table::PRESETS;

use crate::decide::Mode;
use crate::mapping::normalise_header;

/// One part of a date given in three columns (Thunderbird's `Birth Year`, `Birth Month`,
/// `Birth Day`), combined into one date field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    Year,
    Month,
    Day,
}

impl DatePart {
    pub fn words(self) -> &'static str {
        match self {
            DatePart::Year => "year",
            DatePart::Month => "month",
            DatePart::Day => "day",
        }
    }
}

/// What a preset does with one of its exporter's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// Feeds the field with this key (standard, or a starter custom field such as
    /// `patient_since`; a custom field the location does not have leaves the column unmapped).
    Field(&'static str),
    /// A mobile phone column: it feeds Phone and ranks first among the phone columns (SPEC
    /// §6.1: texts go to the primary phone).
    Mobile,
    /// One part of a date field given in three columns.
    Part(&'static str, DatePart),
    /// A column the exporter documents that no field takes: left unmapped (SPEC §11), unless
    /// a standard or custom field has that very name.
    Skip,
}

/// Settings a preset carries (SPEC §11: Vagaro's and Nextech's, from the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PresetSettings {
    /// Type of Contact for every line whose file gives none.
    pub contact_type: Option<&'static str>,
    /// The import's mode unless the user chose one.
    pub mode: Option<Mode>,
    /// "Don't update empty values", unless the user chose it.
    pub no_update_empty: Option<bool>,
    /// Tags added to every contact.
    pub tags: &'static [&'static str],
}

/// One exporter's contact export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// What `--preset` takes (`google`, `vagaro`, …).
    pub key: &'static str,
    /// What the user is told ("Looks like a Google Contacts export").
    pub name: &'static str,
    /// Where the exporter documents these columns (shown in `template list`).
    pub source: &'static str,
    /// A file is this exporter's when its header row holds every column of one of these sets.
    pub signatures: &'static [&'static [&'static str]],
    /// Every contact column the exporter documents, in its export's order.
    pub columns: &'static [(&'static str, Col)],
    pub settings: PresetSettings,
}

impl Preset {
    /// What the preset does with a header, compared as in SPEC §6.1.
    pub fn column(&self, header: &str) -> Option<Col> {
        let norm = normalise_header(header);
        if norm.is_empty() {
            return None;
        }
        self.columns
            .iter()
            .find(|(h, _)| normalise_header(h) == norm)
            .map(|(_, c)| *c)
    }

    /// Whether a header row (already normalised) carries one of this preset's signatures.
    fn claims(&self, normalised: &[String]) -> bool {
        self.signatures.iter().any(|set| {
            set.iter()
                .all(|h| normalised.contains(&normalise_header(h)))
        })
    }

    /// "Looks like a Google Contacts export".
    pub fn looks_like(&self) -> String {
        format!("Looks like a {} export", self.name)
    }
}

/// Every preset whose signature the header row carries, in table order.
pub fn claims(headers: &[String]) -> Vec<&'static Preset> {
    let normalised: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    PRESETS.iter().filter(|p| p.claims(&normalised)).collect()
}

/// The preset a header row gets automatically (SPEC §11): the one whose signature it carries.
/// Should two ever claim a file, the one that knows more of its columns wins.
pub fn detect(headers: &[String]) -> Option<&'static Preset> {
    claims(headers)
        .into_iter()
        .max_by_key(|p| headers.iter().filter(|h| p.column(h).is_some()).count())
}

/// A preset by the name the user gives (`--preset google`, `--preset "Google Contacts"`),
/// compared as headers are.
pub fn by_name(name: &str) -> Option<&'static Preset> {
    let norm = normalise_header(name);
    PRESETS
        .iter()
        .find(|p| normalise_header(p.key) == norm || normalise_header(p.name) == norm)
}

/// The user's choice of preset: detect one, use none, or use a named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PresetChoice {
    #[default]
    Detect,
    None,
    Named(&'static Preset),
}

impl PresetChoice {
    /// Reads `--preset NAME|none`; `None` (no flag) detects.
    pub fn parse(arg: Option<&str>) -> Result<PresetChoice, String> {
        match arg.map(str::trim) {
            None | Some("") => Ok(PresetChoice::Detect),
            Some(a) if a.eq_ignore_ascii_case("none") => Ok(PresetChoice::None),
            Some(a) => by_name(a).map(PresetChoice::Named).ok_or_else(|| {
                format!(
                    "--preset '{a}' is not a preset; use none or one of: {}",
                    PRESETS.iter().map(|p| p.key).collect::<Vec<_>>().join(", ")
                )
            }),
        }
    }

    /// The preset a file with these headers gets.
    pub fn resolve(self, headers: &[String]) -> Option<&'static Preset> {
        match self {
            PresetChoice::Detect => detect(headers),
            PresetChoice::None => None,
            PresetChoice::Named(p) => Some(p),
        }
    }

    /// The stored form: `None` to detect, `none`, or the preset's key.
    pub fn token(self) -> Option<&'static str> {
        match self {
            PresetChoice::Detect => None,
            PresetChoice::None => Some("none"),
            PresetChoice::Named(p) => Some(p.key),
        }
    }
}

#[cfg(test)]
mod tests;
