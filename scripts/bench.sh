#!/usr/bin/env bash
# Every benchmark of docs/performance.md, one after another, each printing its figure next to the
# floor or baseline it measured in the same run. Needs what scripts/test.sh installs
# (prometheus, promtool) and a Rust toolchain; takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n== %s\n' "$1"; }

section "core throughput: integration, scrapes parsing, JSON decoding"
cargo bench -p sol-core --bench throughput
section "1 GB recording: streaming rate and peak memory"
python3 scripts/bench_memory.py
section "500-cell campaign: render, re-render, publish vs summary"
python3 scripts/bench_campaign.py --cells 500 --runs 7
section "live correlate, 8 GPUs x 10 min, vs a plain fetch"
python3 scripts/bench_live.py --runs 5
section "live correlate, the 72-GPU hour, vs a plain fetch"
python3 scripts/bench_live.py --gpus 72 --minutes 60 --runs 3
section "a 10-million-sample answer: peak memory"
python3 scripts/bench_big_answer.py
section "--all-cells over 50 cells vs one at a time vs processes; memory over 10/50/200 cells"
python3 scripts/bench_all_cells.py --cells 50 --runs 5
