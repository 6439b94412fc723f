//! What a filtered list costs when one user has many tasks: loads `LIST_COST_TASKS` tasks (default 100,000;
//! statuses cycling pending, in_progress, done) for one user into `moto_server`, then lists `status=done` a page
//! of 25 at a time (fetch 26) and prints, per call, the tasks returned, DynamoDB's `ScannedCount` and the time.
//! A Scan or a filter applied after reading would show a ScannedCount in the tens of thousands; a Query on
//! `ByStatus` reads at most 26 whatever the table holds.
//!
//! `cargo bench -p aws-adapters --features moto --bench list_cost` (`LIST_COST_TASKS=10000` for a quick run).
//! Times are moto's (an in-memory Python emulator that walks every item of the table per query), not
//! DynamoDB's; the item counts are what DynamoDB would read and bill.

use aws_adapters::DynamoTasks;
use aws_adapters::testing::{BoxError, MotoServer, batch_put_tasks, create_tasks_table};
use domain::ports::ListQuery;
use domain::{Status, Task, TaskId, Title, UserId, Version};
use std::sync::Arc;
use std::time::Instant;

const PAGE: usize = 25;
const PAGES: usize = 5;
const LOADERS: usize = 8;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), BoxError> {
    let n: usize = match std::env::var("LIST_COST_TASKS") {
        Ok(v) => v.trim().parse().map_err(|e| format!("LIST_COST_TASKS must be a count of tasks, not `{v}`: {e}"))?,
        Err(_) => 100_000,
    };
    let started = Instant::now();
    let moto = MotoServer::start()?;
    println!("moto_server up at {} in {:.2?}", moto.endpoint(), started.elapsed());
    let client = moto.client();
    let table = "ListCostTasks";
    create_tasks_table(&client, table).await?;

    let owner = UserId::parse("bench-user")?;
    let start = domain::now() - time::Duration::days(365);
    let tasks: Arc<Vec<Task>> = Arc::new(
        (0..n)
            .map(|i| {
                let at = start + time::Duration::milliseconds(i as i64);
                Ok(Task {
                    owner: owner.clone(),
                    id: TaskId::generate(at),
                    title: Title::parse(&format!("task {i}"))?,
                    description: None,
                    status: Status::ALL[i % 3],
                    created_at: at,
                    updated_at: at,
                    version: Version::FIRST,
                })
            })
            .collect::<Result<_, domain::Error>>()?,
    );

    // Several BatchWriteItem streams in flight, each on its own slice of 25-item batches.
    let loading = Instant::now();
    let per_loader = n.div_ceil(LOADERS).max(1);
    let mut loaders = Vec::new();
    for l in 0..LOADERS {
        let (client, tasks) = (client.clone(), Arc::clone(&tasks));
        let range = (l * per_loader).min(n)..((l + 1) * per_loader).min(n);
        loaders.push(tokio::spawn(async move { batch_put_tasks(&client, table, &tasks[range]).await }));
    }
    for loader in loaders {
        loader.await??;
    }
    let load_time = loading.elapsed();
    println!(
        "loaded {n} tasks for one user ({} done) in {load_time:.2?} ({:.0} items/s, {LOADERS} loaders, 25 per batch)",
        tasks.iter().filter(|t| t.status == Status::Done).count(),
        n as f64 / load_time.as_secs_f64()
    );

    let store = DynamoTasks::new(client, table);
    let fetch = PAGE + 1;
    println!("\nlist status=done limit={PAGE} (fetch {fetch}) on index ByStatus");
    println!("{:>5} {:>9} {:>13} {:>8} {:>10}", "page", "returned", "ScannedCount", "queries", "time");
    let mut after = None;
    let mut worst = 0;
    for page in 1..=PAGES {
        let query = ListQuery { status: Some(Status::Done), after, fetch };
        let t = Instant::now();
        let (got, cost) = store.list_tasks_counted(&owner, &query).await?;
        let elapsed = t.elapsed();
        println!("{page:>5} {:>9} {:>13} {:>8} {:>10.2?}", got.len(), cost.scanned_count, cost.queries, elapsed);
        worst = worst.max(cost.scanned_count);
        if got.len() < fetch {
            break;
        }
        // The next page starts after the last task shown; the look-ahead task opens it.
        after = got.get(PAGE - 1).map(|t| t.id);
    }

    let t = Instant::now();
    let (got, cost) = store.list_tasks_counted(&owner, &ListQuery { status: None, after: None, fetch }).await?;
    println!(
        "\nlist (no filter) limit={PAGE} on the table: returned {}, ScannedCount {}, {:.2?}",
        got.len(),
        cost.scanned_count,
        t.elapsed()
    );

    if worst > fetch as u64 {
        return Err(format!("a page scanned {worst} items for fetch {fetch}").into());
    }
    println!("\nevery page read at most {fetch} items (worst: {worst}) out of {n}");
    Ok(())
}
