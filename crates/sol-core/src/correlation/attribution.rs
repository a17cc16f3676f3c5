//! Page 6b: per-category attribution of the workload's bytes and FLOPs by profiler time share
//! (seed semantics), for any hardware's peak keys.
//!
//! The seed attributed `share × total` and then divided by `share × duration`, which gives back
//! the workload mean for every category. The informative figure is the other one: how close to
//! its ceiling a category ran *if* the resource's traffic happened during its own time —
//! `workload %SoL ÷ time share`, an upper bound we label as such.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::schema::{CategoryAttribution, ResourceRow};
use crate::ceilings::{Bound, Ceilings, HwRow, PeakRole, role_of_peak_key};
use crate::measure::Resource;

/// Categories in the order pages list them; others follow alphabetically.
pub const CANONICAL_CATEGORIES: [&str; 8] = [
    "GEMM",
    "Attention",
    "MoE",
    "NCCL",
    "Memory",
    "Elementwise",
    "Sampling",
    "Other",
];

/// `kernels.json`: profiler sample counts per kernel category.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KernelCategories {
    /// Category → samples (or any time-proportional weight).
    #[serde(deserialize_with = "crate::unique_keys::map")]
    pub per_category: BTreeMap<String, f64>,
}

/// A kernels.json that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KernelsError {
    /// Not JSON of the expected shape.
    #[error("not a kernels.json ({{\"per_category\": {{\"NCCL\": 30, …}}}}): {0}")]
    Shape(String),
    /// A count that is negative, NaN or infinite.
    #[error("per_category.{category} = {value} is not a non-negative sample count")]
    BadCount {
        /// Category.
        category: String,
        /// Value.
        value: f64,
    },
    /// All counts are zero.
    #[error("per_category holds no samples (all counts are zero or it is empty)")]
    Empty,
    /// The counts add up beyond the largest number.
    #[error(
        "per_category counts add up beyond the largest representable number ({0:e} and more); give sample counts or time shares"
    )]
    Overflow(f64),
}

impl KernelCategories {
    /// Parses and validates kernels.json text.
    pub fn from_json(text: &str) -> Result<KernelCategories, KernelsError> {
        let parsed: KernelCategories =
            serde_json::from_str(text).map_err(|e| KernelsError::Shape(e.to_string()))?;
        if let Some((category, value)) = parsed
            .per_category
            .iter()
            .find(|(_, v)| !v.is_finite() || **v < 0.0)
        {
            return Err(KernelsError::BadCount {
                category: category.clone(),
                value: *value,
            });
        }
        let total: f64 = parsed.per_category.values().sum();
        if !total.is_finite() {
            let largest = parsed.per_category.values().copied().fold(0.0, f64::max);
            return Err(KernelsError::Overflow(largest));
        }
        if total <= 0.0 {
            return Err(KernelsError::Empty);
        }
        Ok(parsed)
    }

    /// Categories in canonical order, unknown ones after it alphabetically.
    pub fn ordered(&self) -> Vec<(&str, f64)> {
        let mut entries: Vec<(&str, f64)> = self
            .per_category
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        entries.sort_by_key(|(name, _)| {
            let rank = CANONICAL_CATEGORIES
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
                .unwrap_or(CANONICAL_CATEGORIES.len());
            (rank, name.to_string())
        });
        entries
    }
}

/// The resource a peak role is the ceiling of.
pub fn resource_of_role(role: PeakRole) -> Option<Resource> {
    match role {
        PeakRole::HbmBandwidth => Some(Resource::Hbm),
        PeakRole::NvlinkBandwidth => Some(Resource::Nvlink),
        PeakRole::PcieBandwidth => Some(Resource::Pcie),
        PeakRole::C2cBandwidth => Some(Resource::C2c),
        PeakRole::TensorCompute => Some(Resource::Tensor),
        _ => None,
    }
}

/// The resource a category is compared with: its `category_ceiling_map` entry resolved on this
/// row (a seed key such as `nvlink5_tbps` resolves by role on an H100 row), else NVLink for
/// collective-communication categories and HBM otherwise.
fn resource_for(
    category: &str,
    ceilings: &Ceilings,
    row: &HwRow,
) -> (Resource, String, Vec<String>) {
    let mut notes = Vec::new();
    let mapping = ceilings
        .category_ceiling_map()
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(category))
        .map(|(_, m)| m);
    if let Some(mapping) = mapping {
        let bound = match mapping.bound {
            Bound::Bandwidth => "bandwidth",
            Bound::Compute => "compute",
        };
        let role = row
            .peak(&mapping.metric)
            .map(|p| p.role)
            .or_else(|| role_of_peak_key(&mapping.metric));
        match role.and_then(resource_of_role) {
            Some(resource) => return (resource, bound.to_string(), notes),
            None => notes.push(format!(
                "category_ceiling_map names `{}`, which this row cannot resolve; default used",
                mapping.metric
            )),
        }
    }
    let lower = category.to_ascii_lowercase();
    if [
        "nccl",
        "allreduce",
        "all_reduce",
        "allgather",
        "reducescatter",
        "comm",
    ]
    .iter()
    .any(|k| lower.contains(k))
    {
        (Resource::Nvlink, "bandwidth".to_string(), notes)
    } else {
        (Resource::Hbm, "bandwidth".to_string(), notes)
    }
}

pub(super) fn attribute(
    kernels: &KernelCategories,
    rows: &[ResourceRow],
    ceilings: &Ceilings,
    row: &HwRow,
    duration_s: f64,
) -> Vec<CategoryAttribution> {
    let total: f64 = kernels.per_category.values().sum();
    kernels
        .ordered()
        .into_iter()
        .map(|(category, samples)| {
            let share = samples / total;
            let (resource, bound, mut notes) = resource_for(category, ceilings, row);
            let resource_row = rows.iter().find(|r| r.resource == resource);
            let (attributed, units) = match resource_row {
                Some(r) if resource == Resource::Tensor => {
                    (r.measured_tflops_avg.map(|t| t * duration_s * f64::from(r.n_gpus) * share), "tflop")
                }
                Some(r) => (r.measured_bytes_total.map(|b| b * share), "bytes"),
                None => (None, if resource == Resource::Tensor { "tflop" } else { "bytes" }),
            };
            let exclusive = resource_row.and_then(|r| r.sol_pct).filter(|_| share > 0.0).map(|sol| sol / share);
            if exclusive.is_some_and(|v| v > 100.0) {
                notes.push(
                    "above 100 %: the resource was also busy outside this category's time, so time shares cannot isolate this category's rate"
                        .to_string(),
                );
            }
            if resource_row.is_none() {
                notes.push(format!("no {} row for this hardware: nothing to attribute", resource.label()));
            }
            CategoryAttribution {
                category: category.to_string(),
                samples,
                time_share: share,
                time_s: share * duration_s,
                ceiling: resource_row.map(|r| r.ceiling.clone()),
                bound,
                attributed,
                attributed_units: units.to_string(),
                sol_pct_if_exclusive: exclusive.map(|v| (v * 1e4).round() / 1e4),
                notes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_orders_and_validates() {
        let k = KernelCategories::from_json(
            r#"{"per_category": {"Zeta": 1, "NCCL": 30, "GEMM": 50, "attention": 19}}"#,
        )
        .unwrap();
        let order: Vec<&str> = k.ordered().into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, vec!["GEMM", "attention", "NCCL", "Zeta"]);
        assert!(matches!(
            KernelCategories::from_json(r#"{"per_category": {"A": -1}}"#),
            Err(KernelsError::BadCount { .. })
        ));
        assert_eq!(
            KernelCategories::from_json(r#"{"per_category": {"A": 0}}"#),
            Err(KernelsError::Empty)
        );
        assert!(matches!(
            KernelCategories::from_json(r#"{"categories": {}}"#),
            Err(KernelsError::Shape(_))
        ));
    }
}
