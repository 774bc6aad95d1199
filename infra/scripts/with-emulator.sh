#!/usr/bin/env bash
# Runs a command with an AWS emulator: moto server on a free 127.0.0.1 port unless
# AWS_ENDPOINT_URL is already set (e.g. LocalStack at http://localhost:4566), then stops it.
#   infra/scripts/with-emulator.sh cargo test --workspace
set -euo pipefail
cd "$(dirname "$0")/../.."
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  infra/scripts/setup.sh
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p .local
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" > .local/moto.log 2>&1 &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true' EXIT
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  # Wait for the emulator to answer (a condition, bounded), not a fixed sleep.
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('$AWS_ENDPOINT_URL/moto-api/', timeout=1)" 2>/dev/null; then
      break
    fi
    kill -0 $moto_pid 2>/dev/null || { cat .local/moto.log; echo "moto server did not start" >&2; exit 1; }
    sleep 0.1
  done
  echo "AWS emulator: moto server at $AWS_ENDPOINT_URL" >&2
fi
"$@"
