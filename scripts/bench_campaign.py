#!/usr/bin/env python3
"""Campaign-scale benchmark: `render` and `publish` of a 500-cell campaign.

The campaign is built from the four results in testdata/report/h200-tp8-sweep (each cell a copy
with its own id and concurrency), so every cell carries real-sized results: 4 resources × 8 GPUs
× 25-point time series. Measured in the same run, median of --runs (release build):
  baseline  `dcgm-sol summary`: read and parse 500 results, write one small Markdown table —
            the cost of reading the inputs, which every campaign verb pays;
  render    `dcgm-sol render` into an empty report directory: the same reads, 3–4 charts per
            cell and the sweep, index.html, ~1 600 SVG files and report_status.json;
  rerender  `dcgm-sol render` again: every chart is already there and unchanged, so only the
            page and the status are rewritten;
  publish   `dcgm-sol publish --if-exists overwrite`: the same reads, 2 000 cell × resource
            rows and the campaign row encoded as Parquet, staged and swapped into the lake.
Prints each median and its ratio to the baseline, the page's size and the lake's size.

Usage: scripts/bench_campaign.py [--cells 500] [--runs 5]
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


def timed(args: list[str], before=None) -> float:
    """Wall time of one run of `args`; `before` (untimed) prepares the run."""
    if before:
        before()
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
    work = tempfile.mkdtemp(prefix="dcgm-sol-campaign-bench-")
    try:
        campaigns = os.path.join(work, "campaigns")
        build_campaign(root, args.cells, campaigns)
        common = [binary, "-q", "--campaigns-dir", campaigns]
        lake = os.path.join(work, "lake")
        report = os.path.join(campaigns, "bench", "report")
        render = common + ["render", "--campaign", "bench"]
        # name: (command, untimed preparation)
        verbs = {
            "baseline": (common + ["summary", "--campaign", "bench"], None),
            "render": (render, lambda: shutil.rmtree(report, ignore_errors=True)),
            "rerender": (render, None),  # every chart already there and unchanged
            "publish": (
                common
                + ["publish", "--campaign", "bench", "--lake", lake, "--if-exists", "overwrite"],
                None,
            ),
        }
        for command, before in verbs.values():
            timed(command, before)  # warm the page cache; the lake partition now exists
        medians = {
            name: statistics.median(timed(command, before) for _ in range(args.runs))
            for name, (command, before) in verbs.items()
        }
        page_bytes = os.path.getsize(os.path.join(report, "index.html"))
        svgs = sum(1 for name in os.listdir(report) if name.endswith(".svg"))
        lake_bytes = sum(
            os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(lake) for f in fs
        )
        print(
            f"campaign: {args.cells} cells; page {page_bytes / 1e6:.1f} MB, {svgs} SVG files; "
            f"lake {lake_bytes / 1e3:.0f} kB"
        )
        for name, seconds in medians.items():
            ratio = seconds / medians["baseline"]
            print(f"{name:8} median {seconds * 1000:5.0f} ms over {args.runs} runs, ratio {ratio:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
