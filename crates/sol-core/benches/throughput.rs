//! Throughput of the core on generated, deterministic data (`cargo bench -p sol-core`):
//! - integration: a 72-GPU GB300 NVL72 rack (18 hosts of 4 GPUs, each host scraped at its own
//!   offset in the second with a few ms of jitter, as real scrapes are) × 1 h × 1 s scrapes × 12
//!   PROF/DEV fields (3.11 M samples) through the whole measurement path (identity, validity,
//!   held-value check, steady state, per-resource integrals, time series) — samples/s on one
//!   core;
//! - parsing: recorded scrapes (OpenMetrics) and a Prometheus `query` answer (JSON matrix) of
//!   the same samples — MB/s on one core.
//!
//! Each figure comes with a floor measured in the same run on the same data: for integration, one
//! pass that reads every sample once (a sum); for parsing, a scan that counts the lines of the
//! text (scrapes) or validates the JSON without building anything (`serde::de::IgnoredAny`).
//! Reported as medians of several runs and the ratio to the floor.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sol_core::ceilings::Ceilings;
use sol_core::context::Context;
use sol_core::correlation::{CellData, measure_cell};
use sol_core::labels::Labels;
use sol_core::promapi::parse_response;
use sol_core::scrape::parse_exposition;
use sol_core::series::{RawSeries, Sample};
use sol_core::window::{Window, WindowConfidence};

const GPUS: usize = 72;
const SECONDS: usize = 3600;
const T0: f64 = 1_795_185_000.0;
const FIELDS: [(&str, f64); 12] = [
    ("DCGM_FI_PROF_DRAM_ACTIVE", 0.6),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", 0.3),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", 0.9),
    ("DCGM_FI_PROF_SM_ACTIVE", 0.8),
    ("DCGM_FI_PROF_NVLINK_TX_BYTES", 2.0e11),
    ("DCGM_FI_PROF_NVLINK_RX_BYTES", 2.0e11),
    ("DCGM_FI_PROF_PCIE_TX_BYTES", 1.0e9),
    ("DCGM_FI_PROF_PCIE_RX_BYTES", 1.0e9),
    ("DCGM_FI_DEV_POWER_USAGE", 900.0),
    ("DCGM_FI_DEV_SM_CLOCK", 1800.0),
    ("DCGM_FI_DEV_MEM_CLOCK", 3900.0),
    ("DCGM_FI_DEV_GPU_UTIL", 95.0),
];
const RUNS: usize = 5;

fn labels(gpu: usize) -> Labels {
    [
        ("gpu", (gpu % 4).to_string()),
        ("UUID", format!("GPU-{gpu:08x}-0000-4000-8000-000000000000")),
        ("Hostname", format!("gb300-node-{:02}", gpu / 4)),
        ("modelName", "NVIDIA GB300".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// When host `node` is scraped for the `i`th time: each host at its own offset in the second, with
/// a few milliseconds of jitter, in whole milliseconds as Prometheus stores them (every field of a
/// host in one scrape shares the time).
fn scrape_time_s(node: usize, i: usize) -> f64 {
    let offset_ms = (node * 337) % 1000;
    let jitter_ms = (i * 7919 + node * 104_729) % 7;
    T0 + (i * 1000 + offset_ms + jitter_ms) as f64 / 1000.0
}

/// Every field of every GPU, one sample a second, with a small deterministic wobble so values
/// change at every scrape (no held-value regridding).
fn rack_hour() -> Vec<RawSeries> {
    let mut series = Vec::with_capacity(GPUS * FIELDS.len());
    for gpu in 0..GPUS {
        for (field, level) in FIELDS {
            let samples = (0..SECONDS)
                .map(|i| Sample {
                    t_s: scrape_time_s(gpu / 4, i),
                    value: level * (0.95 + 0.05 * (((i * 7 + gpu * 13) % 11) as f64 / 10.0)),
                })
                .collect();
            series.push(RawSeries {
                metric: field.to_string(),
                labels: labels(gpu),
                samples,
            });
        }
    }
    series
}

fn openmetrics(series: &[RawSeries]) -> String {
    let mut text = String::new();
    for s in series {
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        let prefix = format!("{}{{{}}}", s.metric, labels.join(","));
        for sample in &s.samples {
            text.push_str(&format!("{prefix} {} {}\n", sample.value, sample.t_s));
        }
    }
    text.push_str("# EOF\n");
    text
}

fn prometheus_json(series: &[RawSeries]) -> String {
    let mut text = String::from(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|(k, v)| format!("\"{k}\":\"{v}\""))
            .collect();
        text.push_str(&format!(
            r#"{{"metric":{{"__name__":"{}",{}}},"values":["#,
            s.metric,
            labels.join(",")
        ));
        for (j, sample) in s.samples.iter().enumerate() {
            if j > 0 {
                text.push(',');
            }
            text.push_str(&format!("[{},\"{}\"]", sample.t_s, sample.value));
        }
        text.push_str("]}");
    }
    text.push_str("]}}");
    text
}

/// Median wall time of `RUNS` runs of `work`.
fn median(mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let began = Instant::now();
            work();
            began.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn report(what: &str, amount: f64, unit: &str, tool: Duration, floor: Duration) {
    println!(
        "{what:34} {:10.1} {unit}  (floor {:10.1} {unit}; ratio tool/floor time {:.1})",
        amount / tool.as_secs_f64(),
        amount / floor.as_secs_f64(),
        tool.as_secs_f64() / floor.as_secs_f64()
    );
}

fn main() {
    // `cargo bench -p sol-core --bench throughput -- <part>` runs one part (for profiling).
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |part: &str| only.as_deref().is_none_or(|o| part.contains(o));
    let series = rack_hour();
    let samples = (GPUS * SECONDS * FIELDS.len()) as f64;
    println!(
        "data: {GPUS} GPUs × {SECONDS} s × {} fields = {samples:.0} samples",
        FIELDS.len()
    );

    if wanted("integration") {
        integration(&series, samples);
        // Run alone (`-- integration`), the process's peak is the data plus one measurement.
        if let Some(peak) = peak_rss_mb() {
            println!(
                "peak RSS so far: {peak:.0} MB (the rack-hour series alone: {:.0} MB of samples)",
                samples * 16.0 / 1e6
            );
        }
    }
    if wanted("scrapes") {
        scrapes(&series);
    }
    if wanted("json") {
        json(&series);
    }
}

/// The process's peak resident memory (Linux `VmHWM`), MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn integration(series: &[RawSeries], samples: f64) {
    let ceilings = Ceilings::builtin().expect("built-in ceilings");
    let context = Context::default();
    let window = Window {
        start_s: T0 + 60.0,
        end_s: T0 + SECONDS as f64 - 60.0,
        source: "bench".into(),
        confidence: WindowConfidence::Exact,
        timezone_assumption: None,
        resolution_s: None,
        full_span_s: None,
    };
    let data = CellData {
        series,
        window: &window,
        expected_gpus: Some((GPUS as u32, "bench".into())),
        hw_key: Some("gb300_nvl72"),
        context: &context,
    };
    let integrate = median(|| {
        black_box(measure_cell(black_box(&data), &ceilings).expect("measured"));
    });
    let touch = median(|| {
        let sum: f64 = series
            .iter()
            .flat_map(|s| &s.samples)
            .map(|s| s.value + s.t_s)
            .sum();
        black_box(sum);
    });
    report(
        "integration (measure_cell)",
        samples / 1e6,
        "M samples/s",
        integrate,
        touch,
    );
}

fn scrapes(series: &[RawSeries]) {
    let text = openmetrics(series);
    let mb = text.len() as f64 / 1e6;
    let parse = median(|| {
        black_box(parse_exposition(black_box(&text)).expect("parses"));
    });
    let lines = median(|| {
        black_box(text.bytes().filter(|b| *b == b'\n').count());
    });
    report(
        &format!("scrapes parsing ({mb:.0} MB)"),
        mb,
        "MB/s",
        parse,
        lines,
    );
}

fn json(series: &[RawSeries]) {
    let json = prometheus_json(series);
    let mb = json.len() as f64 / 1e6;
    let decode = median(|| {
        black_box(parse_response(black_box(&json)).expect("parses"));
    });
    let validate = median(|| {
        black_box(serde_json::from_str::<serde::de::IgnoredAny>(&json).expect("valid"));
    });
    report(
        &format!("Prometheus JSON decoding ({mb:.0} MB)"),
        mb,
        "MB/s",
        decode,
        validate,
    );
}
