//! Turning a text file's bytes into UTF-8 bytes, streamed through a fixed buffer.
//!
//! UTF-8 files pass through untouched (after their BOM), invalid bytes included, so that the
//! row reader can leave out exactly the cells holding one. Other encodings go through an
//! `encoding_rs` decoder; a malformed sequence becomes the byte 0xFF, which is never valid
//! UTF-8, so the cell holding it is left out the same way — never a silent U+FFFD.

use std::io::{self, BufRead, BufReader, Read};

use encoding_rs::{Decoder, DecoderResult};

use crate::charset::Charset;

const BUFFER: usize = 1 << 16;

/// Opens the UTF-8 view of a text file positioned at its start.
pub(crate) fn utf8_stream<R: Read + Send + 'static>(
    reader: R,
    charset: Charset,
) -> io::Result<Box<dyn BufRead + Send>> {
    let mut reader = BufReader::with_capacity(BUFFER, reader);
    skip(&mut reader, charset.bom_len)?;
    if charset.is_utf8() {
        Ok(Box::new(reader))
    } else {
        Ok(Box::new(Decoded {
            inner: reader,
            decoder: charset.encoding.new_decoder_without_bom_handling(),
            out: Vec::with_capacity(BUFFER * 3),
            pos: 0,
            finished: false,
        }))
    }
}

fn skip(reader: &mut impl BufRead, mut n: usize) -> io::Result<()> {
    while n > 0 {
        let available = reader.fill_buf()?.len();
        if available == 0 {
            break;
        }
        let step = available.min(n);
        reader.consume(step);
        n -= step;
    }
    Ok(())
}

struct Decoded<R> {
    inner: BufReader<R>,
    decoder: Decoder,
    out: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl<R: Read> Decoded<R> {
    /// Decodes the next input buffer into `out`; returns false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() {
            if self.finished {
                return Ok(false);
            }
            let src = self.inner.fill_buf()?;
            let last = src.is_empty();
            let consumed = decode_into(&mut self.decoder, src, last, &mut self.out);
            self.inner.consume(consumed);
            self.finished = last;
        }
        Ok(true)
    }
}

/// Decodes all of `src` into `out`, writing 0xFF for each malformed sequence.
fn decode_into(decoder: &mut Decoder, mut src: &[u8], last: bool, out: &mut Vec<u8>) -> usize {
    let total = src.len();
    loop {
        let room = decoder
            .max_utf8_buffer_length_without_replacement(src.len())
            .unwrap_or(src.len().saturating_mul(3))
            + 4;
        let start = out.len();
        out.resize(start + room, 0);
        let (result, read, written) =
            decoder.decode_to_utf8_without_replacement(src, &mut out[start..], last);
        out.truncate(start + written);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => return total,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(_, _) => out.push(0xFF),
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

/// `Read::read` for a reader that is a `BufRead` at heart: copies what `fill_buf` offers.
pub(crate) fn read_buffered(reader: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

impl<R: Read> BufRead for Decoded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() && !self.refill()? {
            return Ok(&[]);
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}
