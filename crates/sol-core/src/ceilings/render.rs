//! Human text for `dcgm-sol ceilings list` and `ceilings show KEY`.

use std::fmt::Write as _;

use super::Ceilings;
use super::model::{ClockBasis, GddrEccCorrection, HwRow, Peak, PeakRole, Sourced};
use super::precision::Precision;

/// One line per row: key, aliases, name, origin and the HBM / NVLink / tensor headline peaks,
/// then where the file-level settings came from and any load warnings.
pub fn render_list(ceilings: &Ceilings) -> String {
    let header = [
        "KEY",
        "ALIASES",
        "NAME",
        "ORIGIN",
        "HBM",
        "NVLINK",
        "TENSOR (dense)",
    ];
    let lines: Vec<[String; 7]> = ceilings
        .rows()
        .iter()
        .map(|row| {
            [
                row.key.clone(),
                list_or_dash(&row.aliases),
                row.hw_name.clone().unwrap_or_else(|| "-".to_string()),
                row.origin.clone(),
                first_peak(row, PeakRole::HbmBandwidth),
                first_peak(row, PeakRole::NvlinkBandwidth),
                tensor_headline(row),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_cells = header.map(str::to_string);
    for cells in std::iter::once(&header_cells).chain(&lines) {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    }
    let _ = writeln!(
        out,
        "\ncategory_ceiling_map: {}",
        ceilings
            .category_ceiling_map_origin
            .as_deref()
            .map_or("none given".to_string(), |origin| format!("from {origin}"))
    );
    let _ = writeln!(
        out,
        "dcgm_config: {}",
        ceilings
            .dcgm_config_origin
            .as_deref()
            .map_or("defaults".to_string(), |origin| format!("from {origin}"))
    );
    render_warnings(&mut out, ceilings);
    out
}

/// Everything about one row: fields with sources, every peak with units, role, per-direction
/// value, DCGM mapping and source, weak flags, and the source tags resolved through `sources:`.
pub fn render_row(ceilings: &Ceilings, row: &HwRow) -> String {
    let mut out = String::new();
    let title = row
        .hw_name
        .as_deref()
        .map_or(String::new(), |name| format!(" — {name}"));
    let _ = writeln!(out, "{}{title}", row.key);
    let _ = writeln!(out, "origin: {}", row.origin);
    let _ = writeln!(out, "aliases: {}", list_or_dash(&row.aliases));
    if let Some(confidence) = &row.confidence {
        let note = confidence
            .source
            .as_deref()
            .map_or(String::new(), |note| format!(" ({note})"));
        let _ = writeln!(out, "confidence: {}{note}", confidence.value);
    }
    let _ = writeln!(out, "weak fields: {}", list_or_dash(&row.weak_fields));

    let _ = writeln!(out, "hardware:");
    let text_field = |sourced: &Option<Sourced<String>>| {
        sourced
            .as_ref()
            .map(|s| (s.value.clone(), s.source.clone()))
    };
    let number_field = |sourced: &Option<Sourced<f64>>, unit: &str| {
        sourced.as_ref().map(|s| {
            (
                format!("{}{unit}", format_number(s.value)),
                s.source.clone(),
            )
        })
    };
    let fields = [
        (
            "compute capability",
            "compute_capability",
            text_field(&row.compute_capability),
        ),
        ("SMs", "sm_count", number_field(&row.sm_count, "")),
        (
            "boost (max SM) clock",
            "boost_mhz",
            number_field(&row.boost_mhz, " MHz"),
        ),
        (
            "tensor peak clock",
            "tensor_peak_clock_mhz",
            number_field(&row.tensor_peak_clock_mhz, " MHz"),
        ),
        ("memory type", "mem_type", text_field(&row.mem_type)),
        ("memory size", "hbm_gb", number_field(&row.mem_gb, " GB")),
        (
            "max memory clock",
            "mem_clock_max_mhz",
            number_field(&row.mem_clock_max_mhz, " MHz"),
        ),
        ("TDP", "tdp_w", number_field(&row.tdp_w, " W")),
    ];
    for (label, field, value) in fields {
        let Some((value, source)) = value else {
            continue;
        };
        let weak = if row.weak_fields.iter().any(|weak| weak == field) {
            " (weak)"
        } else {
            ""
        };
        let source = source.map_or(String::new(), |source| format!("   [{source}]"));
        let _ = writeln!(out, "  {label:<21} {value}{weak}{source}");
    }
    let clock = match row.tensor_clock_reference_mhz() {
        Some((mhz, ClockBasis::TensorPeakClock)) => {
            format!("{} MHz (tensor_peak_clock_mhz)", format_number(mhz))
        }
        Some((mhz, ClockBasis::BoostClock)) => format!(
            "{} MHz (boost_mhz: no tensor-peak clock known, tensor %SoL may under-read)",
            format_number(mhz)
        ),
        None => "unknown: tensor %SoL cannot be clock-corrected".to_string(),
    };
    let _ = writeln!(out, "  tensor SoL clock reference: {clock}");
    let dram = match row.is_hopper_or_later() {
        Some(true) => "Hopper or later: a share of theoretical bandwidth as reported",
        Some(false) => "pre-Hopper: scale by memory clock / max memory clock",
        None => "compute capability unknown: memory-clock scaling undecided",
    };
    let ecc = match row.gddr_ecc_correction() {
        GddrEccCorrection::NotApplicable => "no GDDR ECC correction (HBM)",
        GddrEccCorrection::Apply => "GDDR ECC correction 8/9 applies",
        GddrEccCorrection::Unverified => {
            "GDDR ECC correction 8/9 unverified for this part: flagged"
        }
        GddrEccCorrection::UnknownMemoryType => {
            "memory type unknown: GDDR ECC correction undecided"
        }
    };
    let _ = writeln!(out, "  DRAM_ACTIVE: {dram}; {ecc}");

    let _ = writeln!(out, "peaks:");
    for peak in &row.peaks {
        render_peak(&mut out, peak);
    }

    let tags = source_tags(ceilings, row);
    if !tags.is_empty() {
        let _ = writeln!(out, "sources:");
        for (tag, description) in tags {
            let _ = writeln!(out, "  {tag}: {description}");
        }
    }
    out
}

fn render_peak(out: &mut String, peak: &Peak) {
    let units = peak.units_label();
    let mut headline = format!("  {} = {} {units}", peak.key, format_number(peak.value));
    if peak.role.is_link() {
        let one_way = peak.per_direction.unwrap_or(peak.value / 2.0);
        let derived = if peak.per_direction.is_none() {
            ", half of both"
        } else {
            ""
        };
        let _ = write!(
            headline,
            " both directions, {} {units} per direction{derived}",
            format_number(one_way)
        );
    }
    let _ = write!(headline, "   role {}", peak.role.as_str());
    if let Some(dtype) = peak.dtype {
        let _ = write!(headline, " {dtype}");
    }
    if peak.weak {
        headline.push_str("   (weak)");
    }
    let _ = writeln!(out, "{headline}");
    if !peak.aliases.is_empty() {
        let _ = writeln!(out, "      aliases: {}", peak.aliases.join(", "));
    }
    let mut mapping = Vec::new();
    if let Some(metric) = &peak.dcgm_metric {
        let unit = peak
            .dcgm_unit
            .as_deref()
            .map_or(String::new(), |unit| format!(" ({unit})"));
        mapping.push(format!("{metric}{unit}"));
    }
    if !peak.dcgm_metrics_bytes.is_empty() {
        mapping.push(format!("bytes {}", peak.dcgm_metrics_bytes.join(" + ")));
    }
    if let Some(fallback) = &peak.dcgm_fallback_metric {
        mapping.push(format!("fallback {fallback}"));
    }
    if !mapping.is_empty() {
        let _ = writeln!(out, "      DCGM mapping: {}", mapping.join("; "));
    }
    let source = peak.source.as_deref().unwrap_or("none given");
    let _ = writeln!(out, "      source: {source}");
}

fn render_warnings(out: &mut String, ceilings: &Ceilings) {
    if ceilings.warnings().is_empty() {
        return;
    }
    let _ = writeln!(out, "warnings:");
    for warning in ceilings.warnings() {
        let _ = writeln!(out, "  {warning}");
    }
}

/// `hbm3_tbps 3.35 TB/s` for the row's first peak of a role, `-` when it has none.
fn first_peak(row: &HwRow, role: PeakRole) -> String {
    row.peaks_with_role(role)
        .next()
        .map_or("-".to_string(), |peak| {
            format!(
                "{} {} {}",
                peak.key,
                format_number(peak.value),
                peak.units_label()
            )
        })
}

/// bf16 (else fp16) and the narrowest float format present (fp4, fp6 or fp8): the two figures a
/// reader compares. A row without either shows its first tensor peak.
fn tensor_headline(row: &HwRow) -> String {
    let tensor = || row.peaks_with_role(PeakRole::TensorCompute);
    let with_dtype = |dtype: Precision| tensor().find(|peak| peak.dtype == Some(dtype));
    let sixteen_bit = with_dtype(Precision::Bf16).or_else(|| with_dtype(Precision::Fp16));
    let narrowest = [Precision::Fp4, Precision::Fp6, Precision::Fp8]
        .into_iter()
        .find_map(with_dtype);
    let mut shown: Vec<&Peak> = sixteen_bit.into_iter().chain(narrowest).collect();
    if shown.is_empty() {
        shown.extend(tensor().next());
    }
    if shown.is_empty() {
        return "-".to_string();
    }
    shown
        .iter()
        .map(|peak| {
            let dtype = peak
                .dtype
                .map_or_else(|| peak.key.clone(), |dtype| dtype.to_string());
            format!(
                "{dtype} {} {}",
                format_number(peak.value),
                peak.units_label()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `sources:` entries named in the row's sources and field comments, in order of appearance.
fn source_tags<'c>(ceilings: &'c Ceilings, row: &HwRow) -> Vec<(&'c str, &'c str)> {
    let field_sources = [
        row.compute_capability
            .as_ref()
            .and_then(|s| s.source.as_deref()),
        row.mem_type.as_ref().and_then(|s| s.source.as_deref()),
        row.confidence.as_ref().and_then(|s| s.source.as_deref()),
    ]
    .into_iter()
    .chain(
        [
            &row.sm_count,
            &row.mem_gb,
            &row.boost_mhz,
            &row.tensor_peak_clock_mhz,
            &row.mem_clock_max_mhz,
            &row.tdp_w,
        ]
        .into_iter()
        .map(|field| field.as_ref().and_then(|s| s.source.as_deref())),
    );
    let peak_sources = row.peaks.iter().map(|peak| peak.source.as_deref());
    let mut tags: Vec<(&str, &str)> = Vec::new();
    for text in field_sources.chain(peak_sources).flatten() {
        let words = text.split(|ch: char| !(ch.is_ascii_alphanumeric() || "-/_~".contains(ch)));
        for word in words {
            let tag = word
                .trim_start_matches('~')
                .split('/')
                .next()
                .unwrap_or_default();
            if let Some((tag, description)) = ceilings.sources().get_key_value(tag)
                && !tags.iter().any(|(seen, _)| *seen == tag.as_str())
            {
                tags.push((tag, description));
            }
        }
    }
    tags
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

/// Up to six significant digits, trailing zeros dropped (0.9894, 3.35, 1980).
fn format_number(value: f64) -> String {
    let decimals = (5.0 - value.abs().log10().floor()).clamp(0.0, 9.0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_float_noise() {
        assert_eq!(format_number(989.4 / 1000.0), "0.9894");
        assert_eq!(format_number(3.35), "3.35");
        assert_eq!(format_number(1980.0), "1980");
        assert_eq!(format_number(0.45), "0.45");
        assert_eq!(format_number(153.5 / 1000.0), "0.1535");
    }

    #[test]
    fn list_has_one_line_per_row_with_headline_peaks() {
        let ceilings = Ceilings::builtin().unwrap();
        let text = render_list(&ceilings);
        // Header + 15 rows, then a blank line and the two settings lines.
        let table: Vec<&str> = text.lines().take_while(|line| !line.is_empty()).collect();
        assert_eq!(table.len(), 1 + ceilings.rows().len());
        let h100 = table
            .iter()
            .find(|line| line.starts_with("h100_sxm "))
            .unwrap();
        for expected in [
            "NVIDIA H100 80GB HBM3",
            "hbm3_tbps 3.35 TB/s",
            "nvlink4_tbps 0.9 TB/s",
            "bf16 0.9894 PFLOPS",
        ] {
            assert!(h100.contains(expected), "{expected} missing in {h100}");
        }
        let b200 = table
            .iter()
            .find(|line| line.starts_with("b200_hgx "))
            .unwrap();
        assert!(
            b200.contains("b200_sm100") && b200.contains("fp4 9 PFLOPS"),
            "{b200}"
        );
        assert!(text.contains("dcgm_config: defaults"));
        // A100 has no fp4/fp6/fp8: only bf16, never INT8 as the "narrowest" figure.
        let a100 = table
            .iter()
            .find(|line| line.starts_with("a100_sxm4_80gb "))
            .unwrap();
        assert!(a100.ends_with("bf16 0.312 PFLOPS"), "{a100}");
    }

    #[test]
    fn show_resolves_source_tags_and_lists_every_peak() {
        let ceilings = Ceilings::builtin().unwrap();
        let h100 = ceilings.row("h100_sxm").unwrap();
        let text = render_row(&ceilings, h100);
        assert!(
            text.starts_with("h100_sxm — NVIDIA H100 80GB HBM3\n"),
            "{text}"
        );
        for peak in &h100.peaks {
            assert!(
                text.contains(&format!("  {} = ", peak.key)),
                "{} missing",
                peak.key
            );
        }
        assert!(text.contains("nvlink4_tbps = 0.9 TB/s both directions, 0.45 TB/s per direction"));
        assert!(text.contains("tensor SoL clock reference: 1830 MHz (tensor_peak_clock_mhz)"));
        // The tag NV-H100 in the comments resolves to the datasheet description.
        assert!(
            text.contains("  NV-H100: NVIDIA H100 datasheet table"),
            "{text}"
        );
        // AIC/h100_sxm resolves through the AIC tag.
        assert!(text.contains("  AIC: ai-dynamo/aiconfigurator"), "{text}");
    }

    #[test]
    fn show_marks_weak_values_and_confidence() {
        let ceilings = Ceilings::builtin().unwrap();
        let text = render_row(&ceilings, ceilings.row("b300_hgx").unwrap());
        assert!(text.contains("confidence: medium"));
        assert!(
            text.contains("boost (max SM) clock  2032 MHz (weak)"),
            "{text}"
        );
        let nvfp4 = text
            .lines()
            .find(|line| line.contains("nvfp4_dense_pflops = "))
            .unwrap();
        assert!(nvfp4.ends_with("(weak)"), "{nvfp4}");
    }

    #[test]
    fn show_prints_a_seed_rows_dcgm_mapping() {
        let seed = Ceilings::from_yaml(
            "b200_sm100:\n  hw_name: NVIDIA B200\n  nvlink5_tbps: {value: 1.8, units: TB/s, \
             dcgm_metrics_bytes: [DCGM_FI_PROF_NVLINK_TX_BYTES, DCGM_FI_PROF_NVLINK_RX_BYTES]}\n",
            "seed.yaml",
        )
        .unwrap();
        let text = render_row(&seed, seed.row("b200_sm100").unwrap());
        assert!(text.contains(
            "DCGM mapping: bytes DCGM_FI_PROF_NVLINK_TX_BYTES + DCGM_FI_PROF_NVLINK_RX_BYTES"
        ));
        assert!(
            text.contains("0.9 TB/s per direction, half of both"),
            "{text}"
        );
        assert!(text.contains("source: none given"));
    }
}
