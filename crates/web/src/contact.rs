//! A contact's page, `GET /contacts/{id}` (SPEC §13.2): every standard and custom field, tags,
//! additional values, notes, DND per channel, source and UTM, and the imports that created or
//! changed it, linked to their Bulk Actions. `POST /contacts/{id}` saves an edit of its
//! fields (the source included, SPEC §12).
//!
//! An edit is read exactly as an import reads a cell ([`engine::read_row`] with one column per
//! field), so a phone typed `(201) 555-0123` is stored `+12015550123` and a wrong value is
//! refused with the same plain message an import would give. The store bumps the contact's
//! version with the change, so a later revert of an import leaves the edited contact alone.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use domain::field::{FieldKind, ObjectKind, STANDARD_CONTACT_FIELDS};
use domain::value::ReadContext;
use engine::mapping::{ColumnUse, Target};
use engine::{RowContext, read_row};
use store::{ContactDetail, LocationId, SessionInfo};

use crate::auth::CurrentUser;
use crate::pages::{Nav, nav};
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/contacts/{id}", get(page).post(save))
}

/// Standard fields shown in the edit form, in this order; the rest of SPEC §3's fields are
/// shown apart (tags, notes, additional values, DND) or not editable (Contact ID, owner).
const EDITABLE: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "phone",
    "phone_extension",
    "company_name",
    "contact_type",
    "status",
    "source",
    "date_of_birth",
    "created_at",
    "address1",
    "city",
    "state",
    "postal_code",
    "country",
    "timezone",
    "website",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

const DND: &[(&str, &str)] = &[
    ("dnd_sms", "SMS"),
    ("dnd_email", "Email"),
    ("dnd_calls", "Calls"),
    ("dnd_voicemail", "Voicemail"),
];

/// One field of the form.
struct FieldView {
    key: String,
    label: String,
    value: String,
    /// The options of an option field (a select); empty for a text box.
    options: Vec<String>,
    /// `email`, `tel`, `url` or `text`.
    input: &'static str,
    hint: &'static str,
    custom: bool,
    error: Option<String>,
}

struct ImportView {
    job_id: i64,
    name: String,
    file_name: String,
    action: String,
    when: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactView {
    nav: Nav,
    id: i64,
    name: String,
    version: i64,
    fields: Vec<FieldView>,
    dnd: Vec<(&'static str, &'static str, bool)>,
    tags: Vec<String>,
    additional_emails: Vec<String>,
    additional_phones: Vec<String>,
    owner: String,
    email_verification: String,
    notes: Vec<(String, String, Option<i64>)>,
    imports: Vec<ImportView>,
    opportunities: Vec<store::ContactOpportunity>,
    created: String,
    updated: String,
    saved: bool,
    errors: Vec<String>,
}

fn contact_id(raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::NotFound("There is no such contact.".into()))
}

fn not_found(e: store::StoreError) -> AppError {
    if e.is_not_found() {
        AppError::NotFound("There is no such contact in this location.".into())
    } else {
        e.into()
    }
}

/// Every field a contact's form shows: the editable standard fields, then the location's
/// custom contact fields (file uploads and signatures are not typed in).
async fn targets(state: &AppState, location: LocationId) -> Result<Vec<Target>, AppError> {
    let mut out: Vec<Target> = EDITABLE
        .iter()
        .filter_map(|k| domain::field::standard_field(k))
        .map(Target::standard)
        .collect();
    for f in state
        .store
        .custom_fields(location, &ObjectKind::Contact)
        .await?
    {
        let kind = f.field_type.kind();
        if matches!(kind, FieldKind::FileUpload | FieldKind::Signature) {
            continue;
        }
        out.push(Target {
            key: f.key,
            label: f.label,
            kind,
            options: f.options,
            custom: true,
        });
    }
    Ok(out)
}

fn input_type(kind: FieldKind) -> (&'static str, &'static str) {
    match kind {
        FieldKind::Email => ("email", ""),
        FieldKind::Phone => ("tel", "with its country code, like +1 201 555 0123"),
        FieldKind::Date => ("text", "like 2024-01-31"),
        FieldKind::Country => ("text", "a country or its two-letter code"),
        FieldKind::TimeZone => ("text", "like America/New_York"),
        FieldKind::MultiSelect | FieldKind::TextboxList => ("text", "several values: a, b"),
        FieldKind::Monetary | FieldKind::Number => ("text", ""),
        _ => ("text", ""),
    }
}

fn when(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

async fn render(
    state: &AppState,
    session: &SessionInfo,
    detail: &ContactDetail,
    entered: Option<&BTreeMap<String, String>>,
    field_errors: &BTreeMap<String, String>,
    errors: Vec<String>,
    saved: bool,
) -> Result<String, AppError> {
    let location = state.store.location(session.location_id).await?;
    let tz =
        jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let values = &detail.contact.values;
    let fields = targets(state, session.location_id)
        .await?
        .into_iter()
        .map(|t| {
            let value = entered
                .and_then(|e| e.get(&t.key).cloned())
                .or_else(|| values.get(&t.key).cloned())
                .unwrap_or_default();
            let (input, hint) = input_type(t.kind);
            let options = if matches!(t.kind, FieldKind::SingleOption | FieldKind::Radio) {
                t.options.clone()
            } else if t.kind == FieldKind::Checkbox && t.options.is_empty() {
                vec!["true".into(), "false".into()]
            } else {
                Vec::new()
            };
            FieldView {
                error: field_errors.get(&t.key).cloned(),
                key: t.key,
                label: t.label,
                value,
                options,
                input,
                hint,
                custom: t.custom,
            }
        })
        .collect();
    let dnd = DND
        .iter()
        .map(|(k, label)| {
            let on = match entered {
                Some(e) => e.contains_key(*k),
                None => values.get(*k).map(String::as_str) == Some("true"),
            };
            (*k, *label, on)
        })
        .collect();
    let owner = match values.get("owner").and_then(|o| o.parse::<i64>().ok()) {
        Some(id) => state
            .store
            .location_users(session.location_id)
            .await?
            .into_iter()
            .find(|(u, _)| u.id.0 == id)
            .map(|(u, _)| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let name = store::ContactSummary {
        id: detail.contact.id,
        first_name: values.get("first_name").cloned(),
        last_name: values.get("last_name").cloned(),
        email: values.get("email").cloned(),
        phone: values.get("phone").cloned(),
        contact_type: None,
        status: None,
        created_at: 0,
    }
    .display_name();
    let view = ContactView {
        nav: nav(state, session, "contacts").await?,
        id: detail.contact.id,
        name: if name.is_empty() {
            format!("Contact {}", detail.contact.id)
        } else {
            name
        },
        version: detail.version,
        fields,
        dnd,
        tags: detail.contact.tags.clone(),
        additional_emails: detail.contact.additional_emails.clone(),
        additional_phones: detail.contact.additional_phones.clone(),
        owner,
        email_verification: detail.email_verification.clone(),
        notes: detail
            .notes
            .iter()
            .map(|n| (n.body.clone(), when(n.created_at, &tz), n.job_id))
            .collect(),
        imports: detail
            .imports
            .iter()
            .map(|i| ImportView {
                job_id: i.job_id,
                name: i.job_name.clone(),
                file_name: i.file_name.clone().unwrap_or_default(),
                action: i.action.clone(),
                when: when(i.created_at, &tz),
            })
            .collect(),
        opportunities: detail.opportunities.clone(),
        created: when(detail.created_at, &tz),
        updated: when(detail.updated_at, &tz),
        saved,
        errors,
    };
    Ok(view.render()?)
}

#[derive(serde::Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Html<String>, AppError> {
    let id = contact_id(&id)?;
    let detail = state
        .store
        .contact_detail(session.location_id, id)
        .await
        .map_err(not_found)?;
    Ok(Html(
        render(
            &state,
            &session,
            &detail,
            None,
            &BTreeMap::new(),
            vec![],
            q.saved.is_some(),
        )
        .await?,
    ))
}

/// What an edit changes, read as an import reads its cells: `Ok(changes)` in stored form, or
/// the plain message of each field that cannot be read (by field key; `""` for the contact as
/// a whole).
pub(crate) fn read_edit(
    targets: &[Target],
    current: &BTreeMap<String, String>,
    entered: &BTreeMap<String, String>,
    ctx: &RowContext,
) -> Result<BTreeMap<String, Option<String>>, BTreeMap<String, String>> {
    let changed: Vec<&Target> = targets
        .iter()
        .filter(|t| {
            let now = current.get(&t.key).map(String::as_str).unwrap_or("");
            entered
                .get(&t.key)
                .is_some_and(|v| domain::value::trim(v) != now)
        })
        .collect();
    // The contact's identifiers are read too, so an edit that leaves it without a name,
    // email or phone is refused as an import's row would be.
    let mut uses: Vec<ColumnUse> = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    for t in &changed {
        uses.push(ColumnUse::Field((*t).clone()));
        cells.push(entered.get(&t.key).cloned().unwrap_or_default());
    }
    for key in ["first_name", "email", "phone"] {
        if !changed.iter().any(|t| t.key == key)
            && let Some(f) = domain::field::standard_field(key)
        {
            uses.push(ColumnUse::Field(Target::standard(f)));
            cells.push(current.get(key).cloned().unwrap_or_default());
        }
    }
    let input = read_row(1, &cells, &uses, ctx);
    if !input.messages.is_empty() {
        let mut errors = BTreeMap::new();
        for m in &input.messages {
            let key = m.field.as_deref().unwrap_or("").to_string();
            let message = m.message.trim_end_matches('.');
            let text = if m.resolution.is_empty() {
                format!("{message}.")
            } else {
                format!("{message}. {}", m.resolution)
            };
            errors
                .entry(key)
                .and_modify(|e: &mut String| {
                    e.push(' ');
                    e.push_str(&text)
                })
                .or_insert(text);
        }
        return Err(errors);
    }
    let mut out = BTreeMap::new();
    for t in &changed {
        let value = input.values.get(&t.key).cloned().flatten();
        out.insert(t.key.clone(), value);
        if t.key == "phone"
            && let Some(ext) = input.values.get("phone_extension").cloned().flatten()
        {
            out.insert("phone_extension".to_string(), Some(ext));
        }
    }
    Ok(out)
}

/// `POST /contacts/{id}`: form fields by field key (`version`: the one the page showed; each
/// DND channel's key present when checked). Redirects back with `saved=1`, or shows the page
/// again with what was typed and a plain message per field that cannot be read (422).
async fn save(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = contact_id(&id)?;
    let loc = session.location_id;
    let detail = state
        .store
        .contact_detail(loc, id)
        .await
        .map_err(not_found)?;
    let mut entered: BTreeMap<String, String> = BTreeMap::new();
    let mut version = detail.version;
    for (k, v) in form {
        match k.as_str() {
            "version" => {
                version = v.trim().parse().map_err(|_| {
                    AppError::BadRequest("The form's version is not a number.".into())
                })?
            }
            "csrf_token" => {}
            _ => {
                entered.insert(k, v);
            }
        }
    }
    let targets = targets(&state, loc).await?;
    let location = state.store.location(loc).await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date();
    let read = ReadContext::new(&location.settings, today).map_err(|e| {
        AppError::BadRequest(format!(
            "The location's settings cannot be used to read values: {e}. Fix them on the Settings page."
        ))
    })?;
    let ctx = RowContext {
        read,
        users: Vec::new(),
        value_map: Default::default(),
        tags_for_all: Vec::new(),
        date_orders: Default::default(),
        workbook: None,
        defaults: Vec::new(),
        promotable: Default::default(),
    };
    let current = &detail.contact.values;
    let result = read_edit(&targets, current, &entered, &ctx).map(|mut changes| {
        for (key, _) in DND {
            let was = current.get(*key).map(String::as_str) == Some("true");
            let now = entered.contains_key(*key);
            if was != now {
                changes.insert(key.to_string(), Some(now.to_string()));
            }
        }
        changes
    });
    let failure = match result {
        Ok(changes) if changes.is_empty() => {
            return Ok(Redirect::to(&format!("/contacts/{id}?saved=1")).into_response());
        }
        Ok(changes) => match state
            .store
            .update_contact_fields(loc, id, version, &changes)
            .await
        {
            Ok(()) => return Ok(Redirect::to(&format!("/contacts/{id}?saved=1")).into_response()),
            Err(e) if e.is_conflict() => (
                None,
                BTreeMap::new(),
                vec![format!(
                    "Nothing was saved: {e}. Check the values below and save again."
                )],
            ),
            Err(e) => return Err(not_found(e)),
        },
        Err(field_errors) => {
            let labels: BTreeMap<&str, &str> = targets
                .iter()
                .map(|t| (t.key.as_str(), t.label.as_str()))
                .chain(STANDARD_CONTACT_FIELDS.iter().map(|f| (f.key, f.label)))
                .collect();
            let list = field_errors
                .iter()
                .map(|(k, m)| match labels.get(k.as_str()) {
                    Some(label) => format!("{label}: {m}"),
                    None => m.clone(),
                })
                .collect();
            (Some(version), field_errors, list)
        }
    };
    let (keep_version, field_errors, errors) = failure;
    // The page shows what was typed, against the contact as it is now.
    let fresh = state
        .store
        .contact_detail(loc, id)
        .await
        .map_err(not_found)?;
    let mut fresh = fresh;
    // After a field error the form keeps the version it was made against, so a change made
    // meanwhile is still caught; after a conflict it takes the new one (the page now shows
    // the contact as it is).
    if let Some(v) = keep_version {
        fresh.version = v;
    }
    let html = render(
        &state,
        &session,
        &fresh,
        Some(&entered),
        &field_errors,
        errors,
        false,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}
