//! The export screens (SPEC §10, §13.2) over HTTP as a browser drives them, on both backends:
//! `/exports/new` starts an export that `serve`'s worker completes; the Bulk Actions row and
//! page offer its file, the header's notification says it is ready until dismissed, and the
//! download holds the chosen columns in the chosen order; refused requests say what to fix
//! and queue nothing; contacts picked on /contacts arrive as ids; scheduled exports are
//! listed, added and deleted; after 30 days the row says "expired". A user who is not an
//! admin gets 403 on every export page and action, and another location's export is 404.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{Deployment, each_backend, http, session_cookie, spawn_app};

const CONTACTS: &str = "First Name,Last Name,Email,Tags,Skin Type\n\
     Zoë,O'Neil,zoe@example.com,\"VIP, Botox\",Dry\n\
     Bob,Lee,bob@example.com,Lead,Oily\n\
     Ann,Ray,ann@example.com,VIP,\n";

async fn login(base: &str, email: &str, password: &str) -> String {
    let resp = http()
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    session_cookie(&resp).unwrap_or_else(|| panic!("{email} signs in: {}", resp.status()))
}

async fn get(base: &str, path: &str, cookie: &str) -> reqwest::Response {
    http()
        .get(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn post(base: &str, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
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

async fn job_count(d: &Deployment) -> usize {
    let store = d.store().await;
    let glow = store.location_by_name("Glow").await.unwrap();
    let n = store.jobs(glow.id).await.unwrap().len();
    store.close().await;
    n
}

async fn wait_finished(base: &str, cookie: &str, id: i64) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let jobs: serde_json::Value =
            get(base, &format!("/bulk-actions/progress?job={id}"), cookie)
                .await
                .json()
                .await
                .unwrap();
        let job = jobs[0].clone();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "export {id} did not finish: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts an export through the page; the job id it was redirected with.
async fn start(base: &str, cookie: &str, form: &[(&str, &str)]) -> i64 {
    let resp = post(base, "/exports", cookie, form).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{form:?}");
    let to = location_of(&resp);
    to.strip_prefix("/bulk-actions?exported=")
        .unwrap_or_else(|| panic!("redirected to Bulk Actions: {to}"))
        .parse()
        .unwrap()
}

/// The number in `attr="N"` after `from` in `page`.
fn attr_number(page: &str, attr: &str) -> Option<i64> {
    let at = page.find(&format!("{attr}=\""))? + attr.len() + 2;
    page[at..].split('"').next()?.parse().ok()
}

#[tokio::test]
async fn exportweb_an_export_started_on_the_page_is_downloadable_and_announced_to_admins_only() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        d.ok(
            &[
                "field",
                "create",
                "--location",
                "Glow",
                "--object",
                "contact",
                "--label",
                "Skin Type",
                "--type",
                "text",
            ],
            "",
        );
        let csv = d.dir.path().join("in.csv");
        std::fs::write(&csv, CONTACTS).unwrap();
        d.ok(
            &[
                "import",
                "contacts",
                csv.to_str().unwrap(),
                "--location",
                "Glow",
            ],
            "",
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
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().expect("a first-run admin of Glow");
        for (location, who, role) in [
            ("Glow", "uma@example.com", "user"),
            ("Other", "otto@example.com", "admin"),
        ] {
            d.ok(
                &[
                    "user",
                    "create",
                    "--location",
                    location,
                    "--email",
                    who,
                    "--name",
                    who,
                    "--role",
                    role,
                ],
                "a long password\n",
            );
        }
        let admin = login(&base, &email, &password).await;
        let uma = login(&base, "uma@example.com", "a long password").await;
        let otto = login(&base, "otto@example.com", "a long password").await;
        let store = d.store().await;
        let glow = store.location_by_name("Glow").await.unwrap();
        let vips = store.smart_list_by_name(glow.id, "VIPs").await.unwrap().id;
        let vips_s = vips.to_string();

        // The page: Smart Lists to choose, every standard and custom field as a column with
        // the default set (all but Contact ID) checked, and the filter help.
        let resp = get(&base, "/exports/new", &admin).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let page = resp.text().await.unwrap();
        assert!(page.contains(&format!("<option value=\"{vips}\">VIPs</option>")));
        assert!(page.contains("name=\"column\" value=\"first_name\" checked"));
        assert!(page.contains("name=\"column\" value=\"skin_type\" checked"));
        assert!(page.contains("name=\"column\" value=\"contact_id\">"));
        // Every filter is a form control: no filter syntax to type (issue 18).
        assert!(!page.contains("field.KEY"), "no typed filter syntax");
        for control in [
            "name=\"source\"",
            "name=\"has\"",
            "name=\"verification\"",
            "name=\"dnd_sms\"",
            "name=\"import\"",
            "name=\"field_key\"",
            "<option value=\"skin_type\">",
        ] {
            assert!(page.contains(control), "{control}");
        }

        // Refused requests say what to fix, keep what was chosen, and queue nothing.
        let before = job_count(&d).await;
        for (form, says) in [
            (
                vec![
                    ("selection", "smart_list"),
                    ("smart_list", "999999"),
                    ("column", "email"),
                ],
                "Smart List",
            ),
            (
                vec![
                    ("selection", "filters"),
                    ("expressions", "colour=red"),
                    ("column", "email"),
                ],
                "'colour=red' is not a filter",
            ),
            (
                vec![
                    ("selection", "filters"),
                    ("expressions", "field.nope=1"),
                    ("column", "email"),
                ],
                "names no contact field",
            ),
            (
                vec![("selection", "filters"), ("column", "email")],
                "Set at least one filter",
            ),
            (
                vec![("selection", "ids"), ("ids", "3, x"), ("column", "email")],
                "'x' is not a contact ID",
            ),
            (vec![("selection", "all")], "Choose at least one column"),
            (
                vec![("selection", "all"), ("column", "shoe_size")],
                "'shoe_size' is not a contact field",
            ),
        ] {
            let resp = post(&base, "/exports", &admin, &form).await;
            assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
            let page = resp.text().await.unwrap();
            assert!(page.contains("id=\"export-error\""), "{form:?}");
            let says = says.replace('\'', "&#39;");
            assert!(page.contains(&says), "{form:?} says {says}: {page}");
            assert!(
                !page.contains("Glow::") && !page.contains("Err("),
                "no debug text"
            );
        }
        assert_eq!(job_count(&d).await, before, "nothing queued");

        // An export by filters of two columns in the chosen order.
        let job = start(
            &base,
            &admin,
            &[
                ("selection", "filters"),
                ("tag", "VIP"),
                ("column", "email"),
                ("column", "skin_type"),
                ("column", "first_name"),
            ],
        )
        .await;
        let list = get(&base, &format!("/bulk-actions?exported={job}"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(list.contains("Your export was started"));
        let finished = wait_finished(&base, &admin, job).await;
        assert_eq!(finished["status"], "completed", "{finished}");

        // The row: Export, completed, the file name, and its download.
        let list = get(&base, "/bulk-actions", &admin)
            .await
            .text()
            .await
            .unwrap();
        let row = &list[list.find(&format!("data-job=\"{job}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("Export · Contacts"), "{row}");
        assert!(row.contains("badge completed"), "{row}");
        assert!(
            row.contains("<span data-field=\"exported\">2</span> contacts exported"),
            "{row}"
        );
        assert!(row.contains("Contacts export "), "{row}");
        assert!(
            row.contains(&format!("href=\"/bulk-actions/{job}/download\"")),
            "{row}"
        );
        assert!(!row.contains(" hidden"), "{row}");
        let detail = get(&base, &format!("/bulk-actions/{job}"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(detail.contains("id=\"download-export\""));

        // The header says it is ready, on every page, to admins of Glow only.
        let contacts = get(&base, "/contacts", &admin).await.text().await.unwrap();
        assert!(contacts.contains("is ready: 2 contacts"), "{contacts}");
        assert!(contacts.contains(&format!("href=\"/bulk-actions/{job}/download\">Download")));
        let notification = attr_number(&contacts, "data-notification").expect("a notice");
        for cookie in [&uma, &otto] {
            let page = get(&base, "/contacts", cookie).await.text().await.unwrap();
            assert!(!page.contains("is ready"), "{page}");
        }

        // The download: the chosen columns in the chosen order, the VIPs only.
        let resp = get(&base, &format!("/bulk-actions/{job}/download"), &admin).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body = String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap();
        assert_eq!(
            body,
            "\u{feff}Email,Skin Type,First Name\r\nzoe@example.com,Dry,Zoë\r\nann@example.com,,Ann\r\n"
        );

        // Dismissed, it is gone (back to the page it was dismissed on); another location's
        // admin cannot dismiss it.
        let path = format!("/notifications/{notification}/read");
        let resp = post(&base, &path, &otto, &[]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let resp = http()
            .post(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, &admin)
            .header("x-csrf-token", crate::support::csrf(&admin))
            .header(reqwest::header::REFERER, format!("{base}/contacts?page=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location_of(&resp), "/contacts?page=1");
        let contacts = get(&base, "/contacts", &admin).await.text().await.unwrap();
        assert!(!contacts.contains("is ready"));

        // Contacts picked on /contacts arrive as ids; exported, only they are in the file.
        assert!(
            contacts.contains("name=\"id\" value=\""),
            "checkboxes for admins"
        );
        let bob = store
            .contacts_by_emails(glow.id, &["bob@example.com".to_string()])
            .await
            .unwrap()[0]
            .id;
        let bob_s = bob.to_string();
        let page = get(&base, &format!("/exports/new?id={bob}"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("value=\"ids\" checked"));
        // The contacts picked are listed by name, checked (issue 18: not ids to type).
        assert!(
            page.contains(&format!("name=\"id\" value=\"{bob}\" checked")),
            "{page}"
        );
        assert!(
            page.contains(&format!("href=\"/contacts/{bob}\"")),
            "{page}"
        );
        let job2 = start(
            &base,
            &admin,
            &[
                ("selection", "ids"),
                ("ids", &bob_s),
                ("column", "first_name"),
            ],
        )
        .await;
        assert_eq!(
            wait_finished(&base, &admin, job2).await["status"],
            "completed"
        );
        let body = get(&base, &format!("/bulk-actions/{job2}/download"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(body, "\u{feff}First Name\r\nBob\r\n");

        // A Smart List export.
        let job3 = start(
            &base,
            &admin,
            &[
                ("selection", "smart_list"),
                ("smart_list", &vips_s),
                ("column", "email"),
            ],
        )
        .await;
        assert_eq!(
            wait_finished(&base, &admin, job3).await["status"],
            "completed"
        );
        let body = get(&base, &format!("/bulk-actions/{job3}/download"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            body,
            "\u{feff}Email\r\nzoe@example.com\r\nann@example.com\r\n"
        );

        // A Smart List's name is data, never markup: escaped in the page, the row and the
        // header's notice.
        const HOSTILE: &str = "<script>alert(1)</script>";
        d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                HOSTILE,
                "--filter",
                "tag=Lead",
            ],
            "",
        );
        let hostile = store.smart_list_by_name(glow.id, HOSTILE).await.unwrap().id;
        let page = get(&base, "/exports/new", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;") && !page.contains(HOSTILE)
        );
        let job4 = start(
            &base,
            &admin,
            &[
                ("selection", "smart_list"),
                ("smart_list", &hostile.to_string()),
                ("column", "email"),
            ],
        )
        .await;
        assert_eq!(
            wait_finished(&base, &admin, job4).await["status"],
            "completed"
        );
        for path in ["/bulk-actions", "/contacts"] {
            let page = get(&base, path, &admin).await.text().await.unwrap();
            assert!(
                page.contains("&#60;script&#62;alert(1)&#60;/script&#62; export"),
                "{path}: {page}"
            );
            assert!(!page.contains(HOSTILE), "{path}");
        }

        // Scheduled exports: added, listed, deleted (only by the location's admins).
        let resp = post(
            &base,
            "/exports/schedules",
            &admin,
            &[
                ("smart_list", &vips_s),
                ("frequency", "weekly"),
                ("start", "2099-01-05T09:00"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let page = get(&base, "/exports/new?scheduled=added", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("The scheduled export was added."));
        let schedule = attr_number(&page, "data-schedule").expect("the schedule is listed");
        assert!(
            page.contains("<td>VIPs</td><td>week</td><td>2099-01-05 09:00</td>"),
            "{page}"
        );
        let resp = post(
            &base,
            "/exports/schedules",
            &admin,
            &[("smart_list", "999999"), ("frequency", "daily")],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("not one of this location")
        );
        let delete = format!("/exports/schedules/{schedule}/delete");
        assert_eq!(
            post(&base, &delete, &otto, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(store.export_schedules(glow.id).await.unwrap().len(), 1);
        assert_eq!(
            post(&base, &delete, &admin, &[]).await.status(),
            StatusCode::SEE_OTHER
        );
        assert!(store.export_schedules(glow.id).await.unwrap().is_empty());

        // A user who is not an admin: 403 on every export page and action, and no link.
        let before = job_count(&d).await;
        for resp in [
            get(&base, "/exports/new", &uma).await,
            post(
                &base,
                "/exports",
                &uma,
                &[("selection", "all"), ("column", "email")],
            )
            .await,
            post(
                &base,
                "/exports/schedules",
                &uma,
                &[("smart_list", &vips_s), ("frequency", "daily")],
            )
            .await,
            post(&base, &delete, &uma, &[]).await,
            post(&base, &path, &uma, &[]).await,
            get(&base, &format!("/bulk-actions/{job}"), &uma).await,
            get(&base, &format!("/bulk-actions/{job}/download"), &uma).await,
        ] {
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{}", resp.url());
        }
        assert_eq!(job_count(&d).await, before);
        let contacts = get(&base, "/contacts", &uma).await.text().await.unwrap();
        assert!(!contacts.contains("/exports/new") && !contacts.contains("name=\"id\""));

        // Another location's admin: Glow's export and Smart List are not found.
        for path in [
            format!("/bulk-actions/{job}"),
            format!("/bulk-actions/{job}/download"),
        ] {
            assert_eq!(
                get(&base, &path, &otto).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let resp = post(
            &base,
            "/exports",
            &otto,
            &[
                ("selection", "smart_list"),
                ("smart_list", &vips_s),
                ("column", "email"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let other_list = get(&base, "/bulk-actions", &otto)
            .await
            .text()
            .await
            .unwrap();
        assert!(!other_list.contains(&format!("data-job=\"{job}\"")));

        // After 30 days the row and the page say the file expired; no link is offered.
        let file = store.job_file(glow.id, job).await.unwrap().unwrap();
        store::testing::set_file_expiry(&store, file.id, store::now_ms() - 1000).await;
        let list = get(&base, "/bulk-actions", &admin)
            .await
            .text()
            .await
            .unwrap();
        let row = &list[list.find(&format!("data-job=\"{job}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("expired"), "{row}");
        assert!(!row.contains("/download"), "{row}");
        let detail = get(&base, &format!("/bulk-actions/{job}"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            detail.contains("id=\"export-expired\"") && !detail.contains("id=\"download-export\"")
        );
        // Exports started within one minute are told apart by name and by file name (issue
        // 18): this test started several in a row.
        let exports: Vec<store::Job> = store
            .jobs(glow.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.operation == "export")
            .collect();
        assert!(exports.len() >= 2);
        let mut names: Vec<(&str, &str)> = exports
            .iter()
            .map(|j| (j.name.as_str(), j.file_name.as_deref().unwrap_or("")))
            .collect();
        let minutes: std::collections::HashSet<&str> = names.iter().map(|n| n.0).collect();
        assert_eq!(minutes.len(), names.len(), "distinct names: {names:?}");
        names.sort_by_key(|n| n.1);
        names.dedup_by_key(|n| n.1);
        assert_eq!(
            names.len(),
            exports.len(),
            "distinct file names: {exports:?}"
        );
        store.close().await;
    }
}

/// Every object exports from the page and the API (SPEC §7, §8, §10): companies and a custom
/// object with the columns checked, opportunities by pipeline; an unknown object is a 404 on
/// the page and a 422 through the API, and a selection only contacts have is refused in words.
#[tokio::test]
async fn exportweb_companies_custom_objects_and_opportunities_export_from_the_page_and_the_api() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        let loc = ["--location", "My Practice"];
        let with_loc = |args: &[&str]| {
            let mut all: Vec<&str> = args.to_vec();
            all.extend(loc);
            d.ok(&all, "")
        };
        with_loc(&[
            "object",
            "create",
            "--name",
            "Treatments",
            "--primary",
            "Treatment Name",
        ]);
        with_loc(&[
            "pipeline", "create", "--name", "Surgery", "--stage", "Booked", "--stage", "Done",
        ]);
        let companies = d.dir.path().join("companies.csv");
        std::fs::write(
            &companies,
            "Company Name,Email,City\nGlow Spa,spa@example.com,Tampa\n",
        )
        .unwrap();
        with_loc(&["import", "companies", companies.to_str().unwrap()]);
        let treatments = d.dir.path().join("treatments.csv");
        std::fs::write(&treatments, "Treatment Name\nBotox\n").unwrap();
        with_loc(&[
            "import",
            "records",
            treatments.to_str().unwrap(),
            "--object",
            "treatments",
        ]);

        let page = get(&base, "/exports/new", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"export-objects\"")
                && page.contains("href=\"/exports/new?object=company\"")
                && page.contains("href=\"/exports/new?object=treatments\""),
            "{page}"
        );
        let page = get(&base, "/exports/new?object=company", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Export Companies") && page.contains("value=\"company_name\" checked"),
            "{page}"
        );
        let page = get(&base, "/exports/new?object=opportunity", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"pipeline\"")
                && page.contains(">Surgery</option>")
                && page.contains("value=\"contact.email\""),
            "{page}"
        );
        assert_eq!(
            get(&base, "/exports/new?object=nope", &admin)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        // Companies, two columns in the order checked.
        let job = start(
            &base,
            &admin,
            &[
                ("object", "company"),
                ("column", "company_name"),
                ("column", "city"),
            ],
        )
        .await;
        assert_eq!(
            wait_finished(&base, &admin, job).await["status"],
            "completed"
        );
        let body = get(&base, &format!("/bulk-actions/{job}/download"), &admin)
            .await
            .text()
            .await
            .unwrap();
        let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines, ["Company Name,City", "Glow Spa,Tampa"], "{body}");
        // A custom object's records.
        let job = start(
            &base,
            &admin,
            &[("object", "treatments"), ("column", "treatment_name")],
        )
        .await;
        assert_eq!(
            wait_finished(&base, &admin, job).await["status"],
            "completed"
        );
        let body = get(&base, &format!("/bulk-actions/{job}/download"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            body.trim_start_matches('\u{feff}')
                .lines()
                .collect::<Vec<_>>(),
            ["Treatment Name", "Botox"]
        );
        // Opportunities of one pipeline (none yet: the header alone).
        let store = d.store().await;
        let l = store.location_by_name("My Practice").await.unwrap().id;
        let surgery = store
            .pipeline_by_name(l, "Surgery")
            .await
            .unwrap()
            .id
            .to_string();
        let job = start(
            &base,
            &admin,
            &[
                ("object", "opportunity"),
                ("pipeline", &surgery),
                ("column", "opportunity_name"),
                ("column", "contact.email"),
            ],
        )
        .await;
        assert_eq!(
            wait_finished(&base, &admin, job).await["status"],
            "completed"
        );
        let body = get(&base, &format!("/bulk-actions/{job}/download"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            body.trim_start_matches('\u{feff}')
                .lines()
                .collect::<Vec<_>>(),
            ["Opportunity Name,Email"]
        );
        // No column: refused on the page, nothing queued.
        let jobs_before = store.jobs(l).await.unwrap().len();
        let resp = post(&base, "/exports", &admin, &[("object", "company")]).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Check at least one column")
        );
        assert_eq!(store.jobs(l).await.unwrap().len(), jobs_before);

        // The API takes the object too.
        let key = d
            .ok(&["apikey", "create", "--location", "My Practice"], "")
            .trim()
            .to_string();
        let api = |body: serde_json::Value| {
            let base = base.clone();
            let key = key.clone();
            async move {
                let resp = http()
                    .post(format!("{base}/api/v1/exports"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                (status, resp.json::<serde_json::Value>().await.unwrap())
            }
        };
        let (status, v) = api(serde_json::json!({"object": "company"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        assert_eq!(v["bulk_action"]["object"], "company", "{v}");
        for (body, says) in [
            (serde_json::json!({"object": "nope"}), "treatments"),
            (
                serde_json::json!({"object": "opportunity", "pipeline": "Nope"}),
                "GET /api/v1/pipelines",
            ),
            (
                serde_json::json!({"object": "company", "smart_list": "Leads"}),
                "Smart Lists and filters select contacts",
            ),
        ] {
            let (status, v) = api(body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(says),
                "{body}: {v}"
            );
        }
        store.close().await;
    }
}
