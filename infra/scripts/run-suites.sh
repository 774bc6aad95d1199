#!/usr/bin/env bash
# Runs the named emulator suites against the emulator with-emulator.sh started, each to its
# own log in DIR, and never stops at a failing one (test-matrix.sh reads the logs).
#   infra/scripts/run-suites.sh DIR e2e|local-runtime|cli|ses...
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=$1
shift
# Each suite is a test binary of the workspace, built as `make test` builds it (the same
# features), so that nothing is rebuilt after `make test` or between suites.
packages=(--workspace)
cargo test --no-run --quiet "${packages[@]}" --tests
for suite in "$@"; do
  case "$suite" in
    e2e) args=(--test e2e) ;;
    local-runtime) args=(--test provision) ;;
    cli) args=(--test cli) ;;
    # SES v2 against the emulator's own SES (the rest of that binary needs no emulator).
    ses) args=(--test partners notify_ses) ;;
    *) echo "unknown suite $suite: e2e, local-runtime, cli or ses" >&2; exit 2 ;;
  esac
  start=$(date +%s)
  # --no-fail-fast: every test of the suite runs, whatever an earlier one did.
  cargo test --no-fail-fast "${packages[@]}" "${args[@]}" >"$dir/$suite.log" 2>&1
  echo "exit=$? seconds=$(($(date +%s) - start))" >"$dir/$suite.status"
done
