//! Live exporter scrapes → one OpenMetrics text with a timestamp on every sample, as the recorded
//! source reads it and as `promtool tsdb create-blocks-from openmetrics` accepts it: every metric
//! family's samples together under one `# TYPE`, each series' samples in strictly increasing
//! time, timestamps in epoch seconds, `# EOF` last.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::labels::Labels;
use crate::scrape::parse_exposition;

/// The recording as OpenMetrics.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenMetrics {
    /// The text, ending with `# EOF\n`.
    pub text: String,
    /// Series written.
    pub series: usize,
    /// Samples written.
    pub samples: usize,
    /// Samples dropped because their series already had one at that instant.
    pub duplicate_samples: usize,
    /// Scrapes left out because their body does not parse: (index in the input, why).
    pub rejected: Vec<(usize, String)>,
}

/// A metric family being collected: its declared type and its series' samples by time (ms).
#[derive(Default)]
struct Family {
    declared_type: Option<String>,
    series: BTreeMap<Labels, BTreeMap<i64, f64>>,
}

/// Builds the OpenMetrics text from `(taken_at_s, body)` scrapes. Samples without a timestamp
/// (every live dcgm-exporter sample) are stamped with their scrape's time; samples that carry
/// one keep it.
pub fn to_openmetrics(scrapes: &[(f64, &str)]) -> OpenMetrics {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut rejected = Vec::new();
    let mut duplicate_samples = 0;
    let mut add = |families: &mut BTreeMap<String, Family>,
                   metric: &str,
                   labels: &Labels,
                   t_s: f64,
                   value: f64| {
        // Keys are copied only for a family or series seen for the first time, not per sample.
        if !families.contains_key(metric) {
            families.insert(metric.to_string(), Family::default());
        }
        // invariant: the family was inserted just above when missing.
        let series = &mut families.get_mut(metric).expect("family present").series;
        if !series.contains_key(labels) {
            series.insert(labels.clone(), BTreeMap::new());
        }
        // invariant: the series was inserted just above when missing.
        let by_time = series.get_mut(labels).expect("series present");
        let at_ms = (t_s * 1000.0).round() as i64;
        if by_time.insert(at_ms, value).is_some() {
            duplicate_samples += 1;
        }
    };
    for (index, (taken_at_s, body)) in scrapes.iter().enumerate() {
        let parsed = match parse_exposition(body) {
            Ok(parsed) => parsed,
            Err(error) => {
                rejected.push((index, error.to_string()));
                continue;
            }
        };
        for (metric, kind) in &parsed.declared_types {
            families.entry(metric.clone()).or_default().declared_type = Some(kind.clone());
        }
        for sample in &parsed.untimestamped {
            add(
                &mut families,
                &sample.metric,
                &sample.labels,
                *taken_at_s,
                sample.value,
            );
        }
        for series in &parsed.series {
            for sample in &series.samples {
                add(
                    &mut families,
                    &series.metric,
                    &series.labels,
                    sample.t_s,
                    sample.value,
                );
            }
        }
    }
    let (mut series, mut samples) = (0, 0);
    let mut text = String::new();
    for (metric, family) in &families {
        // dcgm-exporter declares counters without the `_total` suffix OpenMetrics requires of
        // counter samples: they are written as `unknown`, which takes any name. The catalog, not
        // the declared type, decides how a field is integrated.
        let kind = match family.declared_type.as_deref() {
            Some("gauge") => "gauge",
            _ => "unknown",
        };
        let _ = writeln!(text, "# TYPE {metric} {kind}");
        for (labels, by_time) in &family.series {
            series += 1;
            let label_text = label_set(labels);
            for (at_ms, value) in by_time {
                samples += 1;
                let _ = writeln!(
                    text,
                    "{metric}{label_text} {} {}.{:03}",
                    number(*value),
                    at_ms.div_euclid(1000),
                    at_ms.rem_euclid(1000)
                );
            }
        }
    }
    text.push_str("# EOF\n");
    OpenMetrics {
        text,
        series,
        samples,
        duplicate_samples,
        rejected,
    }
}

fn label_set(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(name, value)| {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// OpenMetrics number syntax: `NaN`, `+Inf`, `-Inf`, else the shortest round-trip decimal.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE_A: &str = "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n# TYPE DCGM_FI_DEV_GPU_UTIL gauge\nDCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"h\"} 40\nDCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-b\",Hostname=\"h\"} 60\n# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"h\"} 1000\n";
    const SCRAPE_B: &str = "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\nDCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"h\"} 41\n# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"h\"} 1500\n";

    #[test]
    fn families_grouped_series_in_time_order_eof_last() {
        // Given out of order: B at T + 1.25 s first, then A at T = 2026-11-20T14:30:00Z.
        let om = to_openmetrics(&[(1_795_185_001.25, SCRAPE_B), (1_795_185_000.0, SCRAPE_A)]);
        let expected = "\
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{Hostname=\"h\",UUID=\"GPU-a\",gpu=\"0\"} 40 1795185000.000
DCGM_FI_DEV_GPU_UTIL{Hostname=\"h\",UUID=\"GPU-a\",gpu=\"0\"} 41 1795185001.250
DCGM_FI_DEV_GPU_UTIL{Hostname=\"h\",UUID=\"GPU-b\",gpu=\"1\"} 60 1795185000.000
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION unknown
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{Hostname=\"h\",UUID=\"GPU-a\",gpu=\"0\"} 1000 1795185000.000
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{Hostname=\"h\",UUID=\"GPU-a\",gpu=\"0\"} 1500 1795185001.250
# EOF
";
        assert_eq!(om.text, expected);
        assert_eq!((om.series, om.samples, om.duplicate_samples), (3, 5, 0));
        // The recorded source's parser reads it back as OpenMetrics with the same samples.
        let back = parse_exposition(&om.text).unwrap();
        assert_eq!(back.series.len(), 3);
        assert_eq!(back.series[0].samples[1].t_s, 1_795_185_001.25);
    }

    #[test]
    fn escapes_specials_and_drops_same_instant_duplicates_and_bad_scrapes() {
        let tricky = "m{path=\"C:\\\\x\",quote=\"a\\\"b\",nl=\"1\\n2\"} NaN\nn +Inf\n";
        let om = to_openmetrics(&[
            (1_795_185_005.0, tricky),
            (1_795_185_005.0, tricky),
            (1_795_185_006.0, "not a metric line {"),
        ]);
        assert!(
            om.text
                .contains("m{nl=\"1\\n2\",path=\"C:\\\\x\",quote=\"a\\\"b\"} NaN 1795185005.000\n")
        );
        assert!(om.text.contains("n +Inf 1795185005.000\n"));
        assert_eq!(
            om.duplicate_samples, 2,
            "the second copy of both samples at T + 5 s"
        );
        assert_eq!(om.rejected.len(), 1);
        assert_eq!(om.rejected[0].0, 2);
        // Round trip keeps the decoded label values.
        let back = parse_exposition(&om.text).unwrap();
        let m = back.series.iter().find(|s| s.metric == "m").unwrap();
        assert_eq!(m.labels["quote"], "a\"b");
        assert_eq!(m.labels["nl"], "1\n2");
        assert_eq!(m.labels["path"], "C:\\x");
    }

    #[test]
    fn negative_fractions_of_a_second_format_correctly() {
        // -0.5 s = -500 ms → -1 s + 500 ms.
        let om = to_openmetrics(&[(-0.5, "m 1\n")]);
        assert!(om.text.contains("m 1 -1.500\n"), "{}", om.text);
    }
}
