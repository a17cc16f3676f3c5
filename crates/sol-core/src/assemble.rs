//! From raw series to one clean sample list per physical GPU and quantity (DESIGN.md §3).
//!
//! Series are keyed by [`GpuKey`] (host + UUID + GPU instance), values are validated and converted
//! to base units through the catalog, and duplicate series of one GPU (pod-attribution churn,
//! GPU sharing, old and new metric names) are combined with `max` per timestamp — never summed.
//! GPU-level and MIG-instance series are never added: the GPU-level series wins; only when a GPU
//! has instance series alone is its GPU-level value derived, as DCGM defines it, by weighting each
//! instance by its share of the GPU's compute slices.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{self, FieldKind, FieldSpec, MetricName, Quantity};
use crate::labels::{GpuKey, Labels, MODEL_NAME_LABELS, first_label, host_of};
use crate::series::{RawSeries, Sample};
use crate::validity::{Rejection, Verdict, judge, kept_as_is};

/// Ascending samples with distinct timestamps, in base units: the source's own samples when
/// they needed no change (no copy), else a cleaned copy.
pub type CleanSamples<'a> = Cow<'a, [Sample]>;

/// Clean samples of one physical GPU.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GpuSamples<'a> {
    /// The GPU (GPU-level key: no GPU instance).
    pub key: GpuKey,
    /// The exporter's `gpu` index label, when present.
    pub gpu_index: Option<String>,
    /// The exporter's `modelName`, when present.
    pub model_name: Option<String>,
    /// Per quantity: ascending samples with distinct timestamps, in base units.
    pub quantities: BTreeMap<Quantity, CleanSamples<'a>>,
}

/// Counts of values that were not used as exported.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ValidityCounts {
    /// Rejected values per quantity and reason.
    pub rejected: BTreeMap<Quantity, BTreeMap<Rejection, usize>>,
    /// Ratios in (1, 1.5] clamped to 1, per quantity.
    pub clamped: BTreeMap<Quantity, usize>,
}

/// Every GPU's clean samples plus what was dropped along the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assembly<'a> {
    /// GPUs in key order.
    pub gpus: Vec<GpuSamples<'a>>,
    /// Values dropped or clamped by the validity rules.
    pub validity: ValidityCounts,
    /// Metric names that contributed samples.
    pub metrics_used: BTreeSet<String>,
    /// Series that name no GPU (no UUID and no `gpu` label).
    pub unattributed_series: usize,
    /// What was merged or derived, for the result's notes.
    pub notes: Vec<String>,
    /// Timestamps where samples of one GPU and quantity disagreed (duplicate series, or a series
    /// given twice by the source); the largest value was kept.
    pub conflicting_duplicates: usize,
}

impl Assembly<'_> {
    /// Drops samples of `quantity` above `limit` (base units), counting them as
    /// [`Rejection::AboveLinkPeak`]. Returns how many were dropped.
    pub fn reject_above(&mut self, quantity: Quantity, limit: f64) -> usize {
        let mut dropped = 0;
        for gpu in &mut self.gpus {
            if let Some(samples) = gpu.quantities.get_mut(&quantity)
                && samples.iter().any(|s| s.value > limit)
            {
                let samples = samples.to_mut();
                let before = samples.len();
                samples.retain(|s| s.value <= limit);
                dropped += before - samples.len();
            }
            gpu.quantities.retain(|_, samples| !samples.is_empty());
        }
        if dropped > 0 {
            *self
                .validity
                .rejected
                .entry(quantity)
                .or_default()
                .entry(Rejection::AboveLinkPeak)
                .or_default() += dropped;
        }
        dropped
    }

    /// `modelName` values of the GPUs, sorted and unique.
    pub fn model_names(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self
            .gpus
            .iter()
            .filter_map(|g| g.model_name.as_ref())
            .collect();
        names.into_iter().cloned().collect()
    }

    /// Host names of the GPUs, sorted and unique (empty host names left out).
    pub fn hosts(&self) -> Vec<String> {
        let hosts: BTreeSet<&str> = self
            .gpus
            .iter()
            .map(|g| g.key.host.as_str())
            .filter(|h| !h.is_empty())
            .collect();
        hosts.into_iter().map(str::to_string).collect()
    }
}

/// Samples of one GPU entity (GPU-level or one MIG instance) before MIG resolution.
#[derive(Default)]
struct EntitySamples<'a> {
    uuid: String,
    /// Best host label seen (lowest rank in `HOST_LABELS`) and every host name seen.
    host: Option<(usize, String)>,
    hosts: BTreeSet<String>,
    gpu_index: Option<String>,
    model_name: Option<String>,
    mig_profile: Option<String>,
    quantities: BTreeMap<Quantity, CleanSamples<'a>>,
    /// Quantities whose samples are not yet known to ascend with distinct timestamps (several
    /// series, or one out of order): sorted and merged once every series is in.
    unmerged: BTreeSet<Quantity>,
}

/// Builds the per-GPU sample table from raw series. Series of metrics outside the catalog are
/// ignored.
pub fn assemble(series: &[RawSeries]) -> Assembly<'_> {
    let mut assembly = Assembly::default();
    let mut entities: BTreeMap<(String, Option<String>), EntitySamples> = BTreeMap::new();
    for one in series {
        let Some((spec, name)) = catalog::lookup(&one.metric) else {
            continue;
        };
        let Some(key) = GpuKey::from_labels(&one.labels) else {
            assembly.unattributed_series += 1;
            continue;
        };
        let entity = entities.entry(key.identity()).or_default();
        entity.uuid.clone_from(&key.uuid);
        remember_labels(entity, &one.labels);
        let (clean, ascending) = clean_samples(spec, name, &one.samples, &mut assembly.validity);
        if clean.is_empty() {
            continue;
        }
        assembly.metrics_used.insert(one.metric.clone());
        match entity.quantities.entry(spec.quantity) {
            Entry::Vacant(slot) => {
                slot.insert(clean);
                if !ascending {
                    entity.unmerged.insert(spec.quantity);
                }
            }
            Entry::Occupied(mut slot) => {
                // A second series of this GPU and quantity.
                slot.get_mut().to_mut().extend_from_slice(&clean);
                entity.unmerged.insert(spec.quantity);
            }
        }
    }
    for entity in entities.values_mut() {
        for quantity in &entity.unmerged {
            if let Some(samples) = entity.quantities.get_mut(quantity) {
                assembly.conflicting_duplicates += merge_duplicates_by_max(samples.to_mut());
            }
        }
    }
    resolve_mig(entities, &mut assembly);
    assembly
}

/// A series' usable samples in base units ([`judge`]), counting what was clamped or rejected —
/// borrowed as they are when every value is kept unchanged, the common case — and whether they
/// ascend with distinct timestamps. One pass over the series.
fn clean_samples<'a>(
    spec: &FieldSpec,
    name: &MetricName,
    samples: &'a [Sample],
    validity: &mut ValidityCounts,
) -> (CleanSamples<'a>, bool) {
    let (lowest, highest) = kept_as_is(spec, name).unwrap_or((f64::INFINITY, f64::NEG_INFINITY));
    let mut previous_t_s = f64::NEG_INFINITY;
    let mut ascending = true;
    // Blocks of samples checked without an early exit, so the loop vectorises; the copy starts
    // at the block holding the first value to change, and judges every value from there.
    let mut first_changed = None;
    for (block_index, block) in samples.chunks(64).enumerate() {
        let mut block_kept = true;
        for s in block {
            ascending &= s.t_s > previous_t_s;
            previous_t_s = s.t_s;
            block_kept &= lowest <= s.value && s.value <= highest;
        }
        if !block_kept {
            first_changed = Some(block_index * 64);
            break;
        }
    }
    let Some(first_changed) = first_changed else {
        return (Cow::Borrowed(samples), ascending);
    };
    let mut clean = Vec::with_capacity(samples.len());
    clean.extend_from_slice(&samples[..first_changed]);
    for sample in &samples[first_changed..] {
        let value = match judge(spec, name, sample.value) {
            Verdict::Keep(value) => value,
            Verdict::Clamped(value) => {
                *validity.clamped.entry(spec.quantity).or_default() += 1;
                value
            }
            Verdict::Reject(reason) => {
                *validity
                    .rejected
                    .entry(spec.quantity)
                    .or_default()
                    .entry(reason)
                    .or_default() += 1;
                continue;
            }
        };
        clean.push(Sample {
            t_s: sample.t_s,
            value,
        });
    }
    let ascending = clean.is_sorted_by(|a, b| a.t_s < b.t_s);
    (Cow::Owned(clean), ascending)
}

fn remember_labels(entity: &mut EntitySamples, labels: &Labels) {
    if let Some((rank, host)) = host_of(labels) {
        entity.hosts.insert(host.to_string());
        if entity.host.as_ref().is_none_or(|(best, _)| rank < *best) {
            entity.host = Some((rank, host.to_string()));
        }
    }
    if entity.gpu_index.is_none() {
        entity.gpu_index = labels.get("gpu").cloned();
    }
    if entity.model_name.is_none() {
        entity.model_name = first_label(labels, &MODEL_NAME_LABELS).map(str::to_string);
    }
    if entity.mig_profile.is_none() {
        entity.mig_profile = labels.get("GPU_I_PROFILE").cloned();
    }
}

/// Sorts by time and keeps one sample per timestamp, the largest (duplicates of one GPU).
/// Returns how many merged duplicates disagreed with the value kept.
fn merge_duplicates_by_max(samples: &mut Vec<Sample>) -> usize {
    samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    let mut conflicts = 0;
    samples.dedup_by(|later, kept| {
        if later.t_s == kept.t_s {
            conflicts += usize::from(later.value != kept.value);
            kept.value = kept.value.max(later.value);
            true
        } else {
            false
        }
    });
    conflicts
}

fn resolve_mig<'a>(
    entities: BTreeMap<(String, Option<String>), EntitySamples<'a>>,
    assembly: &mut Assembly<'a>,
) {
    type Physical<'a> = (Option<EntitySamples<'a>>, Vec<EntitySamples<'a>>);
    let mut physical: BTreeMap<String, Physical> = BTreeMap::new();
    for ((id, instance), entity) in entities {
        let slot = physical.entry(id).or_default();
        if instance.is_some() {
            slot.1.push(entity);
        } else {
            slot.0 = Some(entity);
        }
    }
    for (gpu_level, instances) in physical.into_values() {
        let all = gpu_level.iter().chain(&instances);
        let host = all
            .clone()
            .filter_map(|e| e.host.clone())
            .min()
            .map(|(_, h)| h)
            .unwrap_or_default();
        let hosts: BTreeSet<&String> = all.clone().flat_map(|e| &e.hosts).collect();
        let uuid = all
            .clone()
            .map(|e| e.uuid.clone())
            .next()
            .unwrap_or_default();
        let mut gpu = GpuSamples {
            key: GpuKey {
                host,
                uuid,
                gpu_instance: None,
            },
            ..GpuSamples::default()
        };
        if hosts.len() > 1 {
            let names: Vec<&str> = hosts.iter().map(|h| h.as_str()).collect();
            assembly.notes.push(format!(
                "{} appears under several host labels ({}) — an exporter restart or relabelling; joined by UUID",
                gpu.key.uuid,
                names.join(", ")
            ));
        }
        if let Some(entity) = gpu_level {
            gpu.gpu_index = entity.gpu_index;
            gpu.model_name = entity.model_name;
            gpu.quantities = entity.quantities;
        }
        if !instances.is_empty() {
            merge_instances(&mut gpu, instances, &mut assembly.notes);
        }
        if !gpu.quantities.is_empty() {
            assembly.gpus.push(gpu);
        }
    }
    assembly.gpus.sort_by(|a, b| a.key.cmp(&b.key));
}

fn merge_instances<'a>(
    gpu: &mut GpuSamples<'a>,
    instances: Vec<EntitySamples<'a>>,
    notes: &mut Vec<String>,
) {
    if gpu.gpu_index.is_none() {
        gpu.gpu_index = instances.iter().find_map(|i| i.gpu_index.clone());
    }
    if gpu.model_name.is_none() {
        gpu.model_name = instances.iter().find_map(|i| i.model_name.clone());
    }
    let name = gpu.key.display_name();
    let quantities: BTreeSet<Quantity> = instances
        .iter()
        .flat_map(|i| i.quantities.keys().copied())
        .collect();
    for quantity in quantities {
        if gpu.quantities.contains_key(&quantity) {
            notes.push(format!(
                "{name}: GPU-level {quantity:?} used; its MIG instance series are not added to it"
            ));
            continue;
        }
        let derived = if catalog::spec_of(quantity).kind == FieldKind::Ratio {
            weighted_instance_sum(gpu.model_name.as_deref(), &instances, quantity)
                .map(CleanSamples::Owned)
        } else {
            // DEV fields are replicated on every instance series: one value per GPU.
            let mut all: Vec<Sample> = instances
                .iter()
                .filter_map(|i| i.quantities.get(&quantity))
                .flat_map(|samples| samples.iter().copied())
                .collect();
            merge_duplicates_by_max(&mut all);
            Ok(Cow::Owned(all))
        };
        match derived {
            Ok(samples) if !samples.is_empty() => {
                if catalog::spec_of(quantity).kind == FieldKind::Ratio {
                    notes.push(format!(
                        "{name}: only MIG instance series for {quantity:?}; GPU-level value derived as Σ instance × compute-slice share"
                    ));
                }
                gpu.quantities.insert(quantity, samples);
            }
            Ok(_) => {}
            Err(reason) => notes.push(format!(
                "{name}: {quantity:?} from MIG instances not used: {reason}"
            )),
        }
    }
}

/// DCGM's GPU-level value of a ratio: Σ over instances of value × (instance compute slices /
/// GPU compute slices), per timestamp.
fn weighted_instance_sum(
    model_name: Option<&str>,
    instances: &[EntitySamples],
    quantity: Quantity,
) -> Result<Vec<Sample>, String> {
    let total_slices = compute_slices_of(model_name);
    let mut by_time: BTreeMap<i64, Sample> = BTreeMap::new();
    for instance in instances {
        let Some(samples) = instance.quantities.get(&quantity) else {
            continue;
        };
        let profile = instance.mig_profile.as_deref().unwrap_or("");
        let slices = profile_compute_slices(profile).ok_or_else(|| {
            format!("MIG profile `{profile}` does not name its compute slices (`<n>g.<mem>gb`)")
        })?;
        let share = slices / total_slices;
        for sample in samples.iter() {
            // Instances of one GPU are read in the same scrape: key by millisecond timestamp.
            let slot = by_time
                .entry((sample.t_s * 1000.0).round() as i64)
                .or_insert(Sample {
                    t_s: sample.t_s,
                    value: 0.0,
                });
            slot.value += sample.value * share;
        }
    }
    Ok(by_time.into_values().collect())
}

/// Compute slices of a MIG-capable GPU: 4 on A30, 7 on A100/H100/H200/B200-class parts.
fn compute_slices_of(model_name: Option<&str>) -> f64 {
    match model_name {
        Some(name) if name.contains("A30") => 4.0,
        _ => 7.0,
    }
}

/// `3g.40gb` → 3.
fn profile_compute_slices(profile: &str) -> Option<f64> {
    let (count, _) = profile.split_once('g')?;
    count.parse::<u32>().ok().filter(|n| *n > 0).map(f64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(metric: &str, labels: &[(&str, &str)], points: &[(f64, f64)]) -> RawSeries {
        RawSeries {
            metric: metric.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            samples: points
                .iter()
                .map(|&(t_s, value)| Sample { t_s, value })
                .collect(),
        }
    }

    const GPU0: [(&str, &str); 3] = [("gpu", "0"), ("UUID", "GPU-a"), ("Hostname", "n1")];

    #[test]
    fn duplicate_series_of_one_gpu_are_combined_with_max_not_summed() {
        // GPU-a appears with and without pod labels at the same instants (pod churn):
        // 0.4 and 0.5 at t=10 → max 0.5; only the plain series has t=20 (0.6).
        let with_pod: Vec<(&str, &str)> = GPU0.iter().copied().chain([("pod", "vllm-0")]).collect();
        let raw = [
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &GPU0,
                &[(10.0, 0.4), (20.0, 0.6)],
            ),
            series("DCGM_FI_PROF_DRAM_ACTIVE", &with_pod, &[(10.0, 0.5)]),
        ];
        let assembly = assemble(&raw);
        assert_eq!(assembly.gpus.len(), 1);
        let samples = &assembly.gpus[0].quantities[&Quantity::DramActive];
        assert_eq!(
            samples,
            &vec![
                Sample {
                    t_s: 10.0,
                    value: 0.5
                },
                Sample {
                    t_s: 20.0,
                    value: 0.6
                }
            ]
        );
    }

    #[test]
    fn a_changing_host_label_does_not_split_a_gpu() {
        // No Hostname label; the exporter restarts and `instance` changes between t=10 and t=20.
        let before = [
            ("gpu", "0"),
            ("UUID", "GPU-a"),
            ("instance", "10.0.0.1:9400"),
        ];
        let after = [
            ("gpu", "0"),
            ("UUID", "GPU-a"),
            ("instance", "10.0.0.7:9400"),
        ];
        let raw = [
            series("DCGM_FI_PROF_DRAM_ACTIVE", &before, &[(10.0, 0.5)]),
            series("DCGM_FI_PROF_DRAM_ACTIVE", &after, &[(20.0, 0.5)]),
        ];
        let assembly = assemble(&raw);
        assert_eq!(assembly.gpus.len(), 1);
        assert_eq!(assembly.gpus[0].quantities[&Quantity::DramActive].len(), 2);
        assert!(
            assembly
                .notes
                .iter()
                .any(|n| n.contains("several host labels"))
        );
    }

    #[test]
    fn same_index_on_two_hosts_stays_two_gpus() {
        let raw = [
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[("gpu", "0"), ("UUID", "GPU-a"), ("Hostname", "n1")],
                &[(10.0, 0.4)],
            ),
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[("gpu", "0"), ("UUID", "GPU-b"), ("Hostname", "n2")],
                &[(10.0, 0.4)],
            ),
        ];
        let assembly = assemble(&raw);
        assert_eq!(assembly.gpus.len(), 2);
        assert_eq!(assembly.hosts(), vec!["n1".to_string(), "n2".to_string()]);
    }

    #[test]
    fn gpu_level_wins_over_mig_instances_which_are_never_added() {
        // GPU-level tensor 0.93 and one 1g instance at 0.94: the GPU keeps 0.93 (not 1.87).
        let gi: Vec<(&str, &str)> = GPU0
            .iter()
            .copied()
            .chain([("GPU_I_ID", "13"), ("GPU_I_PROFILE", "1g.5gb")])
            .collect();
        let raw = [
            series("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", &GPU0, &[(10.0, 0.93)]),
            series("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", &gi, &[(10.0, 0.94)]),
        ];
        let assembly = assemble(&raw);
        assert_eq!(assembly.gpus.len(), 1);
        assert_eq!(
            assembly.gpus[0].quantities[&Quantity::TensorActive][0].value,
            0.93
        );
        assert!(assembly.notes.iter().any(|n| n.contains("not added")));
    }

    #[test]
    fn instance_only_gpu_is_weighted_by_compute_slices() {
        // A100 (7 slices) with a 3g instance at 0.7 and a 1g instance at 0.35:
        // GPU value = 0.7 × 3/7 + 0.35 × 1/7 = 0.3 + 0.05 = 0.35.
        let gi = |id: &'static str, profile: &'static str| -> Vec<(&'static str, &'static str)> {
            GPU0.iter()
                .copied()
                .chain([("GPU_I_ID", id), ("GPU_I_PROFILE", profile)])
                .collect()
        };
        let raw = [
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &gi("1", "3g.20gb"),
                &[(10.0, 0.7)],
            ),
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &gi("2", "1g.5gb"),
                &[(10.0, 0.35)],
            ),
        ];
        let assembly = assemble(&raw);
        let value = assembly.gpus[0].quantities[&Quantity::DramActive][0].value;
        assert!((value - 0.35).abs() < 1e-12, "{value}");
    }

    #[test]
    fn invalid_values_are_counted_and_dropped() {
        let raw = [series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            &GPU0,
            &[
                (10.0, f64::NAN),
                (20.0, 140_737_488_355_328.0),
                (30.0, 1.2),
                (40.0, 0.5),
            ],
        )];
        let assembly = assemble(&raw);
        let validity = &assembly.validity;
        assert_eq!(
            validity.rejected[&Quantity::DramActive][&Rejection::NotFinite],
            1
        );
        assert_eq!(
            validity.rejected[&Quantity::DramActive][&Rejection::BlankSentinel],
            1
        );
        assert_eq!(validity.clamped[&Quantity::DramActive], 1);
        let kept: Vec<f64> = assembly.gpus[0].quantities[&Quantity::DramActive]
            .iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(kept, vec![1.0, 0.5]);
    }

    #[test]
    fn a_value_needing_a_change_deep_in_a_long_series_is_found() {
        // 200 samples of 0.5 at t = 1..200, except t = 151 (index 150, in the third block of 64)
        // at 1.2: clamped to 1.0; everything before and after it kept as is.
        let points: Vec<(f64, f64)> = (0..200)
            .map(|i| (f64::from(i + 1), if i == 150 { 1.2 } else { 0.5 }))
            .collect();
        let raw = [series("DCGM_FI_PROF_DRAM_ACTIVE", &GPU0, &points)];
        let assembly = assemble(&raw);
        assert_eq!(assembly.validity.clamped[&Quantity::DramActive], 1);
        let kept = &assembly.gpus[0].quantities[&Quantity::DramActive];
        assert!(matches!(kept, Cow::Owned(_)));
        assert_eq!(kept.len(), 200);
        assert_eq!(kept[150].value, 1.0);
        assert!(
            kept.iter()
                .enumerate()
                .all(|(i, s)| i == 150 || s.value == 0.5)
        );
        // Without it, the source's samples are used as they are.
        let points: Vec<(f64, f64)> = (0..200).map(|i| (f64::from(i + 1), 0.5)).collect();
        let raw = [series("DCGM_FI_PROF_DRAM_ACTIVE", &GPU0, &points)];
        let assembly = assemble(&raw);
        assert!(matches!(
            assembly.gpus[0].quantities[&Quantity::DramActive],
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn unknown_metrics_are_ignored_and_unattributable_series_counted() {
        let raw = [
            series("DCGM_FI_DEV_FB_USED", &GPU0, &[(10.0, 4845.0)]),
            series("DCGM_FI_PROF_DRAM_ACTIVE", &[("job", "x")], &[(10.0, 0.5)]),
        ];
        let assembly = assemble(&raw);
        assert!(assembly.gpus.is_empty());
        assert_eq!(assembly.unattributed_series, 1);
    }
}
