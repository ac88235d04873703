//! A contact's page (SPEC §13.2, issue 18), on both backends: the list links each contact,
//! search finds a phone written as people write it, the page shows every field and the import
//! that made the contact, an edit is read like an import's cell and refused in plain words
//! when it cannot be, and a revert of the import leaves an edited contact alone.

use reqwest::StatusCode;

use crate::support::{each_backend, http, page_get as get, spawn_app};
use crate::wizard::login;

async fn post(
    base: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let (status, location, body) = crate::support::form_post(base, path, cookie, form).await;
    (status, location.unwrap_or_default(), body)
}

fn version_of(html: &str) -> String {
    let at = html
        .find("name=\"version\" value=\"")
        .expect("a version field")
        + 22;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn a_contact_page_shows_everything_and_an_edit_survives_a_revert() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let file = d.dir.path().join("people.csv");
        std::fs::write(
            &file,
            "First Name,Last Name,Email,Phone,Tags,Note,Lead Source,UTM Campaign,Treatment of Interest\n\
             Ann,Lee,ann@example.com,(201) 555-0123,VIP,Prefers mornings,Facebook,spring,Botox\n\
             Bob,Ray,bob@example.com,,,,,,\n",
        )
        .unwrap();
        d.ok(
            &[
                "import",
                "contacts",
                file.to_str().unwrap(),
                "--location",
                "My Practice",
                "--quiet",
            ],
            "",
        );
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let page = store.contacts_page(loc, Some("ann"), 0, 10).await.unwrap();
        let ann = page.contacts[0].id;
        store.close().await;
        let admin = login(&base, &email, &password).await;

        // The list links each contact; a blank Status says so.
        let (_, list) = get(&base, "/contacts", &admin).await;
        assert!(
            list.contains(&format!("href=\"/contacts/{ann}\"")),
            "{list}"
        );
        assert!(list.contains("not set"), "{list}");
        // Search finds her phone as people write it; a miss reads plainly.
        let (_, found) = get(&base, "/contacts?q=%28201%29+555-0123", &admin).await;
        assert!(found.contains("Ann Lee"), "{found}");
        let (_, miss) = get(&base, "/contacts?q=%28770%29+336-5744", &admin).await;
        assert!(miss.contains("No contacts match"), "{miss}");
        assert!(!miss.contains("0 in My Practice"), "{miss}");

        // Her page: every field, tags, the note, and the import that made her.
        let (status, html) = get(&base, &format!("/contacts/{ann}"), &admin).await;
        assert_eq!(status, StatusCode::OK);
        for text in [
            "Contact Source",
            "UTM Campaign",
            "value=\"spring\"",
            "Treatment of Interest",
            "value=\"Botox\"",
            "value=\"+12015550123\"",
            "VIP",
            "Prefers mornings",
            "href=\"/bulk-actions/1\"",
            "Do Not Disturb",
            "Opportunities",
        ] {
            assert!(html.contains(text), "{text}: {html}");
        }
        let (missing, _) = get(&base, "/contacts/999999", &admin).await;
        assert_eq!(missing.as_u16(), 404);

        // A phone that cannot be read is refused in plain words, and nothing is saved.
        let version = version_of(&html);
        let (status, _, refused) = post(
            &base,
            &format!("/contacts/{ann}"),
            &admin,
            &[
                ("version", &version),
                ("phone", "555-01"),
                ("source", "Walk-in"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(
            refused.contains("with its country code, like +12015550123"),
            "{refused}"
        );
        assert!(!refused.contains("E.164"), "{refused}");

        // An edit of her source and phone (read as an import reads it).
        let (status, location, _) = post(
            &base,
            &format!("/contacts/{ann}"),
            &admin,
            &[
                ("version", &version),
                ("first_name", "Ann"),
                ("email", "ann@example.com"),
                ("phone", "(201) 555-0199"),
                ("source", "Front desk"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("/contacts/{ann}?saved=1"));
        let (_, after) = get(&base, &location, &admin).await;
        assert!(after.contains("Changes saved"), "{after}");
        assert!(after.contains("value=\"+12015550199\""), "{after}");
        assert!(after.contains("value=\"Front desk\""), "{after}");
        // The same form again, made against the old version, is refused.
        let (status, _, stale) = post(
            &base,
            &format!("/contacts/{ann}"),
            &admin,
            &[("version", &version), ("source", "Stale")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            stale.contains("changed this contact while you were editing"),
            "{stale}"
        );

        // Reverting the import deletes Bob and leaves Ann, edited since, as she is.
        d.ok(&["jobs", "revert", "1"], "");
        let store = d.store().await;
        let all = store.contacts_page(loc, None, 0, 10).await.unwrap();
        assert_eq!(all.total, 1, "Bob is gone");
        let kept = store.contact_detail(loc, ann).await.unwrap();
        assert_eq!(
            kept.contact.values.get("source").map(String::as_str),
            Some("Front desk")
        );
        assert_eq!(
            kept.contact.values.get("phone").map(String::as_str),
            Some("+12015550199")
        );
        store.close().await;
        drop(app);
    }
}

/// A PNG chosen by mistake is refused by name, in the wizard and on the command line (issue
/// 18: it was read as a 49-row CSV with a "‰PNG" column).
#[tokio::test]
async fn a_picture_is_refused_in_plain_words_by_the_wizard_and_the_cli() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    for d in each_backend().await {
        let app = spawn_app(&d);
        let path = d.dir.path().join("photo.png");
        std::fs::write(&path, &png).unwrap();
        let out = d.run(
            &[
                "import",
                "contacts",
                path.to_str().unwrap(),
                "--location",
                "My Practice",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is a PNG image"), "{stderr}");

        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        let resp = http()
            .post(format!("{base}/imports/upload?name=photo.png"))
            .header(reqwest::header::COOKIE, &admin)
            .header("x-csrf-token", crate::support::csrf(&admin))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(png.clone())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap();
        let page = match body["next"].as_str() {
            Some(next) => get(&base, next, &admin).await,
            None => (status, body.to_string()),
        };
        assert_eq!(page.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.1);
        assert!(page.1.contains("is a PNG image"), "{}", page.1);
        if body["next"].is_string() {
            assert!(
                page.1.contains("“photo.png” cannot be imported"),
                "{}",
                page.1
            );
            assert!(!page.1.contains("Problem code"), "{}", page.1);
        }
        drop(app);
    }
}

/// The mapping step (issue 18): "Don't import this column" is a choice that does not block
/// Next, and "fill only if empty" beside a column is kept for the import (the CLI's
/// `--fill-only`).
#[tokio::test]
async fn the_mapping_step_takes_dont_import_and_fill_only_if_empty() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        let resp = http()
            .post(format!("{base}/imports/upload?name=people.csv"))
            .header(reqwest::header::COOKIE, &admin)
            .header("x-csrf-token", crate::support::csrf(&admin))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body("First Name,Email,Stage\nAnn,ann@example.com,Active\n")
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = resp.json().await.unwrap();
        let next = body["next"].as_str().unwrap().to_string();
        let draft: i64 = next.split('/').nth(2).unwrap().parse().unwrap();
        let (status, page) = get(&base, &next, &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Don't import this column"), "{page}");
        assert!(page.contains("name=\"fill_1\""), "{page}");
        let (status, location, page) = post(
            &base,
            &next,
            &admin,
            &[
                ("columns", "3"),
                ("col_0", "first_name"),
                ("col_1", "email"),
                ("col_2", "-"),
                ("fill_1", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(location, format!("/imports/{draft}/details"));
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let settings: serde_json::Value =
            serde_json::from_str(&store.import_draft(loc, draft).await.unwrap().settings).unwrap();
        assert_eq!(
            settings["fill_only"],
            serde_json::json!(["Email"]),
            "{settings}"
        );
        assert_eq!(settings["skip_unmapped"], true, "{settings}");
        store.close().await;
        // The details step shows the mode on the step itself, not under Advanced options.
        let (_, details) = get(&base, &location, &admin).await;
        let advanced = details.find("Advanced options").unwrap();
        let mode = details.find("name=\"mode\"").unwrap();
        assert!(mode < advanced, "the mode comes before Advanced options");
        drop(app);
    }
}
