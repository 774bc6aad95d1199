# courier-bridge: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
export CARGO_BUILD_JOBS ?= 2

.PHONY: demo up test test-matrix lint build-lambda setup bench bench-dispatch chaos soak

## Replays every channel's published sample orders through the whole loop, locally (moto + sandbox).
demo:
	cargo build --bin courier-bridge-local
	RUST_LOG=$${RUST_LOG:-error} infra/scripts/with-emulator.sh target/debug/courier-bridge-local demo

## The whole stack locally until Ctrl-C (emulator, functions, sandbox courier, a connected store
## per channel, the console's user): prints every URL and signing secret, and how to post an
## order with curl. PORT= moves the HTTP API (default 3000; the sandbox takes PORT+1).
up:
	cargo build --bin courier-bridge-local --bin courier-bridge
	RUST_LOG=$${RUST_LOG:-warn} infra/scripts/with-emulator.sh target/debug/courier-bridge-local serve --port $${PORT:-3000}

## Every test: unit, handler, end-to-end against the emulator, the pages in headless Chromium
## (Debian's, installed with apt-get by setup-browser.sh), schemathesis against the public
## API (installed into .venv beside setup's tools), and each benchmark once.
test:
	infra/scripts/setup.sh tests/schemathesis/requirements.txt
	infra/scripts/setup-browser.sh
	infra/scripts/with-emulator.sh cargo test --workspace --tests

## The suites that need AWS (end-to-end, local runtime, CLI, SES) against each emulator:
## moto, AWS's DynamoDB Local, ministack and LocalStack (EMULATORS=, SUITES= to narrow);
## the table is in target/test-matrix/results.md.
test-matrix: setup
	infra/scripts/test-matrix.sh

FUNCTIONS := webhook-intake normalize create-task status-sync notify cod-reconcile marketplace-intake ship-by-watch web-function console-function

## Benchmarks: criterion per-event costs, the whole loop end to end (BENCH_ORDERS, default
## 2000) with the functions as release binaries, cold starts and binary sizes, each function's
## start-up, CPU, memory and AWS calls per event beside a Python + Powertools peer; results in
## target/bench/results.json. The orchestrating binaries build in the dev profile: only the
## functions and the criterion benches are measured, and they are release builds.
bench: setup
	cargo build --release $(addprefix -p ,$(FUNCTIONS))
	cargo build -p courier-bridge-bench --bins
	cargo bench -p courier-bridge-channels --bench parsers
	infra/scripts/with-emulator.sh cargo bench -p courier-bridge-bench --bench handlers
	infra/scripts/with-emulator.sh target/debug/cold_start
	infra/scripts/with-emulator.sh target/debug/per_event
	BENCH_ORDERS=$${BENCH_ORDERS:-2000} infra/scripts/with-emulator.sh target/debug/e2e
	target/debug/report

## Chaos: every function its own process, a random one SIGKILLed every ~400 ms while
## CHAOS_ORDERS (default 2000) signed orders and a quarter again come in, with courier and store
## faults; then every task delivered, the DLQs redriven, and nothing lost or doubled checked
## (counts and kills per function in target/bench/chaos.json). CI runs CHAOS_ORDERS=300.
chaos:
	cargo build $(addprefix -p ,$(FUNCTIONS))
	cargo build -p courier-bridge-bench --bin chaos
	CHAOS_ORDERS=$${CHAOS_ORDERS:-2000} infra/scripts/with-emulator.sh target/debug/chaos

## Soak: every function one process, no faults, SOAK_RATE orders a second (default 2, every 4th
## cash on delivery) for SOAK_SECONDS (default 1800) while the sandbox's drivers deliver; each
## function's VmRSS and open fds sampled every minute after a warm-up, then the day's COD handed
## over and reconciled. Fails if memory grows past 20 % + 2 MiB, fds by more than 8, the cash
## does not balance, or anything is lost or doubled (target/bench/soak.json). Not in CI.
soak:
	cargo build $(addprefix -p ,$(FUNCTIONS))
	cargo build -p courier-bridge-bench --bin soak
	SOAK_SECONDS=$${SOAK_SECONDS:-1800} infra/scripts/with-emulator.sh target/debug/soak

## The route planner on the 56 Solomon VRPTW instances: gap to the best-known distance,
## vehicles, time per instance (BENCH_DISPATCH_SECONDS per instance, default 2), then VROOM,
## PyVRP and OR-Tools on the same instances and budget; JSON in target/bench/dispatch*.json.
## Any instance in Solomon's format runs through the same code: target/release/bench-dispatch
## --instance FILE --seconds N, .venv/bin/python bench/dispatch/peers/run.py --instance FILE.
bench-dispatch:
	infra/scripts/setup.sh bench/dispatch/peers/requirements.txt
	cargo build --release -p courier-bridge-bench-dispatch
	target/release/bench-dispatch --all bench/data/vrptw/solomon --bks bench/data/vrptw/BKS.json \
	  --seconds $${BENCH_DISPATCH_SECONDS:-2}
	.venv/bin/python bench/dispatch/peers/run.py --all bench/data/vrptw/solomon \
	  --bks bench/data/vrptw/BKS.json --seconds $${BENCH_DISPATCH_SECONDS:-2}

## Formatting, clippy, and template.yaml through cfn-lint and SAM's own validation.
lint: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	.venv/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml

## The Lambda binaries, as SAM builds them (arm64, provided.al2023).
build-lambda: setup
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64 -p webhook-intake -p normalize -p create-task -p status-sync -p cod-reconcile -p marketplace-intake -p ship-by-watch -p notify -p dispatch-function -p web-function -p console-function

setup:
	infra/scripts/setup.sh
