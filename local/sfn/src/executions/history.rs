//! One page of an execution's `history.jsonl`, read without loading the rest: GetExecutionHistory with
//! `maxResults: 1` over a history of 200,000 events reads a few kilobytes, not the whole file.
//!
//! Why this works: the history is append-only and its event ids are consecutive from 1, one event per line (the
//! engine numbers them so, a resumed run continues the numbering, and a failure recorded at restart takes the next
//! id). So the line of event `n` is found by counting lines, never by parsing them: forwards from the start, or
//! backwards from the last event, reading the file from its end in blocks. Every event of the page is parsed and
//! its id checked against the line it was found on; if anything does not fit (an unparsable line inside the page,
//! ids that do not follow their lines), [`forward`] and [`backward`] answer `None` and the caller reads the whole
//! history as before, which reports exactly what is wrong. As before, a last line a crash cut short is dropped.
//!
//! Counting lines still reads the bytes before the page (a forward page deep in a history, or a reverse page near
//! its start), but holds only one line at a time: the memory a page takes no longer grows with the history.

use states::HistoryEvent;
use std::{
    fs,
    io::{self, BufRead, BufReader, Read, Seek, SeekFrom},
    path::Path,
};

/// How much of the file one read from the end takes.
const BLOCK: u64 = 64 * 1024;

/// What reading one page cost: what the tests assert on instead of timing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryCost {
    /// Bytes read from `history.jsonl`.
    pub bytes_read: u64,
    /// Events parsed from it.
    pub events_parsed: u64,
}

/// A page: its events, and whether another event follows it.
pub(super) type PageRead = (Vec<HistoryEvent>, bool);

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

fn parse(line: &[u8], cost: &mut HistoryCost) -> Option<HistoryEvent> {
    cost.events_parsed += 1;
    serde_json::from_slice(line).ok()
}

fn open(path: &Path) -> io::Result<Option<fs::File>> {
    match fs::File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Up to `take` events with ids above `after`, oldest first. `None`: the file is not as expected (see the module
/// docs).
pub(super) fn forward(
    path: &Path,
    after: Option<u64>,
    take: usize,
    cost: &mut HistoryCost,
) -> io::Result<Option<PageRead>> {
    let Some(file) = open(path)? else { return Ok(Some((Vec::new(), false))) };
    let after = after.unwrap_or(0);
    let mut reader = BufReader::with_capacity(BLOCK as usize, file);
    let (mut line, mut number, mut events) = (Vec::new(), 0u64, Vec::new());
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        cost.bytes_read += n as u64;
        if n == 0 {
            return Ok(Some((events, false)));
        }
        if is_blank(&line) {
            continue;
        }
        number += 1;
        if number <= after {
            continue;
        }
        match parse(&line, cost) {
            Some(event) if event.id == number && events.len() == take => return Ok(Some((events, true))),
            Some(event) if event.id == number => events.push(event),
            // Only the last line can lack its newline: one a crash cut short, dropped.
            None if !line.ends_with(b"\n") => return Ok(Some((events, false))),
            _ => return Ok(None),
        }
    }
}

/// Up to `take` events with ids below `before` (all when `None`), newest first. `None`: the file is not as expected
/// (see the module docs).
pub(super) fn backward(
    path: &Path,
    before: Option<u64>,
    take: usize,
    cost: &mut HistoryCost,
) -> io::Result<Option<PageRead>> {
    let Some(file) = open(path)? else { return Ok(Some((Vec::new(), false))) };
    let mut lines = Backward::new(file)?;
    // The last event says how many there are; a last line a crash cut short is dropped first.
    let last = loop {
        let Some(line) = lines.next_line(cost)? else { return Ok(Some((Vec::new(), false))) };
        if is_blank(&line) {
            continue;
        }
        match parse(&line, cost) {
            Some(event) => break event,
            None if !line.ends_with(b"\n") => continue,
            None => return Ok(None),
        }
    };
    let before = before.unwrap_or(u64::MAX);
    let mut id = last.id;
    let mut events = Vec::new();
    if id < before {
        events.push(last);
    }
    loop {
        let Some(line) = lines.next_line(cost)? else { return Ok(Some((events, false))) };
        if is_blank(&line) {
            continue;
        }
        if id <= 1 {
            return Ok(None); // more lines than ids
        }
        id -= 1;
        if id >= before {
            continue;
        }
        match parse(&line, cost) {
            Some(event) if event.id == id && events.len() == take => return Ok(Some((events, true))),
            Some(event) if event.id == id => events.push(event),
            _ => return Ok(None),
        }
    }
}

/// The lines of a file, last first, each with its newline (the last line may have none).
struct Backward {
    file: fs::File,
    /// Where the part of the file not yet read begins.
    pos: u64,
    /// Bytes read but not yet handed out: the end of the line being assembled.
    pending: Vec<u8>,
}

impl Backward {
    fn new(mut file: fs::File) -> io::Result<Self> {
        let pos = file.seek(SeekFrom::End(0))?;
        Ok(Self { file, pos, pending: Vec::new() })
    }

    fn next_line(&mut self, cost: &mut HistoryCost) -> io::Result<Option<Vec<u8>>> {
        loop {
            // The line's own newline is its last byte; the newline before it ends the previous line.
            let body = self.pending.len().saturating_sub(1);
            if let Some(i) = self.pending[..body].iter().rposition(|b| *b == b'\n') {
                return Ok(Some(self.pending.split_off(i + 1)));
            }
            if self.pos == 0 {
                return Ok((!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending)));
            }
            let start = self.pos.saturating_sub(BLOCK);
            let mut block = vec![0; (self.pos - start) as usize];
            self.file.seek(SeekFrom::Start(start))?;
            self.file.read_exact(&mut block)?;
            cost.bytes_read += block.len() as u64;
            block.extend_from_slice(&self.pending);
            (self.pending, self.pos) = (block, start);
        }
    }
}
