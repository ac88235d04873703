//! Pipelines and the board, on both backends: names matched ignoring case within a location,
//! every call scoped by location, a move bumping the opportunity's version.

use domain::LocationSettings;

use crate::testing::{each_backend, insert_opportunity, opportunity_stage_version};
use crate::{LocationId, NewContact, Store, StoreError};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

async fn two_locations(store: &Store) -> (LocationId, LocationId) {
    let a = store
        .create_location("A", &LocationSettings::default())
        .await
        .unwrap();
    let b = store
        .create_location("B", &LocationSettings::default())
        .await
        .unwrap();
    (a.id, b.id)
}

fn names(p: &crate::Pipeline) -> Vec<&str> {
    p.stages.iter().map(|s| s.name.as_str()).collect()
}

#[tokio::test]
async fn pipelines_are_named_once_per_location_ignoring_case() {
    for db in each_backend().await {
        let store = &db.store;
        let (a, b) = two_locations(store).await;
        let p = store
            .create_pipeline(a, " Surgical Journey ", &s(&["New Lead", "Consult Booked"]))
            .await
            .unwrap();
        assert_eq!(p.name, "Surgical Journey");
        assert_eq!(names(&p), ["New Lead", "Consult Booked"]);
        assert_eq!(
            p.stages.iter().map(|s| s.position).collect::<Vec<_>>(),
            [0, 1]
        );

        let dup = store
            .create_pipeline(a, "surgical JOURNEY", &s(&["X"]))
            .await
            .unwrap_err();
        assert!(dup.is_conflict(), "{dup:?}");
        assert!(dup.to_string().contains("'Surgical Journey'"), "{dup}");
        // Another location may use the name.
        store
            .create_pipeline(b, "Surgical Journey", &s(&["Only"]))
            .await
            .unwrap();

        for (name, stages, part) in [
            ("", s(&["A"]), "must not be blank"),
            ("Botox", s(&[]), "at least one stage"),
            ("Botox", s(&["Booked", "BOOKED"]), "given twice"),
        ] {
            let e = store.create_pipeline(a, name, &stages).await.unwrap_err();
            assert!(
                matches!(&e, StoreError::Invalid(m) if m.contains(part)),
                "{name:?} {stages:?}: {e:?}"
            );
        }

        let found = store
            .pipeline_by_name(a, "  SURGICAL journey")
            .await
            .unwrap();
        assert_eq!(found.id, p.id);
        assert_eq!(
            found.stage_named("consult booked").unwrap().name,
            "Consult Booked"
        );
        let missing = store.pipeline_by_name(a, "Botox").await.unwrap_err();
        assert!(missing.is_not_found());
        assert!(
            missing.to_string().contains("'Surgical Journey'"),
            "{missing}"
        );

        // Scoped: location B sees only its own, and not A's by id.
        let listed = store.pipelines(b).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(names(&listed[0]), ["Only"]);
        assert!(store.pipeline(b, p.id).await.unwrap_err().is_not_found());
        assert!(
            store
                .rename_pipeline(b, p.id, "Mine")
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            store
                .add_stage(b, p.id, "Mine")
                .await
                .unwrap_err()
                .is_not_found()
        );
        let stage = p.stages[0].id;
        assert!(
            store
                .rename_stage(b, stage, "Mine")
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            store
                .move_stage(b, stage, false)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert_eq!(store.pipeline(a, p.id).await.unwrap(), p, "unchanged by B");
    }
}

#[tokio::test]
async fn pipelines_and_stages_are_renamed_added_and_reordered() {
    for db in each_backend().await {
        let store = &db.store;
        let (a, _) = two_locations(store).await;
        let p = store
            .create_pipeline(a, "Botox", &s(&["New", "Booked", "Done"]))
            .await
            .unwrap();
        let other = store
            .create_pipeline(a, "Fillers", &s(&["New"]))
            .await
            .unwrap();

        // A pipeline keeps its own name in another case; another's name is taken.
        store.rename_pipeline(a, p.id, "BOTOX").await.unwrap();
        let e = store.rename_pipeline(a, p.id, "fillers").await.unwrap_err();
        assert!(e.is_conflict(), "{e:?}");
        store
            .rename_pipeline(a, p.id, "Botox Journey")
            .await
            .unwrap();

        let added = store.add_stage(a, p.id, "Follow-up").await.unwrap();
        assert_eq!(added.position, 3);
        assert!(
            store
                .add_stage(a, p.id, "follow-UP")
                .await
                .unwrap_err()
                .is_conflict()
        );
        // The same stage name in another pipeline is fine.
        store.add_stage(a, other.id, "Done").await.unwrap();

        let booked = p.stages[1].id;
        assert!(
            store
                .rename_stage(a, booked, "done")
                .await
                .unwrap_err()
                .is_conflict()
        );
        store
            .rename_stage(a, booked, "Consult Booked")
            .await
            .unwrap();
        assert!(matches!(
            store.rename_stage(a, booked, " ").await.unwrap_err(),
            StoreError::Invalid(_)
        ));

        store.move_stage(a, added.id, true).await.unwrap();
        let now = store.pipeline(a, p.id).await.unwrap();
        assert_eq!(now.name, "Botox Journey");
        assert_eq!(names(&now), ["New", "Consult Booked", "Follow-up", "Done"]);
        // The first moved earlier and the last moved later stay where they are.
        store.move_stage(a, now.stages[0].id, true).await.unwrap();
        store.move_stage(a, now.stages[3].id, false).await.unwrap();
        store.move_stage(a, now.stages[0].id, false).await.unwrap();
        let now = store.pipeline(a, p.id).await.unwrap();
        assert_eq!(names(&now), ["Consult Booked", "New", "Follow-up", "Done"]);
        assert_eq!(
            now.stages.iter().map(|s| s.position).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }
}

#[tokio::test]
async fn the_board_counts_totals_and_moves_cards_within_their_pipeline() {
    for db in each_backend().await {
        let store = &db.store;
        let (a, b) = two_locations(store).await;
        let p = store
            .create_pipeline(
                a,
                "Surgical Journey",
                &s(&["New Lead", "Consult Booked", "Surgery"]),
            )
            .await
            .unwrap();
        let other = store
            .create_pipeline(a, "Botox", &s(&["New"]))
            .await
            .unwrap();
        let contacts = store
            .insert_contacts(
                a,
                &[
                    NewContact {
                        first_name: Some("Ana".into()),
                        last_name: Some("Silva".into()),
                        ..NewContact::default()
                    },
                    NewContact {
                        email: Some("lee@example.com".into()),
                        ..NewContact::default()
                    },
                ],
            )
            .await
            .unwrap();
        let (new, booked) = (&p.stages[0], &p.stages[1]);
        let o1 = insert_opportunity(
            store,
            a,
            new,
            p.id,
            "Rhinoplasty",
            Some("8500.50"),
            Some(contacts[0]),
        )
        .await;
        let o2 = insert_opportunity(
            store,
            a,
            new,
            p.id,
            "Facelift",
            Some("12000"),
            Some(contacts[1]),
        )
        .await;
        let o3 = insert_opportunity(store, a, new, p.id, "Walk-in", None, None).await;
        insert_opportunity(
            store,
            a,
            &other.stages[0],
            other.id,
            "Botox",
            Some("300"),
            None,
        )
        .await;

        let board = store.board(a, p.id, 2).await.unwrap();
        assert_eq!(
            board
                .columns
                .iter()
                .map(|c| (
                    c.stage.name.as_str(),
                    c.count,
                    c.total.map(|t| t.to_string())
                ))
                .collect::<Vec<_>>(),
            [
                ("New Lead", 3, Some("20500.50".to_string())),
                ("Consult Booked", 0, Some("0".to_string())),
                ("Surgery", 0, Some("0".to_string())),
            ]
        );
        let first = &board.columns[0];
        assert_eq!(
            first.cards.len(),
            2,
            "at most a page of cards, the count over all"
        );
        let all = store.board(a, p.id, 100).await.unwrap();
        let by_id = |id: i64| {
            all.columns[0]
                .cards
                .iter()
                .find(|c| c.id == id)
                .unwrap()
                .clone()
        };
        assert_eq!(
            by_id(o1).contact,
            Some((contacts[0], "Ana Silva".to_string()))
        );
        assert_eq!(
            by_id(o2).contact,
            Some((contacts[1], "lee@example.com".to_string()))
        );
        assert_eq!(by_id(o1).value.as_deref(), Some("8500.50"));
        assert_eq!(by_id(o3).contact, None);
        assert_eq!(by_id(o3).status, "open");

        // A move bumps the version (so a revert leaves the opportunity alone).
        let (_, v0) = opportunity_stage_version(store, o1).await;
        assert_eq!(
            store.move_opportunity(a, o1, booked.id).await.unwrap(),
            (p.id, true)
        );
        assert_eq!(
            opportunity_stage_version(store, o1).await,
            (booked.id, v0 + 1)
        );
        assert_eq!(
            store.move_opportunity(a, o1, booked.id).await.unwrap(),
            (p.id, false),
            "already there"
        );
        assert_eq!(
            opportunity_stage_version(store, o1).await,
            (booked.id, v0 + 1)
        );
        let board = store.board(a, p.id, 100).await.unwrap();
        assert_eq!(board.columns[1].count, 1);
        assert_eq!(board.columns[1].cards[0].id, o1);
        assert_eq!(
            board.columns[1].total.map(|t| t.to_string()).as_deref(),
            Some("8500.50")
        );

        // Only to a stage of its own pipeline, only in its own location.
        let e = store
            .move_opportunity(a, o1, other.stages[0].id)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
        assert!(
            store
                .move_opportunity(b, o1, new.id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(store.board(b, p.id, 10).await.unwrap_err().is_not_found());
        assert_eq!(
            opportunity_stage_version(store, o1).await,
            (booked.id, v0 + 1)
        );
    }
}
