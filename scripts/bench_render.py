#!/usr/bin/env python3
"""Render benchmark: `dcgm-sol render` of a 500-cell campaign.

The campaign is built from the four results in testdata/report/h200-tp8-sweep (each cell a copy
with its own id and concurrency), so every cell carries real-sized results: 4 resources × 8 GPUs
× 25-point time series. Measured in the same run, median of --runs (release build):
  render    `dcgm-sol render`: read and parse 500 results, draw 4–5 charts per cell and the
            sweep, write index.html, ~2 000 SVG files and report_status.json;
  baseline  `dcgm-sol summary` on the same campaign: the same reading and parsing, one small
            Markdown table written — what rendering costs beyond reading the inputs.
Prints both medians, the ratio, and the page's size.

Usage: scripts/bench_render.py [--cells 500] [--runs 5]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOURCES = ["c008", "c032", "c064", "c128"]


def build_campaign(root: str, cells: int, campaigns: str) -> None:
    results = [
        json.load(open(os.path.join(root, "testdata/report/h200-tp8-sweep", f"{c}.json")))
        for c in SOURCES
    ]
    for i in range(cells):
        result = json.loads(json.dumps(results[i % len(results)]))
        cell_id = f"c{i:04d}"
        result["cell_id"] = cell_id
        result["context"]["concurrency"] = 1 + i
        directory = os.path.join(campaigns, "bench", "cells", cell_id)
        os.makedirs(directory)
        with open(os.path.join(directory, "dcgm_correlation.json"), "w") as f:
            json.dump(result, f)


def timed(args: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(args, capture_output=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    binary = os.path.join(target, "release", "dcgm-sol")
    work = tempfile.mkdtemp(prefix="dcgm-sol-render-bench-")
    try:
        campaigns = os.path.join(work, "campaigns")
        build_campaign(root, args.cells, campaigns)
        common = [binary, "-q", "--campaigns-dir", campaigns]
        render = common + ["render", "--campaign", "bench"]
        summary = common + ["summary", "--campaign", "bench"]
        timed(render)  # warm the page cache for both
        render_s = statistics.median(timed(render) for _ in range(args.runs))
        summary_s = statistics.median(timed(summary) for _ in range(args.runs))
        report = os.path.join(campaigns, "bench", "report")
        page_bytes = os.path.getsize(os.path.join(report, "index.html"))
        svgs = sum(1 for name in os.listdir(report) if name.endswith(".svg"))
        print(f"campaign: {args.cells} cells; page {page_bytes / 1e6:.1f} MB, {svgs} SVG files")
        print(f"render   median {render_s * 1000:.0f} ms over {args.runs} runs")
        print(f"baseline median {summary_s * 1000:.0f} ms (summary: same reads and parses)")
        print(f"ratio render / baseline: {render_s / summary_s:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
