//! Who is asking: passwords (Argon2), session cookies, and the extractors that every page
//! uses to require a signed-in user or an admin.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use domain::{LocationSettings, Role};
use sha2::{Digest, Sha256};
use store::{SessionInfo, Store};

use crate::{AppError, AppState};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "aesthetix_session";
/// How long a session lasts without signing in again.
pub const SESSION_DAYS: i64 = 14;

/// Hashes a password with Argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password with default parameters")
        .to_string()
}

/// Whether `password` matches a hash made by [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// How many passwords are hashed or checked at once: each Argon2 run takes 19 MiB and a core
/// for tens of milliseconds, so a burst of sign-ins waits its turn instead of taking the
/// machine's memory and every request thread.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`verify_password`] on a blocking thread, at most two at a time: never on the threads that
/// answer requests (SPEC §13.2).
pub async fn check_password(password: &str, hash: &str) -> bool {
    let Ok(_turn) = HASHING.acquire().await else {
        return false;
    };
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system provides random bytes");
    buf
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random session token (what the cookie holds) and its hash (what the database holds).
pub(crate) fn new_session_token() -> (String, String) {
    let token = hex(&random_bytes::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

/// What names a session in the database for the secret token its cookie holds (for tools
/// that make sessions themselves, such as the fuzz target).
pub fn session_key_of(token: &str) -> String {
    token_hash(token)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The name of the form field, and of the header, that carry a session's form token.
pub const FORM_TOKEN_FIELD: &str = "csrf_token";
pub const FORM_TOKEN_HEADER: &str = "x-csrf-token";

/// The session's form token (SPEC §13.2): every form a signed-in page shows carries it, and
/// every POST of a signed-in browser must send it back, so a page of another site — which
/// cannot read our pages — cannot make the browser post for it. Derived from what names the
/// session (the SHA-256 of its cookie's secret token), so it needs no storage and ends with
/// the session.
pub fn form_token(session_key: &str) -> String {
    let digest = Sha256::digest(format!("aesthetix form token\0{session_key}").as_bytes());
    hex(&digest[..16])
}

/// The form token of the session a `Cookie` header's value names (`aesthetix_session=…`),
/// for clients that post forms themselves (the tests); empty without a session cookie.
pub fn form_token_of_cookie(cookie: &str) -> String {
    let mut headers = axum::http::HeaderMap::new();
    if let Ok(v) = axum::http::HeaderValue::from_str(cookie) {
        headers.insert(COOKIE, v);
    }
    expected_form_token(&headers).unwrap_or_default()
}

/// The form token a request with this session cookie must send, if it has a session cookie.
pub(crate) fn expected_form_token(headers: &axum::http::HeaderMap) -> Option<String> {
    session_token(headers).map(|t| form_token(&token_hash(&t)))
}

/// Compares two tokens in time that depends only on their length.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A password a person can type: 20 characters from an alphabet without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    random_bytes::<20>()
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The session token in a request's cookies, if any.
pub(crate) fn session_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// A signed-in person and the location they act in. Extracting it from a request without a
/// live session answers with a redirect to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionInfo);

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.0.role == Role::Admin
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = session_token(&parts.headers).ok_or(AppError::LoginRequired)?;
        match state.store.session(&token_hash(&token)).await? {
            Some(session) => Ok(CurrentUser(session)),
            None => Err(AppError::LoginRequired),
        }
    }
}

/// A signed-in admin of their location. Anyone else signed in gets 403 (SPEC §2).
#[derive(Debug, Clone)]
pub struct AdminUser(pub SessionInfo);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(session) = CurrentUser::from_request_parts(parts, state).await?;
        if session.role != Role::Admin {
            return Err(AppError::Forbidden(
                "Only an admin of this location can open this page. Ask an admin for access."
                    .into(),
            ));
        }
        Ok(AdminUser(session))
    }
}

/// The login created on a first run, shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstRunLogin {
    pub location: String,
    pub email: String,
    pub password: String,
}

/// On a database without any user, creates a first location (unless one exists) and an admin
/// with a freshly generated password, and returns the login to show once. Never a default
/// password; `None` when users already exist.
pub async fn first_run(store: &Store) -> Result<Option<FirstRunLogin>, store::StoreError> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let location = match store.locations().await?.into_iter().next() {
        Some(l) => l,
        None => {
            store
                .create_location("My Practice", &LocationSettings::default())
                .await?
        }
    };
    let password = generate_password();
    let email = "admin@localhost";
    store
        .create_user(
            location.id,
            email,
            "Administrator",
            &hash_password(&password),
            Role::Admin,
        )
        .await?;
    Ok(Some(FirstRunLogin {
        location: location.name,
        email: email.into(),
        password,
    }))
}
