#!/usr/bin/env bash
# Install what the tests need on a fresh machine, then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  # Debian's Chromium drives the browser tests (Playwright cannot download its own here).
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
python -m pip install -q -r requirements-test.txt
python -m pip install -q -r requirements-ray.txt   # the Ray backend's tests run too
export TF_CPP_MIN_LOG_LEVEL=2
python -m pytest -q "$@"
