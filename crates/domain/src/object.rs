//! One schema per object (SPEC §3, §7, §8): what the import engine, the store's row codec,
//! the error log and export read instead of lists of contact fields kept by hand.
//!
//! A schema is built from the object's standard fields (a constant table per object) and, at
//! run time, the location's definitions: a custom object's name and primary field, and the
//! custom fields of the object in the order they were created. Nothing here reads a database;
//! the store hands the definitions in.

pub mod define;

use crate::field::{
    CustomFieldType, FieldKind, ObjectKind, STANDARD_CONTACT_FIELDS, STANDARD_OPPORTUNITY_FIELDS,
    StandardField, default_field_key,
};

/// A field of an object, standard or custom, as every part of the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectField {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// The allowed options of an option field.
    pub options: Vec<String>,
    /// A location's custom field (its value kept with the record's custom values).
    pub custom: bool,
    /// A custom field's type, as defined (`None` for a standard field).
    pub custom_type: Option<CustomFieldType>,
    /// Holds several values (tags, additional emails/phones, multi-select, checkbox, textbox
    /// list).
    pub list: bool,
    /// The mapping must map it, and a blank never clears it (SPEC §8: the primary field and a
    /// custom object's required fields).
    pub required: bool,
    /// No two records of the object in a location share a value (SPEC §8 `--unique`); the
    /// values it matches on.
    pub unique: bool,
    /// A blank cell never clears it, whatever the options (SPEC §6.5, §7, §8).
    pub never_cleared: bool,
}

/// A location's custom field definition, as the schema takes it (the store's row, less its
/// id and object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFieldDef {
    pub key: String,
    pub label: String,
    pub field_type: CustomFieldType,
    pub options: Vec<String>,
    pub required: bool,
    pub unique: bool,
}

/// A location's custom object definition (SPEC §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomObjectDef {
    /// The key (`treatments`), as `object create --key` or the name's default gave it.
    pub key: String,
    /// The name (`Treatments`).
    pub name: String,
    /// The primary field's label (`Treatment Name`); its key follows the key rule.
    pub primary_label: String,
    pub primary_key: String,
}

impl CustomObjectDef {
    /// A definition from its name, primary label and optional key, keys by SPEC §13.1's rule
    /// (`Treatments`, `Treatment Name` → `treatments`, `treatment_name`).
    pub fn new(name: &str, primary_label: &str, key: Option<&str>) -> CustomObjectDef {
        CustomObjectDef {
            key: key
                .map(str::to_string)
                .unwrap_or_else(|| default_field_key(name)),
            name: name.trim().to_string(),
            primary_label: primary_label.trim().to_string(),
            primary_key: default_field_key(primary_label),
        }
    }
}

/// Fields of contacts that a blank never changes (SPEC §6.5): the primary email and phone, the
/// per-channel DND flags, Status and Type of Contact.
const CONTACT_NEVER_CLEARED: &[&str] = &[
    "email",
    "phone",
    "dnd_sms",
    "dnd_email",
    "dnd_calls",
    "dnd_voicemail",
    "status",
    "contact_type",
];

/// Contact fields a later line's decision reads besides the identifiers (SPEC §6.5: a Lead
/// never downgrades a Patient).
const CONTACT_DECIDING: &[&str] = &["contact_type"];

/// Contact fields that name a contact on a report line (SPEC §13.1 `primary`: the full name,
/// else the email, else the phone).
const CONTACT_NAMING: &[&str] = &["first_name", "last_name", "email", "phone"];

/// The standard company fields (SPEC §8), in its order; labels as for contacts.
pub const STANDARD_COMPANY_FIELDS: &[StandardField] = &[
    sf("record_id", "Record ID", FieldKind::Id),
    sf("company_name", "Company Name", FieldKind::Text),
    sf("email", "Email", FieldKind::Email),
    sf("phone", "Phone", FieldKind::Phone),
    sf("website", "Website", FieldKind::Text),
    sf("address1", "Address", FieldKind::Text),
    sf("city", "City", FieldKind::Text),
    sf("state", "State", FieldKind::Text),
    sf("postal_code", "Postal Code", FieldKind::Text),
    sf("country", "Country", FieldKind::Country),
    sf("description", "Description", FieldKind::LargeText),
];

const fn sf(key: &'static str, label: &'static str, kind: FieldKind) -> StandardField {
    StandardField {
        key,
        label,
        kind,
        options: &[],
    }
}

/// The key of a record's id on companies and custom objects (SPEC §8).
pub const RECORD_ID: &str = "record_id";

/// Whether a field of this kind holds several values.
pub fn is_list(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::EmailList
            | FieldKind::PhoneList
            | FieldKind::Tags
            | FieldKind::MultiSelect
            | FieldKind::Checkbox
            | FieldKind::TextboxList
    )
}

/// Whether a custom field of this type may be declared unique (SPEC §8: text, email, phone
/// or number).
pub fn may_be_unique(t: CustomFieldType) -> bool {
    matches!(
        t,
        CustomFieldType::Text
            | CustomFieldType::Email
            | CustomFieldType::Phone
            | CustomFieldType::Number
    )
}

/// The form a unique field's value is compared in (SPEC §8): text and email values in their
/// Unicode lower case, computed here so both backends agree; phones (already E.164) and
/// numbers (already normalised) as read.
///
/// ```
/// use domain::FieldKind;
/// use domain::object::unique_value_key;
/// assert_eq!(unique_value_key(FieldKind::Email, "Ann@Example.COM"), "ann@example.com");
/// assert_eq!(unique_value_key(FieldKind::Text, "ÉCOLE"), "école");
/// assert_eq!(unique_value_key(FieldKind::Phone, "+12015550123"), "+12015550123");
/// ```
pub fn unique_value_key(kind: FieldKind, value: &str) -> String {
    match kind {
        FieldKind::Phone | FieldKind::Number => value.to_string(),
        _ => value.to_lowercase(),
    }
}

/// Everything the engine needs to know about one object of one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSchema {
    pub object: ObjectKind,
    /// What Bulk Actions and the wizard call it: `Contacts`, `Opportunities`, `Companies`, or
    /// the custom object's name.
    pub name: String,
    /// The read-only id field: `contact_id`, `opportunity_id` or `record_id`.
    pub id_field: String,
    /// Every field in the object's field order (SPEC §8): its standard fields (a custom
    /// object's primary field), then its custom fields in the order they were created. The
    /// id field comes first.
    pub fields: Vec<ObjectField>,
    /// The primary field: Opportunity Name, Company Name, a custom object's primary field.
    /// Contacts have none: their primary email and phone are identifiers.
    pub primary: Option<String>,
    /// Fields whose values find an existing record besides its id, in the order tried:
    /// contacts' email and phone (the location's match order may swap them); a company's or
    /// custom object's unique fields in field order; none for opportunities.
    pub identifiers: Vec<String>,
}

fn standard(
    f: &StandardField,
    primary: Option<&str>,
    never_cleared: &[&str],
    required: bool,
) -> ObjectField {
    let is_primary = primary == Some(f.key);
    ObjectField {
        key: f.key.to_string(),
        label: f.label.to_string(),
        kind: f.kind,
        options: f.options.iter().map(|o| o.to_string()).collect(),
        custom: false,
        custom_type: None,
        list: is_list(f.kind),
        required: is_primary && required,
        unique: false,
        never_cleared: is_primary || never_cleared.contains(&f.key),
    }
}

impl ObjectSchema {
    /// Contacts (SPEC §3) with the location's contact custom fields. Custom fields of a
    /// contact are never required or unique (SPEC §8 declares those on companies and custom
    /// objects only), whatever a definition says.
    pub fn contact(custom: &[CustomFieldDef]) -> ObjectSchema {
        let mut fields: Vec<ObjectField> = STANDARD_CONTACT_FIELDS
            .iter()
            .map(|f| standard(f, None, CONTACT_NEVER_CLEARED, false))
            .collect();
        fields.extend(custom.iter().map(|d| custom_field(d, false, false)));
        ObjectSchema {
            object: ObjectKind::Contact,
            name: "Contacts".into(),
            id_field: "contact_id".into(),
            fields,
            primary: None,
            identifiers: vec!["email".into(), "phone".into()],
        }
    }

    /// Opportunities (SPEC §7): Opportunity Name, Pipeline and Stage never become blank.
    pub fn opportunity(custom: &[CustomFieldDef]) -> ObjectSchema {
        let mut fields: Vec<ObjectField> = STANDARD_OPPORTUNITY_FIELDS
            .iter()
            .map(|f| standard(f, Some("opportunity_name"), &["pipeline", "stage"], false))
            .collect();
        fields.extend(custom.iter().map(|d| custom_field(d, false, false)));
        ObjectSchema {
            object: ObjectKind::Opportunity,
            name: "Opportunities".into(),
            id_field: "opportunity_id".into(),
            fields,
            primary: Some("opportunity_name".into()),
            identifiers: Vec::new(),
        }
    }

    /// Companies (SPEC §8): Company Name is primary and required; custom fields may be unique
    /// (not required: that is a custom object's).
    pub fn company(custom: &[CustomFieldDef]) -> ObjectSchema {
        let mut fields: Vec<ObjectField> = STANDARD_COMPANY_FIELDS
            .iter()
            .map(|f| standard(f, Some("company_name"), &[], true))
            .collect();
        fields.extend(custom.iter().map(|d| custom_field(d, true, false)));
        Self::records(
            ObjectKind::Company,
            "Companies".into(),
            fields,
            "company_name",
        )
    }

    /// A custom object (SPEC §8): Record ID, its primary field (text, required), then its
    /// custom fields, which may be unique and required.
    pub fn custom_object(def: &CustomObjectDef, custom: &[CustomFieldDef]) -> ObjectSchema {
        let mut fields = vec![
            ObjectField {
                key: RECORD_ID.into(),
                label: "Record ID".into(),
                kind: FieldKind::Id,
                options: Vec::new(),
                custom: false,
                custom_type: None,
                list: false,
                required: false,
                unique: false,
                never_cleared: false,
            },
            ObjectField {
                key: def.primary_key.clone(),
                label: def.primary_label.clone(),
                kind: FieldKind::Text,
                options: Vec::new(),
                custom: false,
                custom_type: None,
                list: false,
                required: true,
                unique: false,
                never_cleared: true,
            },
        ];
        fields.extend(custom.iter().map(|d| custom_field(d, true, true)));
        Self::records(
            ObjectKind::Custom(def.key.clone()),
            def.name.clone(),
            fields,
            &def.primary_key,
        )
    }

    fn records(
        object: ObjectKind,
        name: String,
        fields: Vec<ObjectField>,
        primary: &str,
    ) -> ObjectSchema {
        let identifiers = fields
            .iter()
            .filter(|f| f.unique)
            .map(|f| f.key.clone())
            .collect();
        ObjectSchema {
            object,
            name,
            id_field: RECORD_ID.into(),
            fields,
            primary: Some(primary.to_string()),
            identifiers,
        }
    }

    /// A field by key.
    pub fn field(&self, key: &str) -> Option<&ObjectField> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The label of a field by key (a message names its field by label).
    pub fn label(&self, key: &str) -> Option<&str> {
        self.field(key).map(|f| f.label.as_str())
    }

    /// Keys of the fields a blank never clears.
    pub fn never_cleared(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|f| f.never_cleared)
            .map(|f| f.key.as_str())
    }

    /// Whether a blank may never clear this field.
    pub fn is_never_cleared(&self, key: &str) -> bool {
        self.field(key).is_some_and(|f| f.never_cleared)
    }

    /// Keys of the fields the mapping must map (SPEC §8), in field order.
    pub fn required(&self) -> impl Iterator<Item = &ObjectField> {
        self.fields.iter().filter(|f| f.required)
    }

    /// Keys of the unique fields, in field order.
    pub fn unique(&self) -> impl Iterator<Item = &ObjectField> {
        self.fields.iter().filter(|f| f.unique)
    }

    /// What an import of this object must map before it can run (SPEC §8), in field order:
    /// each required field (the primary field, a custom object's required fields), and in
    /// Update mode Record ID or one of the unique fields — one requirement any of whose keys
    /// satisfies it, named "Record ID or Email or …". `mapped` says whether a key is mapped.
    pub fn import_requirements(
        &self,
        update: bool,
        mapped: impl Fn(&str) -> bool,
    ) -> Vec<Requirement> {
        let mut out: Vec<Requirement> = self
            .required()
            .map(|f| Requirement {
                label: f.label.clone(),
                keys: vec![f.key.clone()],
                mapped: mapped(&f.key),
            })
            .collect();
        if update {
            let keys: Vec<&ObjectField> = self
                .field(&self.id_field)
                .into_iter()
                .chain(self.unique())
                .collect();
            let labels: Vec<&str> = keys.iter().map(|f| f.label.as_str()).collect();
            out.push(Requirement {
                label: labels.join(" or "),
                keys: keys.iter().map(|f| f.key.clone()).collect(),
                mapped: keys.iter().any(|f| mapped(&f.key)),
            });
        }
        out
    }

    /// The dedupe field when the user chose none (SPEC §8): the first mapped unique field in
    /// field order; `None` when no unique field is mapped.
    pub fn default_dedupe(&self, mapped: impl Fn(&str) -> bool) -> Option<&ObjectField> {
        self.unique().find(|f| mapped(&f.key))
    }

    /// The fields a later line's decision reads, besides its fill-only fields: what a dry run
    /// carries from chunk to chunk — the identifiers, what names a record on a report line,
    /// and what a rule compares (a contact's Type of Contact).
    pub fn carried(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        let mut add = |k: &str| {
            if let Some(f) = self.field(k)
                && !keys.contains(&f.key.as_str())
            {
                keys.push(f.key.as_str());
            }
        };
        if self.object == ObjectKind::Contact {
            CONTACT_NAMING.iter().for_each(|k| add(k));
            CONTACT_DECIDING.iter().for_each(|k| add(k));
        }
        if let Some(p) = &self.primary {
            add(p);
        }
        for k in &self.identifiers {
            add(k);
        }
        // Keep them in field order, whatever order they were found in.
        keys.sort_by_key(|k| self.fields.iter().position(|f| f.key == *k));
        keys
    }
}

/// A field (or a choice of fields) an import must map (SPEC §8), as
/// [`ObjectSchema::import_requirements`] gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Requirement {
    /// How the admin knows it: a field's label, or "Record ID or Email" for a choice.
    pub label: String,
    /// The keys any of which satisfies it.
    pub keys: Vec<String>,
    /// Whether one of them is mapped.
    pub mapped: bool,
}

/// Contacts' schema without custom fields, built once: what holds for every location (a
/// contact's custom field is never required, unique or kept from a blank).
pub fn contact_standard() -> &'static ObjectSchema {
    static SCHEMA: std::sync::LazyLock<ObjectSchema> =
        std::sync::LazyLock::new(|| ObjectSchema::contact(&[]));
    &SCHEMA
}

fn custom_field(d: &CustomFieldDef, may_unique: bool, may_require: bool) -> ObjectField {
    let required = may_require && d.required;
    ObjectField {
        key: d.key.clone(),
        label: d.label.clone(),
        kind: d.field_type.kind(),
        options: d.options.clone(),
        custom: true,
        custom_type: Some(d.field_type),
        list: is_list(d.field_type.kind()),
        required,
        unique: may_unique && d.unique && may_be_unique(d.field_type),
        never_cleared: required,
    }
}

#[cfg(test)]
mod tests;
