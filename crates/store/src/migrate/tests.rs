//! Schema version 6 on a SQLite database of version 5 that holds data: the rebuilt tables keep
//! every row, every id and the ids' counter, and every constraint and cascade they had.

use domain::LocationSettings;

use crate::testing::TempDir;
use crate::{NewContact, Store};

type Row = Vec<Option<String>>;

/// Columns later versions add to the rebuilt tables (version 19: `job_lines.opportunity_id`):
/// not part of what version 6 keeps.
const LATER_COLUMNS: &[&str] = &["opportunity_id"];

/// Every row of `table`, every column as text, in `order`.
async fn dump(store: &Store, table: &str, order: &str) -> Vec<Row> {
    let crate::Db::Sqlite(pool) = &store.db else {
        unreachable!()
    };
    let columns: Vec<String> = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
        "SELECT name FROM pragma_table_info('{table}')"
    )))
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .filter(|c| !LATER_COLUMNS.contains(&c.as_str()))
    .collect();
    let rows: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM {table} ORDER BY {order}",
        columns
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '∅')"))
            .collect::<Vec<_>>()
            .join(" || char(31) || ")
    )))
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|r| {
            r.unwrap()
                .split('\u{1f}')
                .map(|v| (v != "∅").then(|| v.to_string()))
                .collect()
        })
        .collect()
}

/// The rebuilt tables and two that refer to `contacts`, whole.
async fn dump_rebuilt(store: &Store) -> Vec<Vec<Row>> {
    let mut all = Vec::new();
    for (table, order) in [
        ("contacts", "id"),
        ("job_lines", "job_id, line"),
        ("contact_imports", "contact_id, job_id"),
        ("contact_tags", "contact_id"),
        ("notes", "id"),
    ] {
        all.push(dump(store, table, order).await);
    }
    all
}

async fn exec(store: &Store, sql: &str) -> Result<(), String> {
    let crate::Db::Sqlite(pool) = &store.db else {
        unreachable!()
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn one(store: &Store, sql: &str) -> String {
    let crate::Db::Sqlite(pool) = &store.db else {
        unreachable!()
    };
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn version_6_rebuilds_the_import_tables_keeping_rows_ids_and_constraints() {
    let dir = TempDir::new("aesthetix-migrate");
    let path = dir.path().join("aesthetix.db");
    let old = Store::open_sqlite_at(&path, 5).await.unwrap();
    let loc = old
        .create_location("Glow", &LocationSettings::default())
        .await
        .unwrap();
    let contacts: Vec<NewContact> = ["ann@example.com", "bob@example.com", "cy@example.com"]
        .iter()
        .map(|e| NewContact {
            first_name: Some("Someone".into()),
            email: Some((*e).into()),
            ..NewContact::default()
        })
        .collect();
    let ids = old.insert_contacts(loc.id, &contacts).await.unwrap();
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let l = loc.id.0;
    exec(
        &old,
        &format!(
            "UPDATE contacts SET email_verification = 'valid' WHERE id = {a};
             INSERT INTO jobs (location_id, operation, object, name, status, created_at)
               VALUES ({l}, 'import', 'contacts', 'Old import', 'completed', 1);
             INSERT INTO tags (location_id, name, name_key, created_at) VALUES ({l}, 'VIP', 'vip', 1);
             INSERT INTO contact_tags (contact_id, tag_id, location_id, added_by_job, created_at)
               SELECT {a}, id, {l}, NULL, 1 FROM tags;
             INSERT INTO notes (location_id, contact_id, body, job_id, created_at)
               VALUES ({l}, {a}, 'Prefers mornings', NULL, 1);
             INSERT INTO contact_imports (contact_id, job_id, location_id, action)
               SELECT {a}, id, {l}, 'created' FROM jobs UNION ALL
               SELECT {b}, id, {l}, 'updated' FROM jobs;
             INSERT INTO job_lines (job_id, line, status, action, record_id, primary_value, messages, cells)
               SELECT id, 2, 'success', 'created', {a}, 'Ann', NULL, NULL FROM jobs UNION ALL
               SELECT id, 3, 'warning', 'updated', {b}, 'Bob', '[{{\"code\":\"x\"}}]', '[\"a\",\"b\"]' FROM jobs UNION ALL
               SELECT id, 4, 'error', 'none', NULL, NULL, '[]', '[\"\"]' FROM jobs;
             DELETE FROM contacts WHERE id = {c};"
        ),
    )
    .await
    .unwrap();
    let before = dump_rebuilt(&old).await;
    old.close().await;

    let store = Store::open_sqlite(&path).await.unwrap();
    let after = dump_rebuilt(&store).await;
    assert_eq!(after, before, "every row kept, column for column");
    assert_eq!(one(&store, "PRAGMA integrity_check").await, "ok");

    // The ids' counter: the deleted contact's id is never handed out again.
    let next = store
        .insert_contacts(
            loc.id,
            &[NewContact {
                email: Some("dee@example.com".into()),
                ..NewContact::default()
            }],
        )
        .await
        .unwrap();
    assert_eq!(next, vec![c + 1]);

    // The constraints, as before: a value outside the lists, and a second primary email.
    for refused in [
        format!("UPDATE contacts SET email_verification = 'maybe' WHERE id = {a}"),
        "UPDATE job_lines SET status = 'fine' WHERE line = 2".to_string(),
        "UPDATE job_lines SET action = 'merged' WHERE line = 2".to_string(),
        format!("UPDATE contact_imports SET action = 'deleted' WHERE contact_id = {a}"),
        format!("UPDATE contacts SET email_key = 'bob@example.com' WHERE id = {a}"),
        "INSERT INTO job_lines (job_id, line, status, action) VALUES (999, 2, 'success', 'none')"
            .to_string(),
    ] {
        assert!(exec(&store, &refused).await.is_err(), "{refused}");
    }
    // The cascades, through the rebuilt contacts: tags, notes and provenance go with it.
    exec(&store, &format!("DELETE FROM contacts WHERE id = {a}"))
        .await
        .unwrap();
    for table in ["contact_tags", "notes", "contact_imports"] {
        let n = one(
            &store,
            &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE contact_id = {a}"),
        )
        .await;
        assert_eq!(n, "0", "{table}");
    }
    // And the job's line results go with the job.
    exec(&store, "DELETE FROM jobs").await.unwrap();
    assert_eq!(
        one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM job_lines").await,
        "0"
    );

    // What version 6 is for: no CHECK that SQLite evaluates through a temporary table.
    let schema = one(
        &store,
        "SELECT group_concat(sql, ' ') FROM sqlite_schema \
         WHERE name IN ('contacts', 'job_lines', 'contact_imports')",
    )
    .await;
    assert!(!schema.contains("'valid', 'invalid'"), "{schema}");
    assert!(!schema.contains("'warning', 'error'"), "{schema}");
    assert_eq!(schema.matches("WITHOUT ROWID").count(), 2, "{schema}");
    store.close().await;
}

/// Schema version 22 on a SQLite database of version 20 that holds enrollments and outbox
/// messages: the rebuilt `enrollments` keeps every row and id, the outbox keeps its links
/// (dropping the old table inside the migration's transaction would have set them to NULL),
/// an import-triggered workflow's enrollments take their import as occasion, and from then on
/// such a workflow enrolls a contact once per import while every other once ever.
#[tokio::test]
async fn version_22_lets_an_import_workflow_enroll_once_per_import_keeping_the_outbox_links() {
    use crate::workflows::{NewWorkflow, Trigger, WorkflowStatus};
    let dir = TempDir::new("aesthetix-migrate");
    let path = dir.path().join("aesthetix.db");
    let old = Store::open_sqlite_at(&path, 20).await.unwrap();
    let loc = old
        .create_location("Glow", &LocationSettings::default())
        .await
        .unwrap();
    let ids = old
        .insert_contacts(
            loc.id,
            &[NewContact {
                email: Some("ann@example.com".into()),
                ..NewContact::default()
            }],
        )
        .await
        .unwrap();
    let ann = ids[0];
    let workflow = |name: &str, trigger: Trigger| NewWorkflow {
        name: name.into(),
        trigger,
        status: WorkflowStatus::Active,
        actions: vec![crate::workflows::parse_action("add-tag:seen").unwrap()],
    };
    let by_import = old
        .create_workflow(loc.id, &workflow("Reconcile", Trigger::Import))
        .await
        .unwrap()
        .id;
    let by_tag = old
        .create_workflow(loc.id, &workflow("VIP", Trigger::TagAdded("VIP".into())))
        .await
        .unwrap()
        .id;
    let l = loc.id.0;
    exec(
        &old,
        &format!(
            "INSERT INTO jobs (id, location_id, operation, object, name, status, created_at)
               VALUES (41, {l}, 'import', 'contacts', 'Week 1', 'completed', 1);
             INSERT INTO enrollments (id, location_id, workflow_id, contact_id, job_id, next_step, status, run_after, created_at)
               VALUES (7, {l}, {by_import}, {ann}, 41, 1, 'completed', 1, 1),
                      (9, {l}, {by_tag}, {ann}, 41, 1, 'completed', 1, 1);
             INSERT INTO outbox (location_id, enrollment_id, step, contact_id, channel, recipient, body, status, created_at)
               VALUES ({l}, 7, 0, {ann}, 'sms', '+12015550123', 'Hi', 'queued', 1),
                      ({l}, 9, 0, {ann}, 'sms', '+12015550123', 'VIP', 'queued', 1);"
        ),
    )
    .await
    .unwrap();
    let outbox_before = dump(&old, "outbox", "id").await;
    old.close().await;

    let store = Store::open_sqlite(&path).await.unwrap();
    assert_eq!(dump(&store, "outbox", "id").await, outbox_before);
    assert_eq!(one(&store, "PRAGMA integrity_check").await, "ok");
    assert_eq!(
        one(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM pragma_foreign_key_check"
        )
        .await,
        "0"
    );
    assert_eq!(
        one(
            &store,
            "SELECT group_concat(id || ':' || occasion, ' ') FROM (SELECT id, occasion FROM enrollments ORDER BY id)"
        )
        .await,
        "7:41 9:0"
    );

    // The next import enrolls Ann again in the import workflow, never again in the tag one.
    exec(
        &store,
        &format!(
            "INSERT INTO jobs (id, location_id, operation, object, name, status, created_at)
               VALUES (42, {l}, 'import', 'contacts', 'Week 2', 'completed', 2)"
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .enroll(loc.id, by_import, &[ann], Some(42))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .enroll(loc.id, by_import, &[ann], Some(42))
            .await
            .unwrap(),
        0,
        "once per import"
    );
    assert_eq!(
        store
            .enroll(loc.id, by_tag, &[ann], Some(42))
            .await
            .unwrap(),
        0,
        "once ever"
    );
    assert_eq!(
        store
            .enrolled_contacts(loc.id, by_import, &[ann])
            .await
            .unwrap(),
        Vec::<i64>::new(),
        "an import workflow's next import enrolls everyone again"
    );
    assert_eq!(
        store
            .enrolled_contacts(loc.id, by_tag, &[ann])
            .await
            .unwrap(),
        vec![ann]
    );
    // Ids keep counting up from the rebuilt table's.
    assert_eq!(
        one(&store, "SELECT CAST(MAX(id) AS TEXT) FROM enrollments").await,
        "10"
    );
    // A contact's enrollments still go with the contact; its outbox rows keep their text.
    exec(&store, &format!("DELETE FROM contacts WHERE id = {ann}"))
        .await
        .unwrap();
    assert_eq!(
        one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM enrollments").await,
        "0"
    );
    store.close().await;
}
