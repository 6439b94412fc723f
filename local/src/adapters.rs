//! The domain's service ports on the local stack's own emulated services, called in-process: what a function's
//! handler gets locally where on AWS it gets `aws-adapters` (`SesMail`, `SqsMessages`, `S3Objects`). Going
//! through the services' own APIs (not around them) is what makes a local send behave as a real one: the same
//! sender verification, the same limits, the same outbox.

use domain::{
    ServiceError,
    bus::{BusEvent, EntryFailure, EntryOutcome, EventBusName, EventId, batches},
    mail::{RawMail, SimpleMail},
    message::{Message, MessageId, QueueUrl},
    object::{
        BucketName, ContentType, ETag, Expiry, NewObject, Object, ObjectInfo, ObjectKey, PresignedMethod,
        PresignedRequest,
    },
    ports::{EventPut, MailSend, MessageSend, ObjectDelete, ObjectGet, ObjectHead, ObjectPresign, ObjectPut},
};
use local_adapters::stream::TableStream;
use local_core::{
    BoxFuture, Credentials,
    invoke::{StreamError, StreamRecord, StreamSource},
    protocol::AwsError,
    sigv4::{self, PresignRequest},
};
use local_events::{EntryResult, EventBridge, PutEventsEntry};
use local_s3::{S3, S3Error};
use local_ses::{Ses, SesError, SimpleEmail};
use local_sqs::{Sqs, SqsError};
use std::{
    collections::BTreeMap,
    sync::{Arc, OnceLock, Weak},
    time::SystemTime,
};

/// What a service's refusal means for the caller, by its AWS code and status: a missing bucket or queue is `NotFound`, an
/// unverified sender `MailRejected`, another 4xx the request's fault (sending it again fails again), a 5xx the
/// service's (worth retrying).
fn service_error<E: AwsError + Send + Sync + 'static>(e: E) -> ServiceError {
    let (code, status) = (e.code().to_owned(), e.status());
    let source = Box::new(e);
    match code.as_str() {
        "MessageRejected" => ServiceError::MailRejected(source),
        "NoSuchBucket" | "QueueDoesNotExist" => ServiceError::NotFound(source),
        _ if status.is_server_error() => ServiceError::Unavailable(source),
        _ => ServiceError::InvalidInput(source),
    }
}

/// The object ports on the local S3. Presigned URLs point at the stack's endpoint (known once it listens) and are
/// signed with the stack's credentials, so the local S3 checks them exactly as it checks an SDK's.
///
/// The S3 service is set once the stack has built it: S3 notifies functions, so it is built after them, and the
/// functions that use objects get this handle when they are built. (Strong: S3 holds Lambda only weakly.)
#[derive(Clone)]
pub struct LocalObjects {
    pub s3: Arc<OnceLock<Arc<S3>>>,
    /// `http://host:port`, set when the server starts listening.
    pub endpoint: Arc<OnceLock<String>>,
    pub credentials: Credentials,
    pub region: String,
}

/// An object call before the stack finished starting.
#[derive(Debug, thiserror::Error)]
#[error("the local S3 is not running yet")]
struct S3NotStarted;

impl LocalObjects {
    fn s3(&self) -> Result<&Arc<S3>, ServiceError> {
        self.s3.get().ok_or_else(|| ServiceError::Unavailable(Box::new(S3NotStarted)))
    }

    fn presign(
        &self,
        method: PresignedMethod,
        bucket: &BucketName,
        key: &ObjectKey,
        headers: BTreeMap<String, String>,
        expiry: Expiry,
    ) -> Result<PresignedRequest, ServiceError> {
        let endpoint = self.endpoint.get().ok_or_else(|| {
            ServiceError::Unavailable(
                "the local stack is not listening yet, so a URL has no address to point at".into(),
            )
        })?;
        let now = SystemTime::now();
        let signed: Vec<(&str, String)> = headers.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let url = sigv4::presign(
            &PresignRequest {
                method: method.as_str(),
                endpoint,
                path: &format!("/{}/{}", bucket.as_str(), key.as_str()),
                query: &[],
                headers: &signed,
                region: &self.region,
                service: "s3",
                expires_in: expiry.duration(),
            },
            &self.credentials,
            now,
        );
        let expires_at =
            time::OffsetDateTime::from(now).replace_nanosecond(0).unwrap_or(time::OffsetDateTime::from(now))
                + expiry.duration();
        Ok(PresignedRequest { url, method, headers, expires_at })
    }
}

impl ObjectGet for LocalObjects {
    async fn get_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<Object>, ServiceError> {
        match self.s3()?.get_object(bucket.as_str(), key.as_str()).await {
            Ok(o) => Ok(Some(Object {
                content_type: o.info.attributes.content_type.as_deref().and_then(|c| ContentType::parse(c).ok()),
                metadata: o.info.attributes.metadata.clone(),
                etag: ETag::new(format!("\"{}\"", o.info.etag)),
                bytes: o.body.to_vec(),
            })),
            Err(S3Error::NoSuchKey(_)) => Ok(None),
            Err(e) => Err(service_error(e)),
        }
    }
}

impl ObjectPut for LocalObjects {
    async fn put_object(&self, bucket: &BucketName, key: &ObjectKey, object: NewObject) -> Result<ETag, ServiceError> {
        let info = self
            .s3()?
            .put_object(
                bucket.as_str(),
                key.as_str(),
                object.bytes.into(),
                Some(object.content_type.as_str()),
                object.metadata.as_map().clone(),
            )
            .await
            .map_err(service_error)?;
        Ok(ETag::new(format!("\"{}\"", info.etag)))
    }
}

impl ObjectDelete for LocalObjects {
    async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<(), ServiceError> {
        self.s3()?.delete_object(bucket.as_str(), key.as_str()).await.map(drop).map_err(service_error)
    }
}

impl ObjectHead for LocalObjects {
    async fn head_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<ObjectInfo>, ServiceError> {
        match self.s3()?.head_object(bucket.as_str(), key.as_str()).await {
            Ok(info) => Ok(Some(ObjectInfo {
                size: info.size,
                content_type: info.attributes.content_type.as_deref().and_then(|c| ContentType::parse(c).ok()),
                metadata: info.attributes.metadata.clone(),
                etag: ETag::new(format!("\"{}\"", info.etag)),
            })),
            Err(S3Error::NoSuchKey(_)) => Ok(None),
            Err(e) => Err(service_error(e)),
        }
    }
}

impl ObjectPresign for LocalObjects {
    async fn presign_put(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        content_type: &ContentType,
        content_length: u64,
        expiry: Expiry,
    ) -> Result<PresignedRequest, ServiceError> {
        let headers = BTreeMap::from([
            ("content-length".to_owned(), content_length.to_string()),
            ("content-type".to_owned(), content_type.as_str().to_owned()),
        ]);
        self.presign(PresignedMethod::Put, bucket, key, headers, expiry)
    }

    async fn presign_get(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        expiry: Expiry,
    ) -> Result<PresignedRequest, ServiceError> {
        self.presign(PresignedMethod::Get, bucket, key, BTreeMap::new(), expiry)
    }
}

/// [`MessageSend`] on the local SQS.
#[derive(Clone)]
pub struct LocalMessages(pub Arc<Sqs>);

impl MessageSend for LocalMessages {
    async fn send_message(&self, queue: &QueueUrl, message: &Message) -> Result<MessageId, ServiceError> {
        let sent = self
            .0
            .send(queue.as_str(), message.body().as_str().to_owned(), message.attributes().as_map().clone())
            .await
            .map_err(service_error::<SqsError>)?;
        Ok(MessageId::new(sent.message_id))
    }
}

/// [`MailSend`] on the local SES.
#[derive(Clone)]
pub struct LocalMail(pub Ses);

impl MailSend for LocalMail {
    async fn send_raw(&self, mail: &RawMail) -> Result<MessageId, ServiceError> {
        let to: Vec<String> = mail.to().as_slice().iter().map(|a| a.as_str().to_owned()).collect();
        let id = self
            .0
            .send_raw(mail.from().as_str(), &to, mail.message().to_vec())
            .await
            .map_err(service_error::<SesError>)?;
        Ok(MessageId::new(id.to_string()))
    }

    async fn send_simple(&self, mail: &SimpleMail) -> Result<MessageId, ServiceError> {
        let email = SimpleEmail {
            from: mail.from.as_str().to_owned(),
            to: mail.to.as_slice().iter().map(|a| a.as_str().to_owned()).collect(),
            subject: mail.subject.as_str().to_owned(),
            text: mail.body.text().map(str::to_owned),
            html: mail.body.html().map(str::to_owned),
            ..Default::default()
        };
        let id = self.0.send_simple(email).await.map_err(service_error::<SesError>)?;
        Ok(MessageId::new(id.to_string()))
    }
}

/// [`EventPut`] on the local EventBridge: entries cut into `PutEvents` calls exactly as the AWS adapter cuts them
/// ([`batches`]), each call validated and routed by the local service as the wire API would.
///
/// The service is set once the stack has built it: EventBridge delivers to functions, so it is built after them,
/// and the functions that put events get this handle when they are built. A put before that is `Unavailable`.
/// Weak, because EventBridge holds (through its targets) the functions that hold this handle: a strong one would
/// keep a stopped stack's services alive, still running executions beside the next stack's.
#[derive(Clone, Default)]
pub struct LocalEvents(pub Arc<OnceLock<Weak<EventBridge>>>);

/// A put before the stack finished starting.
#[derive(Debug, thiserror::Error)]
#[error("the local EventBridge is not running (the stack is starting or stopping)")]
struct EventsNotStarted;

impl EventPut for LocalEvents {
    async fn put_events(&self, bus: &EventBusName, entries: &[BusEvent]) -> Result<Vec<EntryOutcome>, ServiceError> {
        let events = self
            .0
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| ServiceError::Unavailable(Box::new(EventsNotStarted)))?;
        let mut outcomes = Vec::with_capacity(entries.len());
        for batch in batches(entries) {
            let request = batch
                .iter()
                .map(|e| PutEventsEntry {
                    time: e.time(),
                    source: Some(e.source().to_owned()),
                    resources: e.resources().to_vec(),
                    detail_type: Some(e.detail_type().to_owned()),
                    detail: Some(e.detail_json().to_owned()),
                    event_bus_name: Some(bus.as_str().to_owned()),
                    trace_header: None,
                })
                .collect();
            match events.put_events(request).await {
                Ok(answer) => outcomes.extend(answer.entries.into_iter().map(|r| match r {
                    EntryResult::Accepted { event_id } => EntryOutcome::Accepted(EventId::new(event_id)),
                    EntryResult::Failed { error_code, error_message } => {
                        EntryOutcome::Failed(EntryFailure { code: error_code, message: error_message })
                    }
                })),
                Err(e) if outcomes.is_empty() => return Err(service_error(e)),
                Err(e) => {
                    let failure = EntryFailure { code: e.code().to_owned(), message: e.to_string() };
                    outcomes.resize(entries.len(), EntryOutcome::Failed(failure));
                    break;
                }
            }
        }
        Ok(outcomes)
    }
}

/// A table's stream in the embedded store, as the event-source mappings read DynamoDB Streams.
pub struct StoreStream(pub TableStream);

impl StreamSource for StoreStream {
    fn arn(&self) -> &str {
        self.0.arn()
    }

    fn read(&self, after: Option<u64>, limit: usize) -> BoxFuture<'_, Result<Vec<StreamRecord>, StreamError>> {
        let records =
            self.0.read(after, limit).map_err(|e| StreamError { arn: self.0.arn().to_owned(), source: e.into() });
        let records = records.map(|records| {
            records
                .iter()
                .map(|r| StreamRecord {
                    sequence: r.sequence,
                    created: r.created_at.into(),
                    record: self.0.record_json(r),
                })
                .collect()
        });
        Box::pin(async move { records })
    }

    fn latest(&self) -> Result<Option<u64>, StreamError> {
        Ok(self.0.latest())
    }

    fn wait_after(&self, after: Option<u64>) -> BoxFuture<'_, ()> {
        Box::pin(self.0.wait_after(after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::mail::{MailAddress, MailBody, Recipients, Subject};
    use domain::message::{MessageAttributes, MessageBody};
    use local_template::{NoSecrets, Template};
    use std::sync::Arc;

    fn ses(dir: &std::path::Path) -> Ses {
        let text = "Resources:\n  Sender:\n    Type: AWS::SES::EmailIdentity\n    Properties: {EmailIdentity: noreply@example.com}\n";
        let template = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        Ses::open(dir, &template, Default::default()).unwrap()
    }

    fn mail(from: &str) -> SimpleMail {
        SimpleMail {
            from: MailAddress::parse(from).unwrap(),
            to: Recipients::one(MailAddress::parse("alice@example.com").unwrap()),
            subject: Subject::parse("Your invoice").unwrap(),
            body: MailBody::Text("Attached.".into()),
        }
    }

    #[tokio::test]
    async fn mail_sent_through_the_port_is_in_the_outbox_and_an_unverified_sender_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let port = LocalMail(ses(dir.path()));
        let id = port.send_simple(&mail("noreply@example.com")).await.unwrap();
        let eml = String::from_utf8(port.0.outbox().show(id.as_str()).unwrap()).unwrap();
        assert!(eml.contains("Subject: Your invoice"), "{eml}");
        let e = port.send_simple(&mail("other@example.com")).await.unwrap_err();
        assert!(matches!(e, ServiceError::MailRejected(_)) && !e.is_retryable(), "{e:?}");
    }

    #[tokio::test]
    async fn a_message_sent_through_the_port_is_in_its_queue_and_a_missing_queue_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: jobs}\n";
        let template = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        let port = LocalMessages(Sqs::open(dir.path(), &template, Default::default()).unwrap());
        let attributes = MessageAttributes::new().with("kind", "reminder").unwrap();
        let message = Message::new(MessageBody::parse("{\"task\": 1}").unwrap(), attributes).unwrap();
        let url = QueueUrl::parse("https://sqs.us-east-1.amazonaws.com/123456789012/jobs").unwrap();
        let id = port.send_message(&url, &message).await.unwrap();
        let peeked = port.0.peek("jobs", 10).await.unwrap();
        assert_eq!(peeked.len(), 1);
        assert!(format!("{:?}", peeked[0]).contains(id.as_str()));
        let missing = QueueUrl::parse("https://sqs.us-east-1.amazonaws.com/123456789012/nope").unwrap();
        let e = port.send_message(&missing, &message).await.unwrap_err();
        assert!(matches!(e, ServiceError::NotFound(_)), "{e:?}");
    }

    #[tokio::test]
    async fn a_raw_message_goes_to_its_envelope_recipients_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let port = LocalMail(ses(dir.path()));
        let bytes = b"From: noreply@example.com\r\nTo: alice@example.com\r\nSubject: raw\r\n\r\nhi\r\n".to_vec();
        let to = Recipients::one(MailAddress::parse("bob@example.com").unwrap());
        let raw = RawMail::new(MailAddress::parse("noreply@example.com").unwrap(), to, bytes.clone()).unwrap();
        let id = port.send_raw(&raw).await.unwrap();
        assert_eq!(port.0.outbox().show(id.as_str()).unwrap(), bytes);
        let envelope = port.0.outbox().envelope(id.as_str()).unwrap();
        assert!(serde_json::to_string(&envelope).unwrap().contains("bob@example.com"));
    }
}

/// The `ExecutionStart` port on the local Step Functions, called in-process with the name the caller chose, as
/// StartExecution is: a name already used (a closed execution, or a running one with another input) is
/// [`StartedExecution::AlreadyExists`]; a running one with the same input is handed back, and nothing new runs.
///
/// Weak, and set once the stack has built Step Functions: executions invoke functions, so they are built after them.
#[derive(Clone, Default)]
pub struct LocalExecutions(pub Arc<OnceLock<Weak<local_sfn::Executions>>>);

/// A start before the stack finished starting.
#[derive(Debug, thiserror::Error)]
#[error("the local Step Functions is not running (the stack is starting or stopping)")]
struct ExecutionsNotStarted;

impl domain::ports::ExecutionStart for LocalExecutions {
    async fn start_execution(
        &self,
        state_machine_arn: &str,
        name: &str,
        input: &serde_json::Value,
    ) -> Result<domain::ports::StartedExecution, ServiceError> {
        use domain::ports::StartedExecution;
        let executions = self
            .0
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| ServiceError::Unavailable(Box::new(ExecutionsNotStarted)))?;
        let request = local_sfn::executions::StartRequest {
            state_machine_arn: state_machine_arn.to_owned(),
            name: Some(name.to_owned()),
            input: Some(input.to_string()),
        };
        match executions.start(request).await {
            Ok(record) => Ok(StartedExecution::Started { execution_arn: record.execution_arn }),
            Err(e) => match e.code() {
                "ExecutionAlreadyExists" => Ok(StartedExecution::AlreadyExists),
                "StateMachineDoesNotExist" => Err(ServiceError::NotFound(Box::new(e))),
                "InvalidArn" | "InvalidName" | "InvalidExecutionInput" => Err(ServiceError::InvalidInput(Box::new(e))),
                _ => Err(ServiceError::Unavailable(Box::new(e))),
            },
        }
    }
}
