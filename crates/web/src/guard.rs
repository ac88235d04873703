//! What every request passes before it reaches a route, and what every answer carries (SPEC
//! §13.2, "Hostile clients"). One middleware around the whole application, so no route can
//! forget it:
//!
//! - a POST, PUT, PATCH or DELETE whose `Origin` names another site — or, without `Origin`,
//!   whose `Sec-Fetch-Site` says `cross-site` — is refused with 403 before its body is read
//!   or its route is looked up (a browser adds these headers itself; a page of another site
//!   cannot remove them);
//! - a path or query holding a NUL byte (`%00`) is refused with 422: no backend stores one;
//! - every answer carries `Cache-Control: no-store` (patient data must not stay in a shared
//!   or browser cache), but the pages' script;
//! - the session cookie is marked `Secure` when the request came over HTTPS, directly or
//!   through a proxy that says so (`X-Forwarded-Proto: https`);
//! - under `/api/`, an error answered by the framework (a malformed body, a bad path
//!   parameter, a method the route does not take) becomes the API's JSON error.
//!
//! The per-session form token (`csrf_token`) is checked where bodies are read
//! ([`crate::limits`]), since it may travel in the body.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, ORIGIN, SET_COOKIE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::json;

use crate::auth::SESSION_COOKIE;

/// The middleware: see the module's documentation.
pub async fn guard(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    if has_nul(req.uri().path()) || req.uri().query().is_some_and(has_nul) {
        return refuse(
            api,
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.nul",
            "The address holds a NUL character (%00), which no field accepts. Remove it and try again.",
        );
    }
    if is_unsafe(req.method()) && is_cross_site(req.headers()) {
        return refuse(
            api,
            StatusCode::FORBIDDEN,
            "request.cross_site",
            "This request came from another web site, so it was refused. Open Aesthetix itself and do it there.",
        );
    }
    let https = is_https(&req);
    let script = req.uri().path().starts_with("/assets/");
    let mut response = next.run(req).await;
    if !script {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        secure_session_cookie(response.headers_mut());
    }
    if api {
        response = json_error(response).await;
    }
    response
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// `%00` in any spelling of its hex digits, or a raw NUL.
pub(crate) fn has_nul(s: &str) -> bool {
    s.contains('\0') || s.as_bytes().windows(3).any(|w| w == b"%00")
}

/// Whether a form or JSON body holds a NUL character in any of its values: a raw NUL byte,
/// `%00` in a URL-encoded form, `\u0000` in JSON (not an escaped backslash before `u0000`).
pub(crate) fn body_has_nul(headers: &HeaderMap, body: &[u8]) -> bool {
    if body.contains(&0) {
        return true;
    }
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        return body.windows(3).any(|w| w == b"%00");
    }
    if ct.starts_with("application/json") || ct.contains("+json") {
        let needle = b"u0000";
        return body.windows(needle.len()).enumerate().any(|(i, w)| {
            if w != needle {
                return false;
            }
            let slashes = body[..i].iter().rev().take_while(|b| **b == b'\\').count();
            slashes % 2 == 1
        });
    }
    false
}

/// The answer to a body holding a NUL character (SPEC §13.2: 422 on every backend).
pub(crate) fn nul_refused(api: bool) -> Response {
    refuse(
        api,
        StatusCode::UNPROCESSABLE_ENTITY,
        "request.nul",
        "A value holds a NUL character, which no field accepts. Remove it and try again.",
    )
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether the browser says the request was made by a page of another site: its `Origin`
/// names a host other than the one asked (`Host`, or `X-Forwarded-Host` behind a proxy), or
/// is `null` (a sandboxed or opaque origin); without `Origin`, `Sec-Fetch-Site: cross-site`.
/// A request without either (a script, `curl`) is not cross-site: it carries no browser's
/// cookies unless its author has them.
fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        let Some(authority) = origin_authority(origin) else {
            return true;
        };
        let asked = [headers.get(HOST), headers.get("x-forwarded-host")];
        return !asked
            .into_iter()
            .flatten()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(','))
            .any(|h| same_authority(h.trim(), authority));
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"))
}

/// `https://example.com:8443` → `example.com:8443`; `None` for `null` or anything else that
/// is not a URL's origin.
fn origin_authority(origin: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some((scheme, rest))
}

/// Whether a `Host` value names the origin's host and port (the scheme's default port when
/// a side leaves it out).
fn same_authority(host: &str, (scheme, authority): (&str, &str)) -> bool {
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        _ => "80",
    };
    let split = |a: &str| -> (String, String) {
        // An IPv6 literal keeps its colons inside the brackets.
        let (host, port) = match a.rfind(':') {
            Some(i) if !a[i..].contains(']') => (&a[..i], &a[i + 1..]),
            _ => (a, default),
        };
        (host.to_ascii_lowercase(), port.to_string())
    };
    split(host) == split(authority)
}

/// Whether the request reached us over HTTPS: its own scheme, or a proxy's
/// `X-Forwarded-Proto` / `Forwarded: proto=https`.
fn is_https(req: &Request) -> bool {
    if req.uri().scheme_str() == Some("https") {
        return true;
    }
    let h = req.headers();
    let forwarded_proto = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = h
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split([';', ','])
                .any(|p| p.trim().eq_ignore_ascii_case("proto=https"))
        });
    forwarded_proto || forwarded
}

/// Adds `Secure` to the session cookie a response sets.
fn secure_session_cookie(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(SET_COOKIE);
    for cookie in cookies {
        let value = match cookie.to_str() {
            Ok(c) if c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.contains("; Secure") => {
                HeaderValue::from_str(&format!("{c}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        headers.append(SET_COOKIE, value);
    }
}

fn refuse(api: bool, status: StatusCode, code: &str, message: &str) -> Response {
    if api {
        (
            status,
            axum::Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response()
    } else {
        let page = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Not allowed</title>\
             <p>{message}</p><p><a href=\"/\">Go to Aesthetix</a></p>"
        );
        (status, Html(page)).into_response()
    }
}

/// The largest framework error body kept as a JSON error's message.
const MAX_ERROR_TEXT: usize = 2048;

/// An API error the framework answered in plain text (a rejected body or path, 405, …)
/// becomes `{"error": {"code", "message"}}`; JSON answers pass as they are.
async fn json_error(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match http_body_util::Limited::new(body, MAX_ERROR_TEXT)
        .collect()
        .await
    {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let (code, default) = match status {
        StatusCode::BAD_REQUEST => ("request.invalid", "The request is malformed."),
        StatusCode::UNAUTHORIZED => (
            "auth.api_key_required",
            "This API needs an API key: send `Authorization: Bearer KEY`.",
        ),
        StatusCode::FORBIDDEN => ("forbidden", "This request is not allowed."),
        StatusCode::NOT_FOUND => ("not_found", "There is no such API route."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "request.method_not_allowed",
            "This route does not take this method; see /api/v1/openapi.json for the methods it takes.",
        ),
        StatusCode::REQUEST_TIMEOUT => ("request.too_slow", "The request took too long."),
        StatusCode::PAYLOAD_TOO_LARGE => ("request.too_large", "The request is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "request.unsupported_media_type",
            "The request's Content-Type is not one this route takes.",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("request.invalid", "The request cannot be used."),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests; wait and retry."),
        s if s.is_server_error() => (
            "internal",
            "Aesthetix could not finish this request; the server log says why.",
        ),
        _ => ("request.invalid", "The request cannot be used."),
    };
    let text = text.trim();
    let message = if text.is_empty() || status.is_server_error() {
        default.to_string()
    } else {
        text.to_string()
    };
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    if status == StatusCode::UNAUTHORIZED && !parts.headers.contains_key(WWW_AUTHENTICATE) {
        parts
            .headers
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    let body = json!({"error": {"code": code, "message": message}}).to_string();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn cross_site_is_what_the_browser_says() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("host", "127.0.0.1:8080")], false),
            (
                &[
                    ("host", "127.0.0.1:8080"),
                    ("origin", "http://127.0.0.1:8080"),
                ],
                false,
            ),
            (
                &[
                    ("host", "crm.example.com"),
                    ("origin", "https://crm.example.com"),
                ],
                false,
            ),
            (
                &[
                    ("host", "crm.example.com:443"),
                    ("origin", "https://crm.example.com"),
                ],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:8080"),
                    ("origin", "https://evil.example"),
                ],
                true,
            ),
            (
                &[
                    ("host", "127.0.0.1:8080"),
                    ("origin", "http://127.0.0.1:9090"),
                ],
                true,
            ),
            (&[("host", "127.0.0.1:8080"), ("origin", "null")], true),
            (
                &[
                    ("host", "10.0.0.5:8080"),
                    ("x-forwarded-host", "crm.example.com"),
                    ("origin", "https://crm.example.com"),
                ],
                false,
            ),
            (
                &[("host", "[::1]:8080"), ("origin", "http://[::1]:8080")],
                false,
            ),
            (
                &[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")],
                true,
            ),
            (
                &[
                    ("host", "127.0.0.1:8080"),
                    ("sec-fetch-site", "same-origin"),
                ],
                false,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(is_cross_site(&headers(pairs)), *want, "{pairs:?}");
        }
    }

    #[test]
    fn nul_in_bodies() {
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let json = headers(&[("content-type", "application/json")]);
        let cases: &[(&HeaderMap, &[u8], bool)] = &[
            (&form, b"email=a%40b.c&password=x", false),
            (&form, b"email=a%00b", true),
            (&form, b"email=a\0b", true),
            (&json, br#"{"q": "ann"}"#, false),
            (&json, br#"{"q": "a\u0000"}"#, true),
            (&json, br#"{"q": "a\\u0000"}"#, false),
            (&json, br#"{"q": "a\\\u0000"}"#, true),
        ];
        for (h, body, want) in cases {
            assert_eq!(
                body_has_nul(h, body),
                *want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn nul_in_any_spelling() {
        for (s, want) in [
            ("q=ann", false),
            ("q=%00", true),
            ("q=a%2500", false),
            ("q=a\0", true),
            ("/contacts/%00", true),
        ] {
            assert_eq!(has_nul(s), want, "{s}");
        }
    }
}
