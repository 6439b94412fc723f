//! How much work one PDF may cost: the bounds that make a hostile file end in an error instead of a hang or
//! gigabytes.
//!
//! A PDF is a graph of objects with compressed streams; every cost of reading it grows with something the file
//! declares (how many objects, how large a stream inflates, how many operators a page runs, how deep Form
//! XObjects nest). Each of those has its own limit, checked while the work is done, so the user learns which
//! number was too big.

use crate::error::{Exceeded, ParseError};

/// The largest PDF [`parse`](crate::parse) reads. See [`Limits::default`] for why each number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size of the file.
    pub max_input_bytes: u64,
    /// Objects in the file, counting those inside object streams.
    pub max_objects: usize,
    /// What any one stream may decode to (a page's content, a font, an object stream, the embedded XML).
    pub max_stream_bytes: usize,
    /// What all streams decoded while reading one file may add up to.
    pub max_decoded_bytes: usize,
    /// Content-stream operators run, over all pages and Form XObjects.
    pub max_operations: usize,
    /// How deep Form XObjects may draw each other (a page drawing a form is depth 1).
    pub max_xobject_depth: usize,
    /// Pages in the document.
    pub max_pages: usize,
    /// Characters shown, over all pages.
    pub max_glyphs: usize,
}

impl Default for Limits {
    /// - 32 MiB input: invoices are mail attachments; SES and most mail servers stop below 40 MB per message.
    /// - 200,000 objects: a 50-page invoice with fonts and a logo has a few thousand; each object costs lopdf
    ///   about 100–200 bytes, so this bounds the object table near 40 MiB.
    /// - 32 MiB per stream, 128 MiB decoded in all: a page's content is kilobytes, an embedded CJK font a few
    ///   megabytes; a flate bomb is refused at the first 32 MiB, and a file of many bombs at 128 MiB.
    /// - 2,000,000 operators: a text page runs hundreds to a few thousand, a page with a vector logo or chart up
    ///   to ~100,000; at about 20 ns each this is well under a second.
    /// - Form XObjects 12 deep: real files nest 1–3 deep; this also bounds the recursion.
    /// - 500 pages, 4,000,000 characters: the longest itemised invoices have a few hundred pages of ~3,000
    ///   characters each.
    fn default() -> Self {
        Limits {
            max_input_bytes: 32 << 20,
            max_objects: 200_000,
            max_stream_bytes: 32 << 20,
            max_decoded_bytes: 128 << 20,
            max_operations: 2_000_000,
            max_xobject_depth: 12,
            max_pages: 500,
            max_glyphs: 4_000_000,
        }
    }
}

impl Limits {
    pub(crate) fn check_input(&self, len: u64) -> Result<(), ParseError> {
        if len > self.max_input_bytes {
            return Err(ParseError::exceeded(Exceeded::InputBytes { actual: len, max: self.max_input_bytes }));
        }
        Ok(())
    }
}

/// What decoding streams has cost so far in one parse, against [`Limits::max_decoded_bytes`].
#[derive(Debug)]
pub(crate) struct DecodeBudget {
    left: usize,
    max_total: usize,
    pub(crate) max_stream: usize,
}

impl DecodeBudget {
    pub(crate) fn new(limits: &Limits) -> Self {
        DecodeBudget {
            left: limits.max_decoded_bytes,
            max_total: limits.max_decoded_bytes,
            max_stream: limits.max_stream_bytes,
        }
    }

    /// The most the next stream may decode to: the per-stream limit or what is left of the total.
    pub(crate) fn next_limit(&self) -> usize {
        self.max_stream.min(self.left)
    }

    /// Charges `bytes` decoded. `Err` when the total is spent.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), Exceeded> {
        self.left = self.left.checked_sub(bytes).ok_or(Exceeded::DecodedBytes { max: self.max_total })?;
        Ok(())
    }

    /// The error for a stream that hit [`Self::next_limit`]: the per-stream limit if that was the smaller.
    pub(crate) fn over_limit(&self) -> Exceeded {
        if self.left < self.max_stream {
            Exceeded::DecodedBytes { max: self.max_total }
        } else {
            Exceeded::StreamBytes { max: self.max_stream }
        }
    }
}
