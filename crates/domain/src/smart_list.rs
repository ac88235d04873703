//! Smart List filters (SPEC §12) in the §13.1 syntax: [`parse_filter`] reads one expression
//! (`tag=VIP`, `dnd_sms=false`, …) to a [`Filter`], and `Display` writes it back. Pure; the
//! store turns filters into SQL and evaluates them in the database.

use std::fmt;

use jiff::civil::Date;

/// One §13.1 filter, read. `negated` is the `!=` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub condition: Condition,
    pub negated: bool,
}

/// What a filter tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `tag=TAG`: the contact has the tag (case-insensitively).
    Tag(String),
    /// `type=Lead|Patient` (the stored option value).
    ContactType(&'static str),
    /// `status=Subscribed|Unsubscribed` (the stored option value).
    Status(&'static str),
    /// `dnd=BOOL` (channel `None`: all channels) or `dnd_sms=BOOL` and the other channels.
    Dnd {
        channel: Option<DndChannel>,
        value: bool,
    },
    /// `verification=unverified|valid|invalid`.
    Verification(&'static str),
    /// `source=SOURCE` (case-insensitive).
    Source(String),
    /// `has=email|phone`: the primary email or phone is present.
    Has(Channel),
    /// `created_after=YYYY-MM-DD`: created at or after midnight of that day (location time).
    CreatedAfter(Date),
    /// `created_before=YYYY-MM-DD`: created before midnight of that day (location time).
    CreatedBefore(Date),
    /// `import=JOB`: created or updated by that import.
    Import(i64),
    /// `field.KEY=VALUE`: the contact's custom field KEY holds VALUE (case-insensitive; any
    /// element of a list value).
    Field { key: String, value: String },
}

/// A per-channel DND flag (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DndChannel {
    Sms,
    Email,
    Calls,
    Voicemail,
}

impl DndChannel {
    pub const ALL: [DndChannel; 4] = [
        DndChannel::Sms,
        DndChannel::Email,
        DndChannel::Calls,
        DndChannel::Voicemail,
    ];

    /// The column (and filter key) of this channel: `dnd_sms`, …
    pub fn column(self) -> &'static str {
        match self {
            DndChannel::Sms => "dnd_sms",
            DndChannel::Email => "dnd_email",
            DndChannel::Calls => "dnd_calls",
            DndChannel::Voicemail => "dnd_voicemail",
        }
    }
}

/// A messaging channel a contact can be reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Phone,
}

/// Why an expression is not a filter: the expression, what is wrong, and (in `Display`) the
/// forms that are accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{expr}' is not a filter: {problem}. Filters are {FILTER_FORMS}")]
pub struct FilterError {
    pub expr: String,
    pub problem: String,
}

/// Every accepted filter form, for error messages and help texts.
pub const FILTER_FORMS: &str = "tag=TAG, type=Lead|Patient, status=Subscribed|Unsubscribed, \
     dnd=true|false (all channels), dnd_sms|dnd_email|dnd_calls|dnd_voicemail=true|false, \
     verification=unverified|valid|invalid, source=SOURCE, has=email|phone, \
     created_after=YYYY-MM-DD, created_before=YYYY-MM-DD, import=JOB_ID, field.KEY=VALUE; \
     write != instead of = to negate any of them but the dates";

fn option(value: &str, options: &[&'static str]) -> Option<&'static str> {
    options
        .iter()
        .copied()
        .find(|o| o.eq_ignore_ascii_case(value))
}

fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Whether `key` may name a custom field in a filter: letters, digits and `_` (the rule of
/// `field create`'s keys).
fn is_field_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c == '_' || c.is_alphanumeric())
}

/// The first and last dates a `created_after` / `created_before` filter takes (SPEC §13.1):
/// midnight of any of them exists in every time zone, so a saved filter always runs.
pub const FIRST_FILTER_DATE: Date = jiff::civil::date(1900, 1, 1);
pub const LAST_FILTER_DATE: Date = jiff::civil::date(9998, 12, 31);

/// Reads one §13.1 filter expression.
///
/// ```text
/// parse_filter("tag=VIP")            → Filter { condition: Tag("VIP"), negated: false }
/// parse_filter("verification!=invalid") → Verification("invalid"), negated
/// parse_filter("colour=red")         → Err: unknown key 'colour', with the accepted forms
/// ```
pub fn parse_filter(expr: &str) -> Result<Filter, FilterError> {
    let fail = |problem: String| FilterError {
        expr: expr.to_string(),
        problem,
    };
    if expr.contains('\0') {
        return Err(fail("it holds a NUL character".into()));
    }
    let Some((left, value)) = expr.split_once('=') else {
        return Err(fail("it has no '=' between a key and a value".into()));
    };
    let (key, negated) = match left.strip_suffix('!') {
        Some(k) => (k.trim(), true),
        None => (left.trim(), false),
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(fail(format!("'{key}' needs a value after the '='")));
    }
    let choice = |options: &[&'static str]| {
        option(value, options).ok_or_else(|| {
            fail(format!(
                "'{key}' is one of {}, not '{value}'",
                options.join(", ")
            ))
        })
    };
    let flag =
        || boolean(value).ok_or_else(|| fail(format!("'{key}' is true or false, not '{value}'")));
    let date = || {
        if negated {
            return Err(fail(format!(
                "'{key}' cannot be negated; use {} instead",
                if key == "created_after" {
                    "created_before"
                } else {
                    "created_after"
                }
            )));
        }
        let date = value
            .parse::<Date>()
            .ok()
            .filter(|_| value.len() == 10)
            .ok_or_else(|| fail(format!("'{value}' is not a date written YYYY-MM-DD")))?;
        if !(FIRST_FILTER_DATE..=LAST_FILTER_DATE).contains(&date) {
            return Err(fail(format!(
                "'{value}' is outside the dates a filter takes, {FIRST_FILTER_DATE} to {LAST_FILTER_DATE}"
            )));
        }
        Ok(date)
    };
    let condition =
        match key {
            "tag" => Condition::Tag(value.to_string()),
            "type" => Condition::ContactType(choice(&["Lead", "Patient"])?),
            "status" => Condition::Status(choice(&["Subscribed", "Unsubscribed"])?),
            "dnd" => Condition::Dnd {
                channel: None,
                value: flag()?,
            },
            "verification" => Condition::Verification(choice(&["unverified", "valid", "invalid"])?),
            "source" => Condition::Source(value.to_string()),
            "has" => match value.to_ascii_lowercase().as_str() {
                "email" => Condition::Has(Channel::Email),
                "phone" => Condition::Has(Channel::Phone),
                _ => return Err(fail(format!("'has' is email or phone, not '{value}'"))),
            },
            "created_after" => Condition::CreatedAfter(date()?),
            "created_before" => Condition::CreatedBefore(date()?),
            "import" => {
                Condition::Import(value.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(
                    || fail(format!("'import' takes a job id (a number), not '{value}'")),
                )?)
            }
            _ => {
                if let Some(channel) = DndChannel::ALL.iter().find(|c| c.column() == key) {
                    Condition::Dnd {
                        channel: Some(*channel),
                        value: flag()?,
                    }
                } else if let Some(field) = key.strip_prefix("field.") {
                    if !is_field_key(field) {
                        return Err(fail(format!(
                            "'{field}' is not a custom field key (letters, digits and '_')"
                        )));
                    }
                    Condition::Field {
                        key: field.to_string(),
                        value: value.to_string(),
                    }
                } else if key.is_empty() {
                    return Err(fail("it has no key before the '='".into()));
                } else {
                    return Err(fail(format!("'{key}' is not a filter key")));
                }
            }
        };
    Ok(Filter { condition, negated })
}

/// Writes the filter back in the §13.1 syntax; [`parse_filter`] reads it to the same value.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.negated { "!=" } else { "=" };
        match &self.condition {
            Condition::Tag(t) => write!(f, "tag{op}{t}"),
            Condition::ContactType(t) => write!(f, "type{op}{t}"),
            Condition::Status(s) => write!(f, "status{op}{s}"),
            Condition::Dnd { channel, value } => {
                let key = channel.map_or("dnd", DndChannel::column);
                write!(f, "{key}{op}{value}")
            }
            Condition::Verification(v) => write!(f, "verification{op}{v}"),
            Condition::Source(s) => write!(f, "source{op}{s}"),
            Condition::Has(Channel::Email) => write!(f, "has{op}email"),
            Condition::Has(Channel::Phone) => write!(f, "has{op}phone"),
            Condition::CreatedAfter(d) => write!(f, "created_after{op}{d}"),
            Condition::CreatedBefore(d) => write!(f, "created_before{op}{d}"),
            Condition::Import(j) => write!(f, "import{op}{j}"),
            Condition::Field { key, value } => write!(f, "field.{key}{op}{value}"),
        }
    }
}

#[cfg(test)]
mod tests;
