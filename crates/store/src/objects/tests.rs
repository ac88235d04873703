//! Custom objects are the location's own, their keys unique per location; an object's schema
//! holds its custom fields in creation order.

use domain::object::CustomObjectDef;
use domain::{CustomFieldType, LocationSettings, ObjectKind};

use crate::testing::each_backend;
use crate::{NewCustomField, Store};

fn field(object: &ObjectKind, key: &str, t: CustomFieldType, unique: bool) -> NewCustomField {
    NewCustomField {
        object: object.clone(),
        key: key.into(),
        label: key.to_uppercase(),
        field_type: t,
        options: Vec::new(),
        required: !unique,
        unique,
    }
}

#[tokio::test]
async fn custom_objects_are_scoped_by_location_and_give_their_schema() {
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
        let def = CustomObjectDef::new("Treatments", "Treatment Name", None);
        let made = store.create_custom_object(a.id, &def).await.unwrap();
        assert_eq!(made.def, def);
        // The key is unique per location, not across locations.
        assert!(
            store
                .create_custom_object(a.id, &def)
                .await
                .unwrap_err()
                .is_conflict()
        );
        store.create_custom_object(b.id, &def).await.unwrap();
        store
            .create_custom_object(a.id, &CustomObjectDef::new("Rooms", "Room", Some("room")))
            .await
            .unwrap();
        let keys: Vec<String> = store
            .custom_objects(a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.def.key)
            .collect();
        assert_eq!(keys, ["treatments", "room"]);
        let err = store.custom_object(a.id, "nope").await.unwrap_err();
        assert!(err.is_not_found());
        assert!(err.to_string().contains("treatments, room"), "{err}");

        let kind = ObjectKind::Custom("treatments".into());
        for (key, t, unique) in [
            ("sku", CustomFieldType::Text, true),
            ("price", CustomFieldType::Monetary, false),
        ] {
            store
                .create_custom_field(a.id, &field(&kind, key, t, unique))
                .await
                .unwrap();
        }
        let s = store.object_schema(a.id, &kind).await.unwrap();
        let keys: Vec<&str> = s.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["record_id", "treatment_name", "sku", "price"]);
        assert_eq!(s.identifiers, ["sku"]);
        assert!(s.field("price").unwrap().required);
        assert_eq!(s.label("treatment_name"), Some("Treatment Name"));
        // Location B's object of the same key has none of A's fields.
        let sb = store.object_schema(b.id, &kind).await.unwrap();
        assert_eq!(sb.fields.len(), 2);
        assert!(
            store
                .object_schema(a.id, &ObjectKind::Custom("nope".into()))
                .await
                .unwrap_err()
                .is_not_found()
        );
        let company = store
            .object_schema(a.id, &ObjectKind::Company)
            .await
            .unwrap();
        assert_eq!(company.primary.as_deref(), Some("company_name"));
    }
}
