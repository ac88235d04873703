//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API (SPEC §13.2),
//! kept beside the code in `openapi.json` and served as written. A test in the integration
//! suite calls every path it names, so a route cannot be documented without existing.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, checked to be JSON by the test below.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub(super) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_openapi_json_with_every_path_under_api_v1() {
        let doc: serde_json::Value = serde_json::from_str(super::DOCUMENT).expect("valid JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 10, "{}", paths.len());
        for (path, ops) in paths {
            assert!(path.starts_with('/'), "{path}");
            for (method, op) in ops.as_object().unwrap() {
                assert!(op["operationId"].is_string(), "{method} {path}");
                assert!(op["responses"].is_object(), "{method} {path}");
            }
        }
    }
}
