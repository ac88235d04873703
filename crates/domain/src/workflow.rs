//! Workflow triggers, statuses and actions (SPEC §12) in the §13.1 syntax, read and written
//! back, and the rules of sending a step's message: pure, tested without a database. The
//! store keeps workflows and runs their steps; what a trigger or an action means is here.
//!
//! - triggers `tag-added:TAG`, `contact-created`, `import` (enrolled by an import's
//!   `--workflow`);
//! - actions `add-tag:TAG`, `remove-tag:TAG`, `send-sms:TEXT`, `send-email:SUBJECT|BODY` (the
//!   subject ends at the first `|`), `move-opportunity:PIPELINE/STAGE:DATE_FIELD` (the
//!   pipeline ends at the first `/`, the date field is after the last `:`).

use std::fmt;
use std::str::FromStr;

/// What enrolls a contact in a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// `tag-added:TAG`: the tag was added to the contact (compared case-insensitively).
    TagAdded(String),
    /// `contact-created`: the contact was created.
    ContactCreated,
    /// `import`: an import named this workflow (`import contacts --workflow NAME`).
    Import,
}

impl Trigger {
    /// The stored kind: `tag-added`, `contact-created` or `import`.
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::TagAdded(_) => "tag-added",
            Trigger::ContactCreated => "contact-created",
            Trigger::Import => "import",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::TagAdded(tag) => write!(f, "tag-added:{tag}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// Whether a workflow fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkflowStatus {
    /// Fires, and its enrollments' steps run.
    Active,
    /// Fires no more; its enrollments wait until it is active again.
    Paused,
    /// Being prepared: fires nothing, like a paused one.
    Draft,
}

impl WorkflowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Active => "active",
            WorkflowStatus::Paused => "paused",
            WorkflowStatus::Draft => "draft",
        }
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkflowStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(WorkflowStatus::Active),
            "paused" => Ok(WorkflowStatus::Paused),
            "draft" => Ok(WorkflowStatus::Draft),
            _ => Err(format!(
                "'{s}' is not a workflow status; use active, paused or draft"
            )),
        }
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AddTag(String),
    RemoveTag(String),
    /// The SMS text.
    SendSms(String),
    SendEmail {
        subject: String,
        body: String,
    },
    /// Creates the contact's opportunity in PIPELINE at STAGE, or moves it there, when the
    /// contact's custom date field DATE_FIELD holds a value; otherwise the step does nothing.
    /// The pipeline and the stage are created by name when the location has none.
    MoveOpportunity {
        pipeline: String,
        stage: String,
        date_field: String,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::AddTag(t) => write!(f, "add-tag:{t}"),
            Action::RemoveTag(t) => write!(f, "remove-tag:{t}"),
            Action::SendSms(text) => write!(f, "send-sms:{text}"),
            Action::SendEmail { subject, body } => write!(f, "send-email:{subject}|{body}"),
            Action::MoveOpportunity {
                pipeline,
                stage,
                date_field,
            } => write!(f, "move-opportunity:{pipeline}/{stage}:{date_field}"),
        }
    }
}

/// Why a trigger or an action cannot be read: what was given, what is wrong, and (in
/// `Display`) the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not {what}: {problem}. {forms}")]
pub struct SyntaxError {
    pub given: String,
    pub what: &'static str,
    pub problem: String,
    pub forms: &'static str,
}

/// The accepted trigger forms.
pub const TRIGGER_FORMS: &str = "Triggers are tag-added:TAG, contact-created and import";
/// The accepted action forms.
pub const ACTION_FORMS: &str = "Actions are add-tag:TAG, remove-tag:TAG, send-sms:TEXT, \
     send-email:SUBJECT|BODY and move-opportunity:PIPELINE/STAGE:DATE_FIELD";

/// Reads a §13.1 trigger: `tag-added:TAG`, `contact-created` or `import`.
pub fn parse_trigger(s: &str) -> Result<Trigger, SyntaxError> {
    let fail = |problem: String| SyntaxError {
        given: s.to_string(),
        what: "a trigger",
        problem,
        forms: TRIGGER_FORMS,
    };
    let (kind, arg) = match s.split_once(':') {
        Some((k, a)) => (k.trim(), Some(a.trim())),
        None => (s.trim(), None),
    };
    match (kind, arg) {
        ("tag-added", Some(tag)) if !tag.is_empty() => Ok(Trigger::TagAdded(tag.to_string())),
        ("tag-added", _) => Err(fail("'tag-added' needs a tag after ':'".into())),
        ("contact-created", None) => Ok(Trigger::ContactCreated),
        ("import", None) => Ok(Trigger::Import),
        ("contact-created" | "import", Some(_)) => Err(fail(format!("'{kind}' takes no value"))),
        _ => Err(fail(format!("'{kind}' is not a trigger"))),
    }
}

/// Reads a §13.1 action (see the module docs for how its parts are split).
pub fn parse_action(s: &str) -> Result<Action, SyntaxError> {
    let fail = |problem: String| SyntaxError {
        given: s.to_string(),
        what: "an action",
        problem,
        forms: ACTION_FORMS,
    };
    let Some((kind, arg)) = s.split_once(':') else {
        return Err(fail(
            "it has no ':' between the action and its value".into(),
        ));
    };
    let kind = kind.trim();
    let arg = arg.trim();
    let non_empty = |what: &str, v: &str| {
        if v.trim().is_empty() {
            Err(fail(format!("'{kind}' needs {what}")))
        } else {
            Ok(v.trim().to_string())
        }
    };
    match kind {
        "add-tag" => Ok(Action::AddTag(non_empty("a tag", arg)?)),
        "remove-tag" => Ok(Action::RemoveTag(non_empty("a tag", arg)?)),
        "send-sms" => Ok(Action::SendSms(non_empty("the text to send", arg)?)),
        "send-email" => {
            let Some((subject, body)) = arg.split_once('|') else {
                return Err(fail(
                    "'send-email' needs a subject and a body separated by '|'".into(),
                ));
            };
            Ok(Action::SendEmail {
                subject: non_empty("a subject before the '|'", subject)?,
                body: non_empty("a body after the '|'", body)?,
            })
        }
        "move-opportunity" => {
            let Some((place, field)) = arg.rsplit_once(':') else {
                return Err(fail(
                    "'move-opportunity' needs PIPELINE/STAGE:DATE_FIELD".into(),
                ));
            };
            let Some((pipeline, stage)) = place.split_once('/') else {
                return Err(fail(
                    "'move-opportunity' needs a pipeline and a stage separated by '/'".into(),
                ));
            };
            let date_field = non_empty("a date field after the last ':'", field)?;
            if !date_field.chars().all(|c| c == '_' || c.is_alphanumeric()) {
                return Err(fail(format!(
                    "'{date_field}' is not a custom field key (letters, digits and '_')"
                )));
            }
            Ok(Action::MoveOpportunity {
                pipeline: non_empty("a pipeline before the '/'", pipeline)?,
                stage: non_empty("a stage after the '/'", stage)?,
                date_field,
            })
        }
        _ => Err(fail(format!("'{kind}' is not an action"))),
    }
}

/// The messaging channel of a send step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageChannel {
    Sms,
    Email,
}

/// What the runtime knows of a contact when it sends.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<String>,
    pub dnd_sms: bool,
    pub dnd_email: bool,
    pub email_verification: String,
}

/// Why a message to this contact on this channel must not be sent, if it must not: the
/// outbox row is written `suppressed` with this reason (`unsubscribed`, `dnd_sms`,
/// `dnd_email`, `no_phone`, `no_email`, `email_invalid`).
pub fn suppression(channel: MessageChannel, c: &Reach) -> Option<&'static str> {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if c.status.as_deref() == Some("Unsubscribed") {
        return Some("unsubscribed");
    }
    match channel {
        MessageChannel::Sms if c.dnd_sms => Some("dnd_sms"),
        MessageChannel::Sms if blank(&c.phone) => Some("no_phone"),
        MessageChannel::Email if c.dnd_email => Some("dnd_email"),
        MessageChannel::Email if blank(&c.email) => Some("no_email"),
        MessageChannel::Email if c.email_verification == "invalid" => Some("email_invalid"),
        _ => None,
    }
}

/// The built-in workflow templates (SPEC §11), by the name `workflow create --template` takes.
pub mod templates {
    use super::{Action, Trigger};

    /// `nextech-reconciliation`'s name on the command line.
    pub const NEXTECH_RECONCILIATION: &str = "nextech-reconciliation";
    /// The workflow it makes, as an import names it (`--workflow "Nextech reconciliation"`).
    pub const NEXTECH_WORKFLOW_NAME: &str = "Nextech reconciliation";
    /// The pipeline made when none is named and the location has none of this name.
    pub const SURGICAL_JOURNEY: &str = "Surgical Journey";
    pub const SURGICAL_JOURNEY_STAGES: [&str; 4] = [
        "New Lead",
        "Consult Booked",
        "Surgery Scheduled",
        "Surgery Completed",
    ];
    /// The stages it moves to, each when its date field is set, in this order — so when both
    /// are set the later stage wins.
    pub const NEXTECH_MOVES: [(&str, &str); 2] = [
        ("Consult Booked", "next_appointment"),
        ("Surgery Scheduled", "procedure_date"),
    ];

    /// The trigger and actions of `nextech-reconciliation` over a pipeline whose stages are
    /// `stage(name)` (the pipeline's own spelling of each of [`NEXTECH_MOVES`]' stages).
    /// `Err` names what the pipeline lacks, or a name the action syntax cannot hold.
    pub fn nextech_reconciliation(
        pipeline: &str,
        stage: impl Fn(&str) -> Option<String>,
    ) -> Result<(Trigger, Vec<Action>), String> {
        if pipeline.contains('/') {
            return Err(format!(
                "the pipeline '{pipeline}' has a '/' in its name, which a workflow step cannot name; rename it"
            ));
        }
        let mut actions = Vec::with_capacity(NEXTECH_MOVES.len());
        for (wanted, date_field) in NEXTECH_MOVES {
            let Some(stage) = stage(wanted) else {
                return Err(format!(
                    "the pipeline '{pipeline}' has no stage '{wanted}'; add it (Settings → Pipelines) or leave out --pipeline to use '{SURGICAL_JOURNEY}'"
                ));
            };
            actions.push(Action::MoveOpportunity {
                pipeline: pipeline.to_string(),
                stage,
                date_field: date_field.to_string(),
            });
        }
        Ok((Trigger::Import, actions))
    }
}

#[cfg(test)]
mod tests;
