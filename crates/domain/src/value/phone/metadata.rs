//! libphonenumber's metadata, taken once from the `phonenumber` crate (metadata 9.0.33, the
//! oracle's version) and compiled into an immutable table with our own [`Pattern`]s.
//!
//! Two things the crate leaves out that libphonenumber's build step adds, and which parsing
//! depends on (both are reproduced here):
//! - the general description's possible lengths are the union of every number type's lengths
//!   (except "no international dialling"), and its local-only lengths the union of theirs that
//!   are not also national lengths. The crate keeps them empty.
//! - a region without a `nationalPrefixForParsing` parses with its `nationalPrefix`.

use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};

use super::pattern::Pattern;

/// One number type (or the general description) of a region.
pub(crate) struct Desc {
    pub(crate) pattern: Pattern,
    /// Sorted; empty means "the general description's".
    pub(crate) lengths: Vec<u16>,
    pub(crate) local_lengths: Vec<u16>,
}

impl Desc {
    fn from_crate(d: &Descriptor) -> Desc {
        Desc {
            pattern: compile(d.national_number().as_str()),
            lengths: sorted(d.possible_length()),
            local_lengths: sorted(d.possible_local_length()),
        }
    }

    /// libphonenumber's `isNumberMatchingDesc`: a possible length, then the whole pattern.
    pub(crate) fn matches(&self, nsn: &[u8]) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(nsn.len() as u16)))
            && self.pattern.full_match(nsn)
    }
}

/// One region (or one non-geographic calling code, id `001`).
pub(crate) struct Region {
    pub(crate) id: String,
    pub(crate) country_code: u16,
    pub(crate) international_prefix: Option<Pattern>,
    pub(crate) national_prefix_for_parsing: Option<Pattern>,
    pub(crate) national_prefix_transform_rule: Option<String>,
    pub(crate) leading_digits: Option<Pattern>,
    /// Its lengths are the union described in the module doc.
    pub(crate) general: Desc,
    /// In the order libphonenumber's `getNumberTypeHelper` tries them: premium rate, toll free,
    /// shared cost, VoIP, personal number, pager, UAN, voicemail, fixed line, mobile.
    pub(crate) types: Vec<Desc>,
    pub(crate) mobile: Option<usize>,
    pub(crate) same_mobile_and_fixed_line_pattern: bool,
}

/// How a national number's length compares with a region's (libphonenumber's
/// `ValidationResult`, for the number type UNKNOWN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Length {
    Possible,
    PossibleLocalOnly,
    TooShort,
    /// Between the shortest and the longest, but no number has it (`INVALID_LENGTH`).
    Invalid,
    TooLong,
}

impl Region {
    /// libphonenumber's `testNumberLength(number, metadata)`.
    pub(crate) fn test_length(&self, nsn: &[u8]) -> Length {
        let lengths = &self.general.lengths;
        let Some((&min, &max)) = lengths.first().zip(lengths.last()) else {
            return Length::Invalid;
        };
        let actual = nsn.len() as u16;
        if self.general.local_lengths.contains(&actual) {
            Length::PossibleLocalOnly
        } else if actual == min {
            Length::Possible
        } else if actual < min {
            Length::TooShort
        } else if actual > max {
            Length::TooLong
        } else if lengths.contains(&actual) {
            Length::Possible
        } else {
            Length::Invalid
        }
    }

    /// libphonenumber's `getNumberTypeHelper(..) != UNKNOWN`.
    pub(crate) fn has_type(&self, nsn: &[u8]) -> bool {
        if !self.general.matches(nsn) {
            return false;
        }
        self.types.iter().enumerate().any(|(i, desc)| {
            let skipped = Some(i) == self.mobile && self.same_mobile_and_fixed_line_pattern;
            !skipped && desc.matches(nsn)
        })
    }
}

/// Every region and non-geographic code, by id and by calling code.
pub(crate) struct Table {
    pub(crate) regions: Vec<Region>,
    by_id: HashMap<String, usize>,
    /// The main region first, then the others in the metadata's order (libphonenumber's
    /// `countryCallingCodeToRegionCodeMap`).
    by_code: HashMap<u16, Vec<usize>>,
}

impl Table {
    pub(crate) fn region(&self, id: &str) -> Option<&Region> {
        self.by_id.get(id).map(|&i| &self.regions[i])
    }

    pub(crate) fn has_code(&self, code: u16) -> bool {
        self.by_code.contains_key(&code)
    }

    /// Every region sharing a calling code, main region first.
    pub(crate) fn for_code(&self, code: u16) -> impl Iterator<Item = &Region> {
        self.by_code
            .get(&code)
            .into_iter()
            .flatten()
            .map(|&i| &self.regions[i])
    }

    /// The main region of a calling code (`getRegionCodeForCountryCode`), or the
    /// non-geographic entity.
    pub(crate) fn main_for_code(&self, code: u16) -> Option<&Region> {
        self.for_code(code).next()
    }
}

/// The table, built on first use (a few milliseconds) and never changed.
pub(crate) fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build)
}

fn build() -> Table {
    let mut regions = Vec::new();
    let mut by_id = HashMap::new();
    let mut by_code = HashMap::new();
    // `DATABASE.iter()` keeps one `001` entry of the nine; looking up by code keeps them all.
    for code in 1..1000u16 {
        let Some(metas) = DATABASE.by_code(&code) else {
            continue;
        };
        let mut indexes = Vec::new();
        for meta in metas {
            let region = region(meta);
            if region.id != "001" {
                by_id.insert(region.id.clone(), regions.len());
            }
            indexes.push(regions.len());
            regions.push(region);
        }
        by_code.insert(code, indexes);
    }
    Table {
        regions,
        by_id,
        by_code,
    }
}

fn region(meta: &Metadata) -> Region {
    let d = meta.descriptors();
    let types: Vec<Option<&Descriptor>> = vec![
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
        d.fixed_line(),
        d.mobile(),
    ];
    let mut lengths: Vec<u16> = Vec::new();
    let mut local: Vec<u16> = Vec::new();
    for desc in types.iter().flatten() {
        lengths.extend(desc.possible_length());
        local.extend(desc.possible_local_length());
    }
    lengths = sorted(&lengths);
    local = sorted(&local);
    local.retain(|l| !lengths.contains(l));

    let mut general = Desc::from_crate(d.general());
    general.lengths = lengths;
    general.local_lengths = local;

    let mut compiled = Vec::new();
    let mut mobile = None;
    for (i, desc) in types.iter().enumerate() {
        if let Some(desc) = desc {
            if i == 9 {
                mobile = Some(compiled.len());
            }
            compiled.push(Desc::from_crate(desc));
        }
    }
    let same_mobile_and_fixed_line_pattern = match (d.fixed_line(), d.mobile()) {
        (Some(f), Some(m)) => f.national_number().as_str() == m.national_number().as_str(),
        _ => false,
    };

    let national_prefix_for_parsing = meta
        .national_prefix_for_parsing()
        .map(|p| p.as_str().to_string())
        .or_else(|| meta.national_prefix().map(str::to_string))
        .filter(|p| !p.trim().is_empty());

    Region {
        id: meta.id().to_string(),
        country_code: meta.country_code(),
        international_prefix: meta.international_prefix().map(|p| compile(p.as_str())),
        national_prefix_for_parsing: national_prefix_for_parsing.as_deref().map(compile),
        national_prefix_transform_rule: meta
            .national_prefix_transform_rule()
            .map(str::to_string)
            .filter(|r| !r.is_empty()),
        leading_digits: meta.leading_digits().map(|p| compile(p.as_str())),
        general,
        types: compiled,
        mobile,
        same_mobile_and_fixed_line_pattern,
    }
}

fn compile(source: &str) -> Pattern {
    // The metadata is compiled into the binary; a pattern we cannot read is a bug in this
    // module, caught by the tests that read every region.
    Pattern::parse(source).unwrap_or_else(|e| panic!("phone metadata pattern {source:?}: {e}"))
}

fn sorted(lengths: &[u16]) -> Vec<u16> {
    let mut v = lengths.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}
