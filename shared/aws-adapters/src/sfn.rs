//! The execution port on Step Functions: [`SfnExecutions`] starts a state machine by ARN under a name the caller
//! chooses, so a name made from what the execution is about (an uploaded object) starts it at most once.
//!
//! `StartExecution` answers a name that is taken in two ways. A Standard workflow's execution of that name still
//! running with the *same* input is returned again, as a success with the original execution's ARN: that is
//! [`StartedExecution::Started`] here too, with the same ARN, since nothing new started either way. A name taken
//! by a closed execution, or by one with another input, is `ExecutionAlreadyExists`:
//! [`StartedExecution::AlreadyExists`]. A missing (or deleting) state machine is [`ServiceError::NotFound`].

use crate::call::{CallFailed, Meaning, classify};
use aws_config::SdkConfig;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use domain::ServiceError;
use domain::ports::{ExecutionStart, StartedExecution};
use std::error::Error as StdError;

/// State machines on Step Functions, through one client.
#[derive(Debug, Clone)]
pub struct SfnExecutions {
    client: Client,
}

impl SfnExecutions {
    /// A client from `config` (region, credentials, endpoint).
    pub fn new(config: &SdkConfig) -> Self {
        Self { client: Client::new(config) }
    }

    /// Over a client built elsewhere.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn failed(state_machine_arn: &str, meaning: Meaning, source: impl StdError + Send + Sync + 'static) -> ServiceError {
    meaning.with(CallFailed {
        service: "Step Functions",
        operation: "StartExecution",
        target: state_machine_arn.to_owned(),
        source: Box::new(source),
    })
}

/// The meaning of the operation's own errors; the rest is read by code and status as for every service.
fn meaning(error: &StartExecutionError) -> Option<Meaning> {
    Some(match error {
        StartExecutionError::StateMachineDoesNotExist(_) | StartExecutionError::StateMachineDeleting(_) => {
            Meaning::NotFound
        }
        StartExecutionError::InvalidArn(_)
        | StartExecutionError::InvalidName(_)
        | StartExecutionError::InvalidExecutionInput(_)
        | StartExecutionError::ValidationException(_) => Meaning::InvalidInput,
        // Too many open executions, or KMS throttling: both pass as executions finish.
        StartExecutionError::ExecutionLimitExceeded(_) | StartExecutionError::KmsThrottlingException(_) => {
            Meaning::Unavailable
        }
        // The state machine's key is disabled or not ours to use: an operator must fix it.
        StartExecutionError::KmsAccessDeniedException(_) | StartExecutionError::KmsInvalidStateException(_) => {
            Meaning::AccessDenied
        }
        _ => return None,
    })
}

impl ExecutionStart for SfnExecutions {
    async fn start_execution(
        &self,
        state_machine_arn: &str,
        name: &str,
        input: &serde_json::Value,
    ) -> Result<StartedExecution, ServiceError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await;
        match result {
            Ok(out) => Ok(StartedExecution::Started { execution_arn: out.execution_arn().to_owned() }),
            Err(e) if matches!(e.as_service_error(), Some(StartExecutionError::ExecutionAlreadyExists(_))) => {
                Ok(StartedExecution::AlreadyExists)
            }
            Err(e) => {
                let meaning = e.as_service_error().and_then(meaning).unwrap_or_else(|| classify(&e));
                Err(failed(state_machine_arn, meaning, e))
            }
        }
    }
}
