//! The request is stored whole with its job: jobs stored in the shape of the mirror struct
//! it replaced (`StoredRequest`) read back the same, and what one run holds is not kept.

use super::*;

#[test]
fn a_job_stored_in_the_old_shape_reads_back() {
    // (stored request as an earlier version wrote it, mode, object, dedupe)
    let cases: [(serde_json::Value, Mode, ObjectKind, Option<&str>); 3] = [
        (
            serde_json::json!({
                "file": "/data/files/upload-1", "file_name": "patients.csv", "sheet": null,
                "mode": "upsert", "map": [["Mail", "email"], ["Notes", null]],
                "skip_unmapped": true, "map_values": [["contact_type", "Consult", "Lead"]],
                "fill_only": ["Mail"], "tags": ["vip"], "no_update_empty": false,
                "skip_existing_phone": true, "workflow": "Welcome",
                "suppress_tag_triggers": false
            }),
            Mode::Upsert,
            ObjectKind::Contact,
            None,
        ),
        (
            serde_json::json!({
                "file": "/tmp/c.csv", "stored_name": "upload-2", "file_name": "c.csv",
                "sheet": "Sheet1", "mode": "update", "map": [], "skip_unmapped": false,
                "map_values": [], "fill_only": [], "tags": [], "no_update_empty": true,
                "skip_existing_phone": false, "workflow": null, "suppress_tag_triggers": false,
                "preset": "none", "line_defaults": [], "require_identifier": false,
                "object": "company", "dedupe": "vat"
            }),
            Mode::Update,
            ObjectKind::Company,
            Some("vat"),
        ),
        (
            serde_json::json!({
                "file": "/tmp/t.csv", "file_name": "t.csv", "sheet": null, "mode": "create",
                "map": [], "skip_unmapped": false, "map_values": [], "fill_only": [],
                "tags": [], "no_update_empty": false, "skip_existing_phone": false,
                "workflow": null, "suppress_tag_triggers": false,
                "object": "custom:treatments"
            }),
            Mode::Create,
            ObjectKind::Custom("treatments".into()),
            None,
        ),
    ];
    for (stored, mode, object, dedupe) in cases {
        let r: ImportRequest = serde_json::from_value(stored.clone()).expect("reads");
        assert_eq!(r.mode, mode, "{stored}");
        assert_eq!(r.object, object, "{stored}");
        assert_eq!(r.dedupe.as_deref(), dedupe, "{stored}");
        assert_eq!(r.file_name, stored["file_name"], "{stored}");
        assert_eq!(r.map.len(), stored["map"].as_array().unwrap().len());
        // Written again, it is read back the same.
        let again: ImportRequest =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(format!("{again:?}"), format!("{r:?}"));
    }
    let unknown = serde_json::json!({"file": "/f", "file_name": "f", "mode": "merge",
        "map": [], "skip_unmapped": false, "map_values": [], "fill_only": [], "tags": [],
        "no_update_empty": false, "skip_existing_phone": false, "workflow": null,
        "suppress_tag_triggers": false});
    assert!(serde_json::from_value::<ImportRequest>(unknown).is_err());
}

#[test]
fn what_one_run_holds_is_not_stored() {
    let r = ImportRequest {
        file: "/tmp/f.csv".into(),
        file_name: "f.csv".into(),
        name: Some("Spring".into()),
        max_file_bytes: Some(10),
        dry_run: true,
        created_by: Some(UserId(7)),
        mode_given: true,
        template: Some("Weekly".into()),
        ..ImportRequest::default()
    };
    let v = serde_json::to_value(&r).unwrap();
    for key in [
        "location",
        "name",
        "max_file_bytes",
        "dry_run",
        "created_by",
        "mode_given",
        "template",
        "object",
        "dedupe",
    ] {
        assert!(v.get(key).is_none(), "{key} is not stored: {v}");
    }
    assert_eq!(v["mode"], "create");
    let company = ImportRequest {
        object: ObjectKind::Company,
        ..r
    };
    assert_eq!(serde_json::to_value(&company).unwrap()["object"], "company");
}
