use crate::support::*;
use local_console::source::SourceError;

#[tokio::test]
async fn the_pipelines_page_shows_failed_items_linked_and_the_task_event_flow() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page("/_console/pipelines").await;
    assert_eq!(status, 200);
    let invoices = between(&html, "<table id=\"invoices\"", "</table>");
    assert!(invoices.contains("class=\"stage-failed\""));
    assert!(invoices.contains("InvalidInvoice: the total does not match"));
    assert!(invoices.contains("href=\"/_console/executions/arn%3Aaws%3Astates%3Aeu-west-1%3A123456789012%3Aexecution%3AInvoiceStateMachine%3Ainvoice-000\""));
    let photos = between(&html, "<table id=\"photos\"", "</table>");
    assert!(photos.contains("href=\"/_console/logs/req-9\""));
    assert!(html.contains("id=\"flow-events-put\" class=\"flow-step\"><b>12</b>"));
    assert!(html.contains("id=\"flow-dead-lettered\" class=\"flow-step bad\"><b>1</b>"));
    let rules = between(&html, "<table id=\"rules\"", "</table>");
    assert!(
        rules.contains("TaskDoneRule")
            && rules.contains("NotifyTaskDoneFunction")
            && rules.contains("&quot;TaskDone&quot;")
    );
}

#[tokio::test]
async fn pipelines_a_source_does_not_have_are_a_501_page() {
    let source = TestSource { pipelines: Err(SourceError::Unsupported("not on AWS".into())), ..TestSource::default() };
    let console = spawn(source).await;
    let (status, html) = console.page("/_console/pipelines").await;
    assert_eq!(status, 501);
    assert!(html.contains("not on AWS"));
}

#[tokio::test]
async fn the_dead_letters_page_shows_each_message_and_redrives_one() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page("/_console/dead-letters").await;
    assert_eq!(status, 200);
    let queue = between(&html, "<section class=\"dlq\" id=\"dlq-DeadLetterQueue\"", "</section>");
    assert!(queue.contains("async invocations of ResizePhotoFunction"));
    let row = between(queue, "<tr data-message-id=\"msg-1\">", "</tr>");
    assert!(row.contains("<td class=\"failed-target\">ResizePhotoFunction</td>"));
    assert!(row.contains("PhotoTooLarge: 9000x9000"));
    assert!(row.contains("<details class=\"original-event\">") && row.contains("photos/u1/&lt;p&gt;.jpg"));
    assert!(row.contains("href=\"/_console/logs/req-9\""));
    assert!(row.contains("name=\"queue_arn\" value=\"arn:aws:sqs:eu-west-1:123456789012:task-platform-dlq\""));

    let res = console
        .client
        .post(format!("{}/_console/dead-letters/redrive", console.base))
        .form_pairs(&[("queue_arn", DLQ), ("message_id", "msg-1")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(location.starts_with("/_console/dead-letters?done="), "{location}");
    let (_, html) = console.page(&location).await;
    assert!(html.contains("id=\"flash\"") && html.contains("invoked ResizePhotoFunction again (request r-2)"));
    assert_eq!(console.calls(), vec![format!("redrive-dl {DLQ} msg-1")]);

    let res = console
        .client
        .post(format!("{}/_console/dead-letters/redrive", console.base))
        .form_pairs(&[("queue_arn", DLQ)])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 400, "a form without message_id");
}

#[tokio::test]
async fn the_cost_page_shows_the_measurements_and_an_estimate_for_the_default_volume() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page("/_console/cost").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"volume-invoices\" name=\"invoices\" inputmode=\"numeric\" value=\"500\""));
    assert!(html.contains("name=\"photos\" inputmode=\"numeric\" value=\"10000\""));
    assert!(html.contains("name=\"requests\" inputmode=\"numeric\" value=\"100000\""));
    let row = between(&html, "<tr data-function=\"ParseInvoiceFunction\">", "</tr>");
    for cell in [
        "<td class=\"invocations num\">40</td>",
        "<td class=\"cold-starts num\">2</td>",
        "<td class=\"p50 num\">12.5 ms</td>",
        "<td class=\"p99 num\">80.0 ms</td>",
        "<td class=\"memory num\">256 MB</td>",
        "<td class=\"architecture\">arm64</td>",
        "<td class=\"gb-seconds num\">0.125</td>",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(between(&html, "<table id=\"counts\"", "</table>").contains("InvoicesStored"));
    assert!(html.contains("id=\"cost-total\" class=\"num\">$"));
    assert!(between(&html, "<table id=\"estimate\"", "</tfoot>").contains("class=\"basis\""));
    let (status, html) = console.page("/_console/cost?invoices=1%2C000&photos=0&requests=5").await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"1000\""));
}

#[tokio::test]
async fn a_bad_cost_volume_is_a_400_saying_which() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page("/_console/cost?invoices=500&photos=lots").await;
    assert_eq!(status, 400);
    assert!(html.contains("photos: expected a whole number of photos a month"), "{html}");
    let (status, html) = console.page("/_console/cost?requests=-3").await;
    assert_eq!(status, 400);
    assert!(html.contains("requests:"));
}

#[tokio::test]
async fn the_logs_page_shows_a_requests_lines_coloured_by_level() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page("/_console/logs/req-1").await;
    assert_eq!(status, 200);
    let table = between(&html, "<table id=\"logs\"", "</table>");
    assert_eq!(table.matches("<tr class=\"log ").count(), 2);
    assert!(table.contains("<tr class=\"log level-error\">"));
    assert!(table.contains("&lt;b&gt;boom&lt;/b&gt;") && !table.contains("<b>boom"));
}

#[tokio::test]
async fn the_assets_are_served_with_their_types_and_cache_headers() {
    let console = spawn(TestSource::default()).await;
    let css = console.get("/_console/assets/console.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.headers()["cache-control"].to_str().unwrap_or("").contains("max-age"));
    assert!(css.text().await.unwrap_or_default().contains(".status-failed"));
    let js = console.get("/_console/assets/console.js").await;
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.text().await.unwrap_or_default().contains("EventSource"));
}
