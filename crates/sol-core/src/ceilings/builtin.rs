//! The default table shipped in the binary (`assets/sol-ceilings.default.yaml`, a byte copy of
//! reference/sol-ceilings.default.yaml).

use super::error::CeilingsError;
use super::{Ceilings, loader};

/// The embedded default table.
const DEFAULT_TABLE_YAML: &str = include_str!("../../assets/sol-ceilings.default.yaml");

/// Origin recorded for built-in rows.
pub const BUILTIN_ORIGIN: &str = "built-in (sol-ceilings.default.yaml)";

/// Keys other tools use for a built-in row (aiconfigurator names its A100 system `a100_sxm`).
const EXTRA_ALIASES: [(&str, &str); 1] = [("a100_sxm", "a100_sxm4_80gb")];

impl Ceilings {
    /// The built-in default table.
    pub fn builtin() -> Result<Ceilings, CeilingsError> {
        let mut ceilings = loader::load(DEFAULT_TABLE_YAML, BUILTIN_ORIGIN)?;
        for (alias, key) in EXTRA_ALIASES {
            if let Some(row) = ceilings.rows.iter_mut().find(|row| row.key == key) {
                row.aliases.push(alias.to_string());
            }
        }
        loader::check_unique_names(&ceilings.rows, BUILTIN_ORIGIN)?;
        Ok(ceilings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceilings::{ClockBasis, PeakRole, PeakUnits};

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected.abs() * 1e-12
    }

    #[test]
    fn loads_without_warnings_and_answers_to_the_required_keys() {
        let ceilings = Ceilings::builtin().unwrap();
        assert_eq!(ceilings.warnings(), &[]);
        for key in [
            "h100_sxm",
            "h200_sxm",
            "b200_sm100",
            "gb300_nvl72",
            "a100_sxm",
        ] {
            assert!(ceilings.row(key).is_ok(), "{key}");
        }
        // 15 GPUs in the table: a100 ×2, h100 ×3, h200, gh200 ×2, b200, gb200, b300, gb300,
        // l40s, l4, rtx pro 6000 = 2 + 3 + 1 + 2 + 4 + 3.
        assert_eq!(ceilings.rows().len(), 15);
        assert_eq!(ceilings.row("a100_sxm").unwrap().key, "a100_sxm4_80gb");
    }

    #[test]
    fn h100_sxm_peaks_in_base_units() {
        let ceilings = Ceilings::builtin().unwrap();
        let h100 = ceilings.row("h100_sxm").unwrap();
        // hbm_tbps 3.35 with mem_type HBM3 → hbm3_tbps = 3.35 TB/s = 3.35e12 B/s.
        let hbm = h100.peak("hbm3_tbps").unwrap();
        assert!(close(hbm.value_base(), 3.35e12));
        assert_eq!(h100.peak("hbm_tbps"), Some(hbm));
        // nvlink_bidir_gbps 900 → 0.9 TB/s = 0.9e12 B/s; nvlink_unidir_gbps 450 → 0.45e12 B/s.
        let nvlink = h100.peak("nvlink4_tbps").unwrap();
        assert_eq!(nvlink.units, PeakUnits::TbPerS);
        assert!(close(nvlink.value, 0.9));
        assert!(close(nvlink.value_base(), 0.9e12));
        assert!(close(nvlink.per_direction_base().unwrap(), 0.45e12));
        // pcie_unidir_gbps 64 → both directions 2 × 64 = 128 GB/s = 128e9 B/s; one way 64e9.
        let pcie = h100.peak("pcie5_gbps").unwrap();
        assert_eq!(pcie.role, PeakRole::PcieBandwidth);
        assert!(close(pcie.value_base(), 128e9));
        assert!(close(pcie.per_direction_base().unwrap(), 64e9));
        // bf16_dense_tflops 989.4 → 0.9894 PFLOPS = 989.4e12 FLOP/s.
        let bf16 = h100.peak("bf16_dense_pflops").unwrap();
        assert!(close(bf16.value_base(), 989.4e12));
        assert_eq!(h100.peak("bf16_dense_tflops"), Some(bf16));
        // The tensor peaks are quoted at 1830 MHz, the max SM clock is 1980 MHz.
        assert_eq!(
            h100.tensor_clock_reference_mhz(),
            Some((1830.0, ClockBasis::TensorPeakClock))
        );
        assert_eq!(h100.boost_mhz.as_ref().unwrap().value, 1980.0);
        // No FP4 on Hopper (nvfp4_dense_tflops: null) → no peak.
        assert_eq!(h100.peak("nvfp4_dense_pflops"), None);
        assert_eq!(h100.is_hopper_or_later(), Some(true));
    }

    #[test]
    fn b200_sm100_resolves_to_b200_hgx() {
        let ceilings = Ceilings::builtin().unwrap();
        let b200 = ceilings.row("b200_sm100").unwrap();
        assert_eq!(b200.key, "b200_hgx");
        // hbm_tbps 7.7 (HGX pick, not the seed's 8.0) under mem_type HBM3e.
        assert!(close(b200.peak("hbm3e_tbps").unwrap().value, 7.7));
        // NVLink 5: 1800 GB/s both directions = 1.8 TB/s.
        assert!(close(b200.peak("nvlink5_tbps").unwrap().value, 1.8));
        // nvfp4_dense_tflops 9000 → 9.0 PFLOPS.
        assert!(close(b200.peak("nvfp4_dense_pflops").unwrap().value, 9.0));
        assert!(close(b200.peak("fp8_dense_pflops").unwrap().value, 4.5));
        assert!(close(b200.peak("bf16_dense_pflops").unwrap().value, 2.25));
    }

    #[test]
    fn gb300_nvfp4_is_the_published_dense_value() {
        let ceilings = Ceilings::builtin().unwrap();
        let gb300 = ceilings.row("gb300_nvl72").unwrap();
        // 15 PF dense as published, NOT the 20 PF sparse figure halved (10).
        assert!(close(gb300.peak("nvfp4_dense_pflops").unwrap().value, 15.0));
        // No boost clock in the table: the tensor-peak clock 2008 MHz is the reference.
        assert_eq!(
            gb300.tensor_clock_reference_mhz(),
            Some((2008.0, ClockBasis::TensorPeakClock))
        );
    }

    #[test]
    fn memory_type_names_the_hbm_peak() {
        let ceilings = Ceilings::builtin().unwrap();
        let hbm_key = |row: &str| {
            let row = ceilings.row(row).unwrap();
            row.peaks_with_role(PeakRole::HbmBandwidth)
                .next()
                .unwrap()
                .key
                .clone()
        };
        assert_eq!(hbm_key("h200_sxm"), "hbm3e_tbps");
        assert_eq!(hbm_key("a100_sxm"), "hbm2e_tbps");
        assert_eq!(hbm_key("l40s"), "gddr6_tbps");
        // L40S (GDDR6, CC 8.9) needs the 8/9 ECC correction; H100 (HBM3) does not.
        assert!(ceilings.row("l40s").unwrap().needs_gddr_ecc_correction());
        assert!(
            !ceilings
                .row("h100_sxm")
                .unwrap()
                .needs_gddr_ecc_correction()
        );
    }

    #[test]
    fn null_links_are_not_peaks() {
        let ceilings = Ceilings::builtin().unwrap();
        // L40S: nvlink_bidir_gbps null; GH200: pcie_unidir_gbps null but C2C 900 GB/s.
        let l40s = ceilings.row("l40s").unwrap();
        assert_eq!(l40s.peaks_with_role(PeakRole::NvlinkBandwidth).count(), 0);
        let gh200 = ceilings.row("gh200_144gb").unwrap();
        assert_eq!(gh200.peaks_with_role(PeakRole::PcieBandwidth).count(), 0);
        let c2c = gh200.peak("c2c_gbps").unwrap();
        assert!(close(c2c.value_base(), 900e9));
        // No per-direction figure in the table: half of 900 GB/s = 450e9 B/s.
        assert!(close(c2c.per_direction_base().unwrap(), 450e9));
    }

    /// The one HBM/link/tensor number the shared table leaves without a source comment: the
    /// a100_sxm4_40gb compute block is copied from the 80 GB part (its `confidence:` comment says
    /// so) and its FP64-tensor line has no comment and no same-figure sibling.
    const KNOWN_UNSOURCED: [(&str, &str); 1] = [("a100_sxm4_40gb", "fp64_tensor_tflops")];

    #[test]
    fn every_bandwidth_and_tensor_peak_keeps_its_source() {
        let ceilings = Ceilings::builtin().unwrap();
        let mut unsourced = Vec::new();
        for row in ceilings.rows() {
            for peak in &row.peaks {
                let checked = peak.role.is_bandwidth() || peak.role == PeakRole::TensorCompute;
                let sourced = peak
                    .source
                    .as_deref()
                    .is_some_and(|source| !source.trim().is_empty());
                if checked && !sourced {
                    unsourced.push((row.key.as_str(), peak.key.as_str()));
                }
            }
        }
        assert_eq!(unsourced, KNOWN_UNSOURCED);
    }

    #[test]
    fn sources_come_from_the_line_comments() {
        let ceilings = Ceilings::builtin().unwrap();
        let h100 = ceilings.row("h100_sxm").unwrap();
        assert_eq!(
            h100.peak("hbm3_tbps").unwrap().source.as_deref(),
            Some("NV-H100; AIC/h100_sxm 3.35e12")
        );
        let nvlink = h100.peak("nvlink4_tbps").unwrap().source.clone().unwrap();
        assert!(
            nvlink.starts_with("both directions: NV-H100; per direction: AIC/h100_sxm"),
            "{nvlink}"
        );
        // H200's fp16 line has no comment of its own; it repeats bf16's figure and takes its source.
        let h200 = ceilings.row("h200_sxm").unwrap();
        let fp16 = h200
            .peak("fp16_dense_pflops")
            .unwrap()
            .source
            .clone()
            .unwrap();
        assert!(
            fp16.starts_with("same figure as bf16_dense_tflops: NV-H200 1979"),
            "{fp16}"
        );
        assert_eq!(
            h100.tensor_peak_clock_mhz
                .as_ref()
                .unwrap()
                .source
                .as_deref(),
            Some(
                "KLOCK-H100 \"1.83 GHz (low precision), 1.98 GHz (high precision)\"; DERIVED 1829.9"
            )
        );
        assert!(ceilings.sources().contains_key("NV-H100"));
    }

    #[test]
    fn weak_fields_mark_their_peaks() {
        let ceilings = Ceilings::builtin().unwrap();
        let b300 = ceilings.row("b300_hgx").unwrap();
        assert!(b300.peak("nvfp4_dense_pflops").unwrap().weak);
        assert!(b300.peak("hbm3e_tbps").unwrap().weak);
        assert!(!b300.peak("bf16_dense_pflops").unwrap().weak);
    }
}
