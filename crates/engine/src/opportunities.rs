//! Deciding the opportunity part of a chunk of "contacts and opportunities in one file" rows
//! (SPEC §7), and the one result a line of both parts gets.
//!
//! Pure, like [`crate::records`]: the caller looks the chunk's Opportunity IDs up in one batch,
//! hands the location's pipelines and, per line, the contact the line names (written or found
//! by the contact part), and [`plan_opportunities`] decides every line in file order:
//!
//! - an Opportunity ID present → that opportunity is updated (in `create`, skipped with a
//!   warning; an unknown ID is an error of the opportunity part);
//! - absent → a new opportunity (`create`, `upsert`), or skipped with a warning (`update`);
//! - pipeline and stage matched by name within the location, ignoring case; an unknown one is
//!   an error naming the valid names;
//! - a new opportunity needs a name, a pipeline and a stage; an update changes only what its
//!   cells give (§6.5's blank rules; name, pipeline, stage and status never become blank);
//! - linked to the line's contact; without one it keeps its link (an update) or has none.
//!
//! [`combine`] then makes the line's one result from its contact part (when the import has
//! one) and its opportunity part.

use std::collections::{BTreeMap, HashMap};

use domain::ObjectSchema;
use domain::message::{Level, Message, code};
use domain::pipeline::same_name;

use crate::decide::{Action, LineResult, LineStatus, Mode};
use crate::records::RecordInput;

/// The keys of the opportunity fields the planner reads itself.
pub const NAME: &str = "opportunity_name";
pub const PIPELINE: &str = "pipeline";
pub const STAGE: &str = "stage";
pub const STATUS: &str = "opportunity_status";

/// A pipeline of the location with its stages in order: (id, name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineNames {
    pub id: i64,
    pub name: String,
    pub stages: Vec<(i64, String)>,
}

/// The rules of one opportunities import (SPEC §7).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpportunityOptions {
    pub mode: Mode,
    /// "Don't update empty values": blanks leave existing data alone.
    pub no_update_empty: bool,
}

/// The contact a line names, for the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineContact {
    /// The line names no contact (none given, or none found).
    None,
    /// A contact that exists, by id.
    Existing(i64),
    /// A contact this chunk creates: an index the caller gives meaning to (the contact plan's).
    Planned(usize),
}

/// An opportunity as stored: fields by key (pipeline and stage by name; blank fields absent),
/// its link, and the line of this import that last wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingOpportunity {
    pub id: i64,
    pub values: BTreeMap<String, String>,
    pub contact_id: Option<i64>,
    pub touched_line: Option<u64>,
}

/// An opportunity the chunk writes: created (`id` is `None`) or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOpportunity {
    pub id: Option<i64>,
    /// Every field by key after the chunk (pipeline and stage by their stored names).
    pub values: BTreeMap<String, String>,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub contact: LineContact,
    pub touched_line: Option<u64>,
    /// First line of this chunk that touched it (the journal's line).
    pub first_line: u64,
    /// Whether this chunk changed it (untouched snapshot entries are not written).
    pub touched: bool,
}

/// What a line did to its opportunity: `opportunity` indexes [`OpportunityPlan::opportunities`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityLine {
    pub line: u64,
    pub action: Action,
    pub opportunity: Option<usize>,
    pub primary: Option<String>,
    pub messages: Vec<Message>,
}

impl OpportunityLine {
    pub fn written(&self) -> bool {
        matches!(self.action, Action::Created | Action::Updated)
    }
}

/// What a chunk decided about its opportunities.
#[derive(Debug, Clone, Default)]
pub struct OpportunityPlan {
    pub opportunities: Vec<PlannedOpportunity>,
    pub lines: Vec<OpportunityLine>,
}

struct Working<'a> {
    schema: &'a ObjectSchema,
    pipelines: &'a [PipelineNames],
    opts: OpportunityOptions,
    known: HashMap<i64, ExistingOpportunity>,
    planned: Vec<PlannedOpportunity>,
    by_id: HashMap<i64, usize>,
}

/// Decides the opportunity part of every line (see the module docs). `contacts[i]` is the
/// contact line `inputs[i]` names.
pub fn plan_opportunities(
    inputs: Vec<RecordInput>,
    contacts: &[LineContact],
    snapshot: Vec<ExistingOpportunity>,
    pipelines: &[PipelineNames],
    schema: &ObjectSchema,
    opts: OpportunityOptions,
) -> OpportunityPlan {
    let mut w = Working {
        schema,
        pipelines,
        opts,
        known: snapshot.into_iter().map(|e| (e.id, e)).collect(),
        planned: Vec::new(),
        by_id: HashMap::new(),
    };
    let lines = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let contact = contacts.get(i).copied().unwrap_or(LineContact::None);
            plan_line(&mut w, input, contact)
        })
        .collect();
    OpportunityPlan {
        opportunities: w.planned,
        lines,
    }
}

fn line(
    input: &RecordInput,
    action: Action,
    opportunity: Option<usize>,
    primary: Option<String>,
    messages: Vec<Message>,
) -> OpportunityLine {
    let failed = messages.iter().any(|m| m.level == Level::Error);
    OpportunityLine {
        line: input.line,
        action: if failed { Action::None } else { action },
        opportunity: if failed { None } else { opportunity },
        primary,
        messages,
    }
}

fn names(list: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = list.map(|n| format!("“{n}”")).collect();
    if all.is_empty() {
        "none yet".into()
    } else {
        all.join(", ")
    }
}

impl Working<'_> {
    fn pipeline(&self, name: &str, msgs: &mut Vec<Message>) -> Option<&PipelineNames> {
        let found = self.pipelines.iter().find(|p| same_name(&p.name, name));
        if found.is_none() {
            let mut m = Message::from_code(code::OPPORTUNITY_UNKNOWN_PIPELINE)
                .field(PIPELINE)
                .value(name);
            m.message = format!(
                "No pipeline of this location is named “{name}”; its pipelines are: {}",
                names(self.pipelines.iter().map(|p| p.name.clone()))
            );
            msgs.push(m);
        }
        found
    }

    fn stage(p: &PipelineNames, name: &str, msgs: &mut Vec<Message>) -> Option<(i64, String)> {
        let found = p.stages.iter().find(|(_, s)| same_name(s, name)).cloned();
        if found.is_none() {
            let mut m = Message::from_code(code::OPPORTUNITY_UNKNOWN_STAGE)
                .field(STAGE)
                .value(name);
            m.message = format!(
                "The pipeline “{}” has no stage named “{name}”; its stages are: {}",
                p.name,
                names(p.stages.iter().map(|(_, s)| s.clone()))
            );
            msgs.push(m);
        }
        found
    }

    /// The planned entry of an existing opportunity (made on first use).
    fn entry(&mut self, id: i64) -> Option<usize> {
        if let Some(i) = self.by_id.get(&id) {
            return Some(*i);
        }
        let e = self.known.get(&id)?;
        let pipeline = e.values.get(PIPELINE).cloned().unwrap_or_default();
        let stage = e.values.get(STAGE).cloned().unwrap_or_default();
        let (pipeline_id, stage_id) = self
            .pipelines
            .iter()
            .find(|p| p.name == pipeline)
            .and_then(|p| {
                let s = p.stages.iter().find(|(_, s)| *s == stage)?;
                Some((p.id, s.0))
            })
            .unwrap_or((0, 0));
        let contact = match e.contact_id {
            Some(c) => LineContact::Existing(c),
            None => LineContact::None,
        };
        self.planned.push(PlannedOpportunity {
            id: Some(id),
            values: e.values.clone(),
            pipeline_id,
            stage_id,
            contact,
            touched_line: e.touched_line,
            first_line: 0,
            touched: false,
        });
        let i = self.planned.len() - 1;
        self.by_id.insert(id, i);
        Some(i)
    }
}

fn plan_line(w: &mut Working<'_>, input: RecordInput, contact: LineContact) -> OpportunityLine {
    let mut msgs = input.messages.clone();
    let row_primary = input.value(NAME).map(str::to_string);
    if msgs.iter().any(|m| m.level == Level::Error) {
        return line(&input, Action::None, None, row_primary, msgs);
    }
    let target = match &input.record_id {
        Some(raw) => match raw.trim().parse::<i64>().ok().and_then(|id| w.entry(id)) {
            Some(i) => Some(i),
            None => {
                let mut m = Message::from_code(code::OPPORTUNITY_UNKNOWN_ID)
                    .field(w.schema.id_field.clone())
                    .value(raw.clone());
                m.message =
                    format!("No opportunity of this location has the Opportunity ID “{raw}”");
                msgs.push(m);
                return line(&input, Action::None, None, row_primary, msgs);
            }
        },
        None => None,
    };
    match target {
        Some(i) => {
            let earlier = w.planned[i].touched_line;
            if earlier.is_none() && w.opts.mode == Mode::Create {
                msgs.push(Message::from_code(code::OPPORTUNITY_EXISTING_NOT_UPDATED));
                let primary = w.planned[i].values.get(NAME).cloned();
                return line(&input, Action::Skipped, Some(i), primary, msgs);
            }
            update(w, i, &input, contact, &mut msgs);
            let primary = w.planned[i].values.get(NAME).cloned();
            line(&input, Action::Updated, Some(i), primary, msgs)
        }
        None if w.opts.mode == Mode::Update => {
            msgs.push(Message::from_code(code::OPPORTUNITY_NO_EXISTING));
            line(&input, Action::Skipped, None, row_primary, msgs)
        }
        None => {
            let missing: Vec<&str> = [NAME, PIPELINE, STAGE]
                .into_iter()
                .filter(|k| input.value(k).is_none())
                .map(|k| w.schema.label(k).unwrap_or(k))
                .collect();
            if !missing.is_empty() {
                let mut m = Message::from_code(code::OPPORTUNITY_REQUIRED_MISSING);
                m.message = format!(
                    "A new opportunity needs {}; this row gives none",
                    missing.join(", ")
                );
                msgs.push(m);
                return line(&input, Action::None, None, row_primary, msgs);
            }
            let pipeline_name = input.value(PIPELINE).unwrap_or_default();
            let Some(p) = w.pipeline(pipeline_name, &mut msgs).cloned() else {
                return line(&input, Action::None, None, row_primary, msgs);
            };
            let Some((stage_id, stage)) =
                Working::stage(&p, input.value(STAGE).unwrap_or_default(), &mut msgs)
            else {
                return line(&input, Action::None, None, row_primary, msgs);
            };
            let mut values: BTreeMap<String, String> = input
                .values
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect();
            values.insert(PIPELINE.into(), p.name.clone());
            values.insert(STAGE.into(), stage);
            values.entry(STATUS.into()).or_insert_with(|| "Open".into());
            w.planned.push(PlannedOpportunity {
                id: None,
                values,
                pipeline_id: p.id,
                stage_id,
                contact,
                touched_line: Some(input.line),
                first_line: input.line,
                touched: true,
            });
            line(
                &input,
                Action::Created,
                Some(w.planned.len() - 1),
                row_primary,
                msgs,
            )
        }
    }
}

/// Applies a row to an opportunity: only what its cells give (SPEC §7, §6.5).
fn update(
    w: &mut Working<'_>,
    i: usize,
    input: &RecordInput,
    contact: LineContact,
    msgs: &mut Vec<Message>,
) {
    // Pipeline and stage first: a stage is looked for in the pipeline the row ends in.
    let current_pipeline = w.planned[i]
        .values
        .get(PIPELINE)
        .cloned()
        .unwrap_or_default();
    let pipeline = match input.value(PIPELINE) {
        Some(name) => match w.pipeline(name, msgs).cloned() {
            Some(p) => Some(p),
            None => return,
        },
        None => w
            .pipelines
            .iter()
            .find(|p| p.name == current_pipeline)
            .cloned(),
    };
    let stage_name = input
        .value(STAGE)
        .map(str::to_string)
        .or_else(|| w.planned[i].values.get(STAGE).cloned())
        .unwrap_or_default();
    let Some(pipeline) = pipeline else {
        return;
    };
    let Some((stage_id, stage)) = Working::stage(&pipeline, &stage_name, msgs) else {
        return;
    };
    let r = &mut w.planned[i];
    if !r.touched {
        r.first_line = input.line;
    }
    r.touched = true;
    r.touched_line = Some(input.line);
    r.pipeline_id = pipeline.id;
    r.stage_id = stage_id;
    r.values.insert(PIPELINE.into(), pipeline.name.clone());
    r.values.insert(STAGE.into(), stage);
    if contact != LineContact::None {
        r.contact = contact;
    }
    for (k, v) in &input.values {
        if k == PIPELINE || k == STAGE {
            if v.is_none() && !w.opts.no_update_empty {
                blank_kept(w.schema, k, msgs);
            }
            continue;
        }
        match v {
            Some(v) => {
                r.values.insert(k.clone(), v.clone());
            }
            None if w.opts.no_update_empty => {}
            None if k == STATUS || w.schema.is_never_cleared(k) => blank_kept(w.schema, k, msgs),
            None => {
                r.values.remove(k);
            }
        }
    }
}

fn blank_kept(schema: &ObjectSchema, key: &str, msgs: &mut Vec<Message>) {
    let label = schema.label(key).unwrap_or(key);
    let mut m = Message::from_code(code::OPPORTUNITY_BLANK_NOT_CLEARED).field(key.to_string());
    m.message = format!(
        "{label} is blank, but an opportunity's {label} is never emptied by an import; the cell was ignored"
    );
    msgs.push(m);
}

/// The warning of a line whose contact columns found no contact (SPEC §7, without
/// `--with-contacts`): added to the opportunity part when it created or updated.
pub fn contact_not_found(part: &mut OpportunityLine) {
    if part.written() {
        part.messages
            .push(Message::from_code(code::OPPORTUNITY_CONTACT_NOT_FOUND));
    }
}

/// A line's one result (SPEC §7 "Line results"), from its contact part (`None` without
/// `--with-contacts`) and its opportunity part:
///
/// - `error` (action `none`) when no part was written;
/// - `warning` when one part was written and the other failed or was skipped, or when a
///   written part has a message;
/// - `success` otherwise.
///
/// The action is the contact part's — the opportunity part's when there is no contact part or
/// the contact part failed — and the messages are both parts', the contact's first. The
/// `contact` index and the primary value stay the contact part's (the opportunity's name
/// without one).
pub fn combine(contact: Option<LineResult>, opportunity: &OpportunityLine) -> LineResult {
    let Some(mut c) = contact else {
        let status = match opportunity.action {
            Action::None => LineStatus::Error,
            Action::Skipped => LineStatus::Warning,
            _ if opportunity.messages.is_empty() => LineStatus::Success,
            _ => LineStatus::Warning,
        };
        return LineResult {
            line: opportunity.line,
            status,
            action: opportunity.action,
            contact: None,
            primary: opportunity.primary.clone(),
            messages: opportunity.messages.clone(),
        };
    };
    let contact_written = matches!(c.action, Action::Created | Action::Updated);
    let written = contact_written || opportunity.written();
    c.messages.extend(opportunity.messages.iter().cloned());
    if contact_written && !opportunity.written() && opportunity.messages.is_empty() {
        c.messages
            .push(Message::from_code(code::OPPORTUNITY_NOT_WRITTEN));
    }
    if !written {
        c.status = LineStatus::Error;
        c.action = Action::None;
        // A skipped part's warning is this line's reason; the line is an error all the same.
        return c;
    }
    if c.action == Action::None {
        c.action = opportunity.action;
        c.contact = None;
    }
    c.status = if contact_written && opportunity.written() && c.messages.is_empty() {
        LineStatus::Success
    } else {
        LineStatus::Warning
    };
    c
}

#[cfg(test)]
mod tests;
