//! The local stack: the whole system on one machine, with no AWS account, no Docker and no Java.
//!
//! It reads `template.yaml` — the same file `sam deploy` uses — so local and cloud cannot drift apart:
//! - [`template`] reads the functions, their routes and environment, the authorizer, tables, secrets and state
//!   machines;
//! - [`registry`] maps each function's binary to the handler that binary runs on Lambda, wired to local adapters
//!   (SQLite instead of DynamoDB);
//! - [`stack`] builds all of it from a template and a data directory, and invokes functions as Lambda would;
//! - [`gateway`] is API Gateway: routes, the JWT authorizer ([`auth`]), payload-2.0 events, responses;
//! - [`executions`] runs the template's state machines (the `states` interpreter) with Task states invoking the
//!   stack's functions, persists executions in the data directory, and resumes them after a restart;
//! - [`sfn_api`] is Step Functions' own API (AWS JSON 1.0) on the same port, so `aws stepfunctions` works;
//! - [`server`] serves the gateway on a listener until a shutdown future resolves;
//! - logs are JSON lines with the request id, written by the `telemetry` crate the functions use on AWS too;
//! - [`runtime_api`] emulates the Lambda Runtime API, so unchanged `bootstrap` binaries run (and are timed) here.
//!
//! The `local` binary (`src/main.rs`) is the command line over these: `up`, `token`, `invoke`, `routes`,
//! `states validate|run` (a definition on its own, Tasks mocked) and `executions start|list|describe|history`.

pub mod auth;
pub mod executions;
pub mod files;
pub mod gateway;
pub mod registry;
pub mod runtime_api;
pub mod server;
pub mod sfn_api;
pub mod stack;
pub mod template;

pub use stack::{Stack, StackConfig};
