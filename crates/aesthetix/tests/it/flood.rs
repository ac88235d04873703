//! SPEC §6.6 through the CLI: an import that would trigger active workflows is refused until
//! the operator acknowledges it, enrolls exactly the contacts it created or updated, once,
//! and the outbox holds one message per enrolled contact that may receive it.

use serde_json::Value;

use crate::support::{Deployment, each_backend};

fn write(d: &Deployment, name: &str, content: &str) -> String {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

fn outbox(d: &Deployment) -> Vec<(String, String, Option<String>)> {
    let out: Value =
        serde_json::from_str(&d.ok(&["outbox", "list", "--location", "Glow", "--json"], ""))
            .unwrap();
    let mut rows: Vec<_> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["recipient"].as_str().unwrap_or("").to_string(),
                m["status"].as_str().unwrap().to_string(),
                m["reason"].as_str().map(str::to_string),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn an_import_that_would_text_patients_needs_acknowledgement() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "VIP welcome",
                "--trigger",
                "tag-added:VIP",
                "--action",
                "send-sms:Welcome to Glow!",
                "--status",
                "active",
            ],
            "",
        );
        d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "Draft promo",
                "--trigger",
                "tag-added:VIP",
                "--action",
                "send-sms:Promo",
                "--status",
                "draft",
            ],
            "",
        );
        let existing = write(
            &d,
            "existing.csv",
            "First Name,Email,Phone,DND SMS\nEve,eve@example.com,201-555-0101,yes\nFay,fay@example.com,201-555-0102,no\n",
        );
        d.ok(&["import", "contacts", &existing, "--location", "Glow"], "");

        let vip = write(
            &d,
            "vip.csv",
            "First Name,Email,Phone,Tags,Status\n\
             Ann,ann@example.com,201-555-0201,VIP,Subscribed\n\
             Bob,bob@example.com,201-555-0202,vip,Unsubscribed\n\
             Cid,cid@example.com,201-555-0203,\"VIP, Botox\",\n\
             Eve,eve@example.com,,VIP,\n\
             Fay,fay@example.com,,Botox,\n\
             ,,,VIP,\n",
        );
        let refused = d.run(
            &[
                "import",
                "contacts",
                &vip,
                "--location",
                "Glow",
                "--mode",
                "upsert",
            ],
            "",
        );
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("VIP welcome (tag-added:VIP): 4 contacts"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("Draft promo"),
            "a draft workflow never fires: {stderr}"
        );
        let jobs: Value =
            serde_json::from_str(&d.ok(&["jobs", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        assert_eq!(
            jobs.as_array().unwrap().len(),
            1,
            "the refused import wrote nothing"
        );

        let out = d.ok(
            &[
                "import",
                "contacts",
                &vip,
                "--location",
                "Glow",
                "--mode",
                "upsert",
                "--acknowledge-workflows",
            ],
            "",
        );
        assert!(
            out.contains("Workflow VIP welcome (tag-added:VIP): enrolled 4 contacts"),
            "{out}"
        );
        // The CLI ran the enrollments' due steps before exiting: one SMS per enrolled contact,
        // suppressed for the unsubscribed one and the one whose SMS channel is DND.
        assert_eq!(
            outbox(&d),
            [
                (
                    "+12015550101".to_string(),
                    "suppressed".to_string(),
                    Some("dnd_sms".to_string())
                ),
                ("+12015550201".to_string(), "queued".to_string(), None),
                (
                    "+12015550202".to_string(),
                    "suppressed".to_string(),
                    Some("unsubscribed".to_string())
                ),
                ("+12015550203".to_string(), "queued".to_string(), None),
            ]
        );

        // The same import again adds no tag, so it triggers nothing and enrolls nobody twice.
        let again = d.ok(
            &[
                "import",
                "contacts",
                &vip,
                "--location",
                "Glow",
                "--mode",
                "upsert",
            ],
            "",
        );
        assert!(!again.contains("enrolled"), "{again}");
        assert_eq!(outbox(&d).len(), 4);

        // Suppressing tag triggers adds the tag and enrolls nobody.
        let more = write(
            &d,
            "more.csv",
            "First Name,Email,Phone,Tags\nGus,gus@example.com,201-555-0301,VIP\n",
        );
        let quiet = d.ok(
            &[
                "import",
                "contacts",
                &more,
                "--location",
                "Glow",
                "--suppress-tag-triggers",
            ],
            "",
        );
        assert!(!quiet.contains("enrolled"), "{quiet}");
        assert_eq!(outbox(&d).len(), 4);
        let lists: Value = serde_json::from_str(
            &d.ok(&["smart-list", "list", "--location", "Glow", "--json"], ""),
        )
        .unwrap();
        assert_eq!(
            lists.as_array().unwrap().len(),
            4,
            "only the built-in lists so far"
        );

        // A chosen workflow enrolls every contact the import created or updated, and
        // --smart-list makes a list of exactly those contacts.
        d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "Imported",
                "--trigger",
                "import",
                "--action",
                "add-tag:welcomed",
                "--status",
                "active",
            ],
            "",
        );
        let chosen = write(
            &d,
            "chosen.csv",
            "First Name,Email\nHal,hal@example.com\nAnn,ann@example.com\n,\n",
        );
        let refused = d.run(
            &[
                "import",
                "contacts",
                &chosen,
                "--location",
                "Glow",
                "--mode",
                "upsert",
                "--workflow",
                "Imported",
                "--smart-list",
            ],
            "",
        );
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&refused.stderr)
                .contains("Imported (chosen for this import): 2 contacts")
        );
        let out = d.ok(
            &[
                "import",
                "contacts",
                &chosen,
                "--location",
                "Glow",
                "--mode",
                "upsert",
                "--workflow",
                "Imported",
                "--smart-list",
                "--acknowledge-workflows",
            ],
            "",
        );
        assert!(out.contains("Smart List created: Contacts import"), "{out}");
        let lists: Value = serde_json::from_str(
            &d.ok(&["smart-list", "list", "--location", "Glow", "--json"], ""),
        )
        .unwrap();
        let from_import = lists
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"].as_str().unwrap().starts_with("Contacts import"))
            .unwrap();
        assert_eq!(from_import["count"], 2);
        d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "Welcomed",
                "--filter",
                "tag=welcomed",
            ],
            "",
        );
        let lists: Value = serde_json::from_str(
            &d.ok(&["smart-list", "list", "--location", "Glow", "--json"], ""),
        )
        .unwrap();
        let welcomed = lists
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "Welcomed")
            .unwrap()["count"]
            .clone();
        assert_eq!(
            welcomed, 2,
            "the workflow's add-tag step ran before the command returned"
        );
        let unknown = d.run(
            &[
                "import",
                "contacts",
                &chosen,
                "--location",
                "Glow",
                "--workflow",
                "Nope",
            ],
            "",
        );
        assert!(
            String::from_utf8_lossy(&unknown.stderr).contains("its workflows are: "),
            "{}",
            String::from_utf8_lossy(&unknown.stderr)
        );
    }
}
