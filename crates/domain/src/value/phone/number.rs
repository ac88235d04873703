//! libphonenumber's `parse` and `isValidNumber`, step for step, over the digits of a cell.
//!
//! This is the exact path: every input the NANP fast path does not take comes here. It follows
//! `PhoneNumberUtil.parseHelper` of libphonenumber 9.0.33 (the metadata's version) and departs
//! from it in one place only, SPEC §5.10's `00` rule (see [`read_digits`]).
//!
//! Where the `phonenumber` crate 0.3.10 differs from libphonenumber (the divergences file in
//! `testdata/libphonenumber-examples`), the steps below are libphonenumber's:
//! - **Trunk prefix dropped from valid RU, KZ, BY, LT numbers** (`+7 800 123-45-67` became
//!   `+7001234567`): after its own national-prefix step the crate strips the national prefix
//!   (`8`) a second time, unconditionally. libphonenumber strips it once, only when what remains
//!   still fits the region's general pattern whenever the original did, and only when the rest
//!   has a possible length ([`strip_national_prefix`], and the length check in [`read_digits`]).
//! - **Country code taken from a national number** (RW `250 123 456` became `+250123456`; the
//!   BL, GF, GP, MF, MQ, RE and KZ invalid examples lost their first digits): the crate strips a
//!   leading default country code when the number does not fit the general pattern *or* has an
//!   impossible length. libphonenumber does so only when the number does not fit but the rest
//!   does, or the number is too long ([`extract_country_code`]).
//! - **Invalid CN, PH examples accepted**: the crate tests a number type's pattern against a
//!   prefix of the number; libphonenumber requires the whole number to match
//!   ([`super::pattern::Pattern::full_match`]).
//! - **National prefix stripped into an impossible length** (US `123-456-7890` became
//!   `+1234567890`): the crate only refuses a stripped number that is too short;
//!   libphonenumber also refuses a local-only or otherwise impossible length.
//! - **Full-width digits refused**: the crate reads ASCII digits only; the cell reader turns
//!   every decimal digit into ASCII before this step.

use super::metadata::{Length, Region, Table};

/// libphonenumber's `MIN_LENGTH_FOR_NSN` and `MAX_LENGTH_FOR_NSN`.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;

/// A number as libphonenumber parses it (valid or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) country_code: u16,
    /// The national significant number, leading zeros kept (so E.164 is `+` code + this).
    pub(crate) nsn: String,
    /// The cell carried its country code (`+`, `00`, the region's international prefix, or
    /// the default region's code written in front).
    pub(crate) code_given: bool,
}

impl Parsed {
    pub(crate) fn e164(&self) -> String {
        format!("+{}{}", self.country_code, self.nsn)
    }
}

/// Why libphonenumber's `parse` throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// `INVALID_COUNTRY_CODE`: an unknown calling code, or none and no known default region.
    InvalidCountryCode,
    /// `TOO_SHORT_AFTER_IDD` and `TOO_SHORT_NSN`.
    TooShort,
    /// `TOO_LONG`.
    TooLong,
}

/// Parses the digits of a cell (`plus` when it began with `+`), read in `region` when it
/// carries no country code.
///
/// SPEC §5.10: a leading `00` is read as `+` whatever the region. Where the region's own
/// international prefix matches (libphonenumber's rule: it is followed by a digit other than
/// `0`), libphonenumber's reading is kept — for the many regions whose prefix is `00` the two
/// agree, and for prefixes that begin with `00` (AU `0011`, BR `0021`…) stripping the whole
/// prefix is what the writer meant. Otherwise a leading `00` is a `+` (under US,
/// `00 44 20 7946 0958` is `+442079460958`, where libphonenumber reads `+100442079460958`).
pub(crate) fn read_digits(
    table: &Table,
    plus: bool,
    digits: &[u8],
    region: Option<&Region>,
) -> Result<Parsed, ParseError> {
    let (country_code, national, code_given) = match country_code(table, plus, digits, region) {
        Ok(found) => found,
        // A `+` followed by something that is no calling code: libphonenumber tries again
        // without the `+` (so `+011 44…` under US reads the US international prefix).
        Err(ParseError::InvalidCountryCode) if plus => {
            match country_code(table, false, digits, region)? {
                (0, _, _) => return Err(ParseError::InvalidCountryCode),
                found => found,
            }
        }
        Err(e) => return Err(e),
    };

    let (country_code, mut national, metadata) = if country_code != 0 {
        (country_code, national, table.main_for_code(country_code))
    } else {
        // No country code in the cell: the default region's (checked to exist above).
        let region = region.ok_or(ParseError::InvalidCountryCode)?;
        (region.country_code, digits.to_vec(), Some(region))
    };

    if national.len() < MIN_NSN {
        return Err(ParseError::TooShort);
    }
    if let Some(metadata) = metadata {
        let potential = strip_national_prefix(&national, metadata);
        // libphonenumber keeps the stripped form only when its length is possible: "the
        // original number could be a valid short number".
        if !matches!(
            metadata.test_length(&potential),
            Length::TooShort | Length::PossibleLocalOnly | Length::Invalid
        ) {
            national = potential;
        }
    }
    if national.len() < MIN_NSN {
        return Err(ParseError::TooShort);
    }
    if national.len() > MAX_NSN {
        return Err(ParseError::TooLong);
    }
    Ok(Parsed {
        country_code,
        nsn: String::from_utf8(national).expect("ASCII digits"),
        code_given,
    })
}

/// libphonenumber's `maybeExtractCountryCode`, with SPEC §5.10's `00` rule. Returns the
/// calling code (0 when the cell has none) and the rest of the digits.
fn country_code(
    table: &Table,
    plus: bool,
    digits: &[u8],
    region: Option<&Region>,
) -> Result<(u16, Vec<u8>, bool), ParseError> {
    let after_prefix = if plus {
        Some(digits)
    } else if let Some(rest) = region.and_then(|r| strip_international_prefix(r, digits)) {
        Some(rest)
    } else {
        // SPEC §5.10: `00` is `+` whatever the region — when a calling code follows. A
        // national number that begins with `00` and no calling code (JP's `0037…` carrier
        // prefixes) keeps libphonenumber's reading.
        digits
            .strip_prefix(b"00")
            .filter(|rest| rest.len() > MIN_NSN && extract_country_code(table, rest).is_some())
    };

    if let Some(rest) = after_prefix {
        if rest.len() <= MIN_NSN {
            return Err(ParseError::TooShort);
        }
        return match extract_country_code(table, rest) {
            Some((code, national)) => Ok((code, national.to_vec(), true)),
            None => Err(ParseError::InvalidCountryCode),
        };
    }

    // Without a country code and without a known default region, libphonenumber refuses
    // (`checkRegionForParsing`).
    let region = region.ok_or(ParseError::InvalidCountryCode)?;
    let code = region.country_code.to_string();
    if let Some(potential) = digits.strip_prefix(code.as_bytes()) {
        let general = &region.general.pattern;
        let potential = strip_national_prefix(potential, region);
        if (!general.full_match(digits) && general.full_match(&potential))
            || region.test_length(digits) == Length::TooLong
        {
            return Ok((region.country_code, potential, true));
        }
    }
    Ok((0, Vec::new(), false))
}

/// libphonenumber's `parsePrefixAsIdd`: the region's international prefix at the start, not
/// followed by a `0`.
fn strip_international_prefix<'d>(region: &Region, digits: &'d [u8]) -> Option<&'d [u8]> {
    let found = region.international_prefix.as_ref()?.looking_at(digits)?;
    let rest = &digits[found.end..];
    (rest.first() != Some(&b'0')).then_some(rest)
}

/// libphonenumber's `extractCountryCode`: the first one to three digits that are a calling
/// code.
fn extract_country_code<'d>(table: &Table, digits: &'d [u8]) -> Option<(u16, &'d [u8])> {
    if digits.first() == Some(&b'0') {
        return None;
    }
    (1..=3.min(digits.len())).find_map(|len| {
        let code: u16 = std::str::from_utf8(&digits[..len]).ok()?.parse().ok()?;
        table.has_code(code).then(|| (code, &digits[len..]))
    })
}

/// libphonenumber's `maybeStripNationalPrefixAndCarrierCode` (the carrier code is not kept).
fn strip_national_prefix(number: &[u8], region: &Region) -> Vec<u8> {
    let unchanged = || number.to_vec();
    let Some(prefix) = region.national_prefix_for_parsing.as_ref() else {
        return unchanged();
    };
    if number.is_empty() {
        return unchanged();
    }
    let Some(found) = prefix.looking_at(number) else {
        return unchanged();
    };
    let general = &region.general.pattern;
    let viable = general.full_match(number);
    // Java's `group(groupCount())`: the whole match when there are no groups.
    let last_group = found.groups[prefix.groups()];
    match (&region.national_prefix_transform_rule, last_group) {
        (Some(rule), Some(_)) => {
            let mut transformed = Vec::new();
            let mut rule = rule.bytes().peekable();
            while let Some(b) = rule.next() {
                match (b, rule.peek()) {
                    (b'$', Some(d)) if d.is_ascii_digit() => {
                        let group = usize::from(*d - b'0');
                        rule.next();
                        if let Some(Some((from, to))) = found.groups.get(group) {
                            transformed.extend_from_slice(&number[*from..*to]);
                        }
                    }
                    _ => transformed.push(b),
                }
            }
            transformed.extend_from_slice(&number[found.end..]);
            if viable && !general.full_match(&transformed) {
                return unchanged();
            }
            transformed
        }
        _ => {
            let rest = &number[found.end..];
            if viable && !general.full_match(rest) {
                return unchanged();
            }
            rest.to_vec()
        }
    }
}

/// libphonenumber's `getRegionCodeForNumber`: the region a number belongs to.
pub(crate) fn region_of<'t>(table: &'t Table, parsed: &Parsed) -> Option<&'t Region> {
    let nsn = parsed.nsn.as_bytes();
    let mut regions = table.for_code(parsed.country_code).peekable();
    let first = regions.next()?;
    if regions.peek().is_none() {
        return Some(first);
    }
    std::iter::once(first)
        .chain(regions)
        .find(|region| match &region.leading_digits {
            Some(leading) => leading.looking_at(nsn).is_some(),
            None => region.has_type(nsn),
        })
}

/// libphonenumber's `isValidNumber`.
pub(crate) fn is_valid(table: &Table, parsed: &Parsed) -> bool {
    region_of(table, parsed).is_some_and(|region| region.has_type(parsed.nsn.as_bytes()))
}

/// libphonenumber's `isPossibleNumberWithReason`, for the message of an invalid number.
pub(crate) fn length_of(table: &Table, parsed: &Parsed) -> Length {
    table
        .main_for_code(parsed.country_code)
        .map_or(Length::Invalid, |region| {
            region.test_length(parsed.nsn.as_bytes())
        })
}
