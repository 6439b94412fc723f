//! Where accepted messages go instead of the Internet: `<data>/ses/outbox/<id>.eml`, the message exactly as SES
//! would hand it to the recipients' servers, and `<id>.json`, its [`Envelope`] (sender, To/Cc/Bcc, subject, the
//! time it was accepted). Both are written atomically, the message first: a sidecar exists only beside a complete
//! message, so a reader (`local outbox list`, another process than `local up`) never sees half of one.
//!
//! [`Outbox::open`] needs nothing but the data directory, so the CLI reads the outbox without starting SES. Ids
//! are parsed ([`MessageId`]) before they become file names, so `local outbox show ../../etc/passwd` is an error,
//! never a read outside the outbox.

use crate::{
    SesError,
    message::{MessageId, MessageKind},
};
use local_core::files;
use serde::{Deserialize, Serialize};
use std::{
    io,
    path::{Path, PathBuf},
};
use time::OffsetDateTime;

/// A message's envelope: who SES delivers it from and to. Bcc recipients are here and nowhere in the message.
/// Serialised (camelCase) as the line `local outbox list` prints per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub id: MessageId,
    /// The sender's address (what the identities were checked against).
    pub from: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_to: Vec<String>,
    /// Decoded (a Raw message's encoded-words read back); empty when the message has none.
    pub subject: String,
    /// When SES accepted the message.
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    /// The `.eml` file's size in bytes.
    pub size: u64,
    pub kind: MessageKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<MessageTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_set: Option<String>,
}

/// `EmailTags`, kept for whoever reads the outbox (SES publishes them with sending events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTag {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox of the data directory `data_dir` (`<data_dir>/ses/outbox`), created (private) if need be.
    pub fn open(data_dir: &Path) -> Result<Self, SesError> {
        let dir = data_dir.join("ses").join("outbox");
        files::create_private_dir(&dir).map_err(SesError::storage(&dir))?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn message_path(&self, id: &MessageId) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    fn envelope_path(&self, id: &MessageId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    pub(crate) fn store(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SesError> {
        let eml = self.message_path(&envelope.id);
        files::write_atomic(&eml, message).map_err(SesError::storage(&eml))?;
        let json = self.envelope_path(&envelope.id);
        let bytes = serde_json::to_vec_pretty(envelope)
            .map_err(|e| SesError::storage(&json)(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        files::write_atomic(&json, &bytes).map_err(SesError::storage(&json))
    }

    /// Every message's envelope, newest first (by acceptance time, then id). A sidecar that cannot be read is
    /// skipped with a warning rather than hiding every other message.
    pub fn list(&self) -> Result<Vec<Envelope>, SesError> {
        let entries = std::fs::read_dir(&self.dir).map_err(SesError::storage(&self.dir))?;
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(SesError::storage(&self.dir))?.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| MessageId::parse(n).ok())
            else {
                continue;
            };
            match self.envelope(id.as_str()) {
                Ok(e) => out.push(e),
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable outbox entry"),
            }
        }
        out.sort_by(|a, b| (b.date, &b.id).cmp(&(a.date, &a.id)));
        Ok(out)
    }

    /// The envelope of message `id`.
    pub fn envelope(&self, id: &str) -> Result<Envelope, SesError> {
        let id = MessageId::parse(id)?;
        let path = self.envelope_path(&id);
        let bytes = read(&path, &id)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| SesError::storage(&path)(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// Message `id`, byte for byte as stored (`local outbox show <id>`).
    pub fn show(&self, id: &str) -> Result<Vec<u8>, SesError> {
        let id = MessageId::parse(id)?;
        // Only a message whose sidecar exists is complete (see the module's doc).
        if !self.envelope_path(&id).exists() {
            return Err(SesError::NoSuchMessage(id.to_string()));
        }
        read(&self.message_path(&id), &id)
    }

    /// How many messages were accepted since `since` (GetAccount's `SentLast24Hours`).
    pub fn count_since(&self, since: OffsetDateTime) -> Result<usize, SesError> {
        Ok(self.list()?.iter().take_while(|e| e.date >= since).count())
    }
}

fn read(path: &Path, id: &MessageId) -> Result<Vec<u8>, SesError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SesError::NoSuchMessage(id.to_string()),
        _ => SesError::storage(path)(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(at: i64) -> Envelope {
        let date = OffsetDateTime::from_unix_timestamp(at).unwrap();
        Envelope {
            id: MessageId::new(date),
            from: "a@example.com".into(),
            to: vec!["b@example.com".into()],
            cc: vec![],
            bcc: vec![],
            reply_to: vec![],
            subject: "s".into(),
            date,
            size: 4,
            kind: MessageKind::Raw,
            tags: vec![],
            configuration_set: None,
        }
    }

    #[test]
    fn the_list_runs_newest_first_and_ignores_a_message_without_its_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let (old, new) = (envelope(1_700_000_000), envelope(1_800_000_000));
        outbox.store(&old, b"old!").unwrap();
        outbox.store(&new, b"new!").unwrap();
        // What a crash between the two writes leaves behind.
        let half = envelope(1_900_000_000);
        std::fs::write(outbox.dir().join(format!("{}.eml", half.id)), b"half").unwrap();
        let ids: Vec<_> = outbox.list().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, [new.id.clone(), old.id.clone()]);
        assert_eq!(outbox.show(old.id.as_str()).unwrap(), b"old!");
        assert!(matches!(outbox.show(half.id.as_str()), Err(SesError::NoSuchMessage(_))));
        let since = OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap();
        assert_eq!(outbox.count_since(since).unwrap(), 1);
    }
}
