//! Smart Lists (SPEC §12): saved filters over a location's contacts, written in the §13.1
//! filter syntax and evaluated by the database — never by loading contacts into memory.
//!
//! [`parse_filter`] (in `domain::smart_list`, re-exported here) is a pure function from one
//! expression (`tag=VIP`, `dnd_sms=false`, …) to a [`Filter`]; a list stores its filters as those expressions (JSON array of strings), so
//! what an admin typed is what `smart-list list` shows back. Evaluation turns the filters into
//! one SQL condition per filter, written once where the dialects agree and side by side where
//! they do not (custom field values are JSON text: `json_each` on SQLite, `jsonb` on
//! PostgreSQL).
//!
//! Semantics worth knowing (also in README.md):
//! - every filter of a list must hold (AND); `KEY!=VALUE` negates any filter but the dates;
//! - `tag=` compares tags case-insensitively through `tags.name_key` ([`domain::value::tag_key`]);
//! - `type=`, `status=` and `verification=` take the option values in any case; a blank
//!   Type or Status is neither value (`status!=Unsubscribed` includes blanks,
//!   `status=Subscribed` does not);
//! - `dnd=false` means no channel is DND, `dnd=true` means every channel is;
//! - `source=` and `field.KEY=` compare case-insensitively (ASCII letters on SQLite, whose
//!   `LOWER` knows no others); a multi-value custom field matches when any value does;
//! - `created_after=D` is "created on D or later" and `created_before=D` "created before D",
//!   both from midnight of D in the location's time zone, so `created_after=2024-01-01
//!   created_before=2024-02-01` is January;
//! - `import=JOB` is the contacts that import created or updated (`contact_imports`).

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::error::conflict_on_unique;
use crate::{Backend, LocationId, Result, Store, StoreError, now_ms, on_pool};

pub use domain::smart_list::{
    Channel, Condition, DndChannel, FILTER_FORMS, Filter, FilterError, parse_filter,
};

/// A saved Smart List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartList {
    pub id: i64,
    pub name: String,
    pub filters: Vec<Filter>,
    /// Leads, Patients, Mass SMS and Mass Email: made with the location, never deleted.
    pub builtin: bool,
    pub created_at: i64,
    /// Why the saved filters cannot run (a list saved before its filters were checked at
    /// save): it is listed with no contacts, and counting or exporting it is refused with
    /// this reason instead of failing every page that lists the location's Smart Lists.
    pub unreadable: Option<String>,
    /// The filters as saved, when they cannot be read.
    saved: Vec<String>,
}

impl SmartList {
    /// The filters as the admin wrote them (§13.1 syntax).
    pub fn filter_exprs(&self) -> Vec<String> {
        if self.unreadable.is_some() {
            return self.saved.clone();
        }
        self.filters.iter().map(Filter::to_string).collect()
    }
}

/// A parameter of a generated statement.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// Builds `c.location_id = $1 AND (…) AND (…)` over `contacts c` for `filters`, numbering
/// parameters from `$2` (`$1` is the location). Every condition is TRUE or FALSE, never
/// NULL, so `NOT` negates it exactly.
pub(crate) fn where_sql(
    filters: &[Filter],
    tz: &TimeZone,
    backend: Backend,
) -> Result<(String, Vec<Arg>)> {
    let mut sql = String::from("c.location_id = $1");
    let mut args: Vec<Arg> = Vec::new();
    let mut arg = |a: Arg| {
        args.push(a);
        format!("${}", args.len() + 1)
    };
    for filter in filters {
        let cond = match &filter.condition {
            Condition::Tag(tag) => format!(
                "EXISTS (SELECT 1 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
                 WHERE ct.contact_id = c.id AND ct.location_id = $1 AND t.location_id = $1 AND t.name_key = {})",
                arg(Arg::Text(domain::value::tag_key(tag)))
            ),
            Condition::ContactType(v) => {
                format!("COALESCE(c.contact_type = {}, FALSE)", arg(Arg::Text((*v).into())))
            }
            Condition::Status(v) => {
                format!("COALESCE(c.status = {}, FALSE)", arg(Arg::Text((*v).into())))
            }
            Condition::Dnd {
                channel: Some(ch),
                value,
            } => format!("c.{} = {}", ch.column(), if *value { "TRUE" } else { "FALSE" }),
            Condition::Dnd {
                channel: None,
                value: true,
            } => "(c.dnd_sms = TRUE AND c.dnd_email = TRUE AND c.dnd_calls = TRUE AND c.dnd_voicemail = TRUE)".into(),
            Condition::Dnd {
                channel: None,
                value: false,
            } => "(c.dnd_sms = FALSE AND c.dnd_email = FALSE AND c.dnd_calls = FALSE AND c.dnd_voicemail = FALSE)".into(),
            Condition::Verification(v) => {
                format!("c.email_verification = {}", arg(Arg::Text((*v).into())))
            }
            Condition::Source(s) => format!(
                "COALESCE(LOWER(c.source) = {}, FALSE)",
                arg(Arg::Text(s.to_lowercase()))
            ),
            Condition::Has(Channel::Email) => "COALESCE(c.email <> '', FALSE)".into(),
            Condition::Has(Channel::Phone) => "COALESCE(c.phone <> '', FALSE)".into(),
            Condition::CreatedAfter(d) => {
                format!("c.created_at >= {}", arg(Arg::Int(midnight_ms(*d, tz)?)))
            }
            Condition::CreatedBefore(d) => {
                format!("c.created_at < {}", arg(Arg::Int(midnight_ms(*d, tz)?)))
            }
            Condition::Import(job) => format!(
                "EXISTS (SELECT 1 FROM contact_imports ci WHERE ci.contact_id = c.id \
                 AND ci.location_id = $1 AND ci.job_id = {})",
                arg(Arg::Int(*job))
            ),
            Condition::Field { key, value } => match backend {
                // json_each over a path yields one row for a scalar and one per element for
                // an array; JSON true/false come back as 1/0, so they are spelled out.
                Backend::Sqlite => {
                    let path = arg(Arg::Text(format!("$.\"{key}\"")));
                    let v = arg(Arg::Text(value.to_lowercase()));
                    format!(
                        "EXISTS (SELECT 1 FROM json_each(c.custom_values, {path}) je WHERE \
                         LOWER(CASE je.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                         ELSE CAST(je.value AS TEXT) END) = {v})"
                    )
                }
                Backend::Postgres => {
                    let k = arg(Arg::Text(key.clone()));
                    let v = arg(Arg::Text(value.to_lowercase()));
                    format!(
                        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE \
                         WHEN jsonb_typeof(c.custom_values::jsonb -> {k}) = 'array' THEN c.custom_values::jsonb -> {k} \
                         ELSE jsonb_build_array(c.custom_values::jsonb -> {k}) END) AS e(v) WHERE LOWER(e.v) = {v})"
                    )
                }
            },
        };
        sql.push_str(if filter.negated {
            " AND NOT ("
        } else {
            " AND ("
        });
        sql.push_str(&cond);
        sql.push(')');
    }
    Ok((sql, args))
}

/// The first instant of `date` in `tz`, in milliseconds (a day that starts in a DST gap
/// starts at the first instant that exists).
fn midnight_ms(date: Date, tz: &TimeZone) -> Result<i64> {
    let zoned = date
        .to_zoned_datetime(tz.clone())
        .map_err(|e| StoreError::Corrupt(format!("the start of {date}: {e}")))?;
    Ok(zoned.timestamp().as_millisecond())
}

macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

type ListRow = (i64, String, String, bool, i64);

fn from_row(r: ListRow) -> Result<SmartList> {
    let (id, name, filters, builtin, created_at) = r;
    let exprs: Vec<String> = serde_json::from_str(&filters)
        .map_err(|e| StoreError::Corrupt(format!("filters of Smart List '{name}': {e}")))?;
    let (filters, unreadable, saved) = match exprs
        .iter()
        .map(|e| parse_filter(e))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(filters) => (filters, None, Vec::new()),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "The Smart List '{name}' cannot run: {e}. Delete it and save it again with filters that work."
            )),
            exprs,
        ),
    };
    Ok(SmartList {
        id,
        name,
        filters,
        builtin,
        created_at,
        unreadable,
        saved,
    })
}

const SELECT: &str = "SELECT id, name, filters, builtin, created_at FROM smart_lists";

impl Store {
    pub(crate) async fn location_tz(&self, location: LocationId) -> Result<TimeZone> {
        let name: Option<String> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT timezone FROM locations WHERE id = $1")
                .bind(location.0)
                .fetch_optional(p)
                .await
        })?;
        let name = name.ok_or_else(|| StoreError::not_found(format!("location {}", location.0)))?;
        TimeZone::get(&name)
            .map_err(|e| StoreError::Corrupt(format!("the location's time zone '{name}': {e}")))
    }

    /// Refuses `field.KEY` filters naming no contact custom field of the location, so a typo
    /// is caught when the list is saved rather than making it silently empty.
    async fn check_filter_fields(&self, location: LocationId, filters: &[Filter]) -> Result<()> {
        let keys: Vec<&str> = filters
            .iter()
            .filter_map(|f| match &f.condition {
                Condition::Field { key, .. } => Some(key.as_str()),
                _ => None,
            })
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let known = self
            .custom_fields(location, &domain::ObjectKind::Contact)
            .await?;
        for key in keys {
            if !known.iter().any(|f| f.key == key) {
                return Err(StoreError::not_found(format!(
                    "a contact custom field with key '{key}' (known keys: {})",
                    known
                        .iter()
                        .map(|f| f.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Saves a Smart List. Its name must be new in the location (a conflict otherwise) and
    /// every `field.KEY` must name a contact custom field of the location (not found
    /// otherwise).
    pub async fn create_smart_list(
        &self,
        location: LocationId,
        name: &str,
        filters: &[Filter],
    ) -> Result<SmartList> {
        let name = name.trim();
        self.check_filter_fields(location, filters).await?;
        let exprs: Vec<String> = filters.iter().map(Filter::to_string).collect();
        let json = serde_json::to_string(&exprs).expect("strings serialise");
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO smart_lists (location_id, name, filters, builtin, created_at) \
                 VALUES ($1, $2, $3, FALSE, $4) RETURNING id",
            )
            .bind(location.0)
            .bind(name)
            .bind(&json)
            .bind(now)
            .fetch_one(p)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("a Smart List named '{name}' already exists")))
        })?;
        Ok(SmartList {
            id,
            name: name.to_string(),
            filters: filters.to_vec(),
            builtin: false,
            created_at: now,
            unreadable: None,
            saved: Vec::new(),
        })
    }

    /// "Create a Smart List from this import" (SPEC §12): a list with the filter
    /// `import=JOB`, i.e. exactly the contacts that import created or updated. The job must
    /// be an import of this location.
    pub async fn create_import_smart_list(
        &self,
        location: LocationId,
        job_id: i64,
        name: &str,
    ) -> Result<SmartList> {
        let found: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT id FROM jobs WHERE id = $1 AND location_id = $2 AND operation = 'import'",
            )
            .bind(job_id)
            .bind(location.0)
            .fetch_optional(p)
            .await
        })?;
        if found.is_none() {
            return Err(StoreError::not_found(format!(
                "import {job_id} in this location"
            )));
        }
        let filter = Filter {
            condition: Condition::Import(job_id),
            negated: false,
        };
        self.create_smart_list(location, name, &[filter]).await
    }

    /// A location's Smart Lists, built-in ones first, each with its contact count.
    pub async fn smart_lists(&self, location: LocationId) -> Result<Vec<(SmartList, i64)>> {
        let rows: Vec<ListRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE location_id = $1 ORDER BY builtin DESC, id"
            )))
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        let tz = self.location_tz(location).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let list = from_row(row)?;
            let count = match list.unreadable {
                Some(_) => 0,
                None => self.count_where(location, &list.filters, &tz).await?,
            };
            out.push((list, count));
        }
        Ok(out)
    }

    /// A location's Smart List by its exact name.
    pub async fn smart_list_by_name(&self, location: LocationId, name: &str) -> Result<SmartList> {
        let row: Option<ListRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE location_id = $1 AND name = $2"
            )))
            .bind(location.0)
            .bind(name)
            .fetch_optional(p)
            .await
        })?;
        from_row(row.ok_or_else(|| StoreError::not_found(format!("a Smart List named '{name}'")))?)
    }

    /// A location's Smart List by its id.
    pub async fn smart_list_by_id(&self, location: LocationId, id: i64) -> Result<SmartList> {
        let row: Option<ListRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE location_id = $1 AND id = $2"
            )))
            .bind(location.0)
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        from_row(row.ok_or_else(|| StoreError::not_found(format!("Smart List {id}")))?)
    }

    /// How many of the location's contacts match every filter.
    pub async fn count_matching(&self, location: LocationId, filters: &[Filter]) -> Result<i64> {
        let tz = self.location_tz(location).await?;
        self.count_where(location, filters, &tz).await
    }

    /// The ids of the location's contacts matching every filter, ascending.
    pub async fn contact_ids_matching(
        &self,
        location: LocationId,
        filters: &[Filter],
    ) -> Result<Vec<i64>> {
        let tz = self.location_tz(location).await?;
        let (cond, args) = where_sql(filters, &tz, self.backend())?;
        let sql = format!("SELECT c.id FROM contacts c WHERE {cond} ORDER BY c.id");
        Ok(on_pool!(self, p => {
            bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(location.0), &args)
                .fetch_all(p)
                .await
        })?)
    }

    /// The number of contacts in a Smart List of the location.
    pub async fn smart_list_count(&self, location: LocationId, list: &SmartList) -> Result<i64> {
        if let Some(why) = &list.unreadable {
            return Err(StoreError::Invalid(why.clone()));
        }
        self.count_matching(location, &list.filters).await
    }

    /// The ids of the contacts in a Smart List of the location, ascending.
    pub async fn smart_list_contact_ids(
        &self,
        location: LocationId,
        list: &SmartList,
    ) -> Result<Vec<i64>> {
        if let Some(why) = &list.unreadable {
            return Err(StoreError::Invalid(why.clone()));
        }
        self.contact_ids_matching(location, &list.filters).await
    }

    async fn count_where(
        &self,
        location: LocationId,
        filters: &[Filter],
        tz: &TimeZone,
    ) -> Result<i64> {
        let (cond, args) = where_sql(filters, tz, self.backend())?;
        let sql = format!("SELECT COUNT(*) FROM contacts c WHERE {cond}");
        Ok(on_pool!(self, p => {
            bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(location.0), &args)
                .fetch_one(p)
                .await
        })?)
    }

    /// Deletes a Smart List of the location. The built-in lists cannot be deleted (a
    /// conflict); an unknown name is not found.
    pub async fn delete_smart_list(&self, location: LocationId, name: &str) -> Result<()> {
        let list = self.smart_list_by_name(location, name).await?;
        if list.builtin {
            return Err(StoreError::Conflict(format!(
                "'{name}' is a built-in Smart List and cannot be deleted"
            )));
        }
        on_pool!(self, p => {
            sqlx::query("DELETE FROM smart_lists WHERE id = $1 AND location_id = $2 AND builtin = FALSE")
                .bind(list.id)
                .bind(location.0)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
