//! Defining objects and fields (SPEC §8, §13.1): what a new custom object or custom field must
//! satisfy, checked once here for every front end (`object create` / `field create` and the
//! Settings pages). A refusal is a sentence a user can act on, without the front end's syntax
//! (the CLI's flags or the page's boxes); each front end may add its own hint.

use super::{CustomFieldDef, CustomObjectDef, ObjectSchema, RECORD_ID, may_be_unique};
use crate::field::{CustomFieldType, ObjectKind, default_field_key};

/// Whether a key keeps SPEC §13.1's rule: lower-case letters, digits and `_`.
pub fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.chars().all(|c| c == '_' || c.is_alphanumeric())
        && !key.chars().any(char::is_uppercase)
}

/// The keys of the standard objects, which a custom object may not take.
const STANDARD_OBJECT_KEYS: [&str; 6] = [
    "contact",
    "contacts",
    "opportunity",
    "opportunities",
    "company",
    "companies",
];

/// A new custom object from its name, its primary field's label and an optional key (the
/// name's key by default), or why it cannot be defined.
pub fn check_object(
    name: &str,
    primary_label: &str,
    key: Option<&str>,
) -> Result<CustomObjectDef, String> {
    if name.trim().is_empty() {
        return Err("the object needs a name, such as Treatments".into());
    }
    if primary_label.trim().is_empty() {
        return Err(
            "the object needs its primary field's label, such as Treatment Name: it names each record"
                .into(),
        );
    }
    let key = key.map(str::trim).filter(|k| !k.is_empty());
    let def = CustomObjectDef::new(name, primary_label, key);
    if !is_key(&def.key) {
        return Err(format!(
            "the object key '{}' must be lower-case letters, digits and '_' (for example treatments)",
            def.key
        ));
    }
    if STANDARD_OBJECT_KEYS.contains(&def.key.as_str()) {
        return Err(format!(
            "'{}' names a standard object; choose another key for the custom object",
            def.key
        ));
    }
    if def.primary_key.is_empty() {
        return Err(format!(
            "the primary field's label '{}' gives no key: use letters or digits",
            def.primary_label
        ));
    }
    if def.primary_key == RECORD_ID {
        return Err("'Record ID' is every record's id; name the primary field otherwise".into());
    }
    Ok(def)
}

/// A custom field as a user asks for it.
#[derive(Debug, Clone)]
pub struct FieldRequest {
    pub label: String,
    /// The key, when the user gives one; else the label's.
    pub key: Option<String>,
    pub field_type: CustomFieldType,
    /// The allowed options, as given (trimmed here; blanks dropped).
    pub options: Vec<String>,
    pub unique: bool,
    pub required: bool,
}

/// A new custom field of the object `schema` describes, or why it cannot be defined (SPEC §8:
/// unique on companies and custom objects, for text, email, phone or number fields; required
/// on custom objects only; options for option fields only, each once; a key of its own).
pub fn check_field(schema: &ObjectSchema, request: FieldRequest) -> Result<CustomFieldDef, String> {
    let label = request.label.trim();
    if label.is_empty() {
        return Err("the field needs a label, such as Skin Type".into());
    }
    let key = request
        .key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map_or_else(|| default_field_key(label), str::to_string);
    if key.is_empty() {
        return Err(format!(
            "the label '{label}' gives no key: use at least one letter or digit"
        ));
    }
    if !is_key(&key) {
        return Err(format!(
            "the field key '{key}' must be lower-case letters, digits and '_' (for example patient_since)"
        ));
    }
    let field_type = request.field_type;
    let records = matches!(schema.object, ObjectKind::Company | ObjectKind::Custom(_));
    if request.unique && !records {
        return Err(format!(
            "only fields of companies and custom objects can be unique; {} records are matched on their own identifiers",
            object_word(&schema.object)
        ));
    }
    if request.unique && !may_be_unique(field_type) {
        return Err(format!(
            "a {field_type} field cannot be unique; unique fields are text, email, phone or number"
        ));
    }
    if request.required && !matches!(schema.object, ObjectKind::Custom(_)) {
        return Err(format!(
            "only fields of a custom object can be required; on {} records the standard fields say what a record needs",
            object_word(&schema.object)
        ));
    }
    if let Some(f) = schema.field(&key) {
        return Err(if f.custom {
            format!(
                "a field with the key '{key}' already exists ({}); choose another label or key",
                f.label
            )
        } else {
            format!(
                "'{key}' is the key of a standard {} field ({}); choose another label or key",
                object_word(&schema.object),
                f.label
            )
        });
    }
    if key == RECORD_ID {
        return Err("'Record ID' is every record's id; choose another label or key".into());
    }
    let options: Vec<String> = request
        .options
        .iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    if field_type.has_options() && options.is_empty() {
        return Err(format!(
            "a {field_type} field needs its allowed values: give each option"
        ));
    }
    if !field_type.has_options() && !options.is_empty() {
        return Err(format!(
            "a {field_type} field has no options; leave the options out"
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = options.iter().find(|o| !seen.insert(o.to_lowercase())) {
        return Err(format!("the option '{dup}' is given twice"));
    }
    Ok(CustomFieldDef {
        key,
        label: label.to_string(),
        field_type,
        options,
        required: request.required,
        unique: request.unique,
    })
}

/// A field as `object list --json` and the API describe it.
#[derive(Debug, serde::Serialize)]
pub struct FieldDescription<'a> {
    pub key: &'a str,
    pub label: &'a str,
    #[serde(rename = "type")]
    pub field_type: &'static str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub options: &'a [String],
    pub required: bool,
    pub unique: bool,
}

/// A key and label.
#[derive(Debug, serde::Serialize)]
pub struct PrimaryDescription<'a> {
    pub key: &'a str,
    pub label: &'a str,
}

/// An object as `object list --json` and the API describe it: its key (`treatments`,
/// `company`), name, primary field and custom fields in order.
#[derive(Debug, serde::Serialize)]
pub struct ObjectDescription<'a> {
    pub key: String,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<PrimaryDescription<'a>>,
    pub fields: Vec<FieldDescription<'a>>,
}

/// The description of an object's schema.
pub fn describe(schema: &ObjectSchema) -> ObjectDescription<'_> {
    ObjectDescription {
        key: object_word(&schema.object).to_string(),
        name: &schema.name,
        primary: schema
            .primary
            .as_deref()
            .and_then(|p| schema.field(p))
            .map(|f| PrimaryDescription {
                key: &f.key,
                label: &f.label,
            }),
        fields: schema
            .fields
            .iter()
            .filter(|f| f.custom)
            .map(|f| FieldDescription {
                key: &f.key,
                label: &f.label,
                field_type: f.custom_type.map(|t| t.token()).unwrap_or_default(),
                options: &f.options,
                required: f.required,
                unique: f.unique,
            })
            .collect(),
    }
}

/// An object as a sentence names it (`contact`, `company`, a custom object's key).
fn object_word(object: &ObjectKind) -> &str {
    match object {
        ObjectKind::Contact => "contact",
        ObjectKind::Opportunity => "opportunity",
        ObjectKind::Company => "company",
        ObjectKind::Custom(k) => k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(label: &str, t: CustomFieldType, unique: bool, required: bool) -> FieldRequest {
        FieldRequest {
            label: label.into(),
            key: None,
            field_type: t,
            options: Vec::new(),
            unique,
            required,
        }
    }

    fn treatments() -> ObjectSchema {
        let def = CustomObjectDef::new("Treatments", "Treatment Name", None);
        let sku = CustomFieldDef {
            key: "sku".into(),
            label: "SKU".into(),
            field_type: CustomFieldType::Text,
            options: Vec::new(),
            required: false,
            unique: true,
        };
        ObjectSchema::custom_object(&def, &[sku])
    }

    /// (name, primary, key, Ok(key, primary key) or the words of the refusal)
    type ObjectCase = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Result<(&'static str, &'static str), &'static str>,
    );

    #[test]
    fn objects() {
        let cases: [ObjectCase; 8] = [
            (
                "Treatments",
                "Treatment Name",
                None,
                Ok(("treatments", "treatment_name")),
            ),
            ("Gift Cards", "Code", Some("cards"), Ok(("cards", "code"))),
            ("  ", "X", None, Err("needs a name")),
            ("T", " ", None, Err("primary field's label")),
            ("T", "X", Some("Bad Key"), Err("lower-case")),
            ("Company", "X", None, Err("standard object")),
            ("Contacts", "X", None, Err("standard object")),
            ("T", "Record ID", None, Err("Record ID")),
        ];
        for (name, primary, key, want) in cases {
            let got = check_object(name, primary, key);
            match (want, got) {
                (Ok((k, p)), Ok(def)) => {
                    assert_eq!((def.key.as_str(), def.primary_key.as_str()), (k, p))
                }
                (Err(says), Err(e)) => assert!(e.contains(says), "{name}: {e}"),
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn fields() {
        use CustomFieldType as T;
        let contact = ObjectSchema::contact(&[]);
        let company = ObjectSchema::company(&[]);
        let custom = treatments();
        // (schema, request, Ok(key) or the words of the refusal)
        let cases: Vec<(&ObjectSchema, FieldRequest, Result<&str, &str>)> = vec![
            (
                &contact,
                request("Skin Type", T::Text, false, false),
                Ok("skin_type"),
            ),
            (&company, request("NPI", T::Number, true, false), Ok("npi")),
            (
                &custom,
                request("Price", T::Monetary, false, true),
                Ok("price"),
            ),
            (&custom, request("Code", T::Email, true, true), Ok("code")),
            (
                &contact,
                request("Code", T::Text, true, false),
                Err("companies and custom objects"),
            ),
            (
                &custom,
                request("Notes", T::LargeText, true, false),
                Err("cannot be unique"),
            ),
            (
                &company,
                request("Since", T::Date, true, false),
                Err("cannot be unique"),
            ),
            (
                &company,
                request("Tier", T::Text, false, true),
                Err("custom object"),
            ),
            (
                &contact,
                request("Tier", T::Text, false, true),
                Err("custom object"),
            ),
            (
                &company,
                request("Website", T::Text, false, false),
                Err("standard company field"),
            ),
            (
                &contact,
                request("Email", T::Email, false, false),
                Err("standard contact field"),
            ),
            (
                &custom,
                request("SKU", T::Text, false, false),
                Err("already exists"),
            ),
            (
                &custom,
                request("Treatment Name", T::Text, false, false),
                Err("standard treatments field"),
            ),
            (
                &company,
                request("Record ID", T::Text, false, false),
                Err("Record ID"),
            ),
            (
                &contact,
                request("!!", T::Text, false, false),
                Err("no key"),
            ),
            (
                &contact,
                request(" ", T::Text, false, false),
                Err("needs a label"),
            ),
            (
                &contact,
                request("Kind", T::SingleOption, false, false),
                Err("allowed values"),
            ),
        ];
        for (schema, req, want) in cases {
            let label = req.label.clone();
            match (want, check_field(schema, req)) {
                (Ok(k), Ok(def)) => assert_eq!(def.key, k, "{label}"),
                (Err(says), Err(e)) => assert!(e.contains(says), "{label}: {e}"),
                (want, got) => panic!("{label}: wanted {want:?}, got {got:?}"),
            }
        }
        let mut with_options = request("Kind", T::Text, false, false);
        with_options.options = vec!["A".into()];
        assert!(
            check_field(&contact, with_options)
                .unwrap_err()
                .contains("has no options")
        );
        let mut twice = request("Kind", T::SingleOption, false, false);
        twice.options = vec![" A ".into(), "".into(), "a".into()];
        assert!(
            check_field(&contact, twice)
                .unwrap_err()
                .contains("'a' is given twice")
        );
        let mut options = request("Kind", T::SingleOption, false, false);
        options.options = vec![" Dry ".into(), "".into(), "Oily".into()];
        assert_eq!(
            check_field(&contact, options).unwrap().options,
            ["Dry", "Oily"]
        );
        let mut keyed = request("Patient Since", T::Date, false, false);
        keyed.key = Some("Since Date".into());
        assert!(
            check_field(&contact, keyed)
                .unwrap_err()
                .contains("lower-case")
        );
    }
}
