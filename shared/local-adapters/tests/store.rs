//! The SQLite store against the shared store contract, plus what only an embedded store has to prove: its list
//! plans, its durability across reopening and `kill -9`, its table-name check and its handling of damaged rows.

use domain::ports::*;
use domain::*;
use local_adapters::{CorruptRow, ListCost, LocalStore, OpenError, SqliteStore};
use std::error::Error as _;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tempfile::TempDir;

const TASKS: &str = "TasksTable";
const USERS: &str = "UsersTable";

/// A store in its own temporary directory, which is removed when the returned guard is dropped.
fn temp_store_sync() -> (SqliteStore, TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path).expect("open").ports(TASKS, USERS).expect("tables");
    (store, dir, path)
}

async fn temp_store() -> (SqliteStore, TempDir) {
    let (store, dir, _) = temp_store_sync();
    (store, dir)
}

mod contract {
    domain::store_contract_tests!(guarded: super::temp_store());
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn new_task(owner: &UserId, i: usize, status: Status, at: Timestamp) -> Task {
    Task {
        owner: owner.clone(),
        id: TaskId::generate(at),
        title: Title::parse(&format!("task {i}")).unwrap(),
        description: None,
        status,
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    }
}

/// Polls a future to completion on this thread, with no runtime at all.
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

fn all_queries() -> Vec<ListQuery> {
    let after = Some(TaskId::generate(now()));
    let mut out = Vec::new();
    for status in [None, Some(Status::Done)] {
        for after in [None, after] {
            out.push(ListQuery { status, after, fetch: 26 });
        }
    }
    out
}

#[test]
fn every_list_query_reads_an_index_newest_first_with_no_scan_no_sort_and_no_temp_b_tree() {
    let (store, _dir, path) = temp_store_sync();
    // Plans can change with statistics, so the check runs on a table that has some, from a few thousand rows.
    block_on(async {
        let start = now() - time::Duration::days(1);
        for (o, owner) in [user("alice"), user("bob")].iter().enumerate() {
            for i in 0..1500 {
                let t = new_task(owner, i, Status::ALL[(i + o) % 3], start + time::Duration::milliseconds(i as i64));
                store.put_task(&t).await.unwrap();
            }
        }
    });
    // Twice: as the planner sees a fresh table, and after ANALYZE has given it statistics to change its mind with.
    for analyzed in [false, true] {
        if analyzed {
            rusqlite::Connection::open(&path).unwrap().execute_batch("ANALYZE").unwrap();
        }
        check_list_plans(&store);
    }
    let get = store.tasks.get_query_plan().unwrap();
    assert_eq!(get, vec!["SEARCH TasksTable USING PRIMARY KEY (owner=? AND id=?)".to_owned()]);
}

fn check_list_plans(store: &SqliteStore) {
    for query in all_queries() {
        let plan = store.tasks.list_query_plan(&query).unwrap();
        let text = plan.join(" | ");
        assert_eq!(plan.len(), 1, "{query:?}: {text}");
        let want = match query.status {
            Some(_) => "USING INDEX TasksTable__owner_status_id (owner=? AND status=?",
            None => "USING PRIMARY KEY (owner=?",
        };
        assert!(plan[0].starts_with("SEARCH TasksTable") && plan[0].contains(want), "{query:?}: {text}");
        if query.after.is_some() {
            assert!(plan[0].contains("id<?"), "{query:?}: the resume point must bound the range: {text}");
        }
        for bad in ["SCAN", "TEMP B-TREE", "AUTOMATIC", "ORDER BY"] {
            assert!(!text.contains(bad), "{query:?} plans `{bad}`: {text}");
        }
    }
}

#[test]
fn a_page_visits_no_more_rows_than_it_fetches_whatever_the_table_holds() {
    let (store, _dir, _) = temp_store_sync();
    let (alice, bob) = (user("alice"), user("bob"));
    let start = now() - time::Duration::days(1);
    block_on(async {
        for i in 0..3000 {
            let at = start + time::Duration::milliseconds(i as i64);
            store.put_task(&new_task(&alice, i, Status::ALL[i % 3], at)).await.unwrap();
            store.put_task(&new_task(&bob, i, Status::Done, at)).await.unwrap();
        }
    });
    for status in [None, Some(Status::Done)] {
        let mut after = None;
        for page in 0..5 {
            let query = ListQuery { status, after, fetch: 26 };
            let (tasks, cost) = store.tasks.list_tasks_counted(&alice, &query).unwrap();
            assert_eq!(tasks.len(), 26);
            assert!(tasks.iter().all(|t| t.owner == alice && status.is_none_or(|s| t.status == s)));
            assert!(tasks.windows(2).all(|w| w[0].id > w[1].id), "newest first");
            let bounded =
                ListCost { rows_returned: 26, rows_visited: 26, vm_steps: cost.vm_steps, ..ListCost::default() };
            assert_eq!(cost, bounded, "{status:?} page {page}");
            after = tasks.last().map(|t| t.id);
        }
    }
    // The last, short page stops at the end of the owner's range rather than walking on.
    let (tasks, cost) = store
        .tasks
        .list_tasks_counted(&alice, &ListQuery { status: Some(Status::Done), after: None, fetch: 5000 })
        .unwrap();
    assert_eq!((tasks.len(), cost.rows_visited, cost.fullscan_steps, cost.sorts), (1000, 1000, 0, 0));
}

#[tokio::test]
async fn tasks_and_profiles_survive_closing_and_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let alice = user("alice");
    let task = new_task(&alice, 1, Status::InProgress, now());
    let profile =
        Profile::from_claims(&Caller { id: alice.clone(), email: Some("a@example.com".into()), name: None }, now());
    {
        let store = LocalStore::open(&path).unwrap().ports(TASKS, USERS).unwrap();
        store.put_task(&task).await.unwrap();
        store.put_profile(&profile).await.unwrap();
    }
    let store = LocalStore::open(&path).unwrap().ports(TASKS, USERS).unwrap();
    assert_eq!(store.get_task(&alice, task.id).await.unwrap(), Some(task));
    assert_eq!(store.get_profile(&alice).await.unwrap(), Some(profile));
}

const WRITER_ENV: &str = "LOCAL_ADAPTERS_KILL_TEST_DB";
const KILL_TEST: &str = "a_kill_9_loses_no_task_whose_write_was_acknowledged";
const ACKED: &str = "committed-id=";

#[test]
fn a_kill_9_loses_no_task_whose_write_was_acknowledged() {
    // The same test, re-run as a child by the parent below, is the writer that gets killed.
    if let Some(db) = std::env::var_os(WRITER_ENV) {
        return write_until_killed(Path::new(&db));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let owner = user("writer");
    let mut acked = Vec::new();
    // Three writers in turn on the same file, killed at different points, so each starts on the WAL its killed
    // predecessor left behind.
    for (round, kill_after) in [150, 400, 277].into_iter().enumerate() {
        acked.extend(run_writer_and_kill(&path, kill_after));
        let store = LocalStore::open(&path).unwrap().tasks(TASKS).unwrap();
        let lost: Vec<_> = acked
            .iter()
            .filter(|id| block_on(store.get_task(&owner, TaskId::parse(id).unwrap())).unwrap().is_none())
            .collect();
        assert!(lost.is_empty(), "{} of {} acknowledged tasks are gone: {lost:?}", lost.len(), acked.len());
        let everything = ListQuery { status: None, after: None, fetch: usize::MAX };
        let (all, _) = store.list_tasks_counted(&owner, &everything).unwrap();
        // Beyond those, at most the one write each killed writer had in flight may have landed unacknowledged.
        let in_flight = round + 1;
        assert!(
            (acked.len()..=acked.len() + in_flight).contains(&all.len()),
            "{} stored, {} acknowledged",
            all.len(),
            acked.len()
        );
    }
}

/// Starts a writer child on `db`, SIGKILLs it once it has acknowledged `kill_after` writes, and returns every id it
/// acknowledged, including any printed between the decision and the kill.
fn run_writer_and_kill(db: &Path, kill_after: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([KILL_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Not a prefix match: libtest prints `test <name> ... ` without a newline before the test's own output.
            if let Some((_, id)) = line.rsplit_once(ACKED) {
                let _ = tx.send(id.to_owned());
            }
        }
    });
    let mut acked = Vec::new();
    while acked.len() < kill_after {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(id) => acked.push(id),
            Err(e) => {
                let _ = child.kill();
                panic!("the writer stopped acknowledging after {} writes: {e}", acked.len());
            }
        }
    }
    // SIGKILL on Unix: no destructor, no rollback, no flush of anything the process still held.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    acked.extend(rx.try_iter());
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the writer must die by SIGKILL, not finish: {status:?}");
    }
    acked
}

/// The child's side: write tasks forever through the real write path (tokio's blocking pool), printing each id only
/// once its `put_task` has returned.
fn write_until_killed(db: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = LocalStore::open(db).unwrap().tasks(TASKS).unwrap();
    let owner = user("writer");
    let mut out = std::io::stdout().lock();
    runtime.block_on(async {
        for i in 0.. {
            let task = new_task(&owner, i, Status::ALL[i % 3], now());
            store.put_task(&task).await.unwrap();
            writeln!(out, "{ACKED}{}", task.id).unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn table_names_dynamodb_would_refuse_are_refused_before_touching_sql() {
    let (_store, _dir, path) = temp_store_sync();
    let db = LocalStore::open(&path).unwrap();
    let long = "x".repeat(256);
    for bad in ["", "ab", "Tasks Table", "Tasks\"; DROP TABLE UsersTable; --", "tâches", "sqlite_master", &long] {
        assert!(matches!(db.tasks(bad), Err(OpenError::InvalidTableName { .. })), "tasks({bad:?})");
        assert!(matches!(db.profiles(bad), Err(OpenError::InvalidTableName { .. })), "profiles({bad:?})");
    }
    for good in ["abc", "dev.Tasks-Table_1", &"x".repeat(255)] {
        db.tasks(good).unwrap_or_else(|e| panic!("tasks({good:?}): {e}"));
    }
}

#[test]
fn an_existing_table_with_other_columns_is_refused_at_setup_not_on_the_first_request() {
    let (_store, _dir, path) = temp_store_sync();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TABLE Elsewhere (pk TEXT PRIMARY KEY)").unwrap();
    let db = LocalStore::open(&path).unwrap();
    assert!(matches!(db.tasks("Elsewhere"), Err(OpenError::Sqlite { .. })));
    assert!(matches!(db.profiles("Elsewhere"), Err(OpenError::Sqlite { .. })));
    // A tasks table is not a profiles table either.
    assert!(matches!(db.profiles(TASKS), Err(OpenError::Sqlite { .. })));
}

/// The `CorruptRow` inside an `Unavailable`, or a panic saying what came instead.
fn corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Unavailable(source)) => {
            let row = source.downcast_ref::<CorruptRow>().unwrap_or_else(|| panic!("not a CorruptRow: {source}"));
            format!("{}: {}", row.column, row.source().map(ToString::to_string).unwrap_or_default())
        }
        other => panic!("expected Unavailable(CorruptRow), got {other:?}"),
    }
}

#[tokio::test]
async fn a_row_edited_into_nonsense_is_reported_unavailable_not_a_panic() {
    let (store, _dir, path) = temp_store_sync();
    let alice = user("alice");
    let t = new_task(&alice, 1, Status::Pending, now());
    store.put_task(&t).await.unwrap();
    let p = Profile::from_claims(&Caller { id: alice.clone(), email: None, name: Some("Ada".into()) }, now());
    store.put_profile(&p).await.unwrap();

    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE TasksTable SET status = 'banana'", []).unwrap();
    raw.execute("UPDATE UsersTable SET created_at = 'yesterday'", []).unwrap();

    let all = ListQuery { status: None, after: None, fetch: 10 };
    assert!(corrupt(store.get_task(&alice, t.id).await).starts_with("status: "));
    assert!(corrupt(store.get_task(&alice, t.id).await).contains("banana"));
    assert!(corrupt(store.list_tasks(&alice, &all).await).contains("banana"));
    let patch = TaskPatch { title: Some(Title::parse("x").unwrap()), ..Default::default() };
    assert!(corrupt(store.update_task(&alice, t.id, &patch, None, now()).await).contains("banana"));
    assert!(corrupt(store.get_profile(&alice).await).starts_with("created_at: "));

    raw.execute("UPDATE TasksTable SET status = 'done', version = 'seven'", []).unwrap();
    assert!(corrupt(store.get_task(&alice, t.id).await).starts_with("version: "));
    raw.execute("UPDATE TasksTable SET version = 1, title = NULL", []).unwrap_err(); // NOT NULL holds
    // TEXT affinity turns a number into text, but a blob stays a blob.
    raw.execute("UPDATE TasksTable SET version = 1, title = x'00ff'", []).unwrap();
    assert!(corrupt(store.get_task(&alice, t.id).await).starts_with("title: "));
    // The damaged row can still be deleted, so a user is never stuck with it.
    store.delete_task(&alice, t.id, Some(Version(1))).await.unwrap();
    assert_eq!(store.get_task(&alice, t.id).await.unwrap(), None);
}

#[test]
fn the_ports_also_work_outside_any_async_runtime() {
    let (store, _dir, _) = temp_store_sync();
    let alice = user("alice");
    let t = new_task(&alice, 1, Status::Done, now());
    block_on(store.put_task(&t)).unwrap();
    let updated = block_on(store.update_task(&alice, t.id, &TaskPatch::default(), Some(Version(1)), now())).unwrap();
    assert_eq!(updated.version, Version(2));
    assert_eq!(block_on(store.get_task(&alice, t.id)).unwrap(), Some(updated));
}

#[test]
fn the_file_is_in_wal_mode_so_readers_never_wait_for_the_writer() {
    let (_store, _dir, path) = temp_store_sync();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_writer_and_many_concurrent_writes_all_land() {
    let (store, _dir, _) = temp_store_sync();
    let alice = user("alice");
    let mut handles = Vec::new();
    for w in 0..8 {
        let ports = store.clone();
        let alice = alice.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..50 {
                ports.put_task(&new_task(&alice, w * 100 + i, Status::Pending, now())).await.unwrap();
                ports
                    .list_tasks(&alice, &ListQuery { status: Some(Status::Pending), after: None, fetch: 3 })
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let all = store.list_tasks(&alice, &ListQuery { status: None, after: None, fetch: 1000 }).await.unwrap();
    assert_eq!(all.len(), 400);
}

/// A store of `count` tasks, closed (so SQLite has checkpointed its WAL into the file): its path and directory.
async fn closed_store_of(count: usize) -> (TempDir, std::path::PathBuf) {
    let (store, dir, path) = temp_store_sync();
    let alice = user("alice");
    for i in 0..count {
        store.put_task(&new_task(&alice, i, Status::InProgress, now())).await.unwrap();
    }
    drop(store);
    (dir, path)
}

/// Opening `path` fails naming it and saying `why`; the files are left exactly as they were.
fn assert_refused(path: &Path, why: &[&str]) {
    let wal = path.with_extension("db-wal");
    let files = || {
        let fingerprint =
            |p: &Path| std::fs::read(p).ok().map(|b| (b.len(), b.iter().map(|x| u64::from(*x)).sum::<u64>()));
        (fingerprint(path), fingerprint(&wal))
    };
    let before = files();
    let e = LocalStore::open(path).expect_err("a damaged store is refused");
    assert!(matches!(e, OpenError::Damaged { .. }), "{e:?}");
    let message = e.to_string();
    assert!(message.contains(&path.display().to_string()), "names the file: {message}");
    for why in why {
        assert!(message.contains(why), "says {why:?}: {message}");
    }
    assert_eq!(files(), before, "nothing was written");
}

#[tokio::test]
async fn a_store_truncated_to_nothing_beside_its_write_ahead_log_is_refused_not_started_empty() {
    let (store, _dir, path) = temp_store_sync();
    store.put_task(&new_task(&user("alice"), 1, Status::InProgress, now())).await.unwrap();
    // While the store is open its commits are in the WAL: copy that beside an emptied database file.
    let copy = tempfile::tempdir().unwrap();
    let damaged = copy.path().join("local.db");
    std::fs::write(&damaged, b"").unwrap();
    std::fs::copy(path.with_extension("db-wal"), damaged.with_extension("db-wal")).unwrap();
    assert!(std::fs::metadata(damaged.with_extension("db-wal")).unwrap().len() > 0);
    assert_refused(&damaged, &["empty", "write-ahead log", "truncated"]);
}

#[tokio::test]
async fn a_store_overwritten_with_other_bytes_is_refused_with_sqlites_reason() {
    let (_dir, path) = closed_store_of(10).await;
    let noise: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&path, noise).unwrap();
    assert_refused(&path, &["does not begin with SQLite's header", "SQLite: file is not a database"]);
}

#[tokio::test]
async fn a_store_cut_short_is_refused_with_sqlites_reason() {
    let (_dir, path) = closed_store_of(2000).await;
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 8 * 4096, "a store of several pages: {len}");
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len / 2).unwrap();
    assert_refused(&path, &["cut short", "SQLite: "]);
}

#[tokio::test]
async fn a_missing_or_never_written_store_opens_empty_and_a_sound_one_opens_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for path in [dir.path().join("new.db"), empty] {
        let store = LocalStore::open(&path).unwrap().ports(TASKS, USERS).unwrap();
        assert!(store.get_task(&user("alice"), TaskId::generate(now())).await.unwrap().is_none());
    }
    let (_dir, path) = closed_store_of(2000).await;
    let store = LocalStore::open(&path).unwrap().ports(TASKS, USERS).unwrap();
    let query = ListQuery { status: None, after: None, fetch: 10 };
    assert_eq!(store.list_tasks(&user("alice"), &query).await.unwrap().len(), 10);
}

#[test]
fn a_store_sqlite_refuses_is_reported_with_sqlites_own_reason() {
    let (_store, _dir, path) = temp_store_sync();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TABLE Elsewhere (pk TEXT PRIMARY KEY)").unwrap();
    let message = LocalStore::open(&path).unwrap().tasks("Elsewhere").expect_err("other columns").to_string();
    assert!(message.contains(&path.display().to_string()) && message.contains("no such column"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::create_dir(&path).unwrap(); // a directory where the database file should be
    let message = LocalStore::open(&path).expect_err("not a file").to_string();
    assert!(message.contains(&path.display().to_string()) && message.contains("directory"), "{message}");
}
