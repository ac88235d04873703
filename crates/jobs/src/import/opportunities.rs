//! Contacts and opportunities in one file (SPEC §7): the opportunity half of the shared
//! import loop.
//!
//! `prepare` maps the file against the opportunity schema and the contact schema at once
//! ([`targets`], [`translate_map`]); each column then feeds one object, and the reader reads
//! every row twice — its contact columns into a `ContactInput`, its opportunity columns into a
//! `RecordInput` ([`split_uses`]). The loop's part is the contacts' part
//! (`ContactChunks`) with an [`OpportunityHalf`]: after `plan_chunk` decided the contacts
//! (with `--with-contacts`, exactly as a contacts import; without, in Update mode and only to
//! FIND each line's contact, SPEC §6.4), the half looks the chunk's Opportunity IDs up, asks
//! `engine::opportunities` to decide, makes each line's one result (`combine`), and adds the
//! opportunities to the contact chunk's write — one transaction with the contacts, the line
//! results and the checkpoint.

use std::collections::{HashMap, HashSet};

use domain::ObjectSchema;
use domain::job::LineAction;
use engine::opportunities::{
    ExistingOpportunity, LineContact, OpportunityOptions, OpportunityPlan, PipelineNames, combine,
    contact_not_found, plan_opportunities,
};
use engine::records::RecordInput;
use engine::{ChunkPlan, ColumnUse, ContactInput, Target};
use store::{ChunkWrite, OpportunityWrite, RecordRef, Store, StoreError, StoredOpportunity};

use super::ImportError;

/// What `prepare` settles for an opportunities import.
#[derive(Debug, Clone)]
pub struct OpportunityPrep {
    /// `--with-contacts`: the contact part is written as a contacts import would.
    pub with_contacts: bool,
    /// The columns as the contact part reads them (the opportunity's ignored)…
    pub contact_uses: Vec<ColumnUse>,
    /// …and as the opportunity part reads them (the contact's ignored).
    pub opportunity_uses: Vec<ColumnUse>,
    pub pipelines: Vec<PipelineNames>,
    pub options: OpportunityOptions,
}

/// The contact fields that find a line's contact without `--with-contacts` (SPEC §7, §6.4).
const FINDING: &[&str] = &["contact_id", "email", "phone"];

/// The prefix a field's key gets in the combined mapping when both objects have the key.
fn prefixed(object: &str, key: &str) -> String {
    format!("{object}.{key}")
}

/// The mapping targets of an opportunities import: (standard, custom), the opportunity's then
/// the contact's (all of them with `--with-contacts`; Contact ID, Email and Phone without).
/// A key both objects have is named `contact.KEY` / `opportunity.KEY` in both.
pub(crate) fn targets(
    opportunity: &ObjectSchema,
    contact: &ObjectSchema,
    with_contacts: bool,
) -> (Vec<Target>, Vec<Target>) {
    let contact_fields: Vec<&domain::ObjectField> = contact
        .fields
        .iter()
        .filter(|f| with_contacts || FINDING.contains(&f.key.as_str()))
        .collect();
    let both: HashSet<&str> = opportunity
        .fields
        .iter()
        .map(|f| f.key.as_str())
        .filter(|k| contact_fields.iter().any(|c| c.key == *k))
        .collect();
    let (mut standard, mut custom) = (Vec::new(), Vec::new());
    let mut add = |object: &str, f: &domain::ObjectField| {
        let mut t = Target::of(f);
        if both.contains(f.key.as_str()) {
            t.key = prefixed(object, &f.key);
        }
        if f.custom {
            custom.push(t);
        } else {
            standard.push(t);
        }
    };
    for f in &opportunity.fields {
        add("opportunity", f);
    }
    for f in contact_fields {
        add("contact", f);
    }
    (standard, custom)
}

/// `--map 'Header=opportunity.KEY'`, `'Header=contact.KEY'` or `'Header=KEY'` → the key of
/// the combined mapping. A bare key names the object that has it; a key both have needs its
/// object (SPEC §7).
pub(crate) fn translate_map(
    map: &[(String, Option<String>)],
    opportunity: &ObjectSchema,
    contact: &ObjectSchema,
    with_contacts: bool,
) -> Result<Vec<(String, Option<String>)>, ImportError> {
    let (standard, custom) = targets(opportunity, contact, with_contacts);
    let known = |key: &str| standard.iter().chain(&custom).any(|t| t.key == key);
    let has_contact =
        |key: &str| contact.field(key).is_some() && (with_contacts || FINDING.contains(&key));
    map.iter()
        .map(|(header, key)| {
            let Some(key) = key else {
                return Ok((header.clone(), None));
            };
            let translated = if let Some(k) = key.strip_prefix("opportunity.") {
                if known(&prefixed("opportunity", k)) {
                    prefixed("opportunity", k)
                } else {
                    k.to_string()
                }
            } else if let Some(k) = key.strip_prefix("contact.") {
                if !has_contact(k) && contact.field(k).is_some() {
                    return Err(ImportError::Invalid(format!(
                        "--map '{header}={key}': without --with-contacts only Contact ID, Email and Phone are read (to find the line's contact); add --with-contacts to import the contact's other fields"
                    )));
                }
                if known(&prefixed("contact", k)) {
                    prefixed("contact", k)
                } else {
                    k.to_string()
                }
            } else if opportunity.field(key).is_some() && has_contact(key) {
                return Err(ImportError::Invalid(format!(
                    "--map '{header}={key}': both contacts and opportunities have a field '{key}'; write contact.{key} or opportunity.{key}"
                )));
            } else {
                key.clone()
            };
            Ok((header.clone(), Some(translated)))
        })
        .collect()
}

/// The combined mapping's columns split by object: (the contact's, the opportunity's), each
/// with its own keys and the other object's columns ignored.
pub(crate) fn split_uses(
    uses: &[ColumnUse],
    opportunity: &ObjectSchema,
) -> (Vec<ColumnUse>, Vec<ColumnUse>) {
    let of = |t: &Target, object: &str| -> Option<Target> {
        let key = match t.key.split_once('.') {
            Some((o, k)) if o == object => k.to_string(),
            Some(_) => return None,
            None => {
                let is_opportunity = opportunity.field(&t.key).is_some();
                if is_opportunity != (object == "opportunity") {
                    return None;
                }
                t.key.clone()
            }
        };
        Some(Target { key, ..t.clone() })
    };
    let side = |object: &str| -> Vec<ColumnUse> {
        uses.iter()
            .map(|u| match u {
                ColumnUse::Field(t) => of(t, object).map_or(ColumnUse::Ignored, ColumnUse::Field),
                ColumnUse::DatePart(t, p) => {
                    of(t, object).map_or(ColumnUse::Ignored, |t| ColumnUse::DatePart(t, *p))
                }
                other => other.clone(),
            })
            .collect()
    };
    (side("contact"), side("opportunity"))
}

/// The location's pipelines with their stages, as the planner matches them.
pub(crate) async fn pipelines(
    store: &Store,
    location: store::LocationId,
) -> Result<Vec<PipelineNames>, StoreError> {
    Ok(store
        .pipelines(location)
        .await?
        .into_iter()
        .map(|p| PipelineNames {
            id: p.id,
            name: p.name,
            stages: p.stages.into_iter().map(|s| (s.id, s.name)).collect(),
        })
        .collect())
}

/// What a chunk's opportunity half decided, kept between deciding and writing.
pub(super) struct Decided {
    plan: OpportunityPlan,
}

/// The opportunity half of the contacts' part of the loop.
pub(super) struct OpportunityHalf<'a> {
    store: &'a Store,
    prep: &'a OpportunityPrep,
    schema: &'a ObjectSchema,
    /// A dry run's next id for an opportunity it would create (negative).
    next_dry_id: i64,
}

impl<'a> OpportunityHalf<'a> {
    pub(super) fn new(
        store: &'a Store,
        prep: &'a OpportunityPrep,
        schema: &'a ObjectSchema,
    ) -> OpportunityHalf<'a> {
        OpportunityHalf {
            store,
            prep,
            schema,
            next_dry_id: -1,
        }
    }

    pub(super) fn finds_only(&self) -> bool {
        !self.prep.with_contacts
    }

    /// The chunk's opportunities by Opportunity ID, as the planner sees them.
    pub(super) async fn lookup(
        &self,
        location: store::LocationId,
        inputs: &[RecordInput],
    ) -> Result<Vec<ExistingOpportunity>, ImportError> {
        let ids: Vec<i64> = inputs
            .iter()
            .filter_map(|i| i.record_id.as_ref()?.trim().parse().ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = self
            .store
            .opportunities_for_matching(location, &ids)
            .await?;
        Ok(found.into_iter().map(|o| self.existing(o)).collect())
    }

    fn existing(&self, o: StoredOpportunity) -> ExistingOpportunity {
        let mut values = o.custom.clone();
        let pipeline = self.prep.pipelines.iter().find(|p| p.id == o.pipeline_id);
        if let Some(p) = pipeline {
            values.insert("pipeline".into(), p.name.clone());
            if let Some((_, s)) = p.stages.iter().find(|(id, _)| *id == o.stage_id) {
                values.insert("stage".into(), s.clone());
            }
        }
        values.insert("opportunity_name".into(), o.name);
        let status = domain::pipeline::OpportunityStatus::ALL
            .iter()
            .find(|s| s.as_stored() == o.status)
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| "Open".into());
        values.insert("opportunity_status".into(), status);
        let mut opt = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                values.insert(k.into(), v);
            }
        };
        opt("opportunity_value", o.value);
        opt("opportunity_owner", o.owner.map(|v| v.to_string()));
        opt("opportunity_source", o.source);
        ExistingOpportunity {
            id: o.id,
            values,
            contact_id: o.contact_id,
            touched_line: None,
        }
    }

    /// Decides the chunk's opportunities against the contact plan and makes each line's one
    /// result. Without `--with-contacts` the contact plan only found the contacts: nothing of
    /// it is written.
    pub(super) fn decide(
        &self,
        plan: &mut ChunkPlan,
        contacts: &[ContactInput],
        inputs: Vec<RecordInput>,
        snapshot: Vec<ExistingOpportunity>,
    ) -> Decided {
        let finds_only = self.finds_only();
        let links: Vec<LineContact> = plan
            .lines
            .iter()
            .map(|l| {
                let found = match l.action {
                    LineAction::None => None,
                    // Found (Update mode), or the line's contact, written or not.
                    _ => l.contact,
                };
                match found.map(|i| (i, plan.contacts[i].id)) {
                    None => LineContact::None,
                    Some((_, Some(id))) => LineContact::Existing(id),
                    Some((_, None)) if finds_only => LineContact::None,
                    Some((i, None)) => LineContact::Planned(i),
                }
            })
            .collect();
        let mut opportunity_plan = plan_opportunities(
            inputs,
            &links,
            snapshot,
            &self.prep.pipelines,
            self.schema,
            self.prep.options,
        );
        for (k, part) in opportunity_plan.lines.iter_mut().enumerate() {
            let gave = contacts.get(k).is_some_and(|c| {
                c.contact_id.is_some() || c.value("email").is_some() || c.value("phone").is_some()
            });
            if finds_only && links[k] == LineContact::None && gave {
                contact_not_found(part);
            }
            let contact = (!finds_only).then(|| plan.lines[k].clone());
            plan.lines[k] = combine(contact, part);
        }
        if finds_only {
            for c in plan.contacts.iter_mut() {
                c.touched = false;
            }
        }
        Decided {
            plan: opportunity_plan,
        }
    }

    /// Adds the decided opportunities to the chunk's write, and each line's opportunity.
    /// `contact_index` maps the contact plan's indexes to `write.contacts`.
    pub(super) fn write(
        &self,
        decided: &Decided,
        write: &mut ChunkWrite,
        contact_index: &HashMap<usize, usize>,
    ) {
        let mut index: HashMap<usize, usize> = HashMap::new();
        for (i, o) in decided.plan.opportunities.iter().enumerate() {
            if !o.touched {
                continue;
            }
            index.insert(i, write.opportunities.len());
            let v = |k: &str| o.values.get(k).cloned();
            let custom = o
                .values
                .iter()
                .filter(|(k, _)| self.schema.field(k).is_some_and(|f| f.custom))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let status = v("opportunity_status")
                .and_then(|s| {
                    domain::pipeline::OpportunityStatus::ALL
                        .iter()
                        .find(|x| x.label().eq_ignore_ascii_case(&s))
                        .map(|x| x.as_stored().to_string())
                })
                .unwrap_or_else(|| "open".into());
            write.opportunities.push(OpportunityWrite {
                id: o.id,
                pipeline_id: o.pipeline_id,
                stage_id: o.stage_id,
                name: v("opportunity_name").unwrap_or_default(),
                status,
                value: v("opportunity_value"),
                owner: v("opportunity_owner").and_then(|s| s.parse().ok()),
                source: v("opportunity_source"),
                custom,
                contact: match o.contact {
                    LineContact::None => None,
                    LineContact::Existing(id) => Some(RecordRef::Id(id)),
                    LineContact::Planned(i) => {
                        contact_index.get(&i).map(|w| RecordRef::Written(*w))
                    }
                },
                line: o.first_line,
            });
        }
        write.line_opportunities = decided
            .plan
            .lines
            .iter()
            .map(|l| {
                let i = l.opportunity.filter(|_| l.written())?;
                Some(match decided.plan.opportunities[i].id {
                    Some(id) => RecordRef::Id(id),
                    None => RecordRef::Written(index[&i]),
                })
            })
            .collect();
    }

    /// The ids a dry run gives the opportunities it would create (negative, never shown).
    pub(super) fn dry_ids(&mut self, write: &ChunkWrite) -> Vec<i64> {
        write
            .opportunities
            .iter()
            .map(|o| {
                o.id.unwrap_or_else(|| {
                    self.next_dry_id -= 1;
                    self.next_dry_id + 1
                })
            })
            .collect()
    }

    /// Each line's opportunity (id; `None` for none or a dry run's new one) and what the line
    /// did to it.
    pub(super) fn line_outcomes(
        decided: &Decided,
        write: &ChunkWrite,
        opportunity_ids: &[i64],
    ) -> Vec<(Option<i64>, LineAction)> {
        decided
            .plan
            .lines
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let id = write
                    .line_opportunities
                    .get(k)
                    .copied()
                    .flatten()
                    .map(|r| match r {
                        RecordRef::Id(id) => id,
                        RecordRef::Written(i) => opportunity_ids[i],
                    })
                    .filter(|id| *id > 0);
                (id, l.action)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> (ObjectSchema, ObjectSchema) {
        let custom = |key: &str, label: &str| domain::object::CustomFieldDef {
            key: key.into(),
            label: label.into(),
            field_type: domain::CustomFieldType::Text,
            options: Vec::new(),
            required: false,
            unique: false,
        };
        (
            ObjectSchema::opportunity(&[custom("referrer", "Referrer")]),
            ObjectSchema::contact(&[custom("referrer", "Referrer")]),
        )
    }

    /// SPEC §7's `--map`: a bare key names the object that has it, a key both have needs
    /// its object, and without --with-contacts only the finding columns are the contact's.
    #[test]
    fn map_names_the_object() {
        let (o, c) = schemas();
        let map = |k: &str, with: bool| {
            translate_map(&[("H".into(), Some(k.into()))], &o, &c, with)
                .map(|m| m[0].1.clone().unwrap())
                .map_err(|e| e.to_string())
        };
        assert_eq!(map("opportunity_name", true).unwrap(), "opportunity_name");
        assert_eq!(
            map("opportunity.opportunity_name", true).unwrap(),
            "opportunity_name"
        );
        assert_eq!(map("contact.email", false).unwrap(), "email");
        assert_eq!(map("contact.referrer", true).unwrap(), "contact.referrer");
        assert_eq!(
            map("opportunity.referrer", true).unwrap(),
            "opportunity.referrer"
        );
        let both = map("referrer", true).unwrap_err();
        assert!(
            both.contains("write contact.referrer or opportunity.referrer"),
            "{both}"
        );
        // Without contacts, a contact's custom field is no target: the bare key is the
        // opportunity's.
        assert_eq!(map("referrer", false).unwrap(), "referrer");
        assert!(
            map("contact.first_name", false)
                .unwrap_err()
                .contains("--with-contacts")
        );
    }

    /// Each column feeds one object, under its own key.
    #[test]
    fn columns_split_by_object() {
        let (o, c) = schemas();
        let (standard, custom) = targets(&o, &c, true);
        let find = |k: &str| {
            ColumnUse::Field(
                standard
                    .iter()
                    .chain(&custom)
                    .find(|t| t.key == k)
                    .unwrap()
                    .clone(),
            )
        };
        let uses = vec![
            find("opportunity_name"),
            find("email"),
            find("contact.referrer"),
            find("opportunity.referrer"),
            ColumnUse::Ignored,
        ];
        let (contact, opportunity) = split_uses(&uses, &o);
        let keys = |u: &[ColumnUse]| {
            u.iter()
                .map(|u| match u {
                    ColumnUse::Field(t) => t.key.clone(),
                    _ => "-".into(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&contact), vec!["-", "email", "referrer", "-", "-"]);
        assert_eq!(
            keys(&opportunity),
            vec!["opportunity_name", "-", "-", "referrer", "-"]
        );
        let (standard, _) = targets(&o, &c, false);
        let contact_keys: Vec<&str> = standard
            .iter()
            .map(|t| t.key.as_str())
            .filter(|k| c.field(k).is_some())
            .collect();
        assert_eq!(contact_keys, vec!["contact_id", "email", "phone"]);
    }
}
