//! The live-path scenarios of issue 3, each with its %SoL derived by hand, run these ways:
//! - `through_scrapes`: the scenario's OpenMetrics text as a recorded-scrapes file (runs now);
//! - `millisecond_text_agrees`: the VictoriaMetrics import body (Prometheus text, ms stamps)
//!   as a recorded-scrapes file agrees with the OpenMetrics run (runs now: proves the second
//!   writer and the agreement check on real results);
//! - `*_serves_the_samples`: the same text backfilled into a real Prometheus (promtool) and
//!   imported into a real VictoriaMetrics, every sample read back exactly (runs now: proves the
//!   harness and the writers);
//! - `through_prometheus` / `through_victoria_metrics`: `correlate --prometheus URL` against those
//!   servers, which must agree with the scrapes run to 1e-9 relative and match the hand values
//!   (ignored until `--prometheus` is wired).
//!
//! Data: backends/scenario.rs (the `Load` table gives every field's value per scrape and its
//! window mean). Peaks: built-in `h100_sxm` row — HBM 3.35 TB/s, NVLink 0.9 TB/s both directions
//! (0.45 per direction), PCIe 128 GB/s both directions (64 per direction), BF16 dense
//! 0.9894 PFLOPS quoted at 1830 MHz. Every GPU below scraped throughout the window reads:
//!
//! | per GPU (load `g`) | window mean | % of peak |
//! |---|---|---|
//! | HBM | DRAM_ACTIVE 0.455 + 0.01 g | 45.5 + g |
//! | tensor | 0.35 + 0.01 g at a mean clock factor 1647/1830 = 0.9 | 31.5 + 0.9 g (uncorrected 35 + g) |
//! | NVLink | TX + RX = 180e9 + 18e9 g B/s of 900e9 | 20 + 2 g |
//! | PCIe | TX + RX = 9.6e9 + 1.28e9 g B/s of 128e9 | 7.5 + g |
//! | energy | 180 s × (433 + 10 g) W | mean power 433 + 10 g W |

mod backends;

use backends::Backend;
use backends::http;
use backends::run::{
    AGREEMENT, Campaigns, SAMPLE_FIELDS, Source, assert_agree, assert_close, assert_pct, correlate,
    gpu_row, number, row, window_flags,
};
use backends::scenario::{
    DEV_ONLY, Exporter, Field, Gpu, Labels, Load, PROF_DCGM4, PROF_LEGACY, Scenario, T0_S,
    WINDOW_S, mig_instance, with,
};
use serde_json::Value;

const HOST_A: &str = "ip-100-64-171-120.ec2.internal";
const HOST_B: &str = "ip-100-64-171-121.ec2.internal";

/// Host A's GPUs: the UUIDs of fixture h100x8-pod-labels.prom, by index.
const UUIDS_A: [&str; 8] = [
    "GPU-22dbdd79-f55a-92a8-aa39-322198e72ed6",
    "GPU-289275cb-a907-ab73-9a95-058ae119f62d",
    "GPU-f814846a-9bbe-469e-97c3-d037d67c3c32",
    "GPU-3cc59718-d7df-49ac-07a3-a6cedfe263c6",
    "GPU-71fc8f21-7800-5bb9-53ad-7e6fc93ef15f",
    "GPU-dee5c16e-1d0a-cec8-a9ea-f878a4be1b3d",
    "GPU-ca1b8386-093b-60cc-349d-c4a38b9124c0",
    "GPU-b60b817a-a091-c492-4211-92b276d697e6",
];

/// Host B's GPUs: same indexes and PCI bus ids as host A, other UUIDs.
const UUIDS_B: [&str; 8] = [
    "GPU-0b7f3c12-5d9e-4a61-8c2f-e41a6d09b357",
    "GPU-1c8e4d23-6eaf-4b72-9d3a-f52b7e1ac468",
    "GPU-2d9f5e34-7fb0-4c83-ae4b-063c8f2bd579",
    "GPU-3ea06f45-80c1-4d94-bf5c-174d9a3ce68a",
    "GPU-4fb17056-91d2-4ea5-c06d-285eab4df79b",
    "GPU-50c28167-a2e3-4fb6-d17e-396fbc5e08ac",
    "GPU-61d39278-b3f4-40c7-e28f-4a70cd6f19bd",
    "GPU-72e4a389-c405-41d8-f390-5b81de702ace",
];

/// GPU `index` of host A, reading load `g`.
fn on_a(index: u32, g: u32) -> Gpu {
    Gpu {
        host: HOST_A,
        index,
        uuid: UUIDS_A[index as usize],
        load: Load { g },
    }
}

/// GPU `index` of host B, reading load `g`.
fn on_b(index: u32, g: u32) -> Gpu {
    Gpu {
        host: HOST_B,
        index,
        uuid: UUIDS_B[index as usize],
        load: Load { g },
    }
}

/// A scenario and the `correlate` flags it runs with (beyond source and window).
struct Case {
    scenario: Scenario,
    flags: Vec<&'static str>,
}

/// Every run names the tensor precision: the BF16 dense peak (0.9894 PFLOPS).
fn case(scenario: Scenario, flags: &[&'static str]) -> Case {
    let mut all = vec!["--tensor-peak", "bf16_dense_pflops"];
    all.extend_from_slice(flags);
    Case {
        scenario,
        flags: all,
    }
}

/// Exporters that scrape `gpus` throughout with their own labels.
fn scraped_throughout(fields: &[Field], gpus: &[Gpu], exporter: Exporter) -> Scenario {
    let mut scenario = Scenario::default();
    for gpu in gpus {
        scenario.exporter(fields, gpu.load, |_| Some(gpu.labels(exporter)));
    }
    scenario
}

// ---------------------------------------------------------------- hand-derived expectations

/// Per-GPU figures of a GPU scraped throughout the window (module table).
fn hbm_pct(g: u32) -> f64 {
    45.5 + f64::from(g)
}
fn tensor_pct(g: u32) -> f64 {
    31.5 + 0.9 * f64::from(g)
}
fn nvlink_pct(g: u32) -> f64 {
    20.0 + 2.0 * f64::from(g)
}
fn pcie_pct(g: u32) -> f64 {
    7.5 + f64::from(g)
}
fn power_w(g: u32) -> f64 {
    433.0 + 10.0 * f64::from(g)
}
fn energy_j(g: u32) -> f64 {
    WINDOW_S * power_w(g)
}

/// The workload figures of a result.
struct Workload {
    n_gpus: u64,
    seen: u64,
    hbm_pct: f64,
    tensor_pct: f64,
    nvlink_pct: f64,
    pcie_pct: f64,
    energy_j: f64,
}

fn check_workload(result: &Value, w: &Workload) {
    assert_eq!(result["hw_key"], "h100_sxm", "hardware from modelName");
    assert_eq!(result["dcgm_group_level"], "prof");
    assert_eq!(result["n_gpus"], w.n_gpus);
    assert_eq!(result["gpus"]["seen"], w.seen, "GPUs seen");
    assert_pct(&row(result, "hbm")["sol_pct"], w.hbm_pct, "HBM %SoL");
    assert_pct(
        &row(result, "tensor")["sol_pct"],
        w.tensor_pct,
        "tensor %SoL",
    );
    assert_pct(
        &row(result, "nvlink")["sol_pct"],
        w.nvlink_pct,
        "NVLink %SoL",
    );
    assert_pct(&row(result, "pcie")["sol_pct"], w.pcie_pct, "PCIe %SoL");
    assert_close(
        number(&result["energy"]["energy_j_total"], "energy"),
        w.energy_j,
        0.5e-3 + 1e-9,
        "energy J",
    );
}

/// Per-GPU rows, coverage and energy of GPUs scraped throughout the window.
fn check_scraped_throughout(result: &Value, gpus: &[Gpu]) {
    for gpu in gpus {
        let (name, g) = (gpu.display_name(), gpu.load.g);
        for (resource, expected) in [
            ("hbm", hbm_pct(g)),
            ("tensor", tensor_pct(g)),
            ("nvlink", nvlink_pct(g)),
            ("pcie", pcie_pct(g)),
        ] {
            let entry = gpu_row(row(result, resource), &name);
            assert_pct(&entry["value_pct"], expected, &format!("{resource} {name}"));
            assert_eq!(entry["coverage_pct"], 100.0, "{resource} coverage {name}");
            // Spans of scrapes 5–17 overlap the window.
            assert_eq!(entry["samples"], 13, "{resource} samples {name}");
        }
        let energy = energy_row(result, &name);
        assert_close(number(&energy["energy_j"], "J"), energy_j(g), 0.5e-3, &name);
        assert_close(
            number(&energy["mean_power_w"], "W"),
            power_w(g),
            0.5e-3,
            &name,
        );
        assert_eq!(energy["energy_source"], "counter", "{name}");
    }
}

fn energy_row<'a>(result: &'a Value, gpu: &str) -> &'a Value {
    result["energy"]["per_gpu"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["gpu"] == gpu))
        .unwrap_or_else(|| panic!("no energy row for {gpu}"))
}

// ---------------------------------------------------------------------------------- scenarios

/// 2 hosts × 8 GPUs with the same `gpu` indexes 0–7 (different UUIDs): 16 GPUs, loads
/// g = 0–15 (host B's index i reads g = 8 + i).
fn two_hosts_gpus() -> Vec<Gpu> {
    (0..8)
        .map(|i| on_a(i, i))
        .chain((0..8).map(|i| on_b(i, 8 + i)))
        .collect()
}

fn two_hosts() -> Case {
    let scenario = scraped_throughout(PROF_LEGACY, &two_hosts_gpus(), Exporter::Legacy);
    case(scenario, &["--n-gpus", "16"])
}

/// Two hosts as Prometheus stores scraped series: every series also carries the target labels
/// `instance` (the exporter's address) and `job`, so a host is named by two labels at once.
fn two_hosts_with_target_labels() -> Scenario {
    let mut scenario = Scenario::default();
    for gpu in two_hosts_gpus() {
        let instance = if gpu.host == HOST_A {
            "10.0.0.5:9400"
        } else {
            "10.0.0.6:9400"
        };
        scenario.exporter(PROF_LEGACY, gpu.load, |_| {
            Some(with(
                &gpu.labels(Exporter::Legacy),
                &[("instance", instance), ("job", "dcgm-exporter")],
            ))
        });
    }
    scenario
}

/// `--host` names a `Hostname` value; the series carry `instance` too.
fn one_host_of_two_by_hostname() -> Case {
    case(
        two_hosts_with_target_labels(),
        &["--n-gpus", "8", "--host", HOST_A],
    )
}

fn check_one_host_of_two(result: &Value) {
    // Host A's GPUs only, g = 0..7 (mean g 3.5): HBM 45.5 + 3.5 = 49; tensor 31.5 + 0.9 × 3.5 =
    // 34.65; NVLink 20 + 2 × 3.5 = 27; PCIe 7.5 + 3.5 = 11. Energy 180 × Σ(433 + 10 g) =
    // 180 × (8 × 433 + 10 × 28) = 180 × 3744 = 673 920 J.
    check_workload(
        result,
        &Workload {
            n_gpus: 8,
            seen: 8,
            hbm_pct: 49.0,
            tensor_pct: 34.65,
            nvlink_pct: 27.0,
            pcie_pct: 11.0,
            energy_j: 673_920.0,
        },
    );
    check_scraped_throughout(result, &two_hosts_gpus()[..8]);
    assert_eq!(result["nodes"], serde_json::json!([HOST_A]));
}

fn check_two_hosts(result: &Value) {
    // Means over g = 0..15 (mean g 7.5): HBM 45.5 + 7.5 = 53; tensor 31.5 + 0.9 × 7.5 = 38.25;
    // NVLink 20 + 15 = 35; PCIe 7.5 + 7.5 = 15. Energy 180 × Σ(433 + 10 g) = 180 × (16 × 433 +
    // 10 × 120) = 180 × 8128 = 1 463 040 J.
    check_workload(
        result,
        &Workload {
            n_gpus: 16,
            seen: 16,
            hbm_pct: 53.0,
            tensor_pct: 38.25,
            nvlink_pct: 35.0,
            pcie_pct: 15.0,
            energy_j: 1_463_040.0,
        },
    );
    check_scraped_throughout(result, &two_hosts_gpus());
    assert_eq!(result["nodes"], serde_json::json!([HOST_A, HOST_B]));
    // HBM bytes/s per GPU: 0.53 × 3.35e12 = 1.7755e12.
    assert_close(
        number(&row(result, "hbm")["measured_bytes_per_s"], "HBM B/s"),
        1.7755e12,
        1.7755e12 * AGREEMENT,
        "HBM B/s",
    );
    // Uncorrected tensor: mean activity 0.35 + 0.075 = 42.5 %.
    assert_pct(
        &row(result, "tensor")["sol_pct_uncorrected"],
        42.5,
        "tensor uncorrected",
    );
    // NVLink per direction (0.45e12): TX (126 + 9 × 7.5)e9 = 193.5e9 → 43 %; RX (54 + 67.5)e9 =
    // 121.5e9 → 27 %; busiest: TX of g = 15, (126 + 135)e9 = 261e9 → 58 %, host B gpu 7.
    let nvlink = &row(result, "nvlink")["per_direction"];
    assert_pct(&nvlink["tx_sol_pct"], 43.0, "NVLink TX");
    assert_pct(&nvlink["rx_sol_pct"], 27.0, "NVLink RX");
    assert_pct(
        &nvlink["max_direction_sol_pct"],
        58.0,
        "NVLink busiest direction",
    );
    assert_eq!(nvlink["max_direction_gpu"], on_b(7, 15).display_name());
    // PCIe per direction (64e9): TX (6.4 + 0.64 × 7.5)e9 = 11.2e9 → 17.5 %; RX 8e9 → 12.5 %.
    let pcie = &row(result, "pcie")["per_direction"];
    assert_pct(&pcie["tx_sol_pct"], 17.5, "PCIe TX");
    assert_pct(&pcie["rx_sol_pct"], 12.5, "PCIe RX");
    // Mean power (433 + 10 × 7.5) = 508 W per GPU.
    assert_close(
        number(&result["power_watts_per_gpu"], "W"),
        508.0,
        0.5e-3,
        "power",
    );
}

/// One host, GPUs 0 and 1 (g = 0, 1), under a given exporter's names and labels.
fn one_host_gpus() -> Vec<Gpu> {
    vec![on_a(0, 0), on_a(1, 1)]
}

fn one_host(fields: &[Field], exporter: Exporter) -> Case {
    case(
        scraped_throughout(fields, &one_host_gpus(), exporter),
        &["--n-gpus", "2"],
    )
}

fn check_one_host(result: &Value) {
    // g = 0, 1: HBM (45.5 + 46.5)/2 = 46; tensor (31.5 + 32.4)/2 = 31.95; NVLink (20 + 22)/2 =
    // 21; PCIe (7.5 + 8.5)/2 = 8; energy 180 × (433 + 443) = 157 680 J.
    check_workload(
        result,
        &Workload {
            n_gpus: 2,
            seen: 2,
            hbm_pct: 46.0,
            tensor_pct: 31.95,
            nvlink_pct: 21.0,
            pcie_pct: 8.0,
            energy_j: 157_680.0,
        },
    );
    check_scraped_throughout(result, &one_host_gpus());
    // TFLOPS per GPU: 0.3195 × 989.4 = 316.1133 (printed to 3 decimals).
    assert_close(
        number(&row(result, "tensor")["measured_tflops_avg"], "TFLOPS"),
        316.1133,
        0.5e-3 + 1e-9,
        "TFLOPS",
    );
    // Per direction: NVLink TX (126 + 135)/2 = 130.5e9 of 450e9 → 29 %, RX (54 + 63)/2 = 58.5e9
    // → 13 %; PCIe TX (6.4 + 7.04)/2 = 6.72e9 of 64e9 → 10.5 %, RX (3.2 + 3.84)/2 = 3.52e9 → 5.5 %.
    let nvlink = &row(result, "nvlink")["per_direction"];
    assert_pct(&nvlink["tx_sol_pct"], 29.0, "NVLink TX");
    assert_pct(&nvlink["rx_sol_pct"], 13.0, "NVLink RX");
    let pcie = &row(result, "pcie")["per_direction"];
    assert_pct(&pcie["tx_sol_pct"], 10.5, "PCIe TX");
    assert_pct(&pcie["rx_sol_pct"], 5.5, "PCIe RX");
}

/// The workload's pod labels, as dcgm-exporter attaches them (fixture h100x8-pod-labels.prom).
const POD_LABELS: [(&str, &str); 3] = [
    ("container", "main"),
    ("namespace", "dynamo-workload"),
    ("pod", "vllm-agg-0-vllmdecodeworker-5fljt"),
];

/// GPU 1 gains pod labels at scrape 11 (T0 + 165 s, mid-window): its series split in two (bare
/// up to scrape 10, pod-labelled from scrape 11). GPU 0 never carries pod labels.
fn pod_split_scenario() -> Scenario {
    let gpus = one_host_gpus();
    let mut scenario = scraped_throughout(PROF_LEGACY, &gpus[..1], Exporter::Legacy);
    let split = &gpus[1];
    let bare = split.labels(Exporter::Legacy);
    let attributed = with(&bare, &POD_LABELS);
    scenario.exporter(PROF_LEGACY, split.load, |k| {
        Some(if k < 11 {
            bare.clone()
        } else {
            attributed.clone()
        })
    });
    scenario
}

fn pod_split() -> Case {
    case(pod_split_scenario(), &["--n-gpus", "2"])
}

fn check_pod_split(result: &Value) {
    // The two series of GPU 1 are one GPU (UUID identity), covered throughout: exactly the
    // one-host figures, with 2 GPUs seen — never 3.
    check_one_host(result);
}

fn pod_split_in_namespace() -> Case {
    case(
        pod_split_scenario(),
        &["--n-gpus", "1", "--namespace", "dynamo-workload"],
    )
}

fn check_pod_split_in_namespace(result: &Value) {
    // The namespace picks GPU 1 (it carries the labels from scrape 11) and keeps its bare series
    // too, so its whole window counts: g = 1 alone, HBM 46.5, tensor 32.4, NVLink 22, PCIe 8.5,
    // energy 180 × 443 = 79 740 J, coverage 100 %.
    check_workload(
        result,
        &Workload {
            n_gpus: 1,
            seen: 1,
            hbm_pct: 46.5,
            tensor_pct: 32.4,
            nvlink_pct: 22.0,
            pcie_pct: 8.5,
            energy_j: 79_740.0,
        },
    );
    check_scraped_throughout(result, &one_host_gpus()[1..]);
    assert_eq!(result["namespace"], "dynamo-workload");
}

/// A namespace value written to break out of its matcher: quotes, a closing brace, PromQL
/// operators, a backslash and a newline. Quoted correctly it is one label value like any other.
const HOSTILE_NAMESPACE: &str = "ns\"} or vector(1) or up{a=\"\\\nx";

/// GPU 1 runs in the hostile namespace, GPU 0 in another one.
fn hostile_namespace() -> Case {
    let gpus = one_host_gpus();
    let mut scenario = Scenario::default();
    for (gpu, namespace) in [(&gpus[0], "other"), (&gpus[1], HOSTILE_NAMESPACE)] {
        let labels = with(&gpu.labels(Exporter::Legacy), &[("namespace", namespace)]);
        scenario.exporter(PROF_LEGACY, gpu.load, |_| Some(labels.clone()));
    }
    case(
        scenario,
        &["--n-gpus", "1", "--namespace", HOSTILE_NAMESPACE],
    )
}

fn check_hostile_namespace(result: &Value) {
    // The selector stays one selector: exactly GPU 1 (g = 1), never GPU 0 nor a `vector(1)` —
    // the figures of GPU 1 alone (as for the namespace-scoped pod split).
    check_workload(
        result,
        &Workload {
            n_gpus: 1,
            seen: 1,
            hbm_pct: 46.5,
            tensor_pct: 32.4,
            nvlink_pct: 22.0,
            pcie_pct: 8.5,
            energy_j: 79_740.0,
        },
    );
    assert_eq!(result["namespace"], HOSTILE_NAMESPACE);
}

/// Host A's exporter runs throughout; host B's restarts: no scrapes 9–11 (T0 + 135 … 165 s), and
/// its `instance` (the exporter pod's address, added by Prometheus) changes across the restart.
/// Loads: A0 g = 0, A1 g = 1, B0 g = 2, B1 g = 3.
fn restart_gap() -> Case {
    let mut scenario = Scenario::default();
    for gpu in [on_a(0, 0), on_a(1, 1)] {
        let labels = with(
            &gpu.labels(Exporter::Legacy),
            &[("instance", "10.0.2.11:9400"), ("job", "dcgm-exporter")],
        );
        scenario.exporter(PROF_LEGACY, gpu.load, |_| Some(labels.clone()));
    }
    for gpu in [on_b(0, 2), on_b(1, 3)] {
        let before = with(
            &gpu.labels(Exporter::Legacy),
            &[("instance", "10.0.3.17:9400"), ("job", "dcgm-exporter")],
        );
        let after = with(
            &gpu.labels(Exporter::Legacy),
            &[("instance", "10.0.3.42:9400"), ("job", "dcgm-exporter")],
        );
        scenario.exporter(PROF_LEGACY, gpu.load, |k| match k {
            0..=8 => Some(before.clone()),
            9..=11 => None,
            _ => Some(after.clone()),
        });
    }
    case(scenario, &["--n-gpus", "4"])
}

fn check_restart_gap(result: &Value) {
    // Host B: scrape 8 at T0 + 120, scrape 12 at T0 + 180. The 60 s gap exceeds 2 × 15 s, so
    // scrape 12 covers only (165, 180] and (120, 165] is uncovered: 45 s of 180 → coverage 75 %.
    // Its in-window weights: 7.5 (k 5), 15 (k 6, 7, 8, 12–16), 7.5 (k 17): Σw = 135,
    // Σw·k = 37.5 + 15 × (21 + 12 + 58) + 127.5 = 1530, Σw·(−1)^k = 15, Σw·k·(−1)^k = 150.
    //
    // HBM ∫DRAM dt: A0 180 × 0.455 = 81.9, A1 180 × 0.465 = 83.7, B0 135 × 0.42 + 0.005 × 1530
    // = 64.35, B1 135 × 0.43 + 7.65 = 65.7; Σ = 295.65 / (180 × 4) = 41.0625 %. B's means over
    // covered time: 64.35/135 = 47.667 %, 65.7/135 = 48.667 %.
    // Tensor ∫(a + 0.005k)(1647 + 183(−1)^k) dt / 1830 with a = 0.295 + 0.01 g: A0 162 × 0.35 =
    // 56.7, A1 162 × 0.36 = 58.32; B0 (1647 × (135 × 0.315 + 7.65) + 183 × (15 × 0.315 + 0.75))
    // / 1830 = (82 638.225 + 1001.925)/1830 = 45.705, B1 (1647 × 51.525 + 183 × 5.625)/1830 =
    // 46.935; Σ = 207.66 / 720 = 28.84167 %. B's: 45.705/135 = 33.856 %, 46.935/135 = 34.767 %.
    // NVLink ∫(TX+RX) with TX+RX = 164.6e9 + 1.4e9 k + 18e9 g: A0 180 × 180e9 = 32 400e9,
    // A1 180 × 198e9 = 35 640e9, B0 135 × 200.6e9 + 1.4e9 × 1530 = 29 223e9, B1 31 653e9;
    // Σ = 128 916e9 / (720 × 900e9) = 19.89444 %.
    // PCIe with TX+RX = 7.95e9 + 0.15e9 k + 1.28e9 g: A0 1728e9, A1 1958.4e9, B0 135 × 10.51e9 +
    // 229.5e9 = 1648.35e9, B1 1821.15e9; Σ = 7155.9e9 / (720 × 128e9) = 7.7646484 %.
    // Energy: the counter runs on through the restart, so scrapes 8 → 12 still give the whole
    // increase: 180 × (433 + 443 + 453 + 463) = 322 560 J.
    check_workload(
        result,
        &Workload {
            n_gpus: 4,
            seen: 4,
            hbm_pct: 41.0625,
            tensor_pct: 207.66 / 720.0 * 100.0,
            nvlink_pct: 128_916.0 / 648_000.0 * 100.0,
            pcie_pct: 7155.9 / 92_160.0 * 100.0,
            energy_j: 322_560.0,
        },
    );
    check_scraped_throughout(result, &[on_a(0, 0), on_a(1, 1)]);
    for (gpu, hbm, tensor, power) in [
        // Mean power over covered time: 400 + 10 g + 3 × 1530/135 = 434 + 10 g.
        (on_b(0, 2), 64.35 / 135.0, 45.705 / 135.0, 454.0),
        (on_b(1, 3), 65.7 / 135.0, 46.935 / 135.0, 464.0),
    ] {
        let name = gpu.display_name();
        for resource in ["hbm", "tensor", "nvlink", "pcie"] {
            let entry = gpu_row(row(result, resource), &name);
            assert_eq!(entry["coverage_pct"], 75.0, "{resource} coverage {name}");
            // Scrapes 5–8 and 12–17 overlap the window.
            assert_eq!(entry["samples"], 10, "{resource} samples {name}");
        }
        assert_pct(
            &gpu_row(row(result, "hbm"), &name)["value_pct"],
            hbm * 100.0,
            &name,
        );
        assert_pct(
            &gpu_row(row(result, "tensor"), &name)["value_pct"],
            tensor * 100.0,
            &name,
        );
        let energy = energy_row(result, &name);
        assert_close(
            number(&energy["energy_j"], "J"),
            energy_j(gpu.load.g),
            0.5e-3,
            &name,
        );
        assert_close(number(&energy["mean_power_w"], "W"), power, 0.5e-3, &name);
    }
    // Row coverage: (2 × 180 + 2 × 135) / (4 × 180) = 87.5 %.
    for resource in ["hbm", "tensor", "nvlink", "pcie"] {
        assert_eq!(
            row(result, resource)["coverage_pct"],
            87.5,
            "{resource} coverage"
        );
    }
    // Mean power per GPU: (433 + 443 + 454 + 464)/4 = 448.5 W.
    assert_close(
        number(&result["power_watts_per_gpu"], "W"),
        448.5,
        0.5e-3,
        "power",
    );
}

/// GPU 1 runs MIG: it exports its GPU-level series plus two `3g.40gb` instances' DRAM and
/// tensor activity (instance 2 attributed to a pod). The instance values (DRAM 0.600 and 0.650
/// plus 0.005 k, tensor 0.500 and 0.550 plus 0.005 k) would change every figure if they were
/// added to, or used instead of, the GPU-level ones.
fn mig() -> Case {
    let gpus = one_host_gpus();
    let mut scenario = scraped_throughout(PROF_LEGACY, &gpus, Exporter::Legacy);
    let gpu_labels = gpus[1].labels(Exporter::Legacy);
    for (instance, dram_base, tensor_base, pod) in
        [("1", 600, 500, &[][..]), ("2", 650, 550, &POD_LABELS[..])]
    {
        let labels: Labels = with(&mig_instance(&gpu_labels, "3g.40gb", instance), pod);
        scenario.series("DCGM_FI_PROF_DRAM_ACTIVE", &labels, |k| {
            f64::from(dram_base + 5 * k) / 1000.0
        });
        scenario.series("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", &labels, |k| {
            f64::from(tensor_base + 5 * k) / 1000.0
        });
    }
    case(scenario, &["--n-gpus", "2"])
}

fn check_mig(result: &Value) {
    // The GPU-level series alone: exactly the one-host figures, and 2 GPUs (no instance GPUs).
    check_one_host(result);
    let seen: Vec<&str> = result["gpus"]["seen_gpus"]
        .as_array()
        .map(|gpus| gpus.iter().filter_map(|g| g["gpu"].as_str()).collect())
        .unwrap_or_default();
    let expected: Vec<String> = one_host_gpus().iter().map(Gpu::display_name).collect();
    assert_eq!(seen, expected, "GPU-level identities only");
}

/// Host A with GPU 5 absent altogether (no series at all); `--n-gpus 8`.
fn missing_gpu_present() -> Vec<Gpu> {
    (0..8).filter(|&i| i != 5).map(|i| on_a(i, i)).collect()
}

fn missing_gpu() -> Case {
    case(
        scraped_throughout(PROF_LEGACY, &missing_gpu_present(), Exporter::Legacy),
        &["--n-gpus", "8"],
    )
}

fn check_missing_gpu(result: &Value) {
    // Seven GPUs g ∈ {0..7} \ {5} (Σg = 23) over a denominator of 8 (the missing one idle):
    // HBM (7 × 45.5 + 23)/8 = 42.6875; tensor (7 × 31.5 + 0.9 × 23)/8 = 30.15; NVLink
    // (7 × 20 + 2 × 23)/8 = 23.25; PCIe (7 × 7.5 + 23)/8 = 9.4375;
    // energy 180 × (7 × 433 + 10 × 23) = 586 980 J.
    check_workload(
        result,
        &Workload {
            n_gpus: 8,
            seen: 7,
            hbm_pct: 42.6875,
            tensor_pct: 30.15,
            nvlink_pct: 23.25,
            pcie_pct: 9.4375,
            energy_j: 586_980.0,
        },
    );
    check_scraped_throughout(result, &missing_gpu_present());
    assert_eq!(result["gpus"]["expected"], 8);
    assert_eq!(result["gpus"]["missing"], 1);
    let warned = result["warnings"].as_array().is_some_and(|w| {
        w.iter().any(|w| {
            w.as_str()
                .is_some_and(|w| w.starts_with("MISSING GPUS: 1 of 8"))
        })
    });
    assert!(warned, "missing-GPU warning: {:#}", result["warnings"]);
    assert_eq!(result["energy"]["gpus_with_energy"], 7);
}

/// No profiling module: DEV fields only on GPUs 0 and 1.
fn counter_tier() -> Case {
    case(
        scraped_throughout(DEV_ONLY, &one_host_gpus(), Exporter::Legacy),
        &["--n-gpus", "2"],
    )
}

fn check_counter_tier(result: &Value) {
    assert_eq!(result["dcgm_group_level"], "counter");
    assert_eq!(result["gpus"]["seen"], 2);
    // Busy-time bounds, never a %SoL: MEM_COPY_UTIL means 41 and 51 % → 46 %; GPU_UTIL means 71
    // and 81 % → 76 %.
    for (resource, bound, per_gpu) in [("hbm", 46.0, [41.0, 51.0]), ("tensor", 76.0, [71.0, 81.0])]
    {
        let r = row(result, resource);
        assert_eq!(r["tier"], "counter", "{resource}");
        assert!(
            r["sol_pct"].is_null(),
            "{resource}: a busy share is not a %SoL"
        );
        assert_pct(&r["busy_time_upper_bound_pct"], bound, resource);
        for (gpu, expected) in one_host_gpus().iter().zip(per_gpu) {
            assert_pct(
                &gpu_row(r, &gpu.display_name())["value_pct"],
                expected,
                resource,
            );
        }
    }
    // NVLINK_BANDWIDTH_TOTAL is a rate in 1000 KiB/s = 1 024 000 B/s: means 111 000 and 161 000
    // units → 113.664e9 and 164.864e9 B/s; per GPU 139.264e9 B/s of 900e9 = 15.47378 %.
    let nvlink = row(result, "nvlink");
    assert_eq!(nvlink["tier"], "counter");
    assert_eq!(nvlink["is_fallback"], true);
    assert_pct(&nvlink["sol_pct"], 139.264e9 / 900e9 * 100.0, "NVLink %SoL");
    assert_close(
        number(&nvlink["measured_bytes_per_s"], "B/s"),
        139.264e9,
        139.264e9 * AGREEMENT,
        "NVLink B/s",
    );
    for (gpu, bytes_per_s) in one_host_gpus().iter().zip([113.664e9, 164.864e9]) {
        assert_pct(
            &gpu_row(nvlink, &gpu.display_name())["value_pct"],
            bytes_per_s / 900e9 * 100.0,
            "NVLink per GPU",
        );
    }
    assert_eq!(row(result, "pcie")["tier"], "absent");
    assert!(row(result, "pcie")["sol_pct"].is_null());
    // Energy as in every scenario: 180 × (433 + 443) = 157 680 J.
    assert_close(
        number(&result["energy"]["energy_j_total"], "energy"),
        157_680.0,
        0.5e-3,
        "energy J",
    );
}

// -------------------------------------------------------------------------------------- tests

/// `correlate` through a real backend agrees with the recorded-scrapes run and with the hand
/// values.
fn agrees_with_scrapes(backend: Backend, case: &Case, check: fn(&Value)) {
    let from_scrapes = through_openmetrics(case);
    let Some(server) = backend.start(&case.scenario) else {
        return;
    };
    let from_backend = correlate(&case.flags, Source::Server(server.url()));
    check(&from_backend);
    assert_agree(&from_scrapes, &from_backend, &SAMPLE_FIELDS, &[]);
}

/// `correlate` on the scenario's OpenMetrics text as recorded scrapes.
fn through_openmetrics(case: &Case) -> Value {
    correlate(&case.flags, Source::Recording(case.scenario.openmetrics()))
}

/// The VictoriaMetrics import body read as recorded scrapes gives the OpenMetrics result.
fn ms_text_agrees_with_openmetrics(case: &Case) {
    let from_ms_text = correlate(
        &case.flags,
        Source::Recording(case.scenario.prometheus_text_ms()),
    );
    assert_agree(
        &through_openmetrics(case),
        &from_ms_text,
        &SAMPLE_FIELDS,
        &[],
    );
}

/// Every sample of the scenario, as a server returns it for `{__name__=~"DCGM_.+"}[400s]` at
/// T0 + 330 s (a range holding scrapes 0–21): labels with `__name__` → (epoch s, value).
type RawSamples = std::collections::BTreeMap<Vec<(String, String)>, Vec<(f64, f64)>>;

fn expected_samples(scenario: &Scenario) -> RawSamples {
    scenario
        .iter()
        .map(|(metric, labels, samples)| {
            let mut key: Vec<(String, String)> = labels.clone();
            key.push(("__name__".to_string(), metric.to_string()));
            key.sort();
            let samples = samples.iter().map(|&(t, v)| (t as f64, v)).collect();
            (key, samples)
        })
        .collect()
}

fn served_samples(addr: &str) -> RawSamples {
    let target = format!(
        "/api/v1/query?{}",
        http::query_string(&[
            ("query", "{__name__=~\"DCGM_.+\"}[400s]"),
            ("time", &(T0_S + 330).to_string()),
        ])
    );
    let response = http::get(addr, &target).expect("query the server");
    assert_eq!(response.status, 200, "{}", response.body);
    let body: Value = serde_json::from_str(&response.body).expect("a JSON answer");
    assert_eq!(body["data"]["resultType"], "matrix", "{body}");
    let pair = |p: &Value| -> (f64, f64) {
        let t = p[0].as_f64().expect("a timestamp");
        let v = p[1].as_str().and_then(|v| v.parse().ok()).expect("a value");
        (t, v)
    };
    body["data"]["result"]
        .as_array()
        .expect("a result list")
        .iter()
        .map(|series| {
            let mut key: Vec<(String, String)> = series["metric"]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            key.sort();
            let values = series["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(pair)
                .collect();
            (key, values)
        })
        .collect()
}

/// The backend holds exactly the scenario's series and samples (values to 1e-12 relative:
/// VictoriaMetrics stores decimals, not float bits).
fn serves_the_samples(backend: Backend, case: &Case) {
    let Some(server) = backend.start(&case.scenario) else {
        return;
    };
    let expected = expected_samples(&case.scenario);
    let served = served_samples(server.addr());
    assert_eq!(
        served.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "series"
    );
    for (labels, samples) in &expected {
        let got = &served[labels];
        assert_eq!(got.len(), samples.len(), "{labels:?}");
        for ((t, v), (t_got, v_got)) in samples.iter().zip(got) {
            assert_eq!(t, t_got, "{labels:?}");
            assert!(
                (v - v_got).abs() <= 1e-12 * v.abs(),
                "{labels:?} at {t}: {v} vs {v_got}"
            );
        }
    }
}

/// For each scenario: the scrapes run against the hand values, both servers' copies of the
/// data, and (once `--prometheus` is wired) the runs through both servers.
macro_rules! scenario_tests {
    ($($name:ident: $case:expr, $check:expr;)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn through_scrapes() {
                $check(&through_openmetrics(&$case));
            }

            #[test]
            fn millisecond_text_agrees() {
                ms_text_agrees_with_openmetrics(&$case);
            }

            #[test]
            fn prometheus_serves_the_samples() {
                serves_the_samples(Backend::Prometheus, &$case);
            }

            #[test]
            fn victoria_metrics_serves_the_samples() {
                serves_the_samples(Backend::VictoriaMetrics, &$case);
            }

            #[test]
            fn through_prometheus() {
                agrees_with_scrapes(Backend::Prometheus, &$case, $check);
            }

            #[test]
            fn through_victoria_metrics() {
                agrees_with_scrapes(Backend::VictoriaMetrics, &$case, $check);
            }
        }
    )*};
}

scenario_tests! {
    two_hosts_with_the_same_gpu_indexes: two_hosts(), check_two_hosts;
    one_host_of_two_by_hostname_beside_instance: one_host_of_two_by_hostname(), check_one_host_of_two;
    one_host_legacy_names: one_host(PROF_LEGACY, Exporter::Legacy), check_one_host;
    pod_labels_appear_mid_window: pod_split(), check_pod_split;
    pod_labels_appear_mid_window_scoped_by_namespace: pod_split_in_namespace(), check_pod_split_in_namespace;
    hostile_namespace_stays_one_selector: hostile_namespace(), check_hostile_namespace;
    exporter_restart_gap: restart_gap(), check_restart_gap;
    mig_gpu_level_and_instance_series: mig(), check_mig;
    gpu_missing_entirely: missing_gpu(), check_missing_gpu;
    prof_absent_counter_tier: counter_tier(), check_counter_tier;
    dcgm4_metric_names: one_host(PROF_DCGM4, Exporter::V4_9), check_one_host;
}

#[test]
fn dcgm4_names_give_the_numbers_of_the_legacy_names() {
    let legacy = one_host(PROF_LEGACY, Exporter::Legacy);
    let dcgm4 = one_host(PROF_DCGM4, Exporter::V4_9);
    let from_legacy = through_openmetrics(&legacy);
    let from_dcgm4 = through_openmetrics(&dcgm4);
    // Metric names and the notes naming them differ; every number agrees (Hz, J and 0–1
    // ratios converted). Activity rows list the fields each exporter has, so they differ too.
    assert_agree(
        &from_legacy,
        &from_dcgm4,
        &[
            "resources",
            "energy",
            "gpus",
            "nodes",
            "n_gpus",
            "hw_key",
            "power_watts_per_gpu",
        ],
        &["metric", "notes"],
    );
}

#[test]
fn probe_reports_metrics_and_tiers_and_bounds_the_series() {
    let scenario = one_host(PROF_LEGACY, Exporter::Legacy).scenario;
    let Some(server) = Backend::Prometheus.start(&scenario) else {
        return;
    };
    let campaigns = Campaigns::new();
    let url = server.url();
    let mut args = vec![
        "--json".to_string(),
        "probe".to_string(),
        "--prometheus".to_string(),
        url,
    ];
    args.extend(window_flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = campaigns.command(&args).output().expect("run probe");
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let text = String::from_utf8_lossy(&report.stdout);
    for (metric, _, _) in scenario.iter() {
        assert!(text.contains(metric), "probe report lacks {metric}: {text}");
    }
    assert!(text.contains("prof"), "probe report names no tier: {text}");
    // 11 fields × 2 GPUs = 22 series, above a bound of 3.
    let bounded = [&args[..], &["--max-series", "3"]].concat();
    let refused = campaigns.command(&bounded).output().expect("run probe");
    assert_eq!(
        refused.status.code(),
        Some(1),
        "above --max-series must exit 1"
    );
    let message = String::from_utf8_lossy(&refused.stderr);
    let count = scenario.series_count().to_string();
    assert!(
        message.contains(&count) && message.contains("--force"),
        "the refusal names the count ({count}) and --force: {message}"
    );
    let forced = [&bounded[..], &["--force"]].concat();
    let forced = campaigns.command(&forced).output().expect("run probe");
    assert!(
        forced.status.success(),
        "--force overrides the bound: {}",
        String::from_utf8_lossy(&forced.stderr)
    );
}
