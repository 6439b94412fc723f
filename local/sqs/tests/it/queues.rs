//! Queue operations, through the SDK.

use crate::{ACCOUNT, code, spawn_app};
use aws_sdk_sqs::types::QueueAttributeName as A;

#[tokio::test]
async fn a_queue_is_created_found_by_name_listed_and_deleted_with_urls_pointing_back_at_the_endpoint() {
    let app = spawn_app().await;
    let url = app.create_queue("orders").await;
    assert_eq!(url, format!("{}/{ACCOUNT}/orders", app.endpoint));
    let found = app.client.get_queue_url().queue_name("orders").send().await.unwrap();
    assert_eq!(found.queue_url(), Some(url.as_str()));
    let listed = app.client.list_queues().send().await.unwrap();
    assert_eq!(listed.queue_urls(), std::slice::from_ref(&url));

    app.client.delete_queue().queue_url(&url).send().await.unwrap();
    let e = app.client.get_queue_url().queue_name("orders").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "{e:?}");
    let e = app.client.delete_queue().queue_url(&url).send().await.unwrap_err();
    assert_eq!(code(&e), "AWS.SimpleQueueService.NonExistentQueue");
}

#[tokio::test]
async fn creating_an_existing_queue_with_the_same_attributes_returns_it_and_with_other_values_is_queue_name_exists() {
    let app = spawn_app().await;
    let create =
        |timeout: &str| app.client.create_queue().queue_name("jobs").attributes(A::VisibilityTimeout, timeout).send();
    let first = create("45").await.unwrap().queue_url.unwrap();
    assert_eq!(create("45").await.unwrap().queue_url.unwrap(), first);
    // No attributes at all asks for nothing that differs.
    assert_eq!(app.create_queue("jobs").await, first);
    let e = create("46").await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_name_exists()), "{e:?}");
}

#[tokio::test]
async fn list_queues_filters_by_prefix_and_pages_with_max_results_and_next_token() {
    let app = spawn_app().await;
    for name in ["a-1", "a-2", "a-3", "b-1"] {
        app.create_queue(name).await;
    }
    let all_a = app.client.list_queues().queue_name_prefix("a-").send().await.unwrap();
    assert_eq!(all_a.queue_urls().len(), 3);
    assert!(all_a.next_token().is_none());

    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page =
            app.client.list_queues().queue_name_prefix("a-").max_results(2).set_next_token(token).send().await.unwrap();
        assert!(page.queue_urls().len() <= 2);
        seen.extend(page.queue_urls().iter().map(|u| u.rsplit('/').next().unwrap().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["a-1", "a-2", "a-3"]);
    let e = app.client.list_queues().max_results(0).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
}

#[tokio::test]
async fn queue_attributes_report_settings_counts_and_the_arn_and_set_queue_attributes_changes_them() {
    let app = spawn_app().await;
    let url = app.create_queue("attrs").await;
    for body in ["one", "two"] {
        app.client.send_message().queue_url(&url).message_body(body).send().await.unwrap();
    }
    app.client.send_message().queue_url(&url).message_body("later").delay_seconds(600).send().await.unwrap();
    app.client.receive_message().queue_url(&url).send().await.unwrap();

    let attrs = app.client.get_queue_attributes().queue_url(&url).attribute_names(A::All).send().await.unwrap();
    let attrs = attrs.attributes().unwrap();
    let get = |name: A| attrs.get(&name).cloned().unwrap_or_default();
    assert_eq!(get(A::QueueArn), format!("arn:aws:sqs:us-east-1:{ACCOUNT}:attrs"));
    assert_eq!(get(A::ApproximateNumberOfMessages), "1");
    assert_eq!(get(A::ApproximateNumberOfMessagesNotVisible), "1");
    assert_eq!(get(A::ApproximateNumberOfMessagesDelayed), "1");
    assert_eq!(get(A::VisibilityTimeout), "30");
    assert_eq!(get(A::MessageRetentionPeriod), "345600");
    assert_eq!(get(A::MaximumMessageSize), "262144");
    assert_eq!(get(A::DelaySeconds), "0");
    assert_eq!(get(A::ReceiveMessageWaitTimeSeconds), "0");
    assert!(get(A::CreatedTimestamp).parse::<i64>().unwrap() > 1_600_000_000);
    assert!(get(A::LastModifiedTimestamp).parse::<i64>().is_ok());
    assert!(!attrs.contains_key(&A::RedrivePolicy));

    app.client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "5")
        .attributes(A::DelaySeconds, "2")
        .send()
        .await
        .unwrap();
    let named = app
        .client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::VisibilityTimeout)
        .attribute_names(A::DelaySeconds)
        .send()
        .await
        .unwrap();
    let named = named.attributes().unwrap();
    assert_eq!(named.len(), 2);
    assert_eq!(named[&A::VisibilityTimeout], "5");
    assert_eq!(named[&A::DelaySeconds], "2");
}

#[tokio::test]
async fn bad_names_and_attribute_values_are_refused_with_the_codes_aws_uses() {
    let app = spawn_app().await;
    let e = app.client.create_queue().queue_name("has space").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    let e = app.client.create_queue().queue_name("x".repeat(81)).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    let e = app.client.create_queue().queue_name("jobs.fifo").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_unsupported_operation()), "{e:?}");
    let e = app.client.create_queue().queue_name("q").attributes(A::VisibilityTimeout, "-1").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_attribute_value()), "{e:?}");
    let e = app.client.create_queue().queue_name("q").attributes(A::from("Colour"), "red").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_attribute_name()), "{e:?}");
    let e = app
        .client
        .create_queue()
        .queue_name("q")
        .attributes(
            A::RedrivePolicy,
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:nope","maxReceiveCount":3}"#,
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    let url = app.create_queue("q").await;
    let e =
        app.client.get_queue_attributes().queue_url(&url).attribute_names(A::from("Nope")).send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_attribute_name()), "{e:?}");
    let e = app.client.get_queue_attributes().queue_url("not a url").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_address()), "{e:?}");
    assert!(
        app.client
            .get_queue_attributes()
            .queue_url(&url)
            .send()
            .await
            .unwrap()
            .attributes()
            .is_none_or(|a| a.is_empty())
    );
}

#[tokio::test]
async fn any_url_whose_path_is_account_and_name_addresses_the_queue_including_the_aws_form_of_the_template_ref() {
    let app = spawn_app().await;
    app.create_queue("refd").await;
    let aws_form = local_template::queue_url(&local_core::Identity::default(), "refd");
    app.client.send_message().queue_url(&aws_form).message_body("via ref").send().await.unwrap();
    let got =
        app.client.receive_message().queue_url(format!("http://elsewhere:1/{ACCOUNT}/refd")).send().await.unwrap();
    assert_eq!(got.messages()[0].body(), Some("via ref"));
    let e =
        app.client.send_message().queue_url("http://h/999999999999/refd").message_body("x").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "{e:?}");
}

#[tokio::test]
async fn malformed_requests_are_400s_with_a_type_never_5xx() {
    use axum::body::Body;
    use local_core::endpoint::{CallContext, Service};
    let app = spawn_app().await;
    let call = |target: &str, body: &'static str| {
        let request = http::Request::post("/")
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Body::from(body))
            .unwrap();
        let ctx = CallContext { peer: "127.0.0.1:1".parse().unwrap(), request_id: "r".into() };
        app.sqs.serve(request, ctx)
    };
    for (target, body) in [
        ("AmazonSQS.CreateQueue", "{not json"),
        ("AmazonSQS.CreateQueue", r#"{"QueueName": 5}"#),
        ("AmazonSQS.CreateQueue", "{}"),
        ("AmazonSQS.SendMessage", r#"{"QueueUrl": "/123456789012/none", "MessageBody": "x"}"#),
        ("AmazonSQS.ReceiveMessage", r#"{"QueueUrl": "/123456789012/none", "MaxNumberOfMessages": 11}"#),
        ("AmazonSQS.NoSuchOperation", "{}"),
        ("AmazonSQS.TagQueue", "{}"),
        ("Other.Thing", "{}"),
        ("AmazonSQS.SendMessageBatch", r#"{"QueueUrl": "/123456789012/none", "Entries": "x"}"#),
    ] {
        let response = call(target, body).await;
        assert_eq!(response.status(), 400, "{target} {body}");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(v["__type"].as_str().is_some_and(|t| t.contains('#')), "{target}: {v}");
    }
    let response = call("AmazonSQS.GetQueueUrl", r#"{"QueueName": "none"}"#).await;
    assert_eq!(response.headers()["x-amzn-query-error"], "AWS.SimpleQueueService.NonExistentQueue;Sender");
}
