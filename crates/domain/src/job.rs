//! The vocabulary of a Bulk Action (SPEC §9): what a job does, to which object, where it
//! stands, what was asked of it, and what each line of an import did, with the messages a
//! line keeps.
//!
//! Each word is stored in the database and shown in the API as the same lowercase string it
//! always was (`import`, `running`, `pause`, `created`, …); the enums only stop the crates
//! comparing those strings by hand. Reading an unknown word back is an error the caller words
//! (a corrupt row), never a panic.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub use crate::field::ObjectKind;
use crate::message::{Level, Message};

/// Declares a fieldless enum stored as fixed words: `as_str`, `Display`, `FromStr` and serde
/// as those words.
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, UnknownWord> {
                match s {
                    $( $word => Ok($name::$variant), )+
                    _ => Err(UnknownWord { what: $what, word: s.to_string() }),
                }
            }
        }

        /// Compares with a stored word, as the tests write them.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A stored word this vocabulary does not know (a corrupt row, or a word from a newer
/// version).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{word}' is not a known {what}")]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
}

words! {
    /// What a job does.
    pub enum Operation ("job operation") {
        Import = "import",
        Export = "export",
    }
}

words! {
    /// Where a job stands (SPEC §9.1).
    pub enum JobStatus ("job status") {
        /// Waiting for a worker.
        Queued = "queued",
        /// A process holds its lease and works on it.
        Running = "running",
        /// Stopped at a checkpoint; resuming continues from there.
        Paused = "paused",
        Completed = "completed",
        /// Stopped for good at a checkpoint; what was done is kept.
        Cancelled = "cancelled",
        Failed = "failed",
    }
}

impl JobStatus {
    /// Whether the job will never run again (completed, cancelled or failed).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Cancelled | JobStatus::Failed
        )
    }

    /// Whether the job is waiting for a worker or running.
    pub fn is_live(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

words! {
    /// What a user asked of a running job, settled at its next checkpoint.
    pub enum JobRequest ("job request") {
        Pause = "pause",
        Cancel = "cancel",
    }
}

impl JobRequest {
    /// The status the job takes when the request is settled.
    pub fn settles_to(self) -> JobStatus {
        match self {
            JobRequest::Pause => JobStatus::Paused,
            JobRequest::Cancel => JobStatus::Cancelled,
        }
    }
}

words! {
    /// How rows that match existing records are handled (SPEC §6.3).
    #[derive(Default)]
    pub enum Mode ("import mode") {
        /// Add New: create; a row matching an existing record is skipped.
        #[default]
        Create = "create",
        /// Add New and Update Existing.
        Upsert = "upsert",
        /// Update Existing: rows without a match are skipped.
        Update = "update",
    }
}

impl Mode {
    /// The CLI and stored token: `create`, `upsert` or `update`.
    pub fn token(self) -> &'static str {
        self.as_str()
    }

    /// Reads a mode the user typed, with the words a user sees when it is none.
    pub fn parse_user(s: &str) -> Result<Mode, String> {
        s.parse()
            .map_err(|_| format!("unknown mode '{s}'; use create, upsert or update"))
    }
}

words! {
    /// A line's status (SPEC §6.7).
    pub enum LineStatus ("line status") {
        Success = "success",
        Warning = "warning",
        Error = "error",
    }
}

impl LineStatus {
    pub fn token(self) -> &'static str {
        self.as_str()
    }
}

words! {
    /// What a line did (SPEC §6.7).
    pub enum LineAction ("line action") {
        Created = "created",
        Updated = "updated",
        Skipped = "skipped",
        None = "none",
    }
}

impl LineAction {
    pub fn token(self) -> &'static str {
        self.as_str()
    }
}

/// One message of a warning or error line, as a report, the API, the line log and the error
/// log give it (SPEC §13.1's `messages[]`): the line log stores exactly this as JSON.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineMessage {
    pub level: Level,
    /// A stable code such as `phone.invalid_for_region`.
    pub code: Cow<'static, str>,
    /// The field's label or the column's header, when the message concerns one.
    #[serde(default)]
    pub field: Option<String>,
    pub message: String,
    /// How to fix it.
    #[serde(default)]
    pub resolution: String,
}

impl From<&Message> for LineMessage {
    fn from(m: &Message) -> Self {
        LineMessage {
            level: m.level,
            code: Cow::Borrowed(m.code),
            field: m.field.as_ref().map(|f| f.to_string()),
            message: m.message.clone(),
            resolution: m.resolution.clone(),
        }
    }
}

/// One line of an import as every front end reads it (SPEC §13.1's `lines[]`): what a run
/// reports as it goes and what the line log gives back. Serialised without the cells, which
/// only the error log writes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineRecord {
    /// The row number as a spreadsheet shows it (header = 1).
    pub line: u64,
    pub status: LineStatus,
    pub action: LineAction,
    pub record_id: Option<i64>,
    pub primary: Option<String>,
    /// Empty for success lines (stored compactly, without messages).
    pub messages: Vec<LineMessage>,
    /// The row's original cells, one per column of the file: warning and error lines of the
    /// line log only.
    #[serde(skip)]
    pub cells: Option<Vec<String>>,
    /// An opportunities import's line (SPEC §7, §13.1): `Some(id or null)` — the opportunity
    /// written — shown as `"opportunity_id"`; absent (`None`) for every other import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity_id: Option<Option<i64>>,
    /// What the line did to its opportunity (an opportunities import; `None` otherwise): what
    /// the confirmation counts ("would create 3 opportunities and update 1").
    #[serde(skip)]
    pub opportunity_action: Option<LineAction>,
}

/// Why an import would enroll contacts in a workflow (SPEC §6.6), stored and shown as
/// `tag-added:TAG`, `contact-created` or `chosen for this import`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TriggerReason {
    /// The import adds the workflow's trigger tag.
    TagAdded(String),
    /// The workflow starts for every new contact.
    ContactCreated,
    /// The import names the workflow (`--workflow`).
    Chosen,
}

impl fmt::Display for TriggerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TriggerReason::TagAdded(tag) => write!(f, "tag-added:{tag}"),
            TriggerReason::ContactCreated => f.write_str("contact-created"),
            TriggerReason::Chosen => f.write_str("chosen for this import"),
        }
    }
}

impl FromStr for TriggerReason {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, UnknownWord> {
        match s {
            "contact-created" => Ok(TriggerReason::ContactCreated),
            "chosen for this import" => Ok(TriggerReason::Chosen),
            _ => match s.strip_prefix("tag-added:") {
                Some(tag) => Ok(TriggerReason::TagAdded(tag.to_string())),
                None => Err(UnknownWord {
                    what: "workflow trigger reason",
                    word: s.to_string(),
                }),
            },
        }
    }
}

impl TriggerReason {
    /// Why the workflow would start, in the user's words.
    pub fn words(&self) -> String {
        match self {
            TriggerReason::TagAdded(tag) => format!("the import adds the tag “{tag}”"),
            TriggerReason::ContactCreated => "it starts for every new contact".into(),
            TriggerReason::Chosen => "you chose it for this import".into(),
        }
    }
}

impl serde::Serialize for TriggerReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TriggerReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_itself() {
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(*s));
        }
        for o in Operation::ALL {
            assert_eq!(o.as_str().parse::<Operation>(), Ok(*o));
        }
        for r in JobRequest::ALL {
            assert_eq!(r.as_str().parse::<JobRequest>(), Ok(*r));
        }
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(*m));
        }
        for s in LineStatus::ALL {
            assert_eq!(s.as_str().parse::<LineStatus>(), Ok(*s));
        }
        for a in LineAction::ALL {
            assert_eq!(a.as_str().parse::<LineAction>(), Ok(*a));
        }
        for r in [
            TriggerReason::TagAdded("VIP: gold".into()),
            TriggerReason::ContactCreated,
            TriggerReason::Chosen,
        ] {
            assert_eq!(r.to_string().parse::<TriggerReason>(), Ok(r));
        }
    }

    #[test]
    fn the_stored_words_are_the_ones_the_database_holds() {
        let words: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            words,
            [
                "queued",
                "running",
                "paused",
                "completed",
                "cancelled",
                "failed"
            ]
        );
        assert_eq!(
            serde_json::to_string(&LineAction::None).unwrap(),
            "\"none\""
        );
        assert_eq!(
            TriggerReason::TagAdded("VIP".into()).to_string(),
            "tag-added:VIP"
        );
    }

    #[test]
    fn an_unknown_word_is_an_error_naming_it() {
        let e = "paused-ish".parse::<JobStatus>().unwrap_err();
        assert_eq!(e.to_string(), "'paused-ish' is not a known job status");
        assert!("tag-removed:x".parse::<TriggerReason>().is_err());
        assert_eq!(
            Mode::parse_user("merge").unwrap_err(),
            "unknown mode 'merge'; use create, upsert or update"
        );
    }

    #[test]
    fn a_line_message_reads_back_what_it_stored() {
        let m = LineMessage::from(
            &Message::warning("phone.invalid", "bad phone", "fix it").field("phone"),
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<LineMessage>(&json).unwrap(), m);
    }
}
