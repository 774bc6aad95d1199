//! Cold start per function binary: process start → first event handled (its response or
//! error posted to the Runtime API), each start a new process against a new Runtime API with
//! one event queued; plus the binary's size. The events are real: a signed Shopify order for
//! webhook-intake, then the very message it queued for normalize, normalize's for
//! create-task (the sandbox courier makes the task), and so on down the loop; Amazon's
//! published ORDER_CHANGE notification for marketplace-intake; a scheduled event for the
//! scheduled functions. `BENCH_COLD_RUNS` (default 5) runs each; the median is reported.
//!
//! Run under `infra/scripts/with-emulator.sh` after `cargo build --release` of the functions.

use courier_bridge_bench::stack::{
    scheduled_event, sqs_event_with_body, summarize, BenchStack, STORE,
};
use courier_bridge_bench::{
    bin_dir, env_usize, fixtures, paid_order, percentile, results_dir, shopify_request, BenchError,
    ColdStart, FUNCTION_BINARIES,
};
use local_runtime::process::{FunctionProcesses, ProcessOptions};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("cold_start: {e}");
        std::process::exit(1);
    }
}

struct Bench {
    stack: BenchStack,
    bin_dir: std::path::PathBuf,
    log_dir: Option<std::path::PathBuf>,
}

impl Bench {
    /// Starts one process of `binary`, hands it `event`, and times spawn → answer.
    async fn cold_start(&self, binary: &str, event: &[u8]) -> Result<(f64, String), BenchError> {
        let (logical_id, function) = self.stack.function(binary)?;
        let options = ProcessOptions {
            bin_dir: self.bin_dir.clone(),
            per_function: 1,
            log_dir: self.log_dir.clone(),
        };
        let started = Instant::now();
        let process = FunctionProcesses::start(
            logical_id,
            &format!("{}-{logical_id}", self.stack.stack.name),
            binary,
            &function.env,
            Duration::from_secs(function.timeout_secs.into()),
            &options,
        )
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))?;
        let answer = process.invoke(event.to_vec()).await;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        process.stop().await;
        let outcome = match answer {
            Ok(bytes) => summarize(&bytes),
            Err(e) => format!("error: {e}"),
        };
        Ok((elapsed, outcome))
    }
}

async fn run() -> Result<(), BenchError> {
    let runs = env_usize("BENCH_COLD_RUNS", 5);
    let bin_dir = bin_dir();
    let log_dir = results_dir()?.join("cold-start-logs");
    std::fs::create_dir_all(&log_dir)?;
    let bench = Bench {
        stack: BenchStack::provision("cold").await?,
        bin_dir: bin_dir.clone(),
        log_dir: Some(log_dir),
    };
    let amazon_arn = bench.stack.queue_arn("AmazonNotificationsQueue");

    let mut runs_ms: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut events: BTreeMap<&str, (String, String)> = BTreeMap::new();
    let mut record = |binary: &'static str, what: &str, (ms, outcome): (f64, String)| {
        println!("cold_start: {binary:<20} {ms:8.1} ms  {what}: {outcome}");
        runs_ms.entry(binary).or_default().push(ms);
        events.insert(binary, (what.to_owned(), outcome));
    };
    for run in 0..runs {
        let id = 6_000_000_000_000_000_001 + run as u64;
        let body = paid_order(id).to_string().into_bytes();
        let request = shopify_request(
            STORE,
            &bench.stack.store_secret,
            "orders/paid",
            &format!("cold-{id}"),
            &body,
        );
        let event = serde_json::to_vec(&request)?;
        record(
            "webhook-intake",
            "signed Shopify orders/paid",
            bench.cold_start("webhook-intake", &event).await?,
        );
        // Down the loop: each function gets the message the previous one queued.
        for (binary, queue, what) in [
            ("normalize", "IntakeQueue", "intake message"),
            ("create-task", "TasksQueue", "task request"),
            ("status-sync", "SyncQueue", "tracking message"),
            ("notify", "OutboxQueue", "outbox message"),
        ] {
            let (event, what) = match bench.stack.take(queue).await {
                Some(event) => (event, what.to_owned()),
                None => (
                    sqs_event_with_body("{}", ""),
                    format!("{what} (none queued: an empty body)"),
                ),
            };
            let event = serde_json::to_vec(&event)?;
            record(binary, &what, bench.cold_start(binary, &event).await?);
        }
        let notification = String::from_utf8_lossy(fixtures::AMAZON_NOTIFICATION);
        let event = serde_json::to_vec(&sqs_event_with_body(&notification, &amazon_arn))?;
        record(
            "marketplace-intake",
            "Amazon ORDER_CHANGE notification",
            bench.cold_start("marketplace-intake", &event).await?,
        );
        // Its intake message is not for this run's normalize.
        bench.stack.drain("IntakeQueue").await;
        let scheduled = scheduled_event()?;
        for binary in ["cod-reconcile", "ship-by-watch"] {
            record(
                binary,
                "EventBridge scheduled event",
                bench.cold_start(binary, &scheduled).await?,
            );
        }
    }

    let mut results = Vec::new();
    for binary in FUNCTION_BINARIES {
        let mut runs = runs_ms.get(binary).cloned().unwrap_or_default();
        let size_bytes = std::fs::metadata(bin_dir.join(binary))?.len();
        let (event, outcome) = events.get(binary).cloned().unwrap_or_default();
        let in_order = runs.clone();
        runs.sort_by(f64::total_cmp);
        results.push(ColdStart {
            binary: binary.to_owned(),
            size_bytes,
            event,
            outcome,
            runs_ms: in_order,
            median_ms: percentile(&runs, 50.0),
        });
    }
    let path = results_dir()?.join("cold_start.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&results)?)?;
    println!("cold_start: written to {}", path.display());
    bench.stack.teardown().await
}
