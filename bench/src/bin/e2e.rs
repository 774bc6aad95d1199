//! End to end through the local runtime with every function as its own release binary
//! (Lambda Runtime API processes): N signed Shopify orders (`BENCH_ORDERS`, default 2000)
//! plus re-posted duplicates, shuffled, 16 at a time, while the sandbox courier answers some
//! task creations with 503, 429 or a response lost past the client's timeout. Measures
//! throughput, order received → task created latency, and each function's peak memory;
//! fails unless the courier holds exactly one task per order.
//!
//! Run under `infra/scripts/with-emulator.sh` after `cargo build --release` of the functions.

use courier_bridge_bench::stack::{seed_secrets, start_sandbox, STORE};
use courier_bridge_bench::{
    emulator_sdk, env_usize, paid_order, results_dir, BenchError, E2eResult, Percentiles,
};
use futures::stream::{self, StreamExt};
use local_runtime::demo::{connect_courier_webhooks, post_webhook, Delivery};
use local_runtime::process::ProcessOptions;
use local_runtime::{FunctionMode, LocalRuntime, RuntimeOptions};
use rand::seq::SliceRandom;
use sandbox::{Fault, Sandbox};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const COURIER_WEBHOOK_SECRET: &str = "whsec_sandbox_bench";
const FIRST_ID: u64 = 8_000_000_000_000_000_001;
/// create-task's partner timeout in this run; a lost response is held longer than this.
const PARTNER_TIMEOUT_MS: u64 = 2_000;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("e2e: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BenchError> {
    let orders = env_usize("BENCH_ORDERS", 2000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 16);
    let processes = env_usize("BENCH_PROCESSES", 4);
    let pollers = env_usize("BENCH_POLLERS", 3);
    let sdk = emulator_sdk().await.ok_or_else(|| {
        BenchError::Setup(
            "AWS_ENDPOINT_URL is not set: run under infra/scripts/with-emulator.sh".into(),
        )
    })?;
    let out_dir = results_dir()?;
    let log_dir = out_dir.join("e2e-logs");
    std::fs::create_dir_all(&log_dir)?;

    let sandbox = start_sandbox().await?;
    let stack = format!("e2e-{:06x}", rand::random::<u32>() & 0xff_ffff);
    let prefix = format!("{stack}/");
    let mut options = RuntimeOptions::new(&stack);
    options
        .parameter_overrides
        .insert("SecretsPrefix".into(), prefix.clone());
    options
        .env_overrides
        .insert("PARTNER_TIMEOUT_MS".into(), PARTNER_TIMEOUT_MS.to_string());
    options
        .env_overrides
        .insert("RUST_LOG".into(), "warn".into());
    options.pollers_per_queue = pollers;
    options.functions = FunctionMode::Processes(ProcessOptions {
        bin_dir: courier_bridge_bench::bin_dir(),
        per_function: processes,
        log_dir: Some(log_dir),
    });
    let runtime = LocalRuntime::start(&sdk, options).await?;
    let secret = seed_secrets(&sdk, &prefix, &sandbox.base_url(), COURIER_WEBHOOK_SECRET).await?;
    connect_courier_webhooks(&sandbox, &runtime, COURIER_WEBHOOK_SECRET);

    // Every order once, and a quarter of them again with the same webhook id, shuffled.
    let mut deliveries: Vec<u64> = (0..orders as u64).collect();
    deliveries.extend((0..orders as u64).filter(|i| i % 4 == 0));
    deliveries.shuffle(&mut rand::thread_rng());
    let duplicate_posts = deliveries.len() - orders;
    println!(
        "e2e: {orders} orders + {duplicate_posts} duplicates, {concurrency} at a time, \
         {processes} processes per function, stack {stack}"
    );

    let sandbox = Arc::new(sandbox);
    let posting_done = Arc::new(AtomicBool::new(false));
    let injector = tokio::spawn(inject_faults(sandbox.clone(), orders, posting_done.clone()));

    let http = reqwest::Client::new();
    let started = Instant::now();
    let started_at = OffsetDateTime::now_utc();
    let answers: Vec<Result<(u64, String, OffsetDateTime), BenchError>> = stream::iter(deliveries)
        .map(|i| {
            let (http, url, secret) = (&http, &runtime.http_url, &secret);
            async move {
                let id = FIRST_ID + i;
                let body = paid_order(id).to_string().into_bytes();
                let delivery = Delivery {
                    label: String::new(),
                    store: STORE.into(),
                    topic: "orders/paid".into(),
                    webhook_id: format!("paid-{id}"),
                    signature: channels::signature::sign_base64_hmac_sha256(
                        secret.as_bytes(),
                        &body,
                    ),
                    body,
                };
                // As Shopify does: anything but 2xx is delivered again (503 = a copy in flight).
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    let (status, answer) = post_webhook(http, url, &delivery).await?;
                    if status == 200 {
                        let what = answer["status"].as_str().unwrap_or_default().to_owned();
                        return Ok((id, what, OffsetDateTime::now_utc()));
                    }
                    if Instant::now() > deadline {
                        return Err(BenchError::Check(format!("order {id}: answered {status}")));
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let posting_seconds = started.elapsed().as_secs_f64();
    posting_done.store(true, Ordering::Relaxed);

    let mut received: HashMap<String, OffsetDateTime> = HashMap::new();
    let mut by_answer: BTreeMap<String, usize> = BTreeMap::new();
    for answer in answers {
        let (id, what, at) = answer?;
        *by_answer.entry(what.clone()).or_default() += 1;
        if what == "accepted" {
            received.insert(format!("shopify:{STORE}:{id}:1"), at);
        }
    }
    println!("e2e: posted in {posting_seconds:.1} s: {by_answer:?}");

    // Done when every order has its task: polled with a bounded deadline.
    let deadline = Instant::now() + Duration::from_secs(300 + orders as u64 / 2);
    let tasks = loop {
        let tasks = sandbox.tasks();
        if tasks.len() >= orders {
            break tasks;
        }
        if Instant::now() > deadline {
            return Err(BenchError::Check(format!(
                "only {} of {orders} tasks after the deadline",
                tasks.len()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let faults = injector
        .await
        .map_err(|e| BenchError::Setup(format!("fault injector: {e}")))?;

    // The rest of the loop (tracking back to the store) is part of each function's work:
    // let it finish before reading peak memory.
    {
        let stores = runtime.stores().clone();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let written = domain::ports::ShipmentStore::all(&stores.shipments)
                .await
                .map(|all| {
                    all.iter()
                        .filter(|r| r.tracking_written_back.is_some())
                        .count()
                })
                .unwrap_or(0);
            if written >= orders || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let stats = runtime.process_stats();
    let peak_rss_kib: BTreeMap<String, u64> = stats
        .iter()
        .map(|(function, processes)| {
            let peak = processes.iter().filter_map(|p| p.peak_rss_kib).max();
            (function.clone(), peak.unwrap_or(0))
        })
        .collect();

    let references: BTreeSet<&str> = tasks.iter().map(|t| t.reference.as_str()).collect();
    let last_created = tasks
        .iter()
        .map(|t| t.created_at)
        .max()
        .unwrap_or(started_at);
    let wall_seconds = (last_created - started_at).as_seconds_f64();
    let latencies: Vec<f64> = tasks
        .iter()
        .filter_map(|t| {
            let at = received.get(&t.reference)?;
            Some((t.created_at - *at).as_seconds_f64() * 1000.0)
        })
        .collect();
    let requests = sandbox.requests();
    let creates: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/tasks")
        .collect();
    let result = E2eResult {
        orders,
        duplicate_posts,
        posts: orders + duplicate_posts,
        concurrency,
        processes_per_function: processes,
        pollers_per_queue: pollers,
        faults,
        create_requests: creates.len(),
        create_requests_503: creates.iter().filter(|r| r.status == Some(503)).count(),
        create_requests_429: creates.iter().filter(|r| r.status == Some(429)).count(),
        tasks: tasks.len(),
        unique_references: references.len(),
        wall_seconds,
        orders_per_second: orders as f64 / wall_seconds,
        latency_ms: Percentiles::of(latencies),
        peak_rss_kib,
    };
    let path = out_dir.join("e2e.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&result)?)?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    println!("e2e: written to {}", path.display());

    runtime.stop_and_teardown().await?;
    if let Ok(sandbox) = Arc::try_unwrap(sandbox) {
        sandbox.shutdown().await;
    }
    let expected_accepts = orders;
    if by_answer.get("accepted") != Some(&expected_accepts)
        || by_answer.get("duplicate").copied().unwrap_or(0) != duplicate_posts
    {
        return Err(BenchError::Check(format!(
            "intake answers {by_answer:?}: expected {orders} accepted, {duplicate_posts} duplicate"
        )));
    }
    if result.tasks != orders || result.unique_references != orders {
        return Err(BenchError::Check(format!(
            "{} tasks with {} unique references for {orders} orders",
            result.tasks, result.unique_references
        )));
    }
    Ok(())
}

/// Arms a courier fault each time another twentieth of the orders has its task, in turn:
/// three 503s, three 429s, one response held past create-task's timeout.
async fn inject_faults(
    sandbox: Arc<Sandbox>,
    orders: usize,
    posting_done: Arc<AtomicBool>,
) -> BTreeMap<String, usize> {
    let step = (orders / 20).max(1);
    let mut armed: BTreeMap<String, usize> = BTreeMap::new();
    let mut next_at = step / 2;
    let mut turn = 0usize;
    loop {
        let done = sandbox.tasks().len();
        if done >= orders.saturating_sub(step / 2) && posting_done.load(Ordering::Relaxed) {
            return armed;
        }
        if done >= next_at {
            let (name, fault, count) = match turn % 3 {
                0 => ("unavailable_503", Fault::Unavailable { times: 3 }, 3),
                1 => ("rate_limited_429", Fault::RateLimited { times: 3 }, 3),
                _ => (
                    "lost_response",
                    Fault::LoseResponse {
                        times: 1,
                        delay_ms: PARTNER_TIMEOUT_MS + 1_000,
                    },
                    1,
                ),
            };
            sandbox.set_create_task_fault(fault);
            *armed.entry(name.to_owned()).or_default() += count;
            turn += 1;
            next_at += step;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
