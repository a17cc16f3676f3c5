#!/usr/bin/env python3
"""Live-path benchmark: is a `dcgm-sol correlate --prometheus` run dominated by the server?

One cell: 8 GPUs (--gpus), a 10-minute window (--minutes), 1 s scrapes, 14 DCGM fields (every field an H100 exporter
with the profiling group exports for %SoL), backfilled into a real Prometheus on 127.0.0.1.
Measured in the same run, median of --runs:
  tool      wall time of `dcgm-sol --json correlate --prometheus URL ...` (release build):
            probe, raw-sample queries, integration, evaluation, two atomic writes;
  baseline  wall time of fetching the very same requests (taken from the result's provenance
            `queries[]`) with a plain HTTP client, the same 4 in flight, gzip like the tool,
            bodies decompressed, not parsed.
Prints the request count, both times and their ratio (tool / baseline).

Needs: prometheus, promtool, a Rust toolchain.
Usage: scripts/bench_live.py [--runs 5] [--gpus 8] [--minutes 10]   (the 72-GPU hour: --gpus 72 --minutes 60)
"""

import argparse
import gzip
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

GPUS = 8
WINDOW_S = 600
SCRAPE_S = 1
# Data before and after the window: the tool's margin (3 expected scrape intervals of 15 s) and
# the scrape-interval probe's 120 s lookback both stay inside it.
PAD_S = 180
T0_S = 1_790_000_000
IN_FLIGHT = 4

# name → value at scrape k for GPU g (plausible decode-heavy load; counters accumulate).
GAUGES = {
    "DCGM_FI_PROF_DRAM_ACTIVE": lambda k, g: 0.55 + 0.01 * g + 0.05 * ((k % 7) / 7),
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": lambda k, g: 0.30 + 0.01 * g,
    "DCGM_FI_PROF_SM_ACTIVE": lambda k, g: 0.80,
    "DCGM_FI_PROF_SM_OCCUPANCY": lambda k, g: 0.35,
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": lambda k, g: 0.90,
    "DCGM_FI_PROF_NVLINK_TX_BYTES": lambda k, g: 1.2e11,
    "DCGM_FI_PROF_NVLINK_RX_BYTES": lambda k, g: 1.2e11,
    "DCGM_FI_PROF_PCIE_TX_BYTES": lambda k, g: 2.0e9,
    "DCGM_FI_PROF_PCIE_RX_BYTES": lambda k, g: 3.0e9,
    "DCGM_FI_DEV_SM_CLOCK": lambda k, g: 1755.0,
    "DCGM_FI_DEV_POWER_USAGE": lambda k, g: 520.0 + g,
    "DCGM_FI_DEV_GPU_UTIL": lambda k, g: 100.0,
    "DCGM_FI_DEV_MEM_COPY_UTIL": lambda k, g: 60.0,
}
ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"  # mJ counter


def openmetrics() -> str:
    lines = []
    scrapes = range(0, WINDOW_S + 2 * PAD_S + 1, SCRAPE_S)
    for name, value in list(GAUGES.items()) + [(ENERGY, None)]:
        lines.append(f"# TYPE {name} {'counter' if value is None else 'gauge'}")
        for g in range(GPUS):
            labels = (
                f'gpu="{g}",UUID="GPU-bench-{g:04d}",device="nvidia{g}",'
                f'modelName="NVIDIA H100 80GB HBM3",Hostname="bench-node-0",'
                f'DCGM_FI_DRIVER_VERSION="570.124.06",container="vllm",namespace="bench",pod="vllm-0"'
            )
            # dcgm-exporter declares the counter without `_total`; promtool keeps the name.
            series = name
            for k in scrapes:
                v = (520.0 + g) * 1000.0 * k if value is None else value(k, g)
                lines.append(f"{series}{{{labels}}} {v!r} {T0_S + k}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prometheus(work: str) -> tuple[subprocess.Popen, int]:
    data = os.path.join(work, "data")
    source = os.path.join(work, "dcgm.om")
    with open(source, "w") as f:
        f.write(openmetrics())
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", source, data],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
    port = free_port()
    log = open(os.path.join(work, "prometheus.log"), "w")
    server = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=10y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/-/ready")
            if c.getresponse().status == 200:
                return server, port
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    sys.exit(f"prometheus did not become ready; see {work}/prometheus.log")


def run_tool(binary: str, campaigns: str, url: str) -> tuple[float, dict]:
    start_s = T0_S + PAD_S
    args = [
        binary, "--json", "--campaigns-dir", campaigns, "correlate",
        "--campaign", "bench", "--cell-id", "cell", "--prometheus", url,
        "--start", str(start_s), "--end", str(start_s + WINDOW_S),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    began = time.perf_counter()
    done = subprocess.run(args, capture_output=True, env=env)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"dcgm-sol failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed, json.loads(done.stdout)


def utc_to_epoch(text: str) -> float:
    # "2026-09-21T12:34:56.789Z"
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def requests_of(result: dict, range_s: tuple[float, float]) -> list[tuple[str, dict]]:
    """The HTTP requests a run made, rebuilt from its provenance: the series listing (one
    request holding every selector) and one query per raw-sample record."""
    listing = [q for q in result["queries"] if q["unit"] == "series_listing"]
    queries = [q for q in result["queries"] if q["unit"] != "series_listing"]
    out = [(
        "/api/v1/series",
        {"match[]": [q["promql"] for q in listing], "start": [f"{range_s[0]:.3f}"],
         "end": [f"{range_s[1]:.3f}"]},
    )]
    for q in queries:
        out.append(("/api/v1/query",
                    {"query": [q["promql"]], "time": [f"{utc_to_epoch(q['eval_time_utc']):.3f}"]}))
    return out


def run_baseline(port: int, requests: list[tuple[str, dict]]) -> float:
    def fetch(request):
        path, form = request
        body = urllib.parse.urlencode(form, doseq=True)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # Compressed like the tool's requests (ureq asks for gzip): the server's work is the same.
        c.request("POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Encoding": "gzip",
        })
        response = c.getresponse()
        data = response.read()
        if response.status != 200:
            sys.exit(f"baseline request failed: {response.status} {data[:200]!r}")
        if response.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return len(data)

    began = time.perf_counter()
    # The listing and the interval probe precede the data queries, as in the tool.
    fetch(requests[0])
    fetch(requests[1])
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(fetch, requests[2:]))
    return time.perf_counter() - began


def main() -> None:
    global GPUS, WINDOW_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gpus", type=int, default=GPUS)
    parser.add_argument("--minutes", type=int, default=WINDOW_S // 60)
    args = parser.parse_args()
    GPUS, WINDOW_S = args.gpus, args.minutes * 60
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    binary = os.path.join(target, "release", "dcgm-sol")
    work = tempfile.mkdtemp(prefix="dcgm-sol-bench-")
    server, port = start_prometheus(work)
    try:
        url = f"http://127.0.0.1:{port}"
        campaigns = os.path.join(work, "campaigns")
        os.makedirs(os.path.join(campaigns, "bench", "cells", "cell"))
        run_tool(binary, campaigns, url)  # warm the server's caches once for both sides
        tool_s, baseline_s, result = [], [], None
        for _ in range(args.runs):
            elapsed, result = run_tool(binary, campaigns, url)
            tool_s.append(elapsed)
            # Fetched range: the window ± the tool's margin (3 × 15 s expected interval; the
            # 1 s interval seen is smaller, so the margin stays 45 s).
            start_s = T0_S + PAD_S
            requests = requests_of(result, (start_s - 45, start_s + WINDOW_S + 45))
            baseline_s.append(run_baseline(port, requests))
        tool, base = statistics.median(tool_s), statistics.median(baseline_s)
        hbm = next(r for r in result["resources"] if r["resource"] == "hbm")
        print(f"cell: {GPUS} GPUs, {WINDOW_S} s window, {SCRAPE_S} s scrapes, "
              f"{len(GAUGES) + 1} fields; HBM {hbm['sol_pct']:.2f} %SoL")
        print(f"HTTP requests per correlate: {len(requests)} "
              f"(1 series listing + 1 scrape-interval query + {len(requests) - 2} raw-sample queries)")
        print(f"tool     median {tool * 1000:.0f} ms over {args.runs} runs")
        print(f"baseline median {base * 1000:.0f} ms (same requests, plain HTTP client, {IN_FLIGHT} in flight, gzip)")
        print(f"ratio tool / baseline: {tool / base:.2f}")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
