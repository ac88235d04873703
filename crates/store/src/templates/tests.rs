//! Saved templates are the location's own, named once, replaced when saved again.

use crate::Store;
use crate::testing::each_backend;
use domain::LocationSettings;

#[tokio::test]
async fn templates_are_scoped_by_location_and_replaced_by_name() {
    for db in each_backend().await {
        let store: &Store = &db.store;
        let a = store
            .create_location("A", &LocationSettings::default())
            .await
            .unwrap();
        let b = store
            .create_location("B", &LocationSettings::default())
            .await
            .unwrap();
        assert!(
            !store
                .save_template(a.id, "Weekly Vagaro", "{\"v\":1}", Some(7))
                .await
                .unwrap()
        );
        assert!(
            store
                .save_template(a.id, "Weekly Vagaro", "{\"v\":2}", None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .save_template(b.id, "Weekly Vagaro", "{\"v\":3}", None)
                .await
                .unwrap()
        );
        let t = store.template(a.id, "Weekly Vagaro").await.unwrap();
        assert_eq!((t.choices.as_str(), t.from_job), ("{\"v\":2}", None));
        assert_eq!(
            store.template(b.id, "Weekly Vagaro").await.unwrap().choices,
            "{\"v\":3}"
        );
        assert!(
            store
                .template(a.id, "weekly vagaro")
                .await
                .unwrap_err()
                .is_not_found()
        );
        store
            .save_template(a.id, "Another", "{}", None)
            .await
            .unwrap();
        let names: Vec<String> = store
            .templates(a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["Another", "Weekly Vagaro"]);
        assert!(store.delete_template(a.id, "Another").await.unwrap());
        assert!(!store.delete_template(b.id, "Another").await.unwrap());
        assert_eq!(store.templates(b.id).await.unwrap().len(), 1);
    }
}
