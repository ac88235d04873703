//! Matching and merging a chunk of rows against what exists (SPEC §6.2–§6.5).
//!
//! Pure: the caller looks the chunk's identifiers up in one batch and passes the contacts it
//! found (plus, for those this import already touched, the line that did); [`plan_chunk`]
//! decides every line in file order against that snapshot and what earlier lines of the chunk
//! did, and returns the contacts to write and one result per line.

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::MatchOrder;
use domain::message::{Level, Message, code};
use domain::value::{email_match_key, tag_key};

use crate::record::{ContactInput, primary_of};

pub use domain::job::{LineAction as Action, LineStatus, Mode};

/// The rules of one import (SPEC §6.3–§6.5), explicit rather than boolean parameters.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    pub mode: Mode,
    pub match_order: MatchOrder,
    /// "Don't update empty values": blanks leave existing data alone.
    pub no_update_empty: bool,
    /// Field keys written only where the contact's field is blank.
    pub fill_only: HashSet<String>,
    /// Skip rows matched through their phone to a contact that existed before the import.
    pub skip_existing_phone: bool,
    /// The location requires an email or phone to create a contact (SPEC §2, §6.2).
    pub require_unique_identifier: bool,
}

/// A contact as stored, with what this import already did to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    pub id: i64,
    /// Scalar fields by key, in their stored text form; blank fields are absent.
    pub values: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub additional_emails: Vec<String>,
    pub additional_phones: Vec<String>,
    /// The line of this import that last created or updated it.
    pub touched_line: Option<u64>,
    /// Whether this import created it (else it existed before).
    pub created_by_import: bool,
}

/// A contact the chunk writes: created (`id` is `None`) or updated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    pub id: Option<i64>,
    /// Values before this chunk (updates only), for the journal.
    pub before: Option<BTreeMap<String, String>>,
    pub values: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub new_tags: Vec<String>,
    pub additional_emails: Vec<String>,
    pub new_emails: Vec<String>,
    pub additional_phones: Vec<String>,
    pub new_phones: Vec<String>,
    /// Notes to add, with their lines.
    pub notes: Vec<(u64, String)>,
    pub touched_line: Option<u64>,
    pub created_by_import: bool,
    /// First line of this chunk that touched it.
    pub first_line: u64,
    /// Whether this chunk changed it at all (untouched snapshot entries are not written).
    pub touched: bool,
}

/// The result of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub line: u64,
    pub status: LineStatus,
    pub action: Action,
    /// Index into [`ChunkPlan::contacts`] of the contact written or matched.
    pub contact: Option<usize>,
    pub primary: Option<String>,
    pub messages: Vec<Message>,
}

/// What a chunk decided.
#[derive(Debug, Clone, Default)]
pub struct ChunkPlan {
    /// Every contact of the snapshot plus those created; write those with `touched`.
    pub contacts: Vec<Planned>,
    pub lines: Vec<LineResult>,
}

const DND_CHANNELS: [&str; 4] = ["dnd_sms", "dnd_email", "dnd_calls", "dnd_voicemail"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Id,
    Email,
    Phone,
}

struct Working {
    contacts: Vec<Planned>,
    by_id: HashMap<i64, usize>,
    by_email: HashMap<String, usize>,
    by_phone: HashMap<String, usize>,
}

impl Working {
    fn index(&mut self, i: usize) {
        let c = &self.contacts[i];
        if let Some(id) = c.id {
            self.by_id.insert(id, i);
        }
        if let Some(e) = c.values.get("email") {
            self.by_email.insert(email_match_key(e), i);
        }
        if let Some(p) = c.values.get("phone") {
            self.by_phone.insert(p.clone(), i);
        }
    }

    fn unindex(&mut self, i: usize) {
        let c = &self.contacts[i];
        if let Some(e) = c.values.get("email") {
            let k = email_match_key(e);
            if self.by_email.get(&k) == Some(&i) {
                self.by_email.remove(&k);
            }
        }
        if let Some(p) = c.values.get("phone")
            && self.by_phone.get(p) == Some(&i)
        {
            self.by_phone.remove(p);
        }
    }

    fn describe(&self, i: usize) -> String {
        let c = &self.contacts[i];
        let who = primary_of(|k| c.values.get(k).cloned()).unwrap_or_else(|| "a contact".into());
        match c.id {
            Some(id) if id > 0 => format!("{who} (contact {id})"),
            _ => who,
        }
    }
}

fn naming(code: &'static str, who: String) -> Message {
    let mut m = Message::from_code(code);
    m.message = format!("{} — {who}", m.message.trim_end_matches('.'));
    m
}

/// Decides every line of a chunk, in file order (see the module docs).
pub fn plan_chunk(
    inputs: Vec<ContactInput>,
    snapshot: Vec<Existing>,
    opts: &MatchOptions,
) -> ChunkPlan {
    let mut w = Working {
        contacts: Vec::new(),
        by_id: HashMap::new(),
        by_email: HashMap::new(),
        by_phone: HashMap::new(),
    };
    for e in snapshot {
        let i = w.contacts.len();
        w.contacts.push(Planned {
            id: Some(e.id),
            before: None,
            values: e.values,
            tags: e.tags,
            additional_emails: e.additional_emails,
            additional_phones: e.additional_phones,
            touched_line: e.touched_line,
            created_by_import: e.created_by_import,
            ..Planned::default()
        });
        w.index(i);
    }
    let mut lines = Vec::with_capacity(inputs.len());
    for input in inputs {
        lines.push(plan_line(&mut w, input, opts));
    }
    ChunkPlan {
        contacts: w.contacts,
        lines,
    }
}

fn result(
    input: &ContactInput,
    action: Action,
    contact: Option<usize>,
    primary: Option<String>,
    messages: Vec<Message>,
) -> LineResult {
    let status = if messages.iter().any(|m| m.level == Level::Error) {
        LineStatus::Error
    } else if messages.is_empty() {
        LineStatus::Success
    } else {
        LineStatus::Warning
    };
    LineResult {
        line: input.line,
        status,
        action,
        contact,
        primary,
        messages,
    }
}

fn plan_line(w: &mut Working, mut input: ContactInput, opts: &MatchOptions) -> LineResult {
    let mut msgs = std::mem::take(&mut input.messages);
    if msgs.iter().any(|m| m.level == Level::Error) {
        return result(&input, Action::None, None, input.primary(), msgs);
    }
    let email_key = input.value("email").map(email_match_key);
    let phone = input.value("phone").map(str::to_string);
    let lookup_email = |w: &Working| email_key.as_ref().and_then(|k| w.by_email.get(k).copied());
    let lookup_phone = |w: &Working| phone.as_ref().and_then(|p| w.by_phone.get(p).copied());

    let mut matched: Option<(usize, Via)> = None;
    if let Some(raw_id) = input.contact_id.clone() {
        match raw_id
            .parse::<i64>()
            .ok()
            .and_then(|id| w.by_id.get(&id).copied())
        {
            Some(i) => matched = Some((i, Via::Id)),
            None => {
                msgs.push(
                    Message::from_code(code::CONTACT_UNKNOWN_ID)
                        .field("contact_id")
                        .value(raw_id),
                );
                return result(&input, Action::None, None, input.primary(), msgs);
            }
        }
    } else {
        let (first, second) = match opts.match_order {
            MatchOrder::EmailFirst => (
                (lookup_email(w), Via::Email, "email"),
                (lookup_phone(w), Via::Phone, "phone"),
            ),
            MatchOrder::PhoneFirst => (
                (lookup_phone(w), Via::Phone, "phone"),
                (lookup_email(w), Via::Email, "email"),
            ),
        };
        if let Some(i) = first.0 {
            matched = Some((i, first.1));
        } else if let Some(i) = second.0 {
            let row_has_first = input.value(first.2).is_some();
            let contact_has_first = w.contacts[i].values.contains_key(first.2);
            if !row_has_first || !contact_has_first {
                matched = Some((i, second.1));
            } else {
                // Two people, one phone (or email): a different person; the shared value is
                // not applied (SPEC §6.4).
                drop_identifier(&mut input, second.2);
                msgs.push(
                    naming(code::MATCH_SECOND_IDENTIFIER_OTHER_PERSON, w.describe(i))
                        .field(second.2),
                );
            }
        }
    }

    let Some((i, via)) = matched else {
        if opts.mode == Mode::Update {
            msgs.push(Message::from_code(code::MATCH_NO_EXISTING));
            return result(&input, Action::Skipped, None, input.primary(), msgs);
        }
        if opts.require_unique_identifier
            && input.value("email").is_none()
            && input.value("phone").is_none()
        {
            msgs.push(Message::from_code(code::ROW_UNIQUE_IDENTIFIER_REQUIRED));
            return result(&input, Action::None, None, input.primary(), msgs);
        }
        let i = create(w, &input);
        let primary = primary_of(|k| w.contacts[i].values.get(k).cloned());
        return result(&input, Action::Created, Some(i), primary, msgs);
    };

    // The row's other identifier may belong to someone else: that value is not applied.
    if via != Via::Email
        && let Some(j) = lookup_email(w).filter(|j| *j != i)
    {
        drop_identifier(&mut input, "email");
        msgs.push(naming(code::MATCH_EMAIL_BELONGS_TO_OTHER, w.describe(j)).field("email"));
    }
    if via != Via::Phone
        && let Some(j) = lookup_phone(w).filter(|j| *j != i)
    {
        drop_identifier(&mut input, "phone");
        msgs.push(naming(code::MATCH_PHONE_BELONGS_TO_OTHER, w.describe(j)).field("phone"));
    }

    let contact = &w.contacts[i];
    if let Some(earlier) = contact.touched_line {
        let mut m = Message::from_code(code::MATCH_MERGED_EARLIER_LINE);
        m.message = format!("{} (line {earlier})", m.message.trim_end_matches('.'));
        msgs.push(m);
    } else if opts.skip_existing_phone && via == Via::Phone && !contact.created_by_import {
        msgs.push(naming(code::MATCH_SHARED_PHONE_SKIPPED, w.describe(i)));
        let primary = primary_of(|k| w.contacts[i].values.get(k).cloned());
        return result(&input, Action::Skipped, Some(i), primary, msgs);
    } else if opts.mode == Mode::Create {
        msgs.push(Message::from_code(code::MATCH_EXISTING_NOT_UPDATED));
        let primary = primary_of(|k| w.contacts[i].values.get(k).cloned());
        return result(&input, Action::Skipped, Some(i), primary, msgs);
    }
    update(w, i, &input, opts, &mut msgs);
    let primary = primary_of(|k| w.contacts[i].values.get(k).cloned());
    let action = Action::Updated;
    result(&input, action, Some(i), primary, msgs)
}

fn drop_identifier(input: &mut ContactInput, key: &str) {
    input.values.remove(key);
    if key == "phone" {
        input.values.remove("phone_extension");
    }
}

fn create(w: &mut Working, input: &ContactInput) -> usize {
    let mut values = BTreeMap::new();
    for ch in DND_CHANNELS {
        values.insert(ch.to_string(), input.dnd_all.unwrap_or(false).to_string());
    }
    for (k, v) in &input.values {
        if let Some(v) = v {
            values.insert(k.clone(), v.clone());
        }
    }
    let emails: Vec<String> = dedupe_list(&[], &input.additional_emails, values.get("email"), true);
    let phones: Vec<String> =
        dedupe_list(&[], &input.additional_phones, values.get("phone"), false);
    let i = w.contacts.len();
    w.contacts.push(Planned {
        id: None,
        before: None,
        values,
        tags: input.tags.clone(),
        new_tags: input.tags.clone(),
        additional_emails: emails.clone(),
        new_emails: emails,
        additional_phones: phones.clone(),
        new_phones: phones,
        notes: input.note.iter().map(|n| (input.line, n.clone())).collect(),
        touched_line: Some(input.line),
        created_by_import: true,
        first_line: input.line,
        touched: true,
    });
    w.index(i);
    i
}

/// The values of `incoming` not already in `existing` (nor equal to the primary), in order.
fn dedupe_list(
    existing: &[String],
    incoming: &[String],
    primary: Option<&String>,
    emails: bool,
) -> Vec<String> {
    let key = |s: &str| {
        if emails {
            email_match_key(s)
        } else {
            s.to_string()
        }
    };
    let mut seen: HashSet<String> = existing.iter().map(|s| key(s)).collect();
    if let Some(p) = primary {
        seen.insert(key(p));
    }
    incoming
        .iter()
        .filter(|v| seen.insert(key(v)))
        .cloned()
        .collect()
}

fn update(
    w: &mut Working,
    i: usize,
    input: &ContactInput,
    opts: &MatchOptions,
    msgs: &mut Vec<Message>,
) {
    w.unindex(i);
    let c = &mut w.contacts[i];
    if !c.touched {
        c.before = Some(c.values.clone());
        c.first_line = input.line;
        c.touched = true;
    }
    if let Some(all) = input.dnd_all {
        for ch in DND_CHANNELS {
            c.values.insert(ch.to_string(), all.to_string());
        }
    }
    let phone_before = c.values.get("phone").cloned();
    // A promoted value (the row's first additional email or phone, its primary cell blank)
    // never replaces the contact's primary: it stays an additional value.
    let mut extra_emails: Vec<String> = Vec::new();
    let mut extra_phones: Vec<String> = Vec::new();
    for (k, v) in &input.values {
        match v {
            Some(v) => {
                if opts.fill_only.contains(k) && c.values.contains_key(k) {
                    continue;
                }
                if input.promoted.contains(&k.as_str()) && c.values.contains_key(k) {
                    if k == "email" {
                        extra_emails.push(v.clone());
                    } else {
                        extra_phones.push(v.clone());
                    }
                    continue;
                }
                if k == "contact_type"
                    && v == "Lead"
                    && c.values.get(k).map(String::as_str) == Some("Patient")
                {
                    msgs.push(
                        Message::from_code(code::CONTACT_TYPE_NO_DOWNGRADE)
                            .field("contact_type")
                            .value(v.clone()),
                    );
                    continue;
                }
                c.values.insert(k.clone(), v.clone());
            }
            None => {
                // Fields a blank never changes, whatever the options (SPEC §6.5).
                if domain::object::contact_standard().is_never_cleared(k)
                    || opts.no_update_empty
                    || opts.fill_only.contains(k)
                {
                    continue;
                }
                c.values.remove(k);
            }
        }
    }
    // A new number without an extension does not keep the old number's extension.
    if c.values.get("phone") != phone_before.as_ref()
        && !input.values.contains_key("phone_extension")
    {
        c.values.remove("phone_extension");
    }
    for tag in &input.tags {
        if !c.tags.iter().any(|t| tag_key(t) == tag_key(tag)) {
            c.tags.push(tag.clone());
            c.new_tags.push(tag.clone());
        }
    }
    extra_emails.extend(input.additional_emails.iter().cloned());
    extra_phones.extend(input.additional_phones.iter().cloned());
    let emails = dedupe_list(
        &c.additional_emails,
        &extra_emails,
        c.values.get("email"),
        true,
    );
    c.additional_emails.extend(emails.iter().cloned());
    c.new_emails.extend(emails);
    let phones = dedupe_list(
        &c.additional_phones,
        &extra_phones,
        c.values.get("phone"),
        false,
    );
    c.additional_phones.extend(phones.iter().cloned());
    c.new_phones.extend(phones);
    if let Some(n) = &input.note {
        c.notes.push((input.line, n.clone()));
    }
    c.touched_line = Some(input.line);
    w.index(i);
}

#[cfg(test)]
mod tests;
