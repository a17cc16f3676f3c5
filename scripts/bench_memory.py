#!/usr/bin/env python3
"""Bounded-memory benchmark: `correlate` over a recorded scrapes file of about 1 GB.

Generates (deterministically, into a temp dir) an OpenMetrics recording of 8 H200 GPUs × 4 PROF
fields scraped every second for as many hours as it takes to reach --size-gb, then correlates a
10-minute window in its middle with --start/--end. Reports the file size, the wall time, the
streaming rate (file MB / wall s) and the peak resident memory of the process (GNU time's max
RSS), and — as the same-run baseline — the peak memory of the same command on a 10-minute
file holding only the window's data: memory should follow the window, not the file.

Usage: scripts/bench_memory.py [--size-gb 1.0]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

T0 = 1_795_000_000
FIELDS = [
    "DCGM_FI_PROF_DRAM_ACTIVE",
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    "DCGM_FI_PROF_NVLINK_TX_BYTES",
    "DCGM_FI_PROF_PCIE_TX_BYTES",
]
VALUES = {"DCGM_FI_PROF_DRAM_ACTIVE": "0.5", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": "0.25",
          "DCGM_FI_PROF_NVLINK_TX_BYTES": "100000000000", "DCGM_FI_PROF_PCIE_TX_BYTES": "1000000000"}


def labels(gpu: int) -> str:
    return (f'gpu="{gpu}",UUID="GPU-{gpu:08x}-0000-0000-0000-000000000000",'
            f'modelName="NVIDIA H200",Hostname="h200-node-01"')


def write_recording(path: str, start: int, seconds: int) -> None:
    with open(path, "w") as out:
        for field in FIELDS:
            out.write(f"# TYPE {field} gauge\n")
            for gpu in range(8):
                prefix = f"{field}{{{labels(gpu)}}} {VALUES[field]} "
                # One series' samples in time order, written in blocks.
                block = []
                for t in range(start, start + seconds):
                    block.append(f"{prefix}{t}\n")
                    if len(block) == 100_000:
                        out.write("".join(block))
                        block.clear()
                out.write("".join(block))
        out.write("# EOF\n")


def peak_rss_mb(args: list[str]) -> tuple[float, float]:
    began = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {done.stderr}")
    return int(done.stderr.strip().splitlines()[-1]) / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")),
                          "release", "dcgm-sol")
    line_bytes = len(f"{FIELDS[0]}{{{labels(0)}}} 0.5 {T0}\n")
    seconds = int(args.size_gb * 1e9 / (line_bytes * len(FIELDS) * 8))
    work = tempfile.mkdtemp(prefix="dcgm-sol-memory-bench-")
    try:
        middle = T0 + seconds // 2
        window = ["--start", str(middle), "--end", str(middle + 600)]
        campaigns = os.path.join(work, "campaigns")
        results = {}
        # Baseline: the window ± 10 min only; then the whole long recording.
        for name, start, span in [("window only", middle - 600, 1800), ("large", T0, seconds)]:
            cell = os.path.join(campaigns, "c", "cells", "x")
            os.makedirs(cell, exist_ok=True)
            path = os.path.join(cell, "dcgm-scrapes.prom")
            write_recording(path, start, span)
            rss, wall = peak_rss_mb([binary, "-q", "--campaigns-dir", campaigns, "correlate",
                                     "--campaign", "c", "--cell-id", "x", "--hw-key", "h200_sxm",
                                     "--n-gpus", "8"] + window)
            results[name] = (os.path.getsize(path) / 1e6, rss, wall)
        for name, (size_mb, rss, wall) in results.items():
            print(f"{name:12} file {size_mb:8.1f} MB  peak RSS {rss:6.1f} MB  wall {wall:6.2f} s  "
                  f"rate {size_mb / wall:6.0f} MB/s")
        print(f"peak memory ratio large / window-only: {results['large'][1] / results['window only'][1]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
