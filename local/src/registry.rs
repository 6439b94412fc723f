//! The functions the local stack can run, by the binary name `template.yaml` builds (`BuildProperties.Binary`).
//!
//! Each entry builds the same handler the Lambda binary runs (`<crate>::handle`), wired to the local adapters
//! instead of the AWS ones, from the function's environment as the template declares it. So a table name, a
//! secret or a new variable in the template reaches the function locally exactly as it will on AWS.

use apigw::{HttpEvent, HttpResponse};
use aws_lambda_events::event::{eventbridge::EventBridgeEvent, s3::S3Event};
use domain::invoice::service::StepError;
use local_adapters::LocalStore;
use local_core::BoxFuture;
use local_lambda::{Env, EnvError, FunctionError, Handler};
use serde_json::Value;
use std::{future::Future, sync::Arc};

/// What the local stack provides to handlers in place of AWS services.
#[derive(Clone)]
pub struct Adapters {
    pub store: LocalStore,
    /// The local EventBridge (set once the stack has built it).
    pub events: crate::adapters::LocalEvents,
    /// The local SES.
    pub mail: crate::adapters::LocalMail,
    /// The local S3 (set once the stack has built it).
    pub objects: crate::adapters::LocalObjects,
    /// The local Step Functions (set once the stack has built it).
    pub executions: crate::adapters::LocalExecutions,
}

/// Why a function's handler cannot be built; start-up fails with it.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error("{function}: {source}")]
    Store { function: String, source: Box<local_adapters::OpenError> },
}

type Build = fn(&Env<'_>, &Adapters) -> Result<Arc<dyn Handler>, BuildError>;

pub struct Binary {
    pub name: &'static str,
    /// The Rust function that handles events, for `local routes`.
    pub handler: &'static str,
    pub build: Build,
}

/// An HTTP API (payload 2.0) function: JSON event in, response out.
struct HttpFn<S, F> {
    state: Arc<S>,
    f: F,
}

impl<S, F, Fut> Handler for HttpFn<S, F>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, HttpEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            let event: HttpEvent = serde_json::from_value(event)
                .map_err(|e| FunctionError::new("InvalidEvent", format!("not an HTTP API v2 event: {e}")))?;
            let response = (self.f)(self.state.clone(), event).await;
            serde_json::to_value(&response).map_err(|e| FunctionError::new("InvalidResponse", e.to_string()))
        })
    }
}

fn http<S, F, Fut>(state: S, f: F) -> Arc<dyn Handler>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, HttpEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    Arc::new(HttpFn { state: Arc::new(state), f })
}

/// A function invoked directly (by a state machine's Task state): JSON event in, its result or its named error out,
/// as `aws_adapters::lambda::serve_fallible` reports them on AWS.
struct DirectFn<S, F> {
    state: Arc<S>,
    f: F,
}

impl<S, F, Fut, R, T, M> Handler for DirectFn<S, F>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, (T, M)>> + Send + 'static,
    R: serde::Serialize,
    T: Into<String>,
    M: Into<String>,
{
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            let result = (self.f)(self.state.clone(), event).await.map_err(|(t, m)| FunctionError::new(t, m))?;
            serde_json::to_value(&result).map_err(|e| FunctionError::new("InvalidResponse", e.to_string()))
        })
    }
}

fn direct<S, F, Fut, R, T, M>(state: S, f: F) -> Arc<dyn Handler>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, (T, M)>> + Send + 'static,
    R: serde::Serialize + 'static,
    T: Into<String> + 'static,
    M: Into<String> + 'static,
{
    Arc::new(DirectFn { state: Arc::new(state), f })
}

/// A function an event source hands a typed event to (a DynamoDB stream batch, an EventBridge event): the JSON
/// is read into the event type the Lambda binary reads, and the handler's answer is returned as JSON.
struct EventFn<S, E, F> {
    state: Arc<S>,
    f: F,
    event: std::marker::PhantomData<fn() -> E>,
}

impl<S, E, F, Fut, R> Handler for EventFn<S, E, F>
where
    S: Send + Sync + 'static,
    E: serde::de::DeserializeOwned + 'static,
    F: Fn(Arc<S>, E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, FunctionError>> + Send + 'static,
    R: serde::Serialize,
{
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            let event: E = serde_json::from_value(event).map_err(|e| {
                FunctionError::new("InvalidEvent", format!("not a {} event: {e}", std::any::type_name::<E>()))
            })?;
            let result = (self.f)(self.state.clone(), event).await?;
            serde_json::to_value(&result).map_err(|e| FunctionError::new("InvalidResponse", e.to_string()))
        })
    }
}

fn on_event<S, E, F, Fut, R>(state: S, f: F) -> Arc<dyn Handler>
where
    S: Send + Sync + 'static,
    E: serde::de::DeserializeOwned + 'static,
    F: Fn(Arc<S>, E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, FunctionError>> + Send + 'static,
    R: serde::Serialize + 'static,
{
    Arc::new(EventFn { state: Arc::new(state), f, event: std::marker::PhantomData })
}

fn activity(env: &Env<'_>, s: &Adapters) -> Result<local_adapters::SqliteActivity, BuildError> {
    s.store.activity(env.require("ACTIVITY_TABLE")?).map_err(store_error(env))
}

fn uploads_bucket(env: &Env<'_>) -> Result<domain::object::BucketName, BuildError> {
    domain::object::BucketName::parse(env.require("UPLOADS_BUCKET")?)
        .map_err(|e| env.invalid("UPLOADS_BUCKET", e).into())
}

fn renditions(env: &Env<'_>) -> Result<domain::photo::RenditionSpecs, BuildError> {
    domain::photo::RenditionSpecs::parse(env.require("RENDITIONS")?).map_err(|e| env.invalid("RENDITIONS", e).into())
}

fn sender(env: &Env<'_>) -> Result<domain::mail::MailAddress, BuildError> {
    domain::mail::MailAddress::parse(env.require("SENDER_EMAIL")?).map_err(|e| env.invalid("SENDER_EMAIL", e).into())
}

/// A function error from an event function's `(errorType, errorMessage)`.
fn named((error_type, message): (&'static str, String)) -> FunctionError {
    FunctionError::new(error_type, message)
}

fn event_bus(env: &Env<'_>) -> Result<domain::bus::EventBusName, BuildError> {
    domain::bus::EventBusName::parse(env.require("EVENT_BUS_NAME")?)
        .map_err(|e| env.invalid("EVENT_BUS_NAME", e).into())
}

fn store_error(env: &Env<'_>) -> impl FnOnce(local_adapters::OpenError) -> BuildError {
    let function = env.function.to_owned();
    move |source| BuildError::Store { function, source: Box::new(source) }
}

fn tasks(env: &Env<'_>, s: &Adapters) -> Result<local_adapters::SqliteTasks, BuildError> {
    s.store.tasks(env.require("TASKS_TABLE")?).map_err(store_error(env))
}

fn profiles(env: &Env<'_>, s: &Adapters) -> Result<local_adapters::SqliteProfiles, BuildError> {
    s.store.profiles(env.require("USERS_TABLE")?).map_err(store_error(env))
}

fn invoices(env: &Env<'_>, s: &Adapters) -> Result<local_adapters::SqliteInvoices, BuildError> {
    s.store.invoices(env.require("INVOICES_TABLE")?).map_err(store_error(env))
}

fn page_key(env: &Env<'_>) -> Result<domain::PageKey, BuildError> {
    domain::PageKey::new(env.require("PAGE_TOKEN_SECRET")?.as_bytes().to_vec())
        .map_err(|e| env.invalid("PAGE_TOKEN_SECRET", e).into())
}

pub static BINARIES: &[Binary] =
    &[
        Binary {
            name: "create-task",
            handler: "create_task::handle",
            build: |env, s| Ok(http(tasks(env, s)?, |st, ev| async move { create_task::handle(&*st, ev).await })),
        },
        Binary {
            name: "get-task",
            handler: "get_task::handle",
            build: |env, s| Ok(http(tasks(env, s)?, |st, ev| async move { get_task::handle(&*st, ev).await })),
        },
        Binary {
            name: "list-tasks",
            handler: "list_tasks::handle",
            build: |env, s| {
                let state = (tasks(env, s)?, page_key(env)?);
                Ok(http(state, |st, ev| async move { list_tasks::handle(&st.0, &st.1, ev).await }))
            },
        },
        Binary {
            name: "update-task",
            handler: "update_task::handle",
            build: |env, s| Ok(http(tasks(env, s)?, |st, ev| async move { update_task::handle(&*st, ev).await })),
        },
        Binary {
            name: "delete-task",
            handler: "delete_task::handle",
            build: |env, s| Ok(http(tasks(env, s)?, |st, ev| async move { delete_task::handle(&*st, ev).await })),
        },
        Binary {
            name: "get-profile",
            handler: "get_profile::handle",
            build: |env, s| {
                let state = get_profile::Profiles {
                    store: profiles(env, s)?,
                    objects: s.objects.clone(),
                    bucket: uploads_bucket(env)?,
                };
                Ok(http(state, |st, ev| async move { get_profile::handle(&*st, ev).await }))
            },
        },
        Binary {
            name: "update-profile",
            handler: "update_profile::handle",
            build: |env, s| Ok(http(profiles(env, s)?, |st, ev| async move { update_profile::handle(&*st, ev).await })),
        },
        Binary {
            name: "check-task",
            handler: "check_task::handle",
            build: |env, s| {
                Ok(direct(tasks(env, s)?, |st, ev| async move {
                    check_task::handle(&*st, ev).await.map_err(check_task::CheckError::into_parts)
                }))
            },
        },
        Binary {
            name: "publish-task-events",
            handler: "publish_task_events::handle",
            build: |env, s| {
                let state = (s.events.clone(), event_bus(env)?);
                Ok(on_event(state, |st, ev: aws_lambda_events::event::dynamodb::Event| async move {
                    Ok::<_, FunctionError>(publish_task_events::handle(&st.0, &st.1, ev).await)
                }))
            },
        },
        Binary {
            name: "record-task-activity",
            handler: "record_task_activity::handle",
            build: |env, s| {
                Ok(on_event(activity(env, s)?, |st, ev: EventBridgeEvent<Value>| async move {
                    record_task_activity::handle(&*st, ev).await.map_err(|e| {
                        let (t, m) = e.into_parts();
                        FunctionError::new(t, m)
                    })
                }))
            },
        },
        Binary {
            name: "notify-task-done",
            handler: "notify_task_done::handle",
            build: |env, s| {
                let notifier = notify_task_done::Notifier {
                    profiles: profiles(env, s)?,
                    claims: s.store.idempotency(env.require("IDEMPOTENCY_TABLE")?).map_err(store_error(env))?,
                    mail: s.mail.clone(),
                    sender: sender(env)?,
                };
                Ok(on_event(notifier, |st, ev: EventBridgeEvent<Value>| async move {
                    notify_task_done::handle(&*st, ev).await.map_err(|e| {
                        let (t, m) = e.into_parts();
                        FunctionError::new(t, m)
                    })
                }))
            },
        },
        Binary {
            name: "get-task-activity",
            handler: "get_task_activity::handle",
            build: |env, s| {
                let state = (activity(env, s)?, tasks(env, s)?, page_key(env)?);
                Ok(http(state, |st, ev| async move { get_task_activity::handle(&st.0, &st.1, &st.2, ev).await }))
            },
        },
        Binary {
            name: "request-photo-upload",
            handler: "request_photo_upload::handle",
            build: |env, s| {
                let state = request_photo_upload::Uploads {
                    profiles: profiles(env, s)?,
                    objects: s.objects.clone(),
                    bucket: uploads_bucket(env)?,
                };
                Ok(http(state, |st, ev| async move { request_photo_upload::handle(&*st, ev).await }))
            },
        },
        Binary {
            name: "resize-photo",
            handler: "resize_photo::handle",
            build: |env, s| {
                let resizer = domain::photo::service::Resizer {
                    photos: profiles(env, s)?,
                    objects: s.objects.clone(),
                    render: resize_photo::PhotoRenderer::default(),
                    bucket: uploads_bucket(env)?,
                    specs: renditions(env)?,
                };
                Ok(on_event(resizer, |st, ev: S3Event| async move {
                    resize_photo::handle(&*st, ev).await.map_err(|e| named(e.into_parts()))
                }))
            },
        },
        Binary {
            name: "record-photo",
            handler: "record_photo::handle",
            build: |env, s| {
                let recorder = domain::photo::service::Recorder {
                    photos: profiles(env, s)?,
                    objects: s.objects.clone(),
                    events: s.events.clone(),
                    bus: event_bus(env)?,
                    bucket: uploads_bucket(env)?,
                    specs: renditions(env)?,
                };
                Ok(on_event(recorder, |st, ev: S3Event| async move {
                    record_photo::handle(&*st, ev).await.map_err(|e| named(e.into_parts()))
                }))
            },
        },
        Binary {
            name: "notify-photo-processed",
            handler: "notify_photo_processed::handle",
            build: |env, s| {
                let notifier = notify_photo_processed::Notifier {
                    profiles: profiles(env, s)?,
                    claims: s.store.idempotency(env.require("IDEMPOTENCY_TABLE")?).map_err(store_error(env))?,
                    mail: s.mail.clone(),
                    sender: sender(env)?,
                };
                Ok(on_event(notifier, |st, ev: EventBridgeEvent<Value>| async move {
                    notify_photo_processed::handle(&*st, ev).await.map_err(|e| named(e.into_parts()))
                }))
            },
        },
        Binary {
            name: "start-invoice",
            handler: "start_invoice::handle",
            build: |env, s| {
                let starter = start_invoice::Starter {
                    executions: s.executions.clone(),
                    state_machine_arn: env.require("STATE_MACHINE_ARN")?.to_owned(),
                };
                Ok(on_event(starter, |st, ev: S3Event| async move {
                    start_invoice::handle(&*st, ev).await.map_err(|e| named(e.into_parts()))
                }))
            },
        },
        Binary {
            name: "parse-invoice",
            handler: "parse_invoice::handle",
            build: |env, s| {
                let reader = parse_invoice::Reader {
                    objects: s.objects.clone(),
                    parser: parse_invoice::PdfParser::default(),
                    bucket: uploads_bucket(env)?,
                };
                Ok(direct(reader, |st, ev| async move {
                    parse_invoice::handle(&*st, ev).await.map_err(StepError::into_parts)
                }))
            },
        },
        Binary {
            name: "validate-invoice",
            handler: "validate_invoice::handle",
            build: |env, s| {
                Ok(direct(invoices(env, s)?, |st, ev| async move {
                    validate_invoice::handle(&*st, ev).await.map_err(StepError::into_parts)
                }))
            },
        },
        Binary {
            name: "store-invoice",
            handler: "store_invoice::handle",
            build: |env, s| {
                Ok(direct(invoices(env, s)?, |st, ev| async move {
                    store_invoice::handle(&*st, ev).await.map_err(StepError::into_parts)
                }))
            },
        },
        Binary {
            name: "email-invoice",
            handler: "email_invoice::handle",
            build: |env, s| {
                let emailer = email_invoice::Emailer {
                    objects: s.objects.clone(),
                    mail: s.mail.clone(),
                    profiles: profiles(env, s)?,
                    claims: s.store.idempotency(env.require("IDEMPOTENCY_TABLE")?).map_err(store_error(env))?,
                    sender: sender(env)?,
                    bucket: uploads_bucket(env)?,
                };
                Ok(direct(emailer, |st, ev| async move {
                    email_invoice::handle(&*st, ev).await.map_err(StepError::into_parts)
                }))
            },
        },
        Binary {
            name: "request-invoice-upload",
            handler: "request_invoice_upload::handle",
            build: |env, s| {
                let state = request_invoice_upload::Uploads {
                    profiles: profiles(env, s)?,
                    objects: s.objects.clone(),
                    bucket: uploads_bucket(env)?,
                };
                Ok(http(state, |st, ev| async move { request_invoice_upload::handle(&*st, ev).await }))
            },
        },
        Binary {
            name: "list-invoices",
            handler: "list_invoices::handle",
            build: |env, s| {
                let state = (invoices(env, s)?, page_key(env)?);
                Ok(http(state, |st, ev| async move { list_invoices::handle(&st.0, &st.1, ev).await }))
            },
        },
        Binary {
            name: "get-invoice",
            handler: "get_invoice::handle",
            build: |env, s| Ok(http(invoices(env, s)?, |st, ev| async move { get_invoice::handle(&*st, ev).await })),
        },
    ];

pub fn binary(name: &str) -> Option<&'static Binary> {
    BINARIES.iter().find(|b| b.name == name)
}
