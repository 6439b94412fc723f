//! Durability: what SQS acknowledged is in the data directory, whether the service is closed and reopened or its
//! process is killed with SIGKILL mid-traffic.

use crate::{client, serve, spawn_with, template};
use local_core::Identity;
use local_sqs::Sqs;
use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const CHILD_DIR_VAR: &str = "LOCAL_SQS_KILL_TEST_DATA_DIR";

#[tokio::test]
async fn every_unacknowledged_message_is_there_after_closing_and_reopening_and_in_flight_ones_come_back_visible() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let app = spawn_with(Arc::clone(&dir), "Resources: {}\n").await;
    let url = app.create_queue("durable").await;
    for i in 0..5 {
        app.client.send_message().queue_url(&url).message_body(format!("m{i}")).send().await.unwrap();
    }
    let got = app
        .client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .visibility_timeout(1)
        .send()
        .await
        .unwrap();
    app.client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(got.messages()[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    drop(app);

    let app = spawn_with(dir, "Resources: {}\n").await;
    let url = app.client.get_queue_url().queue_name("durable").send().await.unwrap().queue_url.unwrap();
    let summary = app.sqs.queues().await.unwrap();
    assert_eq!((summary[0].counts.visible, summary[0].counts.in_flight), (3, 1));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let got = app.client.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    let mut bodies: Vec<_> = got.messages().iter().map(|m| m.body().unwrap().to_owned()).collect();
    bodies.sort();
    // m0 was received first, as the oldest, and deleted; m1 was in flight when the service closed.
    assert_eq!(bodies, ["m1", "m2", "m3", "m4"]);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = app.data_dir().join("sqs");
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap();
            assert_eq!(file.metadata().unwrap().permissions().mode() & 0o077, 0, "{:?}", file.path());
        }
    }
}

/// Not a test of its own: the server process the SIGKILL test starts (this test binary, running only this).
#[tokio::test]
async fn a_child_serves_sqs_until_killed_when_the_kill_test_asks() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else { return };
    let sqs = Sqs::open(Path::new(&dir), &template("Resources: {}\n"), Identity::default()).unwrap();
    let (endpoint, server) = serve(sqs).await;
    println!("LISTENING {endpoint}");
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_process_is_killed_with_sigkill_during_sends() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::a_child_serves_sqs_until_killed_when_the_kill_test_asks",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().unwrap();
    // The harness prints the test's name on the same line before the test's own output.
    let find_endpoint = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.split_once("LISTENING ").map(|(_, endpoint)| endpoint.trim().to_owned()))
    });
    let endpoint = tokio::time::timeout(Duration::from_secs(60), find_endpoint)
        .await
        .expect("the child serves within a minute")
        .unwrap()
        .expect("the child serves");
    let client = client(&endpoint);
    let url = client.create_queue().queue_name("killed").send().await.unwrap().queue_url.unwrap();
    let mut acknowledged = HashSet::new();
    for i in 0..10 {
        let sent = client.send_message().queue_url(&url).message_body(format!("before {i}")).send().await.unwrap();
        acknowledged.insert(sent.message_id.unwrap());
    }
    let in_flight = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(3)
        .visibility_timeout(600)
        .send()
        .await
        .unwrap();
    assert_eq!(in_flight.messages().len(), 3);
    let deleted = in_flight.messages()[0].clone();
    client.delete_message().queue_url(&url).receipt_handle(deleted.receipt_handle().unwrap()).send().await.unwrap();
    acknowledged.remove(deleted.message_id().unwrap());

    // Senders keep sending while the process is killed; each keeps the ids it got an answer for.
    let during = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let (client, url, during) = (client.clone(), url.clone(), Arc::clone(&during));
            tokio::spawn(async move {
                for i in 0.. {
                    match client
                        .send_message()
                        .queue_url(&url)
                        .message_body(format!("sender {s} message {i}"))
                        .send()
                        .await
                    {
                        Ok(sent) => during.lock().unwrap().push(sent.message_id.unwrap()),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let during = std::mem::take(&mut *during.lock().unwrap());
    assert!(!during.is_empty(), "no send was acknowledged before the kill");
    eprintln!("{} sends acknowledged by the killed process while it was being killed", during.len());
    acknowledged.extend(during);

    let sqs = Sqs::open(dir.path(), &template("Resources: {}\n"), Identity::default()).unwrap();
    let stored: HashSet<String> =
        sqs.peek("killed", 100_000).await.unwrap().into_iter().map(|m| m.message_id).collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged messages lost: {lost:?}", lost.len());
    assert!(!stored.contains(deleted.message_id().unwrap()));
    let counts = sqs.queues().await.unwrap()[0].counts;
    assert_eq!(counts.in_flight, 2, "in-flight messages stay in flight until their timeout: {counts:?}");
}

#[tokio::test]
async fn sends_are_committed_one_by_one_at_a_measured_rate() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let app = spawn_with(dir, "Resources: {}\n").await;
    let url = app.create_queue("rate").await;
    const N: usize = 200;
    let started = Instant::now();
    for i in 0..N {
        app.client.send_message().queue_url(&url).message_body(format!("m{i}")).send().await.unwrap();
    }
    let sequential = N as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (app.client.clone(), url.clone());
            tokio::spawn(async move {
                for i in 0..N / 8 {
                    client.send_message().queue_url(&url).message_body(format!("c{i}")).send().await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent = N as f64 / started.elapsed().as_secs_f64();
    eprintln!(
        "SendMessage, each committed (fsync) before its answer: {sequential:.0}/s sequential, {concurrent:.0}/s with 8 senders"
    );
    assert_eq!(app.sqs.queues().await.unwrap()[0].counts.visible, 2 * N as u64);
}

/// Kills the child server however the test ends, so a failing test leaves no process behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
