//! What a peak is the ceiling of, read from its DCGM mapping or its key, and which mappings are
//! known to be wrong.

use super::model::PeakRole;
use super::precision::Precision;

/// The role a DCGM field measures, for the fields that name one.
pub(super) fn role_from_metric(metric: &str) -> Option<PeakRole> {
    if metric == "DCGM_FI_PROF_DRAM_ACTIVE" {
        Some(PeakRole::HbmBandwidth)
    } else if metric.starts_with("DCGM_FI_PROF_PIPE_TENSOR") {
        Some(PeakRole::TensorCompute)
    } else if metric.contains("_NVLINK_") {
        Some(PeakRole::NvlinkBandwidth)
    } else if metric.contains("_PCIE_") {
        Some(PeakRole::PcieBandwidth)
    } else if metric.contains("_C2C_") {
        Some(PeakRole::C2cBandwidth)
    } else {
        None
    }
}

/// The role implied by a peak's DCGM mapping: its `dcgm_metric`, else a bytes pair whose members
/// all name the same link.
pub(super) fn role_from_mapping(metric: Option<&str>, bytes: &[String]) -> Option<PeakRole> {
    if let Some(role) = metric.and_then(role_from_metric) {
        return Some(role);
    }
    let first = role_from_metric(bytes.first()?)?;
    let agree = bytes
        .iter()
        .all(|name| role_from_metric(name) == Some(first));
    (agree && first.is_link()).then_some(first)
}

/// The role (and precision, for compute) implied by a peak key's naming convention.
pub(super) fn role_from_key(key: &str) -> Option<(PeakRole, Option<Precision>)> {
    let key = key.to_ascii_lowercase();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|prefix| key.starts_with(prefix));
    if starts(&["hbm", "gddr", "mem_bw"]) {
        return Some((PeakRole::HbmBandwidth, None));
    }
    if starts(&["nvlink"]) {
        return Some((PeakRole::NvlinkBandwidth, None));
    }
    if starts(&["pcie"]) {
        return Some((PeakRole::PcieBandwidth, None));
    }
    if starts(&["c2c"]) {
        return Some((PeakRole::C2cBandwidth, None));
    }
    if key.starts_with("fp64_tensor_") {
        return Some((PeakRole::TensorCompute, Some(Precision::Fp64)));
    }
    if let Some((dtype, rate)) = key.split_once("_dense_") {
        let is_rate = ["pflops", "tflops", "pops", "tops"].contains(&rate);
        return is_rate.then(|| (PeakRole::TensorCompute, Precision::from_name(dtype)));
    }
    match key.as_str() {
        "fp32_tflops" => Some((PeakRole::VectorCompute, Some(Precision::Fp32))),
        "fp64_tflops" => Some((PeakRole::VectorCompute, Some(Precision::Fp64))),
        _ => None,
    }
}

/// The precision named by a key's first word (`nvfp4_dense_pflops` → FP4).
pub(super) fn dtype_from_key(key: &str) -> Option<Precision> {
    key.split('_').next().and_then(Precision::from_name)
}

/// Why mapping a peak of `role` to `metric` is wrong, if it is: the seed's own test ceilings map
/// bandwidth to framebuffer capacity and tensor peaks to CUDA-core pipes.
pub(super) fn mapping_problem(role: PeakRole, metric: &str) -> Option<String> {
    const NON_TENSOR_PIPES: [&str; 3] = [
        "DCGM_FI_PROF_PIPE_FP16_ACTIVE",
        "DCGM_FI_PROF_PIPE_FP32_ACTIVE",
        "DCGM_FI_PROF_PIPE_FP64_ACTIVE",
    ];
    if role.is_bandwidth() && metric.starts_with("DCGM_FI_DEV_FB_") {
        return Some(format!(
            "{metric} is framebuffer capacity (MiB), never a bandwidth"
        ));
    }
    if role == PeakRole::TensorCompute && NON_TENSOR_PIPES.contains(&metric) {
        return Some(format!(
            "{metric} measures a non-tensor (CUDA-core) pipe; tensor work is \
             DCGM_FI_PROF_PIPE_TENSOR_ACTIVE"
        ));
    }
    match role_from_metric(metric) {
        Some(implied) if role != PeakRole::Other && implied != role => Some(format!(
            "{metric} measures {} but the peak's role is {}",
            implied.as_str(),
            role.as_str()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PeakRole::*;

    #[test]
    fn mapping_names_the_role() {
        assert_eq!(
            role_from_mapping(Some("DCGM_FI_PROF_DRAM_ACTIVE"), &[]),
            Some(HbmBandwidth)
        );
        assert_eq!(
            role_from_mapping(Some("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE"), &[]),
            Some(TensorCompute)
        );
        let nvlink = [
            "DCGM_FI_PROF_NVLINK_TX_BYTES".into(),
            "DCGM_FI_PROF_NVLINK_RX_BYTES".into(),
        ];
        assert_eq!(role_from_mapping(None, &nvlink), Some(NvlinkBandwidth));
        let pcie = [
            "DCGM_FI_PROF_PCIE_TX_BYTES".into(),
            "DCGM_FI_PROF_PCIE_RX_BYTES".into(),
        ];
        assert_eq!(role_from_mapping(None, &pcie), Some(PcieBandwidth));
        let mixed = [
            "DCGM_FI_PROF_PCIE_TX_BYTES".into(),
            "DCGM_FI_PROF_NVLINK_RX_BYTES".into(),
        ];
        assert_eq!(role_from_mapping(None, &mixed), None);
        assert_eq!(role_from_mapping(Some("DCGM_FI_DEV_FB_USED"), &[]), None);
    }

    #[test]
    fn key_patterns_name_role_and_precision() {
        assert_eq!(role_from_key("hbm3e_tbps"), Some((HbmBandwidth, None)));
        assert_eq!(role_from_key("gddr6_tbps"), Some((HbmBandwidth, None)));
        assert_eq!(role_from_key("mem_bw_gbps"), Some((HbmBandwidth, None)));
        assert_eq!(role_from_key("nvlink5_tbps"), Some((NvlinkBandwidth, None)));
        assert_eq!(role_from_key("pcie5_gbps"), Some((PcieBandwidth, None)));
        assert_eq!(role_from_key("c2c_gbps"), Some((C2cBandwidth, None)));
        assert_eq!(
            role_from_key("nvfp4_dense_pflops"),
            Some((TensorCompute, Some(Precision::Fp4)))
        );
        assert_eq!(
            role_from_key("int8_dense_tops"),
            Some((TensorCompute, Some(Precision::Int8)))
        );
        assert_eq!(
            role_from_key("fp64_tensor_tflops"),
            Some((TensorCompute, Some(Precision::Fp64)))
        );
        assert_eq!(
            role_from_key("fp32_tflops"),
            Some((VectorCompute, Some(Precision::Fp32)))
        );
        assert_eq!(role_from_key("bf16_dense_gbps"), None);
        assert_eq!(role_from_key("sm_count"), None);
    }

    #[test]
    fn known_bad_mappings_are_named() {
        assert!(mapping_problem(HbmBandwidth, "DCGM_FI_DEV_FB_USED").is_some());
        assert!(mapping_problem(NvlinkBandwidth, "DCGM_FI_DEV_FB_FREE").is_some());
        assert!(mapping_problem(TensorCompute, "DCGM_FI_PROF_PIPE_FP16_ACTIVE").is_some());
        assert!(mapping_problem(TensorCompute, "DCGM_FI_PROF_PIPE_FP64_ACTIVE").is_some());
        assert!(mapping_problem(TensorCompute, "DCGM_FI_PROF_DRAM_ACTIVE").is_some());
        assert_eq!(
            mapping_problem(HbmBandwidth, "DCGM_FI_PROF_DRAM_ACTIVE"),
            None
        );
        assert_eq!(
            mapping_problem(TensorCompute, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE"),
            None
        );
        assert_eq!(
            mapping_problem(VectorCompute, "DCGM_FI_PROF_PIPE_FP32_ACTIVE"),
            None
        );
        assert_eq!(
            mapping_problem(NvlinkBandwidth, "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"),
            None
        );
    }
}
