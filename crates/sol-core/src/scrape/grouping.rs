//! Timestamped samples gathered into one series per (metric, labels).
//!
//! Successive scrapes repeat every series, so the per-line lookup uses the metric name and the
//! label set exactly as written, looked up by `&str`: nothing is decoded or allocated for a
//! series already seen, and the input need not outlive the table (lines can be streamed). Only a
//! new spelling is decoded (and stored), and it joins an existing series when it names the same
//! labels (`{a="1",b="2"}` and `{b="2", a="1",}` are one series).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::error::ScrapeErrorKind;
use super::label_set::decode_label_set;
use crate::labels::Labels;
use crate::series::{RawSeries, Sample};

/// Series under construction.
#[derive(Debug, Default)]
pub(super) struct SeriesTable {
    /// Series index by metric name, then by label set as written.
    by_spelling: HashMap<String, HashMap<String, usize>>,
    /// Series index by metric name and decoded labels.
    by_identity: HashMap<(String, Labels), usize>,
    series: Vec<RawSeries>,
}

impl SeriesTable {
    /// Adds a sample to the series of `metric` with label set `raw_labels` (as written, braces
    /// included or empty), creating the series on first sight.
    pub(super) fn push(
        &mut self,
        metric: &str,
        raw_labels: &str,
        sample: Sample,
    ) -> Result<(), ScrapeErrorKind> {
        let known = self
            .by_spelling
            .get(metric)
            .and_then(|spellings| spellings.get(raw_labels));
        let index = match known {
            Some(&index) => index,
            None => {
                let index = self.series_index(metric, raw_labels)?;
                self.by_spelling
                    .entry(metric.to_string())
                    .or_default()
                    .insert(raw_labels.to_string(), index);
                index
            }
        };
        let samples = &mut self.series[index].samples;
        match samples.last() {
            // The same sample twice (a scrape appended twice) is harmless.
            Some(last)
                if last.t_s == sample.t_s && last.value.to_bits() == sample.value.to_bits() => {}
            Some(last) if last.t_s == sample.t_s => {
                return Err(ScrapeErrorKind::DuplicateTimestamp(last.value));
            }
            _ => samples.push(sample),
        }
        Ok(())
    }

    /// The series ordered by metric name then labels, each with samples in ascending time
    /// (samples with equal timestamps stay in input order).
    pub(super) fn into_sorted_series(self) -> Vec<RawSeries> {
        let mut series = self.series;
        for one in &mut series {
            // Stable; timestamps are finite (checked on the way in), so total_cmp is numeric order.
            one.samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        }
        series.sort_by(|a, b| {
            a.metric
                .cmp(&b.metric)
                .then_with(|| a.labels.cmp(&b.labels))
        });
        series
    }

    /// Index of the series a new spelling of a label set belongs to.
    fn series_index(&mut self, metric: &str, raw_labels: &str) -> Result<usize, ScrapeErrorKind> {
        let labels = decode_label_set(raw_labels)?;
        Ok(match self.by_identity.entry((metric.to_string(), labels)) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(slot) => {
                let index = self.series.len();
                self.series.push(RawSeries {
                    metric: metric.to_string(),
                    labels: slot.key().1.clone(),
                    samples: Vec::new(),
                });
                slot.insert(index);
                index
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_s: f64, value: f64) -> Sample {
        Sample { t_s, value }
    }

    #[test]
    fn sorts_samples_in_time_keeping_equal_stamps_in_input_order() {
        let mut table = SeriesTable::default();
        let input = [at(30.0, 3.0), at(10.0, 1.0), at(20.0, 2.0), at(10.0, 1.5)];
        for sample in input {
            table.push("m", r#"{gpu="0"}"#, sample).unwrap();
        }
        let series = table.into_sorted_series();
        assert_eq!(series.len(), 1);
        assert_eq!(
            series[0].samples,
            vec![at(10.0, 1.0), at(10.0, 1.5), at(20.0, 2.0), at(30.0, 3.0)]
        );
    }

    #[test]
    fn different_spellings_of_one_label_set_are_one_series() {
        let mut table = SeriesTable::default();
        table.push("m", r#"{a="1",b="2"}"#, at(1.0, 1.0)).unwrap();
        table.push("m", r#"{b="2", a="1",}"#, at(2.0, 2.0)).unwrap();
        table.push("m", "", at(1.0, 9.0)).unwrap();
        table.push("m", "{}", at(2.0, 8.0)).unwrap();
        table.push("m", r#"{pod=""}"#, at(3.0, 7.0)).unwrap();
        let series = table.into_sorted_series();
        assert_eq!(series.len(), 2);
        // The empty label set sorts before {a,b}.
        assert!(series[0].labels.is_empty());
        assert_eq!(series[0].samples.len(), 3);
        assert_eq!(series[1].labels.len(), 2);
        assert_eq!(series[1].samples, vec![at(1.0, 1.0), at(2.0, 2.0)]);
    }

    #[test]
    fn series_are_ordered_by_metric_then_labels() {
        let mut table = SeriesTable::default();
        table.push("b", r#"{gpu="0"}"#, at(1.0, 0.0)).unwrap();
        table.push("a", r#"{gpu="1"}"#, at(1.0, 0.0)).unwrap();
        table.push("a", r#"{gpu="0"}"#, at(1.0, 0.0)).unwrap();
        let order: Vec<(String, String)> = table
            .into_sorted_series()
            .into_iter()
            .map(|s| (s.metric, s.labels["gpu"].clone()))
            .collect();
        let expected = [("a", "0"), ("a", "1"), ("b", "0")];
        assert_eq!(order, expected.map(|(m, g)| (m.to_string(), g.to_string())));
    }

    #[test]
    fn a_bad_new_spelling_is_an_error() {
        let mut table = SeriesTable::default();
        assert_eq!(
            table.push("m", r#"{a="1",a="2"}"#, at(1.0, 0.0)),
            Err(ScrapeErrorKind::DuplicateLabelName("a".into()))
        );
    }
}
