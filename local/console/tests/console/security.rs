use crate::support::*;
use local_console::html::encode_segment;

fn stop_url(console: &Console) -> String {
    format!("{}/_console/executions/{}/stop", console.base, encode_segment(&arn("invoice-001")))
}

#[tokio::test]
async fn a_cross_site_post_is_refused_with_403_and_does_nothing() {
    let console = spawn(TestSource::default()).await;
    let host = console.base.trim_start_matches("http://").to_owned();
    for (name, value) in [
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-site", "same-site".to_owned()),
        ("origin", "http://evil.example".to_owned()),
        ("origin", "null".to_owned()),
    ] {
        let res = console.client.post(stop_url(&console)).header(name, value.clone()).send().await.expect("POST");
        assert_eq!(res.status(), 403, "{name}: {value}");
        assert!(res.text().await.unwrap_or_default().contains("Cross-site request refused"));
    }
    let res = console
        .client
        .post(format!("{}/_console/dead-letters/redrive", console.base))
        .header("sec-fetch-site", "cross-site")
        .form_pairs(&[("queue_arn", DLQ), ("message_id", "msg-1")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 403);
    assert!(console.calls().is_empty());

    let res = console
        .client
        .post(stop_url(&console))
        .header("sec-fetch-site", "same-origin")
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 303, "the console's own form");
    assert_eq!(console.calls().len(), 1);
}

#[tokio::test]
async fn every_page_carries_the_content_security_policy() {
    let console = spawn(TestSource::default()).await;
    for path in ["/_console/", "/_console/cost", "/_console/nowhere", "/_console/assets/console.js"] {
        let res = console.get(path).await;
        assert_eq!(res.headers()["content-security-policy"], local_console::CSP, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn an_unknown_path_under_the_console_is_a_404_page() {
    let console = spawn(TestSource::default()).await;
    for path in ["/_console/nowhere", "/_console/executions/a/b/c", "/_console/assets/missing.css"] {
        let (status, html) = console.page(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("id=\"error-message\"") && html.contains("id=\"nav\""));
    }
    let res = console.get("/_console").await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/_console/");
}
