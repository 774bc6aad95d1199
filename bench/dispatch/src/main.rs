//! The route planner on VRPTW instances in Solomon's text format.
//!
//!     bench-dispatch --instance FILE [--seconds N] [--generations G]
//!     bench-dispatch --all DIR --bks BKS.json [--seconds N] [--out FILE]
//!     bench-dispatch --city-day [--stops 2000] [--drivers 40] [--seconds N] [--seed S]
//!
//! One instance prints its result as JSON. `--all` plans every `*.txt` in DIR, prints a table
//! per class (C1, C2, R1, R2, RC1, RC2) of the gap to the best-known total distance (BKS.json's
//! `<name>_distance` entries) and the vehicles used, and writes every result as JSON to
//! `--out` (default target/bench/dispatch.json). The objective is the least total distance,
//! which is what those best-known solutions minimise.

mod city;

use routing::{plan, solomon, Budget, Objective};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Serialize)]
struct Outcome {
    instance: String,
    class: String,
    stops: usize,
    vehicles_used: usize,
    unserved: usize,
    distance: f64,
    seconds: f64,
    best_known_distance: Option<f64>,
    best_known_vehicles: Option<u64>,
    gap_percent: Option<f64>,
}

struct Args {
    city_day: bool,
    stops: usize,
    drivers: usize,
    seed: u64,
    instance: Option<PathBuf>,
    all: Option<PathBuf>,
    bks: Option<PathBuf>,
    out: PathBuf,
    budget: Budget,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        city_day: false,
        stops: 2_000,
        drivers: 40,
        seed: 1,
        instance: None,
        all: None,
        bks: None,
        out: PathBuf::from("target/bench/dispatch.json"),
        budget: Budget {
            seconds: 2,
            generations: None,
            until_settled: false,
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--instance" => args.instance = Some(value()?.into()),
            "--city-day" => args.city_day = true,
            "--stops" => args.stops = value()?.parse().map_err(|e| format!("--stops: {e}"))?,
            "--drivers" => {
                args.drivers = value()?.parse().map_err(|e| format!("--drivers: {e}"))?
            }
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--all" => args.all = Some(value()?.into()),
            "--bks" => args.bks = Some(value()?.into()),
            "--out" => args.out = value()?.into(),
            "--seconds" => {
                args.budget.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--generations" => {
                args.budget.generations = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--generations: {e}"))?,
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// "C101" → "C1", "RC208" → "RC2".
fn class(name: &str) -> String {
    let letters: String = name
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digit = name[letters.len()..]
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    letters + &digit
}

fn run(path: &Path, budget: Budget, bks: &serde_json::Value) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let instance = solomon::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let started = Instant::now();
    let result = plan(&instance.problem, Objective::LeastDistance, budget)
        .map_err(|e| format!("{}: {e}", instance.name))?;
    let seconds = started.elapsed().as_secs_f64();
    let known = &bks[format!("{}_distance", instance.name)];
    let best_known_distance = known["best_known_cost"].as_f64();
    Ok(Outcome {
        class: class(&instance.name),
        stops: instance.problem.stops.len(),
        vehicles_used: result.routes.len(),
        unserved: result.unserved.len(),
        distance: result.distance,
        seconds,
        best_known_vehicles: known["solved_with_vehicles"].as_u64(),
        gap_percent: best_known_distance.map(|b| (result.distance / b - 1.) * 100.),
        best_known_distance,
        instance: instance.name,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.
    }
}

fn table(outcomes: &[Outcome]) {
    let mut groups: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        groups.entry(o.class.clone()).or_default().push(o);
        groups.entry("all".into()).or_default().push(o);
    }
    println!("| class | instances | gap median | gap mean | gap worst | best known matched | vehicles (ours / best known) | unserved | s per instance |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (class, group) in groups {
        let mut gaps: Vec<f64> = group.iter().filter_map(|o| o.gap_percent).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let worst = gaps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let matched = gaps.iter().filter(|g| **g <= 0.005).count();
        let ours: usize = group.iter().map(|o| o.vehicles_used).sum();
        let known: u64 = group.iter().filter_map(|o| o.best_known_vehicles).sum();
        let unserved: usize = group.iter().map(|o| o.unserved).sum();
        let seconds = group.iter().map(|o| o.seconds).sum::<f64>() / group.len() as f64;
        println!(
            "| {class} | {} | {:+.2} % | {mean:+.2} % | {worst:+.2} % | {matched} | {ours} / {known} | {unserved} | {seconds:.2} |",
            group.len(),
            median(&mut gaps),
        );
    }
}

fn main() -> ExitCode {
    match main_result() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-dispatch: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_result() -> Result<(), String> {
    let args = args()?;
    let bks = match &args.bks {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|text| {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
            })?,
        None => serde_json::Value::Null,
    };
    if args.city_day {
        let day = city::run(&city::Options {
            stops: args.stops,
            drivers: args.drivers,
            seconds: args.budget.seconds,
            seed: args.seed,
        })?;
        println!(
            "{}",
            serde_json::to_string_pretty(&day).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    if let Some(path) = &args.instance {
        let outcome = run(path, args.budget, &bks)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let dir = args.all.ok_or("--instance FILE or --all DIR")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut outcomes = Vec::new();
    for file in &files {
        let outcome = run(file, args.budget, &bks)?;
        eprintln!(
            "{:>6}  {:>2} vehicles  {:>9.2}  gap {:>+6.2} %  {:.2} s",
            outcome.instance,
            outcome.vehicles_used,
            outcome.distance,
            outcome.gap_percent.unwrap_or(f64::NAN),
            outcome.seconds
        );
        outcomes.push(outcome);
    }
    table(&outcomes);
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let json = serde_json::to_string_pretty(&outcomes).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("results: {}", args.out.display());
    Ok(())
}
