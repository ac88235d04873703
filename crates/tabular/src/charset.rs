//! Deciding a text file's encoding, once per file, by SPEC §4's exact rule.
//!
//! A BOM decides (UTF-8, UTF-16LE, UTF-16BE). Without one: more than a quarter NUL bytes is
//! refused; the file is UTF-8 if it decodes cleanly, or if it holds at least one valid
//! multi-byte sequence and fewer invalid bytes than valid multi-byte sequences; otherwise it
//! is legacy — Mac Roman when its line ends are CR only, else chardetng's guess, refused when
//! that guess is a multi-byte encoding. This module only counts bytes; it never decodes a cell.

use std::io::{Read, Seek, SeekFrom};

use encoding_rs::{Encoding, MACINTOSH, UTF_8, UTF_16BE, UTF_16LE};

use crate::Refusal;

/// The encoding chosen for a file and the length of the BOM to skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Charset {
    pub(crate) encoding: &'static Encoding,
    pub(crate) bom_len: usize,
}

impl Charset {
    /// UTF-8 text is read as its bytes (cells holding an invalid byte are then left out);
    /// anything else goes through a decoder.
    pub(crate) fn is_utf8(&self) -> bool {
        self.encoding == UTF_8
    }
}

/// Byte counts gathered in one pass, enough to apply the rule.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) total: u64,
    pub(crate) nul: u64,
    /// Valid multi-byte UTF-8 sequences.
    pub(crate) multibyte: u64,
    /// Bytes that are not part of a valid UTF-8 sequence.
    pub(crate) invalid: u64,
    pub(crate) cr: bool,
    pub(crate) lf: bool,
}

/// Reads the whole file (a fixed buffer) and decides its encoding; leaves the reader at the
/// start.
pub(crate) fn decide<R: Read + Seek>(reader: &mut R) -> Result<Charset, Refusal> {
    reader.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 3];
    let n = crate::read_up_to(reader, &mut head)?;
    let head = &head[..n];
    if head.starts_with(&[0xFF, 0xFE]) {
        reader.seek(SeekFrom::Start(0))?;
        return Ok(Charset {
            encoding: UTF_16LE,
            bom_len: 2,
        });
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        reader.seek(SeekFrom::Start(0))?;
        return Ok(Charset {
            encoding: UTF_16BE,
            bom_len: 2,
        });
    }
    reader.seek(SeekFrom::Start(0))?;
    let stats = count(reader)?;
    let utf8_bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let decision = match rule(&stats, utf8_bom) {
        Decision::Decided(charset) => charset,
        Decision::Refused(refusal) => return Err(refusal),
        Decision::AskDetector => {
            reader.seek(SeekFrom::Start(0))?;
            let guess = detect(reader)?;
            if !guess.is_single_byte() {
                return Err(Refusal::MultiByteLegacy {
                    encoding: guess.name(),
                });
            }
            Charset {
                encoding: guess,
                bom_len: 0,
            }
        }
    };
    reader.seek(SeekFrom::Start(0))?;
    Ok(decision)
}

pub(crate) enum Decision {
    Decided(Charset),
    Refused(Refusal),
    AskDetector,
}

/// SPEC §4's rule over the counts (the UTF-16 BOMs are handled before counting).
pub(crate) fn rule(stats: &Stats, utf8_bom: bool) -> Decision {
    if stats.nul.saturating_mul(4) > stats.total {
        return Decision::Refused(Refusal::Binary);
    }
    let utf8 = |bom_len| {
        Decision::Decided(Charset {
            encoding: UTF_8,
            bom_len,
        })
    };
    if utf8_bom {
        return utf8(3);
    }
    if stats.invalid == 0 || (stats.multibyte >= 1 && stats.invalid < stats.multibyte) {
        return utf8(0);
    }
    if stats.cr && !stats.lf {
        return Decision::Decided(Charset {
            encoding: MACINTOSH,
            bom_len: 0,
        });
    }
    Decision::AskDetector
}

/// Counts NULs, line ends, valid multi-byte UTF-8 sequences and invalid bytes.
pub(crate) fn count(reader: &mut impl Read) -> Result<Stats, Refusal> {
    let mut stats = Stats::default();
    let mut buf = vec![0u8; 1 << 16];
    // Bytes of a sequence cut by the end of the previous read (at most 3).
    let mut carry = 0usize;
    loop {
        let n = crate::read_up_to(reader, &mut buf[carry..])?;
        let last = n == 0;
        let fresh = &buf[carry..carry + n];
        stats.total += n as u64;
        stats.nul += fresh.iter().filter(|&&b| b == 0).count() as u64;
        stats.cr |= fresh.contains(&b'\r');
        stats.lf |= fresh.contains(&b'\n');
        let data_len = carry + n;
        let tail = utf8_counts(&buf[..data_len], last, &mut stats);
        if last {
            return Ok(stats);
        }
        buf.copy_within(data_len - tail..data_len, 0);
        carry = tail;
    }
}

/// Adds the UTF-8 counts of `data` to `stats`; returns how many bytes at its end are an
/// incomplete sequence to retry with the next read (0 when `last`).
fn utf8_counts(data: &[u8], last: bool, stats: &mut Stats) -> usize {
    let mut rest = data;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                stats.multibyte += lead_bytes(s.as_bytes());
                return 0;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                stats.multibyte += lead_bytes(&rest[..valid]);
                match e.error_len() {
                    Some(bad) => {
                        stats.invalid += bad as u64;
                        rest = &rest[valid + bad..];
                    }
                    None if last => {
                        stats.invalid += (rest.len() - valid) as u64;
                        return 0;
                    }
                    None => return rest.len() - valid,
                }
            }
        }
    }
}

/// In valid UTF-8, every byte ≥ 0xC0 starts a multi-byte sequence.
fn lead_bytes(valid: &[u8]) -> u64 {
    valid.iter().filter(|&&b| b >= 0xC0).count() as u64
}

/// How much text chardetng is shown at most.
const DETECTOR_SAMPLE: usize = 512 * 1024;

/// chardetng's guess, UTF-8 excluded (the rule already said it is not). The detector sees
/// the lines that hold a non-ASCII byte, in file order, up to [`DETECTOR_SAMPLE`] bytes of
/// them: ASCII says nothing about which legacy encoding a file is in, and the detector costs
/// about a quarter of a microsecond a byte — a whole 30 MB file would take seconds.
fn detect(reader: &mut impl Read) -> Result<&'static Encoding, Refusal> {
    let mut detector = chardetng::EncodingDetector::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut fed = 0usize;
    while fed < DETECTOR_SAMPLE {
        let n = crate::read_up_to(reader, &mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        if chunk.is_ascii() {
            continue;
        }
        for line in chunk.split_inclusive(|&b| b == b'\n') {
            if !line.is_ascii() && fed < DETECTOR_SAMPLE {
                detector.feed(line, false);
                fed += line.len();
            }
        }
    }
    detector.feed(&[], true);
    Ok(detector.guess(None, false))
}
