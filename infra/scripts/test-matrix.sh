#!/usr/bin/env bash
# The suites that need an AWS emulator, against each emulator: `make test-matrix`.
#   [EMULATORS="moto dynamodb-local ministack localstack"] [SUITES="e2e local-runtime cli ses"] \
#     infra/scripts/test-matrix.sh
# Each emulator starts once (with-emulator.sh) and runs every suite; a suite's log is
# target/test-matrix/<emulator>/<suite>.log. The table (target/test-matrix/results.md) says per
# emulator and suite how many tests passed, and names each failure. A failure listed in
# infra/emulators/known-differences.txt (an emulator's documented departure from AWS) is
# reported as known; any other failure, or a known one that now passes, fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
emulators="${EMULATORS:-moto dynamodb-local ministack localstack}"
suites="${SUITES:-e2e local-runtime cli ses}"
out=target/test-matrix
rm -rf "$out"
mkdir -p "$out"

for emulator in $emulators; do
  mkdir -p "$out/$emulator"
  EMULATOR=$emulator infra/scripts/with-emulator.sh \
    infra/scripts/run-suites.sh "$out/$emulator" $suites 2>"$out/$emulator/emulator.log" || true
done

python3 infra/scripts/matrix-report.py "$out" infra/emulators/known-differences.txt \
  "$emulators" "$suites"
