#!/usr/bin/env bash
# The whole test suite, as CI runs it (README "Run the tests"). Works on a fresh machine with the
# Rust toolchain: nothing beyond crates.io is needed yet (the live-Prometheus, lake and report
# issues will add their servers and browsers here, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
