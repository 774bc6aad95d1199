//! Gathers `make bench`'s results into one JSON (`target/bench/results.json`): criterion's
//! estimates (target/criterion/**/new/{benchmark,estimates}.json), `e2e.json`,
//! `cold_start.json` and `per_event.json`; then prints a short table.

use courier_bridge_bench::{results_dir, target_dir, BenchError, ColdStart, E2eResult, PerEvent};
use serde_json::{json, Value};
use std::path::Path;

fn main() {
    if let Err(e) = run() {
        eprintln!("report: {e}");
        std::process::exit(1);
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Every criterion benchmark's id with its mean and median, in nanoseconds.
fn criterion(dir: &Path, found: &mut Vec<Value>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let (Some(benchmark), Some(estimates)) = (
                read_json(&path.join("benchmark.json")),
                read_json(&path.join("estimates.json")),
            ) else {
                continue;
            };
            found.push(json!({
                "id": benchmark["full_id"],
                "mean_ns": estimates["mean"]["point_estimate"],
                "mean_ci95_ns": [
                    estimates["mean"]["confidence_interval"]["lower_bound"],
                    estimates["mean"]["confidence_interval"]["upper_bound"],
                ],
                "median_ns": estimates["median"]["point_estimate"],
            }));
        } else {
            criterion(&path, found);
        }
    }
}

fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn run() -> Result<(), BenchError> {
    let out = results_dir()?;
    let mut benches = Vec::new();
    criterion(&target_dir().join("criterion"), &mut benches);
    benches.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let e2e: Option<E2eResult> =
        read_json(&out.join("e2e.json")).and_then(|v| serde_json::from_value(v).ok());
    let cold: Option<Vec<ColdStart>> =
        read_json(&out.join("cold_start.json")).and_then(|v| serde_json::from_value(v).ok());
    let per_event: Option<PerEvent> =
        read_json(&out.join("per_event.json")).and_then(|v| serde_json::from_value(v).ok());
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let results = json!({
        "date": date,
        "machine": {
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        },
        "criterion": benches,
        "e2e": e2e,
        "cold_start": cold,
        "per_event": per_event,
    });
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&results)?)?;

    println!("\nPer-event cost (criterion, mean)");
    for bench in &benches {
        println!(
            "  {:<58} {:>10}",
            bench["id"].as_str().unwrap_or(""),
            human_ns(bench["mean_ns"].as_f64().unwrap_or(f64::NAN))
        );
    }
    if let Some(e2e) = &e2e {
        println!(
            "\nEnd to end: {} orders (+{} duplicate posts), {} processes per function",
            e2e.orders, e2e.duplicate_posts, e2e.processes_per_function
        );
        println!(
            "  throughput {:.1} orders/s over {:.1} s; courier answered {} x 503, {} x 429; faults armed {:?}",
            e2e.orders_per_second,
            e2e.wall_seconds,
            e2e.create_requests_503,
            e2e.create_requests_429,
            e2e.faults
        );
        println!(
            "  order received -> task created: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            e2e.latency_ms.p50, e2e.latency_ms.p95, e2e.latency_ms.p99, e2e.latency_ms.max
        );
        println!(
            "  tasks {} (unique references {})",
            e2e.tasks, e2e.unique_references
        );
        for (function, kib) in &e2e.peak_rss_kib {
            println!(
                "  peak RSS {function:<32} {:>7.1} MiB",
                *kib as f64 / 1024.0
            );
        }
    }
    if let Some(cold) = &cold {
        println!("\nCold start (process start -> first event handled, median) and binary size");
        for c in cold {
            println!(
                "  {:<20} {:>8.1} ms  {:>6.1} MiB  {}",
                c.binary,
                c.median_ms,
                c.size_bytes as f64 / (1024.0 * 1024.0),
                c.outcome
            );
        }
    }
    if let Some(per_event) = &per_event {
        println!(
            "\nPer event ({} events; webhook-intake and its peer: median of {} rounds)",
            per_event.events, per_event.rounds
        );
        for cost in &per_event.costs {
            println!("  {}", cost.line());
        }
        for c in &per_event.comparisons {
            println!(
                "  peer / webhook-intake ({}): CPU new {:.1}x, duplicate {:.1}x, start-up {:.0}x, cold start {:.0}x, peak memory {:.1}x",
                c.connections.as_str(),
                c.cpu_new,
                c.cpu_duplicate,
                c.start_up,
                c.cold_start,
                c.peak_memory
            );
        }
    }
    println!("\nresults: {}", path.display());
    Ok(())
}
