//! Rows of the default table's schema (`gpus:` with flat fields such as `hbm_tbps`,
//! `nvlink_bidir_gbps`, `bf16_dense_tflops`), converted to peaks named like the seed's
//! (`hbm3_tbps`, `nvlink4_tbps`, `bf16_dense_pflops`), each keeping its line-comment source.

use super::error::CeilingsError;
use super::loader::Loader;
use super::model::{HwRow, Peak, PeakRole, PeakUnits};
use super::precision::Precision;
use super::row_fields::{COMMON_ROW_FIELDS, finish_row, read_common_fields};
use super::yaml_tree::YamlNode;

/// A compute field of the table and the peak it becomes.
struct ComputeField {
    field: &'static str,
    key: &'static str,
    units: PeakUnits,
    role: PeakRole,
    dtype: Precision,
}

/// Table fields are in TFLOPS / TOPS; dense tensor peaks are keyed in PFLOPS / POPS like the
/// seed's `nvfp4_dense_pflops`, with the table's name kept as an alias.
const COMPUTE_FIELDS: [ComputeField; 10] = [
    tensor(
        "nvfp4_dense_tflops",
        "nvfp4_dense_pflops",
        PeakUnits::Pflops,
        Precision::Fp4,
    ),
    tensor(
        "fp6_dense_tflops",
        "fp6_dense_pflops",
        PeakUnits::Pflops,
        Precision::Fp6,
    ),
    tensor(
        "fp8_dense_tflops",
        "fp8_dense_pflops",
        PeakUnits::Pflops,
        Precision::Fp8,
    ),
    tensor(
        "int8_dense_tops",
        "int8_dense_pops",
        PeakUnits::Pops,
        Precision::Int8,
    ),
    tensor(
        "bf16_dense_tflops",
        "bf16_dense_pflops",
        PeakUnits::Pflops,
        Precision::Bf16,
    ),
    tensor(
        "fp16_dense_tflops",
        "fp16_dense_pflops",
        PeakUnits::Pflops,
        Precision::Fp16,
    ),
    tensor(
        "tf32_dense_tflops",
        "tf32_dense_pflops",
        PeakUnits::Pflops,
        Precision::Tf32,
    ),
    tensor(
        "fp64_tensor_tflops",
        "fp64_tensor_tflops",
        PeakUnits::Tflops,
        Precision::Fp64,
    ),
    ComputeField {
        field: "fp32_tflops",
        key: "fp32_tflops",
        units: PeakUnits::Tflops,
        role: PeakRole::VectorCompute,
        dtype: Precision::Fp32,
    },
    ComputeField {
        field: "fp64_tflops",
        key: "fp64_tflops",
        units: PeakUnits::Tflops,
        role: PeakRole::VectorCompute,
        dtype: Precision::Fp64,
    },
];

const fn tensor(
    field: &'static str,
    key: &'static str,
    units: PeakUnits,
    dtype: Precision,
) -> ComputeField {
    ComputeField {
        field,
        key,
        units,
        role: PeakRole::TensorCompute,
        dtype,
    }
}

/// Fields the table writes without a source comment because they repeat a sibling's figure
/// (NVIDIA quotes BF16/FP16 and FP8/FP6 in one datasheet row): they take the sibling's source
/// when the values agree.
const SAME_FIGURE_AS: [(&str, &str); 2] = [
    ("fp16_dense_tflops", "bf16_dense_tflops"),
    ("fp6_dense_tflops", "fp8_dense_tflops"),
];

/// Link and memory fields: read by the code below, listed here so they are not reported unknown.
const LINK_FIELDS: [&str; 8] = [
    "hbm_tbps",
    "nvlink_gen",
    "nvlink_links",
    "nvlink_bidir_gbps",
    "nvlink_unidir_gbps",
    "pcie_gen",
    "pcie_unidir_gbps",
    "c2c_bidir_gbps",
];

/// Reads the `gpus:` mapping.
pub(super) fn read_gpus(loader: &mut Loader, gpus: &YamlNode) -> Result<Vec<HwRow>, CeilingsError> {
    let entries = gpus.as_map().map_err(|reason| {
        loader.field_error("gpus", format!("{reason}; gpus maps row keys to rows"))
    })?;
    entries
        .iter()
        .map(|(key, node)| read_gpu(loader, key, node))
        .collect()
}

fn read_gpu(loader: &mut Loader, key: &str, node: &YamlNode) -> Result<HwRow, CeilingsError> {
    let row_path = format!("gpus.{key}");
    let entries = node
        .as_map()
        .map_err(|reason| loader.field_error(&row_path, reason))?;
    let mut row = HwRow::empty(key, loader.origin);
    read_common_fields(loader, &mut row, node, &["gpus", key])?;
    if row.hw_name.is_none() {
        row.hw_name = row.model_match.as_ref().and_then(|rule| {
            rule.device_names
                .first()
                .or(rule.device_names_prefix.first())
                .cloned()
        });
    }
    for (name, _) in entries {
        let known = COMMON_ROW_FIELDS.contains(&name.as_str())
            || LINK_FIELDS.contains(&name.as_str())
            || COMPUTE_FIELDS.iter().any(|compute| compute.field == name);
        if !known {
            loader.warn(&format!("{row_path}.{name}"), "unknown field, ignored");
        }
    }

    let gpu = GpuFields {
        loader,
        node,
        key,
        row_path: &row_path,
        weak_fields: &row.weak_fields,
    };
    let mut peaks = Vec::new();
    peaks.extend(gpu.memory_peak(row.mem_type.as_ref().map(|mem| mem.value.as_str()))?);
    peaks.extend(gpu.link_peak(LinkSpec {
        name: "nvlink",
        generation_field: Some("nvlink_gen"),
        bidir_field: Some("nvlink_bidir_gbps"),
        unidir_field: Some("nvlink_unidir_gbps"),
        units: PeakUnits::TbPerS,
        key_suffix: "tbps",
        role: PeakRole::NvlinkBandwidth,
    })?);
    peaks.extend(gpu.link_peak(LinkSpec {
        name: "pcie",
        generation_field: Some("pcie_gen"),
        bidir_field: None,
        unidir_field: Some("pcie_unidir_gbps"),
        units: PeakUnits::GbPerS,
        key_suffix: "gbps",
        role: PeakRole::PcieBandwidth,
    })?);
    peaks.extend(gpu.link_peak(LinkSpec {
        name: "c2c",
        generation_field: None,
        bidir_field: Some("c2c_bidir_gbps"),
        unidir_field: None,
        units: PeakUnits::GbPerS,
        key_suffix: "gbps",
        role: PeakRole::C2cBandwidth,
    })?);
    for compute in &COMPUTE_FIELDS {
        peaks.extend(gpu.compute_peak(compute)?);
    }
    row.peaks = peaks;
    finish_row(loader, &mut row, &row_path)?;
    Ok(row)
}

/// A link of the table: bidirectional and/or per-direction fields in GB/s.
struct LinkSpec {
    name: &'static str,
    generation_field: Option<&'static str>,
    bidir_field: Option<&'static str>,
    unidir_field: Option<&'static str>,
    units: PeakUnits,
    key_suffix: &'static str,
    role: PeakRole,
}

/// One GPU entry being converted.
struct GpuFields<'r, 'a> {
    loader: &'r Loader<'a>,
    node: &'r YamlNode,
    key: &'r str,
    row_path: &'r str,
    weak_fields: &'r [String],
}

impl GpuFields<'_, '_> {
    /// A positive number, or `None` when the field is absent or null (not a peak of this part).
    fn number(&self, field: &str) -> Result<Option<f64>, CeilingsError> {
        self.node
            .get(field)
            .map(|value| {
                value.as_positive_number().map_err(|reason| {
                    self.loader
                        .peak_error(&format!("{}.{field}", self.row_path), reason)
                })
            })
            .transpose()
    }

    fn comment(&self, field: &str) -> Option<String> {
        self.loader.comment(&["gpus", self.key, field])
    }

    fn is_weak(&self, field: &str) -> bool {
        self.weak_fields.iter().any(|weak| weak == field)
    }

    /// `hbm_tbps` as `<mem_type>_tbps` (`hbm3e_tbps`, `gddr6_tbps`), alias `hbm_tbps`.
    fn memory_peak(&self, mem_type: Option<&str>) -> Result<Option<Peak>, CeilingsError> {
        let Some(value) = self.number("hbm_tbps")? else {
            return Ok(None);
        };
        let key = mem_type.map_or_else(
            || "hbm_tbps".to_string(),
            |mem| format!("{}_tbps", mem.to_ascii_lowercase()),
        );
        let mut peak = new_peak(&key, value, PeakUnits::TbPerS, PeakRole::HbmBandwidth, None);
        peak.aliases = alias_if_different(&key, "hbm_tbps");
        peak.source = self.comment("hbm_tbps");
        peak.weak = self.is_weak("hbm_tbps");
        Ok(Some(peak))
    }

    /// A link peak: value both directions added (the table's bidirectional figure, else twice the
    /// per-direction one), per direction from the per-direction field.
    fn link_peak(&self, spec: LinkSpec) -> Result<Option<Peak>, CeilingsError> {
        let field_value = |field: Option<&str>| -> Result<Option<f64>, CeilingsError> {
            field.map_or(Ok(None), |field| self.number(field))
        };
        let bidir_gbps = field_value(spec.bidir_field)?;
        let unidir_gbps = field_value(spec.unidir_field)?;
        let Some(value_gbps) = bidir_gbps.or(unidir_gbps.map(|one_way| 2.0 * one_way)) else {
            return Ok(None);
        };
        let generation = match spec.generation_field {
            Some(field) => self.generation(field)?,
            None => None,
        };
        let generic_key = format!("{}_{}", spec.name, spec.key_suffix);
        let key = generation.map_or_else(
            || generic_key.clone(),
            |generation| format!("{}{generation}_{}", spec.name, spec.key_suffix),
        );
        // Divide by the exact unit ratio (1000 or 1) so 900 GB/s reads as exactly 0.9 TB/s.
        let gbps_per_unit = spec.units.base_per_unit() / PeakUnits::GbPerS.base_per_unit();
        let mut peak = new_peak(
            &key,
            value_gbps / gbps_per_unit,
            spec.units,
            spec.role,
            None,
        );
        peak.per_direction = unidir_gbps.map(|one_way| one_way / gbps_per_unit);
        peak.aliases = alias_if_different(&key, &generic_key);
        let mut sources = Vec::new();
        for (field, label) in [
            (
                spec.bidir_field.filter(|_| bidir_gbps.is_some()),
                "both directions",
            ),
            (
                spec.unidir_field.filter(|_| unidir_gbps.is_some()),
                "per direction",
            ),
        ] {
            if let Some(field) = field {
                if let Some(comment) = self.comment(field) {
                    sources.push(format!("{label}: {comment}"));
                }
                peak.weak |= self.is_weak(field);
            }
        }
        if bidir_gbps.is_none() {
            sources.insert(0, "both directions: 2 × per direction".to_string());
        }
        peak.source = (!sources.is_empty()).then(|| sources.join("; "));
        Ok(Some(peak))
    }

    /// A generation number (`nvlink_gen: 5`) as written in peak keys.
    fn generation(&self, field: &str) -> Result<Option<u32>, CeilingsError> {
        self.node
            .get(field)
            .map(|value| {
                let number = value
                    .as_positive_number()
                    .ok()
                    .filter(|n| n.fract() == 0.0 && *n < 100.0);
                number.map(|n| n as u32).ok_or_else(|| {
                    self.loader.field_error(
                        &format!("{}.{field}", self.row_path),
                        format!("{} is not a generation number such as 5", value.describe()),
                    )
                })
            })
            .transpose()
    }

    fn compute_peak(&self, compute: &ComputeField) -> Result<Option<Peak>, CeilingsError> {
        let Some(table_value) = self.number(compute.field)? else {
            return Ok(None);
        };
        // Table values are T(FL)OPS; P(FL)OPS keys hold a thousandth of them (exact ratio 1000).
        let tera_per_unit = compute.units.base_per_unit() / PeakUnits::Tflops.base_per_unit();
        let value = table_value / tera_per_unit;
        let mut peak = new_peak(
            compute.key,
            value,
            compute.units,
            compute.role,
            Some(compute.dtype),
        );
        peak.aliases = alias_if_different(compute.key, compute.field);
        peak.source = self
            .comment(compute.field)
            .or_else(|| self.sibling_source(compute.field, table_value));
        peak.weak = self.is_weak(compute.field);
        Ok(Some(peak))
    }

    /// The source of the sibling whose figure this uncommented field repeats.
    fn sibling_source(&self, field: &str, value: f64) -> Option<String> {
        let (_, sibling) = SAME_FIGURE_AS.iter().find(|(name, _)| *name == field)?;
        let same_value = self
            .node
            .get(sibling)
            .and_then(|node| node.as_number().ok())
            == Some(value);
        let comment = self.comment(sibling).filter(|_| same_value)?;
        Some(format!("same figure as {sibling}: {comment}"))
    }
}

fn new_peak(
    key: &str,
    value: f64,
    units: PeakUnits,
    role: PeakRole,
    dtype: Option<Precision>,
) -> Peak {
    Peak {
        key: key.to_string(),
        aliases: Vec::new(),
        value,
        units,
        per_direction: None,
        role,
        dtype,
        dcgm_metric: None,
        dcgm_metrics_bytes: Vec::new(),
        dcgm_unit: None,
        dcgm_fallback_metric: None,
        source: None,
        weak: false,
    }
}

fn alias_if_different(key: &str, alias: &str) -> Vec<String> {
    if key == alias {
        Vec::new()
    } else {
        vec![alias.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use crate::ceilings::{Ceilings, CeilingsError, PeakRole, Precision};

    const USER_TABLE: &str = "gpus:
  site_h100:
    match: { device_names: [\"NVIDIA H100 80GB HBM3\"], compute_capability: 9.0 }
    mem_type: HBM3
    hbm_tbps: 2.4                 # fleet variant, measured
    nvlink_gen: 4
    nvlink_bidir_gbps: 900
    nvlink_unidir_gbps: 400       # made-up asymmetric figure
    pcie_gen: null
    pcie_unidir_gbps: null
    bf16_dense_tflops: 989.4      # NV-H100
    fp8_dense_tflops: null
    colour: blue
";

    #[test]
    fn a_user_table_in_the_rich_schema_loads() {
        let ceilings = Ceilings::from_yaml(USER_TABLE, "fleet.yaml").unwrap();
        let row = ceilings.row("site_h100").unwrap();
        assert_eq!(row.hw_name.as_deref(), Some("NVIDIA H100 80GB HBM3"));
        let rule = row.model_match.as_ref().unwrap();
        assert_eq!(rule.compute_capability.as_deref(), Some("9.0"));
        assert_eq!(row.peak("hbm3_tbps").unwrap().value_base(), 2.4e12);
        // The per-direction field is read, not derived: 400 GB/s = 0.4e12 B/s, while both
        // directions stay 900 GB/s = 0.9e12 B/s.
        let nvlink = row.peak("nvlink4_tbps").unwrap();
        assert_eq!(nvlink.value_base(), 0.9e12);
        assert_eq!(nvlink.per_direction_base(), Some(0.4e12));
        // Nulls are not peaks: no PCIe, no FP8.
        assert_eq!(row.peaks_with_role(PeakRole::PcieBandwidth).count(), 0);
        let tensor: Vec<_> = row.peaks_with_role(PeakRole::TensorCompute).collect();
        assert_eq!(tensor.len(), 1);
        assert_eq!(tensor[0].dtype, Some(Precision::Bf16));
        assert_eq!(tensor[0].source.as_deref(), Some("NV-H100"));
        // The unknown field is reported, not silently dropped.
        assert_eq!(ceilings.warnings().len(), 1);
        assert_eq!(ceilings.warnings()[0].path, "gpus.site_h100.colour");
    }

    #[test]
    fn a_bad_number_in_the_rich_schema_names_its_path() {
        let text = "gpus:\n  x:\n    hbm_tbps: fast\n";
        let err = Ceilings::from_yaml(text, "fleet.yaml").unwrap_err();
        let CeilingsError::InvalidPeak { path, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(path, "gpus.x.hbm_tbps");
        let text = "gpus:\n  x:\n    nvlink_gen: 4.5\n    nvlink_bidir_gbps: 900\n";
        let err = Ceilings::from_yaml(text, "fleet.yaml").unwrap_err();
        assert!(err.to_string().contains("gpus.x.nvlink_gen"), "{err}");
    }

    #[test]
    fn a_link_with_only_a_per_direction_figure_doubles_it() {
        // pcie_unidir_gbps 32, no generation: key pcie_gbps, both directions 2 × 32 = 64 GB/s.
        let ceilings =
            Ceilings::from_yaml("gpus:\n  x:\n    pcie_unidir_gbps: 32  # AIC\n", "f.yaml")
                .unwrap();
        let pcie = ceilings.row("x").unwrap().peak("pcie_gbps").unwrap();
        assert_eq!(pcie.value_base(), 64e9);
        assert_eq!(pcie.per_direction_base(), Some(32e9));
        assert_eq!(
            pcie.source.as_deref(),
            Some("both directions: 2 × per direction; per direction: AIC")
        );
    }
}
