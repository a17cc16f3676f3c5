//! Hardware rows in the seed's format: `hw_key: {hw_name, <peak_key>: {value, units, dcgm_*}}`.

use super::error::CeilingsError;
use super::loader::Loader;
use super::model::{HwRow, Peak, PeakRole, PeakUnits, Sourced};
use super::precision::Precision;
use super::role::{dtype_from_key, mapping_problem, role_from_key, role_from_mapping};
use super::row_fields::{COMMON_ROW_FIELDS, finish_row, read_common_fields};
use super::yaml_tree::YamlNode;

/// Fields a peak entry may have.
const PEAK_FIELDS: [&str; 11] = [
    "value",
    "units",
    "per_direction",
    "role",
    "dtype",
    "aliases",
    "dcgm_metric",
    "dcgm_metrics_bytes",
    "dcgm_unit",
    "dcgm_fallback_metric",
    "source",
];

const UNITS_HINT: &str = "use TB/s, GB/s, PFLOPS, TFLOPS, POPS or TOPS";

/// Reads one seed-format row. Every mapping in the row is a peak entry.
pub(super) fn read_row(
    loader: &mut Loader,
    key: &str,
    node: &YamlNode,
) -> Result<HwRow, CeilingsError> {
    let entries = node.as_map().map_err(|reason| {
        loader.field_error(
            key,
            format!(
                "{reason}; a top-level key other than gpus, sources, category_ceiling_map and \
                 dcgm_config is a hardware row: `{key}: {{hw_name: ..., <peak_key>: {{value: ..., \
                 units: ...}}}}`"
            ),
        )
    })?;
    let mut row = HwRow::empty(key, loader.origin);
    read_common_fields(loader, &mut row, node, &[key])?;
    for (name, value) in entries {
        if COMMON_ROW_FIELDS.contains(&name.as_str()) {
            continue;
        }
        match value {
            YamlNode::Map(_) => row.peaks.push(read_peak(loader, key, name, value)?),
            _ => loader.warn(
                &format!("{key}.{name}"),
                format!(
                    "not a peak entry (a mapping with a value) nor a known row field; ignored. \
                     Row fields: {}",
                    COMMON_ROW_FIELDS.join(", ")
                ),
            ),
        }
    }
    if row.mem_type.is_none() {
        row.mem_type = mem_type_from_peak_keys(&row);
    }
    finish_row(loader, &mut row, key)?;
    Ok(row)
}

/// The memory technology named by the HBM peak's key (`hbm3e_tbps` → HBM3E), so the GDDR ECC
/// rule can apply to seed rows, which carry no `mem_type`.
fn mem_type_from_peak_keys(row: &HwRow) -> Option<Sourced<String>> {
    row.peaks_with_role(PeakRole::HbmBandwidth)
        .find_map(|peak| {
            let technology = peak.key.split('_').next()?.to_ascii_uppercase();
            (technology.starts_with("HBM") || technology.starts_with("GDDR")).then(|| Sourced {
                value: technology,
                source: Some(format!("inferred from the peak key {}", peak.key)),
            })
        })
}

/// The raw fields of one peak entry, checked for type but not yet for meaning.
struct PeakFields {
    value: f64,
    units: PeakUnits,
    per_direction: Option<f64>,
    role: Option<PeakRole>,
    dtype: Option<Precision>,
    aliases: Vec<String>,
    dcgm_metric: Option<String>,
    dcgm_metrics_bytes: Vec<String>,
    dcgm_unit: Option<String>,
    dcgm_fallback_metric: Option<String>,
    source: Option<String>,
}

fn read_peak(
    loader: &mut Loader,
    row_key: &str,
    peak_key: &str,
    node: &YamlNode,
) -> Result<Peak, CeilingsError> {
    let path = format!("{row_key}.{peak_key}");
    let fields = read_peak_fields(loader, &path, node)?;
    for (name, _) in node.as_map().unwrap_or_default() {
        if !PEAK_FIELDS.contains(&name.as_str()) {
            loader.warn(&format!("{path}.{name}"), "unknown peak field, ignored");
        }
    }

    let mapped_role = role_from_mapping(fields.dcgm_metric.as_deref(), &fields.dcgm_metrics_bytes);
    let keyed = role_from_key(peak_key);
    let role = fields
        .role
        .or(mapped_role)
        .or(keyed.map(|(role, _)| role))
        .unwrap_or(PeakRole::Other);
    if role == PeakRole::Other && fields.role.is_none() {
        loader.warn(
            &path,
            "role not recognised from the DCGM mapping or the key; kept as `other` and not used \
             for %SoL. Add `role:` (hbm_bandwidth, nvlink_bandwidth, pcie_bandwidth, \
             c2c_bandwidth, tensor_compute, vector_compute) to use it",
        );
    }
    let units_fit = role == PeakRole::Other
        || (role.is_bandwidth() && fields.units.is_bandwidth())
        || (role.is_compute() && !fields.units.is_bandwidth());
    if !units_fit {
        return Err(loader.peak_error(
            &format!("{path}.units"),
            format!(
                "units {} do not fit the peak's role {}; fix the units or set `role:`",
                fields.units.label(),
                role.as_str()
            ),
        ));
    }
    let dtype = fields.dtype.or_else(|| {
        role.is_compute()
            .then(|| {
                keyed
                    .and_then(|(_, dtype)| dtype)
                    .or_else(|| dtype_from_key(peak_key))
            })
            .flatten()
    });
    let per_direction = match fields.per_direction {
        Some(_) if !role.is_link() => {
            loader.warn(
                &format!("{path}.per_direction"),
                format!(
                    "ignored: only links have directions, and the role is {}",
                    role.as_str()
                ),
            );
            None
        }
        Some(one_way) if one_way > fields.value => {
            return Err(loader.peak_error(
                &format!("{path}.per_direction"),
                format!(
                    "{one_way} exceeds the bidirectional value {}; `value` is both directions \
                     added, `per_direction` one of them",
                    fields.value
                ),
            ));
        }
        other => other,
    };

    let mut peak = Peak {
        key: peak_key.to_string(),
        aliases: fields.aliases,
        value: fields.value,
        units: fields.units,
        per_direction,
        role,
        dtype,
        dcgm_metric: fields.dcgm_metric,
        dcgm_metrics_bytes: fields.dcgm_metrics_bytes,
        dcgm_unit: fields.dcgm_unit,
        dcgm_fallback_metric: fields.dcgm_fallback_metric,
        source: fields
            .source
            .or_else(|| loader.comment(&[row_key, peak_key])),
        weak: false,
    };
    drop_bad_mappings(loader, &path, &mut peak);
    Ok(peak)
}

fn read_peak_fields(
    loader: &Loader,
    path: &str,
    node: &YamlNode,
) -> Result<PeakFields, CeilingsError> {
    let at = |field: &str| format!("{path}.{field}");
    let optional = |field: &str| node.get(field);
    let text = |field: &str| {
        optional(field)
            .map(|value| {
                value
                    .as_text()
                    .map_err(|reason| loader.peak_error(&at(field), reason))
            })
            .transpose()
    };
    let text_list = |field: &str| {
        optional(field)
            .map(|value| {
                value
                    .as_text_list()
                    .map_err(|reason| loader.peak_error(&at(field), reason))
            })
            .transpose()
            .map(Option::unwrap_or_default)
    };

    let value = optional("value")
        .ok_or_else(|| {
            loader.peak_error(
                &at("value"),
                "missing; write the per-GPU peak as a number in `units`, e.g. {value: 8.0, units: TB/s}",
            )
        })?
        .as_positive_number()
        .map_err(|reason| {
            loader.peak_error(&at("value"), format!("{reason}; write the per-GPU peak as a number"))
        })?;
    let units_text = text("units")?
        .ok_or_else(|| loader.peak_error(&at("units"), format!("missing; {UNITS_HINT}")))?;
    let units = PeakUnits::parse(&units_text).ok_or_else(|| {
        loader.peak_error(
            &at("units"),
            format!("unknown units `{units_text}`; {UNITS_HINT}"),
        )
    })?;
    let per_direction = optional("per_direction")
        .map(|value| {
            value
                .as_positive_number()
                .map_err(|reason| loader.peak_error(&at("per_direction"), reason))
        })
        .transpose()?;
    let role = text("role")?
        .map(|name| {
            PeakRole::parse(&name).ok_or_else(|| {
                let known: Vec<&str> = PeakRole::ALL.iter().map(|role| role.as_str()).collect();
                loader.peak_error(
                    &at("role"),
                    format!("unknown role `{name}`; use one of {}", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let dtype = text("dtype")?
        .map(|name| {
            Precision::from_name(&name).ok_or_else(|| {
                loader.peak_error(
                    &at("dtype"),
                    format!("unknown dtype `{name}`; use fp4, fp6, fp8, int8, bf16, fp16, tf32, fp32 or fp64"),
                )
            })
        })
        .transpose()?;
    Ok(PeakFields {
        value,
        units,
        per_direction,
        role,
        dtype,
        aliases: text_list("aliases")?,
        dcgm_metric: text("dcgm_metric")?,
        dcgm_metrics_bytes: text_list("dcgm_metrics_bytes")?,
        dcgm_unit: text("dcgm_unit")?,
        dcgm_fallback_metric: text("dcgm_fallback_metric")?,
        source: text("source")?,
    })
}

/// Drops DCGM mappings that contradict the peak's role (framebuffer capacity as bandwidth,
/// CUDA-core pipes as tensor work, a field of another resource), with a warning each. The peak
/// itself stays: the maths takes its DCGM fields from the field catalog.
fn drop_bad_mappings(loader: &mut Loader, path: &str, peak: &mut Peak) {
    let role = peak.role;
    let mut check = |field: &str, metric: &str| -> bool {
        let problem = mapping_problem(role, metric);
        if let Some(problem) = &problem {
            loader.warn(
                &format!("{path}.{field}"),
                format!(
                    "mapping dropped: {problem}. The peak is kept; DCGM fields per role come from \
                     the field catalog"
                ),
            );
        }
        problem.is_none()
    };
    if let Some(metric) = peak.dcgm_metric.take() {
        if check("dcgm_metric", &metric) {
            peak.dcgm_metric = Some(metric);
        } else {
            peak.dcgm_unit = None;
        }
    }
    peak.dcgm_fallback_metric = peak
        .dcgm_fallback_metric
        .take()
        .filter(|metric| check("dcgm_fallback_metric", metric));
    let bytes = std::mem::take(&mut peak.dcgm_metrics_bytes);
    if bytes
        .iter()
        .all(|metric| check("dcgm_metrics_bytes", metric))
    {
        peak.dcgm_metrics_bytes = bytes;
    }
}

#[cfg(test)]
mod tests {
    use crate::ceilings::{Ceilings, CeilingsError, PeakRole, Precision};

    /// The seed's ceilings file, verbatim from the task.
    const SEED: &str = "b200_sm100:
  hw_name: NVIDIA B200
  hbm3e_tbps:        {value: 8.0,  units: TB/s,   dcgm_metric: DCGM_FI_PROF_DRAM_ACTIVE, dcgm_unit: ratio}
  nvlink5_tbps:      {value: 1.8,  units: TB/s,   dcgm_metrics_bytes: [DCGM_FI_PROF_NVLINK_TX_BYTES, DCGM_FI_PROF_NVLINK_RX_BYTES]}
  nvfp4_dense_pflops: {value: 9.0, units: PFLOPS, dcgm_metric: DCGM_FI_PROF_PIPE_TENSOR_ACTIVE, dcgm_unit: ratio}
category_ceiling_map: {NCCL: {metric: nvlink5_tbps, bound: bandwidth}, MoE: {metric: nvfp4_dense_pflops, bound: compute}}
dcgm_config: {min_sweep_seconds: 60, expected_scrape_interval_s: 15, prof_group_probe_metrics: [DCGM_FI_PROF_DRAM_ACTIVE, DCGM_FI_PROF_PIPE_TENSOR_ACTIVE]}
";

    #[test]
    fn the_seed_file_loads_unchanged() {
        let ceilings = Ceilings::from_yaml(SEED, "configs/sol-ceilings.yaml").unwrap();
        assert_eq!(ceilings.warnings(), &[]);
        let row = ceilings.row("b200_sm100").unwrap();
        assert_eq!(row.hw_name.as_deref(), Some("NVIDIA B200"));
        assert_eq!(row.origin, "configs/sol-ceilings.yaml");
        // 8.0 TB/s × 1e12 = 8.0e12 B/s.
        let hbm = row.peak("hbm3e_tbps").unwrap();
        assert_eq!(hbm.role, PeakRole::HbmBandwidth);
        assert_eq!(hbm.value_base(), 8.0e12);
        assert_eq!(hbm.dcgm_metric.as_deref(), Some("DCGM_FI_PROF_DRAM_ACTIVE"));
        // A TX+RX pair is both directions: 1.8 TB/s, so one direction = 1.8 / 2 = 0.9e12 B/s.
        let nvlink = row.peak("nvlink5_tbps").unwrap();
        assert_eq!(nvlink.role, PeakRole::NvlinkBandwidth);
        assert_eq!(nvlink.value_base(), 1.8e12);
        assert_eq!(nvlink.per_direction_base(), Some(0.9e12));
        // 9.0 PFLOPS × 1e15 = 9e15 FLOP/s, FP4 from the key prefix nvfp4.
        let nvfp4 = row.peak("nvfp4_dense_pflops").unwrap();
        assert_eq!(nvfp4.role, PeakRole::TensorCompute);
        assert_eq!(nvfp4.dtype, Some(Precision::Fp4));
        assert_eq!(nvfp4.value_base(), 9e15);
        // Peaks in role order: HBM, NVLink, tensor.
        let keys: Vec<&str> = row.peaks.iter().map(|peak| peak.key.as_str()).collect();
        assert_eq!(keys, ["hbm3e_tbps", "nvlink5_tbps", "nvfp4_dense_pflops"]);
        // The memory type is read off the HBM key.
        assert_eq!(row.mem_type.as_ref().unwrap().value, "HBM3E");
        assert_eq!(ceilings.category_ceiling_map().len(), 2);
        assert_eq!(ceilings.dcgm_config().min_sweep_seconds, 60.0);
    }

    #[test]
    fn bad_mappings_from_the_seed_tests_are_dropped_with_a_warning() {
        let text = "t_hw:
  hbm3_tbps: {value: 3.35, units: TB/s, dcgm_metric: DCGM_FI_DEV_FB_USED, dcgm_unit: MiB}
  bf16_dense_pflops: {value: 0.9894, units: PFLOPS, dcgm_metric: DCGM_FI_PROF_PIPE_FP16_ACTIVE, dcgm_fallback_metric: DCGM_FI_PROF_PIPE_TENSOR_ACTIVE}
";
        let ceilings = Ceilings::from_yaml(text, "seed-test.yaml").unwrap();
        let row = ceilings.row("t_hw").unwrap();
        let hbm = row.peak("hbm3_tbps").unwrap();
        assert_eq!(
            (
                hbm.role,
                hbm.dcgm_metric.as_deref(),
                hbm.dcgm_unit.as_deref()
            ),
            (PeakRole::HbmBandwidth, None, None)
        );
        let bf16 = row.peak("bf16_dense_pflops").unwrap();
        assert_eq!(bf16.role, PeakRole::TensorCompute);
        assert_eq!(bf16.dcgm_metric, None);
        assert_eq!(
            bf16.dcgm_fallback_metric.as_deref(),
            Some("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE")
        );
        let warnings: Vec<String> = ceilings
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0]
                .starts_with("seed-test.yaml: `t_hw.hbm3_tbps.dcgm_metric`: mapping dropped"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("framebuffer capacity"));
        assert!(
            warnings[1].contains("t_hw.bf16_dense_pflops.dcgm_metric"),
            "{}",
            warnings[1]
        );
        assert!(warnings[1].contains("non-tensor"));
    }

    fn peak_error(text: &str) -> (String, String) {
        match Ceilings::from_yaml(text, "c.yaml").unwrap_err() {
            CeilingsError::InvalidPeak {
                origin,
                path,
                reason,
            } => {
                assert_eq!(origin, "c.yaml");
                (path, reason)
            }
            other => panic!("expected InvalidPeak, got {other}"),
        }
    }

    #[test]
    fn unusable_peak_values_name_their_path() {
        let (path, reason) = peak_error("b200_sm100:\n  hbm3e_tbps: {value: fast, units: TB/s}\n");
        assert_eq!(path, "b200_sm100.hbm3e_tbps.value");
        assert!(reason.contains("`fast`"), "{reason}");
        let (path, _) = peak_error("r:\n  hbm3e_tbps: {value: 0, units: TB/s}\n");
        assert_eq!(path, "r.hbm3e_tbps.value");
        let (path, _) = peak_error("r:\n  hbm3e_tbps: {value: -8, units: TB/s}\n");
        assert_eq!(path, "r.hbm3e_tbps.value");
        let (path, _) = peak_error("r:\n  hbm3e_tbps: {units: TB/s}\n");
        assert_eq!(path, "r.hbm3e_tbps.value");
        let (path, reason) = peak_error("r:\n  hbm3e_tbps: {value: 8, units: furlongs}\n");
        assert_eq!(path, "r.hbm3e_tbps.units");
        assert!(reason.contains("TB/s, GB/s"), "{reason}");
        let (path, _) = peak_error("r:\n  hbm3e_tbps: {value: 8}\n");
        assert_eq!(path, "r.hbm3e_tbps.units");
        let (path, reason) = peak_error("r:\n  hbm3e_tbps: {value: 8, units: PFLOPS}\n");
        assert_eq!(path, "r.hbm3e_tbps.units");
        assert!(reason.contains("hbm_bandwidth"), "{reason}");
        let (path, _) = peak_error("r:\n  x: {value: 8, units: TB/s, role: bandwith}\n");
        assert_eq!(path, "r.x.role");
        let (path, _) =
            peak_error("r:\n  nvlink5_tbps: {value: 1.8, units: TB/s, per_direction: 2.0}\n");
        assert_eq!(path, "r.nvlink5_tbps.per_direction");
    }

    #[test]
    fn a_nan_value_is_refused() {
        // serde-saphyr refuses `.nan` itself, as a YAML error with its position.
        let err = Ceilings::from_yaml("r:\n  hbm3e_tbps: {value: .nan, units: TB/s}\n", "c.yaml")
            .unwrap_err();
        assert!(matches!(err, CeilingsError::Yaml { .. }), "{err}");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn explicit_role_dtype_and_per_direction_are_honoured() {
        let text = "r:
  link_a: {value: 100, units: GB/s, role: nvlink_bandwidth, per_direction: 60}
  mystery_pflops: {value: 2, units: PFLOPS, role: tensor_compute, dtype: fp8}
  widget: {value: 1, units: TB/s}
";
        let ceilings = Ceilings::from_yaml(text, "c.yaml").unwrap();
        let row = ceilings.row("r").unwrap();
        // 60 GB/s one way = 60e9 B/s (not half of 100).
        assert_eq!(row.peak("link_a").unwrap().per_direction_base(), Some(60e9));
        let tensor = row.peak("mystery_pflops").unwrap();
        assert_eq!(
            (tensor.role, tensor.dtype),
            (PeakRole::TensorCompute, Some(Precision::Fp8))
        );
        // An unrecognisable key is kept as `other`, with a warning saying how to use it.
        assert_eq!(row.peak("widget").unwrap().role, PeakRole::Other);
        assert_eq!(ceilings.warnings().len(), 1);
        assert!(
            ceilings.warnings()[0].message.contains("Add `role:`"),
            "{:?}",
            ceilings.warnings()
        );
    }

    #[test]
    fn a_mapping_of_another_resource_contradicting_an_explicit_role_is_dropped() {
        let text = "r:\n  x_tbps: {value: 1, units: TB/s, role: hbm_bandwidth, dcgm_metrics_bytes: [DCGM_FI_PROF_PCIE_TX_BYTES, DCGM_FI_PROF_PCIE_RX_BYTES]}\n";
        let ceilings = Ceilings::from_yaml(text, "c.yaml").unwrap();
        let peak = ceilings.row("r").unwrap().peak("x_tbps").unwrap();
        assert_eq!(peak.role, PeakRole::HbmBandwidth);
        assert!(peak.dcgm_metrics_bytes.is_empty());
        assert_eq!(ceilings.warnings()[0].path, "r.x_tbps.dcgm_metrics_bytes");
    }

    #[test]
    fn sources_come_from_the_field_or_the_line_comment() {
        let text = "r:
  hbm3_tbps: {value: 3.35, units: TB/s, source: datasheet}   # comment loses to the field
  nvlink4_tbps: {value: 0.9, units: TB/s}   # NV-H100
  boost_mhz: 1980   # OCL-GH200
";
        let ceilings = Ceilings::from_yaml(text, "c.yaml").unwrap();
        let row = ceilings.row("r").unwrap();
        assert_eq!(
            row.peak("hbm3_tbps").unwrap().source.as_deref(),
            Some("datasheet")
        );
        assert_eq!(
            row.peak("nvlink4_tbps").unwrap().source.as_deref(),
            Some("NV-H100")
        );
        assert_eq!(
            row.boost_mhz.as_ref().unwrap().source.as_deref(),
            Some("OCL-GH200")
        );
        // No tensor-peak clock: the boost clock is the reference.
        assert_eq!(
            row.tensor_clock_reference_mhz(),
            Some((1980.0, crate::ceilings::ClockBasis::BoostClock))
        );
    }

    #[test]
    fn a_row_that_is_not_a_mapping_is_refused_with_the_shape_to_write() {
        let err = Ceilings::from_yaml("b200: 8.0\n", "c.yaml").unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CeilingsError::InvalidField { .. }),
            "{message}"
        );
        assert!(
            message.contains("`b200`") && message.contains("hw_name"),
            "{message}"
        );
    }
}
