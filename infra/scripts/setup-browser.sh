#!/usr/bin/env bash
# What the browser tests need: Debian's chromium and its chromedriver (the same build, from
# the same archive: the version Debian's security updates carry, printed below), and
# axe-core from npm at the version tests/browser/package.json pins, in
# tests/browser/node_modules. Idempotent: installs only what is missing.
#   infra/scripts/setup-browser.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo > /dev/null; then
    echo "setup-browser: chromium and chromium-driver are missing and this user cannot install them;" >&2
    echo "  install Debian's chromium and chromium-driver packages, then run again" >&2
    exit 1
  fi
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver > /dev/null
fi
echo "setup-browser: $(chromium --version 2>/dev/null), $(chromedriver --version | cut -d' ' -f1-2)"

if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ] \
  || ! cmp -s tests/browser/package.json tests/browser/node_modules/.installed; then
  (cd tests/browser && npm install --no-audit --no-fund --silent)
  cp tests/browser/package.json tests/browser/node_modules/.installed
fi
