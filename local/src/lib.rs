//! The local stack: the whole system on one machine, with no AWS account, no Docker and no Java.
//!
//! This crate is the composition root. Each emulated AWS service is a crate of its own under `local/`, depending
//! only on `local-core` (ARNs, identity, wire protocols, the traits services reach each other through) and
//! `local-template` (`template.yaml`, the same file `sam deploy` uses, so local and cloud cannot drift apart):
//! `local-lambda` (functions), `local-apigw` (the HTTP API and its JWT authorizer), `local-sfn` (Step Functions),
//! `local-s3` (buckets, objects, notifications), `local-sqs` (queues), `local-ses` (SES v2 and the outbox).
//! Here they are wired together:
//! - [`adapters`] are the domain's object, message and mail ports on the emulated services, in-process;
//! - [`registry`] maps each function's binary to the handler that binary runs on Lambda, wired to local adapters
//!   (SQLite instead of DynamoDB);
//! - [`stack`] builds every service from a template and a data directory and hands each the others it needs as
//!   core traits (Step Functions gets Lambda as a `FunctionInvoker`);
//! - [`resources`] describes every template resource as the stack runs it (`local resources`);
//! - [`server`] is the one endpoint: a request goes to the service its `X-Amz-Target` or SigV4 credential scope
//!   names, else to the template's HTTP API;
//! - [`console`] is the operator console's source on this stack (`local_console` draws the pages), mounted at
//!   `/_console/` on the same endpoint for loopback clients;
//! - [`logs`] keeps the last log lines in memory, by request id, for the console's log pages;
//! - [`measure`] writes the functions' EMF metric lines to the data directory and reads them back for the cost page;
//! - logs are JSON lines with the request id, written by the `telemetry` crate the functions use on AWS too.
//!
//! The `local` binary (`src/main.rs`) is the command line over these: `up`, `token`, `invoke`, `routes`,
//! `resources`, `outbox list|show`, `states validate|run` (a definition on its own, Tasks mocked),
//! `executions start|list|describe|history` and `console --aws` (the console over a deployed stack).

pub mod adapters;
pub mod console;
pub mod logs;
pub mod measure;
pub mod registry;
pub mod resources;
pub mod server;
pub mod stack;

pub use stack::{Stack, StackConfig, StackError};

/// The local identity provider (`local token`, and the tests' tokens).
pub use local_apigw::auth;
/// The service crates, for the CLI and the tests.
pub use {
    local_apigw, local_core, local_events, local_lambda, local_s3, local_ses, local_sfn, local_sqs, local_template,
};
