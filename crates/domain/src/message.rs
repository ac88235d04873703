//! Line messages: what is wrong with a cell or a row, in the user's words, with a stable code
//! and how to fix it (SPEC §5). The same messages feed the CLI report, the API, the Bulk
//! Actions pages and the error-log CSV.
//!
//! [`CODES`] is the one table of stable codes. A reader writes its own message in the user's
//! words (naming the value, the options, a suggestion); the table holds each code's default
//! wording for help pages and for messages that have nothing more to say.

use std::borrow::Cow;

/// How serious a message is for its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        resolution: impl Into<String>,
    ) -> Self {
        Message {
            level: Level::Warning,
            code,
            field: None,
            value: None,
            message: message.into(),
            resolution: resolution.into(),
        }
    }

    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        resolution: impl Into<String>,
    ) -> Self {
        Message {
            level: Level::Error,
            ..Message::warning(code, message, resolution)
        }
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

/// Looks a stable code up in [`CODES`].
///
/// ```
/// let info = domain::message::code_info("row.no_identifier").unwrap();
/// assert_eq!(info.message, "Row needs at least one of First Name, Email or Phone");
/// assert!(domain::message::code_info("no.such_code").is_none());
/// ```
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

impl Message {
    /// A message with its code's default level, message and resolution from [`CODES`].
    /// Readers that can say more (the value, the options, a suggestion) write their own
    /// message with [`Message::warning`] instead.
    ///
    /// # Panics
    /// When `code` is not in [`CODES`] — a programming error that the tests catch.
    pub fn from_code(code: &'static str) -> Message {
        let info =
            code_info(code).unwrap_or_else(|| panic!("message code {code:?} is not in CODES"));
        Message {
            level: info.level,
            ..Message::warning(code, info.message, info.resolution)
        }
    }
}

/// One stable message code with its default wording: the row of the shared table (SPEC §5)
/// that the UI, the API, the CLI report and the error-log CSV all show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CodeInfo {
    /// Stable code, `area.problem`; never renamed once released (scripts and saved
    /// error logs rely on it).
    pub code: &'static str,
    /// The level a line gets from this message.
    pub level: Level,
    /// The SPEC section that defines the rule.
    pub spec: &'static str,
    /// What is wrong, in general terms (a reader's own message may name the value).
    pub message: &'static str,
    /// How to fix it.
    pub resolution: &'static str,
}

/// The stable codes as constants, so a typo is a compile error rather than a new code.
/// Every constant here has its row in [`CODES`] (a test checks it).
pub mod code {
    // Files and rows (SPEC §4, §6.2) — written by `tabular` and `engine`.
    pub const ROW_NO_IDENTIFIER: &str = "row.no_identifier";
    pub const ROW_UNIQUE_IDENTIFIER_REQUIRED: &str = "row.unique_identifier_required";
    pub const ROW_EXTRA_CELLS: &str = "row.extra_cells";
    pub const ENCODING_INVALID_BYTE: &str = "encoding.invalid_byte";
    pub const CELL_NUL_REMOVED: &str = "cell.nul_removed";
    // Matching and updating (SPEC §6.3–§6.5) — written by `engine`.
    pub const CONTACT_UNKNOWN_ID: &str = "contact.unknown_id";
    pub const MATCH_EXISTING_NOT_UPDATED: &str = "match.existing_not_updated";
    pub const MATCH_NO_EXISTING: &str = "match.no_existing";
    pub const MATCH_MERGED_EARLIER_LINE: &str = "match.merged_earlier_line";
    pub const MATCH_PHONE_BELONGS_TO_OTHER: &str = "match.phone_belongs_to_other";
    pub const MATCH_EMAIL_BELONGS_TO_OTHER: &str = "match.email_belongs_to_other";
    pub const MATCH_SECOND_IDENTIFIER_OTHER_PERSON: &str = "match.second_identifier_other_person";
    pub const MATCH_SHARED_PHONE_SKIPPED: &str = "match.shared_phone_skipped";
    pub const CONTACT_TYPE_NO_DOWNGRADE: &str = "contact_type.no_downgrade";
    pub const OWNER_UNKNOWN: &str = "owner.unknown";
    // Companies and custom objects (SPEC §8) — written by `engine::records`.
    pub const RECORD_UNKNOWN_ID: &str = "record.unknown_id";
    pub const RECORD_PRIMARY_MISSING: &str = "record.primary_missing";
    pub const RECORD_REQUIRED_MISSING: &str = "record.required_missing";
    pub const RECORD_UNIQUE_CONFLICT: &str = "record.unique_conflict";
    pub const RECORD_EXISTING_NOT_UPDATED: &str = "record.existing_not_updated";
    pub const RECORD_NO_EXISTING: &str = "record.no_existing";
    pub const RECORD_MERGED_EARLIER_LINE: &str = "record.merged_earlier_line";
    pub const RECORD_BLANK_NOT_CLEARED: &str = "record.blank_not_cleared";
    // Opportunities (SPEC §7) — written by `engine::opportunities`.
    pub const OPPORTUNITY_UNKNOWN_ID: &str = "opportunity.unknown_id";
    pub const OPPORTUNITY_UNKNOWN_PIPELINE: &str = "opportunity.unknown_pipeline";
    pub const OPPORTUNITY_UNKNOWN_STAGE: &str = "opportunity.unknown_stage";
    pub const OPPORTUNITY_REQUIRED_MISSING: &str = "opportunity.required_missing";
    pub const OPPORTUNITY_EXISTING_NOT_UPDATED: &str = "opportunity.existing_not_updated";
    pub const OPPORTUNITY_NO_EXISTING: &str = "opportunity.no_existing";
    pub const OPPORTUNITY_BLANK_NOT_CLEARED: &str = "opportunity.blank_not_cleared";
    pub const OPPORTUNITY_CONTACT_NOT_FOUND: &str = "opportunity.contact_not_found";
    pub const OPPORTUNITY_NOT_WRITTEN: &str = "opportunity.not_written";
    // Cell values (SPEC §5) — written by `domain::value`.
    pub const TEXT_TRUNCATED: &str = "text.truncated";
    pub const NUMBER_INVALID: &str = "number.invalid";
    pub const NUMBER_LOCALE_FORMAT: &str = "number.locale_format";
    pub const MONEY_OTHER_CURRENCY: &str = "money.other_currency";
    pub const DATE_INVALID: &str = "date.invalid";
    pub const DATE_IMPOSSIBLE: &str = "date.impossible";
    /// Not a line's message: said once per date column, in the mapping and the report, when
    /// the column's values prove the other day/month order (SPEC §5.3).
    pub const DATE_ORDER_FROM_FILE: &str = "date.order_from_file";
    pub const BOOLEAN_INVALID: &str = "boolean.invalid";
    pub const COUNTRY_UNKNOWN: &str = "country.unknown";
    pub const COUNTRY_NOT_EXACT: &str = "country.not_exact";
    pub const TIMEZONE_UNKNOWN: &str = "timezone.unknown";
    pub const TIMEZONE_NOT_EXACT: &str = "timezone.not_exact";
    pub const EMAIL_INVALID: &str = "email.invalid";
    pub const OPTION_UNKNOWN: &str = "option.unknown";
    pub const OPTION_MULTIPLE: &str = "option.multiple";
    // Phones (SPEC §5.10) — PROVISIONAL: `value::phone` is written by another engineer, who
    // reports the final list; these rows are placeholders until then.
    pub const PHONE_INVALID: &str = "phone.invalid";
    pub const PHONE_LETTERS: &str = "phone.letters";
    pub const PHONE_SCIENTIFIC: &str = "phone.scientific";
    pub const PHONE_TOO_SHORT: &str = "phone.too_short";
    pub const PHONE_TOO_LONG: &str = "phone.too_long";
    pub const PHONE_UNKNOWN_COUNTRY_CODE: &str = "phone.unknown_country_code";
    pub const PHONE_INVALID_FOR_REGION: &str = "phone.invalid_for_region";
}

const fn w(
    code: &'static str,
    spec: &'static str,
    message: &'static str,
    resolution: &'static str,
) -> CodeInfo {
    CodeInfo {
        code,
        level: Level::Warning,
        spec,
        message,
        resolution,
    }
}

const fn e(
    code: &'static str,
    spec: &'static str,
    message: &'static str,
    resolution: &'static str,
) -> CodeInfo {
    CodeInfo {
        code,
        level: Level::Error,
        spec,
        message,
        resolution,
    }
}

/// Every stable message code, its level, its default message and how to fix it (SPEC §5:
/// "documented in one table that the UI, API, CLI and error logs share"). Grouped by area;
/// the order is the order a help page lists them in.
pub const CODES: &[CodeInfo] = &[
    // ---- Files and rows -------------------------------------------------------------------
    e(
        code::ROW_NO_IDENTIFIER,
        "§6.2",
        "Row needs at least one of First Name, Email or Phone",
        "Fill in a First Name, an Email or a Phone for this row, or check that those columns are mapped.",
    ),
    e(
        code::ROW_UNIQUE_IDENTIFIER_REQUIRED,
        "§6.2",
        "This location requires an Email or a Phone to create a contact",
        "Add an Email or a Phone to this row.",
    ),
    w(
        code::ROW_EXTRA_CELLS,
        "§4",
        "The row has more cells than the header; the extra cells were not imported",
        "Give the extra values a header, or remove them (a stray comma or delimiter often causes this).",
    ),
    w(
        code::ENCODING_INVALID_BYTE,
        "§4",
        "The cell holds bytes that are not valid UTF-8, so it was left out",
        "Save the file as CSV UTF-8 and import it again.",
    ),
    w(
        code::CELL_NUL_REMOVED,
        "§4",
        "NUL characters were removed from the value",
        "Nothing to do if the value looks right; otherwise fix it in the source system and export again.",
    ),
    // ---- Matching and updating ----------------------------------------------------------
    e(
        code::CONTACT_UNKNOWN_ID,
        "§6.4",
        "No contact of this location has this Contact ID",
        "Use the Contact ID of an existing contact, or clear the cell to match by email or phone.",
    ),
    w(
        code::MATCH_EXISTING_NOT_UPDATED,
        "§6.3",
        "Existing contact; not updated in Add New mode",
        "Choose Add New and Update Existing to update existing contacts.",
    ),
    w(
        code::MATCH_NO_EXISTING,
        "§6.3",
        "No existing contact matches; skipped in Update Existing mode",
        "Choose Add New and Update Existing to create contacts that do not exist yet.",
    ),
    w(
        code::MATCH_MERGED_EARLIER_LINE,
        "§6.4",
        "Same contact as an earlier line of this file; merged into it",
        "Nothing to do if both lines are the same person; otherwise give them different emails and phones.",
    ),
    w(
        code::MATCH_PHONE_BELONGS_TO_OTHER,
        "§6.4",
        "The phone belongs to another contact, so it was not applied",
        "Two contacts cannot share a primary phone: put it under Additional Phone Numbers, or fix the other contact.",
    ),
    w(
        code::MATCH_EMAIL_BELONGS_TO_OTHER,
        "§6.4",
        "The email belongs to another contact, so it was not applied",
        "Two contacts cannot share a primary email: put it under Additional Emails, or fix the other contact.",
    ),
    w(
        code::MATCH_SECOND_IDENTIFIER_OTHER_PERSON,
        "§6.4",
        "Another contact already has this value but a different email or phone, so this row was kept as a separate person and the value was left off",
        "Nothing to do if they are different people (family members often share a phone). If they are the same person, give both the same email and phone, then import again.",
    ),
    w(
        code::MATCH_SHARED_PHONE_SKIPPED,
        "§6.4",
        "Matched an existing contact through a shared phone; skipped as asked",
        "Turn off \"Skip existing contacts that share the primary phone\" to update such contacts.",
    ),
    w(
        code::CONTACT_TYPE_NO_DOWNGRADE,
        "§6.5",
        "A Patient is not changed back to a Lead by an import",
        "Change the Type of Contact by hand if this contact really is a Lead again.",
    ),
    // ---- Companies and custom objects ----------------------------------------------------
    e(
        code::RECORD_UNKNOWN_ID,
        "§8",
        "No record of this object has this Record ID",
        "Use the Record ID of an existing record, or clear the cell to match by the dedupe field. Importing a file exported from another location? Leave its Record ID column unmapped.",
    ),
    e(
        code::RECORD_PRIMARY_MISSING,
        "§8",
        "A new record needs its primary field, and this row gives none",
        "Fill in the primary field (Company Name, or the custom object's) for this row.",
    ),
    e(
        code::RECORD_REQUIRED_MISSING,
        "§8",
        "A required field is blank, so the record cannot be created",
        "Fill in every required field for this row.",
    ),
    e(
        code::RECORD_UNIQUE_CONFLICT,
        "§8",
        "Another record already has this value of a unique field",
        "Give this row another value, or update the other record instead (map its Record ID).",
    ),
    w(
        code::RECORD_EXISTING_NOT_UPDATED,
        "§8",
        "Existing record; not updated in Create mode",
        "Choose Create & Update to update existing records.",
    ),
    w(
        code::RECORD_NO_EXISTING,
        "§8",
        "No existing record matches; skipped in Update mode",
        "Choose Create & Update to create records that do not exist yet.",
    ),
    w(
        code::RECORD_MERGED_EARLIER_LINE,
        "§8",
        "Same record as an earlier line of this file; merged into it",
        "Nothing to do if both lines are the same record; otherwise give them different values of the dedupe field.",
    ),
    w(
        code::RECORD_BLANK_NOT_CLEARED,
        "§8",
        "The cell is blank, but this field is never emptied by an import; the cell was ignored",
        "Nothing to do if the record's value is right; otherwise give the value to change it to.",
    ),
    // ---- Opportunities ---------------------------------------------------------------------
    e(
        code::OPPORTUNITY_UNKNOWN_ID,
        "§7",
        "No opportunity of this location has this Opportunity ID",
        "Use the Opportunity ID of an existing opportunity, or clear the cell to create a new one. Importing a file exported from another location? Leave its Opportunity ID column unmapped.",
    ),
    e(
        code::OPPORTUNITY_UNKNOWN_PIPELINE,
        "§7",
        "No pipeline of this location has this name",
        "Use the name of one of the location's pipelines (Settings → Pipelines), or create the pipeline first.",
    ),
    e(
        code::OPPORTUNITY_UNKNOWN_STAGE,
        "§7",
        "The pipeline has no stage of this name",
        "Use the name of one of the pipeline's stages, or add the stage to the pipeline first.",
    ),
    e(
        code::OPPORTUNITY_REQUIRED_MISSING,
        "§7",
        "A new opportunity needs an Opportunity Name, a Pipeline and a Stage",
        "Fill in the Opportunity Name, Pipeline and Stage of this row.",
    ),
    w(
        code::OPPORTUNITY_EXISTING_NOT_UPDATED,
        "§7",
        "Existing opportunity; not updated in Add New mode",
        "Choose Add New and Update Existing to update existing opportunities.",
    ),
    w(
        code::OPPORTUNITY_NO_EXISTING,
        "§7",
        "No Opportunity ID on this row; no opportunity created in Update mode",
        "Give the Opportunity ID of the opportunity to update, or choose Add New and Update Existing to create it.",
    ),
    w(
        code::OPPORTUNITY_BLANK_NOT_CLEARED,
        "§7",
        "The cell is blank, but this opportunity field is never emptied by an import; the cell was ignored",
        "Nothing to do if the opportunity's value is right; otherwise give the value to change it to.",
    ),
    w(
        code::OPPORTUNITY_CONTACT_NOT_FOUND,
        "§7",
        "No contact matches this row's Contact ID, email or phone; the opportunity was created without a contact",
        "Import the contact first (or re-import with --with-contacts), or correct the row's Contact ID, email or phone.",
    ),
    w(
        code::OPPORTUNITY_NOT_WRITTEN,
        "§7",
        "The contact was written, but the opportunity of this row was not",
        "See the opportunity's message on this line; fix the row and import it again with Add New and Update Existing.",
    ),
    w(
        code::OWNER_UNKNOWN,
        "§5.5",
        "No user of this location has this email or full name",
        "Use the email or full name of a user of this location, or invite the user first.",
    ),
    // ---- Cell values ---------------------------------------------------------------------
    w(
        code::TEXT_TRUNCATED,
        "§5.1, §5.9",
        "The text is longer than the field allows; only its beginning was kept",
        "Shorten the value: text fields hold 255 characters, large text and notes 5,000.",
    ),
    w(
        code::NUMBER_INVALID,
        "§5.2",
        "Not a number",
        "Write the number with digits, an optional minus sign and a decimal point, such as 1234, -12.5 or 1,234.56.",
    ),
    w(
        code::NUMBER_LOCALE_FORMAT,
        "§5.2",
        "The number is written in another locale's format, so it was not read",
        "Use a point for decimals and commas only between groups of three digits, such as 1,234.56.",
    ),
    w(
        code::MONEY_OTHER_CURRENCY,
        "§5.2",
        "The amount is in a currency other than the location's, so it was not read",
        "Convert the amount to the location's currency and write it without the other currency's symbol or code.",
    ),
    w(
        code::DATE_INVALID,
        "§5.3",
        "Not a date in an accepted format",
        "Use YYYY-MM-DD, such as 2024-01-02; MM/DD/YYYY (DD/MM/YYYY where the location reads days first) and Jan 2, 2024 also work.",
    ),
    w(
        code::DATE_IMPOSSIBLE,
        "§5.3",
        "The date does not exist in the calendar",
        "Check the day and the month: the location's date order decides which comes first.",
    ),
    w(
        code::DATE_ORDER_FROM_FILE,
        "§5.3",
        "The column's dates are read in the other day/month order, as its values show",
        "Nothing to do if the dates look right; otherwise choose the order beside the column (CLI: --date-order MDY or DMY).",
    ),
    w(
        code::BOOLEAN_INVALID,
        "§5.6",
        "Not a yes/no value",
        "Use true, yes, y, 1, dnd or on to turn it on; false, no, n, 0 or off to turn it off.",
    ),
    w(
        code::COUNTRY_UNKNOWN,
        "§5.7",
        "Not a country name or ISO 3166-1 alpha-2 code",
        "Use the country's name, such as United States, or its two-letter code, such as US.",
    ),
    w(
        code::COUNTRY_NOT_EXACT,
        "§5.7",
        "The country is not written exactly as the accepted list writes it",
        "Use the suggested name or code exactly as written (capital letters included).",
    ),
    w(
        code::TIMEZONE_UNKNOWN,
        "§5.8",
        "Not a time zone name of the tz database",
        "Use an IANA time zone name such as America/New_York or Europe/London.",
    ),
    w(
        code::TIMEZONE_NOT_EXACT,
        "§5.8",
        "The time zone is not written exactly as the tz database writes it",
        "Use the suggested name exactly as written (capital letters included).",
    ),
    w(
        code::EMAIL_INVALID,
        "§5.11",
        "Not a valid email address",
        "Use an address such as name@example.com, with no spaces and one @.",
    ),
    w(
        code::OPTION_UNKNOWN,
        "§5.12",
        "The value is not one of the field's options",
        "Use one of the field's options, map the value to an option in the mapping step, or add the option to the field.",
    ),
    w(
        code::OPTION_MULTIPLE,
        "§5.12",
        "The field takes one option, but the cell holds several",
        "Keep only one of the values.",
    ),
    // ---- Phones: PROVISIONAL until `value::phone` reports its codes -----------------------
    // Wording follows `value::phone::CODES` as of this commit; its owner confirms or replaces
    // these rows (SPEC §5.10).
    w(
        code::PHONE_INVALID,
        "§5.10",
        "The cell is not a phone number (no digits, or characters that are not part of one)",
        "Write the number with its country code, like +12015550123.",
    ),
    w(
        code::PHONE_LETTERS,
        "§5.10",
        "The number contains letters (a vanity number such as 1-800-FLOWERS, or a label); letters are not converted",
        "Write the number with digits only, with its country code, like +12015550123.",
    ),
    w(
        code::PHONE_SCIENTIFIC,
        "§5.10",
        "The number is in scientific notation (2.01555E+09): a spreadsheet stored it as a number and lost digits",
        "Format the column as Text in the spreadsheet, type the numbers again with their country code (like +12015550123) and export the file again.",
    ),
    w(
        code::PHONE_TOO_SHORT,
        "§5.10",
        "The number has too few digits for its country (often a missing area code)",
        "Add the missing digits (often the area code), and write the number with its country code, like +12015550123.",
    ),
    w(
        code::PHONE_TOO_LONG,
        "§5.10",
        "The number has too many digits for its country (often two numbers in one cell)",
        "Remove the extra digits (put a second number under Additional Phone Numbers; write an extension as x12), and write the number with its country code, like +12015550123.",
    ),
    w(
        code::PHONE_UNKNOWN_COUNTRY_CODE,
        "§5.10",
        "The number's country code is unknown, or it has none and its country has no numbering plan",
        "Check or add the country code: write the number like +12015550123.",
    ),
    w(
        code::PHONE_INVALID_FOR_REGION,
        "§5.10",
        "The number has a possible length but is not a valid number of its country",
        "Check the number and the Country column, and write the number with its country code, like +12015550123.",
    ),
];

#[cfg(test)]
mod tests;
