//! `object create` / `object list` (SPEC §8, §13.1): a location's custom objects.

use clap::Subcommand;
use domain::ObjectKind;
use domain::object::define::describe;
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
            let all: Vec<_> = schemas.iter().map(describe).collect();
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
                let (primary_label, primary_key) =
                    o.primary.as_ref().map_or(("", ""), |p| (p.label, p.key));
                println!(
                    "{} — {}: primary field {} ({}){}",
                    o.key,
                    o.name,
                    primary_label,
                    primary_key,
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
