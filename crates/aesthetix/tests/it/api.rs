//! The JSON API under `/api/v1` as an integrator meets it (SPEC §9, §13.2), on both backends:
//! every route the OpenAPI document names exists, Bulk Actions are listed, paged, operated
//! and reverted through it, errors are JSON with stable codes, and a key never reaches
//! another location's jobs.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

async fn send(
    base: &str,
    method: Method,
    path: &str,
    key: &str,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> (StatusCode, Value) {
    let req = http()
        .request(method, format!("{base}/api/v1{path}"))
        .header(reqwest::header::AUTHORIZATION, format!("Bearer {key}"));
    let resp = build(req).send().await.unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    let v =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
    (status, v)
}

/// Polls a job until it is no longer queued or running.
async fn finished(base: &str, key: &str, job: i64) -> Value {
    for _ in 0..600 {
        let (_, v) = json(base, Method::GET, &format!("/bulk-actions/{job}"), key).await;
        if v["status"] != "queued" && v["status"] != "running" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("job {job} did not finish within 60 s");
}

fn vip_workflow(d: &Deployment) {
    d.ok(
        &[
            "workflow",
            "create",
            "--location",
            "Glow",
            "--name",
            "VIP welcome",
            "--trigger",
            "tag-added:VIP",
            "--action",
            "send-sms:Welcome to Glow!",
            "--status",
            "active",
        ],
        "",
    );
}

const PATIENTS: &str = "First Name,Email,Mobile,Favourite Colour\n\
                        Ann,ann@example.com,2015550123,blue\n\
                        Bob,bob@example.com,,green\n\
                        Cat,not-an-email,+12015550124,red\n";

#[tokio::test]
async fn an_integrator_imports_step_by_step_through_the_api() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        vip_workflow(&d);
        let key = create_key(&d, "Glow");
        let other_key = {
            d.ok(&["location", "create", "Other"], "");
            create_key(&d, "Other")
        };
        let app = spawn_app(&d);
        let base = &app.base;

        // 1. Upload: the draft proposes a mapping with samples; one column matches nothing.
        let (status, draft) = send(
            base,
            Method::POST,
            "/imports/drafts?file_name=patients.csv",
            &key,
            |r| r.header("content-type", "text/csv").body(PATIENTS),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        let id = draft["id"].as_i64().unwrap();
        assert_eq!(draft["file_name"], "patients.csv");
        assert_eq!(draft["records"], 3);
        let chosen: Vec<Value> = draft["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["chosen"].clone())
            .collect();
        assert_eq!(
            chosen,
            vec![
                json!("first_name"),
                json!("email"),
                json!("phone"),
                Value::Null
            ]
        );
        assert_eq!(
            draft["columns"][3]["samples"],
            json!(["blue", "green", "red"])
        );
        assert_eq!(draft["unmatched"], json!(["Favourite Colour"]));
        assert!(draft["fields"].as_array().unwrap().len() > 10);

        // Another location's key does not see the draft.
        let (status, v) = json(
            base,
            Method::GET,
            &format!("/imports/drafts/{id}"),
            &other_key,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

        // 2. Mapping: unmatched columns block the import until they are skipped.
        let columns = json!(["first_name", "email", "phone", null]);
        let (status, v) = send(
            base,
            Method::PUT,
            &format!("/imports/drafts/{id}/mapping"),
            &key,
            |r| r.json(&json!({ "columns": columns })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "mapping.unmatched");
        assert_eq!(
            v["error"]["details"]["columns"],
            json!(["Favourite Colour"])
        );
        let (status, v) = send(base, Method::PUT, &format!("/imports/drafts/{id}/mapping"), &key, |r| {
            r.json(&json!({ "columns": ["first_name", "email", "phone", "email"], "skip_unmapped": true }))
        })
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a field mapped twice: {v}"
        );
        let (status, v) = send(
            base,
            Method::PUT,
            &format!("/imports/drafts/{id}/mapping"),
            &key,
            |r| r.json(&json!({ "columns": columns, "skip_unmapped": true })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["skip_unmapped"], true);

        // 3. Details: a tag that an active workflow listens for.
        let (status, v) = send(
            base,
            Method::PUT,
            &format!("/imports/drafts/{id}/details"),
            &key,
            |r| r.json(&json!({ "name": "Spring patients", "tags": ["VIP"], "mode": "create" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["details"]["tags"], json!(["VIP"]));
        let (status, v) = send(
            base,
            Method::PUT,
            &format!("/imports/drafts/{id}/details"),
            &key,
            |r| r.json(&json!({ "mode": "merge" })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "details.mode");

        // 4. Validate: the dry run's counts, the problem line, the workflow it would trigger.
        let (status, v) = json(
            base,
            Method::POST,
            &format!("/imports/drafts/{id}/validate"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["created"], 3, "{v}");
        assert_eq!(v["warnings"], 1, "{v}");
        assert_eq!(v["first_problems"][0]["line"], 4, "{v}");
        assert_eq!(v["needs_acknowledgement"], true, "{v}");
        assert_eq!(v["triggered"][0]["name"], "VIP welcome", "{v}");
        assert_eq!(v["triggered"][0]["contacts"], 3, "{v}");
        let store = d.store().await;
        let glow = store.location_by_name("Glow").await.unwrap();
        assert_eq!(
            store
                .contacts_page(glow.id, None, 0, 10)
                .await
                .unwrap()
                .total,
            0,
            "a dry run writes nothing"
        );

        // 5. Submit: refused without the acknowledgement, naming the workflow and its count.
        let (status, v) = json(
            base,
            Method::POST,
            &format!("/imports/drafts/{id}/submit"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error"]["code"], "workflows.acknowledgement_required");
        assert_eq!(v["error"]["details"]["workflows"][0]["contacts"], 3, "{v}");
        let submit_path = format!("/imports/drafts/{id}/submit");
        let submit = |idem: &'static str| {
            send(base, Method::POST, &submit_path, &key, move |r| {
                r.header("Idempotency-Key", idem)
                    .json(&json!({ "acknowledge_workflows": true }))
            })
        };
        let (status, first) = submit("spring-2026").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        let job = first["job_id"].as_i64().unwrap();
        assert_eq!(first["bulk_action"]["name"], "Spring patients");
        let (status, again) = submit("spring-2026").await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["job_id"], job, "the same key gives the same job");
        assert_eq!(again["created"], false);

        // The worker loop of `serve` runs it.
        let done = finished(base, &key, job).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["totals"]["created"], 3, "{done}");
        assert_eq!(done["totals"]["warnings"], 1, "{done}");
        assert_eq!(
            store
                .contacts_page(glow.id, None, 0, 10)
                .await
                .unwrap()
                .total,
            3
        );
        let (_, jobs) = json(base, Method::GET, "/bulk-actions", &key).await;
        assert_eq!(
            jobs["bulk_actions"].as_array().unwrap().len(),
            1,
            "one job for two submits"
        );

        // A submitted draft no longer changes.
        let (status, v) = send(
            base,
            Method::PUT,
            &format!("/imports/drafts/{id}/details"),
            &key,
            |r| r.json(&json!({ "mode": "upsert" })),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error"]["code"], "import.submitted");
    }
}

#[tokio::test]
async fn one_request_imports_refusals_and_the_size_limit() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let key = create_key(&d, "Glow");
        let app = spawn_app(&d);
        let base = &app.base;

        // Unmatched columns: refused, naming them, nothing submitted.
        let (status, v) = send(base, Method::POST, "/imports?file_name=p.csv", &key, |r| {
            r.header("content-type", "text/csv").body(PATIENTS)
        })
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "mapping.unmatched");

        // Upload, map and submit in one request; the same Idempotency-Key returns the same job
        // without the body being needed again.
        let path = "/imports?file_name=p.csv&skip_unmapped=true&mode=upsert&tag=Spring";
        let (status, first) = send(base, Method::POST, path, &key, |r| {
            r.header("Idempotency-Key", "k-1")
                .header("content-type", "text/csv")
                .body(PATIENTS)
        })
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        let job = first["job_id"].as_i64().unwrap();
        let (status, again) = send(base, Method::POST, path, &key, |r| {
            r.header("Idempotency-Key", "k-1")
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["job_id"], job);
        let done = finished(base, &key, job).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["totals"]["created"], 3, "{done}");

        // A file §4 refuses: 422 with its code.
        let (status, v) = send(
            base,
            Method::POST,
            "/imports/drafts?file_name=h.csv",
            &key,
            |r| {
                r.header("content-type", "text/csv")
                    .body("First Name,Email\n")
            },
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "file.no_rows", "{v}");
        let (status, v) = send(base, Method::POST, "/imports/drafts", &key, |r| {
            r.header("content-type", "text/csv").body("")
        })
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "file.empty", "{v}");

        // 31 MB declared: 413 before a byte of the body is sent.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = base.trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(
            format!(
                "POST /api/v1/imports/drafts?file_name=big.csv HTTP/1.1\r\nHost: {addr}\r\n\
                 Authorization: Bearer {key}\r\nContent-Type: text/csv\r\n\
                 Content-Length: 31000000\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("answered without the body")
            .unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(head.starts_with("HTTP/1.1 413"), "{head}");
        assert!(head.contains("file.too_large"), "{head}");
        let files = std::fs::read_dir(d.data_dir().join("files"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .count();
        assert_eq!(files, 0, "nothing of a refused upload is left");
    }
}

#[tokio::test]
async fn file_values_that_match_no_option_are_listed_and_mapped_to_options() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(
            &[
                "field",
                "create",
                "--location",
                "Glow",
                "--object",
                "contact",
                "--label",
                "Treatment Interest",
                "--type",
                "single_option",
                "--option",
                "Botox",
                "--option",
                "Filler",
            ],
            "",
        );
        let key = create_key(&d, "Glow");
        let app = spawn_app(&d);
        let base = &app.base;
        let csv = "Email,Treatment Interest,Type\n\
                   a@example.com,Botox,Lead\n\
                   b@example.com,botox consult,Patient\n\
                   c@example.com,Botox Consult ,Client\n\
                   d@example.com,Peel,lead\n\
                   e@example.com,,\n";
        let (status, draft) = send(
            base,
            Method::POST,
            "/imports/drafts?file_name=t.csv",
            &key,
            |r| r.header("content-type", "text/csv").body(csv),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        let id = draft["id"].as_i64().unwrap();
        let path = format!("/imports/drafts/{id}/option-values");
        let (status, v) = json(base, Method::GET, &path, &key).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let fields = v["fields"].as_array().unwrap();
        assert_eq!(
            fields.len(),
            2,
            "Treatment Interest and Type of Contact: {v}"
        );
        let ti = fields
            .iter()
            .find(|f| f["field_key"] == "treatment_interest")
            .unwrap();
        assert_eq!(ti["column"], "Treatment Interest");
        assert_eq!(ti["options"], json!(["Botox", "Filler"]));
        assert_eq!(
            ti["values"],
            json!([
                {"value": "botox consult", "rows": 2, "mapped_to": null},
                {"value": "Peel", "rows": 1, "mapped_to": null},
            ]),
            "{v}"
        );
        let ty = fields
            .iter()
            .find(|f| f["field_key"] == "contact_type")
            .unwrap();
        assert_eq!(
            ty["values"],
            json!([{"value": "Client", "rows": 1, "mapped_to": null}])
        );

        // Map one value; an option the field does not have is refused.
        let (status, v) = send(base, Method::PUT, &path, &key, |r| {
            r.json(&json!({"values": [{"field_key": "treatment_interest", "value": "Peel", "option": "Laser"}]}))
        })
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "option_values.option");
        let (status, v) = send(base, Method::PUT, &path, &key, |r| {
            r.json(&json!({"values": [{"field_key": "treatment_interest", "value": "BOTOX CONSULT", "option": "botox"}]}))
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let ti = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field_key"] == "treatment_interest")
            .unwrap()
            .clone();
        assert_eq!(ti["values"][0]["mapped_to"], "Botox", "{v}");

        // The import reads the mapped values as the option; the unmapped one still warns.
        let (status, sub) = json(
            base,
            Method::POST,
            &format!("/imports/drafts/{id}/submit"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sub}");
        let job = sub["job_id"].as_i64().unwrap();
        let done = finished(base, &key, job).await;
        assert_eq!(done["totals"]["created"], 5, "{done}");
        let (_, warn) = json(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/lines?tab=warning"),
            &key,
        )
        .await;
        let warned: Vec<u64> = warn["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_u64().unwrap())
            .collect();
        assert_eq!(
            warned,
            vec![4, 5],
            "Client (line 4) and Peel (line 5): {warn}"
        );
        let store = d.store().await;
        let glow = store.location_by_name("Glow").await.unwrap();
        let dump = store.contacts_dump(glow.id).await.unwrap();
        let interest = |email: &str| {
            dump.iter()
                .find(|c| c.contact.values.get("email").map(String::as_str) == Some(email))
                .and_then(|c| c.contact.values.get("treatment_interest").cloned())
        };
        assert_eq!(interest("b@example.com").as_deref(), Some("Botox"));
        assert_eq!(interest("c@example.com").as_deref(), Some("Botox"));
        assert_eq!(interest("d@example.com"), None);
    }
}

/// An upload trickled at a byte a second is cut off (408) instead of holding a connection and
/// a file open; no partial file is left behind.
#[tokio::test]
async fn an_api_upload_trickled_a_byte_a_second_is_stopped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let d = each_backend().await.into_iter().next().unwrap();
    d.ok(&["location", "create", "Glow"], "");
    let key = create_key(&d, "Glow");
    let app = spawn_app(&d);
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(
        format!(
            "POST /api/v1/imports/drafts?file_name=slow.csv HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {key}\r\nContent-Type: text/csv\r\n\
             Content-Length: 1000\r\n\r\nEmail\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        // One byte a second until the server answers.
        let _ = tcp.write_all(b"a").await;
        match tokio::time::timeout(std::time::Duration::from_secs(1), tcp.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Ok(Err(_)) => break,
            Err(_) => {}
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the server waited over a minute"
        );
    }
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("upload.too_slow"), "{head}");
    let partial = std::fs::read_dir(d.data_dir().join("files"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(partial, 0);
}

#[tokio::test]
async fn an_integrator_exports_a_smart_list_and_downloads_it() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        import(
            &d,
            "Glow",
            "First Name,Email,Tags\nAnn,ann@example.com,VIP\nBob,bob@example.com,\nCat,=cmd@example.com,VIP\n",
        );
        d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "VIPs",
                "--filter",
                "tag=VIP",
            ],
            "",
        );
        let key = create_key(&d, "Glow");
        let other_key = create_key(&d, "Other");
        let app = spawn_app(&d);
        let base = &app.base;

        for (body, why) in [
            (json!({"smart_list": "Nope"}), "an unknown Smart List"),
            (
                json!({"filters": ["colour=red"]}),
                "a filter that does not read",
            ),
            (json!({"smart_list": "VIPs", "ids": [1]}), "two selections"),
            (json!({"columns": ["no_such_field"]}), "an unknown column"),
        ] {
            let (status, v) = send(base, Method::POST, "/exports", &key, |r| r.json(&body)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {v}");
            assert_eq!(v["error"]["code"], "export.invalid", "{why}: {v}");
        }
        let (_, list) = json(base, Method::GET, "/bulk-actions", &key).await;
        assert_eq!(
            list["bulk_actions"].as_array().unwrap().len(),
            1,
            "nothing queued: {list}"
        );

        let (status, started) = send(base, Method::POST, "/exports", &key, |r| {
            r.json(&json!({"smart_list": "VIPs", "columns": ["first_name", "email"]}))
        })
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        assert_eq!(started["bulk_action"]["operation"], "export");
        let job = started["job_id"].as_i64().unwrap();
        let done = finished(base, &key, job).await;
        assert_eq!(done["status"], "completed", "{done}");

        let (status, headers, csv) = call(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/download"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert!(
            headers[reqwest::header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("filename*=UTF-8''"),
        );
        // SPEC §10: a BOM, CRLF, labels in the chosen order, the formula neutralised.
        assert_eq!(
            csv, "\u{feff}First Name,Email\r\nAnn,ann@example.com\r\nCat,'=cmd@example.com\r\n",
            "{csv:?}"
        );

        let (status, v) = json(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/download"),
            &other_key,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
        let (status, _, _) = call(
            base,
            Method::GET,
            &format!("/bulk-actions/{job}/download"),
            "ax_nope",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
