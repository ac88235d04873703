//! The field catalogue: the standard contact fields of SPEC §3 and the custom field types a
//! location may define. Keys are stable identifiers (used by `--map`, `--columns`, the API);
//! labels are what a user sees and what exports write as headers.

use std::fmt;
use std::str::FromStr;

/// How a field's cell is read (SPEC §5) and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Read-only record id, used only for matching.
    Id,
    Text,
    LargeText,
    Number,
    Monetary,
    Date,
    /// One value among a fixed list of options (standard fields carry their own list).
    SingleOption,
    Radio,
    MultiSelect,
    Checkbox,
    TextboxList,
    Phone,
    Email,
    PhoneList,
    EmailList,
    Boolean,
    /// A user of the location, by email or full name.
    User,
    Tags,
    Country,
    TimeZone,
    FileUpload,
    Signature,
}

/// A standard contact field (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardField {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    /// The allowed options of an option field, in their own spelling.
    pub options: &'static [&'static str],
}

const fn f(key: &'static str, label: &'static str, kind: FieldKind) -> StandardField {
    StandardField {
        key,
        label,
        kind,
        options: &[],
    }
}

/// The standard contact fields in SPEC §3's table order (exports without a column choice
/// follow this order, less `contact_id`).
pub const STANDARD_CONTACT_FIELDS: &[StandardField] = &[
    f("contact_id", "Contact ID", FieldKind::Id),
    f("first_name", "First Name", FieldKind::Text),
    f("last_name", "Last Name", FieldKind::Text),
    f("email", "Email", FieldKind::Email),
    f("phone", "Phone", FieldKind::Phone),
    f("phone_extension", "Phone Extension", FieldKind::Text),
    f(
        "additional_emails",
        "Additional Emails",
        FieldKind::EmailList,
    ),
    f(
        "additional_phones",
        "Additional Phone Numbers",
        FieldKind::PhoneList,
    ),
    f("company_name", "Company Name", FieldKind::Text),
    StandardField {
        key: "contact_type",
        label: "Type of Contact",
        kind: FieldKind::SingleOption,
        options: &["Lead", "Patient"],
    },
    StandardField {
        key: "status",
        label: "Status",
        kind: FieldKind::SingleOption,
        options: &["Subscribed", "Unsubscribed"],
    },
    f("dnd", "Do Not Disturb", FieldKind::Boolean),
    f("dnd_sms", "DND SMS", FieldKind::Boolean),
    f("dnd_email", "DND Email", FieldKind::Boolean),
    f("dnd_calls", "DND Calls", FieldKind::Boolean),
    f("dnd_voicemail", "DND Voicemail", FieldKind::Boolean),
    f("source", "Contact Source", FieldKind::Text),
    f("owner", "Contact Owner", FieldKind::User),
    f("tags", "Tags", FieldKind::Tags),
    f("note", "Note", FieldKind::LargeText),
    f("date_of_birth", "Date of Birth", FieldKind::Date),
    f("created_at", "Created Date", FieldKind::Date),
    f("address1", "Address", FieldKind::Text),
    f("city", "City", FieldKind::Text),
    f("state", "State", FieldKind::Text),
    f("postal_code", "Postal Code", FieldKind::Text),
    f("country", "Country", FieldKind::Country),
    f("timezone", "Time Zone", FieldKind::TimeZone),
    f("website", "Website", FieldKind::Text),
    f("utm_source", "UTM Source", FieldKind::Text),
    f("utm_medium", "UTM Medium", FieldKind::Text),
    f("utm_campaign", "UTM Campaign", FieldKind::Text),
    f("utm_term", "UTM Term", FieldKind::Text),
    f("utm_content", "UTM Content", FieldKind::Text),
];

/// The standard opportunity fields in SPEC §7's order (an opportunity export without a
/// column choice writes them in this order, then the opportunity custom fields, then the
/// linked contact's [`OPPORTUNITY_CONTACT_FIELDS`]).
pub const STANDARD_OPPORTUNITY_FIELDS: &[StandardField] = &[
    f("opportunity_id", "Opportunity ID", FieldKind::Id),
    f("opportunity_name", "Opportunity Name", FieldKind::Text),
    f("pipeline", "Pipeline", FieldKind::Text),
    f("stage", "Stage", FieldKind::Text),
    StandardField {
        key: "opportunity_status",
        label: "Opportunity Status",
        kind: FieldKind::SingleOption,
        options: &["Open", "Won", "Lost", "Abandoned"],
    },
    f(
        "opportunity_value",
        "Opportunity Value",
        FieldKind::Monetary,
    ),
    f("opportunity_owner", "Opportunity Owner", FieldKind::User),
    f("opportunity_source", "Opportunity Source", FieldKind::Text),
];

/// The linked contact's fields an opportunity export writes after the opportunity's own
/// (SPEC §7), by contact field key.
pub const OPPORTUNITY_CONTACT_FIELDS: &[&str] =
    &["contact_id", "first_name", "last_name", "email", "phone"];

/// Looks a standard contact field up by its key.
///
/// ```
/// assert_eq!(domain::field::standard_field("phone").unwrap().label, "Phone");
/// assert!(domain::field::standard_field("Phone").is_none());
/// ```
pub fn standard_field(key: &str) -> Option<&'static StandardField> {
    STANDARD_CONTACT_FIELDS.iter().find(|f| f.key == key)
}

/// The objects a custom field can belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    #[default]
    Contact,
    Opportunity,
    Company,
    /// A location's custom object, by its key.
    Custom(String),
}

impl ObjectKind {
    /// The stored form: `contact`, `opportunity`, `company`, or `custom:KEY`.
    pub fn as_stored(&self) -> String {
        match self {
            ObjectKind::Contact => "contact".into(),
            ObjectKind::Opportunity => "opportunity".into(),
            ObjectKind::Company => "company".into(),
            ObjectKind::Custom(k) => format!("custom:{k}"),
        }
    }

    pub fn from_stored(s: &str) -> Option<ObjectKind> {
        Some(match s {
            "contact" => ObjectKind::Contact,
            "opportunity" => ObjectKind::Opportunity,
            "company" => ObjectKind::Company,
            _ => ObjectKind::Custom(s.strip_prefix("custom:")?.to_string()),
        })
    }
}

impl std::fmt::Display for ObjectKind {
    /// The stored form, as [`ObjectKind::as_stored`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectKind::Custom(k) => write!(f, "custom:{k}"),
            other => f.write_str(&other.as_stored()),
        }
    }
}

impl serde::Serialize for ObjectKind {
    /// As its stored form (`contact`, `custom:KEY`, …).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectKind {
    /// From its stored form, as [`ObjectKind::from_stored`].
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObjectKind::from_stored(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not an object")))
    }
}

/// The types a custom field may have (SPEC §3), with their CLI tokens (SPEC §13.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomFieldType {
    Text,
    LargeText,
    Number,
    Monetary,
    Date,
    SingleOption,
    Radio,
    MultiSelect,
    Checkbox,
    TextboxList,
    Phone,
    Email,
    FileUpload,
    Signature,
}

impl CustomFieldType {
    pub const ALL: [CustomFieldType; 14] = [
        Self::Text,
        Self::LargeText,
        Self::Number,
        Self::Monetary,
        Self::Date,
        Self::SingleOption,
        Self::Radio,
        Self::MultiSelect,
        Self::Checkbox,
        Self::TextboxList,
        Self::Phone,
        Self::Email,
        Self::FileUpload,
        Self::Signature,
    ];

    /// The token used by the CLI and stored in the database.
    pub fn token(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::LargeText => "large_text",
            Self::Number => "number",
            Self::Monetary => "monetary",
            Self::Date => "date",
            Self::SingleOption => "single_option",
            Self::Radio => "radio",
            Self::MultiSelect => "multi_select",
            Self::Checkbox => "checkbox",
            Self::TextboxList => "textbox_list",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::FileUpload => "file_upload",
            Self::Signature => "signature",
        }
    }

    /// Whether the type takes a list of allowed options.
    pub fn has_options(self) -> bool {
        matches!(
            self,
            Self::SingleOption | Self::Radio | Self::MultiSelect | Self::Checkbox
        )
    }

    /// How a cell of this type is read.
    pub fn kind(self) -> FieldKind {
        match self {
            Self::Text => FieldKind::Text,
            Self::LargeText => FieldKind::LargeText,
            Self::Number => FieldKind::Number,
            Self::Monetary => FieldKind::Monetary,
            Self::Date => FieldKind::Date,
            Self::SingleOption => FieldKind::SingleOption,
            Self::Radio => FieldKind::Radio,
            Self::MultiSelect => FieldKind::MultiSelect,
            Self::Checkbox => FieldKind::Checkbox,
            Self::TextboxList => FieldKind::TextboxList,
            Self::Phone => FieldKind::Phone,
            Self::Email => FieldKind::Email,
            Self::FileUpload => FieldKind::FileUpload,
            Self::Signature => FieldKind::Signature,
        }
    }
}

impl fmt::Display for CustomFieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// An unknown field type token; its message lists the accepted ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field type '{0}'; use one of: {list}", list = CustomFieldType::ALL.map(|t| t.token()).join(", "))]
pub struct UnknownFieldType(pub String);

impl FromStr for CustomFieldType {
    type Err = UnknownFieldType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CustomFieldType::ALL
            .into_iter()
            .find(|t| t.token() == s)
            .ok_or_else(|| UnknownFieldType(s.to_string()))
    }
}

/// The default key of a custom field: its label in lower case with every run of other
/// characters turned into `_` (SPEC §13.1).
///
/// ```
/// use domain::field::default_field_key;
/// assert_eq!(default_field_key("Patient Lifetime Value"), "patient_lifetime_value");
/// assert_eq!(default_field_key("  Next Appt. (date)"), "next_appt_date");
/// ```
pub fn default_field_key(label: &str) -> String {
    let mut key = String::with_capacity(label.len());
    let mut pending_sep = false;
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || (c.is_alphanumeric() && !c.is_ascii()) {
            if pending_sep && !key.is_empty() {
                key.push('_');
            }
            pending_sep = false;
            key.push(c);
        } else {
            pending_sep = true;
        }
    }
    key
}

/// The aesthetics starter fields every new location gets (SPEC §3): label and type.
pub const STARTER_CUSTOM_FIELDS: &[(&str, CustomFieldType)] = &[
    ("Treatment of Interest", CustomFieldType::Text),
    ("Patient Lifetime Value", CustomFieldType::Monetary),
    ("New Lead Date", CustomFieldType::Date),
    ("Patient Since", CustomFieldType::Date),
    ("Next Appointment", CustomFieldType::Date),
    ("Procedure Date", CustomFieldType::Date),
];

#[cfg(test)]
mod tests;
