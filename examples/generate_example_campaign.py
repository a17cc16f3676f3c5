#!/usr/bin/env python3
"""Writes the shipped example campaign `examples/campaigns/h200-tp8-sweep/`.

The campaign is synthetic: a 4-cell concurrency sweep of Llama-3.3-70B-Instruct (FP8) on one host
with 8 x NVIDIA H200 (vLLM, TP 8), with the bench result files and the recorded dcgm-exporter
scrapes a real run would leave behind. `examples/README.md` documents every parameter used here.

Deterministic: every random draw comes from a `random.Random` seeded with a fixed string, and no
clock is read, so running the script twice gives byte-identical files.
Standard library only (Python 3.11). Run from anywhere:

    python3 examples/generate_example_campaign.py

After writing, every scrape file is re-read and checked against the OpenMetrics rules promtool
enforces, and GROUND_TRUTH.json is computed from the samples as written (not from the model that
produced them). The script exits non-zero if a check fails.
"""

from __future__ import annotations

import calendar
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

SEED = "dcgm-sol/examples/h200-tp8-sweep/v1"
CAMPAIGN_DIR = Path(__file__).resolve().parent / "campaigns" / "h200-tp8-sweep"

# --- Timing -------------------------------------------------------------------------------------
FIRST_WINDOW_START_UTC = "2026-11-20T14:00:00Z"
CELL_SPACING_S = 600
WINDOW_S = 120
SCRAPE_INTERVAL_S = 5
SCRAPES_BEFORE_WINDOW_S = 30
SCRAPES_AFTER_WINDOW_S = 15
# From this offset to the window start on, the vLLM pod holds the GPUs: every series carries pod labels.
POD_LABELS_FROM_S = -20
RAMP_UP_S = 15
DRAIN_S = 10

# --- Deployment ---------------------------------------------------------------------------------
MODEL = "meta-llama/Llama-3.3-70B-Instruct"
HARDWARE = "8x NVIDIA H200"
HW_KEY = "h200_sxm"
QUANT = "fp8"
TENSOR_PARALLEL = 8
INPUT_LEN = 2048
OUTPUT_LEN = 512
HOSTNAME = "h200-node-07.example.internal"
MODEL_NAME = "NVIDIA H200"
DRIVER_VERSION = "580.105.08"
POD_LABELS = (("container", "main"), ("namespace", "inference"), ("pod", "vllm-llama70b-tp8-0"))
# Bus ids of the 8 GPUs in the real H100 fixture (NVIDIA/aicr evidence), reused as is.
PCI_BUS_IDS = (
    "00000000:53:00.0", "00000000:64:00.0", "00000000:75:00.0", "00000000:86:00.0",
    "00000000:97:00.0", "00000000:A8:00.0", "00000000:B9:00.0", "00000000:CA:00.0",
)

# --- Load model ---------------------------------------------------------------------------------
LOAD_NOISE = 0.015  # multiplicative, uniform +-1.5 % on PROF and power samples under load
STRAGGLER_FACTOR = 0.88  # c128 GPU 3: DRAM and tensor plateau 12 % lower
STRAGGLER_METRICS = ("DCGM_FI_PROF_DRAM_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE")
IDLE_SM_CLOCK_MHZ = 345
BOOST_SM_CLOCK_MHZ = 1980
SM_CLOCK_STEP_MHZ = 15
MEM_CLOCK_MHZ = 3201
MEM_COPY_UTIL_PER_DRAM_ACTIVE = 0.9
ENERGY_COUNTER_START_MJ = 410_000_000_000
IDLE_POWER_W = 75.0


@dataclass(frozen=True)
class Cell:
    """One load point: its bench parameters and the per-GPU plateau of every load-following metric."""

    cell_id: str
    concurrency: int
    num_prompts: int
    bench_file: str  # "perfbench" or "vllm"
    plateau: dict[str, float]
    sm_clock_mhz: int
    straggler_gpu: int | None = None


def plateaus(dram, tensor, nvlink_gb_s, pcie_tx_gb_s, pcie_rx_gb_s, power_w, sm_active, sm_occupancy,
             gr_engine, fp16) -> dict[str, float]:
    """Names the plateau values of one cell by metric (byte rates given in GB/s, stored in B/s)."""
    return {
        "DCGM_FI_PROF_DRAM_ACTIVE": dram,
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": tensor,
        "DCGM_FI_PROF_NVLINK_TX_BYTES": nvlink_gb_s * 1e9,
        "DCGM_FI_PROF_NVLINK_RX_BYTES": nvlink_gb_s * 1e9,
        "DCGM_FI_PROF_PCIE_TX_BYTES": pcie_tx_gb_s * 1e9,
        "DCGM_FI_PROF_PCIE_RX_BYTES": pcie_rx_gb_s * 1e9,
        "DCGM_FI_DEV_POWER_USAGE": power_w,
        "DCGM_FI_PROF_SM_ACTIVE": sm_active,
        "DCGM_FI_PROF_SM_OCCUPANCY": sm_occupancy,
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": gr_engine,
        "DCGM_FI_PROF_PIPE_FP16_ACTIVE": fp16,
    }


CELLS = (
    Cell("c008", 8, 256, "perfbench",
         plateaus(0.34, 0.06, 9, 0.4, 0.9, 390, 0.52, 0.17, 0.955, 0.011), 1980),
    Cell("c032", 32, 512, "vllm",
         plateaus(0.55, 0.17, 28, 0.6, 1.3, 520, 0.71, 0.23, 0.968, 0.018), 1980),
    Cell("c064", 64, 512, "perfbench",
         plateaus(0.68, 0.29, 46, 0.8, 1.6, 610, 0.80, 0.27, 0.974, 0.023), 1890),
    Cell("c128", 128, 200, "perfbench",
         plateaus(0.79, 0.41, 71, 1.0, 2.0, 680, 0.86, 0.31, 0.978, 0.027), 1755, straggler_gpu=3),
)
GPU_INDICES = range(TENSOR_PARALLEL)
C064_KERNEL_CATEGORIES = {"GEMM": 412, "Attention": 236, "NCCL": 181, "MoE": 0, "Other": 71}


# --- Exporter families --------------------------------------------------------------------------
def ratio_text(value: float) -> str:
    """A DCGM double as the exporter prints it (`%f`)."""
    return f"{value:.6f}"


def integer_text(value: float) -> str:
    """A DCGM int64 as the exporter prints it (`%d`)."""
    return str(round(value))


@dataclass(frozen=True)
class Family:
    """One exporter metric family: HELP/TYPE as dcgm-exporter prints them and how values look."""

    name: str
    prom_type: str
    help_text: str
    value_pattern: str  # regex every printed value of this family must match


RATIO = r"\d+\.\d{6}"
INTEGER = r"\d+"

# Order and HELP texts follow NVIDIA/dcgm-exporter etc/dcp-metrics-included.csv; the NVLink texts are
# the ones dcgm-exporter 3.3.3 printed (NVIDIA/DCGM#149, fixture a100x4-prof-nvlink-zero.prom).
FAMILIES = (
    Family("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", INTEGER),
    Family("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", INTEGER),
    Family("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", RATIO),
    Family("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter",
           "Total energy consumption since boot (in mJ).", INTEGER),
    Family("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", INTEGER),
    Family("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", INTEGER),
    Family("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active.", RATIO),
    Family("DCGM_FI_PROF_SM_ACTIVE", "gauge", "The ratio of cycles an SM has at least 1 warp assigned.", RATIO),
    Family("DCGM_FI_PROF_SM_OCCUPANCY", "gauge", "The ratio of number of warps resident on an SM.", RATIO),
    Family("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active.", RATIO),
    Family("DCGM_FI_PROF_DRAM_ACTIVE", "gauge",
           "Ratio of cycles the device memory interface is active sending or receiving data.", RATIO),
    Family("DCGM_FI_PROF_PIPE_FP16_ACTIVE", "gauge", "Ratio of cycles the fp16 pipes are active.", RATIO),
    Family("DCGM_FI_PROF_PCIE_TX_BYTES", "gauge",
           "The rate of data transmitted over the PCIe bus - including both protocol headers and data "
           "payloads - in bytes per second.", INTEGER),
    Family("DCGM_FI_PROF_PCIE_RX_BYTES", "gauge",
           "The rate of data received over the PCIe bus - including both protocol headers and data "
           "payloads - in bytes per second.", INTEGER),
    Family("DCGM_FI_PROF_NVLINK_TX_BYTES", "gauge",
           "The rate of data not including protocol headers transmitted over NVLink (in B/s).", INTEGER),
    Family("DCGM_FI_PROF_NVLINK_RX_BYTES", "gauge",
           "The rate of data not including protocol headers received over NVLink (in B/s).", INTEGER),
)
PROF_FAMILIES = tuple(f.name for f in FAMILIES if f.name.startswith("DCGM_FI_PROF_"))


@dataclass(frozen=True)
class IdleLevel:
    """A metric's value with no load, jittered per sample by +-`jitter` (relative, uniform)."""

    mean: float
    jitter: float


IDLE = {
    "DCGM_FI_PROF_DRAM_ACTIVE": IdleLevel(0.0002, 0.25),
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": IdleLevel(0.0, 0.0),
    "DCGM_FI_PROF_NVLINK_TX_BYTES": IdleLevel(3_000, 0.3),
    "DCGM_FI_PROF_NVLINK_RX_BYTES": IdleLevel(3_000, 0.3),
    "DCGM_FI_PROF_PCIE_TX_BYTES": IdleLevel(4_000, 0.3),
    "DCGM_FI_PROF_PCIE_RX_BYTES": IdleLevel(6_000, 0.3),
    "DCGM_FI_DEV_POWER_USAGE": IdleLevel(IDLE_POWER_W, 0.02),
    "DCGM_FI_PROF_SM_ACTIVE": IdleLevel(0.0, 0.0),
    "DCGM_FI_PROF_SM_OCCUPANCY": IdleLevel(0.0, 0.0),
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": IdleLevel(0.0, 0.0),
    "DCGM_FI_PROF_PIPE_FP16_ACTIVE": IdleLevel(0.0, 0.0),
}


# --- Time ---------------------------------------------------------------------------------------
def epoch_s(utc: str) -> int:
    """`2026-11-20T14:00:00Z` -> epoch seconds (whole seconds: all our anchors are)."""
    return calendar.timegm(time.strptime(utc, "%Y-%m-%dT%H:%M:%SZ"))


def utc_text(epoch: int) -> str:
    """Epoch seconds -> `2026-11-20T14:00:00Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def utc_text_exact(epoch: Fraction) -> str:
    """Exact epoch seconds -> RFC 3339 UTC, with nanoseconds when not a whole second."""
    whole = math.floor(epoch)
    nanos = round((epoch - whole) * 1_000_000_000)
    text = utc_text(whole)
    return text if nanos == 0 else f"{text[:-1]}.{nanos:09d}Z"


def load_start_s(cell_index: int) -> int:
    """Start of a cell's load (and nominal 120 s window): 14:00:00Z plus 10 minutes per cell."""
    return epoch_s(FIRST_WINDOW_START_UTC) + CELL_SPACING_S * cell_index


def scrape_times(load_start: int) -> range:
    """Scrape timestamps of one cell: 30 s before its window to 15 s after, every 5 s."""
    return range(load_start - SCRAPES_BEFORE_WINDOW_S,
                 load_start + WINDOW_S + SCRAPES_AFTER_WINDOW_S + 1, SCRAPE_INTERVAL_S)


# --- Load shape ---------------------------------------------------------------------------------
def load_fraction_integral(t: float, load_start: int) -> float:
    """Integral from -inf to t of the load fraction (0 = idle, 1 = plateau), in seconds.

    Shape: 0 before the window, linear ramp over [start, start+15], plateau, linear drain over
    [end-10, end], 0 after.
    """
    load_end = load_start + WINDOW_S
    plateau_start = load_start + RAMP_UP_S
    drain_start = load_end - DRAIN_S
    ramp_area = RAMP_UP_S / 2
    plateau_area = drain_start - plateau_start
    if t <= load_start:
        return 0.0
    if t <= plateau_start:
        return (t - load_start) ** 2 / (2 * RAMP_UP_S)
    if t <= drain_start:
        return ramp_area + (t - plateau_start)
    if t <= load_end:
        return ramp_area + plateau_area + DRAIN_S / 2 - (load_end - t) ** 2 / (2 * DRAIN_S)
    return ramp_area + plateau_area + DRAIN_S / 2


def mean_load_fraction(scrape_time: int, load_start: int) -> float:
    """Mean load fraction over (t - 5 s, t]: the interval a DCGM PROF value at t averages."""
    begin = scrape_time - SCRAPE_INTERVAL_S
    area = load_fraction_integral(scrape_time, load_start) - load_fraction_integral(begin, load_start)
    return area / SCRAPE_INTERVAL_S


# --- Sample values ------------------------------------------------------------------------------
def seeded_rng(*parts: object) -> random.Random:
    """An independent, reproducible random stream (string seeds are hashed with SHA-512)."""
    return random.Random("/".join([SEED, *map(str, parts)]))


def jitter(rng: random.Random, relative: float) -> float:
    """A multiplicative factor drawn uniformly from [1 - relative, 1 + relative]."""
    return 1.0 + relative * (2.0 * rng.random() - 1.0)


def gpu_uuid(gpu: int) -> str:
    """A stable invented UUID in the exporter's shape (`GPU-8-4-4-4-12` hex digits)."""
    digits = f"{seeded_rng('uuid', gpu).getrandbits(128):032x}"
    return f"GPU-{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def first_energy_mj(gpu: int) -> int:
    """Counter value at the first scrape of the campaign: about 4.1e11 mJ, different per GPU."""
    return ENERGY_COUNTER_START_MJ + round(4e9 * (seeded_rng("energy", gpu).random() - 0.5))


def sm_clock_mhz(cell: Cell, load: float) -> int:
    """Idle clock with no load, else boost sagging towards the cell's (power-limited) clock."""
    if load == 0.0:
        return IDLE_SM_CLOCK_MHZ
    clock = BOOST_SM_CLOCK_MHZ - (BOOST_SM_CLOCK_MHZ - cell.sm_clock_mhz) * load
    return SM_CLOCK_STEP_MHZ * round(clock / SM_CLOCK_STEP_MHZ)


def load_following_values(cell: Cell, gpu: int, metric: str, loads: list[float]) -> list[float]:
    """idle + (plateau - idle) x load, with +-1.5 % noise on every sample that saw any load."""
    idle = IDLE[metric]
    plateau = cell.plateau[metric]
    if gpu == cell.straggler_gpu and metric in STRAGGLER_METRICS:
        plateau *= STRAGGLER_FACTOR
    rng = seeded_rng(cell.cell_id, gpu, metric)
    values = []
    for load in loads:
        idle_value = idle.mean * jitter(rng, idle.jitter)
        value = idle_value + (plateau - idle_value) * load
        values.append(value * jitter(rng, LOAD_NOISE) if load > 0.0 else value)
    return values


def gpu_values(cell: Cell, gpu: int, load_start: int, energy_start_mj: int) -> dict[str, list[str]]:
    """Every family's printed values for one GPU, one per scrape time in time order."""
    loads = [mean_load_fraction(t, load_start) for t in scrape_times(load_start)]
    printed = {}
    for family in FAMILIES:
        if family.name in IDLE and family.name != "DCGM_FI_DEV_POWER_USAGE":
            as_text = ratio_text if family.value_pattern == RATIO else integer_text
            values = load_following_values(cell, gpu, family.name, loads)
            printed[family.name] = [as_text(v) for v in values]
    # Power has milliwatt resolution (as NVML reports it), so power x 5 s is a whole number of mJ.
    power_mw = [round(w * 1000) for w in load_following_values(cell, gpu, "DCGM_FI_DEV_POWER_USAGE", loads)]
    printed["DCGM_FI_DEV_POWER_USAGE"] = [ratio_text(mw / 1000) for mw in power_mw]
    energy_mj = [energy_start_mj]
    for mw in power_mw[1:]:
        energy_mj.append(energy_mj[-1] + mw * SCRAPE_INTERVAL_S)
    printed["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] = [str(e) for e in energy_mj]
    printed["DCGM_FI_DEV_SM_CLOCK"] = [str(sm_clock_mhz(cell, load)) for load in loads]
    printed["DCGM_FI_DEV_MEM_CLOCK"] = [str(MEM_CLOCK_MHZ)] * len(loads)
    printed["DCGM_FI_DEV_GPU_UTIL"] = ["100" if load > 0.0 else "0" for load in loads]
    printed["DCGM_FI_DEV_MEM_COPY_UTIL"] = [
        integer_text(100 * float(dram) * MEM_COPY_UTIL_PER_DRAM_ACTIVE)
        for dram in printed["DCGM_FI_PROF_DRAM_ACTIVE"]
    ]
    return printed


# --- Scrape file --------------------------------------------------------------------------------
def label_text(gpu: int, with_pod: bool) -> str:
    """The exporter's label set, in its order (as in the real H100 fixture)."""
    labels = [("gpu", str(gpu)), ("UUID", gpu_uuid(gpu)), ("pci_bus_id", PCI_BUS_IDS[gpu]),
              ("device", f"nvidia{gpu}"), ("modelName", MODEL_NAME), ("Hostname", HOSTNAME),
              ("DCGM_FI_DRIVER_VERSION", DRIVER_VERSION)]
    if with_pod:
        labels.extend(POD_LABELS)
    return "{" + ",".join(f'{key}="{value}"' for key, value in labels) + "}"


def render_scrapes(cell: Cell, load_start: int, energy_start_mj: dict[int, int]) -> str:
    """All scrapes of one cell as one OpenMetrics document, families grouped, series in time order.

    Each GPU is two series: without pod labels until the vLLM pod binds the GPUs, with them after.
    """
    times = list(scrape_times(load_start))
    per_gpu = {gpu: gpu_values(cell, gpu, load_start, energy_start_mj[gpu]) for gpu in GPU_INDICES}
    pod_bound_from = load_start + POD_LABELS_FROM_S
    lines = []
    for family in FAMILIES:
        lines.append(f"# HELP {family.name} {family.help_text}")
        lines.append(f"# TYPE {family.name} {family.prom_type}")
        for gpu in GPU_INDICES:
            for with_pod in (False, True):
                labels = label_text(gpu, with_pod)
                for t, value in zip(times, per_gpu[gpu][family.name]):
                    if (t >= pod_bound_from) == with_pod:
                        lines.append(f"{family.name}{labels} {value} {t}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


# --- OpenMetrics check --------------------------------------------------------------------------
class CheckFailed(Exception):
    """A written scrape file breaks a rule promtool (or our contract) depends on."""


SAMPLE_LINE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)\{(?P<labels>[^}]*)\} (?P<value>\S+) (?P<ts>\d+)$")
LABEL_PAIR = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)="([^"\\]*)"$')
MIN_EPOCH_S, MAX_EPOCH_S = 1_000_000_000, 10_000_000_000
EXPECTED_LABEL_KEYS = ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION")


def parse_and_check(text: str, where: str) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """Checks the OpenMetrics rules and returns samples keyed by (family, UUID) in time order.

    Rules: LF only, final line `# EOF`; per family `# HELP`, `# TYPE`, then its samples and no
    family twice; every series' samples contiguous, timestamps integer seconds on the 5 s grid and
    strictly ascending; values in the exporter's printed format; the exporter's label set.
    """
    def fail(line_no: int, why: str) -> CheckFailed:
        return CheckFailed(f"{where}:{line_no}: {why}")

    if "\r" in text or not text.endswith("\n"):
        raise fail(0, "CR found or no final newline")
    lines = text[:-1].split("\n")
    if lines[-1] != "# EOF" or "# EOF" in lines[:-1]:
        raise fail(len(lines), "`# EOF` must be the last line and appear once")
    families = {f.name: f for f in FAMILIES}
    seen_families: list[str] = []
    finished_series: set[str] = set()
    current_series = None
    samples: dict[tuple[str, str], list[tuple[int, str]]] = {}
    expected = "HELP"
    for line_no, line in enumerate(lines[:-1], start=1):
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            if expected not in ("HELP", "sample-or-HELP") or name not in families or name in seen_families:
                raise fail(line_no, f"unexpected HELP for {name}")
            seen_families.append(name)
            expected = "TYPE"
        elif line.startswith("# TYPE "):
            _, _, name, prom_type = line.split(" ")
            if expected != "TYPE" or name != seen_families[-1] or prom_type != families[name].prom_type:
                raise fail(line_no, f"TYPE line out of place or wrong: {line}")
            expected = "sample"
        else:
            match = SAMPLE_LINE.match(line)
            if not match or expected == "TYPE" or not seen_families or match["name"] != seen_families[-1]:
                raise fail(line_no, "sample outside its family or malformed")
            family = families[match["name"]]
            if not re.fullmatch(family.value_pattern, match["value"]):
                raise fail(line_no, f"value {match['value']} not in the exporter's format")
            pairs = [LABEL_PAIR.match(p) for p in match["labels"].split(",")]
            if not all(pairs):
                raise fail(line_no, "malformed label")
            labels = dict(p.groups() for p in pairs)
            keys = tuple(p[1] for p in pairs)
            if keys not in (EXPECTED_LABEL_KEYS, EXPECTED_LABEL_KEYS + tuple(k for k, _ in POD_LABELS)):
                raise fail(line_no, f"label set {keys}")
            series = match["name"] + "{" + match["labels"] + "}"
            if series != current_series:
                if series in finished_series:
                    raise fail(line_no, "series samples not contiguous")
                if current_series is not None:
                    finished_series.add(current_series)
                current_series = series
                last_ts = None
            ts = int(match["ts"])
            # promtool reads milliseconds as seconds without complaint: insist on plausible seconds.
            if not MIN_EPOCH_S <= ts < MAX_EPOCH_S:
                raise fail(line_no, f"timestamp {ts} is not epoch seconds")
            if ts % SCRAPE_INTERVAL_S or (last_ts is not None and ts <= last_ts):
                raise fail(line_no, "timestamp off the 5 s grid or not ascending")
            last_ts = ts
            samples.setdefault((family.name, labels["UUID"]), []).append((ts, match["value"]))
            expected = "sample-or-HELP"
    if seen_families != [f.name for f in FAMILIES]:
        raise fail(len(lines), "families missing or out of order")
    for key, series in samples.items():
        timestamps = [ts for ts, _ in series]
        if timestamps != sorted(set(timestamps)):
            raise fail(0, f"{key}: the GPU's series overlap in time or are out of time order")
    return samples


# --- Bench files --------------------------------------------------------------------------------
def output_tokens(cell: Cell) -> int:
    """Random dataset with a fixed output length: every completed request produced 512 tokens."""
    return cell.num_prompts * OUTPUT_LEN


def perfbench_bundle(cell: Cell, window_start: int) -> dict:
    """The seed's inference_perfbench_v1 bundle; captured_at = window START."""
    return {
        "schema_version": "inference_perfbench_v1",
        "cell_id": cell.cell_id,
        "deploy": {
            "model": MODEL, "hardware": HARDWARE, "hw_key": HW_KEY, "engine": "vllm",
            "engine_version": "0.11.2", "image": "vllm/vllm-openai:v0.11.2", "quant": QUANT,
            "kv_cache_dtype": "fp8", "tensor_parallel": TENSOR_PARALLEL, "data_parallel": 1,
            "serving_config": {"max_num_seqs": "256", "enable_chunked_prefill": "true"},
        },
        "bench": {
            "tool": "vllm bench serve", "captured_at": utc_text(window_start),
            "duration_effective_s": float(WINDOW_S), "dataset": "random", "input_len": INPUT_LEN,
            "output_len": OUTPUT_LEN, "concurrency": cell.concurrency, "num_prompts": cell.num_prompts,
            "completed": cell.num_prompts, "failed": 0,
            "total_input_tokens": cell.num_prompts * INPUT_LEN, "total_output_tokens": output_tokens(cell),
            "output_throughput_tok_s": round(output_tokens(cell) / WINDOW_S, 1),
            "request_throughput_req_s": round(cell.num_prompts / WINDOW_S, 2),
            "cache_state": "warm",
        },
    }


def vllm_duration_s(cell: Cell) -> float:
    """perf_counter duration of a run that began on the whole second and ended f < 1 s before the next."""
    short_by_s = round(0.2 + 0.6 * seeded_rng(cell.cell_id, "duration").random(), 9)
    return WINDOW_S - short_by_s


def vllm_result(cell: Cell, window_start: int) -> dict:
    """A `vllm bench serve --save-result --metadata ...` object, keys in vLLM's order.

    `date` is the run's end rounded up to the whole second, in UTC; `duration` is a little under
    120 s, so [date - duration, date] starts that sub-second part after the load began.
    """
    duration_s = vllm_duration_s(cell)
    end = window_start + WINDOW_S
    completed = cell.num_prompts
    # Closed loop: each request's end-to-end latency is about concurrency x duration / requests.
    mean_e2el_ms = cell.concurrency * duration_s / completed * 1000
    mean_ttft_ms = 182.43817229196429
    mean_tpot_ms = (mean_e2el_ms - mean_ttft_ms) / (OUTPUT_LEN - 1)
    return {
        "date": time.strftime("%Y%m%d-%H%M%S", time.gmtime(end)),
        "endpoint_type": "vllm", "backend": "vllm", "label": None,
        "model_id": MODEL, "tokenizer_id": MODEL, "num_prompts": cell.num_prompts,
        "tensor_parallel_size": str(TENSOR_PARALLEL), "gpu": "8xNVIDIA_H200", "quantization": QUANT,
        "request_rate": "inf", "burstiness": 1.0, "max_concurrency": cell.concurrency,
        "duration": duration_s, "completed": completed, "failed": 0,
        "total_input_tokens": completed * INPUT_LEN, "total_output_tokens": output_tokens(cell),
        "request_throughput": completed / duration_s, "request_goodput": None,
        "output_throughput": output_tokens(cell) / duration_s,
        "total_token_throughput": completed * (INPUT_LEN + OUTPUT_LEN) / duration_s,
        "max_output_tokens_per_s": 2464.0, "max_concurrent_requests": cell.concurrency, "rtfx": 0.0,
        "mean_ttft_ms": mean_ttft_ms, "median_ttft_ms": 171.90364806912839,
        "std_ttft_ms": 61.27750318453771, "p99_ttft_ms": 402.6580441789702,
        "mean_tpot_ms": mean_tpot_ms, "median_tpot_ms": mean_tpot_ms * 0.9962,
        "std_tpot_ms": 0.8415726520193716, "p99_tpot_ms": mean_tpot_ms * 1.1307,
        "mean_itl_ms": mean_tpot_ms * 1.0004, "median_itl_ms": mean_tpot_ms * 0.9811,
        "std_itl_ms": 3.9120938371154864, "p99_itl_ms": mean_tpot_ms * 2.4153,
    }


def bench_window(cell: Cell, load_start: int) -> tuple[Fraction, Fraction, str]:
    """The window a reader of the cell's bench file must derive, exactly: (start, end, how)."""
    if cell.bench_file == "vllm":
        end = Fraction(load_start + WINDOW_S)
        return end - Fraction(repr(vllm_duration_s(cell))), end, "vllm: [date - duration, date], date read as UTC"
    return Fraction(load_start), Fraction(load_start + WINDOW_S), \
        "inference_perfbench_v1: [captured_at, captured_at + duration_effective_s]"


def atlas_record(cell: Cell, load_start: int) -> dict:
    """One `atlas.jsonl` line; captured_at = window start, as in the bench bundles."""
    return {"cell_id": cell.cell_id, "model": MODEL, "hardware": HARDWARE, "hw_key": HW_KEY,
            "quant": QUANT, "tensor_parallel": TENSOR_PARALLEL, "concurrency": cell.concurrency,
            "captured_at": utc_text(load_start)}


# --- Ground truth -------------------------------------------------------------------------------
def covered_seconds(scrape_time: int, start: Fraction, end: Fraction) -> Fraction:
    """Overlap of (t - 5 s, t] with the window: the weight of the value at t."""
    return max(Fraction(0), min(end, Fraction(scrape_time)) - max(start, Fraction(scrape_time - SCRAPE_INTERVAL_S)))


def window_mean(series: list[tuple[int, str]], start: Fraction, end: Fraction) -> Fraction:
    """Exact time-weighted mean over [start, end] of values that each cover the 5 s before them."""
    return sum((covered_seconds(t, start, end) * Fraction(v) for t, v in series), Fraction(0)) / (end - start)


def counter_at(series: list[tuple[int, str]], at: Fraction) -> Fraction:
    """Counter value at a time between two samples: linear, as power is constant over each step."""
    for (t0, v0), (t1, v1) in zip(series, series[1:]):
        if t0 <= at <= t1:
            return Fraction(v0) + (Fraction(v1) - Fraction(v0)) * (at - t0) / (t1 - t0)
    raise CheckFailed(f"no energy samples bracket {float(at)}")


def as_number(value: Fraction) -> float:
    """A JSON number from an exact value, rounded to 9 decimals (far below any test tolerance)."""
    return float(round(value, 9))


def cell_ground_truth(cell: Cell, load_start: int, samples: dict) -> dict:
    """Per-GPU window means, energy and the exact window of one cell, from the parsed samples."""
    start, end, how = bench_window(cell, load_start)
    gpus = {}
    for gpu in GPU_INDICES:
        uuid = gpu_uuid(gpu)
        tensor = dict(samples[("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", uuid)])
        tensor_x_clock = [(t, str(Fraction(tensor[t]) * Fraction(clock)))
                          for t, clock in samples[("DCGM_FI_DEV_SM_CLOCK", uuid)]]
        energy = samples[("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", uuid)]
        gpus[str(gpu)] = {
            "uuid": uuid,
            "prof_mean": {name: as_number(window_mean(samples[(name, uuid)], start, end)) for name in PROF_FAMILIES},
            "power_mean_w": as_number(window_mean(samples[("DCGM_FI_DEV_POWER_USAGE", uuid)], start, end)),
            "tensor_active_x_sm_clock_mhz_mean": as_number(window_mean(tensor_x_clock, start, end)),
            "energy_delta_j": as_number((counter_at(energy, end) - counter_at(energy, start)) / 1000),
        }
    return {
        "window": {"start_utc": utc_text_exact(start), "end_utc": utc_text_exact(end),
                   "start_epoch_s": as_number(start), "end_epoch_s": as_number(end),
                   "duration_s": as_number(end - start), "derived_from": how},
        "load_start_utc": utc_text(load_start),
        "output_tokens": output_tokens(cell),
        "gpus": gpus,
    }


GROUND_TRUTH_NOTES = (
    "Synthetic campaign: see examples/README.md. Means are exact (rational arithmetic on the printed "
    "sample values, rounded to 9 decimals) over the bench window below, under the convention that a "
    "value stamped t covers (t - 5 s, t]; a value covering part of the window is weighted by the "
    "overlap. Each GPU's two series (without / with pod labels) are joined by UUID; they never "
    "overlap in time. tensor_active_x_sm_clock_mhz_mean pairs TENSOR_ACTIVE and SM_CLOCK at equal "
    "timestamps: divide by the tensor-peak clock for the clock-corrected tensor ratio. energy_delta_j "
    "is the TOTAL_ENERGY_CONSUMPTION counter at the window end minus at the start (linear between "
    "samples at a sub-second edge), in J."
)


# --- Main ---------------------------------------------------------------------------------------
def write_text(path: Path, text: str) -> None:
    """Writes UTF-8 bytes exactly (no newline translation on any platform)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def pretty_json(value: dict) -> str:
    """Indented JSON with a final newline, keys in insertion order."""
    return json.dumps(value, indent=2) + "\n"


def main() -> int:
    energy_start = {gpu: first_energy_mj(gpu) for gpu in GPU_INDICES}
    ground_truth = {"notes": GROUND_TRUTH_NOTES, "scrape_interval_s": SCRAPE_INTERVAL_S, "cells": {}}
    atlas_lines = []
    for index, cell in enumerate(CELLS):
        load_start = load_start_s(index)
        cell_dir = CAMPAIGN_DIR / "cells" / cell.cell_id
        if cell.bench_file == "vllm":
            # vLLM writes the object with json.dump: one line, no final newline.
            write_text(cell_dir / f"vllm-bench-serve-{cell.cell_id}.json", json.dumps(vllm_result(cell, load_start)))
        else:
            write_text(cell_dir / "inference_perfbench_v1.json", pretty_json(perfbench_bundle(cell, load_start)))
        scrapes_path = cell_dir / "dcgm-scrapes.prom"
        write_text(scrapes_path, render_scrapes(cell, load_start, energy_start))
        try:
            samples = parse_and_check(scrapes_path.read_text(encoding="utf-8"), str(scrapes_path))
        except CheckFailed as failure:
            print(f"check failed: {failure}", file=sys.stderr)
            return 1
        ground_truth["cells"][cell.cell_id] = cell_ground_truth(cell, load_start, samples)
        atlas_lines.append(json.dumps(atlas_record(cell, load_start)))
        # The counters keep running at idle power until the next cell's first scrape.
        idle_gap_s = CELL_SPACING_S - (WINDOW_S + SCRAPES_AFTER_WINDOW_S) - SCRAPES_BEFORE_WINDOW_S
        for gpu in GPU_INDICES:
            last_mj = int(samples[("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", gpu_uuid(gpu))][-1][1])
            energy_start[gpu] = last_mj + round(IDLE_POWER_W * 1000) * idle_gap_s
    write_text(CAMPAIGN_DIR / "cells" / "c064" / "kernels.json", pretty_json({"per_category": C064_KERNEL_CATEGORIES}))
    write_text(CAMPAIGN_DIR / "atlas.jsonl", "\n".join(atlas_lines) + "\n")
    write_text(CAMPAIGN_DIR / "GROUND_TRUTH.json", pretty_json(ground_truth))
    print(f"wrote {CAMPAIGN_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
