#!/usr/bin/env bash
# Runs the named emulator suites against the emulator with-emulator.sh started, each to its
# own log in DIR, and never stops at a failing one (test-matrix.sh reads the logs).
#   infra/scripts/run-suites.sh DIR e2e|local-runtime|cli|ses...
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=$1
shift
# One package set and feature set for every suite, so that no suite rebuilds what another
# built: each suite is a test binary of these packages.
packages=(-p end-to-end -p courier-bridge-local -p courier-bridge-cli -p courier-bridge-partners
  --features courier-bridge-partners/ses)
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
