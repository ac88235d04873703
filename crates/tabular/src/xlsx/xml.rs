//! One XML part of a workbook, read as a stream of `quick-xml` events straight from its
//! inflating zip member: text decoded (entities, character references, XML 1.0 line ends),
//! attributes found by name, elements skipped whole. Every failure is a refusal naming the
//! part.
//!
//! `quick-xml` buffers each event (a tag, a text run, a comment) whole, so the part is fed to
//! it through [`Limited`], which refuses to give it more than [`MAX_EVENT_BYTES`] for one
//! event: a 190 MB text node is refused, never buffered.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use quick_xml::Reader;
use quick_xml::escape::{resolve_xml_entity, unescape};
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::invalid;
use crate::Refusal;

/// The longest single piece of markup or text (a tag, a text run, a comment, a CDATA section)
/// a part may hold. Excel's longest cell (32,767 characters, each written as a character
/// reference) is a third of a MiB.
pub(crate) const MAX_EVENT_BYTES: u64 = 8 << 20;

/// A part being read: its name (for messages), the reader and its event buffer.
pub(crate) struct Part<R: BufRead> {
    name: String,
    reader: Reader<Limited<R>>,
    buf: Vec<u8>,
}

impl<R: BufRead> Part<R> {
    pub(crate) fn new(name: &str, source: R) -> Part<R> {
        let mut reader = Reader::from_reader(Limited {
            inner: source,
            taken: 0,
        });
        let config = reader.config_mut();
        // `<c/>` reads as `<c></c>`: one code path for both.
        config.expand_empty_elements = true;
        config.check_end_names = false;
        config.check_comments = false;
        config.trim_text(false);
        Part {
            name: name.to_owned(),
            reader,
            buf: Vec::with_capacity(1024),
        }
    }

    /// The next event; the end of the part is [`Event::Eof`].
    pub(crate) fn next(&mut self) -> Result<Event<'_>, Refusal> {
        read(&self.name, &mut self.reader, &mut self.buf)
    }

    /// After a start tag: reads to its end tag, whatever it holds.
    pub(crate) fn skip(&mut self) -> Result<(), Refusal> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => depth -= 1,
                Event::Eof => return Err(self.truncated()),
                _ => {}
            }
        }
        Ok(())
    }

    /// After a start tag: appends its text to `out` and reads to its end tag. Text inside a
    /// nested element counts too (it has none in the elements read this way).
    pub(crate) fn text_into(&mut self, out: &mut String) -> Result<(), Refusal> {
        let mut depth = 1usize;
        while depth > 0 {
            let name = &self.name;
            match read(name, &mut self.reader, &mut self.buf)? {
                Event::Start(_) => depth += 1,
                Event::End(_) => depth -= 1,
                Event::Text(t) => out.push_str(&t.xml10_content().map_err(|e| bad(name, e))?),
                Event::CData(t) => out.push_str(&t.xml10_content().map_err(|e| bad(name, e))?),
                Event::GeneralRef(r) => push_reference(name, &r, out)?,
                Event::Eof => return Err(self.truncated()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The part ended inside an element.
    pub(crate) fn truncated(&self) -> Refusal {
        invalid(format!("{}: the part ends inside an element", self.name))
    }

    /// A refusal about this part.
    pub(crate) fn refuse(&self, what: impl std::fmt::Display) -> Refusal {
        invalid(format!("{}: {what}", self.name))
    }
}

/// Reads one event into `buf`, allowing it [`MAX_EVENT_BYTES`].
fn read<'b, R: BufRead>(
    name: &str,
    reader: &mut Reader<Limited<R>>,
    buf: &'b mut Vec<u8>,
) -> Result<Event<'b>, Refusal> {
    buf.clear();
    reader.get_mut().taken = 0;
    reader.read_event_into(buf).map_err(|e| {
        if reader.get_ref().taken > MAX_EVENT_BYTES {
            bad(
                name,
                format_args!("one piece of markup or text is longer than {MAX_EVENT_BYTES} bytes"),
            )
        } else {
            bad(name, e)
        }
    })
}

/// The part's bytes as `quick-xml` takes them, counted since the current event began: past
/// [`MAX_EVENT_BYTES`], reading fails.
pub(crate) struct Limited<R> {
    inner: R,
    taken: u64,
}

impl<R: BufRead> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::decode::read_buffered(self, buf)
    }
}

impl<R: BufRead> BufRead for Limited<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // One byte past the limit is allowed, to tell "exactly the limit" from "longer".
        let allowed = (MAX_EVENT_BYTES + 1).saturating_sub(self.taken);
        if allowed == 0 {
            return Err(too_long());
        }
        let available = self.inner.fill_buf()?;
        Ok(&available[..available
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX))])
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.taken += n as u64;
        self.inner.consume(n);
    }
}

#[cold]
#[inline(never)]
fn too_long() -> io::Error {
    io::Error::other("one piece of markup or text is too long")
}

fn bad(part: &str, e: impl std::fmt::Display) -> Refusal {
    invalid(format!("{part}: {e}"))
}

/// Appends what `&name;` or `&#N;` stands for; any other entity is refused (no DTD declares
/// one: the pre-scan refused those).
fn push_reference(part: &str, reference: &BytesRef<'_>, out: &mut String) -> Result<(), Refusal> {
    let name = reference.decode().map_err(|e| bad(part, e))?;
    if let Some(text) = resolve_xml_entity(&name) {
        out.push_str(text);
        return Ok(());
    }
    match reference.resolve_char_ref().map_err(|e| bad(part, e))? {
        Some(c) => {
            out.push(c);
            Ok(())
        }
        None => Err(bad(part, format_args!("unknown entity &{name};"))),
    }
}

/// The raw (still escaped) values of the attributes named in `names`, by qualified name or by
/// local name (`r:id` answers to `id`). A malformed attribute ends the list.
pub(crate) fn attributes<'e, const N: usize>(
    element: &'e BytesStart<'_>,
    names: [&[u8]; N],
) -> [Option<&'e [u8]>; N] {
    let raw = element.attributes_raw();
    let mut found = [None; N];
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while raw.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        let start = i;
        while raw
            .get(i)
            .is_some_and(|b| *b != b'=' && !b.is_ascii_whitespace())
        {
            i += 1;
        }
        let key = &raw[start..i];
        skip_space(&mut i);
        if raw.get(i) != Some(&b'=') {
            return found;
        }
        i += 1;
        skip_space(&mut i);
        let Some(&quote @ (b'"' | b'\'')) = raw.get(i) else {
            return found;
        };
        let Some(length) = memchr::memchr(quote, &raw[i + 1..]) else {
            return found;
        };
        let value = &raw[i + 1..i + 1 + length];
        i += length + 2;
        let local = key
            .iter()
            .rposition(|&b| b == b':')
            .map_or(key, |colon| &key[colon + 1..]);
        for (slot, name) in found.iter_mut().zip(names) {
            if slot.is_none() && (key == name || local == name) {
                *slot = Some(value);
            }
        }
    }
}

/// An attribute's value as text, entities resolved.
pub(crate) fn attribute_text(value: &[u8]) -> Result<String, Refusal> {
    let text = std::str::from_utf8(value).map_err(|e| invalid(format!("an attribute: {e}")))?;
    unescape(text)
        .map(Cow::into_owned)
        .map_err(|e| invalid(format!("an attribute: {e}")))
}

/// An attribute holding a whole number (ASCII digits only).
pub(crate) fn attribute_number(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}
