#!/usr/bin/env bash
# The whole test suite, as CI runs it (README "Run the tests"). Works on a fresh Debian machine
# with the Rust toolchain: it installs the real servers the live-path tests run against
# (Prometheus + promtool, VictoriaMetrics) and the browser the report is opened in (Chromium)
# when they are missing, and then requires them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]} (Debian packages)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Real-backend and browser tests fail instead of skipping when a binary is missing.
export SOL_REQUIRE_BACKENDS=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
