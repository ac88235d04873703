//! Companies and custom objects through the web wizard and the JSON API (SPEC §8, §13.2), on
//! both backends: the first step chooses the object, the mapping offers its fields, refuses a
//! required field left without a column (naming it), asks for the dedupe field when several
//! unique fields are mapped, and the draft runs through the one import engine to records; an
//! unknown custom object or a required field unmapped is a 422 in words.

use std::time::{Duration, Instant};

use domain::ObjectKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Deployment, each_backend, http, spawn_app};
use crate::wizard::login;

const LOCATION: &str = "My Practice";

/// Companies with two unique fields (VAT, DUNS) and a custom object Treatments whose Price is
/// required.
fn objects(d: &Deployment) {
    for (label, extra) in [("VAT", "--unique"), ("DUNS", "--unique")] {
        d.ok(
            &[
                "field",
                "create",
                "--location",
                LOCATION,
                "--object",
                "company",
                "--label",
                label,
                "--type",
                "text",
                extra,
            ],
            "",
        );
    }
    d.ok(
        &[
            "object",
            "create",
            "--location",
            LOCATION,
            "--name",
            "Treatments",
            "--primary",
            "Treatment Name",
        ],
        "",
    );
    d.ok(
        &[
            "field",
            "create",
            "--location",
            LOCATION,
            "--object",
            "treatments",
            "--label",
            "Price",
            "--type",
            "number",
            "--required",
        ],
        "",
    );
}

/// Every record of an object as its values, by Record ID.
async fn records(d: &Deployment, object: &ObjectKind) -> Vec<Vec<(String, String)>> {
    let store = d.store().await;
    let loc = store.location_by_name(LOCATION).await.unwrap().id;
    let out = store
        .records_page(loc, object, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let mut v: Vec<(String, String)> = r.values.into_iter().collect();
            v.sort();
            v
        })
        .collect();
    store.close().await;
    out
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = p
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

async fn get(base: &str, path: &str, cookie: &str) -> reqwest::Response {
    http()
        .get(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn post_form(
    base: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http()
        .post(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", crate::support::csrf(cookie))
        .form(form)
        .send()
        .await
        .unwrap()
}

fn location_of(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Uploads as the page's script does, with the object the first step chose.
async fn upload(base: &str, cookie: &str, object: &str, csv: &str) -> (StatusCode, Value) {
    let resp = http()
        .post(format!(
            "{base}/imports/upload?name=file.csv&object={object}"
        ))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", crate::support::csrf(cookie))
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Waits until job `id` is no longer queued or running; returns its JSON.
async fn finished(base: &str, id: i64, key: &str) -> Value {
    let start = Instant::now();
    loop {
        let job: Value = http()
            .get(format!("{base}/api/v1/bulk-actions/{id}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Maps, details, checks and submits a draft through the pages; returns the job id.
async fn through_the_pages(
    base: &str,
    cookie: &str,
    draft: i64,
    map: &[(&str, &str)],
    mode: &str,
) -> (i64, String) {
    let resp = post_form(base, &format!("/imports/{draft}/map"), cookie, map).await;
    assert_eq!(
        location_of(&resp),
        format!("/imports/{draft}/details"),
        "{}",
        resp.text().await.unwrap()
    );
    let resp = post_form(
        base,
        &format!("/imports/{draft}/details"),
        cookie,
        &[("mode", mode)],
    )
    .await;
    assert_eq!(location_of(&resp), format!("/imports/{draft}/review"));
    let review = get(base, &format!("/imports/{draft}/review"), cookie)
        .await
        .text()
        .await
        .unwrap();
    let resp = post_form(base, &format!("/imports/{draft}/submit"), cookie, &[]).await;
    let job = location_of(&resp)
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (job, review)
}

#[tokio::test]
async fn the_wizard_imports_companies_and_custom_objects() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        objects(&d);
        let key = crate::api::create_key(&d, LOCATION);

        // Step 1 offers every object; one the location lacks is said in words.
        let html = get(&base, "/imports/new", &admin)
            .await
            .text()
            .await
            .unwrap();
        for option in [
            r#"<option value="contact" selected>Contacts</option>"#,
            r#"<option value="company">Companies</option>"#,
            r#"<option value="custom:treatments">Treatments</option>"#,
        ] {
            assert!(html.contains(option), "{option}: {html}");
        }
        let resp = get(&base, "/imports/new?object=company", &admin).await;
        let html = resp.text().await.unwrap();
        assert!(html.contains("<h1>Import Companies</h1>"), "{html}");
        assert!(html.contains(r#"data-object="company""#), "{html}");
        let resp = get(&base, "/imports/new?object=custom:nope", &admin).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("“custom:nope” is not an object of this location")
        );
        let (status, body) = upload(&base, &admin, "custom:nope", "Name\nA\n").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "import.object");

        // Companies: the mapping offers their fields, asks which unique field finds records.
        let csv =
            "Company Name,VAT,DUNS,Website\nAcme,V1,D1,acme.example\nBeta,V2,D2,beta.example\n";
        let (status, body) = upload(&base, &admin, "company", csv).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let draft = body["draft"].as_i64().unwrap();
        let html = get(&base, &format!("/imports/{draft}/map"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Match your columns to the fields of Companies"),
            "{html}"
        );
        assert!(
            html.contains(r#"<option value="company_name" selected>Company Name *</option>"#),
            "{html}"
        );
        assert!(
            html.contains(
                r#"<option value="vat" selected>VAT</option><option value="duns">DUNS</option>"#
            ),
            "the first mapped unique field is the default: {html}"
        );
        assert!(
            !html.contains("Exporter's preset"),
            "presets are contacts': {html}"
        );
        // Company Name left without a column: refused, naming it.
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/map"),
            &admin,
            &[
                ("columns", "4"),
                ("col_0", "-"),
                ("col_1", "vat"),
                ("col_2", "duns"),
                ("col_3", "website"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text().await.unwrap().contains(
                "An import of Companies needs a column mapped to this field: Company Name."
            ),
        );
        let map = [
            ("columns", "4"),
            ("col_0", "company_name"),
            ("col_1", "vat"),
            ("col_2", "duns"),
            ("col_3", "website"),
            ("dedupe", "duns"),
        ];
        let (job, review) = through_the_pages(&base, &admin, draft, &map, "create").await;
        assert!(
            review.contains(r#"<strong data-total="created">2</strong>new records"#),
            "{review}"
        );
        let done = finished(&base, job, &key).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["object"], "company");
        assert_eq!(records(&d, &ObjectKind::Company).await.len(), 2);

        // Again in Create & Update, finding records by DUNS (the VAT changes).
        let csv = "Company Name,VAT,DUNS,Website\nAcme Ltd,V9,D1,acme.example\n";
        let (_, body) = upload(&base, &admin, "company", csv).await;
        let draft = body["draft"].as_i64().unwrap();
        let (job, _) = through_the_pages(&base, &admin, draft, &map, "upsert").await;
        assert_eq!(finished(&base, job, &key).await["status"], "completed");
        let companies = records(&d, &ObjectKind::Company).await;
        assert_eq!(companies.len(), 2, "{companies:?}");
        assert!(
            companies.contains(&pairs(&[
                ("company_name", "Acme Ltd"),
                ("vat", "V9"),
                ("duns", "D1"),
                ("website", "acme.example"),
            ])),
            "{companies:?}"
        );

        // A custom object: its required Price must have a column.
        let (_, body) = upload(
            &base,
            &admin,
            "custom:treatments",
            "Treatment Name,Price\nBotox,300\n",
        )
        .await;
        let draft = body["draft"].as_i64().unwrap();
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/map"),
            &admin,
            &[
                ("columns", "2"),
                ("col_0", "treatment_name"),
                ("col_1", "-"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("Price"));
        let (job, _) = through_the_pages(
            &base,
            &admin,
            draft,
            &[
                ("columns", "2"),
                ("col_0", "treatment_name"),
                ("col_1", "price"),
            ],
            "create",
        )
        .await;
        assert_eq!(finished(&base, job, &key).await["status"], "completed");
        let treatments = records(&d, &ObjectKind::Custom("treatments".into())).await;
        assert_eq!(treatments.len(), 1, "{treatments:?}");
        assert!(
            treatments[0].contains(&("treatment_name".to_string(), "Botox".to_string()))
                && treatments[0].iter().any(|(k, _)| k == "price"),
            "{treatments:?}"
        );

        // The object can be changed on the mapping step, without the script.
        let (_, body) = upload(&base, &admin, "company", "Treatment Name,Price\nPeel,90\n").await;
        let draft = body["draft"].as_i64().unwrap();
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/object"),
            &admin,
            &[("object", "custom:treatments")],
        )
        .await;
        assert_eq!(location_of(&resp), format!("/imports/{draft}/map"));
        let html = get(&base, &format!("/imports/{draft}/map"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"<option value="price" selected>Price *</option>"#),
            "{html}"
        );
    }
}

async fn api(
    base: &str,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http()
        .request(method, format!("{base}/api/v1{path}"))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn api_upload(base: &str, path: &str, key: &str, csv: &str) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(key)
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_api_imports_companies_and_custom_objects() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        objects(&d);
        let key = crate::api::create_key(&d, LOCATION);
        let csv = "Company Name,VAT,DUNS\nAcme,V1,D1\nBeta,V2,D2\n";

        // An object the location lacks: 422 in words, before the body is read.
        for path in [
            "/imports/drafts?object=custom:nope",
            "/imports?object=custom:nope",
        ] {
            let (status, body) = api_upload(&base, path, &key, csv).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
            assert_eq!(body["error"]["code"], "import.object", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("“custom:nope”")
                    && message.contains("Treatments (custom:treatments)"),
                "{message}"
            );
        }

        // Step by step: the draft names its object, what must be mapped and the dedupe choice.
        let (status, draft) = api_upload(&base, "/imports/drafts?object=company", &key, csv).await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        let id = draft["id"].as_i64().unwrap();
        assert_eq!(
            draft["object"],
            json!({"key": "company", "name": "Companies"})
        );
        assert_eq!(draft["required"][0]["label"], "Company Name");
        assert_eq!(draft["required"][0]["mapped"], true);
        assert_eq!(draft["dedupe"], "vat");
        assert_eq!(draft["dedupe_choices"].as_array().unwrap().len(), 2);
        let mapping = format!("/imports/drafts/{id}/mapping");
        let put = reqwest::Method::PUT;
        let (status, body) = api(
            &base,
            put.clone(),
            &mapping,
            &key,
            Some(json!({"columns": [null, "vat", "duns"], "skip_unmapped": true})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "mapping.required");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Company Name"),
            "{body}"
        );
        let (status, body) = api(
            &base,
            put.clone(),
            &mapping,
            &key,
            Some(json!({"columns": ["company_name", "vat", "duns"], "dedupe": "company_name"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "mapping.dedupe");
        let (status, body) = api(
            &base,
            put.clone(),
            &mapping,
            &key,
            Some(json!({"columns": ["company_name", "vat", "duns"], "dedupe": "duns"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["dedupe"], "duns");
        let (status, body) = api(
            &base,
            put.clone(),
            &format!("/imports/drafts/{id}/details"),
            &key,
            Some(json!({"mode": "create", "tags": ["vip"]})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "details.contacts_only");
        let (status, _) = api(
            &base,
            put.clone(),
            &format!("/imports/drafts/{id}/details"),
            &key,
            Some(json!({"mode": "create"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, v) = api(
            &base,
            reqwest::Method::POST,
            &format!("/imports/drafts/{id}/validate"),
            &key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["created"], 2);
        let (status, s) = api(
            &base,
            reqwest::Method::POST,
            &format!("/imports/drafts/{id}/submit"),
            &key,
            Some(json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{s}");
        assert_eq!(s["bulk_action"]["object"], "company");
        let job = finished(&base, s["job_id"].as_i64().unwrap(), &key).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(records(&d, &ObjectKind::Company).await.len(), 2);

        // In one request: a custom object without a column for its required Price is 422…
        let (status, body) = api_upload(
            &base,
            "/imports?object=custom:treatments",
            &key,
            "Treatment Name\nBotox\n",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "mapping.required");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("Price"),
            "{body}"
        );
        // …and with it, a Bulk Action of the object; companies by their DUNS.
        let (status, body) = api_upload(
            &base,
            "/imports?object=custom:treatments",
            &key,
            "Treatment Name,Price\nBotox,300\n",
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["bulk_action"]["object"], "custom:treatments");
        let job = finished(&base, body["job_id"].as_i64().unwrap(), &key).await;
        assert_eq!(job["status"], "completed", "{job}");
        let (status, body) = api_upload(
            &base,
            "/imports?object=companies&mode=upsert&dedupe=duns",
            &key,
            "Company Name,VAT,DUNS\nAcme Ltd,V9,D1\n",
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let job = finished(&base, body["job_id"].as_i64().unwrap(), &key).await;
        assert_eq!(job["status"], "completed", "{job}");
        let companies = records(&d, &ObjectKind::Company).await;
        assert_eq!(
            companies.len(),
            2,
            "found by DUNS, not made again: {companies:?}"
        );
        assert!(
            companies.contains(&pairs(&[
                ("company_name", "Acme Ltd"),
                ("vat", "V9"),
                ("duns", "D1"),
            ])),
            "{companies:?}"
        );
    }
}
