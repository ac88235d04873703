//! Smart Lists: the filter syntax as a table of cases, and evaluation by the database on both
//! backends against counts computed here, in Rust, from the generated data.

use std::collections::BTreeMap;

use domain::LocationSettings;

use super::*;
use crate::testing::{TestDb, each_backend};
use crate::{ContactFlags, EmailVerification, NewContact};

async fn location(db: &TestDb, name: &str, tz: &str) -> crate::Location {
    let settings = LocationSettings {
        timezone: tz.into(),
        ..LocationSettings::default()
    };
    db.store.create_location(name, &settings).await.unwrap()
}

fn filters(exprs: &[&str]) -> Vec<Filter> {
    exprs.iter().map(|e| parse_filter(e).unwrap()).collect()
}

#[tokio::test]
async fn builtin_lists_come_with_every_location_and_cannot_be_deleted() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow", "America/New_York").await;
        let lists: Vec<(String, Vec<String>, bool, i64)> = s
            .smart_lists(loc.id)
            .await
            .unwrap()
            .into_iter()
            .map(|(l, n)| (l.name.clone(), l.filter_exprs(), l.builtin, n))
            .collect();
        let expected = [
            ("Leads", vec!["type=Lead"]),
            ("Patients", vec!["type=Patient"]),
            (
                "Mass SMS",
                vec!["has=phone", "status=Subscribed", "dnd_sms=false"],
            ),
            (
                "Mass Email",
                vec![
                    "has=email",
                    "status=Subscribed",
                    "dnd_email=false",
                    "verification!=invalid",
                ],
            ),
        ]
        .map(|(n, f)| {
            (
                n.to_string(),
                f.into_iter().map(String::from).collect::<Vec<_>>(),
                true,
                0,
            )
        });
        assert_eq!(lists, expected, "{:?}", db.backend());

        for name in ["Leads", "Patients", "Mass SMS", "Mass Email"] {
            let err = s.delete_smart_list(loc.id, name).await.unwrap_err();
            assert!(err.is_conflict(), "{name}: {err}");
            assert!(err.to_string().contains("built-in"), "{err}");
        }
        assert!(
            s.delete_smart_list(loc.id, "Nope")
                .await
                .unwrap_err()
                .is_not_found()
        );

        let vip = s
            .create_smart_list(loc.id, "VIPs", &filters(&["tag=VIP"]))
            .await
            .unwrap();
        assert_eq!(s.smart_list_by_name(loc.id, "VIPs").await.unwrap(), vip);
        let again = s
            .create_smart_list(loc.id, "VIPs", &filters(&["tag=Other"]))
            .await
            .unwrap_err();
        assert!(again.is_conflict(), "{again}");
        let typo = s
            .create_smart_list(loc.id, "Typo", &filters(&["field.treatment=Botox"]))
            .await
            .unwrap_err();
        assert!(typo.is_not_found(), "{typo}");
        assert!(
            typo.to_string().contains("treatment_of_interest"),
            "lists the known keys: {typo}"
        );

        // Names are per location.
        let other = location(&db, "Other", "America/New_York").await;
        s.create_smart_list(other.id, "VIPs", &filters(&["tag=VIP"]))
            .await
            .unwrap();
        assert!(
            s.smart_list_by_name(other.id, "Leads").await.is_ok(),
            "the other location has its own built-in lists"
        );

        s.delete_smart_list(loc.id, "VIPs").await.unwrap();
        assert!(
            s.smart_list_by_name(loc.id, "VIPs")
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(s.smart_list_by_name(other.id, "VIPs").await.is_ok());
    }
}

/// A small deterministic generator (xorshift), so the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// A generated contact: what was written, to count in Rust what each list should hold.
#[derive(Debug, Clone)]
struct Person {
    id: i64,
    email: bool,
    phone: bool,
    contact_type: Option<&'static str>,
    status: Option<&'static str>,
    dnd: [bool; 4],
    verification: EmailVerification,
    tags: Vec<&'static str>,
    source: Option<&'static str>,
}

async fn generate(db: &TestDb, loc: LocationId, n: usize, seed: u64) -> Vec<Person> {
    let s = &db.store;
    let mut rng = Rng(seed);
    let mut people = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let email = rng.chance(80);
        let phone = rng.chance(70);
        let p = Person {
            id: 0,
            email,
            phone,
            contact_type: match rng.next() % 5 {
                0 => None,
                1 | 2 => Some("Lead"),
                _ => Some("Patient"),
            },
            status: match rng.next() % 10 {
                0 => None,
                1 | 2 => Some("Unsubscribed"),
                _ => Some("Subscribed"),
            },
            dnd: [
                rng.chance(15),
                rng.chance(15),
                rng.chance(10),
                rng.chance(10),
            ],
            verification: match rng.next() % 6 {
                0 => EmailVerification::Invalid,
                1 | 2 => EmailVerification::Valid,
                _ => EmailVerification::Unverified,
            },
            tags: ["VIP", "Botox", "Filler"]
                .into_iter()
                .filter(|_| rng.chance(30))
                .collect(),
            source: match rng.next() % 4 {
                0 => None,
                1 => Some("Facebook"),
                2 => Some("facebook"),
                _ => Some(rng.pick(&["Google", "Referral"])),
            },
        };
        rows.push(NewContact {
            first_name: Some(format!("Person{i}")),
            email: p.email.then(|| format!("person{i}.{seed}@example.com")),
            phone: p.phone.then(|| format!("+1201{seed:03}{i:04}")),
            contact_type: p.contact_type.map(String::from),
            status: p.status.map(String::from),
            source: p.source.map(String::from),
            ..NewContact::default()
        });
        people.push(p);
    }
    let mut ids = Vec::new();
    for chunk in rows.chunks(1250) {
        ids.extend(s.insert_contacts(loc, chunk).await.unwrap());
    }
    for (p, id) in people.iter_mut().zip(ids) {
        p.id = id;
    }
    // Flags, set in groups of contacts that share them.
    let mut groups: BTreeMap<([bool; 4], &str), Vec<i64>> = BTreeMap::new();
    for p in &people {
        groups
            .entry((p.dnd, p.verification.as_str()))
            .or_default()
            .push(p.id);
    }
    for ((dnd, verification), ids) in groups {
        let verification = [
            EmailVerification::Unverified,
            EmailVerification::Valid,
            EmailVerification::Invalid,
        ]
        .into_iter()
        .find(|v| v.as_str() == verification);
        let flags = ContactFlags {
            dnd_sms: Some(dnd[0]),
            dnd_email: Some(dnd[1]),
            dnd_calls: Some(dnd[2]),
            dnd_voicemail: Some(dnd[3]),
            email_verification: verification,
            status: None,
        };
        assert_eq!(
            s.set_contact_flags(loc, &ids, &flags).await.unwrap(),
            ids.len() as u64
        );
    }
    for tag in ["VIP", "Botox", "Filler"] {
        let ids: Vec<i64> = people
            .iter()
            .filter(|p| p.tags.contains(&tag))
            .map(|p| p.id)
            .collect();
        // Added in another case than the workflow or filter will use.
        let added = s.add_tags(loc, &ids, &[tag.to_uppercase()]).await.unwrap();
        assert_eq!(added, ids.len() as u64);
    }
    people
}

fn count(people: &[Person], f: impl Fn(&Person) -> bool) -> i64 {
    people.iter().filter(|p| f(p)).count() as i64
}

#[tokio::test]
async fn builtin_list_counts_on_5000_generated_contacts_match_counts_made_in_rust() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Big", "America/Chicago").await;
        let other = location(&db, "Other", "America/Chicago").await;
        let people = generate(&db, loc.id, 5000, 7).await;
        // Another location's contacts, just as varied, must never count.
        generate(&db, other.id, 700, 9).await;

        let subscribed = |p: &Person| p.status == Some("Subscribed");
        let expected = [
            ("Leads", count(&people, |p| p.contact_type == Some("Lead"))),
            (
                "Patients",
                count(&people, |p| p.contact_type == Some("Patient")),
            ),
            (
                "Mass SMS",
                count(&people, |p| p.phone && subscribed(p) && !p.dnd[0]),
            ),
            (
                "Mass Email",
                count(&people, |p| {
                    p.email
                        && subscribed(p)
                        && !p.dnd[1]
                        && p.verification != EmailVerification::Invalid
                }),
            ),
        ];
        let got: Vec<(String, i64)> = s
            .smart_lists(loc.id)
            .await
            .unwrap()
            .into_iter()
            .map(|(l, n)| (l.name, n))
            .collect();
        let expected: Vec<(String, i64)> =
            expected.iter().map(|(n, c)| (n.to_string(), *c)).collect();
        assert_eq!(got, expected, "{:?}", db.backend());
        assert!(
            expected.iter().all(|(_, c)| *c > 200),
            "every list is a real subset: {expected:?}"
        );

        // The other filters, each against its own count.
        let cases: Vec<(&str, i64)> = vec![
            ("tag=vip", count(&people, |p| p.tags.contains(&"VIP"))),
            ("tag!=Botox", count(&people, |p| !p.tags.contains(&"Botox"))),
            ("dnd=false", count(&people, |p| p.dnd == [false; 4])),
            ("dnd=true", count(&people, |p| p.dnd == [true; 4])),
            ("dnd!=false", count(&people, |p| p.dnd != [false; 4])),
            ("dnd_calls=true", count(&people, |p| p.dnd[2])),
            ("dnd_voicemail=false", count(&people, |p| !p.dnd[3])),
            ("has=email", count(&people, |p| p.email)),
            ("has!=phone", count(&people, |p| !p.phone)),
            (
                "source=FACEBOOK",
                count(&people, |p| {
                    p.source.is_some_and(|s| s.eq_ignore_ascii_case("facebook"))
                }),
            ),
            (
                "type!=Patient",
                count(&people, |p| p.contact_type != Some("Patient")),
            ),
            (
                "status!=Unsubscribed",
                count(&people, |p| p.status != Some("Unsubscribed")),
            ),
            (
                "verification=valid",
                count(&people, |p| p.verification == EmailVerification::Valid),
            ),
        ];
        for (expr, want) in cases {
            let got = s.count_matching(loc.id, &filters(&[expr])).await.unwrap();
            assert_eq!(got, want, "{expr} on {:?}", db.backend());
        }
        // All filters hold at once.
        let both = filters(&["tag=VIP", "tag=filler", "type=Patient"]);
        let want: Vec<i64> = people
            .iter()
            .filter(|p| {
                p.tags.contains(&"VIP")
                    && p.tags.contains(&"Filler")
                    && p.contact_type == Some("Patient")
            })
            .map(|p| p.id)
            .collect();
        assert_eq!(s.contact_ids_matching(loc.id, &both).await.unwrap(), want);
        let leads = s.smart_list_by_name(loc.id, "Leads").await.unwrap();
        let ids = s.smart_list_contact_ids(loc.id, &leads).await.unwrap();
        assert_eq!(
            ids.len() as i64,
            s.smart_list_count(loc.id, &leads).await.unwrap()
        );
        assert!(ids.iter().all(|id| people.iter().any(|p| p.id == *id)));
    }
}

/// Test seeding only: sets a contact's `created_at`, which no store function changes.
async fn set_created_at(db: &TestDb, id: i64, ms: i64) {
    on_pool!(db.store, p => {
        sqlx::query("UPDATE contacts SET created_at = $2 WHERE id = $1").bind(id).bind(ms).execute(p).await.map(|r| r.rows_affected())
    })
    .unwrap();
}

#[tokio::test]
async fn created_dates_start_at_midnight_in_the_locations_time_zone() {
    for db in each_backend().await {
        let s = &db.store;
        // Los Angeles is UTC-8 in January: its 2024-01-01 starts at 08:00 UTC.
        let loc = location(&db, "LA", "America/Los_Angeles").await;
        let ids = s
            .insert_contacts(
                loc.id,
                &[
                    NewContact::default(),
                    NewContact::default(),
                    NewContact::default(),
                    NewContact::default(),
                ],
            )
            .await
            .unwrap();
        let utc = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        set_created_at(&db, ids[0], utc("2024-01-01T07:59:59.999Z")).await; // Dec 31 in LA
        set_created_at(&db, ids[1], utc("2024-01-01T08:00:00Z")).await; // Jan 1, 00:00
        set_created_at(&db, ids[2], utc("2024-02-01T07:59:59Z")).await; // Jan 31, 23:59
        set_created_at(&db, ids[3], utc("2024-02-01T08:00:00Z")).await; // Feb 1
        let january = filters(&["created_after=2024-01-01", "created_before=2024-02-01"]);
        assert_eq!(
            s.contact_ids_matching(loc.id, &january).await.unwrap(),
            [ids[1], ids[2]],
            "{:?}",
            db.backend()
        );
        let before = filters(&["created_before=2024-01-01"]);
        assert_eq!(
            s.contact_ids_matching(loc.id, &before).await.unwrap(),
            [ids[0]]
        );
    }
}

/// Test seeding only: an import job and the contacts it created or updated, as the import
/// engine records them.
async fn seed_import(db: &TestDb, loc: LocationId, touched: &[(i64, &str)]) -> i64 {
    on_pool!(db.store, p => {
        let job: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (location_id, operation, object, name, status, created_at) \
             VALUES ($1, 'import', 'contact', 'patients.csv', 'completed', $2) RETURNING id",
        )
        .bind(loc.0)
        .bind(now_ms())
        .fetch_one(p)
        .await
        .unwrap();
        for (contact, action) in touched {
            sqlx::query("INSERT INTO contact_imports (contact_id, job_id, location_id, action) VALUES ($1, $2, $3, $4)")
                .bind(*contact)
                .bind(job)
                .bind(loc.0)
                .bind(*action)
                .execute(p)
                .await
                .unwrap();
        }
        job
    })
}

#[tokio::test]
async fn a_list_from_an_import_holds_exactly_what_it_created_or_updated() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow", "America/New_York").await;
        let other = location(&db, "Other", "America/New_York").await;
        let ids = s
            .insert_contacts(loc.id, &vec![NewContact::default(); 6])
            .await
            .unwrap();
        let first = seed_import(&db, loc.id, &[(ids[0], "created"), (ids[1], "created")]).await;
        let second = seed_import(
            &db,
            loc.id,
            &[
                (ids[1], "updated"),
                (ids[3], "created"),
                (ids[4], "updated"),
            ],
        )
        .await;
        let list = s
            .create_import_smart_list(loc.id, second, "From patients.csv")
            .await
            .unwrap();
        assert_eq!(list.filter_exprs(), [format!("import={second}")]);
        assert_eq!(
            s.smart_list_contact_ids(loc.id, &list).await.unwrap(),
            [ids[1], ids[3], ids[4]],
            "{:?}",
            db.backend()
        );
        let first_list = s
            .create_import_smart_list(loc.id, first, "First")
            .await
            .unwrap();
        assert_eq!(s.smart_list_count(loc.id, &first_list).await.unwrap(), 2);
        // Another location's import is not this location's.
        let err = s
            .create_import_smart_list(other.id, second, "Theirs")
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert_eq!(
            s.count_matching(other.id, &filters(&[&format!("import={second}")]))
                .await
                .unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn custom_field_filters_read_the_json_values_on_both_backends() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow", "America/New_York").await;
        let ids = s
            .insert_contacts(loc.id, &vec![NewContact::default(); 6])
            .await
            .unwrap();
        let key = "treatment_of_interest";
        use serde_json::json;
        let values = [
            Some(json!("Botox")),
            Some(json!(["Filler", "botox"])),
            Some(json!("Filler")),
            Some(json!(true)),
            Some(json!(12.5)),
            None,
        ];
        for (id, v) in ids.iter().zip(values) {
            s.set_contact_custom_value(loc.id, *id, key, v)
                .await
                .unwrap();
        }
        let matching = |expr: &str| {
            let f = filters(&[expr]);
            async move { s.contact_ids_matching(loc.id, &f).await.unwrap() }
        };
        assert_eq!(
            matching("field.treatment_of_interest=BOTOX").await,
            [ids[0], ids[1]],
            "{:?}",
            db.backend()
        );
        assert_eq!(
            matching("field.treatment_of_interest=filler").await,
            [ids[1], ids[2]]
        );
        assert_eq!(matching("field.treatment_of_interest=true").await, [ids[3]]);
        assert_eq!(matching("field.treatment_of_interest=12.5").await, [ids[4]]);
        assert_eq!(
            matching("field.treatment_of_interest!=botox").await,
            [ids[2], ids[3], ids[4], ids[5]]
        );
        assert!(matching("field.patient_since=2024-01-01").await.is_empty());
    }
}
