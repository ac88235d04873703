//! The JSON API under `/api/v1` as an integrator meets it (SPEC §9, §13.2), on both backends:
//! every route the OpenAPI document names exists, Bulk Actions are listed, paged, operated
//! and reverted through it, errors are JSON with stable codes, and a key never reaches
//! another location's jobs.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{Deployment, each_backend, http, spawn_app};

pub fn create_key(d: &Deployment, location: &str) -> String {
    d.ok(&["apikey", "create", "--location", location], "")
        .trim()
        .to_string()
}

pub async fn call(
    base: &str,
    method: Method,
    path: &str,
    key: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let resp = http()
        .request(method, format!("{base}/api/v1{path}"))
        .header(reqwest::header::AUTHORIZATION, format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

pub async fn json(base: &str, method: Method, path: &str, key: &str) -> (StatusCode, Value) {
    let (status, _, body) = call(base, method, path, key).await;
    let v =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
    (status, v)
}

/// Imports `csv` into `location` from the CLI and returns the job id.
fn import(d: &Deployment, location: &str, csv: &str) -> i64 {
    let file = d.dir.path().join("api-import.csv");
    std::fs::write(&file, csv).unwrap();
    let report = d.dir.path().join("api-report.json");
    d.ok(
        &[
            "import",
            "contacts",
            file.to_str().unwrap(),
            "--location",
            location,
            "--report",
            report.to_str().unwrap(),
        ],
        "",
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    report["job_id"].as_i64().unwrap()
}

#[tokio::test]
async fn every_route_of_the_openapi_document_exists() {
    let d = each_backend().await.into_iter().next().unwrap();
    d.ok(&["location", "create", "Glow"], "");
    let key = create_key(&d, "Glow");
    let app = spawn_app(&d);
    let doc: Value = http()
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let paths = doc["paths"].as_object().unwrap();
    for (path, ops) in paths {
        // An id that names nothing: a route that exists says so with its own 404 (or a 4xx of
        // its own), never the fallback's "no such API route".
        let concrete = path.replace("{job}", "999999").replace("{draft}", "999999");
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, _, body) = call(&app.base, m, &concrete, &key).await;
            assert!(
                !body.contains("no such API route") && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed: {status} {body}"
            );
            if !status.is_success() {
                let v: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| panic!("{method} {path}: error not JSON: {body}"));
                assert!(v["error"]["code"].is_string(), "{method} {path}: {v}");
            }
        }
    }
    let (status, v) = json(&app.base, Method::GET, "/no-such-thing", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
}

#[tokio::test]
async fn bulk_actions_are_listed_paged_operated_and_reverted_through_the_api() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        let job = import(
            &d,
            "Glow",
            "First Name,Email,Phone\n\
             Ann,ann@example.com,2015550123\n\
             Bob,not-an-email,\n\
             Cat,cat@example.com,+12015550124\n\
             <script>x</script>,dan@example.com,\n",
        );
        let key = create_key(&d, "Glow");
        let other_key = create_key(&d, "Other");
        let app = spawn_app(&d);
        let base = &app.base;

        let (status, list) = json(base, Method::GET, "/bulk-actions", &key).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let jobs = list["bulk_actions"].as_array().unwrap();
        assert_eq!(jobs.len(), 1, "{list}");
        assert_eq!(jobs[0]["id"], job);
        assert_eq!(jobs[0]["operation"], "import");
        assert_eq!(jobs[0]["status"], "completed");
        assert_eq!(jobs[0]["totals"]["rows"], 4);
        assert_eq!(jobs[0]["totals"]["created"], 4, "{list}");

        let (_, detail) = json(base, Method::GET, &format!("/bulk-actions/{job}"), &key).await;
        assert_eq!(detail["lines"]["all"], 4, "{detail}");
        assert_eq!(detail["lines"]["warning"], 1, "{detail}");
        assert_eq!(detail["reverted_at"], Value::Null);

        // Paged one line at a time through the All tab: lines 2..=5, then the end.
        let mut seen = Vec::new();
        let mut after: Option<u64> = None;
        loop {
            let q = match after {
                Some(a) => format!("/bulk-actions/{job}/lines?limit=1&after={a}"),
                None => format!("/bulk-actions/{job}/lines?limit=1"),
            };
            let (status, page) = json(base, Method::GET, &q, &key).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            for l in page["lines"].as_array().unwrap() {
                seen.push(l["line"].as_u64().unwrap());
            }
            match page["next_after"].as_u64() {
                Some(n) => after = Some(n),
                None => break,
            }
            assert!(seen.len() <= 5, "paging ends");
        }
        assert_eq!(seen, vec![2, 3, 4, 5]);
        let (_, warn) = json(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/lines?tab=warning"),
            &key,
        )
        .await;
        let warn = warn["lines"].as_array().unwrap();
        assert_eq!(warn.len(), 1);
        assert_eq!(warn[0]["line"], 3);
        assert_eq!(
            warn[0]["cells"],
            serde_json::json!(["Bob", "not-an-email", ""])
        );
        assert_eq!(warn[0]["messages"][0]["code"], "email.invalid");
        let (status, bad) = json(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/lines?tab=nope"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(bad["error"]["code"], "request.invalid");

        // The error log: a CSV download named with RFC 6266's filename*.
        let (status, headers, csv) = call(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/error-log"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert!(
            headers[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let cd = headers[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap();
        assert!(
            cd.starts_with("attachment; filename=\"") && cd.contains("filename*=UTF-8''"),
            "{cd}"
        );
        assert!(csv.contains("Import Line"), "{csv}");
        assert!(csv.contains("not-an-email"), "{csv}");
        assert!(
            !csv.contains("ann@example.com"),
            "success lines stay out: {csv}"
        );

        // Another location's key: the job does not exist for it, whatever the route.
        for (m, path) in [
            (Method::GET, format!("/bulk-actions/{job}")),
            (Method::GET, format!("/bulk-actions/{job}/lines")),
            (Method::GET, format!("/bulk-actions/{job}/error-log")),
            (Method::POST, format!("/bulk-actions/{job}/pause")),
            (Method::POST, format!("/bulk-actions/{job}/resume")),
            (Method::POST, format!("/bulk-actions/{job}/cancel")),
            (Method::POST, format!("/bulk-actions/{job}/revert")),
        ] {
            let (status, v) = json(base, m, &path, &other_key).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {v}");
            assert_eq!(v["error"]["code"], "not_found", "{path}: {v}");
        }
        let (_, other_list) = json(base, Method::GET, "/bulk-actions", &other_key).await;
        assert_eq!(other_list["bulk_actions"], serde_json::json!([]));

        // A finished job cannot be paused or resumed: 409 with a stable code.
        for op in ["pause", "resume"] {
            let (status, v) = json(
                base,
                Method::POST,
                &format!("/bulk-actions/{job}/{op}"),
                &key,
            )
            .await;
            assert_eq!(status, StatusCode::CONFLICT, "{op}: {v}");
            assert_eq!(v["error"]["code"], "job.wrong_status", "{op}: {v}");
        }

        // Revert: the four contacts it created go; a second revert is refused.
        let (status, reverted) = json(
            base,
            Method::POST,
            &format!("/bulk-actions/{job}/revert"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{reverted}");
        assert_eq!(
            reverted["deleted"].as_array().unwrap().len(),
            4,
            "{reverted}"
        );
        assert_eq!(reverted["left_alone"], serde_json::json!([]));
        let (_, contacts) = json(base, Method::GET, "/contacts", &key).await;
        assert_eq!(contacts["total"], 0, "{contacts}");
        let (_, detail) = json(base, Method::GET, &format!("/bulk-actions/{job}"), &key).await;
        assert!(detail["reverted_at"].is_i64(), "{detail}");
        let (status, again) = json(
            base,
            Method::POST,
            &format!("/bulk-actions/{job}/revert"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
    }
}
