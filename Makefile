# courier-bridge: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
export CARGO_BUILD_JOBS ?= 2

.PHONY: demo test lint build-lambda setup

## Replays every channel's published sample orders through the whole loop, locally (moto + sandbox).
demo:
	cargo build --bin courier-bridge-local
	RUST_LOG=$${RUST_LOG:-error} infra/scripts/with-emulator.sh target/debug/courier-bridge-local demo

## Every test: unit, handler and end-to-end against the emulator.
test:
	infra/scripts/with-emulator.sh cargo test --workspace --all-targets

## Formatting, clippy, and cfn-lint on template.yaml.
lint: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	.venv/bin/cfn-lint template.yaml

## The Lambda binaries, as SAM builds them (arm64, provided.al2023).
build-lambda: setup
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64 -p webhook-intake -p normalize -p create-task -p status-sync -p cod-reconcile -p marketplace-intake -p ship-by-watch -p notify

setup:
	infra/scripts/setup.sh
