//! The frozen snapshot `dcgm-frozen.yaml` (schema `dcgm_frozen_v1`): already-integrated means that
//! outlive the time series' retention.
//!
//! Seed fields are kept with their meaning (`measured_avg` is the value whose ×100 is `sol_pct`
//! for `ratio` rows, bytes/s per GPU for `bytes_per_s` rows) so a seed reader folds our files; our
//! own files add per-GPU means and coverage per resource and a `dcgm_sol` block holding the whole
//! peak-independent measurement, from which `fold` rebuilds the identical result.

use serde::{Deserialize, Serialize};

use crate::assemble::ValidityCounts;
use crate::catalog;
use crate::ceilings::HwRow;
use crate::context::Context;
use crate::correlation::{Correlation, HwSelection, Provenance, QueryRecord, resource_of_role};
use crate::labels::GpuKey;
use crate::measure::{
    EnergyMeasurement, GpuEnergy, GpuExpectation, GpuInfo, GpuIntegrals, GpuResource, MeasuredUnit,
    Measurement, Resource, ResourceMeasurement, Tier,
};
use crate::scope::Scope;
use crate::steady::SteadyState;
use crate::time::parse_instant;
use crate::validity::RATIO_CORRUPT_ABOVE;
use crate::window::{Window, WindowConfidence};

/// Most GPUs a snapshot may name (a seed snapshot builds one row per GPU).
const MAX_GPUS: u32 = 100_000;

/// Schema name written into every snapshot.
pub const FROZEN_SCHEMA: &str = "dcgm_frozen_v1";

/// Unit of a frozen resource value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrozenUnit {
    /// Fraction of peak (×100 = %SoL).
    Ratio,
    /// Bytes per second per GPU.
    BytesPerS,
}

/// A per-GPU mean in a frozen resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenGpu {
    /// `host/UUID`.
    pub gpu: String,
    /// Mean over covered time, in the resource's unit.
    pub mean: Option<f64>,
    /// Covered share of the window, 0..1.
    pub coverage: f64,
}

/// One resource in the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenResource {
    /// Peak key in the ceilings row.
    pub peak_key: String,
    /// DCGM metric(s).
    pub metric: String,
    /// `ratio` or `bytes_per_s`.
    pub unit: FrozenUnit,
    /// Workload mean (see module docs).
    pub measured_avg: f64,
    /// Query behind it, when known (several joined with ` ; `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promql: Option<String>,
    /// Tensor rows: `measured_avg` already includes the SM-clock correction (ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_corrected: Option<bool>,
    /// Per-GPU means and coverage (ours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_gpu: Vec<FrozenGpu>,
}

/// Our extension: everything needed to rebuild the identical result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenExtension {
    /// Cell id.
    pub cell_id: String,
    /// Ceilings row chosen and why.
    pub hardware: HwSelection,
    /// Context descriptor.
    pub context: Context,
    /// `--tensor-peak`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_peak: Option<String>,
    /// Sources, queries, scope.
    pub provenance: Provenance,
    /// Warnings found before evaluation (e.g. hardware mismatch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_warnings: Vec<String>,
    /// The peak-independent measurement.
    pub measurement: Measurement,
}

/// `dcgm-frozen.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenSnapshot {
    /// `dcgm_frozen_v1`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Ceilings row.
    pub hw_key: String,
    /// GPUs in the denominator.
    pub n_gpus: u32,
    /// Window start, UTC.
    pub sweep_start_utc: String,
    /// Window end, UTC.
    pub sweep_end_utc: String,
    /// `prof` or `counter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_tier: Option<String>,
    /// Scrape interval, s (seed default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval_s: Option<f64>,
    /// When and by what it was captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_by: Option<String>,
    /// Notes (a list, or a single string as some writers emit).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub notes: Vec<String>,
    /// Mean power per GPU, W (the seed also calls it `power`).
    #[serde(default, alias = "power", skip_serializing_if = "Option::is_none")]
    pub power_watts_per_gpu: Option<f64>,
    /// Hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// Resources.
    pub resources: Vec<FrozenResource>,
    /// Our extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dcgm_sol: Option<FrozenExtension>,
}

/// A snapshot that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FrozenError {
    /// YAML syntax or a missing/mistyped required field (the parser names line and field).
    #[error("{0}")]
    Parse(String),
    /// A field with an unusable value.
    #[error("field `{field}`: {reason}")]
    Invalid {
        /// Field path.
        field: String,
        /// Why.
        reason: String,
    },
}

impl FrozenSnapshot {
    /// Parses and validates a snapshot.
    pub fn from_yaml(text: &str) -> Result<FrozenSnapshot, FrozenError> {
        // Our own snapshots grow with the GPU count (a 10 000-GPU cell is ~12 MB): scale the
        // parser's node budget with the input instead of its fixed default, which still bounds
        // alias bombs (aliases keep their own cap).
        let mut options = serde_saphyr::options::Options::default();
        let mut budget = serde_saphyr::budget::Budget::default();
        budget.max_nodes = budget.max_nodes.max(text.len() / 2);
        budget.max_events = budget.max_events.max(text.len());
        budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
        options.budget = Some(budget);
        let snapshot: FrozenSnapshot = serde_saphyr::from_str_with_options(text, options)
            .map_err(|e| FrozenError::Parse(e.to_string()))?;
        snapshot.validate()?;
        Ok(snapshot)
    }

    /// Serialises to YAML.
    pub fn to_yaml(&self) -> Result<String, FrozenError> {
        serde_saphyr::to_string(self).map_err(|e| FrozenError::Parse(e.to_string()))
    }

    fn validate(&self) -> Result<(), FrozenError> {
        let invalid = |field: &str, reason: String| FrozenError::Invalid {
            field: field.to_string(),
            reason,
        };
        if let Some(schema) = self.schema.as_deref()
            && schema != FROZEN_SCHEMA
        {
            return Err(invalid(
                "schema",
                format!(
                    "`{schema}` is not {FROZEN_SCHEMA}, the only schema this dcgm-sol reads; fold it with the tool version that wrote it"
                ),
            ));
        }
        if self.n_gpus == 0 || self.n_gpus > MAX_GPUS {
            return Err(invalid(
                "n_gpus",
                format!("{} is outside 1..={MAX_GPUS}", self.n_gpus),
            ));
        }
        let (start, end) = self.window_bounds()?;
        if end <= start {
            return Err(invalid(
                "sweep_end_utc",
                format!(
                    "{} is not after sweep_start_utc {}",
                    self.sweep_end_utc, self.sweep_start_utc
                ),
            ));
        }
        if self.resources.is_empty() {
            return Err(invalid(
                "resources",
                "is empty: nothing to fold".to_string(),
            ));
        }
        for (i, r) in self.resources.iter().enumerate() {
            if r.unit == FrozenUnit::Ratio && r.measured_avg > RATIO_CORRUPT_ABOVE {
                return Err(invalid(
                    &format!("resources[{i}].measured_avg"),
                    format!(
                        "{} is not a ratio (0..1): corrupt, or a percentage written where a ratio belongs",
                        r.measured_avg
                    ),
                ));
            }
            if !r.measured_avg.is_finite() || r.measured_avg < 0.0 {
                return Err(invalid(
                    &format!("resources[{i}].measured_avg"),
                    format!("{} is not a finite non-negative number", r.measured_avg),
                ));
            }
        }
        Ok(())
    }

    /// The window bounds, epoch seconds.
    pub fn window_bounds(&self) -> Result<(f64, f64), FrozenError> {
        let parse = |field: &str, text: &str| {
            parse_instant(text).map_err(|e| FrozenError::Invalid {
                field: field.to_string(),
                reason: e.to_string(),
            })
        };
        Ok((
            parse("sweep_start_utc", &self.sweep_start_utc)?,
            parse("sweep_end_utc", &self.sweep_end_utc)?,
        ))
    }

    /// Builds the snapshot of a fresh result: seed fields from the rows, our extension from the
    /// measurement.
    pub fn of_result(result: &Correlation, extension: FrozenExtension) -> FrozenSnapshot {
        let resources = result
            .resources
            .iter()
            .filter(|row| {
                row.tier == Tier::Prof
                    || (row.tier == Tier::Counter && row.unit == MeasuredUnit::BytesPerS)
            })
            .filter_map(|row| {
                let (unit, measured_avg, per_gpu_scale) = match row.unit {
                    MeasuredUnit::BytesPerS => (
                        FrozenUnit::BytesPerS,
                        row.measured_bytes_per_s?,
                        row.peak_per_gpu_base / 100.0,
                    ),
                    _ => (FrozenUnit::Ratio, row.sol_pct? / 100.0, 0.01),
                };
                Some(FrozenResource {
                    peak_key: row.peak_key.clone(),
                    metric: row.metric.clone(),
                    unit,
                    measured_avg,
                    promql: Some(
                        result
                            .queries
                            .iter()
                            .filter(|q| {
                                row.metric
                                    .split('+')
                                    .any(|m| q.metric.split('|').any(|x| x == m))
                            })
                            .map(|q| q.promql.as_str())
                            .collect::<Vec<_>>()
                            .join(" ; "),
                    )
                    .filter(|p| !p.is_empty()),
                    clock_corrected: (row.resource == Resource::Tensor)
                        .then_some(row.clock_correction.is_some()),
                    per_gpu: row
                        .per_gpu
                        .iter()
                        .map(|g| FrozenGpu {
                            gpu: g.gpu.clone(),
                            mean: g.value_pct.map(|v| v * per_gpu_scale),
                            coverage: g.coverage_pct / 100.0,
                        })
                        .collect(),
                })
            })
            .collect();
        FrozenSnapshot {
            schema: Some(FROZEN_SCHEMA.to_string()),
            hw_key: result.hw_key.clone(),
            n_gpus: result.n_gpus,
            sweep_start_utc: result.sweep_start_utc.clone(),
            sweep_end_utc: result.sweep_end_utc.clone(),
            data_tier: Some(result.dcgm_group_level.clone()),
            scrape_interval_s: Some(result.scrape_interval_s),
            captured_by: Some(format!("{} {}", result.tool.name, result.tool.version)),
            notes: result.warnings.clone(),
            power_watts_per_gpu: result.power_watts_per_gpu,
            nodes: result.nodes.clone(),
            resources,
            dcgm_sol: Some(extension),
        }
    }

    /// Rebuilds a measurement from the seed fields alone (a seed snapshot has no per-GPU data:
    /// every GPU is shown at the mean). `resource_of` resolves a peak key to its resource on the
    /// chosen ceilings row.
    pub fn seed_measurement(
        &self,
        origin: &str,
        resource_of: impl Fn(&str) -> Option<Resource>,
    ) -> Result<Measurement, FrozenError> {
        let (start_s, end_s) = self.window_bounds()?;
        let duration_s = end_s - start_s;
        let tier = match self.data_tier.as_deref() {
            Some("counter") => Tier::Counter,
            _ => Tier::Prof,
        };
        let gpus: Vec<GpuKey> = (0..self.n_gpus)
            .map(|i| GpuKey {
                host: "frozen".to_string(),
                uuid: format!("gpu:{i}"),
                gpu_instance: None,
            })
            .collect();
        let mut notes = vec![format!(
            "folded from a seed snapshot ({origin}) without per-GPU data: every GPU is shown at the workload mean"
        )];
        notes.extend(self.notes.iter().cloned());
        let mut resources = Vec::new();
        for (i, frozen) in self.resources.iter().enumerate() {
            let Some(resource) = resource_of(&frozen.peak_key) else {
                return Err(FrozenError::Invalid {
                    field: format!("resources[{i}].peak_key"),
                    reason: format!(
                        "`{}` is not a peak of ceilings row `{}`",
                        frozen.peak_key, self.hw_key
                    ),
                });
            };
            check_metric(resource, &frozen.metric).map_err(|reason| FrozenError::Invalid {
                field: format!("resources[{i}].metric"),
                reason,
            })?;
            let unit = match frozen.unit {
                FrozenUnit::Ratio => MeasuredUnit::Ratio,
                FrozenUnit::BytesPerS => MeasuredUnit::BytesPerS,
            };
            let row_tier = if frozen.metric.contains("NVLINK_BANDWIDTH_TOTAL")
                || frozen.metric.contains("NVLINK_THROUGHPUT_TOTAL")
            {
                Tier::Counter
            } else {
                tier
            };
            let per_gpu = gpus
                .iter()
                .map(|key| GpuResource {
                    gpu: key.clone(),
                    full: GpuIntegrals {
                        integral: frozen.measured_avg * duration_s,
                        covered_s: duration_s,
                        samples: 0,
                        ..GpuIntegrals::default()
                    },
                    steady: None,
                    invalid: None,
                })
                .collect();
            let mut resource_notes = Vec::new();
            if resource == Resource::Tensor && frozen.clock_corrected != Some(true) {
                resource_notes.push(
                    "seed snapshot carries no SM clock: tensor activity not clock-corrected"
                        .to_string(),
                );
            }
            resources.push(ResourceMeasurement {
                resource,
                tier: row_tier,
                unit,
                metrics: frozen
                    .metric
                    .split('+')
                    .map(|m| m.trim().to_string())
                    .collect(),
                scale_quantity: None,
                per_gpu,
                edge_integrals: None,
                timeseries: Vec::new(),
                notes: resource_notes,
            });
        }
        let window = Window {
            start_s,
            end_s,
            source: format!("{origin}: sweep_start_utc / sweep_end_utc"),
            confidence: WindowConfidence::External,
            timezone_assumption: None,
            resolution_s: Some(1.0),
            full_span_s: None,
        };
        let interval_s = self.scrape_interval_s.unwrap_or(30.0);
        Ok(Measurement {
            steady_state: SteadyState {
                detected: false,
                start_s,
                end_s,
                signal: "none".to_string(),
                method: "not available from a seed snapshot".to_string(),
                plateau_level: None,
                dips: 0,
                unsteady: false,
                summary: "seed snapshot holds no time series".to_string(),
            },
            window,
            scrape_interval_s: interval_s,
            exporter_update_interval_s: None,
            gpus_expected: GpuExpectation {
                n_gpus: self.n_gpus,
                expected: self.n_gpus,
                source: "frozen snapshot n_gpus".to_string(),
            },
            gpus_seen: gpus
                .iter()
                .map(|key| GpuInfo {
                    key: key.clone(),
                    gpu_index: None,
                    model_name: None,
                })
                .collect(),
            resources,
            activity: Vec::new(),
            energy: EnergyMeasurement {
                span_s: [start_s, end_s],
                span_source: "measurement window".to_string(),
                per_gpu: gpus
                    .iter()
                    .map(|key| GpuEnergy {
                        gpu: key.clone(),
                        mean_power_w: self.power_watts_per_gpu,
                        energy_j: None,
                        energy_source: None,
                        energy_coverage: 0.0,
                        counter_resets: 0,
                    })
                    .collect(),
                notes: Vec::new(),
            },
            validity: ValidityCounts::default(),
            invalid_prof_gpus: Vec::new(),
            metrics_used: self.resources.iter().map(|r| r.metric.clone()).collect(),
            nodes: self.nodes.clone(),
            memory_clock_max: None,
            alignment: None,
            notes,
        })
    }
}

/// Everything `fold` needs from a seed snapshot (no `dcgm_sol` block).
#[derive(Debug, Clone)]
pub struct SeedFold {
    /// Measurement rebuilt from `measured_avg`.
    pub measurement: Measurement,
    /// `captured_sources` and the snapshot's `promql` fields.
    pub provenance: Provenance,
    /// The snapshot's `hw_key`.
    pub hardware: HwSelection,
    /// The snapshot's tensor peak key, so a multi-precision row keeps the seed's precision.
    pub tensor_peak: Option<String>,
}

impl FrozenSnapshot {
    /// Rebuilds what a seed snapshot holds, resolving its peak keys on `row`.
    pub fn seed_fold(&self, origin: &str, row: &HwRow) -> Result<SeedFold, FrozenError> {
        let resource_of = |key: &str| row.peak(key).and_then(|p| resource_of_role(p.role));
        let measurement = self.seed_measurement(origin, resource_of)?;
        let source = format!("frozen:{origin}");
        let queries = self
            .resources
            .iter()
            .filter_map(|r| {
                Some(QueryRecord {
                    peak_key: Some(r.peak_key.clone()),
                    metric: r.metric.clone(),
                    promql: r.promql.clone()?,
                    unit: match r.unit {
                        FrozenUnit::Ratio => "ratio".to_string(),
                        FrozenUnit::BytesPerS => "bytes_per_s".to_string(),
                    },
                    is_fallback: false,
                    eval_time_utc: self.sweep_end_utc.clone(),
                    source: source.clone(),
                })
            })
            .collect();
        Ok(SeedFold {
            measurement,
            provenance: Provenance {
                captured_sources: vec![source],
                queries,
                scope: Scope::default(),
            },
            hardware: HwSelection {
                hw_key: self.hw_key.clone(),
                source: "frozen snapshot hw_key".to_string(),
            },
            tensor_peak: self
                .resources
                .iter()
                .map(|r| &r.peak_key)
                .find(|k| resource_of(k) == Some(Resource::Tensor))
                .cloned(),
        })
    }
}

/// A frozen row's metric(s) must measure its resource: capacity (FB_USED) or non-tensor pipes
/// (PIPE_FP16_ACTIVE) under an HBM or tensor peak — the seed's own test mistakes — are refused.
fn check_metric(resource: Resource, metric: &str) -> Result<(), String> {
    let allowed = resource.grounded_quantities();
    for name in metric.split('+').map(str::trim) {
        match catalog::lookup(name) {
            Some((spec, _)) if allowed.contains(&spec.quantity) => {}
            Some((spec, _)) => {
                return Err(format!(
                    "`{name}` measures {:?}, not {} — it cannot stand for this peak",
                    spec.quantity,
                    resource.label()
                ));
            }
            None => {
                return Err(format!(
                    "`{name}` is not a DCGM field that measures {} (capacity fields such as FB_USED never do)",
                    resource.label()
                ));
            }
        }
    }
    Ok(())
}

/// Accepts a single string where a list of strings is expected.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => vec![text],
        OneOrMany::Many(list) => list,
    })
}
