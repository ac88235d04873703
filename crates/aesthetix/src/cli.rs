//! The command line of SPEC §13.1.

mod automation;
mod objects;
mod pipelines;
mod templates;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use domain::{CustomFieldType, LocationSettings, ObjectKind, Role};
use filestore::FileStore;
use store::{NewCustomField, Store};

#[derive(Parser, Debug)]
#[command(
    name = "aesthetix",
    version,
    about = "Aesthetix: a self-hosted CRM for aesthetic practices"
)]
pub struct Args {
    /// Where the SQLite database and the file store live (created when missing).
    #[arg(
        long,
        global = true,
        default_value = "./aesthetix-data",
        env = "AESTHETIX_DATA_DIR"
    )]
    data_dir: PathBuf,
    /// A PostgreSQL URL (postgres://…) to use instead of the embedded SQLite database; files
    /// stay under --data-dir.
    #[arg(long, global = true, env = "AESTHETIX_DATABASE_URL")]
    database_url: Option<String>,
    #[command(flatten)]
    file_store: FileStoreArgs,
    #[command(subcommand)]
    command: Command,
}

/// Where uploads and exports are kept: under --data-dir (the default), or in an S3-compatible
/// bucket shared by every process of a deployment (SPEC §1).
#[derive(clap::Args, Debug)]
struct FileStoreArgs {
    /// `s3://BUCKET/PREFIX` to keep uploads and exports in an S3-compatible bucket (endpoint,
    /// region and credentials from the flags below or the usual AWS_* variables); left out,
    /// files stay under --data-dir.
    #[arg(
        long,
        global = true,
        env = "AESTHETIX_FILE_STORE",
        value_name = "s3://BUCKET/PREFIX"
    )]
    file_store: Option<String>,
    /// The S3 server's address, for a self-hosted one (MinIO, Garage, Ceph…); requests are
    /// path-style.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    s3_endpoint: Option<String>,
    #[arg(long, global = true, env = "AWS_REGION")]
    s3_region: Option<String>,
    #[arg(long, global = true, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    s3_access_key_id: Option<String>,
    #[arg(
        long,
        global = true,
        env = "AWS_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    s3_secret_access_key: Option<String>,
}

/// The file store the options name.
fn open_file_store(args: &FileStoreArgs, data_dir: &Path) -> anyhow::Result<FileStore> {
    match &args.file_store {
        None => Ok(FileStore::local(data_dir)),
        Some(url) => Ok(FileStore::s3(
            &filestore::S3Settings {
                url: url.clone(),
                endpoint: args.s3_endpoint.clone(),
                region: args.s3_region.clone(),
                access_key_id: args.s3_access_key_id.clone(),
                secret_access_key: args.s3_secret_access_key.clone(),
            },
            data_dir,
        )?),
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web UI and API (and run background jobs).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Serve only: run no background jobs or workflows in this process, and leave them to
        /// `aesthetix worker` processes (a deployment of N web and M worker processes sharing
        /// PostgreSQL and an S3 file store).
        #[arg(long)]
        web_only: bool,
    },
    /// Run background jobs only: claim queued or interrupted imports and run them (for
    /// deployments with several processes sharing PostgreSQL).
    Worker,
    /// Manage locations.
    Location {
        #[command(subcommand)]
        command: LocationCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Custom objects (SPEC §8): define and list them.
    Object {
        #[command(subcommand)]
        command: objects::ObjectCommand,
    },
    /// Manage custom fields.
    Field {
        #[command(subcommand)]
        command: FieldCommand,
    },
    /// Pipelines of opportunities and their stages.
    Pipeline {
        #[command(subcommand)]
        command: pipelines::PipelineCommand,
    },
    /// Bulk Actions: the imports and exports of a location.
    Jobs {
        #[command(subcommand)]
        command: crate::jobs_cmd::JobsCommand,
    },
    /// Import records from a CSV or XLSX file.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export contacts or opportunities to CSV, now or on a schedule.
    Export {
        #[command(subcommand)]
        command: crate::export_cmd::ExportCommand,
    },
    /// Saved filters over a location's contacts.
    SmartList {
        #[command(subcommand)]
        command: automation::SmartListCommand,
    },
    /// Workflows: a trigger and ordered actions (tags, messages, opportunities).
    Workflow {
        #[command(subcommand)]
        command: automation::WorkflowCommand,
    },
    /// Messages the workflows queued.
    Outbox {
        #[command(subcommand)]
        command: automation::OutboxCommand,
    },
    /// API keys for a location's integrations.
    Apikey {
        #[command(subcommand)]
        command: automation::ApikeyCommand,
    },
    /// Inbound webhooks: secret URLs that create or update a contact (SPEC §12).
    Webhook {
        #[command(subcommand)]
        command: automation::WebhookCommand,
    },
    /// Saved import templates, and the built-in exporters' presets.
    Template {
        #[command(subcommand)]
        command: templates::TemplateCommand,
    },
    /// Onboarding migration: a leads file then a patients file, each its own Bulk Action.
    Migrate(crate::migrate_cmd::MigrateArgs),
    /// Split a CSV or a workbook sheet into parts under the size limit, each with the header.
    Split(crate::split_cmd::SplitArgs),
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Import contacts (SPEC §6): create, update or skip one contact per row.
    Contacts(crate::import_cmd::ImportContactsArgs),
    /// Import opportunities, with their contacts when --with-contacts (SPEC §7); needs
    /// --confirm.
    Opportunities(crate::import_cmd::ImportOpportunitiesArgs),
    /// Import companies (SPEC §8): one company per row, matched by Record ID or a unique field.
    Companies(crate::import_cmd::ImportRecordsArgs),
    /// Import the records of a custom object (SPEC §8).
    Records(crate::import_cmd::ImportCustomArgs),
}

#[derive(Subcommand, Debug)]
enum LocationCommand {
    /// Create a location (a practice location: every record belongs to exactly one).
    Create {
        name: String,
        /// Default country for phones without a country code (ISO 3166-1 alpha-2).
        #[arg(long, default_value = "US")]
        country: String,
        /// IANA time zone, exactly as the tz database names it.
        #[arg(long, default_value = "America/New_York")]
        timezone: String,
        /// ISO 4217 currency code.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// How numeric dates are read when a column's values do not say (SPEC §5.3).
        #[arg(long, default_value = "MDY", value_parser = ["MDY", "DMY"])]
        date_order: String,
        /// Which identifier finds an existing contact first (SPEC §6.4).
        #[arg(long, default_value = "email,phone", value_parser = ["email,phone", "phone,email"])]
        match_order: String,
        /// Creating a contact needs an email or a phone.
        #[arg(long)]
        require_identifier: bool,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user of a location; the password is read from standard input.
    Create {
        #[arg(long)]
        location: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "user"])]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
enum FieldCommand {
    /// Define a custom field on an object of a location.
    Create {
        #[arg(long)]
        location: String,
        /// contact, opportunity, company, or a custom object's key.
        #[arg(long)]
        object: String,
        #[arg(long)]
        label: String,
        /// text, large_text, number, monetary, date, single_option, radio, multi_select,
        /// checkbox, textbox_list, phone, email, file_upload, signature
        #[arg(long = "type")]
        field_type: String,
        /// An allowed option (option types only); repeat for each option.
        #[arg(long = "option")]
        options: Vec<String>,
        /// The field's key; defaults to the label in lower case with other characters as `_`.
        #[arg(long)]
        key: Option<String>,
        /// No two records share a value (companies and custom objects; text, email, phone or
        /// number fields).
        #[arg(long)]
        unique: bool,
        /// Every record has a value: an import must map it (custom objects only).
        #[arg(long)]
        required: bool,
    },
}

/// Makes the data directory its owner's alone (0700, SPEC §13.2) — also one an earlier version
/// created open to others — and every file directly in it and in its file store 0600.
fn private_dir(data_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| -> anyhow::Result<()> {
        let meta = std::fs::metadata(path)?;
        if meta.permissions().mode() & 0o777 != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).with_context(
                || format!("could not make {} private to its owner", path.display()),
            )?;
        }
        Ok(())
    };
    set(data_dir, 0o700)?;
    let files = jobs::files_dir(data_dir);
    for dir in [data_dir, files.as_path()] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => set(&path, 0o700)?,
                Ok(t) if t.is_file() => set(&path, 0o600)?,
                _ => {}
            }
        }
    }
    Ok(())
}

/// Opens the database the global options name, creating the data directory when missing.
pub async fn open_store(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("could not create the data directory {}", data_dir.display()))?;
    private_dir(data_dir)?;
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Store::connect_postgres(url).await.with_context(|| {
                "could not connect to the PostgreSQL database given by --database-url".to_string()
            })
        }
        Some(other) => bail!(
            "--database-url must be a postgres:// URL (got '{other}'); leave it out to use SQLite in --data-dir"
        ),
        None => {
            let path = data_dir.join("aesthetix.db");
            Store::open_sqlite(&path)
                .await
                .with_context(|| format!("could not open the database {}", path.display()))
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let level = if matches!(args.command, Command::Serve { .. }) {
        "info,sqlx=error"
    } else {
        "warn,sqlx=error"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AESTHETIX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    // Splitting a file needs no database (and must not create a data directory).
    if let Command::Split(split) = &args.command {
        return crate::split_cmd::split(split);
    }
    let store = open_store(&args.data_dir, args.database_url.as_deref()).await?;
    let files = open_file_store(&args.file_store, &args.data_dir)?;
    let result = match args.command {
        Command::Serve { bind, web_only } => {
            serve(store.clone(), files, &args.data_dir, &bind, web_only).await
        }
        Command::Worker => {
            let _workflow_runtime = automation::spawn_workflow_runtime(store.clone());
            println!("Aesthetix worker is running (press Ctrl+C to stop)");
            tokio::select! {
                () = jobs::work(store.clone(), jobs::process_owner(), files.clone()) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        Command::Location {
            command:
                LocationCommand::Create {
                    name,
                    country,
                    timezone,
                    currency,
                    date_order,
                    match_order,
                    require_identifier,
                },
        } => {
            let settings = LocationSettings {
                country,
                timezone,
                currency,
                date_order: date_order.parse().map_err(anyhow::Error::msg)?,
                match_order: if match_order == "phone,email" {
                    domain::MatchOrder::PhoneFirst
                } else {
                    domain::MatchOrder::EmailFirst
                },
                require_unique_identifier: require_identifier,
            };
            location_create(&store, &name, settings).await
        }
        Command::User {
            command:
                UserCommand::Create {
                    location,
                    email,
                    name,
                    role,
                },
        } => user_create(&store, &location, &email, &name, &role).await,
        Command::Field {
            command:
                FieldCommand::Create {
                    location,
                    object,
                    label,
                    field_type,
                    options,
                    key,
                    unique,
                    required,
                },
        } => {
            field_create(
                &store,
                FieldArgs {
                    location: &location,
                    object: &object,
                    label: &label,
                    field_type: &field_type,
                    options,
                    key,
                    unique,
                    required,
                },
            )
            .await
        }
        Command::Object { command } => objects::object(&store, command).await,
        Command::Import {
            command: ImportCommand::Contacts(import),
        } => {
            let code = crate::import_cmd::import_contacts(&store, &files, import).await;
            store.close().await;
            return code;
        }
        Command::Import {
            command: ImportCommand::Opportunities(import),
        } => {
            let code = crate::import_cmd::import_opportunities(&store, &files, import).await;
            store.close().await;
            return code;
        }
        Command::Import {
            command: ImportCommand::Companies(import),
        } => {
            let code = crate::import_cmd::import_records(&store, &files, None, import).await;
            store.close().await;
            return code;
        }
        Command::Import {
            command: ImportCommand::Records(import),
        } => {
            let code =
                crate::import_cmd::import_records(&store, &files, Some(import.object), import.args)
                    .await;
            store.close().await;
            return code;
        }
        Command::Export {
            command: crate::export_cmd::ExportCommand::Contacts(export),
        } => {
            let code = crate::export_cmd::export_contacts(&store, &files, export).await;
            store.close().await;
            return code;
        }
        Command::Export {
            command: crate::export_cmd::ExportCommand::Opportunities(export),
        } => {
            let code = crate::export_cmd::export_opportunities(&store, &files, export).await;
            store.close().await;
            return code;
        }
        Command::Export {
            command: crate::export_cmd::ExportCommand::Companies(export),
        } => {
            let code = crate::export_cmd::export_records(&store, &files, None, export).await;
            store.close().await;
            return code;
        }
        Command::Export {
            command: crate::export_cmd::ExportCommand::Records(export),
        } => {
            let code =
                crate::export_cmd::export_records(&store, &files, Some(export.object), export.args)
                    .await;
            store.close().await;
            return code;
        }
        Command::Export {
            command: crate::export_cmd::ExportCommand::Schedule { command },
        } => crate::export_cmd::schedule(&store, command).await,
        Command::Jobs {
            command: crate::jobs_cmd::JobsCommand::Resume { job },
        } => {
            let export = match store.job_location(job).await {
                Ok(location) => store
                    .job(location, job)
                    .await
                    .is_ok_and(|j| j.operation == domain::job::Operation::Export),
                Err(_) => false,
            };
            let code = if export {
                crate::export_cmd::resume(&store, &files, job).await
            } else {
                crate::import_cmd::resume(&store, &files, job).await
            };
            store.close().await;
            return code;
        }
        Command::Jobs { command } => crate::jobs_cmd::run(&store, command).await,
        Command::Pipeline { command } => pipelines::pipeline(&store, command).await,
        Command::SmartList { command } => automation::smart_list(&store, command).await,
        Command::Workflow { command } => automation::workflow(&store, command).await,
        Command::Outbox { command } => automation::outbox(&store, command).await,
        Command::Apikey { command } => automation::apikey(&store, command).await,
        Command::Webhook { command } => automation::webhook(&store, command).await,
        Command::Template { command } => templates::template(&store, command).await,
        Command::Migrate(migrate) => {
            let code = crate::migrate_cmd::migrate(&store, &files, migrate).await;
            store.close().await;
            return code;
        }
        Command::Split(_) => unreachable!("split runs without a database"),
    };
    store.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

pub(crate) async fn location_by_name(store: &Store, name: &str) -> anyhow::Result<store::Location> {
    match store.location_by_name(name).await {
        Ok(l) => Ok(l),
        Err(e) if e.is_not_found() => {
            let known: Vec<String> = store
                .locations()
                .await?
                .into_iter()
                .map(|l| l.name)
                .collect();
            if known.is_empty() {
                bail!(
                    "there is no location named '{name}'; create one with `aesthetix location create NAME`"
                )
            }
            bail!(
                "there is no location named '{name}'; known locations: {}",
                known.join(", ")
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn serve(
    store: Store,
    files: FileStore,
    data_dir: &Path,
    bind: &str,
    web_only: bool,
) -> anyhow::Result<()> {
    if let Some(login) = web::first_run(&store).await? {
        println!(
            "First run: created the location '{}' and its first admin.",
            login.location
        );
        println!(
            "  Sign in with   email: {}   password: {}",
            login.email, login.password
        );
        println!("  This password is shown only once. Keep it somewhere safe.");
    }
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
        format!(
            "could not listen on {bind} (is another program using it? try --bind 127.0.0.1:8081)"
        )
    })?;
    let addr = listener.local_addr()?;
    println!("Aesthetix is running at http://{addr}/ (press Ctrl+C to stop)");
    // Jobs interrupted by a crash or a deploy resume by themselves (SPEC §9.5) — here, or in
    // the `worker` processes of a deployment whose web processes are --web-only.
    let _background = (!web_only).then(|| {
        (
            automation::spawn_workflow_runtime(store.clone()),
            tokio::spawn(jobs::work(
                store.clone(),
                jobs::process_owner(),
                files.clone(),
            )),
        )
    });
    let state = web::AppState {
        store,
        files,
        data_dir: data_dir.to_path_buf(),
    };
    web::serve(state, listener)
        .await
        .context("the web server stopped")?;
    Ok(())
}

async fn location_create(
    store: &Store,
    name: &str,
    settings: LocationSettings,
) -> anyhow::Result<()> {
    let LocationSettings {
        country,
        timezone,
        currency,
        ..
    } = settings.clone();
    let name = name.trim();
    if name.is_empty() {
        bail!("a location needs a name");
    }
    let country = country.trim().to_ascii_uppercase();
    if !domain::location::is_country_code(&country) {
        bail!(
            "--country '{country}' is not a two-letter ISO 3166 country code; use a code such as US, CA or GB"
        );
    }
    domain::location::check_time_zone(&timezone).map_err(|m| anyhow::anyhow!("--timezone: {m}"))?;
    let currency = currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!(
            "--currency '{currency}' is not a three-letter ISO 4217 code; use a code such as USD"
        );
    }
    let settings = LocationSettings {
        country,
        timezone,
        currency,
        ..settings
    };
    let location = store.create_location(name, &settings).await?;
    println!(
        "Created location '{}' (id {}).",
        location.name, location.id.0
    );
    Ok(())
}

async fn user_create(
    store: &Store,
    location: &str,
    email: &str,
    name: &str,
    role: &str,
) -> anyhow::Result<()> {
    let location = location_by_name(store, location).await?;
    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
    let email = email.trim();
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        bail!("--email '{email}' is not an email address");
    }
    // Someone who has an account already (in another location) gets a role here and keeps
    // their password: the password on standard input is not read (SPEC §13.1).
    if let Some((user, _)) = store.user_with_password(email).await? {
        let memberships = store.memberships(user.id).await?;
        if let Some(m) = memberships.iter().find(|m| m.location_id == location.id) {
            bail!(
                "{} <{}> is already a user of '{}' (as {}); nothing was changed",
                user.name,
                user.email,
                location.name,
                m.role
            );
        }
        store.add_membership(location.id, user.id, role).await?;
        let others: Vec<&str> = memberships
            .iter()
            .map(|m| m.location_name.as_str())
            .collect();
        println!(
            "Added {} <{}>, already a user of {}, as {} of '{}'. Their password is unchanged; they choose the location after signing in.",
            user.name,
            user.email,
            others.join(", "),
            role,
            location.name
        );
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        eprint!("Password for {email}: ");
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("could not read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 8 {
        bail!(
            "the password must be at least 8 characters; give it on standard input (echo 'PASSWORD' | aesthetix user create …)"
        );
    }
    let user = store
        .create_user(
            location.id,
            email,
            name.trim(),
            &web::hash_password(password),
            role,
        )
        .await?;
    println!(
        "Created {} <{}> as {} of '{}'.",
        user.name, user.email, role, location.name
    );
    Ok(())
}

/// What `field create` was given.
struct FieldArgs<'a> {
    location: &'a str,
    object: &'a str,
    label: &'a str,
    field_type: &'a str,
    options: Vec<String>,
    key: Option<String>,
    unique: bool,
    required: bool,
}

async fn field_create(store: &Store, args: FieldArgs<'_>) -> anyhow::Result<()> {
    let FieldArgs {
        location,
        object,
        label,
        field_type,
        options,
        key,
        unique,
        required,
    } = args;
    let location = location_by_name(store, location).await?;
    let object = match object {
        "contact" => ObjectKind::Contact,
        "opportunity" => ObjectKind::Opportunity,
        "company" => ObjectKind::Company,
        other => {
            if !store.custom_object_exists(location.id, other).await? {
                bail!(
                    "--object '{other}' is not contact, opportunity, company or a custom object of '{}'",
                    location.name
                );
            }
            ObjectKind::Custom(other.to_string())
        }
    };
    let field_type: CustomFieldType = field_type.parse()?;
    if field_type.has_options() && options.iter().all(|o| o.trim().is_empty()) {
        // The rule is `check_field`'s; the command line says which flag gives the options.
        bail!("a {field_type} field needs its allowed values: add --option VALUE for each");
    }
    let schema = store.object_schema(location.id, &object).await?;
    let def = domain::object::define::check_field(
        &schema,
        domain::object::define::FieldRequest {
            label: label.to_string(),
            key,
            field_type,
            options,
            unique,
            required,
        },
    )
    .map_err(anyhow::Error::msg)?;
    let field = store
        .create_custom_field(
            location.id,
            &NewCustomField {
                object,
                key: def.key,
                label: def.label,
                field_type: def.field_type,
                options: def.options,
                required: def.required,
                unique: def.unique,
            },
        )
        .await?;
    let marks: Vec<&str> = [(field.required, ", required"), (field.unique, ", unique")]
        .into_iter()
        .filter_map(|(on, word)| on.then_some(word))
        .collect();
    println!(
        "Created field '{}' (key {}, type {}{}) on {}.",
        field.label,
        field.key,
        field.field_type,
        marks.concat(),
        field.object.as_stored()
    );
    Ok(())
}

/// A progress bar on a terminal ("importing … rows", "exporting … contacts"), nothing
/// otherwise.
pub(crate) fn progress_bar(doing: &str, unit: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {doing} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}} left)"
        ))
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar
}
