//! What a list page costs, and how fast gets and inserts are, on the SQLite store.
//!
//! `cargo bench -p local-adapters --bench list_cost` seeds `LIST_COST_TASKS` tasks (default 100,000) for one user,
//! statuses cycling, and measures at two table sizes (1,000 and the full count) so the row counts can be compared:
//! - `status=done, fetch 26` and `no filter, fetch 26`: the first page and follow-on pages (pages 2 to 4, and one
//!   resumed from the middle of the table): rows returned, rows visited, VM steps, full-scan steps, sorts, and time
//!   per call;
//! - get-by-id and insert throughput, single-threaded, through the ports;
//! - reads on a two-worker tokio runtime while writers run, inline (as the store does) and via `spawn_blocking`
//!   (the alternative), to back the choice made in `LocalStore::read`.

use domain::ports::{ListQuery, TaskGet, TaskPut};
use domain::{Status, Task, TaskId, Timestamp, Title, UserId, Version};
use local_adapters::{LocalStore, SqliteTasks};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

fn main() {
    let total: usize = std::env::var("LIST_COST_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::open(&dir.path().join("bench.db")).expect("open");
    let tasks = store.tasks("TasksTable").expect("table");
    let owner = UserId::parse("bench-user").expect("user id");
    println!("SQLite store, one user, statuses cycling pending/in_progress/done; times are means over repeated calls");

    let start = domain::now() - time::Duration::days(30);
    let mut ids = Vec::with_capacity(total);
    let mut seeded = 0;
    let mut insert_rate = 0.0;
    for size in [1_000.min(total), total] {
        let began = Instant::now();
        let n = size - seeded;
        for i in seeded..size {
            // One millisecond apart so ids, and so pages, follow insertion order.
            let task = task(&owner, i, start + time::Duration::milliseconds(i as i64));
            block_on(tasks.put_task(&task)).expect("put");
            ids.push(task.id);
        }
        seeded = size;
        if n > 0 {
            insert_rate = n as f64 / began.elapsed().as_secs_f64();
        }
        println!("\n== {size} tasks in the table ==");
        list_pages(&tasks, &owner, Some(Status::Done), size);
        list_pages(&tasks, &owner, None, size);
        if size == total {
            controls(&dir.path().join("bench.db"), &owner);
        }
        if size == 1_000.min(total) && size != total {
            println!("(seeding up to {total} …)");
        }
    }

    println!("\n== single-threaded throughput at {total} tasks ==");
    println!("insert (put_task, one transaction each, no runtime): {insert_rate:>9.0} /s while seeding");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let n = 20_000;
    let began = Instant::now();
    rt.block_on(async {
        for i in 0..n {
            tasks.put_task(&task(&owner, total + i, domain::now())).await.expect("put");
        }
    });
    println!(
        "insert (put_task via spawn_blocking, tokio):           {:>9.0} /s",
        n as f64 / began.elapsed().as_secs_f64()
    );
    let mut latencies = Vec::with_capacity(200_000);
    let began = Instant::now();
    for i in 0..200_000 {
        let id = ids[(i * 7919) % ids.len()];
        let t0 = Instant::now();
        let got = block_on(tasks.get_task(&owner, id)).expect("get");
        latencies.push(t0.elapsed());
        assert!(got.is_some());
    }
    let rate = latencies.len() as f64 / began.elapsed().as_secs_f64();
    println!("get by id (get_task):                                  {rate:>9.0} /s  {}", percentiles(&mut latencies));

    println!("\n== gets on a 2-worker tokio runtime, 64 readers + 4 writers, 3 s each ==");
    for mode in [ReadMode::Inline, ReadMode::SpawnBlocking] {
        concurrent_gets(&tasks, &owner, &ids, mode);
    }
}

fn task(owner: &UserId, i: usize, at: Timestamp) -> Task {
    Task {
        owner: owner.clone(),
        id: TaskId::generate(at),
        title: Title::parse(&format!("task number {i}")).expect("title"),
        description: Some(domain::Description::parse("a description of a typical length for a task").expect("desc")),
        status: Status::ALL[i % 3],
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    }
}

fn list_pages(tasks: &SqliteTasks, owner: &UserId, status: Option<Status>, size: usize) {
    let label = match status {
        Some(s) => format!("status={s}"),
        None => "no filter".to_owned(),
    };
    println!("{label}, fetch 26:");
    println!(
        "  {:<22} {:>8} {:>8} {:>9} {:>9} {:>6} {:>10}",
        "page", "returned", "visited", "vm steps", "fullscan", "sorts", "per call"
    );
    let mut after = None;
    let mut pages: Vec<(String, Option<TaskId>)> = Vec::new();
    for page in 1..=4 {
        pages.push((format!("{page}"), after));
        let (got, _) = tasks.list_tasks_counted(owner, &ListQuery { status, after, fetch: 26 }).expect("list");
        // The next page resumes after the 25th: fetch is page size + 1.
        after = got.get(24).map(|t| t.id);
    }
    // Resume from the middle of the table: deep pages cost the same as the first.
    let (all_ids, _) = tasks.list_tasks_counted(owner, &ListQuery { status, after: None, fetch: size }).expect("list");
    pages.push((format!("from the middle ({})", all_ids.len() / 2), all_ids.get(all_ids.len() / 2).map(|t| t.id)));
    for (name, after) in pages {
        let query = ListQuery { status, after, fetch: 26 };
        let (_, cost) = tasks.list_tasks_counted(owner, &query).expect("list");
        let reps = 5_000;
        let began = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(tasks.list_tasks_counted(owner, &query).expect("list"));
        }
        let per_call = began.elapsed() / reps;
        println!(
            "  {name:<22} {:>8} {:>8} {:>9} {:>9} {:>6} {:>8.1}µs",
            cost.rows_returned,
            cost.rows_visited,
            cost.vm_steps,
            cost.fullscan_steps,
            cost.sorts,
            per_call.as_secs_f64() * 1e6
        );
    }
}

/// The same page read by plans the store avoids, counted the same way, to show the counters do see a bad plan:
/// walking the primary key and filtering by status (what SQLite picks for the status list unless the index is
/// pinned), and a full scan.
fn controls(db: &std::path::Path, owner: &UserId) {
    use rusqlite::StatementStatus as S;
    let conn = rusqlite::Connection::open(db).expect("open");
    let visits = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = visits.clone();
    conn.create_scalar_function("visit", 1, rusqlite::functions::FunctionFlags::SQLITE_UTF8, move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    })
    .expect("function");
    println!("controls (status=done page 1, fetch 26, plans the store does not use):");
    let columns = "id, title, description, status, created_at, updated_at, version";
    for (name, from, owner_term) in [
        ("primary key + filter", "TasksTable NOT INDEXED", "owner = ?1"),
        ("full scan + sort", "TasksTable NOT INDEXED", "owner || '' = ?1"),
    ] {
        let sql = format!(
            "SELECT {columns} FROM {from} WHERE visit(id) AND {owner_term} AND status = 'done' ORDER BY id DESC LIMIT 26"
        );
        let plan: String =
            conn.query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [owner.as_str()], |r| r.get(3)).expect("plan");
        let mut stmt = conn.prepare(&sql).expect("prepare");
        visits.store(0, Ordering::Relaxed);
        let returned = stmt.query_map([owner.as_str()], |_| Ok(())).expect("query").count();
        println!(
            "  {name:<22} {returned:>8} {:>8} {:>9} {:>9} {:>6}   ({plan})",
            visits.load(Ordering::Relaxed),
            stmt.get_status(S::VmStep),
            stmt.get_status(S::FullscanStep),
            stmt.get_status(S::Sort),
        );
    }
}

#[derive(Clone, Copy, Debug)]
enum ReadMode {
    Inline,
    SpawnBlocking,
}

fn concurrent_gets(tasks: &SqliteTasks, owner: &UserId, ids: &[TaskId], mode: ReadMode) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let ids: Arc<[TaskId]> = ids.into();
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, writes, mut latencies) = rt.block_on(async {
        let mut readers = Vec::new();
        for r in 0..64 {
            let (tasks, owner, ids, stop) = (tasks.clone(), owner.clone(), ids.clone(), stop.clone());
            readers.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = r * 1013;
                while !stop.load(Ordering::Relaxed) {
                    i += 7919;
                    let id = ids[i % ids.len()];
                    let t0 = Instant::now();
                    let got = match mode {
                        ReadMode::Inline => tasks.get_task(&owner, id).await,
                        ReadMode::SpawnBlocking => {
                            let (tasks, owner) = (tasks.clone(), owner.clone());
                            tokio::task::spawn_blocking(move || block_on(tasks.get_task(&owner, id)))
                                .await
                                .expect("join")
                        }
                    };
                    lat.push(t0.elapsed());
                    assert!(got.expect("get").is_some());
                    // Yield like a server would between requests, so writers' completions get polled.
                    tokio::task::yield_now().await;
                }
                lat
            }));
        }
        let mut writers = Vec::new();
        for w in 0..4 {
            let (tasks, owner, stop) = (tasks.clone(), owner.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    tasks.put_task(&task(&owner, w * 10_000_000 + n, domain::now())).await.expect("put");
                    n += 1;
                }
                n
            }));
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
        let mut lat = Vec::new();
        for r in readers {
            lat.extend(r.await.expect("reader"));
        }
        let mut writes = 0;
        for w in writers {
            writes += w.await.expect("writer");
        }
        (lat.len(), writes, lat)
    });
    println!(
        "  reads {:<14} {:>7.0} gets/s  {}   with {:>5.0} puts/s beside",
        format!("{mode:?}:"),
        reads as f64 / 3.0,
        percentiles(&mut latencies),
        writes as f64 / 3.0
    );
}

fn percentiles(lat: &mut [Duration]) -> String {
    lat.sort_unstable();
    let at = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e6;
    format!("p50 {:>7.1}µs  p99 {:>7.1}µs  max {:>8.1}µs", at(0.5), at(0.99), at(1.0))
}

/// Polls a future to completion on this thread. The store's reads never wait, and its writes run inline outside a
/// runtime, so this never spins in practice.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
