//! The core of the local stack: what every emulated service shares, and nothing service-specific.
//!
//! - [`identity`]: the local account and region, one value passed down, and [`arn::Arn`], ARNs as a parsed type;
//! - [`page`]: opaque, request-bound pagination tokens, as AWS list operations hand them out;
//! - [`files`]: atomic, private file writes and secrets created once per data directory;
//! - [`protocol`]: the AWS wire protocols the services speak (JSON 1.0/1.1 with `X-Amz-Target`, REST-XML, query),
//!   each mapping a service's typed errors to AWS's error codes in one place;
//! - [`endpoint`]: how a service claims its requests on the stack's one port;
//! - [`invoke`]: the small traits services reach each other through (invoke a function, start an execution,
//!   send a message), so that no service imports another.

pub mod arn;
pub mod endpoint;
pub mod files;
pub mod identity;
pub mod invoke;
pub mod page;
pub mod protocol;
pub mod sigv4;

pub use arn::Arn;
pub use identity::{Credentials, Identity};

use std::{future::Future, pin::Pin};

/// Bytes as lower-case hex, as AWS writes digests (ETags, SigV4 signatures, MD5s of message bodies).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A boxed future, for the object-safe traits services reach each other through.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
