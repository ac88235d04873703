//! Users, their role per location, and web sessions (SPEC §2).

use domain::Role;

use crate::error::conflict_on_unique;
use crate::{LocationId, Result, Store, StoreError, UserId, now_ms, on_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// A user's role in one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub location_id: LocationId,
    pub location_name: String,
    pub role: Role,
}

/// Who a live session belongs to, and in which location it acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub user: User,
    pub location_id: LocationId,
    pub role: Role,
    /// What names the session in the database (the SHA-256 of its cookie's token): the web
    /// derives the session's form token from it.
    pub session_key: String,
}

/// The key users are found by: the email in Unicode lower case.
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn role(token: &str) -> Result<Role> {
    token.parse().map_err(StoreError::Corrupt)
}

impl Store {
    /// Creates a user with a role in `location`. A user who already exists (by email) is given
    /// the role in this location instead, keeping their password; being a member already is a
    /// conflict.
    pub async fn create_user(
        &self,
        location: LocationId,
        email: &str,
        name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User> {
        let key = email_key(email);
        let email = email.trim();
        let now = now_ms();
        let (id, email, name): (i64, String, String) = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let existing: Option<(i64, String, String)> =
                sqlx::query_as("SELECT id, email, name FROM users WHERE email_key = $1")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?;
            let user = match existing {
                Some(u) => u,
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO users (email, email_key, name, password_hash, created_at) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(email)
                    .bind(&key)
                    .bind(name)
                    .bind(password_hash)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    (id, email.to_string(), name.to_string())
                }
            };
            sqlx::query("INSERT INTO memberships (location_id, user_id, role) VALUES ($1, $2, $3)")
                .bind(location.0)
                .bind(user.0)
                .bind(role.token())
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("{email} is already a user of this location")))?;
            tx.commit().await?;
            Ok::<_, StoreError>(user)
        })?;
        Ok(User {
            id: UserId(id),
            email,
            name,
        })
    }

    /// Gives an existing user a role in another location (their password unchanged). A user
    /// of this location already is a conflict.
    pub async fn add_membership(
        &self,
        location: LocationId,
        user: UserId,
        role: Role,
    ) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("INSERT INTO memberships (location_id, user_id, role) VALUES ($1, $2, $3)")
                .bind(location.0)
                .bind(user.0)
                .bind(role.token())
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| conflict_on_unique(e, || "this person is already a user of this location".to_string()))
        })?;
        Ok(())
    }

    /// Changes a user's role in this location. Never leaves the location without an admin:
    /// making its last admin a user is refused ([`StoreError::Invalid`], in plain words). Not
    /// found when the user has no role in this location. The location's row is locked first,
    /// so two admins demoting each other at once cannot both succeed.
    pub async fn set_role(&self, location: LocationId, user: UserId, role: Role) -> Result<()> {
        // 0: not a user of the location; 1: refused (the last admin); 2: done.
        let outcome: u8 = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE locations SET id = id WHERE id = $1")
                .bind(location.0)
                .execute(&mut *tx)
                .await?;
            let current: Option<String> = sqlx::query_scalar(
                "SELECT role FROM memberships WHERE location_id = $1 AND user_id = $2",
            )
            .bind(location.0)
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?;
            let other_admins: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM memberships WHERE location_id = $1 AND user_id <> $2 AND role = $3",
            )
            .bind(location.0)
            .bind(user.0)
            .bind(Role::Admin.token())
            .fetch_one(&mut *tx)
            .await?;
            let outcome = match current {
                None => 0,
                Some(_) if role != Role::Admin && other_admins == 0 => 1,
                Some(_) => {
                    sqlx::query(
                        "UPDATE memberships SET role = $3 WHERE location_id = $1 AND user_id = $2",
                    )
                    .bind(location.0)
                    .bind(user.0)
                    .bind(role.token())
                    .execute(&mut *tx)
                    .await?;
                    2
                }
            };
            tx.commit().await?;
            Ok::<u8, StoreError>(outcome)
        })?;
        match outcome {
            0 => Err(StoreError::not_found("a user of this location")),
            1 => Err(StoreError::Invalid(
                "this location needs at least one admin: make someone else an admin first"
                    .to_string(),
            )),
            _ => Ok(()),
        }
    }

    /// The user with this email (any case) and their password hash.
    pub async fn user_with_password(&self, email: &str) -> Result<Option<(User, String)>> {
        let row: Option<(i64, String, String, String)> = on_pool!(self, p => {
            sqlx::query_as("SELECT id, email, name, password_hash FROM users WHERE email_key = $1")
                .bind(email_key(email))
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(|(id, email, name, hash)| {
            (
                User {
                    id: UserId(id),
                    email,
                    name,
                },
                hash,
            )
        }))
    }

    /// Until when logins for `email` or from `address` are refused (SPEC §13.2): the time the
    /// `limit`-th most recent failure within `window_ms` falls out of the window, for the email
    /// or the address, whichever is later; `None` when neither has `limit` failures in it.
    pub async fn login_blocked_until(
        &self,
        email: &str,
        address: &str,
        limit: i64,
        window_ms: i64,
    ) -> Result<Option<i64>> {
        let since = now_ms() - window_ms;
        let email = email_key(email);
        let mut until = None;
        for (column, value) in [("email_key", email.as_str()), ("address", address)] {
            let at: Option<i64> = on_pool!(self, p => {
                let sql = if column == "email_key" {
                    "SELECT at FROM login_failures WHERE email_key = $1 AND at > $2 \
                     ORDER BY at DESC LIMIT 1 OFFSET $3"
                } else {
                    "SELECT at FROM login_failures WHERE address = $1 AND at > $2 \
                     ORDER BY at DESC LIMIT 1 OFFSET $3"
                };
                sqlx::query_scalar(sql)
                    .bind(value)
                    .bind(since)
                    .bind(limit - 1)
                    .fetch_optional(p)
                    .await
            })?;
            if let Some(at) = at {
                until = until.max(Some(at + window_ms));
            }
        }
        Ok(until)
    }

    /// Records a failed login for `email` from `address`, and forgets failures older than
    /// `window_ms`.
    pub async fn record_login_failure(
        &self,
        email: &str,
        address: &str,
        window_ms: i64,
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, p => {
            sqlx::query("DELETE FROM login_failures WHERE at <= $1")
                .bind(now - window_ms)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        on_pool!(self, p => {
            sqlx::query("INSERT INTO login_failures (email_key, address, at) VALUES ($1, $2, $3)")
                .bind(email_key(email))
                .bind(address)
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// How many users exist at all (zero on a first run).
    pub async fn user_count(&self) -> Result<i64> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?,
        )
    }

    /// The locations a user belongs to, by location name.
    pub async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        let rows: Vec<(i64, String, String)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT l.id, l.name, m.role FROM memberships m JOIN locations l ON l.id = m.location_id \
                 WHERE m.user_id = $1 ORDER BY l.name",
            )
            .bind(user.0)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(id, name, r)| {
                Ok(Membership {
                    location_id: LocationId(id),
                    location_name: name,
                    role: role(&r)?,
                })
            })
            .collect()
    }

    /// The users of a location with their roles, by name.
    pub async fn location_users(&self, location: LocationId) -> Result<Vec<(User, Role)>> {
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.location_id = $1 ORDER BY u.name, u.id",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(id, email, name, r)| {
                Ok((
                    User {
                        id: UserId(id),
                        email,
                        name,
                    },
                    role(&r)?,
                ))
            })
            .collect()
    }

    /// Records a session whose cookie token hashes to `token_hash`.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        location: LocationId,
        expires_at: i64,
    ) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, location_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(user.0)
            .bind(location.0)
            .bind(now_ms())
            .bind(expires_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The live session with this token hash, with the user's current role in its location.
    /// An expired session, or one whose user lost their membership, is no session.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionInfo>> {
        let row: Option<(i64, String, String, i64, String)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.name, s.location_id, m.role FROM sessions s \
                 JOIN users u ON u.id = s.user_id \
                 JOIN memberships m ON m.user_id = s.user_id AND m.location_id = s.location_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(token_hash)
            .bind(now_ms())
            .fetch_optional(p)
            .await
        })?;
        row.map(|(id, email, name, location, r)| {
            Ok(SessionInfo {
                user: User {
                    id: UserId(id),
                    email,
                    name,
                },
                location_id: LocationId(location),
                role: role(&r)?,
                session_key: token_hash.to_string(),
            })
        })
        .transpose()
    }

    /// Moves a session to another location of its user (a person with a role in several
    /// locations chooses where to act). Not found when the user has no role there.
    pub async fn switch_session_location(
        &self,
        token_hash: &str,
        location: LocationId,
    ) -> Result<()> {
        let moved = on_pool!(self, p => {
            sqlx::query(
                "UPDATE sessions SET location_id = $2 WHERE token_hash = $1 AND expires_at > $3 \
                 AND EXISTS (SELECT 1 FROM memberships m \
                             WHERE m.user_id = sessions.user_id AND m.location_id = $2)",
            )
            .bind(token_hash)
            .bind(location.0)
            .bind(now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if moved == 0 {
            return Err(StoreError::not_found(format!(
                "a location {} of this user",
                location.0
            )));
        }
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
