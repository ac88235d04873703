//! Any bytes, as the form or JSON body (or query) of a request to one of the wizard's and the
//! API's routes, sent through the whole application as a signed-in admin or an API key would
//! (SPEC §13.2, "Hostile clients"): every request is answered 2xx, 3xx or 4xx — never a 5xx,
//! never a panic (the in-process equivalent of a dropped connection).
//!
//! The application runs once per fuzzing process on a SQLite database in a temporary
//! directory (under /dev/shm when it exists, so commits cost no disk flush), with a location,
//! an admin session, an API key and one import draft over a small CSV.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct App {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    cookie: String,
    csrf: String,
    key: String,
    draft: i64,
}

const CSV: &str = "First Name,Last Name,Email,Phone,Type,Tags,Favourite\n\
Ann,Lee,ann@example.com,201-555-0101,Patient,vip,red\n\
Bob,Ray,bob@example.com,201-555-0102,Lead,,blue\n";

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("aesthetix-fuzz-web-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (router, cookie, key, draft) = runtime.block_on(async {
            let store = store::Store::open_sqlite(&dir.join("aesthetix.db")).await.unwrap();
            web::first_run(&store).await.unwrap().expect("a new database");
            let location = store.locations().await.unwrap()[0].id;
            let (user, _) = store
                .user_with_password("admin@localhost")
                .await
                .unwrap()
                .unwrap();
            let token = "fuzz-session-token";
            let token_hash = web::auth::session_key_of(token);
            store
                .create_session(&token_hash, user.id, location, i64::MAX / 2)
                .await
                .unwrap();
            let (key, _) = web::api::create_api_key(&store, location).await.unwrap();
            let files = filestore::FileStore::local(&dir);
            let draft = jobs::wizard::upload(
                &store,
                &files,
                location,
                Some(user.id),
                "patients.csv",
                None,
                CSV.as_bytes(),
            )
            .await
            .unwrap();
            let state = web::AppState {
                store,
                files,
                data_dir: dir.clone(),
            };
            (
                web::router(state),
                format!("{}={token}", web::auth::SESSION_COOKIE),
                key,
                draft,
            )
        });
        let csrf = web::auth::form_token_of_cookie(&cookie);
        App {
            runtime,
            router,
            cookie,
            csrf,
            key,
            draft,
        }
    })
}

/// How a route takes its input.
#[derive(Clone, Copy)]
enum Input {
    /// A URL-encoded form body (the pages), with the session and its form token.
    Form,
    /// A query string (the pages), with the session.
    Query,
    /// A JSON body, with the API key.
    Json,
    /// A query string, with the API key.
    ApiQuery,
}

/// The routes fuzzed: `{d}` is a draft id.
const ROUTES: &[(Method, &str, Input)] = &[
    (Method::POST, "/imports/{d}/map", Input::Form),
    (Method::POST, "/imports/{d}/values", Input::Form),
    (Method::POST, "/imports/{d}/details", Input::Form),
    (Method::POST, "/imports/{d}/sheet", Input::Form),
    (Method::POST, "/imports/{d}/validate", Input::Form),
    (Method::POST, "/settings", Input::Form),
    (Method::POST, "/exports", Input::Form),
    (Method::POST, "/exports/schedules", Input::Form),
    (Method::POST, "/login", Input::Form),
    (Method::GET, "/contacts", Input::Query),
    (Method::GET, "/imports/{d}/map", Input::Query),
    (Method::GET, "/bulk-actions/1", Input::Query),
    (Method::GET, "/exports/new", Input::Query),
    (Method::PUT, "/api/v1/imports/drafts/{d}/mapping", Input::Json),
    (Method::PUT, "/api/v1/imports/drafts/{d}/details", Input::Json),
    (Method::PUT, "/api/v1/imports/drafts/{d}/option-values", Input::Json),
    (Method::POST, "/api/v1/imports/drafts/{d}/validate", Input::Json),
    (Method::POST, "/api/v1/exports", Input::Json),
    (Method::GET, "/api/v1/contacts", Input::ApiQuery),
    (Method::GET, "/api/v1/bulk-actions", Input::ApiQuery),
    (Method::GET, "/api/v1/bulk-actions/1/lines", Input::ApiQuery),
    (Method::GET, "/api/v1/imports/drafts/{d}", Input::ApiQuery),
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Some((&which_draft, rest)) = rest.split_first() else {
        return;
    };
    let app = app();
    let (method, path, input) = &ROUTES[choice as usize % ROUTES.len()];
    let draft = match which_draft % 4 {
        0 => app.draft.to_string(),
        1 => "999999".to_string(),
        2 => "9223372036854775807".to_string(),
        _ => String::from_utf8_lossy(&rest[..rest.len().min(8)]).into_owned(),
    };
    let path = path.replace("{d}", &draft);
    let mut req = Request::builder().method(method.clone());
    let body = match input {
        Input::Form => {
            req = req
                .uri(&path)
                .header(header::COOKIE, &app.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let mut body = format!("csrf_token={}&", app.csrf).into_bytes();
            body.extend_from_slice(rest);
            Body::from(body)
        }
        Input::Json => {
            req = req
                .uri(&path)
                .header(header::AUTHORIZATION, format!("Bearer {}", app.key))
                .header(header::CONTENT_TYPE, "application/json");
            Body::from(rest.to_vec())
        }
        Input::Query | Input::ApiQuery => {
            let query: String = rest
                .iter()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'=' | b'&' | b'%' | b'-' | b'.' => {
                        (*b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            req = req.uri(format!("{path}?{query}"));
            req = match input {
                Input::Query => req.header(header::COOKIE, &app.cookie),
                _ => req.header(header::AUTHORIZATION, format!("Bearer {}", app.key)),
            };
            Body::empty()
        }
    };
    let Ok(req) = req.body(body) else {
        return; // not a valid request line: no client could send it
    };
    let (status, text) = app.runtime.block_on(async {
        let response = app.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    });
    assert!(
        !status.is_server_error(),
        "{method} {path} answered {status}: {text}"
    );
});
