//! `apikey create|revoke` and the `/api/v1` routes they open: a key sees its own location
//! only, a revoked key is refused at once, and a session does not stand in for a key.

use reqwest::StatusCode;

use crate::smart_lists::{fails, seed};
use crate::support::{each_backend, http, session_cookie, spawn_app};

async fn api(base: &str, path: &str, key: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut req = http().get(format!("{base}{path}"));
    if let Some(k) = key {
        req = req.header(reqwest::header::AUTHORIZATION, format!("Bearer {k}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    let json =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
    (status, json)
}

fn create_key(d: &crate::support::Deployment, location: &str) -> String {
    let out = d.run(&["apikey", "create", "--location", location], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        key.starts_with("ax_") && key.len() == 44,
        "the key alone on stdout: {key}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown only this once"));
    key
}

fn assert_unauthorized((status, body): (StatusCode, serde_json::Value), code: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn an_api_key_sees_its_own_location_only_and_stops_working_when_revoked() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        let glow_ids = seed(&d, "Glow").await;
        let store = d.store().await;
        let other = store.location_by_name("Other").await.unwrap();
        let other_ids = store
            .insert_contacts(
                other.id,
                &[store::NewContact {
                    email: Some("other@example.com".into()),
                    ..store::NewContact::default()
                }],
            )
            .await
            .unwrap();
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
        let glow_key = create_key(&d, "Glow");
        let other_key = create_key(&d, "Other");
        let app = spawn_app(&d);
        let base = app.base.clone();

        let (status, page) = api(&base, "/api/v1/contacts?limit=4", Some(&glow_key)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            (page["total"].as_i64(), page["limit"].as_i64()),
            (Some(6), Some(4))
        );
        let (_, rest) = api(&base, "/api/v1/contacts?limit=4&offset=4", Some(&glow_key)).await;
        let mut seen: Vec<i64> = page["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rest["contacts"].as_array().unwrap())
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        seen.sort();
        assert_eq!(seen, glow_ids, "every contact of Glow, and only Glow's");

        let (_, theirs) = api(&base, "/api/v1/contacts", Some(&other_key)).await;
        let their_ids: Vec<i64> = theirs["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(their_ids, other_ids);
        assert_eq!(theirs["contacts"][0]["email"], "other@example.com");

        let (status, lists) = api(&base, "/api/v1/smart-lists", Some(&glow_key)).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<(&str, i64)> = lists
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["name"].as_str().unwrap(), l["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                ("Leads", 2),
                ("Patients", 3),
                ("Mass SMS", 2),
                ("Mass Email", 5),
                ("VIPs", 2)
            ]
        );
        let (_, their_lists) = api(&base, "/api/v1/smart-lists", Some(&other_key)).await;
        assert_eq!(
            their_lists.as_array().unwrap().len(),
            4,
            "Other has only its built-in lists"
        );
        assert_eq!(their_lists[1]["count"], 0);

        // Without a key, with a wrong one, or with a session instead: 401 with a JSON error.
        assert_unauthorized(
            api(&base, "/api/v1/contacts", None).await,
            "auth.api_key_required",
        );
        assert_unauthorized(
            api(
                &base,
                "/api/v1/contacts",
                Some("ax_nothere_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
            )
            .await,
            "auth.api_key_invalid",
        );
        // The last character changed (to another one: a key ending in `x` stays tampered).
        let last = if glow_key.ends_with('x') { 'y' } else { 'x' };
        let tampered = format!("{}{last}", &glow_key[..glow_key.len() - 1]);
        assert_ne!(tampered, glow_key);
        assert_unauthorized(
            api(&base, "/api/v1/smart-lists", Some(&tampered)).await,
            "auth.api_key_invalid",
        );
        let (email, password) = app.first_login.clone().expect("first run login");
        let login = http()
            .post(format!("{base}/login"))
            .form(&[("email", email.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let cookie = session_cookie(&login).expect("signed in");
        let with_session = http()
            .get(format!("{base}/api/v1/contacts"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            with_session.status(),
            StatusCode::UNAUTHORIZED,
            "a session is not an API key"
        );
        let (status, body) = api(&base, "/api/v1/contacts?limit=0", Some(&glow_key)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("request.invalid"))
        );
        let (status, _) = api(&base, "/api/v1/nothing", Some(&glow_key)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Revoking: another location's prefix is not found and changes nothing; the right
        // one ends the key at once, on the running server.
        let prefix = &glow_key[3..11];
        let err = fails(&d, &["apikey", "revoke", "--location", "Other", prefix]);
        assert!(err.contains("no API key with prefix"), "{err}");
        assert_eq!(
            api(&base, "/api/v1/contacts", Some(&glow_key)).await.0,
            StatusCode::OK
        );
        let out = d.ok(&["apikey", "revoke", "--location", "Glow", prefix], "");
        assert!(out.contains(&format!("Revoked API key {prefix}")), "{out}");
        assert_unauthorized(
            api(&base, "/api/v1/contacts", Some(&glow_key)).await,
            "auth.api_key_invalid",
        );
        assert_unauthorized(
            api(&base, "/api/v1/smart-lists", Some(&glow_key)).await,
            "auth.api_key_invalid",
        );
        assert_eq!(
            api(&base, "/api/v1/contacts", Some(&other_key)).await.0,
            StatusCode::OK,
            "other keys still work"
        );
        let listed = d.ok(&["apikey", "list", "--location", "Glow"], "");
        assert!(
            listed.contains(prefix) && listed.contains("revoked"),
            "{listed}"
        );
        fails(&d, &["apikey", "create", "--location", "Nowhere"]);
        store.close().await;
    }
}
