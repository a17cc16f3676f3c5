#!/usr/bin/env python3
"""`correlate --all-cells` over 50 cells: parallel against one by one.

The campaign is the shipped example's four cells (8 H200s, 2-minute windows, recorded scrapes)
copied to 50 cells (`c000`…`c049`, each a copy of one of the four). Measured in the same run,
median of --runs (release build):
  parallel    `correlate --all-cells` (one worker per core);
  sequential  `correlate --all-cells --jobs 1` (the same process, one cell at a time);
  processes   50 separate `correlate --cell-id` runs, one after another (what a shell loop does).
Prints each median and the speed-up of the parallel run over the other two, then the peak
resident memory of the parallel run over 10, 50 and 200 cells (GNU time), which should not grow
with the number of cells.

Usage: scripts/bench_all_cells.py [--cells 50] [--runs 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOURCES = ["c008", "c032", "c064", "c128"]


def build_campaign(root: str, cells: int, campaigns: str) -> None:
    example = os.path.join(root, "examples", "campaigns", "h200-tp8-sweep")
    target = os.path.join(campaigns, "bench")
    os.makedirs(target)
    for i in range(cells):
        source = os.path.join(example, "cells", SOURCES[i % len(SOURCES)])
        cell = os.path.join(target, "cells", f"c{i:03d}")
        os.makedirs(cell)
        for name in os.listdir(source):
            if name in ("dcgm_correlation.json", "dcgm-frozen.yaml"):
                continue
            shutil.copy(os.path.join(source, name), cell)


def timed(commands: list[list[str]]) -> float:
    began = time.perf_counter()
    for args in commands:
        done = subprocess.run(args, capture_output=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")),
                          "release", "dcgm-sol")
    work = tempfile.mkdtemp(prefix="dcgm-sol-all-cells-bench-")
    try:
        campaigns = os.path.join(work, "campaigns")
        build_campaign(root, args.cells, campaigns)
        common = [binary, "-q", "--campaigns-dir", campaigns, "correlate", "--campaign", "bench",
                  "--timezone", "UTC"]
        variants = {
            "parallel": [common + ["--all-cells"]],
            "sequential": [common + ["--all-cells", "--jobs", "1"]],
            "processes": [common + ["--cell-id", f"c{i:03d}"] for i in range(args.cells)],
        }
        timed(variants["parallel"])  # warm the page cache
        medians = {name: statistics.median(timed(commands) for _ in range(args.runs))
                   for name, commands in variants.items()}
        print(f"{args.cells} cells, {os.cpu_count()} cores")
        for name, seconds in medians.items():
            print(f"{name:10} median {seconds:6.2f} s over {args.runs} runs")
        print(f"speed-up parallel vs sequential: {medians['sequential'] / medians['parallel']:.2f}")
        print(f"speed-up parallel vs processes:  {medians['processes'] / medians['parallel']:.2f}")
        for cells in (10, 50, 200):
            campaigns = os.path.join(work, f"memory-{cells}")
            build_campaign(root, cells, campaigns)
            done = subprocess.run(
                ["/usr/bin/time", "-f", "%M", binary, "-q", "--campaigns-dir", campaigns,
                 "correlate", "--campaign", "bench", "--all-cells", "--timezone", "UTC"],
                capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"correlate over {cells} cells failed: {done.stderr}")
            peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
            print(f"peak RSS over {cells:3} cells: {peak_mb:5.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
