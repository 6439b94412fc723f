//! Bad input to the emulated services, through the stack's one endpoint: each gets AWS's error code and a 4xx —
//! malformed XML, a missing bucket, a bad or expired signature, an oversized message, an unsigned call — and a
//! barrage of garbage aimed at every service never gets a 5xx.

use aws_sdk_s3::error::ProvideErrorMetadata;
use local::local_core::{
    Credentials as LocalCredentials,
    sigv4::{PresignRequest, presign},
};
use std::time::{Duration, SystemTime};
use system_tests::{TestApp, spawn_app};

fn s3(app: &TestApp) -> aws_sdk_s3::Client {
    crate::sdk_s3::client(app, "test")
}

/// A presigned URL on the stack for `method path?query`, signed at `at` for `expires_in`.
fn presigned(
    app: &TestApp,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    at: SystemTime,
    expires_in: u64,
) -> String {
    let request = PresignRequest {
        method,
        endpoint: &app.base,
        path,
        query,
        headers: &[],
        region: "us-east-1",
        service: "s3",
        expires_in: Duration::from_secs(expires_in),
    };
    presign(&request, &LocalCredentials::default(), at)
}

fn bucket(app: &TestApp) -> String {
    app.stack.template().physical_name("UploadsBucket").unwrap()
}

async fn error_code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    let code = body.split("<Code>").nth(1).and_then(|c| c.split("</Code>").next()).unwrap_or(&body).to_owned();
    (status, code)
}

#[tokio::test]
async fn malformed_xml_is_malformed_xml_and_a_missing_bucket_is_no_such_bucket() {
    let app = spawn_app().await;
    let bucket = bucket(&app);
    let upload = s3(&app).create_multipart_upload().bucket(&bucket).key("k").send().await.unwrap();
    let id = upload.upload_id().unwrap();
    let url = presigned(&app, "POST", &format!("/{bucket}/k"), &[("uploadId", id)], SystemTime::now(), 60);
    let r = app.client.post(&url).body("<CompleteMultipartUpload><Part>not xml").send().await.unwrap();
    assert_eq!(error_code(r).await, (400, "MalformedXML".to_owned()));

    let e = s3(&app).get_object().bucket("no-such-bucket-here").key("k").send().await.unwrap_err();
    assert_eq!(e.code(), Some("NoSuchBucket"), "{e:?}");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
}

#[tokio::test]
async fn presigned_urls_that_expired_or_ask_for_an_impossible_lifetime_are_refused() {
    let app = spawn_app().await;
    let path = format!("/{}/any", bucket(&app));
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let expired = app.client.get(presigned(&app, "GET", &path, &[], an_hour_ago, 60)).send().await.unwrap();
    let (status, code) = error_code(expired).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    for lifetime in [0, 604_801] {
        let r = app.client.get(presigned(&app, "GET", &path, &[], SystemTime::now(), lifetime)).send().await.unwrap();
        assert_eq!(r.status(), 400, "an X-Amz-Expires of {lifetime}");
    }
    let url = presigned(&app, "GET", &path, &[], SystemTime::now(), 60);
    // The same length, one hex digit different.
    let last = url.chars().last().unwrap();
    let forged = format!("{}{}", &url[..url.len() - 1], if last == '0' { '1' } else { '0' });
    let (status, code) = error_code(app.client.get(forged).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));
}

#[tokio::test]
async fn an_oversized_sqs_message_is_invalid_parameter_value() {
    let app = spawn_app().await;
    let sqs = crate::async_invoke::sqs(&app);
    let name = app.stack.template().physical_name("DeadLetterQueue").unwrap();
    let url = sqs.get_queue_url().queue_name(name).send().await.unwrap().queue_url().unwrap().to_owned();
    let e = sqs.send_message().queue_url(&url).message_body("x".repeat(262_145)).send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValue"), "{e:?}");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
}

#[tokio::test]
async fn unsigned_calls_to_sqs_and_ses_are_refused_as_missing_authentication() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/"))
        .header("x-amz-target", "AmazonSQS.ListQueues")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("MissingAuthenticationToken"));
}

#[tokio::test]
async fn garbage_aimed_at_every_service_gets_a_4xx_never_a_5xx() {
    let app = spawn_app().await;
    let scope = |service: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=test/20261130/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        )
    };
    let targets =
        ["AWSStepFunctions.StartExecution", "AWSStepFunctions.Nope", "AmazonSQS.SendMessage", "AmazonSQS.", "Nope.Op"];
    let bodies: [&[u8]; 5] = [b"", b"{", b"\xff\xfe\x00", b"[1,2,3]", b"{\"stateMachineArn\": 7}"];
    let mut seen = Vec::new();
    for target in targets {
        for body in bodies {
            let r =
                app.client.post(app.url("/")).header("x-amz-target", target).body(body.to_vec()).send().await.unwrap();
            seen.push((format!("{target} {body:?}"), r.status().as_u16()));
        }
    }
    for service in ["s3", "sqs", "ses", "states", "email", "nonsense"] {
        for (method, path) in
            [("GET", "/"), ("PUT", "/b/../../etc/passwd"), ("POST", "/v2/email/outbound-emails"), ("DELETE", "/x/y")]
        {
            let r = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .header("authorization", scope(service))
                .header("x-amz-date", "20261130T000000Z")
                .body("<<garbage>>")
                .send()
                .await
                .unwrap();
            seen.push((format!("{service} {method} {path}"), r.status().as_u16()));
        }
    }
    let server_errors: Vec<_> = seen.iter().filter(|(_, s)| *s >= 500).collect();
    assert!(server_errors.is_empty(), "5xx for: {server_errors:?}");
    assert!(seen.iter().all(|(_, s)| (400..500).contains(s)), "{seen:?}");
}
