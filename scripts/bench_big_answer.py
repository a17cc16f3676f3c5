#!/usr/bin/env python3
"""Memory of a live correlate whose Prometheus answer holds --samples raw samples.

A loopback stand-in for the Prometheus API (probe listing, scrape-interval query, raw-sample
queries) answers every DRAM_ACTIVE query with one series of --samples samples 1 ms apart (the
answer is generated once into a file and sent from disk). `correlate --prometheus` runs on a
10-minute window in the middle under GNU time. Reported: the answer's size, the process's peak
RSS, and — measured in the same run — the same for an answer ten times smaller, so the growth
per sample is visible. The answer streams from the socket into sample buffers: peak memory
follows the samples (16 bytes each), not the answer's text.

Usage: scripts/bench_big_answer.py [--samples 10000000]
"""

import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

T0 = 1_795_000_000.0
LABELS = {"__name__": "DCGM_FI_PROF_DRAM_ACTIVE", "gpu": "0", "Hostname": "node-1",
          "UUID": "GPU-00000000-1111-2222-3333-444444444444", "modelName": "NVIDIA H200"}


def write_answer(path: str, samples: int) -> None:
    with open(path, "w") as out:
        out.write('{"status":"success","data":{"resultType":"matrix","result":[{"metric":')
        out.write(json.dumps(LABELS))
        out.write(',"values":[')
        block = []
        for i in range(samples):
            block.append(f'[{T0 + i / 1000:.3f},"0.5"]')
            if len(block) == 100_000:
                out.write(",".join(block))
                block.clear()
                if i + 1 < samples:
                    out.write(",")
        out.write(",".join(block))
        out.write("]}]}}")


def serve(answer: str) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("content-length", 0))
            form = self.rfile.read(length).decode()
            if self.path.endswith("/api/v1/series"):
                body = json.dumps({"status": "success", "data": [LABELS]}).encode()
                return self.reply(body)
            if self.path.endswith("/api/v1/query") and "DRAM_ACTIVE" in form:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(os.path.getsize(answer)))
                self.end_headers()
                with open(answer, "rb") as f:
                    shutil.copyfileobj(f, self.wfile)
                return None
            empty = {"status": "success", "data": {"resultType": "matrix", "result": []}}
            return self.reply(json.dumps(empty).encode())

        do_GET = do_POST

        def reply(self, body: bytes):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(binary: str, work: str, samples: int) -> tuple[float, float]:
    answer = os.path.join(work, f"answer-{samples}.json")
    write_answer(answer, samples)
    server = serve(answer)
    campaigns = os.path.join(work, f"campaigns-{samples}")
    os.makedirs(os.path.join(campaigns, "c", "cells", "x"))
    middle = T0 + samples / 2000
    args = ["/usr/bin/time", "-f", "%M", binary, "-q", "--campaigns-dir", campaigns, "correlate",
            "--campaign", "c", "--cell-id", "x", "--hw-key", "h200_sxm", "--n-gpus", "1",
            "--prometheus", f"http://127.0.0.1:{server.server_address[1]}",
            "--start", f"{middle - 300:.3f}", "--end", f"{middle + 300:.3f}", "--timeout-s", "120"]
    done = subprocess.run(args, capture_output=True, text=True)
    server.shutdown()
    if done.returncode != 0:
        sys.exit(f"correlate failed: {done.stderr}")
    rss_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    return os.path.getsize(answer) / 1e6, rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")),
                          "release", "dcgm-sol")
    work = tempfile.mkdtemp(prefix="dcgm-sol-big-answer-")
    try:
        for samples in (args.samples // 10, args.samples):
            size_mb, rss_mb = measure(binary, work, samples)
            print(f"{samples:>10} samples: answer {size_mb:7.1f} MB, peak RSS {rss_mb:7.1f} MB "
                  f"({rss_mb * 1e6 / samples:.0f} bytes per sample)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
