//! SES v2 in the local stack: email is accepted as SES accepts it — only from the identities this account
//! verified — and written to an outbox on disk instead of being delivered.
//!
//! - [`address`]: addresses and mailboxes, parsed once (`Name <local@domain>`);
//! - [`identities`]: the identities that may send, from `template.yaml` (`AWS::SES::EmailIdentity`) and from
//!   `CreateEmailIdentity` (kept in the data directory, verified at once, since locally there is nothing to verify
//!   against);
//! - [`message`]: SES's message ids, Simple messages built with `mail-builder`, Raw messages read with
//!   `mail-parser` and kept byte for byte;
//! - [`outbox`]: `<data>/ses/outbox/<id>.eml` and its envelope, and the reading side the CLI uses
//!   (`local outbox list`, `local outbox show <id>`) without starting the service;
//! - [`api`]: SES v2's REST-JSON wire protocol (`SendEmail`, the email identity operations, `GetAccount`), so the
//!   SDKs and `aws sesv2` work unchanged;
//! - [`error`]: errors by meaning, mapped to SES's codes in one place.
//!
//! [`Ses`] is a cheap handle (an `Arc` inside): the composition root keeps one, hands a clone to the endpoint as
//! a [`local_core::endpoint::Service`], and another to the functions' local mail adapter, which calls
//! [`Ses::send_simple`] or [`Ses::send_raw`] in process.
//!
//! Not emulated: email templates (`Content.Template` is a 400 saying so), configuration sets (the name is kept in
//! the envelope, not checked), sending quotas (reported by `GetAccount`, never enforced), suppression lists, DKIM
//! signing, and the sandbox's check of recipients (only the sender is checked).

pub mod address;
pub mod api;
pub mod error;
pub mod identities;
pub mod message;
pub mod outbox;

pub use error::{MAX_MESSAGE_BYTES, MAX_RECIPIENTS, SesError};
pub use identities::{EmailIdentity, IdentityKind, VerifiedIdentity, template_identities};
pub use message::{Attachment, MessageId, MessageKind, RawEmail, SimpleEmail};
pub use outbox::{Envelope, MessageTag, Outbox};

use identities::Identities;
use local_core::{Identity, files};
use local_template::Template;
use message::Prepared;
use std::{path::Path, sync::Arc};
use time::OffsetDateTime;

/// What `SendEmail` carries besides the message, kept in the envelope.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    pub tags: Vec<MessageTag>,
    pub configuration_set: Option<String>,
}

/// SES for the local stack; clones share one state.
#[derive(Clone)]
pub struct Ses(Arc<Inner>);

struct Inner {
    account: Identity,
    identities: Identities,
    outbox: Outbox,
}

impl std::fmt::Debug for Ses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ses").field("outbox", &self.0.outbox.dir()).finish_non_exhaustive()
    }
}

impl Ses {
    /// SES over `<data_dir>/ses/`: the template's identities (start-up fails, naming the resource, if one is not an
    /// address or a domain), those created at runtime before, and the outbox.
    pub fn open(data_dir: &Path, template: &Template, account: Identity) -> Result<Self, SesError> {
        let declared = template_identities(template, &account)?;
        let dir = data_dir.join("ses");
        files::create_private_dir(&dir).map_err(SesError::storage(&dir))?;
        let identities = Identities::open(&dir, account.clone(), declared)?;
        let outbox = Outbox::open(data_dir)?;
        Ok(Self(Arc::new(Inner { account, identities, outbox })))
    }

    pub fn outbox(&self) -> &Outbox {
        &self.0.outbox
    }

    /// Every identity that may send, declared and created at runtime, by name (for `local resources`).
    pub fn identities(&self) -> Vec<VerifiedIdentity> {
        self.0.identities.all()
    }

    /// Sends a message SES assembles (as `SendEmail` with `Content.Simple`); the id SES would answer with.
    pub async fn send_simple(&self, email: SimpleEmail) -> Result<MessageId, SesError> {
        let ses = self.clone();
        let sent = tokio::task::spawn_blocking(move || ses.send_simple_now(&email, SendOptions::default()));
        Ok(sent.await.map_err(join_error)??.id)
    }

    /// Sends a whole RFC 5322 message as it is, from `from` to `to` (as `SendEmail` with `Content.Raw` and the
    /// `Destination` `to`; an empty `to` means the message's own To/Cc/Bcc headers).
    pub async fn send_raw(&self, from: &str, to: &[String], bytes: Vec<u8>) -> Result<MessageId, SesError> {
        let raw = RawEmail { from: Some(from.to_owned()), to: to.to_vec(), data: bytes, ..Default::default() };
        let ses = self.clone();
        let sent = tokio::task::spawn_blocking(move || ses.send_raw_now(raw, SendOptions::default()));
        Ok(sent.await.map_err(join_error)??.id)
    }

    /// [`Self::send_simple`] on the calling thread, which it blocks while the message is written and synced.
    pub fn send_simple_now(&self, email: &SimpleEmail, options: SendOptions) -> Result<Envelope, SesError> {
        let date = OffsetDateTime::now_utc();
        let id = MessageId::new(date);
        let prepared = message::prepare_simple(email, &id, date)?;
        self.accept(id, date, prepared, options)
    }

    /// [`Self::send_raw`] on the calling thread, which it blocks while the message is written and synced.
    pub fn send_raw_now(&self, raw: RawEmail, options: SendOptions) -> Result<Envelope, SesError> {
        let date = OffsetDateTime::now_utc();
        let prepared = message::prepare_raw(raw)?;
        self.accept(MessageId::new(date), date, prepared, options)
    }

    /// SES's checks on a prepared message, then the outbox.
    fn accept(
        &self,
        id: MessageId,
        date: OffsetDateTime,
        m: Prepared,
        options: SendOptions,
    ) -> Result<Envelope, SesError> {
        match m.recipient_count() {
            0 => return Err(SesError::bad_request("The message has no recipients: give at least one To, Cc or Bcc.")),
            n if n > MAX_RECIPIENTS => return Err(SesError::TooManyRecipients(n)),
            _ => {}
        }
        if m.encoded_size > MAX_MESSAGE_BYTES {
            return Err(SesError::TooLarge(m.encoded_size));
        }
        if !self.0.identities.verifies(&m.sender) {
            return Err(SesError::NotVerified {
                region: self.0.account.region.to_uppercase(),
                identities: vec![m.sender.to_string()],
            });
        }
        let list = |l: &[address::EmailAddress]| l.iter().map(ToString::to_string).collect::<Vec<_>>();
        let envelope = Envelope {
            id,
            from: m.sender.to_string(),
            to: list(&m.to),
            cc: list(&m.cc),
            bcc: list(&m.bcc),
            reply_to: list(&m.reply_to),
            subject: m.subject,
            date,
            size: m.bytes.len() as u64,
            kind: m.kind,
            tags: options.tags,
            configuration_set: options.configuration_set,
        };
        self.0.outbox.store(&envelope, &m.bytes)?;
        tracing::info!(id = %envelope.id, from = %envelope.from, recipients = m.to.len() + m.cc.len() + m.bcc.len(),
            "ses: message accepted into the outbox");
        Ok(envelope)
    }
}

/// A blocking task that did not finish: re-raise its panic (a bug, not bad input), or report the runtime
/// shutting down under it.
pub(crate) fn join_error(e: tokio::task::JoinError) -> SesError {
    if e.is_panic() {
        std::panic::resume_unwind(e.into_panic());
    }
    SesError::storage("<outbox>")(std::io::Error::new(
        std::io::ErrorKind::Interrupted,
        "the local stack is shutting down",
    ))
}
