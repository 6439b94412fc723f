//! Step Functions in the local stack.
//!
//! - [`decl`] reads the template's state machines (`AWS::Serverless::StateMachine`: `DefinitionUri` or
//!   `Definition`, `DefinitionSubstitutions` resolved);
//! - [`executions`] loads and validates them at start-up and runs their executions on the stack's tokio runtime,
//!   Task states invoking the stack's functions through the [`FunctionInvoker`] the composition root hands it;
//!   executions persist in the data directory and resume after a restart, are indexed in memory for lists
//!   ([`Executions::query`]), announced as they change ([`Executions::subscribe`]) and may be redriven;
//! - [`api`] is Step Functions' own wire protocol (AWS JSON 1.0), so `aws stepfunctions` and the SDKs work;
//! - [`starter`] lets other services (EventBridge targets) start executions through `ExecutionStarter`.

pub mod api;
pub mod decl;
pub mod executions;
pub mod starter;

pub use decl::{DefinitionSource, StateMachineDecl};
pub use executions::{
    ExecutionError, ExecutionRecord, ExecutionStatus, ExecutionSummary, Executions, Machine, MachineError, Query,
    RedriveStatus, StartRequest, StopReason,
};

use local_core::invoke::FunctionInvoker;
