//! A fresh service per test: its own data directory, its own port, a client for it.

use aws_sdk_sesv2::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    error::ProvideErrorMetadata,
    types::{Body, Content, Destination, EmailContent, Message},
};
use axum::{Router, extract::Request};
use local_core::{
    Identity,
    endpoint::{CallContext, Service},
};
use local_ses::Ses;
use local_template::{NoSecrets, Template};
use std::{net::SocketAddr, path::Path, sync::Arc};

/// Two identities, one written as CloudFormation users do (`!Sub` over a parameter).
pub const TEMPLATE: &str = r#"
Parameters:
  Domain:
    Type: String
    Default: example.com
Resources:
  NoReply:
    Type: AWS::SES::EmailIdentity
    Properties:
      EmailIdentity: !Sub 'noreply@${Domain}'
  Brand:
    Type: AWS::SES::EmailIdentity
    Properties:
      EmailIdentity: brand.test
"#;

pub struct App {
    pub ses: Ses,
    pub client: Client,
    pub url: String,
    pub dir: tempfile::TempDir,
}

pub fn template() -> Template {
    Template::parse(TEMPLATE, Arc::new(NoSecrets)).unwrap()
}

pub fn open(dir: &Path) -> Ses {
    Ses::open(dir, &template(), Identity::default()).unwrap()
}

/// Serves `ses` alone on 127.0.0.1:0, as the stack's endpoint would after routing by signing name.
pub async fn serve(ses: Ses) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(move |request: Request| {
        let ses = ses.clone();
        async move {
            let ctx = CallContext { peer: SocketAddr::from(([127, 0, 0, 1], 1)), request_id: "req-1".into() };
            ses.serve(request, ctx).await
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

pub fn client(url: &str) -> Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

pub async fn spawn_app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let ses = open(dir.path());
    let url = serve(ses.clone()).await;
    App { client: client(&url), ses, url, dir }
}

pub fn simple(subject: &str, text: &str) -> EmailContent {
    let content = |s: &str| Content::builder().data(s).charset("UTF-8").build().unwrap();
    EmailContent::builder()
        .simple(Message::builder().subject(content(subject)).body(Body::builder().text(content(text)).build()).build())
        .build()
}

pub fn to(addresses: &[&str]) -> Destination {
    Destination::builder().set_to_addresses(Some(addresses.iter().map(|s| s.to_string()).collect())).build()
}

/// The error code and message of a failed SDK call.
pub fn code_of<E: ProvideErrorMetadata>(e: &aws_sdk_sesv2::error::SdkError<E>) -> (String, String) {
    let meta = e.as_service_error().expect("a service error, not a transport failure");
    (meta.code().unwrap_or_default().to_owned(), meta.message().unwrap_or_default().to_owned())
}

pub fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::new().parse(bytes).expect("the stored message parses")
}
