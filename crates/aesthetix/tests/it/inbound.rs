//! Contacts one at a time (SPEC §12), on both backends: `POST /api/v1/contacts` with an API
//! key and `POST /hooks/{token}` (a webhook made with `aesthetix webhook create`) create or
//! update one contact through the import engine, keep the channel as source unless one is
//! given, store UTM parameters, answer one report line (201 created, 200 otherwise, 422 for
//! an error line) and refuse a 61st request in a minute with 429, counted across web processes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{each_backend, http, spawn_app};

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value, Option<String>) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, resp.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test]
async fn the_api_and_a_webhook_create_and_update_contacts_with_sources_and_limits() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let key = d
            .ok(&["apikey", "create", "--location", "My Practice"], "")
            .trim()
            .to_string();
        let hook = d
            .ok(&["webhook", "create", "--location", "My Practice"], "")
            .trim()
            .to_string();
        assert!(hook.starts_with("/hooks/"), "{hook}");
        let base = app.base.clone();
        let api = |body: Value| {
            http()
                .post(format!("{base}/api/v1/contacts"))
                .bearer_auth(&key)
                .json(&body)
        };

        // Created: the source is the channel, UTM kept, the phone read as an import reads it.
        let (status, line, _) = send(api(json!({
            "first_name": "Ann",
            "Email": "ann@example.com",
            "Phone": "(201) 555-0123",
            "utm_source": "google",
            "tags": "VIP"
        })))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{line}");
        assert_eq!(line["action"], "created", "{line}");
        assert_eq!(line["status"], "success", "{line}");
        assert_eq!(line["primary"], "Ann", "{line}");
        assert!(line.get("line").is_none(), "{line}");
        let ann = line["record_id"].as_i64().unwrap();

        // The same person again: matched by email and updated.
        let (status, line, _) =
            send(api(json!({"email": "ANN@example.com", "last_name": "Lee"}))).await;
        assert_eq!(status, StatusCode::OK, "{line}");
        assert_eq!(line["action"], "updated", "{line}");
        assert_eq!(line["record_id"].as_i64(), Some(ann));

        // An error line is 422 with its messages; an unknown field is refused by name.
        let (status, line, _) = send(api(json!({"email": "not an email"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{line}");
        assert_eq!(line["status"], "error", "{line}");
        assert!(!line["messages"].as_array().unwrap().is_empty(), "{line}");
        let (status, err, _) = send(api(json!({"email": "x@example.com", "colour": "red"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains("colour"),
            "{err}"
        );
        let (status, _, _) = send(
            http()
                .post(format!("{base}/api/v1/contacts"))
                .json(&json!({"email": "y@example.com"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // A webhook: form fields, source Webhook; JSON with a source of its own keeps it.
        let (status, line, _) = send(http().post(format!("{base}{hook}")).form(&[
            ("first_name", "Bob"),
            ("email", "bob@example.com"),
            ("utm_campaign", "spring"),
        ]))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{line}");
        let bob = line["record_id"].as_i64().unwrap();
        let (status, line, _) = send(http().post(format!("{base}{hook}")).json(
            &json!({"First Name": "Cy", "phone": "+12015550188", "Contact Source": "Instagram"}),
        ))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{line}");
        let cy = line["record_id"].as_i64().unwrap();
        let (status, _, _) = send(
            http()
                .post(format!("{base}/hooks/0000000000000000"))
                .json(&json!({"email": "z@example.com"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let value = |c: &store::ContactDetail, k: &str| c.contact.values.get(k).cloned();
        let a = store.contact_detail(loc, ann).await.unwrap();
        assert_eq!(value(&a, "source").as_deref(), Some("API"));
        assert_eq!(value(&a, "utm_source").as_deref(), Some("google"));
        assert_eq!(value(&a, "phone").as_deref(), Some("+12015550123"));
        assert_eq!(value(&a, "last_name").as_deref(), Some("Lee"));
        assert_eq!(a.contact.tags, ["VIP"]);
        let b = store.contact_detail(loc, bob).await.unwrap();
        assert_eq!(value(&b, "source").as_deref(), Some("Webhook"));
        assert_eq!(value(&b, "utm_campaign").as_deref(), Some("spring"));
        let c = store.contact_detail(loc, cy).await.unwrap();
        assert_eq!(value(&c, "source").as_deref(), Some("Instagram"));
        store.close().await;

        // The 61st request of a minute for one key is refused, with when to try again — also
        // when the requests alternate between two web processes of one deployment (the minute
        // is counted in the database, not in each process).
        let second = spawn_app(&d);
        let base2 = second.base.clone();
        let mut limited = None;
        for i in 0..130 {
            let (status, _, retry) = if i % 2 == 0 {
                send(api(json!({}))).await
            } else {
                send(
                    http()
                        .post(format!("{base2}/api/v1/contacts"))
                        .bearer_auth(&key)
                        .json(&json!({})),
                )
                .await
            };
            if status == StatusCode::TOO_MANY_REQUESTS {
                limited = Some((i, retry));
                break;
            }
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let (at, retry) = limited.expect("a 429 within 130 requests");
        // Four requests with this key came before the loop (the one without a key is not
        // the key's).
        assert_eq!(at, 60 - 4, "the 61st request of the minute");
        assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
        drop(second);
        drop(app);
    }
}
