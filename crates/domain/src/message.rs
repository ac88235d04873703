//! Line messages: what is wrong with a cell or a row, in the user's words, with a stable code
//! and how to fix it (SPEC §5). The same messages feed the CLI report, the API, the Bulk
//! Actions pages and the error-log CSV.

use std::borrow::Cow;

/// How serious a message is for its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The line is still written, less what the message names.
    Warning,
    /// Nothing of the line is written.
    Error,
}

/// One message on one line of an import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub level: Level,
    /// Stable code such as `phone.invalid` (see [`CODES`]).
    pub code: &'static str,
    /// The field key the message is about, when there is one.
    pub field: Option<Cow<'static, str>>,
    /// The cell value as read, when there is one.
    pub value: Option<String>,
    /// What is wrong, in the user's words.
    pub message: String,
    /// How to fix it.
    pub resolution: String,
}

impl Message {
    pub fn warning(code: &'static str, message: impl Into<String>, resolution: impl Into<String>) -> Self {
        Message {
            level: Level::Warning,
            code,
            field: None,
            value: None,
            message: message.into(),
            resolution: resolution.into(),
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>, resolution: impl Into<String>) -> Self {
        Message { level: Level::Error, ..Message::warning(code, message, resolution) }
    }

    pub fn field(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        self.field = Some(key.into());
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}
