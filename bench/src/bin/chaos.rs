//! Chaos in process mode: every function runs as its own binary behind the Lambda Runtime
//! API emulator, and a killer sends SIGKILL to a random function process every few hundred
//! milliseconds while N signed orders (`CHAOS_ORDERS`, default 2000) and a quarter of them
//! again come in, shuffled, 16 at a time, with courier and store faults armed. The runtime
//! starts a killed process again, as Lambda starts a new execution environment; what it was
//! doing comes back after its queue's visibility timeout, or as the sender's retry. Then the
//! sandbox's drivers deliver every task (still killing), the killer stops, the dead letters
//! are redriven, and the run fails unless: exactly one courier task per order, every order
//! in the audit trail, every status written back once, every customer message SENT or
//! UNKNOWN and none sent twice, every DLQ empty. It prints the counts and the kills per
//! function, and writes them to target/bench/chaos.json.
//!
//! `make chaos` builds the functions and runs it under infra/scripts/with-emulator.sh
//! (`CHAOS_BIN_DIR`, default target/debug, holds the function binaries).

use courier_bridge_bench::chaos::{
    dead_letters, deliver_all, post_order, redrive_all, settle, Ledger, ProcessStack,
};
use courier_bridge_bench::{env_usize, BenchError};
use futures::stream::{self, StreamExt};
use local_runtime::LocalRuntime;
use rand::seq::SliceRandom;
use rand::Rng;
use sandbox::{Fault, Sandbox};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIRST_ID: u64 = 8_100_000_000_000_000_001;
/// create-task's partner timeout in this run; a lost response is held longer than this.
const PARTNER_TIMEOUT_MS: u64 = 2_000;

#[derive(Debug, Serialize)]
struct ChaosResult {
    orders: usize,
    duplicate_posts: usize,
    answers: BTreeMap<String, usize>,
    kills: BTreeMap<String, usize>,
    faults: BTreeMap<String, usize>,
    redriven: usize,
    seconds: f64,
    ledger: Ledger,
    broken: Vec<String>,
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(broken) if broken.is_empty() => {}
        Ok(_) => std::process::exit(1),
        Err(e) => {
            eprintln!("chaos: {e}");
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<Vec<String>, BenchError> {
    let orders = env_usize("CHAOS_ORDERS", 2000);
    let concurrency = env_usize("CHAOS_CONCURRENCY", 16);
    let processes = env_usize("CHAOS_PROCESSES", 2);
    let kill_every_ms = env_usize("CHAOS_KILL_EVERY_MS", 400) as u64;
    let run = ProcessStack::start(
        "chaos",
        processes,
        &[
            ("PARTNER_TIMEOUT_MS", PARTNER_TIMEOUT_MS.to_string()),
            // Retries in seconds, not minutes: the run is about what survives, not backoff.
            ("RETRY_BASE_MS", "200".to_owned()),
            ("RETRY_MAX_MS", "2000".to_owned()),
        ],
    )
    .await?;
    let (sandbox, runtime, secret, stack) = (
        run.sandbox.clone(),
        run.runtime.clone(),
        run.store_secret.clone(),
        run.name.clone(),
    );

    let ids: Vec<u64> = (0..orders as u64).map(|i| FIRST_ID + i).collect();
    let mut posts = ids.clone();
    posts.extend(ids.iter().copied().filter(|id| id % 4 == 0));
    posts.shuffle(&mut rand::thread_rng());
    let duplicate_posts = posts.len() - orders;
    println!(
        "chaos: {orders} orders + {duplicate_posts} duplicates, {concurrency} at a time, \
         {processes} processes per function, a SIGKILL every ~{kill_every_ms} ms, stack {stack}"
    );
    let started = Instant::now();
    let killing = Arc::new(AtomicBool::new(true));
    let killer = tokio::spawn(kill_randomly(
        runtime.clone(),
        killing.clone(),
        kill_every_ms,
    ));
    let faulting = Arc::new(AtomicBool::new(true));
    let faults = tokio::spawn(arm_faults(sandbox.clone(), faulting.clone()));

    let http = reqwest::Client::new();
    let answers: Vec<Result<String, BenchError>> = stream::iter(posts)
        .map(|id| {
            let (http, url, secret) = (&http, &runtime.http_url, &secret);
            async move { post_order(http, url, secret, id, Duration::from_secs(600)).await }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut by_answer: BTreeMap<String, usize> = BTreeMap::new();
    for answer in answers {
        *by_answer.entry(answer?).or_default() += 1;
    }
    println!(
        "chaos: posted in {:.0} s: {by_answer:?}",
        started.elapsed().as_secs_f64()
    );

    // A killed create-task's message is back after the queue's visibility timeout (180 s).
    let patience = Duration::from_secs(900);
    settle("a courier task for every order", patience, || {
        let sandbox = sandbox.clone();
        async move { Ok(sandbox.tasks().len() >= orders) }
    })
    .await?;
    faulting.store(false, Ordering::Relaxed);
    let faults = faults
        .await
        .map_err(|e| BenchError::Setup(format!("fault injector: {e}")))?;
    sandbox.clear_faults();
    let delivered = deliver_all(&sandbox, concurrency).await?;
    println!(
        "chaos: {delivered} tasks driven to delivered at {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // Until every shipment is delivered and told, or what the kills walked to a DLQ is
    // there to redrive, as an operator does (`courier-bridge dlq redrive`).
    let quiet_or_dead_letters = || async {
        Ok(run.quiet(&ids).await? || dead_letters(&runtime).await?.values().any(|n| *n > 0))
    };
    settle(
        "every shipment delivered and told",
        patience,
        quiet_or_dead_letters,
    )
    .await
    .ok();
    killing.store(false, Ordering::Relaxed);
    let kills = killer
        .await
        .map_err(|e| BenchError::Setup(format!("killer: {e}")))?;
    let mut redriven = 0;
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        let moved = redrive_all(&runtime).await?;
        redriven += moved;
        if moved == 0 && run.quiet(&ids).await? {
            break;
        }
        settle("redriven work done", patience, quiet_or_dead_letters)
            .await
            .ok();
    }

    let ledger = Ledger::read(&runtime, &sandbox, &ids).await?;
    let broken = ledger.broken();
    let result = ChaosResult {
        orders,
        duplicate_posts,
        answers: by_answer,
        kills,
        faults,
        redriven,
        seconds: started.elapsed().as_secs_f64(),
        ledger,
        broken: broken.clone(),
    };
    let path = run.out_dir.join("chaos.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&result)?)?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    drop(runtime);
    run.stop().await?;
    if broken.is_empty() {
        println!("chaos: nothing lost, nothing doubled ({})", path.display());
    } else {
        eprintln!("chaos: BROKEN: {broken:?}");
    }
    Ok(broken)
}

/// SIGKILLs a random function process every `every_ms` (± half) until `killing` turns
/// false; returns the kills per function.
async fn kill_randomly(
    runtime: Arc<LocalRuntime>,
    killing: Arc<AtomicBool>,
    every_ms: u64,
) -> BTreeMap<String, usize> {
    let mut kills: BTreeMap<String, usize> = BTreeMap::new();
    while killing.load(Ordering::Relaxed) {
        let pause = rand::thread_rng().gen_range(every_ms / 2..=every_ms + every_ms / 2);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let live: Vec<(String, u32)> = runtime
            .process_stats()
            .into_iter()
            .flat_map(|(function, processes)| {
                processes
                    .into_iter()
                    .map(move |p| (function.clone(), p.pid))
            })
            .collect();
        let Some((function, pid)) = live.choose(&mut rand::thread_rng()).cloned() else {
            continue;
        };
        let killed = tokio::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success());
        if killed {
            *kills.entry(function).or_default() += 1;
        }
    }
    kills
}

/// Arms a courier fault or a store fault every second, in turn, until `faulting` turns
/// false: 503s and 429s on task creation, a creation whose answer is lost past the
/// timeout, the Shopify Admin API unavailable, Twilio refusing; returns how many of each.
async fn arm_faults(sandbox: Arc<Sandbox>, faulting: Arc<AtomicBool>) -> BTreeMap<String, usize> {
    let mut armed: BTreeMap<String, usize> = BTreeMap::new();
    let mut turn = 0usize;
    while faulting.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let name = match turn % 5 {
            0 => {
                sandbox.set_create_task_fault(Fault::Unavailable { times: 3 });
                "courier_503"
            }
            1 => {
                sandbox.set_create_task_fault(Fault::RateLimited { times: 3 });
                "courier_429"
            }
            2 => {
                sandbox.set_create_task_fault(Fault::LoseResponse {
                    times: 1,
                    delay_ms: PARTNER_TIMEOUT_MS + 1_000,
                });
                "courier_lost_response"
            }
            3 => {
                sandbox.set_shopify_admin_fault(Fault::Unavailable { times: 2 });
                "shopify_503"
            }
            _ => {
                sandbox.set_twilio_fault(Fault::Unavailable { times: 2 });
                "twilio_503"
            }
        };
        *armed.entry(name.to_owned()).or_default() += 1;
        turn += 1;
    }
    armed
}
