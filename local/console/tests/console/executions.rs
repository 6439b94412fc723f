use crate::support::*;
use local_console::source::{ExecutionChange, Status};
use std::time::{Duration, Instant};

fn rows(html: &str) -> Vec<&str> {
    between(html, "<table id=\"executions\"", "</tbody>").split("<tr data-arn=\"").skip(1).collect()
}

fn unescape(href: &str) -> String {
    href.replace("&amp;", "&")
}

fn link(html: &str, id: &str) -> Option<String> {
    let start = format!("<a id=\"{id}\" href=\"");
    html.contains(&start).then(|| unescape(between(html, &start, "\"")))
}

#[tokio::test]
async fn the_executions_page_lists_the_machines_and_the_newest_fifty_executions() {
    let console = spawn(TestSource::default()).await;
    let res = console.get("/_console/").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    let html = res.text().await.expect("body");
    assert!(html.contains("id=\"machines\""));
    assert!(html.contains("InvoiceStateMachine") && html.contains("PhotoStateMachine"));
    assert!(html.contains("test stack &lt;in memory&gt;"), "the label is shown, escaped");
    let rows = rows(&html);
    assert_eq!(rows.len(), 50);
    assert!(rows[0].contains(">invoice-119<"), "newest first");
    assert!(html.contains("120 matching"));
    assert!(link(&html, "newer").is_none() && link(&html, "older").is_some());
    let queries = console.source.queries.lock().map(|q| q.clone()).unwrap_or_default();
    assert_eq!(queries.len(), 1, "one page asked of the source");
    assert_eq!(queries[0].page_size, 50);
}

#[tokio::test]
async fn failed_rows_show_the_error_and_the_cause() {
    let console = spawn(TestSource::default()).await;
    let (_, html) = console.page("/_console/?status=FAILED").await;
    let rows = rows(&html);
    assert!(!rows.is_empty());
    for row in rows {
        assert!(row.contains("status-failed"));
        assert!(row.contains("<span class=\"error-name\">InvalidInvoice</span>"));
        assert!(row.contains("the total does not match the lines"));
    }
}

#[tokio::test]
async fn filters_reach_the_source_and_the_paging_links_keep_them() {
    let console = spawn(TestSource::default()).await;
    let first = format!("/_console/?machine={MACHINE}&status=SUCCEEDED&q=INVOICE");
    let (status, html) = console.page(&first).await;
    assert_eq!(status, 200);
    let q = console.source.queries.lock().map(|q| q[0].clone()).expect("a query");
    assert_eq!(q.machine_arn.as_deref(), Some(MACHINE));
    assert_eq!(q.status, Some(Status::Succeeded));
    assert_eq!(q.name_contains.as_deref(), Some("INVOICE"));
    assert!(rows(&html).iter().all(|r| r.contains("data-status=\"SUCCEEDED\"")));
    assert!(html.contains("60 matching"));
    assert!(html.contains("<option value=\"SUCCEEDED\" selected>"), "the form keeps the filter");
    assert!(html.contains("id=\"filter-q\" value=\"INVOICE\""));

    let older = link(&html, "older").expect("an Older link");
    for part in ["machine=arn%3Aaws%3Astates", "status=SUCCEEDED", "q=INVOICE", "next=50", "prev="] {
        assert!(older.contains(part), "{part} in {older}");
    }
    let (_, page2) = console.page(&older).await;
    let rows2 = rows(&page2);
    assert_eq!(rows2.len(), 10);
    assert!(rows2.iter().all(|r| r.contains("data-status=\"SUCCEEDED\"")));
    assert!(link(&page2, "older").is_none(), "the last page");
    assert!(page2.contains("data-live=\"off\""), "live rows only on the first page");
    let newer = link(&page2, "newer").expect("a Newer link");
    assert!(newer.contains("status=SUCCEEDED") && newer.contains("q=INVOICE") && !newer.contains("next="), "{newer}");
    let (_, back) = console.page(&newer).await;
    assert_eq!(rows(&back), rows(&html), "Newer leads back to the first page");
}

#[tokio::test]
async fn paging_three_deep_and_back_returns_the_same_pages() {
    let console = spawn(TestSource::default()).await;
    let (_, p1) = console.page("/_console/?q=invoice").await;
    let (_, p2) = console.page(&link(&p1, "older").expect("older")).await;
    let (_, p3) = console.page(&link(&p2, "older").expect("older")).await;
    assert_eq!(rows(&p3).len(), 20);
    let (_, back2) = console.page(&link(&p3, "newer").expect("newer")).await;
    assert_eq!(rows(&back2), rows(&p2));
}

#[tokio::test]
async fn a_bad_status_filter_is_a_400_naming_the_parameter() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page("/_console/?status=EXPLODED").await;
    assert_eq!(status, 400);
    assert!(html.contains("status: expected one of RUNNING"), "{html}");
    assert!(html.contains("id=\"nav\""), "the error is shown in the layout");
}

#[tokio::test]
async fn the_page_says_how_it_stays_live() {
    let console = spawn(TestSource::default()).await;
    let (_, html) = console.page("/_console/").await;
    assert!(html.contains("data-live=\"sse\"") && html.contains("id=\"live\""));
    let console = spawn(TestSource { changes: None, ..TestSource::default() }).await;
    let (_, html) = console.page("/_console/").await;
    assert!(html.contains("data-live=\"poll\""));
    assert!(html.contains("polls for them every 5 seconds"));
}

#[tokio::test]
async fn events_stream_the_changes_sent_on_the_sources_channel() {
    let console = spawn(TestSource::default()).await;
    let mut res = console.get("/_console/events").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let tx = console.source.changes.clone().expect("a channel");
    let change = ExecutionChange { summary: summary("invoice-new", Status::Running, 500) };
    tx.send(change).expect("a subscriber");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.contains("\n\n") || !seen.contains("event: execution") {
        assert!(Instant::now() < deadline, "no event in {seen:?}");
        match tokio::time::timeout(Duration::from_secs(5), res.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("the stream ended: {other:?} after {seen:?}"),
        }
    }
    let data = seen.lines().find_map(|l| l.strip_prefix("data:")).expect("a data line");
    let json: serde_json::Value = serde_json::from_str(data.trim()).expect("JSON");
    assert_eq!(json["summary"]["name"], "invoice-new");
    assert_eq!(json["summary"]["status"], "RUNNING");
}

#[tokio::test]
async fn events_answer_204_when_the_source_cannot_push() {
    let console = spawn(TestSource { changes: None, ..TestSource::default() }).await;
    assert_eq!(console.get("/_console/events").await.status(), 204);
}

#[tokio::test]
async fn the_executions_page_with_ten_thousand_executions_shows_one_page_of_fifty() {
    let executions = (0..10_000).rev().map(|i| summary(&format!("invoice-{i:05}"), Status::Failed, i)).collect();
    let console = spawn(TestSource { executions, ..TestSource::default() }).await;
    // How fast it renders is measured by `cargo bench -p local --bench console`, not here.
    let (status, html) = console.page("/_console/?status=FAILED").await;
    assert_eq!(status, 200);
    assert_eq!(rows(&html).len(), 50);
}
