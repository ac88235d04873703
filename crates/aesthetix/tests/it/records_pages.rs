//! The pages of companies and custom objects (SPEC §8, §13.2), on both backends: records
//! imported with `import companies` and `import records --object KEY` are listed at
//! `/companies` and `/objects/{key}` in numbered pages and shown one a page, every field of
//! the schema with its value, times in the location's time zone, values escaped; any
//! signed-in user of the location sees them, a user of another location gets 404, and
//! signing out leads to the login page.

use domain::ObjectKind;
use reqwest::StatusCode;

use crate::support::{Deployment, each_backend, http, page_get, spawn_app};

fn write(d: &Deployment, name: &str, content: &str) -> String {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// The record's times as the page must show them (Asia/Kolkata, +05:30).
async fn times(d: &Deployment, object: &ObjectKind, id: i64) -> (String, String) {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap().id;
    let r = store.shown_record(loc, object, id).await.unwrap().unwrap();
    store.close().await;
    let tz = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    (at(r.created_at), at(r.updated_at))
}

#[tokio::test]
async fn companies_and_custom_records_are_listed_and_shown_to_their_location_only() {
    for d in each_backend().await {
        d.ok(
            &["location", "create", "Glow", "--timezone", "Asia/Kolkata"],
            "",
        );
        d.ok(&["location", "create", "Other Spa"], "");
        for (location, email, role) in [
            ("Glow", "staff@example.com", "user"),
            ("Other Spa", "other@example.com", "admin"),
        ] {
            d.ok(
                &[
                    "user",
                    "create",
                    "--location",
                    location,
                    "--email",
                    email,
                    "--name",
                    email,
                    "--role",
                    role,
                ],
                "a long password\n",
            );
        }
        d.ok(
            &[
                "object",
                "create",
                "--location",
                "Glow",
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
                "Glow",
                "--object",
                "treatments",
                "--label",
                "Areas",
                "--type",
                "multi_select",
                "--option",
                "Forehead",
                "--option",
                "Lips",
                "--option",
                "Cheeks",
            ],
            "",
        );
        let companies = write(
            &d,
            "companies.csv",
            "Company Name,Email,Phone,City,Description\n\
             Glow Spa,info@glow.com,(201) 555-0123,Newark,First clinic\n\
             \"<script>alert(1)</script> & Co\",,,,\"<b>bold</b>\"\n",
        );
        d.ok(
            &["import", "companies", &companies, "--location", "Glow"],
            "",
        );
        let mut treatments = String::from("Treatment Name,Areas\nBotox,Lips; Forehead\n");
        for i in 2..=52 {
            treatments.push_str(&format!("Treatment {i},\n"));
        }
        let treatments = write(&d, "treatments.csv", &treatments);
        d.ok(
            &[
                "import",
                "records",
                &treatments,
                "--object",
                "treatments",
                "--location",
                "Glow",
            ],
            "",
        );

        let app = spawn_app(&d);
        let base = app.base.clone();
        let staff = crate::wizard::login(&base, "staff@example.com", "a long password").await;
        let other = crate::wizard::login(&base, "other@example.com", "a long password").await;

        // The list: Record ID, the primary field, then the schema's next fields.
        let (status, page) = page_get(&base, "/companies", &staff).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(r#"href="/companies""#), "nav: {page}");
        assert!(page.contains(r#"href="/objects""#), "nav: {page}");
        assert!(
            page.contains("<th>Record ID</th><th>Company Name</th><th>Email</th><th>Phone</th>"),
            "{page}"
        );
        assert!(
            page.contains(r#"<a href="/companies/1">Glow Spa</a>"#),
            "{page}"
        );
        assert!(
            page.contains("<td>info@glow.com</td><td>+12015550123</td>"),
            "{page}"
        );
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co"),
            "{page}"
        );
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("Page 1 of 1"), "{page}");

        // One company: every field of the schema, labelled, the times in Glow's zone.
        let (status, page) = page_get(&base, "/companies/1", &staff).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for (label, value) in [
            ("Record ID", "1"),
            ("Company Name", "Glow Spa"),
            ("Email", "info@glow.com"),
            ("Phone", "+12015550123"),
            ("City", "Newark"),
            ("Description", "First clinic"),
        ] {
            assert!(
                page.contains(&format!("<dt>{label}</dt><dd>{value}</dd>")),
                "{label}: {page}"
            );
        }
        for label in ["Website", "Address", "State", "Postal Code", "Country"] {
            assert!(
                page.contains(&format!(
                    "<dt>{label}</dt><dd><span class=\"hint\">not set</span></dd>"
                )),
                "{label}: {page}"
            );
        }
        let (created, updated) = times(&d, &ObjectKind::Company, 1).await;
        assert!(
            page.contains(&format!("<dd id=\"record-created\">{created}</dd>")),
            "{created}: {page}"
        );
        assert!(
            page.contains(&format!("<dd id=\"record-updated\">{updated}</dd>")),
            "{updated}: {page}"
        );
        let (status, page) = page_get(&base, "/companies/2", &staff).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co")
                && page.contains("&#60;b&#62;bold&#60;/b&#62;"),
            "{page}"
        );
        assert!(
            !page.contains("<script>alert") && !page.contains("<b>bold"),
            "{page}"
        );

        // A custom object: listed under Objects, its records in numbered pages by Record ID.
        let (status, page) = page_get(&base, "/objects", &staff).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(r#"<a href="/objects/treatments">Treatments</a>"#),
            "{page}"
        );
        assert!(page.contains("<td>52</td>"), "{page}");
        let (status, page) = page_get(&base, "/objects/treatments", &staff).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("<th>Record ID</th><th>Treatment Name</th><th>Areas</th>"),
            "{page}"
        );
        assert!(
            page.contains(r#"<a href="/objects/treatments/1">Botox</a>"#),
            "{page}"
        );
        assert!(page.contains("Treatment 50<") && !page.contains("Treatment 51<"));
        assert!(page.contains("Page 1 of 2"), "{page}");
        assert!(
            page.contains(r#"href="/objects/treatments?page=2""#),
            "{page}"
        );
        let (_, page) = page_get(&base, "/objects/treatments?page=2", &staff).await;
        assert!(
            page.contains("Treatment 51<") && page.contains("Treatment 52<"),
            "{page}"
        );
        assert!(
            !page.contains(">Botox<") && page.contains("Page 2 of 2"),
            "{page}"
        );
        // A page past the last shows the last.
        let (_, page) = page_get(&base, "/objects/treatments?page=99", &staff).await;
        assert!(page.contains("Page 2 of 2"), "{page}");

        let (status, page) = page_get(&base, "/objects/treatments/1", &staff).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("<dt>Treatment Name</dt><dd>Botox</dd>"),
            "{page}"
        );
        // A list field's values, joined.
        assert!(
            page.contains("<dt>Areas</dt><dd>Lips, Forehead</dd>")
                || page.contains("<dt>Areas</dt><dd>Forehead, Lips</dd>"),
            "{page}"
        );
        let treatment = ObjectKind::Custom("treatments".into());
        let (created, _) = times(&d, &treatment, 1).await;
        assert!(page.contains(&format!("<dd id=\"record-created\">{created}</dd>")));

        // Unknown objects and records: 404 with a sentence.
        let (status, page) = page_get(&base, "/objects/nope", &staff).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            page.contains("This location has no object “nope”."),
            "{page}"
        );
        for path in ["/companies/99", "/companies/x", "/objects/treatments/0"] {
            let (status, page) = page_get(&base, path, &staff).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(
                page.contains("has no record with Record ID"),
                "{path}: {page}"
            );
        }

        // Another location's user sees none of Glow's records.
        let (status, page) = page_get(&base, "/companies", &other).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("Glow Spa") && page.contains("No Companies yet."));
        for path in [
            "/companies/1",
            "/objects/treatments",
            "/objects/treatments/1",
        ] {
            let (status, page) = page_get(&base, path, &other).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {page}");
            assert!(
                !page.contains("Glow Spa") && !page.contains("Botox"),
                "{path}"
            );
        }

        // Signed out: to the login page.
        for path in [
            "/companies",
            "/companies/1",
            "/objects",
            "/objects/treatments/1",
        ] {
            let resp = http().get(format!("{base}{path}")).send().await.unwrap();
            assert!(resp.status().is_redirection(), "{path}");
            assert_eq!(resp.headers()["location"], "/login", "{path}");
        }
    }
}
