//! The web product as a person meets it: first run, sign in, contacts, settings, and a user
//! who is not an admin being refused the admin pages.

use reqwest::StatusCode;
use store::NewContact;

use crate::support::{Deployment, each_backend, http, session_cookie, spawn_app};

async fn login(base: &str, email: &str, password: &str) -> reqwest::Response {
    http()
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn get(base: &str, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = http().get(format!("{base}{path}"));
    if let Some(c) = cookie {
        req = req.header(reqwest::header::COOKIE, c);
    }
    req.send().await.unwrap()
}

async fn seed_contacts(d: &Deployment, location: &str) {
    let store = d.store().await;
    let loc = store.location_by_name(location).await.unwrap();
    let mut contacts: Vec<NewContact> = (0..60)
        .map(|i| NewContact {
            first_name: Some(format!("Patient{i:02}")),
            email: Some(format!("patient{i}@example.com")),
            ..NewContact::default()
        })
        .collect();
    contacts.push(NewContact {
        first_name: Some("<script>alert(1)</script>".into()),
        phone: Some("+12015550123".into()),
        ..NewContact::default()
    });
    store.insert_contacts(loc.id, &contacts).await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn first_run_login_contacts_settings_and_a_refused_user() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (admin_email, admin_password) = app
            .first_login
            .clone()
            .expect("the first run prints a login");
        assert!(
            admin_password.len() >= 16,
            "a generated password, never a default one"
        );

        assert_eq!(get(&base, "/healthz", None).await.status(), StatusCode::OK);
        let anonymous = get(&base, "/contacts", None).await;
        assert!(anonymous.status().is_redirection());
        assert_eq!(anonymous.headers()["location"], "/login");
        assert!(
            get(&base, "/login", None)
                .await
                .text()
                .await
                .unwrap()
                .contains("Sign in to Aesthetix")
        );

        let wrong = login(&base, &admin_email, "not the password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(session_cookie(&wrong).is_none());
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("do not match an account")
        );

        let ok = login(&base, &admin_email, &admin_password).await;
        assert!(ok.status().is_redirection());
        let cookie = session_cookie(&ok).expect("a session cookie");
        let set_cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
            "{set_cookie}"
        );

        seed_contacts(&d, "My Practice").await;
        let page = get(&base, "/contacts", Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("61 in My Practice"), "{html}");
        assert!(html.contains("Page 1 of 2"));
        assert!(
            html.contains(r#"href="/settings""#),
            "an admin sees Settings"
        );
        assert!(
            !html.contains("<script>alert(1)</script>"),
            "names are escaped"
        );
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || html.contains("&lt;script&gt;"),
            "{html}"
        );
        let second = get(&base, "/contacts?page=2", Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            second.contains("Page 2 of 2") && second.contains("Patient00"),
            "oldest on the last page"
        );
        let search = get(&base, "/contacts?q=patient5", Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            search.contains("11 matching “patient5”"),
            "patient5 and patient50..59"
        );
        let none = get(&base, "/contacts?q=nobody", Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        // A miss reads plainly, without "Contacts 0 in …" (issue 18).
        assert!(none.contains("No contacts match “nobody”"), "{none}");
        assert!(!none.contains("0 in My Practice"), "{none}");

        let settings = get(&base, "/settings", Some(&cookie)).await;
        assert_eq!(settings.status(), StatusCode::OK);
        assert!(
            settings
                .text()
                .await
                .unwrap()
                .contains(r#"value="America/New_York""#)
        );
        let save = |form: Vec<(&'static str, &'static str)>| {
            let base = base.clone();
            let cookie = cookie.clone();
            async move {
                http()
                    .post(format!("{base}/settings"))
                    .header("x-csrf-token", crate::support::csrf(&cookie))
                    .header("cookie", cookie)
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let bad = save(vec![
            ("country", "USA"),
            ("timezone", "europe/london"),
            ("currency", "GBP"),
            ("date_order", "DMY"),
            ("match_order", "phone_first"),
        ])
        .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = bad.text().await.unwrap();
        assert!(
            text.contains("Nothing was saved")
                && text.contains("Europe/London")
                && text.contains("two-letter"),
            "{text}"
        );
        let good = save(vec![
            ("country", "gb"),
            ("timezone", "Europe/London"),
            ("currency", "GBP"),
            ("date_order", "DMY"),
            ("match_order", "phone_first"),
            ("require_unique_identifier", "on"),
        ])
        .await;
        assert!(good.status().is_redirection());
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap();
        assert_eq!(
            (
                loc.settings.country.as_str(),
                loc.settings.timezone.as_str(),
                loc.settings.date_order,
                loc.settings.match_order,
                loc.settings.require_unique_identifier
            ),
            (
                "GB",
                "Europe/London",
                domain::DateOrder::Dmy,
                domain::MatchOrder::PhoneFirst,
                true
            )
        );
        store.close().await;

        // A user of the location who is not an admin: contacts yes, settings never.
        d.ok(
            &[
                "user",
                "create",
                "--location",
                "My Practice",
                "--email",
                "front@example.com",
                "--name",
                "Front Desk",
                "--role",
                "user",
            ],
            "front desk pass\n",
        );
        let user_cookie =
            session_cookie(&login(&base, "FRONT@example.com", "front desk pass").await)
                .expect("the user signs in");
        let contacts = get(&base, "/contacts", Some(&user_cookie)).await;
        assert_eq!(contacts.status(), StatusCode::OK);
        assert!(
            !contacts
                .text()
                .await
                .unwrap()
                .contains(r#"href="/settings""#),
            "no Settings link for a user"
        );
        let refused = get(&base, "/settings", Some(&user_cookie)).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.unwrap().contains("Only an admin"));
        let refused_post = http()
            .post(format!("{base}/settings"))
            .header("cookie", &user_cookie)
            .header("x-csrf-token", crate::support::csrf(&user_cookie))
            .form(&[
                ("country", "US"),
                ("timezone", "UTC"),
                ("currency", "USD"),
                ("date_order", "MDY"),
                ("match_order", "email_first"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused_post.status(), StatusCode::FORBIDDEN);

        // Signing out ends the session on the server, not only in the browser.
        let out = http()
            .post(format!("{base}/logout"))
            .header("cookie", &user_cookie)
            .header("x-csrf-token", crate::support::csrf(&user_cookie))
            .send()
            .await
            .unwrap();
        assert!(out.status().is_redirection());
        assert!(
            get(&base, "/contacts", Some(&user_cookie))
                .await
                .status()
                .is_redirection()
        );
        drop(app);

        // A second start prints no new login: the admin exists.
        let again = spawn_app(&d);
        assert!(again.first_login.is_none());
    }
}
