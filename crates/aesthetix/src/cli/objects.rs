//! `object create` / `object list` (SPEC §8, §13.1): a location's custom objects.

use clap::Subcommand;
use domain::{ObjectKind, ObjectSchema};
use serde::Serialize;
use store::Store;

use super::location_by_name;

#[derive(Subcommand, Debug)]
pub(crate) enum ObjectCommand {
    /// Define a custom object: a name, a primary field (text) and, with `field create
    /// --object KEY`, custom fields.
    Create {
        #[arg(long)]
        location: String,
        /// The object's name, as Bulk Actions and the pages show it (`Treatments`).
        #[arg(long)]
        name: String,
        /// The primary field's label (`Treatment Name`); its key follows the key rule.
        #[arg(long)]
        primary: String,
        /// The object's key (`import records --object KEY`); defaults to the name in lower
        /// case with other characters as `_`.
        #[arg(long)]
        key: Option<String>,
    },
    /// List a location's custom objects with their fields.
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct FieldOut<'a> {
    key: &'a str,
    label: &'a str,
    #[serde(rename = "type")]
    field_type: &'static str,
    required: bool,
    unique: bool,
}

#[derive(Serialize)]
struct ObjectOut<'a> {
    key: String,
    name: &'a str,
    primary: PrimaryOut<'a>,
    fields: Vec<FieldOut<'a>>,
}

#[derive(Serialize)]
struct PrimaryOut<'a> {
    key: &'a str,
    label: &'a str,
}

fn describe(schema: &ObjectSchema) -> ObjectOut<'_> {
    let key = match &schema.object {
        ObjectKind::Custom(k) => k.clone(),
        other => other.as_stored(),
    };
    let primary = schema
        .primary
        .as_deref()
        .and_then(|p| schema.field(p))
        .expect("a custom object has its primary field");
    ObjectOut {
        key,
        name: &schema.name,
        primary: PrimaryOut {
            key: &primary.key,
            label: &primary.label,
        },
        fields: schema
            .fields
            .iter()
            .filter(|f| f.custom)
            .map(|f| FieldOut {
                key: &f.key,
                label: &f.label,
                field_type: f.custom_type.map(|t| t.token()).unwrap_or_default(),
                required: f.required,
                unique: f.unique,
            })
            .collect(),
    }
}

pub(crate) async fn object(store: &Store, command: ObjectCommand) -> anyhow::Result<()> {
    match command {
        ObjectCommand::Create {
            location,
            name,
            primary,
            key,
        } => {
            let location = location_by_name(store, &location).await?;
            let def = domain::object::define::check_object(&name, &primary, key.as_deref())
                .map_err(anyhow::Error::msg)?;
            let made = store.create_custom_object(location.id, &def).await?;
            println!(
                "Created object '{}' (key {}, primary field {} ({})) in '{}'.",
                made.def.name,
                made.def.key,
                made.def.primary_label,
                made.def.primary_key,
                location.name
            );
        }
        ObjectCommand::List { location, json } => {
            let location = location_by_name(store, &location).await?;
            let mut schemas = Vec::new();
            for o in store.custom_objects(location.id).await? {
                schemas.push(
                    store
                        .object_schema(location.id, &ObjectKind::Custom(o.def.key))
                        .await?,
                );
            }
            let all: Vec<ObjectOut> = schemas.iter().map(describe).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            if all.is_empty() {
                println!(
                    "'{}' has no custom objects; define one with `aesthetix object create`.",
                    location.name
                );
            }
            for o in &all {
                let fields: Vec<String> = o
                    .fields
                    .iter()
                    .map(|f| {
                        let mut marks = Vec::new();
                        if f.required {
                            marks.push("required");
                        }
                        if f.unique {
                            marks.push("unique");
                        }
                        if marks.is_empty() {
                            format!("{} ({}, {})", f.label, f.key, f.field_type)
                        } else {
                            format!(
                                "{} ({}, {}, {})",
                                f.label,
                                f.key,
                                f.field_type,
                                marks.join(", ")
                            )
                        }
                    })
                    .collect();
                println!(
                    "{} — {}: primary field {} ({}){}",
                    o.key,
                    o.name,
                    o.primary.label,
                    o.primary.key,
                    if fields.is_empty() {
                        String::new()
                    } else {
                        format!("; fields: {}", fields.join("; "))
                    }
                );
            }
        }
    }
    Ok(())
}
