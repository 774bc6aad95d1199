#!/usr/bin/env bash
# Installs the project's Python tools, pinned, into .venv: moto server (the AWS emulator),
# cfn-lint, aws-sam-cli, cargo-lambda (with its zig), the Python + Powertools peer's
# packages. Idempotent; needs only python3 with venv and pip.
#   infra/scripts/setup.sh [EXTRA-REQUIREMENTS...]
# Extra files (e.g. bench/dispatch/peers/requirements.txt, for `make bench-dispatch`) go into
# the same .venv after the base set, each with its own stamp.
set -euo pipefail
cd "$(dirname "$0")/../.."

install() {
  local requirements=$1 stamp=$2
  if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
    return 0
  fi
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
}

[ -x .venv/bin/pip ] || python3 -m venv .venv
install infra/requirements.txt .venv/.installed
for extra in "$@"; do
  install "$extra" ".venv/.installed-$(echo "$extra" | tr '/' '-')"
done
