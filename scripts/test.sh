#!/usr/bin/env bash
# The whole test suite, as CI runs it (README "Run the tests"). Works on a fresh Debian machine
# with the Rust toolchain: it installs the real servers the live-path tests run against
# (Prometheus + promtool, VictoriaMetrics), the browser the report is opened in (Chromium) and
# DuckDB (PyPI `duckdb`, in .venv) that reads the lake back, when they are missing, and then
# requires them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# python3 -m venv needs ensurepip (Debian: python3-venv).
python3 -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]} (Debian packages)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! .venv/bin/python -c "import duckdb" >/dev/null 2>&1; then
  echo "== installing duckdb (PyPI) into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q duckdb
fi
export SOL_DUCKDB_PYTHON="$PWD/.venv/bin/python"
# Real-backend, browser and lake tests fail instead of skipping when a tool is missing.
export SOL_REQUIRE_BACKENDS=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
if ! cargo deny --version >/dev/null 2>&1; then
  echo "== installing cargo-deny (crates.io)"
  cargo install cargo-deny --locked --quiet
fi
# Advisories need the RustSec database from GitHub, out of reach here: licences, bans, sources.
echo "== cargo deny (licences, bans, sources)"
cargo deny --offline check licenses bans sources
echo "== cargo test"
cargo test --workspace --locked
