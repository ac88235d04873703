//! What a dry run's earlier chunks decided, standing in for the writes it does not make.
//!
//! A real run's later chunks find its earlier contacts in the database; a dry run's must find
//! them here. A file can touch a contact per row, so they are kept in a private temporary
//! SQLite database (SQLite deletes its file when the connection closes) and not in memory: a
//! dry run — the CLI's `--dry-run`, the wizard's validation — stays as small as a real run
//! however large the file is. Only what a later line's decision reads is kept (see
//! `domain::ObjectSchema::carried`).

use std::collections::BTreeMap;

use engine::Existing;
use rusqlite::{Connection, OptionalExtension};
use store::StoreError;

pub(super) struct DryCarry {
    conn: Connection,
}

/// One contact to carry, with the keys it is found by.
pub(super) struct CarriedContact {
    pub existing: Existing,
    pub email_key: Option<String>,
    pub phone: Option<String>,
}

impl DryCarry {
    pub(super) fn open() -> Result<DryCarry, StoreError> {
        // An empty name: a private temporary database on disk, deleted when closed. Nothing
        // here needs to survive a crash, hence no journal and no fsync.
        let conn = Connection::open("")?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             CREATE TABLE carried (
                 id INTEGER PRIMARY KEY,
                 vals TEXT NOT NULL,
                 tags TEXT NOT NULL,
                 touched_line INTEGER,
                 created INTEGER NOT NULL
             );
             CREATE TABLE by_email (key TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE by_phone (key TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;",
        )?;
        Ok(DryCarry { conn })
    }

    /// The carried contact `id`, if an earlier chunk touched it.
    pub(super) fn get(&mut self, id: i64) -> Result<Option<Existing>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT vals, tags, touched_line, created FROM carried WHERE id = ?1")?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })
            .optional()?;
        Ok(row.map(|(vals, tags, touched_line, created)| Existing {
            id,
            values: serde_json::from_str::<BTreeMap<String, String>>(&vals)
                .expect("carried values are JSON this module wrote"),
            tags: serde_json::from_str(&tags).expect("carried tags are JSON this module wrote"),
            additional_emails: Vec::new(),
            additional_phones: Vec::new(),
            touched_line: touched_line.map(|l| l as u64),
            created_by_import: created,
        }))
    }

    /// The carried contact whose primary email has this match key.
    pub(super) fn by_email(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        self.id_by("SELECT id FROM by_email WHERE key = ?1", key)
    }

    /// The carried contact whose primary phone is this one.
    pub(super) fn by_phone(&mut self, phone: &str) -> Result<Option<i64>, StoreError> {
        self.id_by("SELECT id FROM by_phone WHERE key = ?1", phone)
    }

    fn id_by(&mut self, sql: &str, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Carries a chunk's contacts, each replacing what an earlier chunk carried for it.
    pub(super) fn put(&mut self, contacts: &[CarriedContact]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut carried = tx.prepare_cached(
                "INSERT OR REPLACE INTO carried (id, vals, tags, touched_line, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut email =
                tx.prepare_cached("INSERT OR REPLACE INTO by_email (key, id) VALUES (?1, ?2)")?;
            let mut phone =
                tx.prepare_cached("INSERT OR REPLACE INTO by_phone (key, id) VALUES (?1, ?2)")?;
            for c in contacts {
                let e = &c.existing;
                carried.execute(rusqlite::params![
                    e.id,
                    serde_json::to_string(&e.values).expect("strings serialise"),
                    serde_json::to_string(&e.tags).expect("strings serialise"),
                    e.touched_line.map(|l| l as i64),
                    e.created_by_import,
                ])?;
                if let Some(key) = &c.email_key {
                    email.execute(rusqlite::params![key, e.id])?;
                }
                if let Some(p) = &c.phone {
                    phone.execute(rusqlite::params![p, e.id])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(id: i64, email: &str) -> Existing {
        Existing {
            id,
            values: BTreeMap::from([
                ("email".to_string(), email.to_string()),
                ("first_name".to_string(), "Zoë".to_string()),
            ]),
            tags: vec!["VIP".into(), "Botox, Filler".into()],
            additional_emails: Vec::new(),
            additional_phones: Vec::new(),
            touched_line: Some(7),
            created_by_import: true,
        }
    }

    #[test]
    fn carried_contacts_come_back_as_put_and_a_later_put_replaces_them() {
        let mut carry = DryCarry::open().unwrap();
        assert_eq!(carry.get(-1).unwrap(), None);
        let a = existing(-1, "Ann@Example.com");
        let b = existing(5, "bob@example.com");
        carry
            .put(&[
                CarriedContact {
                    existing: a.clone(),
                    email_key: Some("ann@example.com".into()),
                    phone: Some("+12015550123".into()),
                },
                CarriedContact {
                    existing: b.clone(),
                    email_key: Some("bob@example.com".into()),
                    phone: None,
                },
            ])
            .unwrap();
        assert_eq!(carry.get(-1).unwrap(), Some(a.clone()));
        assert_eq!(carry.get(5).unwrap(), Some(b));
        assert_eq!(carry.by_email("ann@example.com").unwrap(), Some(-1));
        assert_eq!(carry.by_phone("+12015550123").unwrap(), Some(-1));
        assert_eq!(carry.by_phone("+12015550124").unwrap(), None);

        // A later chunk changed Ann and gave her phone to contact 5.
        let mut a2 = a.clone();
        a2.touched_line = Some(900);
        a2.tags.push("Laser".into());
        carry
            .put(&[CarriedContact {
                existing: existing(5, "bob@example.com"),
                email_key: None,
                phone: Some("+12015550123".into()),
            }])
            .unwrap();
        carry
            .put(&[CarriedContact {
                existing: a2.clone(),
                email_key: Some("ann@example.com".into()),
                phone: None,
            }])
            .unwrap();
        assert_eq!(carry.get(-1).unwrap(), Some(a2));
        assert_eq!(carry.by_phone("+12015550123").unwrap(), Some(5));
    }
}
