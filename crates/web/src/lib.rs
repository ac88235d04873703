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
mod downloads;
mod error;
mod pages;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use store::Store;

pub use auth::{FirstRunLogin, first_run, hash_password, verify_password};
pub use error::AppError;

/// What every handler shares, passed explicitly (no globals).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Where uploads, exports and error logs are kept.
    pub data_dir: PathBuf,
}

/// The whole application: pages, and the routes later issues add.
pub fn router(state: AppState) -> Router {
    pages::routes()
        .merge(downloads::routes())
        .merge(api::routes())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `listener` until the process is stopped.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
