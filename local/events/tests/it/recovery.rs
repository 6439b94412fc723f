//! At least once, across restarts: what PutEvents accepted is in the data directory until it is delivered, and
//! the next service over that directory delivers it when recovered.

use crate::{delivery::FLAKY, eventually, spawn, spawn_in};
use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

#[tokio::test]
async fn deliveries_pending_when_the_service_stops_are_made_by_the_next_one_once_recovered() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let first = spawn_in(Arc::clone(&dir), FLAKY, "flaky").await;
    let id = first.put("patient", "placed", r#"{"n": 1}"#, None).await;
    eventually("a failed attempt", || async { (first.flaky.attempts.load(Ordering::SeqCst) >= 1).then_some(()) }).await;
    assert_eq!(first.events.pending_deliveries().await.unwrap(), 1);
    drop(first);
    // The stopped service's dispatcher is gone: nothing more is attempted.
    tokio::time::sleep(Duration::from_millis(50)).await;

    let second = spawn_in(dir, FLAKY, "").await;
    assert_eq!(second.events.recover().unwrap(), 1);
    let got = second.receive_n("flaky", 1).await;
    let event: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!((event["id"].as_str(), event["detail"]["n"].as_i64()), (Some(id.as_str()), Some(1)));
    second.settled().await;
    assert!(second.receive("dead").await.is_empty());
    assert_eq!(second.events.counters().deliveries_made, 1);
}

#[tokio::test]
async fn a_fresh_data_directory_has_nothing_to_recover() {
    let app = spawn(FLAKY).await;
    assert_eq!(app.events.recover().unwrap(), 0);
    assert_eq!(app.events.pending_deliveries().await.unwrap(), 0);
}

#[cfg(unix)]
#[tokio::test]
async fn the_delivery_queue_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn(FLAKY).await;
    app.put("shop", "placed", "{}", None).await;
    let dir = app.dir.path().join("events");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    for file in std::fs::read_dir(&dir).unwrap() {
        let file = file.unwrap();
        assert_eq!(file.metadata().unwrap().permissions().mode() & 0o077, 0, "{:?}", file.path());
    }
}
