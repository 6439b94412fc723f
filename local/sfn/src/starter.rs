//! Step Functions as other services start it: [`ExecutionStarter`] over [`Executions`], for EventBridge targets. An
//! execution started this way gets a generated name (a UUID), as EventBridge's are, and its errors keep the code
//! StartExecution would answer with, so the caller can tell a missing machine from a bad input.

use crate::executions::{ExecutionError, Executions, StartRequest};
use local_core::{
    BoxFuture,
    invoke::{ExecutionStarter, StartError},
};

impl ExecutionStarter for Executions {
    fn start_execution<'a>(
        &'a self,
        state_machine_arn: &'a str,
        input: String,
    ) -> BoxFuture<'a, Result<String, StartError>> {
        Box::pin(async move {
            let request =
                StartRequest { state_machine_arn: state_machine_arn.to_owned(), name: None, input: Some(input) };
            Ok(self.start(request).await?.execution_arn)
        })
    }
}

impl From<ExecutionError> for StartError {
    fn from(e: ExecutionError) -> Self {
        Self { code: e.code().to_owned(), message: e.to_string() }
    }
}
