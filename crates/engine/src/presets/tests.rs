//! SPEC §11's presets: each exporter's example file (`testdata/presets/`, written from its
//! documentation) gets its preset and maps as documented; no two presets claim one file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use domain::field::{FieldKind, STANDARD_CONTACT_FIELDS, STARTER_CUSTOM_FIELDS, default_field_key};

use super::*;
use crate::mapping::{ColumnUse, MappingInput, Target, plan};

fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/engine sits two folders below the repository's root")
        .join("testdata")
        .join(relative)
}

/// The header row of an example file, read as the importer reads it.
fn example_headers(file: &str) -> Vec<String> {
    let path = testdata(&format!("presets/{file}"));
    let info = tabular::inspect(&path, &tabular::ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    info.columns.into_iter().map(|c| c.header).collect()
}

/// The starter custom fields every location has (SPEC §3), as the importer sees them.
fn starter_fields() -> Vec<Target> {
    STARTER_CUSTOM_FIELDS
        .iter()
        .map(|(label, ty)| Target {
            key: default_field_key(label),
            label: label.to_string(),
            kind: ty.kind(),
            options: vec![],
            custom: true,
        })
        .collect()
}

/// Header → field key (or "?" / "-", or `key.part`) of a file mapped with its preset.
fn mapped(headers: &[String], preset: &'static Preset) -> HashMap<String, String> {
    let custom = starter_fields();
    let proposal = plan::propose(&MappingInput {
        headers,
        standard: crate::mapping::contact_targets(),
        ignored: &vec![false; headers.len()],
        custom: &custom,
        preset: Some(preset),
        template: None,
        overrides: &[],
    })
    .unwrap();
    plan::resolve(proposal, &HashMap::new())
        .unwrap()
        .into_iter()
        .map(|p| {
            let key = match p.used {
                ColumnUse::Field(t) => t.key,
                ColumnUse::DatePart(t, part) => format!("{}.{}", t.key, part.words()),
                ColumnUse::Unmatched => "?".into(),
                ColumnUse::Ignored => "-".into(),
            };
            (p.header, key)
        })
        .collect()
}

/// An example file, the preset it must get, and what its columns must feed.
type Example = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Each example file: the preset it must get, and what its identity columns must feed.
const EXAMPLES: &[Example] = &[
    (
        "google-current.csv",
        "google",
        &[
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("E-mail 1 - Value", "email"),
            ("E-mail 2 - Value", "additional_emails"),
            ("E-mail 1 - Label", "?"),
            ("Phone 1 - Value", "phone"),
            ("Phone 2 - Value", "additional_phones"),
            ("Organization Name", "company_name"),
            ("Labels", "tags"),
            ("Birthday", "date_of_birth"),
            ("Address 1 - Region", "state"),
        ],
    ),
    (
        "google-old.csv",
        "google",
        &[
            ("Given Name", "first_name"),
            ("Family Name", "last_name"),
            ("E-mail 1 - Value", "email"),
            ("E-mail 1 - Type", "?"),
            ("Phone 1 - Value", "phone"),
            ("Phone 2 - Value", "additional_phones"),
            ("Organization 1 - Name", "company_name"),
            ("Group Membership", "tags"),
            ("Name", "?"),
        ],
    ),
    (
        "outlook.csv",
        "outlook",
        &[
            ("E-mail Address", "email"),
            ("E-mail 2 Address", "additional_emails"),
            ("Mobile Phone", "phone"),
            ("Primary Phone", "additional_phones"),
            ("Home Phone", "additional_phones"),
            ("Business Phone", "additional_phones"),
            ("Home Street", "address1"),
            ("Categories", "tags"),
            ("Business Street", "?"),
        ],
    ),
    (
        "thunderbird.csv",
        "thunderbird",
        &[
            ("Primary Email", "email"),
            ("Secondary Email", "additional_emails"),
            ("Mobile Number", "phone"),
            ("Work Phone", "additional_phones"),
            ("Home Phone", "additional_phones"),
            ("Birth Year", "date_of_birth.year"),
            ("Birth Month", "date_of_birth.month"),
            ("Birth Day", "date_of_birth.day"),
            ("Organization", "company_name"),
        ],
    ),
    (
        "apple.csv",
        "apple",
        &[
            ("Home Email", "email"),
            ("Work Email", "additional_emails"),
            ("iPhone", "phone"),
            ("Home Phone", "additional_phones"),
            ("Home ZIP", "postal_code"),
        ],
    ),
    (
        "zoho.csv",
        "zoho",
        &[
            ("Email", "email"),
            ("Secondary Email", "additional_emails"),
            ("Mobile", "phone"),
            ("Phone", "additional_phones"),
            ("Account Name", "company_name"),
            ("Email Opt Out", "dnd_email"),
            ("Mailing Street", "address1"),
            ("Lead Source", "source"),
            ("Record Id", "?"),
        ],
    ),
    (
        "hubspot.csv",
        "hubspot",
        &[
            ("Email", "email"),
            ("Mobile Phone Number", "phone"),
            ("Phone Number", "additional_phones"),
            ("Create Date", "created_at"),
            ("Original Source", "source"),
            ("Lifecycle Stage", "?"),
        ],
    ),
    (
        "mailchimp.csv",
        "mailchimp",
        &[
            ("Email Address", "email"),
            ("Phone Number", "phone"),
            ("TAGS", "tags"),
            ("TIMEZONE", "timezone"),
            ("CC", "country"),
            ("Birthday", "?"),
            ("MEMBER_RATING", "?"),
        ],
    ),
    (
        "square.csv",
        "square",
        &[
            ("Email Address", "email"),
            ("Phone Number", "phone"),
            ("Street Address 1", "address1"),
            ("Memo", "note"),
            ("Email Subscription Status", "status"),
            ("Square Customer ID", "?"),
        ],
    ),
    (
        "mindbody.csv",
        "mindbody",
        &[
            ("Email", "email"),
            ("Mobile Phone", "phone"),
            ("Home Phone", "additional_phones"),
            ("Birth Date", "date_of_birth"),
            ("Referred By", "source"),
            ("Creation Date", "created_at"),
            // A skipped column with a standard field's very name maps by its name; its values
            // (Active) then keep it out (SPEC §6.1, `mapping::fit`).
            ("Status", "status"),
        ],
    ),
    (
        "boulevard.csv",
        "boulevard",
        &[
            ("Email", "email"),
            ("Mobile Phone", "phone"),
            ("Referral Source", "source"),
            ("Tags", "tags"),
            ("Pronoun", "?"),
        ],
    ),
    (
        "zenoti.csv",
        "zenoti",
        &[
            ("Email", "email"),
            ("Mobile Phone", "phone"),
            ("Date of Birth", "date_of_birth"),
            ("Address 1", "address1"),
            ("Guest Code", "?"),
        ],
    ),
    (
        "vagaro.csv",
        "vagaro",
        &[
            ("Email", "email"),
            ("Mobile Phone", "phone"),
            ("Day Phone", "additional_phones"),
            ("Customer Since", "patient_since"),
            ("General Tags", "tags"),
        ],
    ),
    (
        "nextech.csv",
        "nextech",
        &[
            ("Email", "email"),
            ("Cell Phone", "phone"),
            ("Home Phone", "additional_phones"),
            ("Next Appointment", "next_appointment"),
            ("Procedure Date", "procedure_date"),
            ("Patient ID", "?"),
        ],
    ),
];

#[test]
fn every_example_file_gets_its_preset_and_maps_as_documented() {
    for (file, key, expected) in EXAMPLES {
        let headers = example_headers(file);
        let claimed: Vec<&str> = claims(&headers).iter().map(|p| p.key).collect();
        assert_eq!(claimed, [*key], "{file} is claimed by {claimed:?}");
        let preset = detect(&headers).unwrap();
        assert_eq!(
            preset.looks_like(),
            format!("Looks like a {} export", preset.name)
        );
        let mapped = mapped(&headers, preset);
        for (header, want) in *expected {
            assert_eq!(
                mapped.get(*header).map(String::as_str),
                Some(*want),
                "{file}: {header}"
            );
        }
        // Every column of the example is one the preset knows.
        for h in &headers {
            assert!(
                preset.column(h).is_some(),
                "{file}: {h} is not in the preset"
            );
        }
    }
    // Every preset has an example.
    for p in PRESETS {
        assert!(
            EXAMPLES.iter().any(|(_, key, _)| *key == p.key),
            "{} has no example file",
            p.key
        );
    }
}

#[test]
fn no_two_presets_claim_the_same_file() {
    for p in PRESETS {
        // A file holding every column the exporter documents…
        let all: Vec<String> = p.columns.iter().map(|(h, _)| h.to_string()).collect();
        let claimed: Vec<&str> = claims(&all).iter().map(|q| q.key).collect();
        assert_eq!(claimed, [p.key], "{}'s full column list", p.key);
        // …and each of its signatures alone.
        for set in p.signatures {
            let only: Vec<String> = set.iter().map(|h| h.to_string()).collect();
            let claimed: Vec<&str> = claims(&only).iter().map(|q| q.key).collect();
            assert_eq!(claimed, [p.key], "{}'s signature {set:?}", p.key);
        }
    }
    // Our own export (every standard label and the starter fields) is no exporter's.
    let ours: Vec<String> = STANDARD_CONTACT_FIELDS
        .iter()
        .map(|f| f.label.to_string())
        .chain(STARTER_CUSTOM_FIELDS.iter().map(|(l, _)| l.to_string()))
        .collect();
    assert!(claims(&ours).is_empty(), "{:?}", claims(&ours));
}

#[test]
fn presets_name_real_fields() {
    let starter = starter_fields();
    for p in PRESETS {
        assert!(!p.signatures.is_empty(), "{}", p.key);
        for (h, col) in p.columns {
            let key = match col {
                Col::Field(k) | Col::Part(k, _) => *k,
                Col::Mobile | Col::Skip => continue,
            };
            let kind = STANDARD_CONTACT_FIELDS
                .iter()
                .find(|f| f.key == key)
                .map(|f| f.kind)
                .or_else(|| starter.iter().find(|t| t.key == key).map(|t| t.kind));
            assert!(kind.is_some(), "{}: {h} → {key} is no field", p.key);
            if let Col::Part(..) = col {
                assert_eq!(kind, Some(FieldKind::Date), "{}: {h}", p.key);
            }
        }
        // Each header once.
        for (i, (h, _)) in p.columns.iter().enumerate() {
            assert!(
                !p.columns[..i]
                    .iter()
                    .any(|(g, _)| normalise_header(g) == normalise_header(h)),
                "{}: {h} twice",
                p.key
            );
        }
    }
}

#[test]
fn vagaro_and_nextech_carry_the_references_settings() {
    for key in ["vagaro", "nextech"] {
        let s = by_name(key).unwrap().settings;
        assert_eq!(s.contact_type, Some("Patient"));
        assert_eq!(s.mode, Some(Mode::Upsert));
        assert_eq!(s.no_update_empty, Some(false));
    }
    assert_eq!(
        by_name("vagaro").unwrap().settings.tags,
        ["patient", "send review"]
    );
    assert!(by_name("google").unwrap().settings.tags.is_empty());
}

#[test]
fn choosing_a_preset() {
    assert_eq!(PresetChoice::parse(None), Ok(PresetChoice::Detect));
    assert_eq!(PresetChoice::parse(Some("none")), Ok(PresetChoice::None));
    assert_eq!(
        PresetChoice::parse(Some("Google Contacts"))
            .unwrap()
            .token(),
        Some("google")
    );
    assert_eq!(
        PresetChoice::parse(Some("VAGARO")).unwrap(),
        PresetChoice::Named(by_name("vagaro").unwrap())
    );
    let err = PresetChoice::parse(Some("salesforce")).unwrap_err();
    assert!(err.contains("google") && err.contains("nextech"), "{err}");
    let google = example_headers("google-old.csv");
    assert_eq!(PresetChoice::None.resolve(&google), None);
    assert_eq!(
        PresetChoice::Detect.resolve(&google).map(|p| p.key),
        Some("google")
    );
}
