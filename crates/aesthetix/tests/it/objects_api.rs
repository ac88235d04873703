//! Objects and fields defined through the API (SPEC §8), on both backends: the same rules as
//! `object create` / `field create` and the Settings pages, refused with 422 in words, 404 for an
//! object the location does not have, and what the API defined is what an import reads.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::create_key;
use crate::support::{each_backend, http, spawn_app};

async fn send(
    base: &str,
    method: Method,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let resp = http()
        .request(method, format!("{base}/api/v1{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn objects_and_fields_are_defined_through_the_api() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        let key = create_key(&d, "Glow");
        let other = create_key(&d, "Other");
        let app = spawn_app(&d);
        let base = &app.base;
        let post = |path: &'static str, body: Value| send(base, Method::POST, path, &key, body);

        let (status, made) = post(
            "/objects",
            json!({"name": "Treatments", "primary": "Treatment Name"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["key"], "treatments");
        assert_eq!(made["primary"]["key"], "treatment_name");
        let (status, again) =
            post("/objects", json!({"name": "Treatments", "primary": "Name"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert!(
            again["error"]["message"]
                .as_str()
                .unwrap()
                .contains("treatments")
        );
        for (body, says) in [
            (
                json!({"name": "Companies", "primary": "Name"}),
                "standard object",
            ),
            (
                json!({"name": "X", "primary": "Y", "key": "Bad Key"}),
                "lower-case",
            ),
            (json!({"name": "X", "primary": "Record ID"}), "Record ID"),
        ] {
            let (status, v) = post("/objects", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
            assert_eq!(v["error"]["code"], "definition.invalid");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(says),
                "{v}"
            );
        }
        let (status, _) = post("/objects", json!({"name": "X"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, v) = post(
            "/objects/treatments/fields",
            json!({"label": "Price", "type": "monetary", "required": true}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let (status, v) = post(
            "/objects/treatments/fields",
            json!({"label": "SKU", "type": "text", "unique": true}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(
            v["fields"],
            json!([
                {"key": "price", "label": "Price", "type": "monetary", "required": true, "unique": false},
                {"key": "sku", "label": "SKU", "type": "text", "required": false, "unique": true},
            ])
        );
        let (status, v) = post(
            "/objects/contact/fields",
            json!({"label": "Skin Type", "type": "single_option", "options": ["Dry", "Oily"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        for (path, body, says) in [
            (
                "/objects/treatments/fields",
                json!({"label": "Notes", "type": "large_text", "unique": true}),
                "cannot be unique",
            ),
            (
                "/objects/company/fields",
                json!({"label": "Tier", "type": "text", "required": true}),
                "custom object",
            ),
            (
                "/objects/contact/fields",
                json!({"label": "Kind", "type": "radio"}),
                "allowed values",
            ),
            (
                "/objects/contact/fields",
                json!({"label": "Kind", "type": "colour"}),
                "unknown field type",
            ),
        ] {
            let (status, v) = post(path, body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(says),
                "{v}"
            );
        }
        let (status, v) = post(
            "/objects/nope/fields",
            json!({"label": "X", "type": "text"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("treatments"),
            "{v}"
        );

        let (status, all) = send(base, Method::GET, "/objects", &key, json!(null)).await;
        assert_eq!(status, StatusCode::OK);
        let keys: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["contact", "opportunity", "company", "treatments"]);
        let skin = all[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == "skin_type")
            .cloned();
        assert_eq!(
            skin.map(|f| f["options"].clone()),
            Some(json!(["Dry", "Oily"])),
            "{all}"
        );

        // Another location's key sees none of it, and cannot add to it.
        let (_, theirs) = send(base, Method::GET, "/objects", &other, json!(null)).await;
        assert_eq!(theirs.as_array().unwrap().len(), 3);
        let (status, _) = send(
            base,
            Method::POST,
            "/objects/treatments/fields",
            &other,
            json!({"label": "X", "type": "text"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // An import reads what the API defined: SKU is unique, Price required.
        let file = d.dir.path().join("treatments.csv");
        std::fs::write(
            &file,
            "Treatment Name,Price,SKU\nBotox,12,S1\nFiller,20,s1\n",
        )
        .unwrap();
        let out = d.run(
            &[
                "import",
                "records",
                file.to_str().unwrap(),
                "--object",
                "treatments",
                "--location",
                "Glow",
            ],
            "",
        );
        assert!(out.status.code().is_some_and(|c| c <= 2), "{out:?}");
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        let kind = domain::ObjectKind::Custom("treatments".into());
        // The second line has the first one's SKU in another case: it merges into it.
        assert_eq!(store.record_count(loc, &kind).await.unwrap(), 1);
    }
}
