//! The web product: HTML pages for people (sessions) and, later, the JSON API for integrators
//! (API keys), served by one axum router over one [`AppState`].
//!
//! Invariants:
//! - Only this crate knows HTTP. Handlers are thin: they authenticate, call the store or the
//!   engine, and render.
//! - Authorisation is decided on the server for every route by the extractors in [`auth`]:
//!   a page without a session redirects to `/login`; an admin-only page answers 403 to users.
//! - Every value shown on a page goes through askama's HTML escaping.

pub mod api;
pub mod auth;
mod bulk;
mod contact;
mod download;
mod downloads;
mod error;
mod exports;
mod guard;
mod imports;
mod inbound;
pub mod limits;
mod opportunities;
mod pages;
mod pipelines;
mod records;
pub mod serve;
mod settings;

use std::path::PathBuf;

use axum::Router;
use store::Store;

pub use auth::{FirstRunLogin, first_run, hash_password, verify_password};
pub use error::AppError;
pub use inbound::create_webhook;

/// What every handler shares, passed explicitly (no globals).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Where uploads and exports are kept (the local directory, or S3).
    pub files: filestore::FileStore,
    /// This process's own directory: the temporary files an error-log download is written to.
    pub data_dir: PathBuf,
}

/// The whole application: pages, the JSON API, and the upload route.
///
/// Every page's body but an upload's is read whole within a deadline before its handler runs
/// ([`limits::body_deadline`]); the wizard's upload streams to the file store at a minimum
/// pace ([`limits::receive_upload`]). The JSON API reads its own bodies (see [`api`]). Every response carries a strict Content-Security-Policy:
/// scripts only from this server, no inline script, so an imported value that slipped past
/// escaping still could not run.
pub fn router(state: AppState) -> Router {
    let pages = pages::routes()
        .merge(contact::routes())
        .merge(settings::routes())
        .merge(pipelines::routes())
        .merge(opportunities::routes())
        .merge(records::routes())
        .merge(imports::routes())
        .merge(bulk::routes())
        .merge(downloads::routes())
        .merge(exports::routes())
        .route_layer(axum::middleware::from_fn(limits::body_deadline));
    pages
        .merge(imports::upload_routes())
        .merge(api::routes())
        .merge(inbound::routes())
        .route("/assets/app.js", axum::routing::get(app_js))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(guard::guard))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The pages' one script, built into the binary (no CDN, SPEC §13.2).
async fn app_js() -> impl axum::response::IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../assets/app.js"),
    )
}

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::HeaderValue;
    use axum::http::header::{
        CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    let h = response.headers_mut();
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Serves the application on `listener` until the process is stopped (Ctrl+C), through the
/// connection loop of [`serve`] (header and idle deadlines).
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let idle = std::env::var("AESTHETIX_TEST_IDLE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
        .unwrap_or(serve::IDLE_TIMEOUT);
    serve::serve_with_shutdown(router(state), listener, idle, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
