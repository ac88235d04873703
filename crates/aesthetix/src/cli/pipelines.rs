//! `pipeline create` and `pipeline list` (SPEC §7, §13.1): a location's pipelines and their
//! stages in order. A blank or repeated name, or a pipeline the location has already
//! (compared ignoring case), is exit 1 with the reason on stderr.

use anyhow::bail;
use clap::Subcommand;
use serde_json::json;
use store::{Store, StoreError};

use super::location_by_name;

#[derive(Subcommand, Debug)]
pub(crate) enum PipelineCommand {
    /// Create a pipeline with its stages, in order.
    Create {
        #[arg(long)]
        location: String,
        #[arg(long)]
        name: String,
        /// A stage, in order; repeat for each (at least one).
        #[arg(long = "stage", required = true, num_args = 1..)]
        stages: Vec<String>,
    },
    /// List a location's pipelines with their stages in order.
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn pipeline(store: &Store, command: PipelineCommand) -> anyhow::Result<()> {
    match command {
        PipelineCommand::Create {
            location,
            name,
            stages,
        } => {
            let location = location_by_name(store, &location).await?;
            let pipeline = match store.create_pipeline(location.id, &name, &stages).await {
                Ok(p) => p,
                Err(StoreError::Invalid(why) | StoreError::Conflict(why)) => {
                    bail!("{why}; nothing was created")
                }
                Err(e) => return Err(e.into()),
            };
            println!(
                "Created pipeline '{}' in '{}' with {} stages: {}.",
                pipeline.name,
                location.name,
                pipeline.stages.len(),
                pipeline
                    .stages
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" → ")
            );
        }
        PipelineCommand::List { location, json } => {
            let location = location_by_name(store, &location).await?;
            let pipelines = store.pipelines(location.id).await?;
            if json {
                let out: Vec<serde_json::Value> = pipelines
                    .iter()
                    .map(|p| {
                        json!({
                            "id": p.id,
                            "name": p.name,
                            "stages": p.stages.iter().map(|s| json!({"id": s.id, "name": s.name})).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            if pipelines.is_empty() {
                println!(
                    "'{}' has no pipelines yet; create one with `aesthetix pipeline create --location NAME --name NAME --stage STAGE…`",
                    location.name
                );
            }
            for p in &pipelines {
                println!(
                    "{}: {}",
                    p.name,
                    p.stages
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" → ")
                );
            }
        }
    }
    Ok(())
}
