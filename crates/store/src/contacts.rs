//! Contacts: the paged list people browse, batched lookups by identifier for matching a
//! chunk of import rows, and chunked writes in one transaction.

use crate::error::conflict_on_unique;
use crate::sql::params;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A row of the contacts list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSummary {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_type: Option<String>,
    pub status: Option<String>,
    pub created_at: i64,
}

impl ContactSummary {
    /// The name to show: first and last name, else the email, else the phone.
    pub fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            return name;
        }
        self.email
            .clone()
            .or_else(|| self.phone.clone())
            .unwrap_or_default()
    }
}

/// One page of a location's contacts, newest first, and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPage {
    pub contacts: Vec<ContactSummary>,
    pub total: i64,
}

/// The values a new contact is created with. The email must already be read (SPEC §5.11)
/// and the phone be E.164; the store only enforces uniqueness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewContact {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_extension: Option<String>,
    pub company_name: Option<String>,
    pub contact_type: Option<String>,
    pub status: Option<String>,
    pub source: Option<String>,
}

/// The Unicode lower case of a whole email address: how emails match (SPEC §6.4).
pub fn email_match_key(email: &str) -> String {
    email.to_lowercase()
}

fn search_text(c: &NewContact) -> String {
    [&c.first_name, &c.last_name, &c.email, &c.phone]
        .into_iter()
        .flatten()
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

type SummaryRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

fn summary(r: SummaryRow) -> ContactSummary {
    let (id, first_name, last_name, email, phone, contact_type, status, created_at) = r;
    ContactSummary {
        id,
        first_name,
        last_name,
        email,
        phone,
        contact_type,
        status,
        created_at,
    }
}

const SUMMARY: &str = "SELECT id, first_name, last_name, email, phone, contact_type, status, created_at FROM contacts";

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern. A search that reads as a
/// phone number written the way people write them — digits with spaces, dashes, dots,
/// parentheses or a leading `+`, at least four digits — looks for its digits alone, so
/// `(770) 336-5744` finds the contact stored as `+17703365744`.
fn like_pattern(search: &str) -> String {
    let search = search.trim();
    let digits: String = search.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 4
        && search
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'))
    {
        return format!("%{digits}%");
    }
    let mut p = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// A page of a location's contacts, newest first, optionally filtered by a search over
    /// name, email and phone (case-insensitive).
    pub async fn contacts_page(
        &self,
        location: LocationId,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<ContactPage> {
        let search = search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_pattern);
        let filter = if search.is_some() {
            " AND search_text LIKE $2 ESCAPE '\\'"
        } else {
            ""
        };
        let (rows, total): (Vec<SummaryRow>, i64) = on_pool!(self, p => {
            let list = format!("{SUMMARY} WHERE location_id = $1{filter} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}");
            let count = format!("SELECT COUNT(*) FROM contacts WHERE location_id = $1{filter}");
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(list)).bind(location.0);
            let mut c = sqlx::query_scalar(sqlx::AssertSqlSafe(count)).bind(location.0);
            if let Some(s) = &search {
                q = q.bind(s.clone());
                c = c.bind(s.clone());
            }
            Ok::<_, StoreError>((q.fetch_all(p).await?, c.fetch_one(p).await?))
        })?;
        Ok(ContactPage {
            contacts: rows.into_iter().map(summary).collect(),
            total,
        })
    }

    /// The location's contacts whose primary email matches one of `emails` (compared by
    /// [`email_match_key`]), in one query.
    pub async fn contacts_by_emails(
        &self,
        location: LocationId,
        emails: &[String],
    ) -> Result<Vec<ContactSummary>> {
        let keys: Vec<String> = emails.iter().map(|e| email_match_key(e)).collect();
        self.contacts_where_in(location, "email_key", keys).await
    }

    /// The location's contacts whose primary phone (E.164) is one of `phones`, in one query.
    pub async fn contacts_by_phones(
        &self,
        location: LocationId,
        phones: &[String],
    ) -> Result<Vec<ContactSummary>> {
        self.contacts_where_in(location, "phone", phones.to_vec())
            .await
    }

    /// The location's contacts with one of these ids, in one query; ids of other locations
    /// are not found.
    pub async fn contacts_by_ids(
        &self,
        location: LocationId,
        ids: &[i64],
    ) -> Result<Vec<ContactSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{SUMMARY} WHERE location_id = $1 AND id IN ({}) ORDER BY id",
            params(2, ids.len())
        );
        let rows: Vec<SummaryRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(location.0);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(summary).collect())
    }

    async fn contacts_where_in(
        &self,
        location: LocationId,
        column: &str,
        values: Vec<String>,
    ) -> Result<Vec<ContactSummary>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{SUMMARY} WHERE location_id = $1 AND {column} IN ({}) ORDER BY id",
            params(2, values.len())
        );
        let rows: Vec<SummaryRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(location.0);
            for v in &values {
                q = q.bind(v.clone());
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(summary).collect())
    }

    /// Creates a chunk of contacts in one transaction and returns their ids in order. A
    /// primary email or phone that another contact of the location holds fails the whole
    /// chunk with a conflict, and nothing is written.
    pub async fn insert_contacts(
        &self,
        location: LocationId,
        contacts: &[NewContact],
    ) -> Result<Vec<i64>> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut ids = Vec::with_capacity(contacts.len());
            for c in contacts {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO contacts (location_id, first_name, last_name, email, email_key, phone, phone_extension, \
                     company_name, contact_type, status, source, search_text, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
                )
                .bind(location.0)
                .bind(&c.first_name)
                .bind(&c.last_name)
                .bind(&c.email)
                .bind(c.email.as_deref().map(email_match_key))
                .bind(&c.phone)
                .bind(&c.phone_extension)
                .bind(&c.company_name)
                .bind(&c.contact_type)
                .bind(&c.status)
                .bind(&c.source)
                .bind(search_text(c))
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    conflict_on_unique(e, || {
                        format!(
                            "another contact of this location already has the email {} or the phone {}",
                            c.email.as_deref().unwrap_or("-"),
                            c.phone.as_deref().unwrap_or("-")
                        )
                    })
                })?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }
}
