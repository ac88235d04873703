//! The HTML pages of SPEC §13.2's stable routes that exist so far: login, logout, contacts,
//! settings, and `/healthz`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use domain::{DateOrder, LocationSettings, MatchOrder};
use serde::Deserialize;
use store::SessionInfo;

use crate::auth::{self, AdminUser, CurrentUser, SESSION_COOKIE, SESSION_DAYS};
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/contacts") }))
        .route("/healthz", get(healthz))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/contacts", get(contacts))
        .route("/settings", get(settings_page).post(save_settings))
        .route("/location", axum::routing::post(switch_location))
}

#[derive(Deserialize)]
struct SwitchForm {
    location: String,
}

/// `POST /location` (`location`: an id): a person with a role in several locations acts in
/// another one from now on, with that location's role.
async fn switch_location(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    let not_yours = || AppError::NotFound("You have no role in that location.".into());
    let id: i64 = form.location.trim().parse().map_err(|_| not_yours())?;
    state
        .store
        .switch_session_location(&session.session_key, store::LocationId(id))
        .await
        .map_err(|e| {
            if e.is_not_found() {
                not_yours()
            } else {
                e.into()
            }
        })?;
    Ok(Redirect::to("/contacts").into_response())
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// The navigation bar's context.
pub(crate) struct Nav {
    pub(crate) active: &'static str,
    pub(crate) admin: bool,
    pub(crate) user_name: String,
    pub(crate) location_name: String,
    /// Unread "your export is ready" notices (admins only).
    pub(crate) notices: Vec<crate::exports::Notice>,
    /// The session's form token, sent back by every form (SPEC §13.2).
    pub(crate) csrf: String,
    /// The locations the person has a role in, when more than one: `(id, name, current)`.
    pub(crate) locations: Vec<(i64, String, bool)>,
}

pub(crate) async fn nav(
    state: &AppState,
    session: &SessionInfo,
    active: &'static str,
) -> Result<Nav, AppError> {
    let location = state.store.location(session.location_id).await?;
    let admin = session.role == domain::Role::Admin;
    let notices = if admin {
        crate::exports::notices(state, session.location_id, session.user.id).await?
    } else {
        Vec::new()
    };
    let memberships = state.store.memberships(session.user.id).await?;
    let locations = if memberships.len() > 1 {
        memberships
            .into_iter()
            .map(|m| {
                let current = m.location_id == session.location_id;
                (m.location_id.0, m.location_name, current)
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Nav {
        locations,
        active,
        admin,
        notices,
        csrf: auth::form_token(&session.session_key),
        user_name: session.user.name.clone(),
        location_name: location.name,
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    email: String,
}

async fn login_page() -> Result<Html<String>, AppError> {
    Ok(Html(
        LoginPage {
            error: None,
            email: String::new(),
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

/// How many failed logins, for one email or from one address, open the window of refusals.
pub(crate) const LOGIN_FAILURES: i64 = 10;
/// The window failed logins are counted over (15 minutes).
pub(crate) const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// `POST /login`: 303 to the contacts with a session cookie, 401 for a wrong email or
/// password, 429 with `Retry-After` while the email or the address has had
/// [`LOGIN_FAILURES`] failures within [`LOGIN_WINDOW_MS`] (SPEC §13.2). The password is checked
/// off the request threads ([`auth::check_password`]).
async fn login(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let address = peer
        .map(|axum::Extension(axum::extract::ConnectInfo(a))| a.ip().to_string())
        .unwrap_or_default();
    let page = |status: StatusCode, message: &str| -> Result<Response, AppError> {
        let page = LoginPage {
            error: Some(message.to_string()),
            email: form.email.clone(),
        };
        Ok((status, Html(page.render()?)).into_response())
    };
    if let Some(until) = state
        .store
        .login_blocked_until(&form.email, &address, LOGIN_FAILURES, LOGIN_WINDOW_MS)
        .await?
    {
        let seconds = ((until - store::now_ms()) / 1000).max(1);
        let minutes = (seconds + 59) / 60;
        let mut response = page(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many failed sign-ins for this email or from this network. Wait {minutes} minute{} and try again, or ask an admin to check your account.",
                if minutes == 1 { "" } else { "s" }
            ),
        )?;
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(seconds),
        );
        return Ok(response);
    }
    let wrong = "That email and password do not match an account. Check both and try again.";
    let found = state.store.user_with_password(&form.email).await?;
    // An unknown email costs the same time as a real check, so timing does not reveal who has
    // an account.
    let hash = found.as_ref().map_or(DUMMY_HASH, |(_, hash)| hash.as_str());
    let matches = auth::check_password(&form.password, hash).await;
    let user = match found {
        Some((user, _)) if matches => user,
        _ => {
            state
                .store
                .record_login_failure(&form.email, &address, LOGIN_WINDOW_MS)
                .await?;
            return page(StatusCode::UNAUTHORIZED, wrong);
        }
    };
    let Some(membership) = state.store.memberships(user.id).await?.into_iter().next() else {
        return page(
            StatusCode::UNAUTHORIZED,
            "Your account is not part of any location yet. Ask an admin to add you.",
        );
    };
    let (token, token_hash) = auth::new_session_token();
    let expires = store::now_ms() + SESSION_DAYS * 24 * 3600 * 1000;
    state
        .store
        .create_session(&token_hash, user.id, membership.location_id, expires)
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_DAYS * 24 * 3600
    );
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/contacts")).into_response())
}

/// A valid Argon2 hash of a random password, verified against when the email is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3MzdXF8Jd8P0pmFC0WvCvGTLhTmyA0SxXNu5ZI4B9Ew";

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = auth::session_token(&headers);
    if let Some(token) = token {
        state
            .store
            .delete_session(&auth::token_hash(&token))
            .await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(([(SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

const PER_PAGE: i64 = 50;

#[derive(Deserialize)]
struct ContactsQuery {
    q: Option<String>,
    page: Option<i64>,
}

struct ContactRow {
    id: i64,
    name: String,
    email: String,
    phone: String,
    contact_type: String,
    status: String,
    created: String,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    nav: Nav,
    location_name: String,
    query: String,
    query_url: String,
    rows: Vec<ContactRow>,
    total: i64,
    page: i64,
    pages: i64,
    prev_page: Option<i64>,
    next_page: Option<i64>,
}

async fn contacts(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ContactsQuery>,
) -> Result<Html<String>, AppError> {
    let query = q.q.unwrap_or_default().trim().to_string();
    // A page past the last (2^63 included) shows the last page: the offset never overflows.
    let mut page = q.page.unwrap_or(1).clamp(1, i64::MAX / PER_PAGE);
    let mut result = state
        .store
        .contacts_page(
            session.location_id,
            Some(&query),
            (page - 1) * PER_PAGE,
            PER_PAGE,
        )
        .await?;
    let last = ((result.total + PER_PAGE - 1) / PER_PAGE).max(1);
    if page > last {
        page = last;
        result = state
            .store
            .contacts_page(
                session.location_id,
                Some(&query),
                (page - 1) * PER_PAGE,
                PER_PAGE,
            )
            .await?;
    }
    let location = state.store.location(session.location_id).await?;
    let tz =
        jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let rows = result
        .contacts
        .iter()
        .map(|c| ContactRow {
            id: c.id,
            name: c.display_name(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            contact_type: c.contact_type.clone().unwrap_or_default(),
            status: c.status.clone().unwrap_or_default(),
            created: jiff::Timestamp::from_millisecond(c.created_at)
                .map(|t| {
                    t.to_zoned_datetime(tz.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
        })
        .collect();
    let pages = ((result.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let view = ContactsPage {
        nav: nav(&state, &session, "contacts").await?,
        location_name: location.name,
        query_url: url_encode(&query),
        query,
        rows,
        total: result.total,
        page,
        pages,
        prev_page: (page > 1).then(|| page - 1),
        next_page: (page < pages).then(|| page + 1),
    };
    Ok(Html(view.render()?))
}

/// Percent-encodes a query-string value.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Nav,
    location_name: String,
    saved: bool,
    errors: Vec<String>,
    country: String,
    timezone: String,
    currency: String,
    date_order: String,
    match_order: String,
    require_unique_identifier: bool,
    /// `(code, "Name (code)")`, by name: the country picker.
    countries: Vec<(&'static str, String)>,
    /// Every time zone the built-in database knows, sorted: the time zone box's suggestions.
    timezones: Vec<&'static str>,
    currencies: &'static [(&'static str, &'static str)],
}

/// Currencies offered in the settings' currency box (any ISO 4217 code may be typed).
const CURRENCIES: &[(&str, &str)] = &[
    ("USD", "US dollar"),
    ("CAD", "Canadian dollar"),
    ("EUR", "Euro"),
    ("GBP", "Pound sterling"),
    ("AUD", "Australian dollar"),
    ("NZD", "New Zealand dollar"),
    ("MXN", "Mexican peso"),
    ("CHF", "Swiss franc"),
    ("SEK", "Swedish krona"),
    ("NOK", "Norwegian krone"),
    ("DKK", "Danish krone"),
    ("PLN", "Polish złoty"),
    ("CZK", "Czech koruna"),
    ("JPY", "Japanese yen"),
    ("CNY", "Chinese yuan"),
    ("HKD", "Hong Kong dollar"),
    ("SGD", "Singapore dollar"),
    ("KRW", "South Korean won"),
    ("INR", "Indian rupee"),
    ("AED", "UAE dirham"),
    ("SAR", "Saudi riyal"),
    ("ILS", "Israeli new shekel"),
    ("TRY", "Turkish lira"),
    ("BRL", "Brazilian real"),
    ("ARS", "Argentine peso"),
    ("CLP", "Chilean peso"),
    ("COP", "Colombian peso"),
    ("ZAR", "South African rand"),
    ("PHP", "Philippine peso"),
    ("THB", "Thai baht"),
];

impl SettingsPage {
    fn new(nav: Nav, s: &SettingsForm, saved: bool, errors: Vec<String>) -> Self {
        let mut countries: Vec<(&'static str, String)> = domain::value::country::COUNTRIES
            .iter()
            .map(|c| {
                let name = if c.cldr_name.is_empty() {
                    c.iso_name
                } else {
                    c.cldr_name
                };
                (c.alpha2, format!("{name} ({})", c.alpha2))
            })
            .collect();
        countries.sort_by(|a, b| a.1.cmp(&b.1));
        let mut timezones: Vec<&'static str> = domain::value::timezone::available().collect();
        timezones.sort_unstable();
        SettingsPage {
            countries,
            timezones,
            currencies: CURRENCIES,
            location_name: nav.location_name.clone(),
            nav,
            saved,
            errors,
            country: s.country.clone(),
            timezone: s.timezone.clone(),
            currency: s.currency.clone(),
            date_order: s.date_order.clone(),
            match_order: s.match_order.clone(),
            require_unique_identifier: s.require_unique_identifier.is_some(),
        }
    }
}

#[derive(Clone)]
struct SettingsForm {
    country: String,
    timezone: String,
    currency: String,
    date_order: String,
    match_order: String,
    require_unique_identifier: Option<String>,
}

impl From<&LocationSettings> for SettingsForm {
    fn from(s: &LocationSettings) -> Self {
        SettingsForm {
            country: s.country.clone(),
            timezone: s.timezone.clone(),
            currency: s.currency.clone(),
            date_order: s.date_order.token().into(),
            match_order: s.match_order.token().into(),
            require_unique_identifier: s.require_unique_identifier.then(|| "on".into()),
        }
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn settings_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>, AppError> {
    let location = state.store.location(session.location_id).await?;
    let form = SettingsForm::from(&location.settings);
    let page = SettingsPage::new(
        nav(&state, &session, "settings").await?,
        &form,
        q.saved.is_some(),
        vec![],
    );
    Ok(Html(page.render()?))
}

/// `POST /settings` (SPEC §13.2): form fields `country`, `timezone`, `currency`,
/// `date_order`, `match_order` and `require_identifier`, each optional — a field left out
/// keeps its saved value. `require_identifier` reads `on`/`true`/`yes`/`1` or
/// `off`/`false`/`no`/`0`; of several, the last counts (the page sends `off` then, when
/// checked, `on`).
async fn save_settings(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let location = state.store.location(session.location_id).await?;
    let mut form = SettingsForm::from(&location.settings);
    let mut errors = Vec::new();
    for (name, value) in fields {
        match name.as_str() {
            "country" => form.country = value,
            "timezone" => form.timezone = value,
            "currency" => form.currency = value,
            "date_order" => form.date_order = value,
            "match_order" => form.match_order = value,
            "require_identifier" | "require_unique_identifier" => {
                match value.trim().to_ascii_lowercase().as_str() {
                    "on" | "true" | "yes" | "1" => {
                        form.require_unique_identifier = Some("on".into())
                    }
                    "off" | "false" | "no" | "0" | "" => form.require_unique_identifier = None,
                    other => errors.push(format!(
                        "“Require an email or phone” must be on or off, not “{other}”."
                    )),
                }
            }
            _ => {}
        }
    }
    match parse_settings(&form) {
        Ok(settings) if errors.is_empty() => {
            state
                .store
                .update_location_settings(session.location_id, &settings)
                .await?;
            Ok(Redirect::to("/settings?saved=1").into_response())
        }
        parsed => {
            errors.extend(parsed.err().unwrap_or_default());
            let page = SettingsPage::new(
                nav(&state, &session, "settings").await?,
                &form,
                false,
                errors,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

/// Reads the settings form, naming every field that is wrong and how to fix it.
fn parse_settings(f: &SettingsForm) -> Result<LocationSettings, Vec<String>> {
    let mut errors = Vec::new();
    let country = f.country.trim().to_ascii_uppercase();
    if !domain::location::is_country_code(&country) {
        errors.push(format!(
            "Default country “{}” is not a two-letter ISO 3166 country code. Use a code such as US, CA or GB.",
            f.country.trim()
        ));
    }
    let timezone = f.timezone.trim().to_string();
    if let Err(message) = domain::location::check_time_zone(&timezone) {
        errors.push(format!("Time zone: {message}"));
    }
    let currency = f.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(format!(
            "Currency “{}” is not a three-letter ISO 4217 code. Use a code such as USD, CAD or EUR.",
            f.currency.trim()
        ));
    }
    let date_order = f
        .date_order
        .parse::<DateOrder>()
        .map_err(|e| errors.push(format!("Date order: {e}")));
    let match_order = match f.match_order.trim().replace(' ', "").as_str() {
        "email,phone" => "email_first".to_string(),
        "phone,email" => "phone_first".to_string(),
        other => other.to_string(),
    }
    .parse::<MatchOrder>()
    .map_err(|e| errors.push(format!("Matching order: {e}")));
    match (date_order, match_order) {
        (Ok(date_order), Ok(match_order)) if errors.is_empty() => Ok(LocationSettings {
            country,
            timezone,
            currency,
            date_order,
            match_order,
            require_unique_identifier: f.require_unique_identifier.is_some(),
        }),
        _ => Err(errors),
    }
}

/// An object a page can be about: its `?object=` value (`contact`, `opportunity`, `company` or
/// a custom object's key) and its name (`Contacts`, `Treatments`).
pub(crate) struct ObjectTab {
    pub value: String,
    pub name: String,
}

/// The location's objects as tabs: contacts, opportunities, companies, then its custom objects
/// in the order they were defined.
pub(crate) async fn object_tabs(
    state: &AppState,
    location: store::LocationId,
) -> Result<Vec<ObjectTab>, AppError> {
    let mut tabs: Vec<ObjectTab> = [
        ("contact", "Contacts"),
        ("opportunity", "Opportunities"),
        ("company", "Companies"),
    ]
    .into_iter()
    .map(|(value, name)| ObjectTab {
        value: value.into(),
        name: name.into(),
    })
    .collect();
    for o in state.store.custom_objects(location).await? {
        tabs.push(ObjectTab {
            value: o.def.key,
            name: o.def.name,
        });
    }
    Ok(tabs)
}

/// The object a page's `?object=` names (contacts when absent); `None` for a custom object key
/// the location does not have.
pub(crate) async fn object_named(
    state: &AppState,
    location: store::LocationId,
    value: Option<&str>,
) -> Result<Option<domain::ObjectKind>, AppError> {
    use domain::ObjectKind;
    Ok(match value.map(str::trim).unwrap_or("contact") {
        "" | "contact" => Some(ObjectKind::Contact),
        "opportunity" => Some(ObjectKind::Opportunity),
        "company" => Some(ObjectKind::Company),
        key => state
            .store
            .custom_object_exists(location, key)
            .await?
            .then(|| ObjectKind::Custom(key.to_string())),
    })
}

/// An object's `?object=` value.
pub(crate) fn object_value(object: &domain::ObjectKind) -> String {
    match object {
        domain::ObjectKind::Custom(k) => k.clone(),
        other => other.as_stored(),
    }
}
