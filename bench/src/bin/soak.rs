//! Soak: the whole stack in process mode, one process per function (so a function's memory
//! is one process's), no kills and no faults, fed at a steady rate for a fixed time while the
//! sandbox's drivers keep delivering; it looks for what only time shows: memory that grows,
//! file descriptors that leak, cash that stops adding up.
//!
//! For `SOAK_SECONDS` (default 1800) an interval timer posts `SOAK_RATE` signed Shopify
//! orders a second (default 2), every 4th one cash on delivery as the demo makes them (the
//! COD gateway, pending, confirmed; each its own amount). Every 2 s the sandbox's drivers
//! advance every task the courier holds to delivered, the COD ones collecting their cash.
//! Each function process's `VmRSS` and open file descriptors are sampled every
//! `SOAK_SAMPLE_SECONDS` (default 60) after a warm-up (`SOAK_WARMUP_SECONDS`, default 60, or
//! the first 100 orders answered, whichever comes first), and once more at the end. Then
//! everything settles (a task per order, every shipment delivered and told), each driver
//! hands over exactly the cash it collected (recorded as the CLI's `cod handover` does), and
//! the day's COD reconciliation runs as the nightly schedule does.
//!
//! It fails (exit 1) when:
//! * the chaos run's [`Ledger`] rules break (nothing lost, nothing doubled, no dead letters:
//!   with no faults there is nothing to redrive);
//! * a day's reconciliation does not balance (an exception, or a courier line whose
//!   expected, collected and handed-over amounts differ), or it did not count every COD
//!   order posted and exactly their amounts;
//! * a function's last `VmRSS` exceeds its first post-warm-up sample by more than
//!   [`RSS_GROWTH_PERCENT`] % plus [`RSS_SLACK_KIB`] KiB (allocator noise: glibc's arenas and
//!   the HTTP clients' connection pools settle in steps, not smoothly);
//! * its open file descriptors grew by more than [`FD_GROWTH`] (connection pools open and
//!   close a few sockets as idle connections expire; a leak grows with every request);
//! * a function process was restarted or missing at a sample (its memory would not be one
//!   process's).
//!
//! It prints and writes target/bench/soak.json. `make soak` builds the functions (debug,
//! `SOAK_BIN_DIR` elsewhere) and runs it under infra/scripts/with-emulator.sh.

use courier_bridge_bench::chaos::{
    deliver_all, post_cod_order, post_order, settle, Ledger, ProcessStack,
};
use courier_bridge_bench::{env_usize, BenchError};
use domain::cod::{CodException, CourierId, CourierLine, Handover};
use domain::Money;
use local_runtime::process::ProcessStats;
use local_runtime::LocalRuntime;
use sandbox::Sandbox;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

const FIRST_ID: u64 = 8_200_000_000_000_000_001;
/// Every this many orders one is cash on delivery.
const COD_EVERY: u64 = 4;
/// The warm-up ends after this many orders answered, if its time has not passed first.
const WARMUP_ORDERS: usize = 100;
/// How often the drivers go through the courier's tasks.
const DELIVER_EVERY: Duration = Duration::from_secs(2);
/// Tasks advanced at a time.
const DELIVER_CONCURRENCY: usize = 8;
/// How long one order may go unanswered (posted again) before the run fails.
const POST_PATIENCE: Duration = Duration::from_secs(120);
/// How long the end may take to settle.
const SETTLE_PATIENCE: Duration = Duration::from_secs(600);

/// A function's last `VmRSS` may exceed its first post-warm-up sample by this share of it…
const RSS_GROWTH_PERCENT: u64 = 20;
/// …plus this much, so that a small process's allocator steps are not a leak.
const RSS_SLACK_KIB: u64 = 2048;
/// Open file descriptors a function may gain between its first and last sample.
const FD_GROWTH: i64 = 8;

#[derive(Debug, Serialize)]
struct SoakResult {
    orders: usize,
    cod_orders: usize,
    /// What COD orders were posted for: the reconciliation must expect exactly this.
    cod_posted: String,
    target_rate_per_second: f64,
    /// Orders posted over the time from the first post to the last.
    achieved_rate_per_second: f64,
    posting_seconds: f64,
    /// First post to the end of the reconciliation.
    seconds: f64,
    answers: BTreeMap<String, usize>,
    warm_up_seconds: f64,
    samples: usize,
    thresholds: Thresholds,
    functions: BTreeMap<String, FunctionSoak>,
    /// Every sample: seconds since the first post, orders answered, VmRSS and fds per function.
    timeline: Vec<Sample>,
    reconciliation: Vec<CashDay>,
    ledger: Ledger,
    broken: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Thresholds {
    rss_growth_percent: u64,
    rss_slack_kib: u64,
    fd_growth: i64,
}

/// One function's process over the run.
#[derive(Debug, Serialize)]
struct FunctionSoak {
    pid: Option<u32>,
    rss_first_kib: Option<u64>,
    rss_last_kib: Option<u64>,
    rss_max_kib: Option<u64>,
    /// `VmHWM` at the end: the most it ever had resident, warm-up included.
    peak_rss_kib: Option<u64>,
    rss_growth_percent: Option<f64>,
    fds_first: Option<usize>,
    fds_last: Option<usize>,
    fds_max: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
struct Sample {
    at_seconds: f64,
    orders_answered: usize,
    processes: BTreeMap<String, Vec<ProcessSample>>,
}

#[derive(Debug, Clone, Serialize)]
struct ProcessSample {
    pid: u32,
    rss_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
    open_fds: Option<usize>,
}

impl From<ProcessStats> for ProcessSample {
    fn from(p: ProcessStats) -> Self {
        ProcessSample {
            pid: p.pid,
            rss_kib: p.rss_kib,
            peak_rss_kib: p.peak_rss_kib,
            open_fds: p.open_fds,
        }
    }
}

/// One day's cash, as the nightly run reconciled it.
#[derive(Debug, Serialize)]
struct CashDay {
    day: String,
    /// The nightly run's verdict, and the reconciliation's own (the same rules).
    balanced: bool,
    shipments_checked: u32,
    accuracy_percent: f64,
    cod_deliveries: u32,
    /// Totals over the couriers, by currency.
    totals: BTreeMap<String, CashTotals>,
    handovers: Vec<HandoverLine>,
    lines: Vec<CourierLine>,
    exceptions: Vec<CodException>,
    cash_outs_created: usize,
}

#[derive(Debug, Default, Serialize)]
struct CashTotals {
    expected_minor: i64,
    collected_minor: i64,
    handed_over_minor: i64,
    due_minor: i64,
}

#[derive(Debug, Serialize)]
struct HandoverLine {
    courier: String,
    receipt: String,
    amount: String,
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(broken) if broken.is_empty() => {}
        Ok(_) => std::process::exit(1),
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(1);
        }
    }
}

/// A positive number from the environment, else `default`.
fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n > 0.0)
        .unwrap_or(default)
}

/// What the courier is to collect for COD order `id`: 10.00 to 99.99, by id.
fn cod_minor(id: u64) -> i64 {
    1_000 + (id % 9_000) as i64
}

async fn run() -> Result<Vec<String>, BenchError> {
    let seconds = env_usize("SOAK_SECONDS", 1800) as f64;
    let rate = env_f64("SOAK_RATE", 2.0);
    let sample_every = Duration::from_secs(env_usize("SOAK_SAMPLE_SECONDS", 60) as u64);
    let warm_up = Duration::from_secs(env_usize("SOAK_WARMUP_SECONDS", 60) as u64);
    let orders = ((seconds * rate).round() as usize).max(1);
    let run = ProcessStack::start("soak", 1, &[]).await?;
    let (sandbox, runtime, secret, stack, out_dir) = (
        run.sandbox.clone(),
        run.runtime.clone(),
        run.store_secret.clone(),
        run.name.clone(),
        run.out_dir.clone(),
    );
    println!(
        "soak: {orders} orders over {seconds:.0} s ({rate} a second, every {COD_EVERY}th cash on \
         delivery), one process per function, samples every {} s after a {} s / \
         {WARMUP_ORDERS}-order warm-up, stack {stack}",
        sample_every.as_secs(),
        warm_up.as_secs()
    );

    let started = Instant::now();
    let started_ms = domain::clock::now_ms();
    let (answered_tx, answered_rx) = watch::channel(0usize);
    let answered_tx = Arc::new(answered_tx);
    let (stop_tx, stop_rx) = watch::channel(false);
    let deliverer = tokio::spawn(keep_delivering(sandbox.clone(), stop_rx.clone()));
    let sampler = tokio::spawn(sample_every_minute(
        runtime.clone(),
        started,
        answered_rx.clone(),
        warm_up,
        sample_every,
        stop_rx,
    ));

    // The pace: one post per tick, each in its own task, so a slow answer never holds the
    // next order back. A tick the timer could not keep is caught up at once (Burst): the run
    // posts exactly `orders`.
    let http = reqwest::Client::new();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    pace.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut posts: JoinSet<Result<String, BenchError>> = JoinSet::new();
    let mut by_answer: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids = Vec::with_capacity(orders);
    let mut cod_orders = 0;
    let mut cod_posted_minor = 0i64;
    let mut last_post = started;
    for i in 0..orders as u64 {
        pace.tick().await;
        last_post = Instant::now();
        let id = FIRST_ID + i;
        ids.push(id);
        let cod = (i + 1) % COD_EVERY == 0;
        if cod {
            cod_orders += 1;
            cod_posted_minor += cod_minor(id);
        }
        let (http, url, secret) = (http.clone(), runtime.http_url.clone(), secret.clone());
        let answered = answered_tx.clone();
        posts.spawn(async move {
            let answer = if cod {
                post_cod_order(&http, &url, &secret, id, cod_minor(id), POST_PATIENCE).await?
            } else {
                post_order(&http, &url, &secret, id, POST_PATIENCE).await?
            };
            answered.send_modify(|n| *n += 1);
            Ok(answer)
        });
        while let Some(done) = posts.try_join_next() {
            count_answer(&mut by_answer, done)?;
        }
    }
    let posting_seconds = last_post.duration_since(started).as_secs_f64();
    while let Some(done) = posts.join_next().await {
        count_answer(&mut by_answer, done)?;
    }
    println!(
        "soak: {orders} orders posted in {posting_seconds:.0} s, answered by {:.0} s: {by_answer:?}",
        started.elapsed().as_secs_f64()
    );

    // The end of the day: a task for every order, the last ones delivered, everything told.
    settle("a courier task for every order", SETTLE_PATIENCE, || {
        let sandbox = sandbox.clone();
        async move { Ok(sandbox.tasks().len() >= orders) }
    })
    .await
    .ok();
    let _ = stop_tx.send(true);
    deliverer
        .await
        .map_err(|e| BenchError::Setup(format!("the drivers: {e}")))??;
    let delivered = deliver_all(&sandbox, DELIVER_CONCURRENCY * 2).await?;
    settle("every shipment delivered and told", SETTLE_PATIENCE, || {
        run.quiet(&ids)
    })
    .await
    .ok();
    println!(
        "soak: {delivered} tasks delivered, settled at {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mut timeline = sampler
        .await
        .map_err(|e| BenchError::Setup(format!("the sampler: {e}")))?;
    let warm_up_seconds = timeline.first().map_or(f64::NAN, |s| s.at_seconds);
    timeline.push(sample(&runtime, started, *answered_rx.borrow()));

    let ledger = Ledger::read(&runtime, &sandbox, &ids).await?;
    let mut broken = ledger.broken();
    let functions = memory_over_time(&timeline, &mut broken);
    let reconciliation = reconcile_the_days(&runtime, &stack, started_ms).await?;
    check_the_cash(&reconciliation, cod_orders, cod_posted_minor, &mut broken);

    let result = SoakResult {
        orders,
        cod_orders,
        cod_posted: eur(cod_posted_minor),
        target_rate_per_second: rate,
        achieved_rate_per_second: if posting_seconds > 0.0 {
            (orders - 1) as f64 / posting_seconds
        } else {
            f64::NAN
        },
        posting_seconds,
        seconds: started.elapsed().as_secs_f64(),
        answers: by_answer,
        warm_up_seconds,
        samples: timeline.len(),
        thresholds: Thresholds {
            rss_growth_percent: RSS_GROWTH_PERCENT,
            rss_slack_kib: RSS_SLACK_KIB,
            fd_growth: FD_GROWTH,
        },
        functions,
        timeline,
        reconciliation,
        ledger,
        broken: broken.clone(),
    };
    let path = out_dir.join("soak.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&result)?)?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    print_memory(&result.functions);
    drop(runtime);
    run.stop().await?;
    if broken.is_empty() {
        println!(
            "soak: memory and descriptors flat, the cash balances, nothing lost or doubled ({})",
            path.display()
        );
    } else {
        eprintln!("soak: BROKEN: {broken:?}");
    }
    Ok(broken)
}

fn count_answer(
    by_answer: &mut BTreeMap<String, usize>,
    done: Result<Result<String, BenchError>, tokio::task::JoinError>,
) -> Result<(), BenchError> {
    let answer = done.map_err(|e| BenchError::Setup(format!("a post: {e}")))??;
    *by_answer.entry(answer).or_default() += 1;
    Ok(())
}

fn eur(minor: i64) -> String {
    format!("{}.{:02} EUR", minor / 100, minor % 100)
}

/// The sandbox's drivers: every [`DELIVER_EVERY`], every task the courier holds is advanced
/// to delivered (the COD ones collecting their cash), until `stop`.
async fn keep_delivering(
    sandbox: Arc<Sandbox>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), BenchError> {
    let mut round = tokio::time::interval(DELIVER_EVERY);
    round.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = round.tick() => {
                deliver_all(&sandbox, DELIVER_CONCURRENCY).await?;
            }
            _ = stopped(&mut stop) => return Ok(()),
        }
    }
}

/// Until `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Samples every function process once the warm-up is over (its time passed, or
/// [`WARMUP_ORDERS`] answered), then every `every`, until `stop`.
async fn sample_every_minute(
    runtime: Arc<LocalRuntime>,
    started: Instant,
    mut answered: watch::Receiver<usize>,
    warm_up: Duration,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    tokio::select! {
        _ = tokio::time::sleep_until((started + warm_up).into()) => {}
        _ = async { answered.wait_for(|n| *n >= WARMUP_ORDERS).await.map(|_| ()) } => {}
        _ = stopped(&mut stop) => return samples,
    }
    let mut minute = tokio::time::interval(every);
    minute.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = minute.tick() => {
                let now = sample(&runtime, started, *answered.borrow());
                print_sample(&now);
                samples.push(now);
            }
            _ = stopped(&mut stop) => return samples,
        }
    }
}

fn sample(runtime: &LocalRuntime, started: Instant, answered: usize) -> Sample {
    Sample {
        at_seconds: started.elapsed().as_secs_f64(),
        orders_answered: answered,
        processes: runtime
            .process_stats()
            .into_iter()
            .map(|(function, processes)| {
                (
                    function,
                    processes.into_iter().map(ProcessSample::from).collect(),
                )
            })
            .collect(),
    }
}

fn print_sample(sample: &Sample) {
    let line: Vec<String> = sample
        .processes
        .iter()
        .map(|(function, processes)| {
            let rss: u64 = processes.iter().filter_map(|p| p.rss_kib).sum();
            let fds: usize = processes.iter().filter_map(|p| p.open_fds).sum();
            format!("{function} {:.1} MiB {fds} fds", rss as f64 / 1024.0)
        })
        .collect();
    println!(
        "soak: {:5.0} s, {} orders: {}",
        sample.at_seconds,
        sample.orders_answered,
        line.join(", ")
    );
}

fn print_memory(functions: &BTreeMap<String, FunctionSoak>) {
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>8} {:>9} {:>9}",
        "FUNCTION", "FIRST KiB", "LAST KiB", "MAX KiB", "GROWTH", "FIRST FDS", "LAST FDS"
    );
    for (function, f) in functions {
        let kib = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
        let fds = |v: Option<usize>| v.map_or("-".into(), |v| v.to_string());
        println!(
            "{function:<28} {:>10} {:>10} {:>10} {:>7.1}% {:>9} {:>9}",
            kib(f.rss_first_kib),
            kib(f.rss_last_kib),
            kib(f.rss_max_kib),
            f.rss_growth_percent.unwrap_or(f64::NAN),
            fds(f.fds_first),
            fds(f.fds_last)
        );
    }
}

/// Each function's first, last and largest sample, and what of it breaks the thresholds.
fn memory_over_time(
    timeline: &[Sample],
    broken: &mut Vec<String>,
) -> BTreeMap<String, FunctionSoak> {
    let names: BTreeSet<&String> = timeline.iter().flat_map(|s| s.processes.keys()).collect();
    let mut functions = BTreeMap::new();
    for name in names {
        // One process per function: its samples, where it had exactly one.
        let mut seen: Vec<&ProcessSample> = Vec::new();
        for (i, s) in timeline.iter().enumerate() {
            match s.processes.get(name).map(Vec::as_slice) {
                Some([one]) => seen.push(one),
                other => broken.push(format!(
                    "{name}: {} processes at sample {i} ({:.0} s), not one",
                    other.map_or(0, <[_]>::len),
                    s.at_seconds
                )),
            }
        }
        let pids: BTreeSet<u32> = seen.iter().map(|p| p.pid).collect();
        if pids.len() > 1 {
            broken.push(format!("{name}: its process was restarted (pids {pids:?})"));
        }
        let (first, last) = (seen.first(), seen.last());
        let rss_first = first.and_then(|p| p.rss_kib);
        let rss_last = last.and_then(|p| p.rss_kib);
        let fds_first = first.and_then(|p| p.open_fds);
        let fds_last = last.and_then(|p| p.open_fds);
        let growth = rss_first
            .zip(rss_last)
            .filter(|(f, _)| *f > 0)
            .map(|(f, l)| (l as f64 - f as f64) * 100.0 / f as f64);
        if let (Some(f), Some(l)) = (rss_first, rss_last) {
            if l > f + f * RSS_GROWTH_PERCENT / 100 + RSS_SLACK_KIB {
                broken.push(format!(
                    "{name}: resident memory grew from {f} KiB to {l} KiB \
                     (more than {RSS_GROWTH_PERCENT} % + {RSS_SLACK_KIB} KiB)"
                ));
            }
        } else {
            broken.push(format!("{name}: no VmRSS read"));
        }
        if let (Some(f), Some(l)) = (fds_first, fds_last) {
            if l as i64 - f as i64 > FD_GROWTH {
                broken.push(format!(
                    "{name}: open file descriptors grew from {f} to {l} (more than {FD_GROWTH})"
                ));
            }
        } else {
            broken.push(format!("{name}: no open descriptors read"));
        }
        functions.insert(
            name.clone(),
            FunctionSoak {
                pid: last.map(|p| p.pid),
                rss_first_kib: rss_first,
                rss_last_kib: rss_last,
                rss_max_kib: seen.iter().filter_map(|p| p.rss_kib).max(),
                peak_rss_kib: last.and_then(|p| p.peak_rss_kib),
                rss_growth_percent: growth.map(|g| (g * 10.0).round() / 10.0),
                fds_first,
                fds_last,
                fds_max: seen.iter().filter_map(|p| p.open_fds).max(),
            },
        );
    }
    if timeline.is_empty() || functions.is_empty() {
        broken.push("no function process was sampled".into());
    }
    functions
}

/// The days the run's cash may belong to (the fleet's local days, UTC without a fleet): a
/// run that crosses midnight has two.
fn days_since(started_ms: i64, zone: Option<&str>) -> BTreeSet<time::Date> {
    let now = domain::clock::now_ms();
    let hour = 3_600_000;
    (0..)
        .map(|h| started_ms + h * hour)
        .take_while(|ms| *ms < now)
        .chain([now])
        .filter_map(|ms| domain::cod::day_of(ms, zone))
        .collect()
}

/// For each day of the run: every driver hands over exactly the cash it collected that day,
/// recorded as the CLI's `cod handover` records it; then the day is reconciled as the
/// nightly schedule does (cash-out tasks and report included).
async fn reconcile_the_days(
    runtime: &LocalRuntime,
    stack: &str,
    started_ms: i64,
) -> Result<Vec<CashDay>, BenchError> {
    use domain::ports::ShipmentStore;
    let stores = runtime.stores();
    let zone = stores.fleet_time_zone().await?;
    let records = stores.shipments.all().await?;
    let mut days = Vec::new();
    for (n, day) in days_since(started_ms, zone.as_deref())
        .into_iter()
        .enumerate()
    {
        // What each driver holds, by currency: what the reconciliation will count collected.
        let mut held: BTreeMap<(CourierId, &'static str), Money> = BTreeMap::new();
        for delivery in records
            .iter()
            .filter_map(|r| domain::cod::run::cod_delivery(r, day, zone.as_deref()))
        {
            if let Some(cash) = delivery.collected.filter(|c| c.minor != 0) {
                held.entry((delivery.courier, cash.currency.code()))
                    .or_insert(Money {
                        minor: 0,
                        currency: cash.currency,
                    })
                    .minor += cash.minor;
            }
        }
        // The first day is always reconciled; a later one only if cash belongs to it.
        if held.is_empty() && n > 0 {
            continue;
        }
        let mut handovers = Vec::new();
        for (i, ((courier, _), amount)) in held.into_iter().enumerate() {
            let handover = Handover {
                courier,
                receipt: format!("{stack}-{}-{}", domain::cod::day_text(day), i + 1),
                amount,
            };
            domain::cod::hand_over(&stores.cash, day, &handover, "soak dispatcher")
                .await
                .map_err(|e| BenchError::Setup(format!("hand-over {}: {e}", handover.receipt)))?;
            handovers.push(HandoverLine {
                courier: handover.courier.to_string(),
                receipt: handover.receipt,
                amount: handover.amount.to_string(),
            });
        }
        let report = runtime.reconcile_cod(day).await?;
        let reconciliation = stores
            .cash_desk(zone.as_deref())
            .reconcile_day(day)
            .await
            .map_err(|e| BenchError::Setup(format!("reconciling {day}: {e}")))?;
        let mut totals: BTreeMap<String, CashTotals> = BTreeMap::new();
        for l in &reconciliation.lines {
            let t = totals.entry(l.currency.code().to_owned()).or_default();
            t.expected_minor += l.expected_minor;
            t.collected_minor += l.collected_minor;
            t.handed_over_minor += l.handed_over_minor;
            t.due_minor += l.due().minor;
        }
        days.push(CashDay {
            day: report.day.clone(),
            balanced: report.balanced && reconciliation.is_balanced(),
            shipments_checked: reconciliation.shipments_checked,
            accuracy_percent: reconciliation.accuracy_percent(),
            cod_deliveries: reconciliation.lines.iter().map(|l| l.cod_deliveries).sum(),
            totals,
            handovers,
            lines: reconciliation.lines,
            exceptions: reconciliation.exceptions,
            cash_outs_created: report.cash_outs_created,
        });
    }
    Ok(days)
}

/// Every day balances, and together they count every COD order posted, for exactly its amount.
fn check_the_cash(
    days: &[CashDay],
    cod_orders: usize,
    cod_posted_minor: i64,
    broken: &mut Vec<String>,
) {
    for d in days.iter().filter(|d| !d.balanced) {
        broken.push(format!(
            "COD on {} does not balance: {} exception(s), totals {:?}",
            d.day,
            d.exceptions.len(),
            d.totals
        ));
    }
    let deliveries: u32 = days.iter().map(|d| d.cod_deliveries).sum();
    let expected: i64 = days
        .iter()
        .flat_map(|d| d.totals.values())
        .map(|t| t.expected_minor)
        .sum();
    if deliveries as usize != cod_orders || expected != cod_posted_minor {
        broken.push(format!(
            "the reconciliation counted {deliveries} COD deliveries expecting {}, \
             for {cod_orders} COD orders of {}",
            eur(expected),
            eur(cod_posted_minor)
        ));
    }
}
