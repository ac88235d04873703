//! `smart-list`, `workflow`, `outbox` and `apikey` (SPEC §13.1), and the workflow runtime
//! loop `serve` runs.
//!
//! A bad filter, trigger or action, or an unknown location, list or workflow, is exit 1 with
//! the reason on stderr (the caller prints the error); clap's own usage errors are exit 2.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use store::{NewWorkflow, Store, WorkflowStatus, parse_action, parse_filter, parse_trigger};

use super::location_by_name;

#[derive(Subcommand, Debug)]
pub(crate) enum SmartListCommand {
    /// Save a Smart List: contacts matching every --filter.
    Create {
        #[arg(long)]
        location: String,
        #[arg(long)]
        name: String,
        /// A filter (all must hold): tag=VIP, type=Patient, status=Subscribed, dnd=false,
        /// dnd_sms=false, verification!=invalid, source=Facebook, has=email,
        /// created_after=2024-01-01, created_before=…, import=JOB, field.KEY=VALUE.
        #[arg(long = "filter", required = true, num_args = 1..)]
        filters: Vec<String>,
    },
    /// List a location's Smart Lists with each one's contact count.
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a Smart List (the built-in ones cannot be deleted).
    Delete {
        #[arg(long)]
        location: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum WorkflowCommand {
    /// Define a workflow: a trigger and ordered actions, or a built-in --template. It is
    /// active unless --status says otherwise.
    Create {
        #[arg(long)]
        location: String,
        #[arg(
            long,
            required_unless_present = "template",
            conflicts_with = "template"
        )]
        name: Option<String>,
        /// tag-added:TAG, contact-created or import.
        #[arg(
            long,
            required_unless_present = "template",
            conflicts_with = "template"
        )]
        trigger: Option<String>,
        /// add-tag:TAG, remove-tag:TAG, send-sms:TEXT, send-email:SUBJECT|BODY,
        /// move-opportunity:PIPELINE/STAGE:DATE_FIELD; repeat, in order.
        #[arg(
            long = "action",
            num_args = 1..,
            required_unless_present = "template",
            conflicts_with = "template"
        )]
        actions: Vec<String>,
        /// A built-in workflow: nextech-reconciliation (SPEC §11).
        #[arg(long)]
        template: Option<String>,
        /// The pipeline a template moves opportunities in (default: Surgical Journey, made
        /// when missing).
        #[arg(long, requires = "template")]
        pipeline: Option<String>,
        /// active (fires at once), paused or draft (fire nothing until made active).
        #[arg(long, default_value = "active")]
        status: String,
    },
    /// List a location's workflows.
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a workflow active, paused or draft. Paused and draft workflows fire nothing and
    /// their enrolled contacts wait.
    SetStatus {
        #[arg(long)]
        location: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        status: String,
    },
    /// Run the due workflow steps now (of one location, or all), as `serve` does every few
    /// seconds.
    Run {
        #[arg(long)]
        location: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum OutboxCommand {
    /// Messages the workflows queued (and the ones they suppressed, with the reason).
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum ApikeyCommand {
    /// Make an API key for a location's integrations; it is printed once (stored hashed).
    Create {
        #[arg(long)]
        location: String,
    },
    /// Revoke a location's API key at once, by its prefix (the 8 characters after `ax_`).
    Revoke {
        #[arg(long)]
        location: String,
        key_prefix: String,
    },
    /// List a location's API keys (prefixes only; keys are never shown again).
    List {
        #[arg(long)]
        location: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum WebhookCommand {
    /// Make an inbound webhook for a location (SPEC §12): its secret path is printed once.
    Create {
        #[arg(long)]
        location: String,
    },
}

pub(crate) async fn webhook(store: &Store, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Create { location } => {
            let location = location_by_name(store, &location).await?;
            let (path, _) = web::create_webhook(store, location.id).await?;
            eprintln!(
                "A webhook for '{}'. POST a contact's fields (JSON or a form) to this path of the server; it is shown only this once:",
                location.name
            );
            println!("{path}");
        }
    }
    Ok(())
}

/// Milliseconds since the epoch as an RFC 3339 UTC time.
fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_else(|_| ms.to_string())
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub(crate) async fn smart_list(store: &Store, command: SmartListCommand) -> anyhow::Result<()> {
    match command {
        SmartListCommand::Create {
            location,
            name,
            filters,
        } => {
            let location = location_by_name(store, &location).await?;
            let name = name.trim();
            if name.is_empty() {
                bail!("--name must not be blank");
            }
            let filters = filters
                .iter()
                .map(|f| parse_filter(f))
                .collect::<Result<Vec<_>, _>>()
                .context("--filter")?;
            let list = store.create_smart_list(location.id, name, &filters).await?;
            let count = store.smart_list_count(location.id, &list).await?;
            println!(
                "Created Smart List '{}' in '{}' ({}): {count} contacts.",
                list.name,
                location.name,
                list.filter_exprs().join(", ")
            );
        }
        SmartListCommand::List { location, json } => {
            let location = location_by_name(store, &location).await?;
            let lists = store.smart_lists(location.id).await?;
            if json {
                return print_json(&serde_json::Value::Array(
                    lists
                        .iter()
                        .map(|(l, count)| {
                            json!({
                                "id": l.id,
                                "name": l.name,
                                "builtin": l.builtin,
                                "filters": l.filter_exprs(),
                                "count": count,
                            })
                        })
                        .collect(),
                ));
            }
            let width = lists.iter().map(|(l, _)| l.name.len()).max().unwrap_or(4);
            println!("{:width$}  {:>8}  FILTERS", "NAME", "CONTACTS");
            for (l, count) in &lists {
                let builtin = if l.builtin { "  (built-in)" } else { "" };
                println!(
                    "{:width$}  {count:>8}  {}{builtin}",
                    l.name,
                    l.filter_exprs().join(" ")
                );
            }
        }
        SmartListCommand::Delete { location, name } => {
            let location = location_by_name(store, &location).await?;
            store.delete_smart_list(location.id, &name).await?;
            println!("Deleted Smart List '{name}' of '{}'.", location.name);
        }
    }
    Ok(())
}

pub(crate) async fn workflow(store: &Store, command: WorkflowCommand) -> anyhow::Result<()> {
    match command {
        WorkflowCommand::Create {
            location,
            template: Some(template),
            pipeline,
            ..
        } => {
            let location = location_by_name(store, &location).await?;
            let (w, p, made) = match jobs::workflow_templates::create_from_template(
                store,
                location.id,
                &template,
                pipeline.as_deref(),
            )
            .await
            {
                Ok(done) => done,
                Err(jobs::workflow_templates::TemplateError::Refused(why)) => {
                    bail!("{why}; nothing was created")
                }
                Err(e) => return Err(e.into()),
            };
            if made {
                println!(
                    "Created pipeline '{}' with its stages: {}.",
                    p.name,
                    p.stages
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" → ")
                );
            }
            println!(
                "Created workflow '{}' in '{}' ({}): on {}, moves opportunities in '{}':",
                w.name, location.name, w.status, w.trigger, p.name
            );
            for (i, a) in w.actions.iter().enumerate() {
                println!("  {}. {a}", i + 1);
            }
            println!(
                "Import with --workflow \"{}\" to run it on the file's contacts.",
                w.name
            );
        }
        WorkflowCommand::Create {
            location,
            name,
            trigger,
            actions,
            status,
            ..
        } => {
            let location = location_by_name(store, &location).await?;
            let name = name.unwrap_or_default();
            let name = name.trim();
            if name.is_empty() {
                bail!("--name must not be blank");
            }
            let trigger = parse_trigger(&trigger.unwrap_or_default()).context("--trigger")?;
            let actions = actions
                .iter()
                .map(|a| parse_action(a))
                .collect::<Result<Vec<_>, _>>()
                .context("--action")?;
            let status: WorkflowStatus = status
                .parse()
                .map_err(anyhow::Error::msg)
                .context("--status")?;
            let w = store
                .create_workflow(
                    location.id,
                    &NewWorkflow {
                        name: name.to_string(),
                        trigger,
                        status,
                        actions,
                    },
                )
                .await?;
            println!(
                "Created workflow '{}' in '{}' ({}): on {}, {} action{}.",
                w.name,
                location.name,
                w.status,
                w.trigger,
                w.actions.len(),
                if w.actions.len() == 1 { "" } else { "s" }
            );
        }
        WorkflowCommand::List { location, json } => {
            let location = location_by_name(store, &location).await?;
            let workflows = store.workflows(location.id).await?;
            if json {
                return print_json(&serde_json::Value::Array(
                    workflows
                        .iter()
                        .map(|s| {
                            let w = &s.workflow;
                            json!({
                                "id": w.id,
                                "name": w.name,
                                "trigger": w.trigger.to_string(),
                                "status": w.status.as_str(),
                                "actions": w.actions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                                "enrolled": s.enrolled,
                                "completed": s.completed,
                            })
                        })
                        .collect(),
                ));
            }
            for s in &workflows {
                let w = &s.workflow;
                println!(
                    "{} [{}] on {} — {} enrolled, {} completed",
                    w.name, w.status, w.trigger, s.enrolled, s.completed
                );
                for (i, a) in w.actions.iter().enumerate() {
                    println!("  {}. {a}", i + 1);
                }
            }
            if workflows.is_empty() {
                println!("No workflows in '{}'.", location.name);
            }
        }
        WorkflowCommand::SetStatus {
            location,
            name,
            status,
        } => {
            let location = location_by_name(store, &location).await?;
            let status: WorkflowStatus = status
                .parse()
                .map_err(anyhow::Error::msg)
                .context("--status")?;
            let w = store.workflow_by_name(location.id, &name).await?;
            store.set_workflow_status(location.id, w.id, status).await?;
            println!("Workflow '{}' is now {status}.", w.name);
        }
        WorkflowCommand::Run { location } => {
            let location = match location {
                Some(name) => Some(location_by_name(store, &name).await?.id),
                None => None,
            };
            let mut total = store::RunSummary::default();
            loop {
                let run = store.run_due_enrollments(location, 1000).await?;
                total.steps += run.steps;
                total.completed += run.completed;
                total.queued += run.queued;
                total.suppressed += run.suppressed;
                if run.steps < 1000 {
                    break;
                }
            }
            println!(
                "Ran {} workflow steps: {} enrollments completed, {} messages queued, {} suppressed.",
                total.steps, total.completed, total.queued, total.suppressed
            );
        }
    }
    Ok(())
}

pub(crate) async fn outbox(store: &Store, command: OutboxCommand) -> anyhow::Result<()> {
    let OutboxCommand::List { location, json } = command;
    let location = location_by_name(store, &location).await?;
    let messages = store.outbox(location.id).await?;
    if json {
        return print_json(&serde_json::Value::Array(
            messages
                .iter()
                .map(|m| {
                    json!({
                        "id": m.id,
                        "channel": m.channel,
                        "recipient": m.recipient,
                        "subject": m.subject,
                        "body": m.body,
                        "status": m.status,
                        "reason": m.reason,
                        "contact_id": m.contact_id,
                        "workflow": m.workflow,
                        "created": time(m.created_at),
                    })
                })
                .collect(),
        ));
    }
    if messages.is_empty() {
        println!("The outbox of '{}' is empty.", location.name);
    }
    for m in &messages {
        let status = match &m.reason {
            Some(reason) => format!("{} ({reason})", m.status),
            None => m.status.clone(),
        };
        let subject = m
            .subject
            .as_deref()
            .map(|s| format!("[{s}] "))
            .unwrap_or_default();
        println!(
            "{}  {:5}  {}  contact {}  {}  workflow '{}'  {subject}{}",
            time(m.created_at),
            m.channel,
            status,
            m.contact_id.map_or("-".into(), |c| c.to_string()),
            m.recipient.as_deref().unwrap_or("(no recipient)"),
            m.workflow.as_deref().unwrap_or("-"),
            m.body
        );
    }
    Ok(())
}

pub(crate) async fn apikey(store: &Store, command: ApikeyCommand) -> anyhow::Result<()> {
    match command {
        ApikeyCommand::Create { location } => {
            let location = location_by_name(store, &location).await?;
            let (key, info) = web::api::create_api_key(store, location.id).await?;
            eprintln!(
                "API key {} for '{}'. It is shown only this once; keep it somewhere safe:",
                info.prefix, location.name
            );
            println!("{key}");
        }
        ApikeyCommand::Revoke {
            location,
            key_prefix,
        } => {
            let location = location_by_name(store, &location).await?;
            let prefix = web::api::api_key_prefix(&key_prefix);
            match store.revoke_api_key(location.id, prefix).await {
                Ok(info) => println!(
                    "Revoked API key {} of '{}'; it no longer works.",
                    info.prefix, location.name
                ),
                Err(e) if e.is_not_found() => bail!(
                    "'{}' has no API key with prefix '{prefix}'; `aesthetix apikey list --location NAME` shows its keys",
                    location.name
                ),
                Err(e) => return Err(e.into()),
            }
        }
        ApikeyCommand::List { location } => {
            let location = location_by_name(store, &location).await?;
            for k in store.api_keys(location.id).await? {
                let state = match k.revoked_at {
                    Some(at) => format!("revoked {}", time(at)),
                    None => "live".into(),
                };
                println!("{}  created {}  {state}", k.prefix, time(k.created_at));
            }
        }
    }
    Ok(())
}

/// How often `serve` looks for due workflow steps.
const RUNTIME_INTERVAL: Duration = Duration::from_secs(2);
/// Steps per run; a full run is followed at once by another.
const RUNTIME_BATCH: u64 = 500;

/// Runs due workflow steps of every location every [`RUNTIME_INTERVAL`] for as long as the
/// process lives. A failed run is logged and retried on the next tick: each step commits
/// with its effect, so a failure never doubles one.
pub(crate) fn spawn_workflow_runtime(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RUNTIME_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match store.run_due_enrollments(None, RUNTIME_BATCH).await {
                    Ok(run) => {
                        if run.steps > 0 {
                            tracing::info!(
                                steps = run.steps,
                                queued = run.queued,
                                suppressed = run.suppressed,
                                "ran workflow steps"
                            );
                        }
                        if run.steps < RUNTIME_BATCH {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "running workflow steps failed; retrying shortly");
                        break;
                    }
                }
            }
        }
    })
}
