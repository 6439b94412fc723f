//! Message operations, through the SDK.

use crate::{code, spawn_app};
use aws_sdk_sqs::{
    primitives::Blob,
    types::{
        ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageAttributeValue,
        MessageSystemAttributeName as S, QueueAttributeName as A, SendMessageBatchRequestEntry,
    },
};
use std::time::{Duration, Instant};

fn entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder().id(id).message_body(body).build().unwrap()
}

#[tokio::test]
async fn a_sent_message_is_received_once_with_its_md5_and_is_gone_after_delete() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    let sent = app.client.send_message().queue_url(&url).message_body("derp").send().await.unwrap();
    assert_eq!(sent.md5_of_message_body(), Some("58fd9edd83341c29f1aebba81c31e257"));
    assert!(sent.md5_of_message_attributes().is_none());

    let got = app.client.receive_message().queue_url(&url).message_system_attribute_names(S::All).send().await.unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.body(), Some("derp"));
    assert_eq!(m.md5_of_body(), Some("58fd9edd83341c29f1aebba81c31e257"));
    let attrs = m.attributes().unwrap();
    assert_eq!(attrs[&S::ApproximateReceiveCount], "1");
    assert_eq!(attrs[&S::SenderId], crate::ACCOUNT);
    let sent_at: i64 = attrs[&S::SentTimestamp].parse().unwrap();
    let first: i64 = attrs[&S::ApproximateFirstReceiveTimestamp].parse().unwrap();
    assert!(first >= sent_at);

    // In flight: no one else gets it.
    assert!(app.client.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
    app.client.delete_message().queue_url(&url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
    // Deleting again with the same handle is not an error, as on AWS.
    app.client.delete_message().queue_url(&url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
    let attrs = app.client.get_queue_attributes().queue_url(&url).attribute_names(A::All).send().await.unwrap();
    assert_eq!(attrs.attributes().unwrap()[&A::ApproximateNumberOfMessagesNotVisible], "0");
    assert_eq!(attrs.attributes().unwrap()[&A::ApproximateNumberOfMessages], "0");
}

#[tokio::test]
async fn a_receipt_handle_that_is_not_this_queues_is_receipt_handle_is_invalid() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    let other = app.create_queue("other").await;
    app.client.send_message().queue_url(&other).message_body("x").send().await.unwrap();
    let got = app.client.receive_message().queue_url(&other).send().await.unwrap();
    let handle = got.messages()[0].receipt_handle().unwrap();
    for bad in ["garbage!", handle] {
        let e = app.client.delete_message().queue_url(&url).receipt_handle(bad).send().await.unwrap_err();
        assert!(e.as_service_error().is_some_and(|e| e.is_receipt_handle_is_invalid()), "{e:?}");
    }
}

#[tokio::test]
async fn receive_takes_up_to_max_number_of_messages_between_1_and_10() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    let entries: Vec<_> = (0..10).map(|i| entry(&format!("m{i}"), &format!("body {i}"))).collect();
    let sent = app.client.send_message_batch().queue_url(&url).set_entries(Some(entries.clone())).send().await.unwrap();
    assert_eq!(sent.successful().len(), 10);
    app.client.send_message_batch().queue_url(&url).set_entries(Some(entries)).send().await.unwrap();
    let got = app.client.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    assert_eq!(got.messages().len(), 10);
    for bad in [0, 11] {
        let e = app.client.receive_message().queue_url(&url).max_number_of_messages(bad).send().await.unwrap_err();
        assert_eq!(code(&e), "InvalidParameterValue");
    }
}

#[tokio::test]
async fn a_send_batch_answers_per_entry_and_refuses_empty_oversized_repeated_or_too_many_entries() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    let out = app
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("good", "fine"))
        .entries(entry("bad", "nul \u{0} inside"))
        .entries(
            SendMessageBatchRequestEntry::builder().id("late").message_body("x").delay_seconds(901).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 1);
    assert_eq!(out.successful()[0].id(), "good");
    assert_eq!(out.successful()[0].md5_of_message_body(), "fff25994ee3941b225ba898fd17d186f");
    let mut failed: Vec<_> =
        out.failed().iter().map(|f| (f.id().to_owned(), f.code().to_owned(), f.sender_fault())).collect();
    failed.sort();
    assert_eq!(
        failed,
        [("bad".into(), "InvalidMessageContents".into(), true), ("late".into(), "InvalidParameterValue".into(), true)]
    );

    let e = app.client.send_message_batch().queue_url(&url).set_entries(Some(vec![])).send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_empty_batch_request()), "{e:?}");
    let eleven: Vec<_> = (0..11).map(|i| entry(&i.to_string(), "x")).collect();
    let e = app.client.send_message_batch().queue_url(&url).set_entries(Some(eleven)).send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_too_many_entries_in_batch_request()), "{e:?}");
    let e = app
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", "x"))
        .entries(entry("a", "y"))
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_batch_entry_ids_not_distinct()), "{e:?}");
    let e = app.client.send_message_batch().queue_url(&url).entries(entry("no spaces", "x")).send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_batch_entry_id()), "{e:?}");
    let big = "x".repeat(100_000);
    let e = app
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", &big))
        .entries(entry("b", &big))
        .entries(entry("c", &big))
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_batch_request_too_long()), "{e:?}");
}

#[tokio::test]
async fn an_oversized_message_is_invalid_parameter_value_as_on_aws_and_the_queues_own_limit_applies() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    app.client.send_message().queue_url(&url).message_body("x".repeat(262_144)).send().await.unwrap();
    let e = app.client.send_message().queue_url(&url).message_body("x".repeat(262_145)).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    assert!(e.into_service_error().meta().message().unwrap().contains("shorter than 262144"));

    app.client.set_queue_attributes().queue_url(&url).attributes(A::MaximumMessageSize, "1024").send().await.unwrap();
    let e = app.client.send_message().queue_url(&url).message_body("x".repeat(1025)).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    let e = app.client.send_message().queue_url(&url).message_body("bad \u{FFFF}").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_message_contents()), "{e:?}");
}

#[tokio::test]
async fn message_attributes_round_trip_with_the_md5_aws_computes_and_are_selected_by_name_prefix_or_all() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    let number = MessageAttributeValue::builder().data_type("Number").string_value("1493147359900").build().unwrap();
    let sent = app
        .client
        .send_message()
        .queue_url(&url)
        .message_body("derp")
        .message_attributes("timestamp", number.clone())
        .send()
        .await
        .unwrap();
    // AWS's digest for this exact message.
    assert_eq!(sent.md5_of_message_attributes(), Some("235c5c510d26fb653d073faed50ae77c"));
    let got = app.client.receive_message().queue_url(&url).message_attribute_names("All").send().await.unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.md5_of_message_attributes(), Some("235c5c510d26fb653d073faed50ae77c"));
    assert_eq!(m.message_attributes().unwrap()["timestamp"], number);

    let binary = MessageAttributeValue::builder()
        .data_type("Binary")
        .binary_value(Blob::new(vec![0u8, 1, 255]))
        .build()
        .unwrap();
    let text = MessageAttributeValue::builder().data_type("String.custom").string_value("héllo").build().unwrap();
    let sent = app
        .client
        .send_message()
        .queue_url(&url)
        .message_body("two")
        .message_attributes("bin", binary.clone())
        .message_attributes("s", text.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.md5_of_message_attributes(), Some("045c01172c6f8d948d72cafdae5de541"));
    let got = app
        .client
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("bi.*")
        .message_attribute_names("bin")
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    let attrs = m.message_attributes().unwrap();
    assert_eq!(attrs.len(), 1);
    assert_eq!(attrs["bin"], binary);

    let bad = MessageAttributeValue::builder().data_type("Number").string_value("one").build().unwrap();
    let e = app
        .client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("n", bad)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
}

#[tokio::test]
async fn an_unacknowledged_message_comes_back_after_its_visibility_timeout_and_change_visibility_moves_that_time() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    app.client.send_message().queue_url(&url).message_body("again").send().await.unwrap();
    let first = app.client.receive_message().queue_url(&url).visibility_timeout(1).send().await.unwrap();
    assert_eq!(first.messages().len(), 1);
    assert!(app.client.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = app
        .client
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(S::ApproximateReceiveCount)
        .send()
        .await
        .unwrap();
    let m = &second.messages()[0];
    assert_eq!(m.attributes().unwrap()[&S::ApproximateReceiveCount], "2");

    // The first receipt is stale now.
    let e = app
        .client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(first.messages()[0].receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    app.client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let third = app.client.receive_message().queue_url(&url).send().await.unwrap();
    assert_eq!(third.messages().len(), 1);
    let handle = third.messages()[0].receipt_handle().unwrap();

    let batch = app
        .client
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("ok")
                .receipt_handle(handle)
                .visibility_timeout(600)
                .build()
                .unwrap(),
        )
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("bad")
                .receipt_handle("nope")
                .visibility_timeout(5)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.successful().len(), 1);
    assert_eq!(batch.failed()[0].code(), "ReceiptHandleIsInvalid");

    let deleted = app
        .client
        .delete_message_batch()
        .queue_url(&url)
        .entries(DeleteMessageBatchRequestEntry::builder().id("ok").receipt_handle(handle).build().unwrap())
        .entries(DeleteMessageBatchRequestEntry::builder().id("bad").receipt_handle("nope").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.successful()[0].id(), "ok");
    assert_eq!(deleted.failed()[0].id(), "bad");
    assert_eq!(deleted.failed()[0].code(), "ReceiptHandleIsInvalid");
    // A message that is not in flight cannot have its visibility changed.
    let e = app
        .client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(5)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().is_some_and(|e| e.is_message_not_inflight()), "{e:?}");
}

#[tokio::test]
async fn a_long_poll_is_woken_by_a_send_well_before_its_wait_ends() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    let client = app.client.clone();
    let poll_url = url.clone();
    let started = Instant::now();
    let poll =
        tokio::spawn(async move { client.receive_message().queue_url(poll_url).wait_time_seconds(20).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.client.send_message().queue_url(&url).message_body("wake up").send().await.unwrap();
    let got = poll.await.unwrap().unwrap();
    assert_eq!(got.messages()[0].body(), Some("wake up"));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());

    // An empty long poll waits its whole time, and no longer.
    let started = Instant::now();
    let got = app.client.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap();
    assert!(got.messages().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(950) && started.elapsed() < Duration::from_secs(3));
    let e = app.client.receive_message().queue_url(&url).wait_time_seconds(21).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
}

#[tokio::test]
async fn a_delayed_message_stays_invisible_until_its_delay_passes_and_a_long_poll_gets_it_then() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    app.client.send_message().queue_url(&url).message_body("soon").delay_seconds(1).send().await.unwrap();
    assert!(app.client.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
    let started = Instant::now();
    let got = app.client.receive_message().queue_url(&url).wait_time_seconds(5).send().await.unwrap();
    assert_eq!(got.messages()[0].body(), Some("soon"));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue() {
    let app = spawn_app().await;
    let dlq = app.create_queue("dead").await;
    let policy =
        format!(r#"{{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:{}:dead","maxReceiveCount":2}}"#, crate::ACCOUNT);
    let url = app
        .client
        .create_queue()
        .queue_name("work")
        .attributes(A::RedrivePolicy, &policy)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let sent = app.client.send_message().queue_url(&url).message_body("poison").send().await.unwrap();
    for _ in 0..2 {
        let got = app.client.receive_message().queue_url(&url).visibility_timeout(0).send().await.unwrap();
        assert_eq!(got.messages().len(), 1);
    }
    // The third receive finds it over its count: it goes to the dead-letter queue, not to the receiver.
    assert!(app.client.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
    let got = app.client.receive_message().queue_url(&dlq).message_system_attribute_names(S::All).send().await.unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.body(), Some("poison"));
    let attrs = m.attributes().unwrap();
    assert_eq!(attrs[&S::ApproximateReceiveCount], "1");
    assert_eq!(attrs[&S::DeadLetterQueueSourceArn], format!("arn:aws:sqs:us-east-1:{}:work", crate::ACCOUNT));
    let got = app.client.get_queue_attributes().queue_url(&url).attribute_names(A::RedrivePolicy).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(&got.attributes().unwrap()[&A::RedrivePolicy]).unwrap();
    assert_eq!(policy["maxReceiveCount"], 2);
}

#[tokio::test]
async fn purge_removes_every_message_of_the_queue() {
    let app = spawn_app().await;
    let url = app.create_queue("q").await;
    for i in 0..3 {
        app.client.send_message().queue_url(&url).message_body(format!("m{i}")).send().await.unwrap();
    }
    app.client.purge_queue().queue_url(&url).send().await.unwrap();
    assert!(app.client.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
}
