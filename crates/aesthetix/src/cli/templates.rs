//! `template save --from-job` and `template list` (SPEC §11, §13.1): an import's choices saved
//! under a name for the next file, listed beside the built-in exporters' presets.

use clap::Subcommand;
use jobs::templates::{self, TemplateError};
use store::Store;

use super::location_by_name;

#[derive(Subcommand, Debug)]
pub(crate) enum TemplateCommand {
    /// Save an import's choices (mapping by header, value mappings, fill-only columns, mode and
    /// options, tags, workflow) under a name; apply them later with `import contacts
    /// --template NAME`. Saving a name again replaces it.
    Save {
        #[arg(long)]
        location: String,
        #[arg(long)]
        name: String,
        /// The import job to take the choices from (see `aesthetix jobs list`).
        #[arg(long = "from-job", value_name = "JOB")]
        from_job: i64,
    },
    /// The location's templates, then the built-in presets (marked built-in).
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
}

fn plain(e: TemplateError) -> anyhow::Error {
    match e {
        TemplateError::Store(s) if s.is_not_found() => anyhow::anyhow!("{s}"),
        other => anyhow::anyhow!("{other}"),
    }
}

pub(crate) async fn template(store: &Store, command: TemplateCommand) -> anyhow::Result<()> {
    match command {
        TemplateCommand::Save {
            location,
            name,
            from_job,
        } => {
            let location = location_by_name(store, &location).await?;
            if store.job_location(from_job).await.ok() != Some(location.id) {
                anyhow::bail!(
                    "there is no job {from_job} in '{}'; see `aesthetix jobs list --location {}`",
                    location.name,
                    location.name
                );
            }
            let replaced = templates::save_from_job(store, location.id, from_job, &name)
                .await
                .map_err(plain)?;
            println!(
                "{} template '{}' from job {from_job}; apply it with --template '{}'.",
                if replaced { "Replaced" } else { "Saved" },
                name.trim(),
                name.trim()
            );
        }
        TemplateCommand::List { location, json } => {
            let location = location_by_name(store, &location).await?;
            let all = templates::list(store, location.id).await.map_err(plain)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            for t in &all {
                if t.builtin {
                    println!(
                        "{} (built-in preset; --preset {}): {}",
                        t.name,
                        t.key.as_deref().unwrap_or_default(),
                        t.description
                    );
                } else {
                    println!(
                        "{}{}: {}",
                        t.name,
                        t.from_job
                            .map(|j| format!(" (from job {j})"))
                            .unwrap_or_default(),
                        t.description
                    );
                }
            }
        }
    }
    Ok(())
}
