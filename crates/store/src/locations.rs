//! Locations (tenants) and their settings (SPEC §2).

use domain::LocationSettings;
use domain::field::{STARTER_CUSTOM_FIELDS, default_field_key};

use crate::error::conflict_on_unique;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A location with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub settings: LocationSettings,
}

/// The built-in Smart Lists every location has from creation (SPEC §12), as §13.1 filters.
pub(crate) const BUILTIN_SMART_LISTS: &[(&str, &[&str])] = &[
    ("Leads", &["type=Lead"]),
    ("Patients", &["type=Patient"]),
    (
        "Mass SMS",
        &["has=phone", "status=Subscribed", "dnd_sms=false"],
    ),
    (
        "Mass Email",
        &[
            "has=email",
            "status=Subscribed",
            "dnd_email=false",
            "verification!=invalid",
        ],
    ),
];

type LocationRow = (i64, String, String, String, String, String, String, bool);

const SELECT: &str = "SELECT id, name, country, timezone, currency, date_order, match_order, \
                      require_unique_identifier FROM locations";

fn from_row(r: LocationRow) -> Result<Location> {
    let (id, name, country, timezone, currency, date_order, match_order, require) = r;
    Ok(Location {
        id: LocationId(id),
        name,
        settings: LocationSettings {
            country,
            timezone,
            currency,
            date_order: date_order.parse().map_err(StoreError::Corrupt)?,
            match_order: match_order.parse().map_err(StoreError::Corrupt)?,
            require_unique_identifier: require,
        },
    })
}

impl Store {
    /// Creates a location with its settings, the aesthetics starter custom fields (SPEC §3)
    /// and the built-in Smart Lists (SPEC §12), in one transaction.
    pub async fn create_location(
        &self,
        name: &str,
        settings: &LocationSettings,
    ) -> Result<Location> {
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO locations (name, country, timezone, currency, date_order, match_order, \
                 require_unique_identifier, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(name)
            .bind(&settings.country)
            .bind(&settings.timezone)
            .bind(&settings.currency)
            .bind(settings.date_order.token())
            .bind(settings.match_order.token())
            .bind(settings.require_unique_identifier)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("a location named '{name}' already exists")))?;
            for (position, (label, ty)) in STARTER_CUSTOM_FIELDS.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO custom_fields (location_id, object, field_key, label, field_type, position, created_at) \
                     VALUES ($1, 'contact', $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(default_field_key(label))
                .bind(*label)
                .bind(ty.token())
                .bind(position as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for (list, filters) in BUILTIN_SMART_LISTS {
                let filters = serde_json::to_string(filters).expect("filters serialise");
                sqlx::query(
                    "INSERT INTO smart_lists (location_id, name, filters, builtin, created_at) VALUES ($1, $2, $3, TRUE, $4)",
                )
                .bind(id)
                .bind(*list)
                .bind(filters)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        })?;
        Ok(Location {
            id: LocationId(id),
            name: name.to_string(),
            settings: settings.clone(),
        })
    }

    pub async fn location(&self, id: LocationId) -> Result<Location> {
        let row: Option<LocationRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
                .bind(id.0)
                .fetch_optional(p)
                .await
        })?;
        from_row(row.ok_or_else(|| StoreError::not_found(format!("location {}", id.0)))?)
    }

    /// Finds a location by its exact name.
    pub async fn location_by_name(&self, name: &str) -> Result<Location> {
        let row: Option<LocationRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE name = $1")))
                .bind(name)
                .fetch_optional(p)
                .await
        })?;
        from_row(row.ok_or_else(|| StoreError::not_found(format!("location '{name}'")))?)
    }

    /// Every location, by name.
    pub async fn locations(&self) -> Result<Vec<Location>> {
        let rows: Vec<LocationRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY name"))).fetch_all(p).await
        })?;
        rows.into_iter().map(from_row).collect()
    }

    pub async fn update_location_settings(
        &self,
        id: LocationId,
        s: &LocationSettings,
    ) -> Result<()> {
        let done = on_pool!(self, p => {
            sqlx::query(
                "UPDATE locations SET country = $2, timezone = $3, currency = $4, date_order = $5, \
                 match_order = $6, require_unique_identifier = $7 WHERE id = $1",
            )
            .bind(id.0)
            .bind(&s.country)
            .bind(&s.timezone)
            .bind(&s.currency)
            .bind(s.date_order.token())
            .bind(s.match_order.token())
            .bind(s.require_unique_identifier)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::not_found(format!("location {}", id.0)));
        }
        Ok(())
    }

    /// The names of a location's Smart Lists, built-in ones first.
    pub async fn smart_list_names(&self, location: LocationId) -> Result<Vec<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT name FROM smart_lists WHERE location_id = $1 ORDER BY builtin DESC, id",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?)
    }
}
