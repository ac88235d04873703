//! The contact row codec agrees with the contact schema (`domain::object`).

/// The contact row codec (`import::TEXT_COLUMNS`, `BOOL_COLUMNS`, `OWNER`) stores exactly the
/// contact schema's single-valued standard fields in columns of their own; the rest are the
/// list fields (their own tables), the id, the note (notes) and Do Not Disturb (the channel
/// flags). A field added to one and not the other fails here.
#[test]
fn the_contact_codec_and_the_contact_schema_agree() {
    use crate::import::{BOOL_COLUMNS, OWNER, TEXT_COLUMNS};
    use domain::FieldKind;
    let schema = domain::object::contact_standard();
    let mut codec: Vec<&str> = TEXT_COLUMNS.iter().map(|(k, _)| *k).collect();
    codec.extend(BOOL_COLUMNS);
    codec.push(OWNER);
    for key in &codec {
        let f = schema
            .field(key)
            .unwrap_or_else(|| panic!("the codec stores '{key}', which is no contact field"));
        assert!(!f.list && !f.custom, "{key}");
    }
    for f in &schema.fields {
        let elsewhere = f.list || f.kind == FieldKind::Id || f.key == "note" || f.key == "dnd";
        assert_eq!(
            codec.contains(&f.key.as_str()),
            !elsewhere,
            "contact field '{}' and the row codec disagree",
            f.key
        );
    }
    // Booleans are the boolean fields; the owner is the user field.
    for key in BOOL_COLUMNS {
        assert_eq!(schema.field(key).unwrap().kind, FieldKind::Boolean, "{key}");
    }
    assert_eq!(schema.field(OWNER).unwrap().kind, FieldKind::User);
}
