//! SPEC §1's "past one PostgreSQL server" (ARCHITECTURE.md): every primary key and unique
//! index of a table that holds a location's data leads with `location_id`, so the schema can
//! be distributed by location (Citus `create_distributed_table(…, 'location_id')`, or hash
//! partitioning) without changing a query. Read from both backends' catalogs after every
//! migration; a new key that does not lead with `location_id` fails here.
//!
//! `EXISTING` lists the keys older than this rule, each with its reason. It is a stop-gap:
//! an entry that no longer exists on either backend fails too, so the list only shrinks.

use std::collections::BTreeSet;

use crate::Db;
use crate::testing::each_backend;

/// Tables of the deployment as a whole, not of a location: they stay whole on every node
/// (Citus reference tables) or on the coordinator.
const GLOBAL: &[(&str, &str)] = &[
    ("locations", "the location itself: a reference table"),
    (
        "users",
        "a person may belong to several locations: a reference table",
    ),
    (
        "sessions",
        "a sign-in before a location is chosen: coordinator only",
    ),
    (
        "login_failures",
        "throttles by email and address across locations (SPEC §13.2)",
    ),
    ("schema_migrations", "the migration runner's bookkeeping"),
];

/// Tables of a location's data without a `location_id` column (a stop-gap like `EXISTING`).
const UNSCOPED: &[(&str, &str)] = &[(
    "job_lines",
    "SQLite only: version 6 keeps a line result compact, reached through its job; needs location_id to distribute",
)];

/// Keys that do not lead with `location_id` yet, as `table(columns)`, with why they are so.
const EXISTING: &[(&str, &str)] = &[
    (
        "api_keys(prefix)",
        "a key is looked up by its prefix before its location is known",
    ),
    (
        "webhooks(token_hash)",
        "a hook's secret URL is looked up by its token before its location is known, as an API key's prefix",
    ),
    (
        "files(stored_name)",
        "generated names are unique across the whole file store",
    ),
    (
        "contact_emails(contact_id, email)",
        "child rows keyed by their contact; to be re-keyed (location_id, contact_id, …)",
    ),
    (
        "contact_phones(contact_id, phone)",
        "child rows keyed by their contact; to be re-keyed (location_id, contact_id, …)",
    ),
    (
        "contact_tags(contact_id, tag_id)",
        "child rows keyed by their contact; to be re-keyed (location_id, contact_id, …)",
    ),
    (
        "contact_imports(contact_id, job_id)",
        "child rows keyed by their contact; to be re-keyed (location_id, contact_id, …)",
    ),
    (
        "stages(pipeline_id, name)",
        "child rows keyed by their pipeline; to be re-keyed (location_id, pipeline_id, name)",
    ),
    (
        "outbox(enrollment_id, step)",
        "exactly once per step (ARCHITECTURE invariants); to be re-keyed (location_id, enrollment_id, step)",
    ),
    (
        "job_lines(job_id, line)",
        "keyed by job; to be re-keyed (location_id, job_id, line)",
    ),
    (
        "jobs(schedule_id, scheduled_for)",
        "one run per schedule slot; to be re-keyed (location_id, schedule_id, scheduled_for)",
    ),
];

/// Surrogate `id` primary keys: Citus needs the distribution column in every unique key, so
/// each becomes `(location_id, id)`; listed by table.
const SURROGATE_IDS: &[&str] = &[
    "api_keys",
    "custom_fields",
    "tags",
    "contacts",
    "notes",
    "pipelines",
    "stages",
    "opportunities",
    "custom_objects",
    "smart_lists",
    "workflows",
    "enrollments",
    "outbox",
    "files",
    "jobs",
    "journal",
    "export_schedules",
    "notifications",
    "mapping_templates",
    "import_drafts",
    "import_templates",
    "migration_steps",
    "webhooks",
];

/// A primary key or unique index: its table and columns in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    table: String,
    columns: Vec<String>,
}

impl Key {
    fn name(&self) -> String {
        format!("{}({})", self.table, self.columns.join(", "))
    }
}

async fn keys_and_tables(db: &Db) -> (Vec<Key>, BTreeSet<(String, String)>) {
    let mut keys = Vec::new();
    let mut columns = BTreeSet::new();
    match db {
        Db::Sqlite(p) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await
            .unwrap();
            for t in tables {
                let info: Vec<(i64, String, String, i64, Option<String>, i64)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA table_info(\"{t}\")")))
                        .fetch_all(p)
                        .await
                        .unwrap();
                let mut pk: Vec<(i64, String)> = Vec::new();
                for (_, name, _, _, _, in_pk) in info {
                    columns.insert((t.clone(), name.clone()));
                    if in_pk > 0 {
                        pk.push((in_pk, name));
                    }
                }
                pk.sort();
                if !pk.is_empty() {
                    keys.push(Key {
                        table: t.clone(),
                        columns: pk.into_iter().map(|(_, c)| c).collect(),
                    });
                }
                let indexes: Vec<(i64, String, i64, String, i64)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA index_list(\"{t}\")")))
                        .fetch_all(p)
                        .await
                        .unwrap();
                for (_, index, unique, origin, _) in indexes {
                    if unique == 0 || origin == "pk" {
                        continue;
                    }
                    let cols: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
                        sqlx::AssertSqlSafe(format!("PRAGMA index_info(\"{index}\")")),
                    )
                    .fetch_all(p)
                    .await
                    .unwrap();
                    keys.push(Key {
                        table: t.clone(),
                        columns: cols
                            .into_iter()
                            .map(|(_, _, c)| c.unwrap_or_else(|| "(expression)".into()))
                            .collect(),
                    });
                }
            }
        }
        Db::Postgres(p) => {
            let rows: Vec<(String, Vec<String>)> = sqlx::query_as(
                "SELECT c.relname::text, \
                        ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(n, o) \
                              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n \
                              ORDER BY k.o) \
                 FROM pg_index ix \
                 JOIN pg_class c ON c.oid = ix.indrelid \
                 JOIN pg_namespace ns ON ns.oid = c.relnamespace \
                 WHERE ns.nspname = current_schema() AND (ix.indisunique OR ix.indisprimary)",
            )
            .fetch_all(p)
            .await
            .unwrap();
            keys.extend(
                rows.into_iter()
                    .map(|(table, columns)| Key { table, columns }),
            );
            let cols: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(p)
            .await
            .unwrap();
            columns.extend(cols);
        }
    }
    (keys, columns)
}

#[tokio::test]
async fn every_key_of_a_locations_table_leads_with_location_id() {
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut backends = 0;
    for db in each_backend().await {
        backends += 1;
        let backend = db.backend();
        let (keys, columns) = keys_and_tables(&db.store.db).await;
        let tables: BTreeSet<&str> = columns.iter().map(|(t, _)| t.as_str()).collect();
        let mut wrong = Vec::new();
        for table in &tables {
            let scoped = columns.contains(&(table.to_string(), "location_id".to_string()));
            let global = GLOBAL.iter().any(|(t, _)| t == table);
            if !scoped && UNSCOPED.iter().any(|(t, _)| t == table) {
                continue;
            }
            if !scoped && !global {
                wrong.push(format!(
                    "{table} ({backend:?}) has no location_id column: add one, or list it in GLOBAL with the reason"
                ));
            }
        }
        for key in keys {
            if GLOBAL.iter().any(|(t, _)| *t == key.table)
                || key.columns.first().is_some_and(|c| c == "location_id")
            {
                continue;
            }
            let name = key.name();
            if key.columns == ["id"] && SURROGATE_IDS.contains(&key.table.as_str()) {
                used.insert(format!("id:{}", key.table));
                continue;
            }
            if EXISTING.iter().any(|(k, _)| *k == name) {
                used.insert(name);
                continue;
            }
            wrong.push(format!(
                "{name} ({backend:?}) does not lead with location_id: key it (location_id, …) so the schema distributes by location"
            ));
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
    // Only meaningful when both backends ran: an entry neither uses is stale.
    if backends == 2 {
        let stale: Vec<String> = EXISTING
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| !used.contains(k))
            .chain(
                SURROGATE_IDS
                    .iter()
                    .map(|t| format!("id:{t}"))
                    .filter(|k| !used.contains(k)),
            )
            .collect();
        assert!(
            stale.is_empty(),
            "these listed keys no longer exist; take them off the list: {stale:?}"
        );
    }
}
