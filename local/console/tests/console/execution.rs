use crate::support::*;
use local_console::html::encode_segment;

fn path(arn: &str) -> String {
    format!("/_console/executions/{}", encode_segment(arn))
}

#[tokio::test]
async fn an_execution_page_shows_the_header_the_graph_and_the_history() {
    let console = spawn(TestSource::default()).await;
    let (status, html) = console.page(&path(&arn("invoice-000"))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"execution-status\"><span class=\"badge status-failed\">FAILED</span>"));
    assert!(html.contains("id=\"execution-error\" class=\"error-name\">InvalidInvoice<"));
    assert!(html.contains("id=\"execution-cause\""));
    assert!(html.contains("id=\"redrive-count\">0<"));
    assert!(html.contains("id=\"execution-duration\">1.5 s<"));
    let graph = between(&html, "<div id=\"graph\" class=\"graph\">", "</div>");
    assert!(graph.contains("<svg"), "{graph}");
    assert!(graph.contains("data-state=\"Parse\""));
    assert!(html.contains("id=\"legend\"") && html.contains("id=\"state-panel\""));
    let history = between(&html, "<table id=\"history\"", "</table>");
    assert_eq!(history.matches("<tr data-event-id=").count(), 7);
    assert!(history.contains("<td class=\"since\">200 ms</td>"), "time since start");
    assert!(
        history.contains("<td class=\"state-name\">Parse</td><td class=\"details\"><details>"),
        "scheduled event belongs to Parse"
    );
    assert!(history.contains("class=\"event-failed\""));
}

#[tokio::test]
async fn a_state_named_like_a_closing_script_tag_cannot_break_out_of_the_runs_json() {
    let console = spawn(TestSource::default()).await;
    let (_, html) = console.page(&path(&arn("invoice-000"))).await;
    assert!(!html.contains("</script><b>"), "the state name is escaped everywhere");
    assert!(!html.contains("<script>alert"), "so is an input holding a script");
    let json = between(&html, "<script type=\"application/json\" id=\"runs-data\">", "</script>");
    assert!(!json.contains('<') && !json.contains('>'), "{json}");
    let runs: serde_json::Value = serde_json::from_str(json).expect("the block is JSON");
    assert!(runs.get("</script><b>").is_some(), "and reads back to the real name: {runs}");
    assert!(runs.get("Parse").is_some());
    assert!(html.contains("&lt;/script&gt;&lt;b&gt;"));
}

#[tokio::test]
async fn a_failed_execution_offers_redrive_and_a_running_one_offers_stop() {
    let console = spawn(TestSource::default()).await;
    let (_, failed) = console.page(&path(&arn("invoice-000"))).await;
    assert!(failed.contains("id=\"redrive-form\" method=\"post\"") && !failed.contains("id=\"stop-form\""));
    let (_, running) = console.page(&path(&arn("invoice-001"))).await;
    assert!(running.contains("id=\"stop-form\" method=\"post\"") && !running.contains("id=\"redrive-form\""));
    let action = format!("action=\"{}/stop\"", path(&arn("invoice-001")));
    assert!(running.contains(&action), "{action}");
}

#[tokio::test]
async fn stop_and_redrive_answer_303_back_to_the_page_with_a_flash() {
    let console = spawn(TestSource::default()).await;
    let page = path(&arn("invoice-001"));
    let res =
        console.client.post(format!("{}{page}/stop", console.base)).form_pairs(&[("cause", "by hand")]).send().await;
    let res = res.expect("POST");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii").to_owned();
    assert_eq!(location, format!("{page}?done=stopped"));
    let (_, html) = console.page(&location).await;
    assert!(html.contains("id=\"flash\"") && html.contains("Execution stopped."));

    let failed = path(&arn("invoice-000"));
    let res = console.client.post(format!("{}{failed}/redrive", console.base)).send().await.expect("POST");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("{failed}?done=redriven").as_str());
    assert_eq!(
        console.calls(),
        vec![format!("stop {} by hand", arn("invoice-001")), format!("redrive {}", arn("invoice-000"))]
    );
}

#[tokio::test]
async fn source_errors_map_to_their_statuses_on_an_error_page() {
    let console = spawn(TestSource::default()).await;
    for (suffix, status) in [("missing", 404), ("invalid", 400), ("unsupported", 501), ("down", 502)] {
        let (got, html) = console.page(&path(&arn(suffix))).await;
        assert_eq!(got, status, "{suffix}");
        assert!(html.contains("id=\"error-message\""), "{html}");
        assert!(html.contains("id=\"nav\"") && html.contains("test stack"), "in the layout");
        let res = console.client.post(format!("{}{}/stop", console.base, path(&arn(suffix)))).send().await;
        assert_eq!(res.expect("POST").status(), status, "stop {suffix}");
    }
    // The list page too (the test source fails on a name filter ending in the kind).
    let (got, _) = console.page("/_console/?q=down").await;
    assert_eq!(got, 502);
}
