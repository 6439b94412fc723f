//! The task API end to end: real HTTP against the local stack started in-process on port 0, each test with its own
//! data directory. The `defects` module pins down, one test each, the seven defects of the Python design; the
//! `executions` module drives the template's state machines through the Step Functions API on the same port.

mod async_invoke;
mod bad_input;
mod defects;
mod execution_storage;
mod executions;
mod gateway;
mod hardening;
mod invoices;
mod openapi;
mod photo;
mod profile;
mod sdk_s3;
mod sdk_ses;
mod sdk_sfn;
mod sdk_sqs;
mod task_events;
mod tasks;
