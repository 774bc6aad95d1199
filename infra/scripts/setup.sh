#!/usr/bin/env bash
# Installs the project's Python tools, pinned, into .venv: moto server (the AWS emulator),
# cfn-lint, cargo-lambda (with its zig). Idempotent; needs only python3 with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/../.."
requirements=infra/requirements.txt
stamp=.venv/.installed
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
