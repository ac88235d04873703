//! The NANP fast path: most cells of a US practice's file are 10-digit North American numbers
//! in a handful of layouts, and reading them through libphonenumber's rules costs a few
//! regex walks each. This path reads them with a table lookup, and only where the table was
//! *proven* at start-up to give exactly what the exact path ([`super::number`]) gives.
//!
//! What it takes: a trimmed cell of ASCII digits, spaces, `(`, `)`, `.`, `-` and at most one
//! `+` before the digits; `+1` and ten digits, or — read in a NANP region — ten digits or `1`
//! and ten digits; an area code whose every number with an exchange starting `2`–`9` is valid;
//! an exchange starting `2`–`9`. Everything else (extensions, letters, `00`, other regions,
//! area codes where validity depends on later digits) goes to the exact path.
//!
//! Why that is exact (each step is checked when the table is built, not assumed):
//! - libphonenumber extracts the same digits from these layouts: the punctuation is dropped.
//! - Under a region whose calling code is 1, whose international prefix cannot match these
//!   digits, whose national-prefix rule cannot match ten digits starting `2`–`9`, and for which
//!   eleven digits are too long, the number gets calling code 1 and keeps its ten digits.
//!   After `+1` the main region (US) is used for the national prefix, so the same check on it.
//! - Validity: for each area code, every metadata pattern that decides the region and the
//!   number type is expanded into its paths (digit classes by position) and compared with the
//!   inputs `NPA [2-9] d d d d d d`: a pattern either has a path that takes all of them, or
//!   none of its paths takes any of them. When that holds for every pattern consulted, the
//!   answer is the same for the whole area code, so one representative decides it. An area code
//!   where some pattern takes only some of them (US 274, 472, 983, 52x, JM 658…) is left to the
//!   exact path.

use std::sync::OnceLock;

use super::metadata::{Desc, Length, Region, Table, table};
use super::pattern::{ANY_DIGIT, Digits, Path, Pattern};

/// libphonenumber refuses longer inputs (`MAX_INPUT_STRING_LENGTH`).
const MAX_INPUT: usize = 250;
const TWO_TO_NINE: Digits = ANY_DIGIT & !0b11;
/// More paths than this in one pattern and we do not analyse it (none of the NANP patterns
/// comes close).
const PATH_LIMIT: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Mixed,
}

fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
    items.into_iter().fold(Tri::Yes, |acc, t| match (acc, t) {
        (Tri::No, _) | (_, Tri::No) => Tri::No,
        (Tri::Mixed, _) | (_, Tri::Mixed) => Tri::Mixed,
        _ => Tri::Yes,
    })
}

fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
    items.into_iter().fold(Tri::No, |acc, t| match (acc, t) {
        (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
        (Tri::Mixed, _) | (_, Tri::Mixed) => Tri::Mixed,
        _ => Tri::No,
    })
}

/// What the fast path may take, computed once.
pub(crate) struct FastPath {
    /// By area code: every number `NPA [2-9]xx xxxx` is valid.
    valid_area_code: [bool; 1000],
    /// NANP regions under which a number without `+` may take the fast path.
    regions: Vec<String>,
    /// A `+1` number may take the fast path.
    plus: bool,
}

impl FastPath {
    /// E.164 of a trimmed cell the fast path can read exactly, or `None` (then use the exact
    /// path).
    pub(crate) fn read(&self, cell: &str, region: &str) -> Option<String> {
        if cell.len() > MAX_INPUT {
            return None;
        }
        let mut digits = [0u8; 11];
        let mut count = 0;
        let mut plus = false;
        for &b in cell.as_bytes() {
            match b {
                b'0'..=b'9' => {
                    *digits.get_mut(count)? = b;
                    count += 1;
                }
                b' ' | b'(' | b')' | b'.' | b'-' => {}
                b'+' if count == 0 && !plus => plus = true,
                _ => return None,
            }
        }
        let national = match (plus, count) {
            (true, 11) if digits[0] == b'1' && self.plus => &digits[1..],
            (false, 10) if self.takes(region) => &digits[..10],
            // After the `1` the main region's national prefix applies, as after `+1`.
            (false, 11) if digits[0] == b'1' && self.plus && self.takes(region) => &digits[1..],
            _ => return None,
        };
        let area_code = national[..3]
            .iter()
            .fold(0, |n, d| n * 10 + usize::from(d - b'0'));
        if !(b'2'..=b'9').contains(&national[3]) || !self.valid_area_code[area_code] {
            return None;
        }
        let mut e164 = String::with_capacity(12);
        e164.push_str("+1");
        e164.push_str(std::str::from_utf8(national).ok()?);
        Some(e164)
    }

    fn takes(&self, region: &str) -> bool {
        self.regions.iter().any(|r| r == region)
    }

    /// The area codes the fast path reads (for the tests).
    #[cfg(test)]
    pub(crate) fn valid_area_codes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..1000).filter(|&a| self.valid_area_code[a])
    }

    /// The regions under which it reads numbers without `+` (for the tests).
    #[cfg(test)]
    pub(crate) fn regions(&self) -> &[String] {
        &self.regions
    }
}

pub(crate) fn fast_path() -> &'static FastPath {
    static FAST: OnceLock<FastPath> = OnceLock::new();
    FAST.get_or_init(|| build(table()))
}

/// A region's patterns, expanded.
struct Expanded<'t> {
    region: &'t Region,
    leading: Option<Option<Vec<Path>>>,
    general: Option<Vec<Path>>,
    types: Vec<Option<Vec<Path>>>,
}

fn build(table: &Table) -> FastPath {
    // Inputs after the calling code: NPA, exchange starting 2-9, line number.
    let mut ten: Vec<Digits> = vec![TWO_TO_NINE, ANY_DIGIT, ANY_DIGIT, TWO_TO_NINE];
    ten.extend([ANY_DIGIT; 6]);
    let mut eleven = vec![1 << 1];
    eleven.extend(&ten);

    let prefix_never_matches = |pattern: Option<&Pattern>, inputs: &[&[Digits]]| {
        pattern.is_none_or(|p| match p.paths(11, PATH_LIMIT) {
            Some(paths) => inputs
                .iter()
                .all(|input| classify(&paths, input, false) == Tri::No),
            None => false,
        })
    };
    let keeps_ten_digits = |region: &Region, inputs: &[&[Digits]]| {
        region.country_code == 1
            && region.test_length(&[b'1'; 11]) == Length::TooLong
            && prefix_never_matches(region.international_prefix.as_ref(), inputs)
            && prefix_never_matches(region.national_prefix_for_parsing.as_ref(), &[&ten])
    };

    let plus = table
        .main_for_code(1)
        .is_some_and(|main| keeps_ten_digits(main, &[]));
    let regions = table
        .for_code(1)
        .filter(|r| keeps_ten_digits(r, &[&ten, &eleven]))
        .map(|r| r.id.clone())
        .collect();

    let expanded: Vec<Expanded<'_>> = table
        .for_code(1)
        .map(|region| Expanded {
            region,
            leading: region
                .leading_digits
                .as_ref()
                .map(|p| p.paths(10, PATH_LIMIT)),
            general: region.general.pattern.paths(10, PATH_LIMIT),
            types: region
                .types
                .iter()
                .map(|d| d.pattern.paths(10, PATH_LIMIT))
                .collect(),
        })
        .collect();

    let mut valid_area_code = [false; 1000];
    for (area_code, valid) in valid_area_code.iter_mut().enumerate().skip(200) {
        let mut input = ten.clone();
        input[0] = 1 << (area_code / 100);
        input[1] = 1 << (area_code / 10 % 10);
        input[2] = 1 << (area_code % 10);
        *valid = validity(&expanded, &input) == Tri::Yes;
    }
    FastPath {
        valid_area_code,
        regions,
        plus,
    }
}

/// libphonenumber's `isValidNumber` for calling code 1, over every input at once.
fn validity(regions: &[Expanded<'_>], input: &[Digits]) -> Tri {
    for r in regions {
        let claims = match &r.leading {
            Some(leading) => match leading {
                Some(paths) => classify(paths, input, false),
                None => Tri::Mixed,
            },
            None => has_type(r, input),
        };
        match (claims, r.leading.is_some()) {
            (Tri::No, _) => continue,
            (Tri::Mixed, _) => return Tri::Mixed,
            (Tri::Yes, true) => return has_type(r, input),
            (Tri::Yes, false) => return Tri::Yes,
        }
    }
    Tri::No
}

fn has_type(r: &Expanded<'_>, input: &[Digits]) -> Tri {
    let general = desc(&r.region.general, r.general.as_deref(), input);
    let types = r
        .region
        .types
        .iter()
        .zip(&r.types)
        .enumerate()
        .filter_map(|(i, (d, paths))| {
            let skipped = Some(i) == r.region.mobile && r.region.same_mobile_and_fixed_line_pattern;
            (!skipped).then(|| desc(d, paths.as_deref(), input))
        });
    all([general, any(types.collect::<Vec<_>>())])
}

/// [`Desc::matches`] over every input at once.
fn desc(d: &Desc, paths: Option<&[Path]>, input: &[Digits]) -> Tri {
    if !d.lengths.is_empty() && !d.lengths.contains(&(input.len() as u16)) {
        return Tri::No;
    }
    paths.map_or(Tri::Mixed, |paths| classify(paths, input, true))
}

/// Does a pattern match every input (`Yes`), none (`No`), or some (`Mixed`)? `whole`: the
/// pattern must cover the input (`matches`), else a prefix (`lookingAt`).
fn classify(paths: &[Path], input: &[Digits], whole: bool) -> Tri {
    let mut some = false;
    for path in paths {
        let len = path.classes.len();
        let fits = if whole || path.anchored {
            len == input.len()
        } else {
            len <= input.len()
        };
        if !fits {
            continue;
        }
        let pairs = path.classes.iter().zip(input);
        if pairs.clone().any(|(c, i)| c & i == 0) {
            continue;
        }
        if pairs.clone().all(|(c, i)| c & i == *i) {
            return Tri::Yes;
        }
        some = true;
    }
    if some { Tri::Mixed } else { Tri::No }
}
