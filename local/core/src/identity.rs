//! Who the local stack is on AWS's terms: one account in one region. Every ARN, queue URL and event the stack
//! makes takes them from one [`Identity`] value handed down from the composition root, never from literals.

use crate::arn::Arn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub partition: String,
    pub account: String,
    pub region: String,
}

impl Default for Identity {
    /// LocalStack's and moto's account, in us-east-1: what existing scripts and samples expect.
    fn default() -> Self {
        Self { partition: "aws".into(), account: "123456789012".into(), region: "us-east-1".into() }
    }
}

impl Identity {
    /// An ARN of a regional service in this account.
    pub fn arn(&self, service: &str, resource: impl Into<String>) -> Arn {
        Arn {
            partition: self.partition.clone(),
            service: service.into(),
            region: self.region.clone(),
            account: self.account.clone(),
            resource: resource.into(),
        }
    }

    /// A global resource's ARN (no region; IAM).
    pub fn global_arn(&self, service: &str, resource: impl Into<String>) -> Arn {
        Arn { region: String::new(), ..self.arn(service, resource) }
    }

    pub fn function_arn(&self, name: &str) -> Arn {
        self.arn("lambda", format!("function:{name}"))
    }

    pub fn state_machine_arn(&self, name: &str) -> Arn {
        self.arn("states", format!("stateMachine:{name}"))
    }

    pub fn execution_arn(&self, machine: &str, name: &str) -> Arn {
        self.arn("states", format!("execution:{machine}:{name}"))
    }

    pub fn table_arn(&self, name: &str) -> Arn {
        self.arn("dynamodb", format!("table/{name}"))
    }

    pub fn queue_arn(&self, name: &str) -> Arn {
        self.arn("sqs", name)
    }

    pub fn secret_arn(&self, name: &str) -> Arn {
        self.arn("secretsmanager", format!("secret:{name}"))
    }

    pub fn email_identity_arn(&self, identity: &str) -> Arn {
        self.arn("ses", format!("identity/{identity}"))
    }

    pub fn role_arn(&self, name: &str) -> Arn {
        self.global_arn("iam", format!("role/{name}"))
    }

    /// S3 bucket ARNs carry neither region nor account.
    pub fn bucket_arn(&self, bucket: &str) -> Arn {
        Arn {
            partition: self.partition.clone(),
            service: "s3".into(),
            region: String::new(),
            account: String::new(),
            resource: bucket.into(),
        }
    }
}

/// The access key the local stack's services accept (SigV4), and its secret: `test` / `test` unless the user sets
/// others (LocalStack's convention, so existing scripts work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self { access_key_id: "test".into(), secret_access_key: "test".into() }
    }
}
